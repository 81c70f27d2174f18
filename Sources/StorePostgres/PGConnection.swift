import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO
import Store

/// A value bound to a statement's `$n`.
public enum PGValue: Sendable {
    case text(String)
    case int(Int)
    case double(Double)
    case bool(Bool)
    case date(Date)
    case bytes(Data)
    case null

    func append(to bindings: inout PostgresBindings) {
        switch self {
        case .text(let v): bindings.append(v)
        case .int(let v): bindings.append(v)
        case .double(let v): bindings.append(v)
        case .bool(let v): bindings.append(v)
        case .date(let v): bindings.append(v)
        case .bytes(let v): bindings.append(ByteBuffer(bytes: v))
        case .null: bindings.appendNull()
        }
    }
}

/// One PostgreSQL connection used synchronously: each call blocks its thread until the server has
/// answered. The store's API is synchronous (as GRDB's is), so the backend waits on postgres-nio's
/// futures, which complete on NIO's own event loops; a caller is never an event-loop thread.
/// Like a libssh2 session, a connection is used by one thread at a time.
public final class PGConnection: @unchecked Sendable {
    public let url: PostgresURL
    /// What the connection had to say once (an ignored password file).
    public let warnings: [String]
    let connection: PostgresConnection
    let logger: Logger
    private let lock = NSLock()

    static let group: MultiThreadedEventLoopGroup = .singleton

    static func quietLogger() -> Logger {
        var logger = Logger(label: "switchboard.postgres")
        logger.logLevel = .critical
        return logger
    }

    /// Connects to `url`, with the password from `PGPASSWORD` or the password file (never the URL).
    /// Errors name the host, port, database and user, never the password.
    /// `sessionParameters` (run-time settings such as `TimeZone`) go in the start-up message: the
    /// server applies them as it sets the session up, with no statement of their own.
    public static func connect(_ url: PostgresURL, environment: [String: String] = ProcessInfo.processInfo.environment,
                               home: String = NSHomeDirectory(), sessionParameters: [(String, String)] = []) throws -> PGConnection {
        let lookup = PostgresPassword.lookup(for: url, environment: environment, home: home)
        var configuration: PostgresConnection.Configuration
        if let socket = url.socketPath {
            configuration = .init(unixSocketPath: socket, username: url.user, password: lookup.password, database: url.database)
        } else {
            configuration = .init(host: url.host!, port: url.port, username: url.user, password: lookup.password,
                                  database: url.database, tls: try tls(for: url, environment: environment, home: home))
        }
        configuration.options = options(for: url)
        configuration.options.additionalStartupParameters += sessionParameters
        let logger = quietLogger()
        do {
            let connection = try PostgresConnection.connect(on: group.any(), configuration: configuration, id: 1, logger: logger).wait()
            return PGConnection(url: url, connection: connection, logger: logger, warnings: lookup.warning.map { [$0] } ?? [])
        } catch {
            var why = PGConnection.describe(error)
            if let e = error as? PSQLError, e.code == .authMechanismRequiresPassword {
                why = "the server asks for a password and none was given: set PGPASSWORD or add a line to ~/.pgpass"
            } else if lookup.password == nil && why.contains("password") {
                why += " (no password was given: set PGPASSWORD or add a line to ~/.pgpass)"
            }
            // A server that is not there, starting or shutting down is unreachable (connectionLost:
            // a backend that reached it before waits for it); a refusal (password, database) is not.
            throw StoreError(isUnreachable(error) ? .connectionLost : .database, "cannot connect to PostgreSQL at \(url.target): \(why)")
        }
    }

    /// Whether a connection attempt failed because the server cannot be reached now (nothing
    /// listening, the socket absent, the server starting up or shutting down), not because it refused.
    static func isUnreachable(_ error: Error) -> Bool {
        guard let e = error as? PSQLError else { return error is IOError || error is NIOConnectionError || error is ChannelError }
        if let state = e.serverInfo?[.sqlState] { return state.hasPrefix("57P") || state.hasPrefix("08") }
        if e.code == .connectionError || e.code == .serverClosedConnection || e.code == .uncleanShutdown { return true }
        if let underlying = e.underlying { return underlying is IOError || underlying is NIOConnectionError || underlying is ChannelError }
        return false
    }

    /// What the URL says beyond where to connect: `connect_timeout` (0: a day, libpq's "wait
    /// indefinitely") and `application_name`, which `pg_stat_activity` shows.
    static func options(for url: PostgresURL) -> PostgresConnection.Configuration.Options {
        var options = PostgresConnection.Configuration.Options()
        let seconds = url.connectTimeout ?? 10
        options.connectTimeout = seconds == 0 ? .hours(24) : .seconds(Int64(seconds))
        options.additionalStartupParameters = [("application_name", url.applicationName)]
        return options
    }

