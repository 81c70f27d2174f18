import Foundation

/// Runs helper programs (ssh-keygen, sshd, ip, useradd) and reports failures with their output.
enum ProcessRunner {
    struct Failure: Error, CustomStringConvertible {
        var command: String
        var status: Int32
        var output: String
        var description: String { "\(command) failed (exit \(status)): \(output.trimmingCharacters(in: .whitespacesAndNewlines))" }
    }

    @discardableResult
    static func run(_ executable: String, _ arguments: [String], input: String? = nil, allowFailure: Bool = false) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        let inPipe = Pipe()
        p.standardInput = input == nil ? FileHandle.nullDevice : inPipe
        do { try p.run() } catch {
            throw Failure(command: ([executable] + arguments).joined(separator: " "), status: -1, output: "\(error)")
        }
        if let input {
            inPipe.fileHandleForWriting.write(Data(input.utf8))
            try? inPipe.fileHandleForWriting.close()
        }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        if p.terminationStatus != 0 && !allowFailure {
            throw Failure(command: ([executable] + arguments).joined(separator: " "), status: p.terminationStatus, output: text)
        }
        return (p.terminationStatus, text)
    }

    /// The full path of a program on PATH or in the usual system directories.
    static func which(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for dir in path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin", "/usr/bin", "/bin"] {
            let candidate = dir + "/" + name
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
