import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The security log, as eNMS's `security` logger: run launches and stops, imports, exports with
/// revealed secrets, credential changes, interactive sessions opening and closing, task changes
/// (every change-log entry). One line per event with the OS user, the action, its targets and the
/// outcome, appended to `$XDG_STATE_HOME/switchboard/security.log` (0600, rotated by size under an
/// `flock` so several processes rotate it once) and, with `security.syslog`, sent to syslog as
/// RFC 5424 (authpriv) over a local datagram socket (`/dev/log`) or UDP (`host:port`).
///
/// Recording never throws: an action must not fail because its audit line could not be written
/// (the problem goes to stderr once per process).
public enum SecurityLog {
    public struct Configuration: Sendable, Equatable {
        public var path: String
        public var enabled: Bool
        public var maxBytes: Int
        public var files: Int
        public var syslog: String

        public init(path: String, enabled: Bool = true, maxBytes: Int = 10_485_760, files: Int = 5, syslog: String = "") {
            self.path = path; self.enabled = enabled; self.maxBytes = maxBytes; self.files = files; self.syslog = syslog
        }

        public init(paths: Paths, settings: Settings) {
            self.init(path: paths.securityLogPath, enabled: settings.security.log, maxBytes: settings.security.logMaxBytes,
                      files: settings.security.logFiles, syslog: settings.security.syslog)
        }
    }

    private static let state = Mutex<(configuration: Configuration?, warned: Bool)>((nil, false))

    /// Sets where events go (the CLI calls it once its settings are loaded, `--set` included).
    public static func configure(_ configuration: Configuration) {
        state.withLock { $0.configuration = configuration }
    }

    /// The configuration in force: the one given to `configure`, else the process environment's
    /// paths and settings files (defaults when they do not load).
    public static var configuration: Configuration {
        if let c = state.withLock({ $0.configuration }) { return c }
        let paths = Paths()
        let settings = (try? SettingsLoader(paths: paths).load()) ?? Settings.defaults
        let c = Configuration(paths: paths, settings: settings)
        state.withLock { if $0.configuration == nil { $0.configuration = c } }
        return c
    }

    /// Records one event. `outcome` is `success`, `failure`, `refused`, `queued`…; `detail` is free text.
    public static func record(_ action: String, targets: String, outcome: String = "success", detail: String = "",
                              user: String = OSUser.name, at time: Date = Date()) {
        let c = configuration
        guard c.enabled else { return }
        let line = format(time: time, user: user, action: action, targets: targets, outcome: outcome, detail: detail)
        do { try append(line, configuration: c) } catch { warnOnce("security log \(c.path): \(error)") }
        if !c.syslog.isEmpty {
            let message = syslogMessage(time: time, user: user, action: action, targets: targets, outcome: outcome, detail: detail)
            if let problem = sendSyslog(message, to: c.syslog) { warnOnce("security log to syslog \(c.syslog): \(problem)") }
        }
    }

    static func warnOnce(_ message: String) {
        let first = state.withLock { s -> Bool in defer { s.warned = true }; return !s.warned }
        if first { FileHandle.standardError.write(Data("warning: \(message)\n".utf8)) }
    }

    // MARK: the file

    /// `2026-05-01T10:00:00.123Z user=alice action=run.launch outcome=queued targets="…" detail="…"`
    public static func format(time: Date, user: String, action: String, targets: String, outcome: String, detail: String) -> String {
        var line = "\(timestamp(time)) user=\(quote(user)) action=\(quote(action)) outcome=\(quote(outcome)) targets=\(quote(targets))"
        if !detail.isEmpty { line += " detail=\(quote(detail))" }
        return line + "\n"
    }