    init(url: PostgresURL, connection: PostgresConnection, logger: Logger, warnings: [String]) {
        self.url = url; self.connection = connection; self.logger = logger; self.warnings = warnings
    }

    deinit { try? connection.close().wait() }

    public func close() { try? connection.close().wait() }

    /// Whether the connection has closed (the server went away or ended the session).
    public var isClosed: Bool { connection.isClosed }

    /// The TLS mode of `sslmode`, as libpq reads it: `disable` none; `allow`/`prefer` TLS when the
    /// server offers it, unverified; `require` TLS, unverified (libpq verifies only with a root
    /// certificate file); `verify-ca` the chain; `verify-full` the chain and the host name. Root
    /// certificates: `PGSSLROOTCERT`, else `~/.postgresql/root.crt`, else the system's.
    static func tls(for url: PostgresURL, environment: [String: String], home: String) throws -> PostgresConnection.Configuration.TLS {
        if url.sslMode == .disable { return .disable }
        var config = TLSConfiguration.makeClientConfiguration()
        let rootFile = environment["PGSSLROOTCERT"].flatMap { $0.isEmpty ? nil : $0 } ?? home + "/.postgresql/root.crt"
        let haveRoot = FileManager.default.isReadableFile(atPath: rootFile)
        if haveRoot { config.trustRoots = .file(rootFile) }
        switch url.sslMode {
        case .disable: return .disable
        case .allow, .prefer: config.certificateVerification = .none
        case .require: config.certificateVerification = haveRoot ? .noHostnameVerification : .none
        case .verifyCA: config.certificateVerification = .noHostnameVerification
        case .verifyFull: config.certificateVerification = .fullVerification
        }
        let context: NIOSSLContext
        do { context = try NIOSSLContext(configuration: config) } catch {
            throw StoreError(.database, "PostgreSQL at \(url.target): cannot set up TLS (\(error))")
        }
        return url.sslMode == .allow || url.sslMode == .prefer ? .prefer(context) : .require(context)
    }

    /// Statements sent without waiting (`send`), whose outcome the next `query` reports.
    private var pending: [EventLoopFuture<PostgresQueryResult>] = []

    /// Runs one statement and returns its rows.
    @discardableResult
    public func query(_ sql: String, _ values: [PGValue] = []) throws -> [PostgresRow] {
        var bindings = PostgresBindings(capacity: values.count)
        for v in values { v.append(to: &bindings) }
        let query = PostgresQuery(unsafeSQL: sql, binds: bindings)
        lock.lock(); defer { lock.unlock() }
        let sent = pending
        pending = []
        if connection.isClosed { throw lost("the connection is closed") }
        let answer = Answer()
        connection.query(query, logger: logger).whenComplete { answer.set($0) }
        // postgres-nio never completes a query written to a channel that has just closed (the
        // server terminated the session): the close wakes this wait too, and a query still
        // unanswered shortly after is a lost connection, not a hang.
        connection.closeFuture.whenComplete { _ in answer.wake() }
        guard let result = answer.wait() else { throw lost("the server closed the connection") }
        do {
            let rows = try result.get().rows
            // The statements sent before this one were answered before it (one connection answers
            // in order), so these waits return at once: the first that failed is this call's error.
            for f in sent { _ = try f.wait() }
            return rows
        } catch {
            throw PGConnection.storeError(error, url: url)
        }
    }

    /// Queues every statement at once and hands each one's rows to `each`, in order, as soon as that
    /// one is answered: the server runs the next while the caller works on the last. postgres-nio
    /// runs one statement at a time per connection (the next goes out from its event loop when the
    /// last one's answer is in, no round trip through this thread); it does not pipeline on the wire,
    /// so two statements are never on one server process at once: work that should run in parallel
    /// needs connections of its own (`DeviceTableHelper`). The first failure is thrown; the
    /// statements after it still run.
    public func pipeline(_ statements: [(sql: String, values: [PGValue])], each: (Int, [PostgresRow]) throws -> Void) throws {
        lock.lock(); defer { lock.unlock() }
        let sent = pending
        pending = []
        if connection.isClosed { throw lost("the connection is closed") }
        var answers: [Answer] = []
        for statement in statements {
            var bindings = PostgresBindings(capacity: statement.values.count)
            for v in statement.values { v.append(to: &bindings) }
            let answer = Answer()
            connection.query(PostgresQuery(unsafeSQL: statement.sql, binds: bindings), logger: logger).whenComplete { answer.set($0) }
            connection.closeFuture.whenComplete { _ in answer.wake() }
            answers.append(answer)
        }
        for (i, answer) in answers.enumerated() {
            guard let result = answer.wait() else { throw lost("the server closed the connection") }
            let rows: [PostgresRow]
            do {
                rows = try result.get().rows
                if i == 0 { for f in sent { _ = try f.wait() } }
            } catch {
                throw PGConnection.storeError(error, url: url)
            }
            try each(i, rows)
        }
    }

