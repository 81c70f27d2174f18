import Foundation

/// The system curl, for what swift-corelibs-foundation cannot do (SMTP over TLS, an HTTPS post
/// without certificate checks). Options, credentials among them, go in a private config file in a
/// fresh 0700 directory, never on the command line; the process gets a bare environment.
enum Curl {
    static let path: String? = ["/usr/bin/curl", "/usr/local/bin/curl", "/bin/curl"].first { access($0, X_OK) == 0 }

    /// A value for curl's config file, quoted.
    static func quote(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// Runs curl with `options` (config-file lines; `files` are written beside the config first and
    /// named by `{dir}` in the options). Returns nil on success, else curl's exit status and message.
    static func run(options: (String) -> [String], files: [String: Data]) throws -> String? {
        guard let curl = path else { return "the system curl is not installed" }
        let dir = NSTemporaryDirectory() + "switchboard-curl-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (name, data) in files {
            FileManager.default.createFile(atPath: dir + "/" + name, contents: data, attributes: [.posixPermissions: 0o600])
        }
        let config = options(dir).joined(separator: "\n") + "\n"
        FileManager.default.createFile(atPath: dir + "/config", contents: Data(config.utf8), attributes: [.posixPermissions: 0o600])
        let p = Process()
        p.executableURL = URL(fileURLWithPath: curl)
        p.arguments = ["--disable", "--config", dir + "/config"]
        p.environment = ["PATH": "/usr/bin:/bin", "HOME": dir]
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return p.terminationStatus == 0 ? nil : "(\(p.terminationStatus)): \(text.trimmingCharacters(in: .whitespacesAndNewlines))"
    }
}