    /// Bare when it is a plain token, else double-quoted with `"`, `\` and control characters escaped.
    static func quote(_ text: String) -> String {
        let plain = !text.isEmpty && text.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value < 0x7f && $0 != "\"" && $0 != "\\" && $0 != "=" }
        if plain { return text }
        var out = "\""
        for s in text.unicodeScalars {
            switch s {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if s.value < 0x20 || s.value == 0x7f { out += String(format: "\\x%02x", s.value) } else { out.unicodeScalars.append(s) }
            }
        }
        return out + "\""
    }

    static func timestamp(_ d: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: d)
    }

    struct FileError: Error, CustomStringConvertible {
        let description: String
    }

    /// Appends under an exclusive lock on `<log>.lock`, rotating first when the line would take the
    /// file past `maxBytes`: `log.N-1 → log.N`, …, `log → log.1`.
    static func append(_ line: String, configuration c: Configuration) throws {
        let directory = (c.path as NSString).deletingLastPathComponent
        if !directory.isEmpty { try Paths.ensurePrivateDirectory(directory) }
        let lockFD = open(c.path + ".lock", O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        guard lockFD >= 0 else { throw FileError(description: "cannot open \(c.path).lock: \(String(cString: strerror(errno)))") }
        defer { close(lockFD) }
        while flock(lockFD, LOCK_EX) != 0 { if errno != EINTR { break } }
        defer { flock(lockFD, LOCK_UN) }
        let bytes = Array(line.utf8)
        var info = stat()
        if stat(c.path, &info) == 0, Int(info.st_size) + bytes.count > c.maxBytes, info.st_size > 0 {
            for n in stride(from: c.files - 1, through: 1, by: -1) {
                rename("\(c.path).\(n)", "\(c.path).\(n + 1)")
            }
            if c.files >= 1 { rename(c.path, c.path + ".1") } else { unlink(c.path) }
            // What fell off the end.
            unlink("\(c.path).\(c.files + 1)")
        }
        let fd = open(c.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw FileError(description: "cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        fchmod(fd, 0o600)
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 { if errno == EINTR { continue }; throw FileError(description: "cannot write: \(String(cString: strerror(errno)))") }
            offset += n
        }
    }

    // MARK: syslog

    /// RFC 5424, facility authpriv (10): notice for a success, warning otherwise.
    public static func syslogMessage(time: Date, user: String, action: String, targets: String, outcome: String, detail: String) -> String {
        let severity = ["success", "queued", "requested"].contains(outcome) ? 5 : 4
        let pri = 10 * 8 + severity
        var host = [CChar](repeating: 0, count: 256)
        gethostname(&host, host.count - 1)
        let hostname = String(cString: host).isEmpty ? "-" : String(cString: host)
        func sd(_ s: String) -> String {
            s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "]", with: "\\]")
        }
        let msgid = String(action.filter { $0.isASCII && !$0.isWhitespace }.prefix(32))
        let data = "[switchboard@32473 user=\"\(sd(user))\" action=\"\(sd(action))\" outcome=\"\(sd(outcome))\"]"
        var message = "\(action) \(outcome): \(targets)"
        if !detail.isEmpty { message += " (\(detail))" }
        message = message.replacingOccurrences(of: "\n", with: " ")
        return "<\(pri)>1 \(timestamp(time)) \(hostname) switchboard \(getpid()) \(msgid.isEmpty ? "-" : msgid) \(data) \(message)"
    }

    /// Sends one datagram; returns the problem, if any.
    static func sendSyslog(_ message: String, to target: String) -> String? {
        let bytes = Array(message.utf8)
        if target.hasPrefix("/") {
            let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { return String(cString: strerror(errno)) }
            defer { close(fd) }
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            let path = Array(target.utf8)
            guard path.count < MemoryLayout.size(ofValue: address.sun_path) else { return "socket path too long" }
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                for (i, b) in path.enumerated() { raw[i] = b }
                raw[path.count] = 0
            }
            let sent = withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                    bytes.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, 0, sa, socklen_t(MemoryLayout<sockaddr_un>.size)) }
                }
            }
            return sent < 0 ? String(cString: strerror(errno)) : nil
        }
        guard let colon = target.lastIndex(of: ":"), let port = UInt16(target[target.index(after: colon)...]) else {
            return "not a socket path or host:port"
        }
        var host = String(target[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &result)
        guard rc == 0, let info = result else { return "cannot resolve \(host): \(String(cString: gai_strerror(rc)))" }
        defer { freeaddrinfo(result) }
        let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), info.pointee.ai_protocol)
        guard fd >= 0 else { return String(cString: strerror(errno)) }
        defer { close(fd) }
        let sent = bytes.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, 0, info.pointee.ai_addr, info.pointee.ai_addrlen) }
        return sent < 0 ? String(cString: strerror(errno)) : nil
    }
}
