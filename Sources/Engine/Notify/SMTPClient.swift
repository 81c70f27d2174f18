import Foundation
#if canImport(Glibc)
import Glibc
#endif

public struct SMTPMessage: Sendable {
    public var sender: String
    public var replyTo: String
    public var recipients: [String]
    public var subject: String
    public var body: String

    /// RFC 5322 text with CRLF line ends, dot-stuffed for DATA (without the final `.`).
    func data(date: Date = Date()) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        func header(_ s: String) -> String {
            // No header injection; non-ASCII as RFC 2047 UTF-8 base64.
            let clean = s.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
            return clean.allSatisfy(\.isASCII) ? clean : "=?UTF-8?B?\(Data(clean.utf8).base64EncodedString())?="
        }
        var lines = [
            "From: \(header(sender))",
            "To: \(recipients.map(header).joined(separator: ", "))",
            "Subject: \(header(subject))",
            "Date: \(f.string(from: date))",
            "Message-ID: <\(UUID().uuidString)@\(ConfigRepository.host)>",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: 8bit",
        ]
        if !replyTo.isEmpty { lines.append("Reply-To: \(header(replyTo))") }
        lines.append("")
        for line in body.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false) {
            lines.append(line.hasPrefix(".") ? "." + line : String(line))
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }
}

/// A minimal SMTP client over a plain TCP socket: EHLO (HELO as fallback), AUTH PLAIN or LOGIN
/// when a user is set, MAIL FROM, RCPT TO, DATA, QUIT; every read and write within `timeout`.
/// There is no TLS library here: with `use_tls`, the message goes through the system `curl`
/// (`smtp://` with `--ssl-reqd`, i.e. STARTTLS, or `smtps://` on port 465) instead.
public struct SMTPClient: Sendable {
    public var server: String
    public var port: Int
    public var useTLS: Bool
    /// With `useTLS`: the CA certificates (PEM) to verify the server with; empty: the system's.
    public var caFile: String
    public var username: String
    public var password: String
    public var timeout: Double

    public init(server: String, port: Int, useTLS: Bool = false, caFile: String = "", username: String = "",
                password: String = "", timeout: Double = 10) {
        self.server = server; self.port = port; self.useTLS = useTLS; self.caFile = caFile; self.username = username
        self.password = password; self.timeout = timeout
    }

    public struct SMTPError: Error, CustomStringConvertible {
        public var description: String
        init(_ d: String) { description = d }
    }