    /// Sends a statement without waiting for its answer: the `BEGIN` and `COMMIT` of a read, which
    /// then cost no wait of their own (a wait is a wake-up of the server, the event loop and this
    /// thread: on a busy machine, milliseconds each). The server runs statements in the order they
    /// are sent; a failure is reported by the next `query` (with `reportFailure`), or dropped.
    public func send(_ sql: String, reportFailure: Bool) {
        lock.lock(); defer { lock.unlock() }
        if !reportFailure { pending = [] }
        if connection.isClosed { return }
        let future = connection.query(PostgresQuery(unsafeSQL: sql, binds: PostgresBindings()), logger: logger)
        if reportFailure { pending.append(future) }
    }

    private func lost(_ why: String) -> StoreError {
        StoreError(.connectionLost, "lost the connection to PostgreSQL at \(url.target): \(why)")
    }

    /// A query's outcome, or a wake-up when the connection closed first.
    private final class Answer: @unchecked Sendable {
        private let condition = NSCondition()
        private var result: Result<PostgresQueryResult, Error>?
        private var closed = false

        func set(_ r: Result<PostgresQueryResult, Error>) {
            condition.lock(); result = r; condition.broadcast(); condition.unlock()
        }

        func wake() {
            condition.lock(); closed = true; condition.broadcast(); condition.unlock()
        }

        /// The outcome; nil when the connection closed and no answer came within a second of it.
        func wait() -> Result<PostgresQueryResult, Error>? {
            condition.lock(); defer { condition.unlock() }
            while result == nil && !closed { condition.wait() }
            if result == nil {
                let grace = Date().addingTimeInterval(1)
                while result == nil && condition.wait(until: grace) {}
            }
            return result
        }
    }

    /// Runs statements separated by `;` at the end of a line (no binds, no `;` inside literals):
    /// migrations. postgres-nio speaks the extended protocol, one statement per message.
    public func execute(script sql: String) throws {
        for statement in sql.components(separatedBy: ";\n") + [] {
            let text = statement.trimmingCharacters(in: .whitespacesAndNewlines)
            let body = text.hasSuffix(";") ? String(text.dropLast()) : text
            if !body.isEmpty { try query(body) }
        }
    }

    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try query("BEGIN")
        do {
            let value = try body()
            try query("COMMIT")
            return value
        } catch {
            _ = try? query("ROLLBACK")
            throw error
        }
    }

    /// A server error's kind, kept: integrity violations (a unique key, a foreign key) are conflicts,
    /// lock and serialization failures are busy, a lost connection (the server gone, the backend
    /// terminated, the network down) is `connectionLost`.
    static func storeError(_ error: Error, url: PostgresURL) -> StoreError {
        let why = describe(error)
        if let e = error as? PSQLError {
            if e.code == .serverClosedConnection || e.code == .clientClosedConnection || e.code == .connectionError || e.code == .uncleanShutdown {
                return StoreError(.connectionLost, "lost the connection to PostgreSQL at \(url.target): \(why)")
            }
            if let state = e.serverInfo?[.sqlState] {
                if state.hasPrefix("23") { return StoreError(.conflict, why) }
                if ["40001", "40P01", "55P03"].contains(state) { return StoreError(.busy, why) }
                // 57P01-57P03: the server is shutting down or terminated this backend; class 08: connection exceptions.
                if state.hasPrefix("57P") || state.hasPrefix("08") {
                    return StoreError(.connectionLost, "lost the connection to PostgreSQL at \(url.target): \(why)")
                }
            }
        }
        return StoreError(.database, "PostgreSQL: \(why)")
    }

    /// One line an engineer can read: the server's message (and detail), or the network's.
    /// PSQLError's own description is deliberately vague; its parts are not.
    public static func describe(_ error: Error) -> String {
        guard let e = error as? PSQLError else {
            if let s = error as? StoreError { return s.message }
            return "\(error)"
        }
        if let info = e.serverInfo, let message = info[.message] {
            var text = message
            if let detail = info[.detail] { text += " (\(detail))" }
            return text
        }
        if let underlying = e.underlying {
            if let io = underlying as? IOError { return io.description }
            return "\(underlying)"
        }
        return e.code.description
    }
}

extension PostgresRow {
    /// The cell at `index` as `T`, with a store error naming the column when it does not decode.
    public func value<T: PostgresDecodable>(_ index: Int, as type: T.Type = T.self) throws -> T {
        let row = makeRandomAccess()
        do { return try row[index].decode(T.self) } catch {
            throw StoreError(.database, "PostgreSQL: column \(row[index].columnName) is not a \(T.self)")
        }
    }
}
