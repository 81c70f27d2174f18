import Foundation
import PostgresNIO
import Store

/// The store on PostgreSQL: `StoreBackend` over postgres-nio, with the same domain operations and
/// error kinds as SQLite (the conformance suite runs against both).
///
/// - Connections: a small pool guarded by a lock, one connection per concurrent caller (a
///   connection is used by one thread at a time); a lost connection is dropped, not reused.
/// - Reads run in a `REPEATABLE READ READ ONLY` transaction: one consistent snapshot, as SQLite's.
/// - `exclusiveTransaction` takes a transaction-scoped advisory lock before the body reads, so the
///   scheduler's ticks are serialised as SQLite's `BEGIN IMMEDIATE` serialises them.
/// - Wake-ups: a transaction that wrote sends `NOTIFY switchboard_changes` (delivered at commit); a
///   change waiter LISTENs on a connection of its own.
/// - Engines register in the `engine` table and heartbeat with the database's clock; several may
///   serve one database, from any hosts (PostgresBackend+Engines.swift).
public final class PostgresBackend: StoreBackend, @unchecked Sendable {
    public let url: PostgresURL
    let environment: [String: String]
    let home: String
    /// What opened the database (migrations); its connection then joins the pool.
    let store: PostgresStore
    /// Every table's columns, in order: what records are read and written as.
    let columns: [String: [String]]
    private let poolLock = NSLock()
    private var idle: [PGConnection] = []
    /// Idle connections kept for the next caller. An engine runs up to `max_processes` devices at
    /// once, each reading the store: with 8 kept, a burst of 50 closed 42 connections and opened
    /// them again moments later (a server process forked, authenticated and set up each time).
    private let maxIdle = 32

    static let channel = "switchboard_changes"
    /// `pg_advisory_lock` key "SWTX" (exclusive transactions).
    static let exclusiveLockKey = 0x5357_5458

    /// When engines count as lost and dropped for `engineLockHolder` (the opener sets them from its
    /// settings; `engines(_:)` takes them explicitly).
    public var engineThresholds: EngineThresholds {
        get { poolLock.withLock { thresholds } }
        set { poolLock.withLock { thresholds = newValue } }
    }
    private var thresholds = EngineThresholds()

    /// How long a statement waits for another transaction's lock before failing as `busy`: SQLite's
    /// busy timeout (AppDatabase), so both backends give up alike instead of PostgreSQL waiting forever.
    let lockTimeoutMs: Int
    /// How long a server that cannot be reached is waited for (reconnecting with backoff) before an
    /// operation fails: a restart takes seconds.
    let reconnectSeconds: Double

    /// Opens (and migrates) the database at `url`; the password comes from `PGPASSWORD` or the password file.
    public init(url: PostgresURL, environment: [String: String] = ProcessInfo.processInfo.environment,
                home: String = NSHomeDirectory(), lockTimeoutMs: Int = 15_000, reconnectSeconds: Double = 30) throws {
        self.url = url
        self.lockTimeoutMs = lockTimeoutMs
        self.reconnectSeconds = reconnectSeconds
        self.environment = environment
        self.home = home
        store = try PostgresStore(url: url, environment: environment, home: home,
                              sessionParameters: Self.sessionParameters(lockTimeoutMs: lockTimeoutMs))
        columns = store.columns
        // The opening connection is the pool's first: the console's first read needs no connect.
        idle.append(store.connection)
        StartTrace.mark("pg-open-catalogue")
    }

    /// Every connection's session settings, sent in its start-up message (no round trips): times
    /// come back in UTC whatever the server's zone (`PGRecords.parseTimestamp` reads any offset),
    /// and a statement waits `lockTimeoutMs` for a lock before failing as busy.
    static func sessionParameters(lockTimeoutMs: Int) -> [(String, String)] { [("TimeZone", "UTC"), ("lock_timeout", "\(lockTimeoutMs)ms")] }

    deinit {
        for c in idle { c.close() }
    }

    public var location: String { url.description }

    /// LISTEN/NOTIFY wakes readers; several engines, on any hosts, register and share the runs. No
    /// change stamp (a stamp would cost a query), no engine-driven maintenance (autovacuum does it).
    public var capabilities: StoreCapabilities { [.changeWakeups, .enginesOnSeveralHosts, .severalEngines] }

    // MARK: connections

