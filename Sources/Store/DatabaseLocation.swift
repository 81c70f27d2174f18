import Foundation

/// Where the store lives: a SQLite file (the embedded default) or a PostgreSQL database.
///
/// `--db`, `SWITCHBOARD_DB` and the setting `database.url` take either. A value is a PostgreSQL
/// URL when it starts with `postgres://` or `postgresql://`; anything else is a file path.
public enum DatabaseLocation: Sendable, Equatable, CustomStringConvertible {
    case sqlite(path: String)
    case postgres(PostgresURL)

    /// Parses `text`; `source` names where it came from (`--db`, `SWITCHBOARD_DB`, `database.url`)
    /// for the error.
    public static func parse(_ text: String, source: String) throws -> DatabaseLocation {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let lower = trimmed.lowercased()
        if lower.hasPrefix("postgres://") || lower.hasPrefix("postgresql://") {
            return .postgres(try PostgresURL(parsing: trimmed, source: source))
        }
        if lower.hasPrefix("postgres:") || lower.hasPrefix("postgresql:") || lower.hasPrefix("pg://") {
            throw StoreError.invalid("\(source): '\(PostgresURL.withoutPassword(trimmed))' is not a PostgreSQL URL: write postgres://user@host:port/dbname or postgres:///dbname")
        }
        if let scheme = trimmed.range(of: "://"), !trimmed[..<scheme.lowerBound].contains("/") {
            throw StoreError.invalid("\(source): '\(trimmed[..<scheme.lowerBound])://' is not a database this store knows: give a SQLite file path or a postgres:// URL")
        }
        if trimmed.isEmpty { throw StoreError.invalid("\(source): empty") }
        return .sqlite(path: text)
    }

    /// What may be printed: the path, or the URL without any password.
    public var description: String {
        switch self {
        case .sqlite(let path): return path
        case .postgres(let url): return url.description
        }
    }

    public var backendName: String {
        switch self {
        case .sqlite: return "sqlite"
        case .postgres: return "postgresql"
        }
    }
}

/// A PostgreSQL connection URL, as libpq reads it, less what Switchboard refuses:
/// `postgres://[user@][host][:port][/dbname][?sslmode=…&host=/socket/dir&application_name=…]`.
///
/// - No host (`postgres:///dbname`), or a host that is a directory (`?host=/run/postgresql`, or
///   `%2Frun%2Fpostgresql` in the host part), means the Unix socket, and peer authentication: on a
///   shared jump host the OS user *is* the database user.
/// - A password in the URL is refused: URLs end up in shell history, process lists, logs and
///   screens. Passwords come from `PGPASSWORD` or `~/.pgpass` (`PostgresPassword`).
public struct PostgresURL: Sendable, Equatable, CustomStringConvertible {
    public enum SSLMode: String, Sendable, CaseIterable {
        case disable, allow, prefer, require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    public var user: String
    /// nil: the Unix socket in `socketDirectory`.
    public var host: String?
    public var port: Int
    public var database: String
    public var sslMode: SSLMode
    /// The socket's directory, when `host` is nil.
    public var socketDirectory: String
    public var applicationName: String
    /// `connect_timeout`, in seconds; nil: the default (10 s); 0: wait as long as it takes (libpq's meaning).
    public var connectTimeout: Int?

    /// Debian's socket directory.
    public static let defaultSocketDirectory = "/var/run/postgresql"

    public init(user: String, host: String?, port: Int = 5432, database: String, sslMode: SSLMode = .prefer,
                socketDirectory: String = PostgresURL.defaultSocketDirectory, applicationName: String = "switchboard") {
        self.user = user; self.host = host; self.port = port; self.database = database
        self.sslMode = sslMode; self.socketDirectory = socketDirectory; self.applicationName = applicationName
    }

    /// The socket file: `<dir>/.s.PGSQL.<port>`.
    public var socketPath: String? { host == nil ? "\(socketDirectory)/.s.PGSQL.\(port)" : nil }