    public func send(_ message: SMTPMessage) async throws {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, Error>) in
            Thread {
                do {
                    if useTLS { try sendWithCurl(message) } else { try sendPlain(message) }
                    c.resume()
                } catch { c.resume(throwing: error) }
            }.start()
        }
    }

    // MARK: plain SMTP

    func sendPlain(_ message: SMTPMessage) throws {
        let fd = try connect()
        defer { close(fd) }
        var reader = LineReader(fd: fd, deadline: Date().addingTimeInterval(timeout))
        func expect(_ codes: Set<Int>, after command: String) throws -> [String] {
            let reply = try reader.reply()
            guard codes.contains(reply.code) else {
                throw SMTPError("\(server):\(port) answered \(command) with \(reply.code) \(reply.lines.last ?? "")")
            }
            return reply.lines
        }
        func say(_ line: String, shown: String? = nil) throws -> String {
            try writeAll(fd, line + "\r\n", deadline: reader.deadline)
            return shown ?? line.split(separator: " ").first.map(String.init) ?? line
        }
        _ = try expect([220], after: "the connection")
        var extensions: [String] = []
        do {
            extensions = try expect([250], after: try say("EHLO \(ConfigRepository.host)"))
        } catch {
            _ = try expect([250], after: try say("HELO \(ConfigRepository.host)"))
        }
        if !username.isEmpty {
            let auth = extensions.first { $0.uppercased().hasPrefix("AUTH") }?.uppercased() ?? ""
            if auth.contains("PLAIN") || !auth.contains("LOGIN") {
                let token = Data(("\0" + username + "\0" + password).utf8).base64EncodedString()
                _ = try expect([235], after: try say("AUTH PLAIN \(token)", shown: "AUTH PLAIN"))
            } else {
                _ = try expect([334], after: try say("AUTH LOGIN"))
                _ = try expect([334], after: try say(Data(username.utf8).base64EncodedString(), shown: "the user name"))
                _ = try expect([235], after: try say(Data(password.utf8).base64EncodedString(), shown: "the password"))
            }
        }
        _ = try expect([250], after: try say("MAIL FROM:<\(message.sender)>"))
        for r in message.recipients { _ = try expect([250, 251], after: try say("RCPT TO:<\(r)>")) }
        _ = try expect([354], after: try say("DATA"))
        try writeAll(fd, message.data() + ".\r\n", deadline: reader.deadline)
        _ = try expect([250], after: "the message")
        _ = try? say("QUIT")
    }

    func connect() throws -> Int32 {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(server, String(port), &hints, &result)
        guard rc == 0, let first = result else { throw SMTPError("cannot resolve \(server): \(String(cString: gai_strerror(rc)))") }
        defer { freeaddrinfo(result) }
        var lastError = "no address"
        var info: UnsafeMutablePointer<addrinfo>? = first
        while let ai = info {
            defer { info = ai.pointee.ai_next }
            let fd = socket(ai.pointee.ai_family, ai.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), ai.pointee.ai_protocol)
            if fd < 0 { lastError = String(cString: strerror(errno)); continue }
            if Glibc.connect(fd, ai.pointee.ai_addr, ai.pointee.ai_addrlen) != 0 && errno != EINPROGRESS {
                lastError = String(cString: strerror(errno)); close(fd); continue
            }
            var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            let ready = poll(&p, 1, Int32(timeout * 1000))
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
            if ready == 1 && error == 0 { return fd }
            lastError = ready == 0 ? "timed out after \(timeout) s" : String(cString: strerror(error))
            close(fd)
        }
        throw SMTPError("cannot connect to \(server):\(port): \(lastError)")
    }

    func writeAll(_ fd: Int32, _ text: String, deadline: Date) throws {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n > 0 { offset += n; continue }
            if n < 0 && errno != EAGAIN && errno != EINTR { throw SMTPError("write to \(server): \(String(cString: strerror(errno)))") }
            let left = deadline.timeIntervalSinceNow
            if left <= 0 { throw SMTPError("\(server):\(port): timed out writing") }
            var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            _ = poll(&p, 1, Int32(left * 1000))
        }
    }

    struct LineReader {
        let fd: Int32
        let deadline: Date
        var buffer: [UInt8] = []

        init(fd: Int32, deadline: Date) { self.fd = fd; self.deadline = deadline }

        mutating func line() throws -> String {
            while true {
                if let i = buffer.firstIndex(of: 10) {
                    var l = Array(buffer[..<i])
                    buffer.removeFirst(i + 1)
                    if l.last == 13 { l.removeLast() }
                    return String(decoding: l, as: UTF8.self)
                }
                let left = deadline.timeIntervalSinceNow
                if left <= 0 { throw SMTPError("timed out waiting for the server") }
                var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                let ready = poll(&p, 1, Int32(left * 1000))
                if ready < 0 && errno == EINTR { continue }
                if ready <= 0 { continue }
                var chunk = [UInt8](repeating: 0, count: 4096)
                let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n == 0 { throw SMTPError("the server closed the connection") }
                if n < 0 { if errno == EAGAIN || errno == EINTR { continue }; throw SMTPError(String(cString: strerror(errno))) }
                buffer += chunk[0..<n]
            }
        }

        /// A reply: `250-…` continuation lines, then `250 …`.
        mutating func reply() throws -> (code: Int, lines: [String]) {
            var lines: [String] = []
            while true {
                let l = try line()
                guard l.count >= 3, let code = Int(l.prefix(3)) else { throw SMTPError("not an SMTP reply: \(l.prefix(80))") }
                lines.append(l.count > 4 ? String(l.dropFirst(4)) : "")
                if l.count == 3 || l[l.index(l.startIndex, offsetBy: 3)] == " " { return (code, lines) }
            }
        }
    }

    // MARK: TLS through curl

    static var curl: String? { Curl.path }

    /// curl reads its options (the credentials among them) from a private file, never the command line.
    func sendWithCurl(_ message: SMTPMessage) throws {
        guard Curl.path != nil else { throw SMTPError("mail.use_tls needs the system curl (not found)") }
        if !caFile.isEmpty && !FileManager.default.isReadableFile(atPath: caFile) {
            throw SMTPError("mail.ca_file \(caFile) cannot be read")
        }
        let scheme = port == 465 ? "smtps" : "smtp"
        let body = message.data().replacingOccurrences(of: "\r\n..", with: "\r\n.")  // curl dot-stuffs itself
        let failure = try Curl.run(options: { dir in
            var config = ["url = \(Curl.quote("\(scheme)://\(self.server):\(self.port)"))", "ssl-reqd", "silent", "show-error",
                          "mail-from = \(Curl.quote(message.sender))", "upload-file = \(Curl.quote(dir + "/message"))",
                          "max-time = \(Int(self.timeout.rounded(.up)))"]
            for r in message.recipients { config.append("mail-rcpt = \(Curl.quote(r))") }
            if !self.caFile.isEmpty { config.append("cacert = \(Curl.quote(self.caFile))") }
            if !self.username.isEmpty { config.append("user = \(Curl.quote(self.username + ":" + self.password))") }
            return config
        }, files: ["message": Data(body.utf8)])
        if let failure { throw SMTPError("curl (TLS) to \(server):\(port) failed \(failure)") }
    }
}