    /// A new connection. The server answered when this backend was opened, so one that cannot be
    /// reached now is restarting or briefly away: connecting is retried with backoff (0.1 s doubling
    /// to 2 s) for `reconnectSeconds` before the error comes out. Wrong passwords, missing databases
    /// and the like are not retried.
    func connect() throws -> PGConnection {
        var delay: useconds_t = 100_000
        let deadline = Date().addingTimeInterval(reconnectSeconds)
        while true {
            do {
                StartTrace.mark("pg-connect")
                let c = try PGConnection.connect(url, environment: environment, home: home,
                                                 sessionParameters: Self.sessionParameters(lockTimeoutMs: lockTimeoutMs))
                StartTrace.mark("pg-connected")
                return c
            } catch let e as StoreError where e.kind == .connectionLost && Date() < deadline {
                usleep(delay)
                delay = min(delay * 2, 2_000_000)
            }
        }
    }

    /// Runs `body` on a pooled connection, or a new one. A transaction whose connection turns out to
    /// be gone at its BEGIN (a server restart closed it while it sat in the pool) never started: it
    /// runs again on a new connection. A connection lost later comes out as `connectionLost`.
    func withConnection<T>(_ body: (PGConnection) throws -> T) throws -> T {
        var delay: useconds_t = 100_000
        let deadline = Date().addingTimeInterval(reconnectSeconds)
        while true {
            do {
                return try withOneConnection(body)
            } catch let e as NotBegun {
                guard Date() < deadline else { throw e.error }
                usleep(delay)
                delay = min(delay * 2, 2_000_000)
            }
        }
    }

    private func withOneConnection<T>(_ body: (PGConnection) throws -> T) throws -> T {
        var pooled: PGConnection? = poolLock.withLock { idle.popLast() }
        // An idle connection the server closed meanwhile (restart, idle timeout, terminated) is
        // replaced, not handed out to fail.
        while let p = pooled, p.isClosed {
            p.close()
            pooled = poolLock.withLock { idle.popLast() }
        }
        let c = try pooled ?? connect()
        do {
            let value = try body(c)
            checkIn(c)
            return value
        } catch {
            if let e = error as? StoreError, e.kind == .connectionLost { c.close() }
            else if error is NotBegun { c.close() }
            else { checkIn(c) }
            throw error
        }
    }

    /// A second connection for a read that spreads over two (the console's device table,
    /// `DeviceTableHelper`): an idle one of the pool, else one connect attempt (no retries: the
    /// read then does the work on its own connection). Given back with `checkIn` (or closed).
    func borrowConnection() -> PGConnection? {
        var pooled: PGConnection? = poolLock.withLock { idle.popLast() }
        while let p = pooled, p.isClosed {
            p.close()
            pooled = poolLock.withLock { idle.popLast() }
        }
        if let pooled { return pooled }
        StartTrace.mark("pg-connect-helper")
        return try? PGConnection.connect(url, environment: environment, home: home,
                                         sessionParameters: Self.sessionParameters(lockTimeoutMs: lockTimeoutMs))
    }

    /// A transaction whose connection was lost at its BEGIN: nothing of it ran.
    struct NotBegun: Error {
        let error: StoreError
    }

    func checkIn(_ c: PGConnection) {
        let kept = poolLock.withLock { () -> Bool in
            if idle.count < maxIdle { idle.append(c); return true }
            return false
        }
        if !kept { c.close() }
    }

    /// Runs `body` in a transaction on `c`; notifies listeners at commit when it wrote.
    func inTransaction<T>(_ c: PGConnection, begin: String = "BEGIN", exclusive: Bool = false,
                          _ body: (PostgresExecutor) throws -> T) throws -> T {
        do {
            try c.query(begin)
        } catch let e as StoreError where e.kind == .connectionLost {
            throw NotBegun(error: e)
        }
        let executor = PostgresExecutor(connection: c, columns: columns)
        do {
            if exclusive { try c.query("SELECT pg_advisory_xact_lock($1)", [.int(Self.exclusiveLockKey)]) }
            let value = try body(executor)
            if executor.wrote { try c.query("SELECT pg_notify('\(Self.channel)', '')") }
            try c.query("COMMIT")
            return value
        } catch {
            _ = try? c.query("ROLLBACK")
            throw error
        }
    }

    /// Runs `body` in a read-only snapshot on `c`. Its `BEGIN` goes out with the first statement (a
    /// failed one fails that statement) and its `COMMIT` is not waited for: a read that makes one
    /// query (`logs --follow`'s, twice per wake-up) waits for one answer, not three.
    func inSnapshot<T>(_ c: PGConnection, _ body: (PostgresExecutor) throws -> T) throws -> T {
        c.send("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", reportFailure: true)
        let executor = PostgresExecutor(connection: c, columns: columns)
        executor.backend = self
        do {
            let value = try body(executor)
            c.send("COMMIT", reportFailure: false)
            return value
        } catch {
            _ = try? c.query("ROLLBACK")
            throw error
        }
    }

    // MARK: StoreBackend