    public init(parsing text: String, source: String, osUser: String = OSUser.name) throws {
        func bad(_ why: String) -> StoreError {
            StoreError.invalid("\(source): \(why) in '\(PostgresURL.withoutPassword(text))'")
        }
        guard let schemeEnd = text.range(of: "://") else { throw bad("no scheme") }
        var rest = String(text[schemeEnd.upperBound...])
        var query = ""
        if let q = rest.firstIndex(of: "?") {
            query = String(rest[rest.index(after: q)...])
            rest = String(rest[..<q])
        }
        if rest.contains("#") { throw bad("a fragment (#) has no meaning") }
        var authority = rest
        var path = ""
        if let slash = rest.firstIndex(of: "/") {
            authority = String(rest[..<slash])
            path = String(rest[rest.index(after: slash)...])
        }
        var userPart = ""
        var hostPart = authority
        if let at = authority.lastIndex(of: "@") {
            userPart = String(authority[..<at])
            hostPart = String(authority[authority.index(after: at)...])
        }
        if userPart.contains(":") {
            throw StoreError.invalid("\(source): a password in the URL is refused (it would be seen in shell history, process lists and logs): put it in PGPASSWORD or ~/.pgpass")
        }
        func decode(_ s: String, _ what: String) throws -> String {
            guard let d = s.removingPercentEncoding else { throw bad("\(what) has a bad %-escape") }
            return d
        }
        user = try decode(userPart, "the user")
        if user.isEmpty { user = osUser }

        var portText = ""
        var hostText = hostPart
        if hostPart.hasPrefix("[") {
            guard let close = hostPart.firstIndex(of: "]") else { throw bad("an IPv6 address without its closing ]") }
            hostText = String(hostPart[hostPart.index(after: hostPart.startIndex)..<close])
            let after = hostPart[hostPart.index(after: close)...]
            if after.hasPrefix(":") { portText = String(after.dropFirst()) } else if !after.isEmpty { throw bad("text after the IPv6 address") }
        } else if let colon = hostPart.lastIndex(of: ":") {
            hostText = String(hostPart[..<colon])
            portText = String(hostPart[hostPart.index(after: colon)...])
        }
        if hostText.contains(",") { throw bad("several hosts are not supported") }
        let decodedHost = try decode(hostText, "the host")
        port = 5432
        if !portText.isEmpty {
            guard let p = Int(portText), (1...65535).contains(p) else { throw bad("port '\(portText)' is not 1–65535") }
            port = p
        }
        socketDirectory = PostgresURL.defaultSocketDirectory
        if decodedHost.isEmpty {
            host = nil
        } else if decodedHost.hasPrefix("/") {
            host = nil
            socketDirectory = decodedHost
        } else {
            host = decodedHost
        }
        if path.contains("/") { throw bad("the database name has a '/'") }
        database = try decode(path, "the database name")
        if database.isEmpty { database = user }
        sslMode = .prefer
        applicationName = "switchboard"
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = String(kv[0]).lowercased()
            let value = try decode(kv.count > 1 ? String(kv[1]) : "", "parameter \(key)")
            switch key {
            case "sslmode":
                guard let mode = SSLMode(rawValue: value) else {
                    throw bad("sslmode '\(value)' is not one of \(SSLMode.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                sslMode = mode
            case "host":
                if value.hasPrefix("/") { host = nil; socketDirectory = value } else if value.isEmpty { throw bad("host= is empty") } else { host = value }
            case "port":
                guard let p = Int(value), (1...65535).contains(p) else { throw bad("port '\(value)' is not 1–65535") }
                port = p
            case "user":
                if value.isEmpty { throw bad("user= is empty") }
                user = value
            case "dbname":
                if value.isEmpty { throw bad("dbname= is empty") }
                database = value
            case "application_name":
                applicationName = value
            case "password":
                throw StoreError.invalid("\(source): a password in the URL is refused (it would be seen in shell history, process lists and logs): put it in PGPASSWORD or ~/.pgpass")
            case "connect_timeout":
                guard let t = Int(value), t >= 0 else { throw bad("connect_timeout '\(value)' is not a number of seconds") }
                connectTimeout = t
            default:
                throw bad("parameter '\(key)' is not supported (sslmode, host, port, user, dbname, application_name, connect_timeout are)")
            }
        }
        if host == nil && (sslMode == .require || sslMode == .verifyCA || sslMode == .verifyFull) {
            throw bad("sslmode=\(sslMode.rawValue) asks for TLS over a Unix socket, which PostgreSQL does not offer")
        }
    }

    /// The URL as it may be printed: never a password (there is none to print).
    public var description: String {
        var s = "postgres://\(user)@"
        if let host { s += host.contains(":") ? "[\(host)]" : host }
        s += ":\(port)/\(database)"
        var params: [String] = []
        if host == nil && socketDirectory != PostgresURL.defaultSocketDirectory { params.append("host=\(socketDirectory)") }
        if sslMode != .prefer { params.append("sslmode=\(sslMode.rawValue)") }
        return params.isEmpty ? s : s + "?" + params.joined(separator: "&")
    }

    /// Where connection errors say they were going: host, port, database and user, no password.
    public var target: String {
        let place = host.map { "\($0):\(port)" } ?? "socket \(socketPath ?? "")"
        return "\(place), database \(database), user \(user)"
    }

    /// `text` with anything between `//user:` and `@` blanked, for error messages about a URL.
    public static func withoutPassword(_ text: String) -> String {
        guard let schemeEnd = text.range(of: "://") else { return text }
        let rest = text[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        guard let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") else {
            return text.replacingOccurrences(of: #"password=[^&]*"#, with: "password=****", options: .regularExpression)
        }
        return String(text[..<colon]) + ":****" + String(text[at...])
    }
}
