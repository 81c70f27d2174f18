import Foundation
import XCTest

/// Runs the real `switchboard` binary against a private database, config and key.
struct CLI {
    let dir: String
    var environment: [String: String]

    /// The `switchboard` built with this test bundle: `SWITCHBOARD_BUILD_DIR` when set, else the
    /// bundle's own directory (any `--scratch-path`), else `<repo>/.build/debug`.
    static let binary: String = {
        if let dir = ProcessInfo.processInfo.environment["SWITCHBOARD_BUILD_DIR"], !dir.isEmpty { return dir + "/switchboard" }
        var candidates: [URL] = []
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            candidates.append(URL(fileURLWithPath: exe).deletingLastPathComponent())
        }
        candidates.append(Bundle.main.bundleURL)
        candidates.append(contentsOf: Bundle.allBundles.map { $0.bundleURL.deletingLastPathComponent() })
        for dir in candidates where FileManager.default.isExecutableFile(atPath: dir.appendingPathComponent("switchboard").path) {
            return dir.appendingPathComponent("switchboard").path
        }
        return repositoryRoot + "/.build/debug/switchboard"
    }()

    static let repositoryRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    init() throws {
        dir = NSTemporaryDirectory() + "switchboard-cli-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SWITCHBOARD_") }
        env["HOME"] = dir
        env["XDG_CONFIG_HOME"] = dir + "/config"
        env["XDG_DATA_HOME"] = dir + "/data"
        environment = env
    }

    var databasePath: String { dir + "/data/switchboard/switchboard.db" }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs the binary to its end, or for `limit` seconds at most: a command that never ends (an
    /// engine started in the foreground by mistake) is killed and fails its test instead of hanging
    /// the whole suite.
    @discardableResult
    func run(_ args: [String], limit: TimeInterval = 600) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CLI.binary)
        p.arguments = args
        p.environment = environment
        p.currentDirectoryURL = URL(fileURLWithPath: dir)
        // Files, not pipes: a large output can never fill a pipe and stall the child.
        let outPath = dir + "/.stdout-\(UUID().uuidString)", errPath = dir + "/.stderr-\(UUID().uuidString)"
        FileManager.default.createFile(atPath: outPath, contents: nil)
        FileManager.default.createFile(atPath: errPath, contents: nil)
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let ended = DispatchSemaphore(value: 0)
        let pid = p.processIdentifier
        let killedForTime = ManagedFlag()
        DispatchQueue.global().async {
            if ended.wait(timeout: .now() + limit) == .timedOut { killedForTime.set(); kill(pid, SIGKILL) }
        }
        p.waitUntilExit()
        ended.signal()
        try out.close(); try err.close()
        let outData = FileManager.default.contents(atPath: outPath) ?? Data()
        let errData = FileManager.default.contents(atPath: errPath) ?? Data()
        try? FileManager.default.removeItem(atPath: outPath)
        try? FileManager.default.removeItem(atPath: errPath)
        var stderr = String(decoding: errData, as: UTF8.self)
        if killedForTime.isSet { stderr += "\n[test harness] switchboard \(args.joined(separator: " ")) killed after \(Int(limit)) s\n" }
        return Result(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self), stderr: stderr)
    }

    func write(_ name: String, _ text: String) throws -> String {
        let path = dir + "/" + name
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}

/// A flag set from another thread.
final class ManagedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.lock(); value = true; lock.unlock() }
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
}