    /// A read whose connection is lost on the way (a server restart) is read again on a new
    /// connection, for `reconnectSeconds`: reading twice changes nothing.
    public func query<T>(_ body: (any StoreReader) throws -> T) throws -> T {
        var delay: useconds_t = 100_000
        let deadline = Date().addingTimeInterval(reconnectSeconds)
        while true {
            do {
                return try withConnection { c in try inSnapshot(c) { try body($0) } }
            } catch let e as StoreError where e.kind == .connectionLost && Date() < deadline {
                usleep(delay)
                delay = min(delay * 2, 2_000_000)
            }
        }
    }

    public func query<T: Sendable>(_ body: @escaping @Sendable (any StoreReader) throws -> T) async throws -> T {
        try await offCooperativeThreads { try self.query(body) }
    }

    public func transaction<T>(_ body: (any StoreTransaction) throws -> T) throws -> T {
        try withConnection { c in try inTransaction(c) { try body($0) } }
    }

    public func transaction<T: Sendable>(_ body: @escaping @Sendable (any StoreTransaction) throws -> T) async throws -> T {
        try await offCooperativeThreads { try self.transaction(body) }
    }

    public func exclusiveTransaction<T>(_ body: (any StoreTransaction) throws -> T) throws -> T {
        try withConnection { c in try inTransaction(c, exclusive: true) { try body($0) } }
    }

    /// The synchronous API waits on NIO futures; async callers wait on a Dispatch thread instead of
    /// blocking a cooperative one.
    private func offCooperativeThreads<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
        }
    }

    public func info() throws -> [(String, String)] {
        try withConnection { try PostgresStore.info(url: url, connection: $0) }
    }

    // MARK: engines (PostgresBackend+Engines.swift)

    /// This host's name as engines register it.
    public static var hostName: String { EngineIdentity.thisHost }

    // MARK: import, export

    public func importInventory(_ document: InventoryDocument, secrets: SecretBox) throws -> ImportReport {
        try InventoryWriter(database: self, secrets: secrets).apply(document)
    }

    public func exportInventory(format: Exporter.Format, to directory: String, secrets: SecretBox, revealSecrets: Bool) throws -> [String] {
        try Exporter(database: self, secrets: secrets, revealSecrets: revealSecrets).export(format: format, to: directory)
    }

    // MARK: maintenance, wake-ups

    public func startMaintenance() -> (any StoreMaintenance)? { nil }

    public func changeWaiter() -> (any StoreChangeWaiting)? {
        guard let c = try? connect() else { return nil }
        return try? PostgresChangeWaiter(connection: c, channel: Self.channel)
    }
}

/// Sleeps until a NOTIFY on the store's channel arrives (another process committed) or the timeout passes.
final class PostgresChangeWaiter: StoreChangeWaiting, @unchecked Sendable {
    let connection: PGConnection
    private let signal = Signal()

    init(connection: PGConnection, channel: String) throws {
        self.connection = connection
        // The handler holds the signal, never the waiter: the waiter's last release (which closes
        // its connection and waits for that) must not happen on an event-loop thread.
        connection.connection.addListener(channel: channel) { [signal] _, note in signal.raise(note.payload) }
        // Explicitly too: when this returns, the server has registered the LISTEN (the listener's own
        // LISTEN is sent asynchronously), so a commit after `init` is never missed.
        try connection.query("LISTEN \(channel)")
    }

    deinit { connection.close() }

    var isAlive: Bool { !connection.isClosed }

    @discardableResult
    func wait(timeoutMs: Int32) -> Bool { signal.wait(until: Date().addingTimeInterval(Double(timeoutMs) / 1000)) }

    /// The lines journal flushes carried (`PostgresBackend.journalStatement`), in commit order.
    func takeCarriedLines() -> [RunLogLine] {
        signal.takeNotes().flatMap { PostgresBackend.carriedLines($0) ?? [] }
    }

    /// A wake-up flag: raised by notifications (coalesced), consumed by `wait`; and the payloads that
    /// came with them (the last `maxNotes`: a reader that misses some reads instead).
    final class Signal: @unchecked Sendable {
        private let condition = NSCondition()
        private var pending = false
        private var notes: [String] = []
        static let maxNotes = 64

        func raise(_ note: String = "") {
            condition.lock()
            pending = true
            if !note.isEmpty {
                notes.append(note)
                if notes.count > Self.maxNotes { notes.removeFirst(notes.count - Self.maxNotes) }
            }
            condition.signal()
            condition.unlock()
        }

        func takeNotes() -> [String] {
            condition.lock(); defer { condition.unlock() }
            let taken = notes
            notes = []
            return taken
        }

        func wait(until deadline: Date) -> Bool {
            condition.lock()
            defer { condition.unlock() }
            while !pending {
                if !condition.wait(until: deadline) { break }
            }
            let woken = pending
            pending = false
            return woken
        }
    }
}
