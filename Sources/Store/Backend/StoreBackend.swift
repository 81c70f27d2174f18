import Foundation

// The store's backend-neutral API: what the engine, the executable and the lab call, in domain terms
// and plain `Codable` records. Only a backend knows its database library: `AppDatabase` (SQLite
// through GRDB) and `PostgresBackend` (module StorePostgres, PostgreSQL through postgres-nio).
//
// Modelled on River's driver interface: a backend hands out executors (`StoreReader` for a read
// snapshot, `StoreTransaction` for a write transaction) whose methods are domain operations, plus a
// few one-shot operations that need a backend's own mechanics (claiming runs, flushing the journal).
// Errors leaving a backend are `StoreError`s whose kind survives (`notFound`, `conflict`, `busy`,
// `connectionLost`, …); the database library's own errors never cross this boundary.

/// What a backend can do, so callers choose a mechanism instead of assuming SQLite's.
public struct StoreCapabilities: OptionSet, Sendable, CustomStringConvertible {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// Readers can sleep until another process commits (`changeWaiter()`): SQLite watches its WAL
    /// with inotify, PostgreSQL LISTENs. Without it callers poll.
    public static let changeWakeups = StoreCapabilities(rawValue: 1 << 0)
    /// A cheap stamp tells whether anything was written since a load (`StoreStamp` over SQLite's
    /// file and WAL), so an idle console reads nothing.
    public static let changeStamp = StoreCapabilities(rawValue: 1 << 1)
    /// Engines on several hosts may serve one database: its engine lock is not a local file lock.
    /// SQLite's is a `flock` beside the file, valid on one host only.
    public static let enginesOnSeveralHosts = StoreCapabilities(rawValue: 1 << 2)
    /// The engine should drive the backend's maintenance (`startMaintenance()`): SQLite's WAL
    /// checkpoints, run off the commit path.
    public static let engineMaintenance = StoreCapabilities(rawValue: 1 << 3)

    public var description: String {
        var names: [String] = []
        if contains(.changeWakeups) { names.append("change wake-ups") }
        if contains(.changeStamp) { names.append("change stamp") }
        if contains(.enginesOnSeveralHosts) { names.append("engines on several hosts") }
        if contains(.engineMaintenance) { names.append("engine maintenance") }
        return names.isEmpty ? "none" : names.joined(separator: ", ")
    }
}

/// A backend: one database, shared by every process that opens it.
///
/// `query` runs its body in one consistent snapshot; `transaction` in one transaction that commits
/// when the body returns and rolls back when it throws (errors the body throws come out unchanged);
/// `exclusiveTransaction` takes the write lock before the body reads anything, for read-then-update
/// sequences that must see the latest commit (the scheduler's tick: SQLite `BEGIN IMMEDIATE`).
public protocol StoreBackend: AnyObject, Sendable {
    /// Where the database is (a path for SQLite, a URL without its password for PostgreSQL); engine
    /// lock, engine log and published settings are named after it.
    var location: String { get }
    var capabilities: StoreCapabilities { get }

    func query<T>(_ body: (any StoreReader) throws -> T) throws -> T
    /// A read for async code, which never holds a connection while waiting for a cooperative thread.
    func query<T: Sendable>(_ body: @escaping @Sendable (any StoreReader) throws -> T) async throws -> T
    func transaction<T>(_ body: (any StoreTransaction) throws -> T) throws -> T
    /// A transaction for async code: waiting for the write lock holds no cooperative thread.
    func transaction<T: Sendable>(_ body: @escaping @Sendable (any StoreTransaction) throws -> T) async throws -> T
    func exclusiveTransaction<T>(_ body: (any StoreTransaction) throws -> T) throws -> T

    /// Takes the database's engine lock: one engine per database, released by `release()` or when the
    /// process dies (never stale). Nil when another engine holds it. SQLite: an exclusive `flock` on
    /// `<path>.engine.lock`, valid on one host; PostgreSQL a session advisory lock on a dedicated connection.
    func acquireEngineLock() throws -> (any StoreEngineLock)?
    /// The pid of the engine holding the lock, or nil when no engine runs on this database.
    func engineLockHolder() -> Int32?

    /// A summary for `switchboard db info`: location, schema version, sizes, record counts.
    func info() throws -> [(String, String)]

    /// Applies an import in one transaction (a bad record anywhere rolls everything back; pools are
    /// recomputed once). Secrets are sealed with `secrets` before they are stored.
    func importInventory(_ document: InventoryDocument, secrets: SecretBox) throws -> ImportReport
    /// Writes the inventory as `format` into `directory`; returns the files written.
    func exportInventory(format: Exporter.Format, to directory: String, secrets: SecretBox, revealSecrets: Bool) throws -> [String]

    // Runs, as the engine drives them.

    /// Claims queued runs, oldest first, at most `limit`, for the engine `enginePid`: each with a
    /// conditional update (`status = 'queued'`), so a run is executed once whatever else claims.
    /// Returns the runs now `running`. When nothing is queued, takes no write lock.
    func claimQueuedRuns(limit: Int, enginePid: Int32, at time: Date) throws -> [Run]
    /// Marks runs left `running` (by an engine that died) as `interrupted`, each with a closing log
    /// line and its task's last status; `reason` gives the text for the old engine's pid. Returns their ids.
    func interruptAbandonedRuns(at time: Date, reason: @escaping (Int32?) -> String) throws -> [Int64]
    /// Writes a journal batch (log lines, results, progress, device run status) in one transaction.
    func writeJournal(_ batch: JournalBatch) throws
    /// Records a run's end (status, reason, progress) if it is still `running`, and its task's last status.
    func recordRunEnd(_ run: Run) throws

    /// Starts the backend's background maintenance for an engine (nil when it needs none).
    func startMaintenance() -> (any StoreMaintenance)?
    /// Something to sleep on until another process commits, or nil (then poll).
    func changeWaiter() -> (any StoreChangeWaiting)?
}

/// Background work a backend runs while an engine is up; `stop` waits for it to end.
public protocol StoreMaintenance: Sendable {
    func stop()
}

/// The engine lock, held until released.
public protocol StoreEngineLock: AnyObject, Sendable {
    func release()
    /// Whether the lock is still held. A file lock is held until released; PostgreSQL's advisory lock
    /// goes with its connection (a server restart, `pg_terminate_backend`, a network cut).
    var isHeld: Bool { get }
}

extension StoreEngineLock {
    public var isHeld: Bool { true }
}

extension EngineLock: StoreEngineLock {}

/// Sleeps until the database may have changed or the timeout passes.
public protocol StoreChangeWaiting: AnyObject {
    /// True when woken by a change, false on timeout.
    @discardableResult func wait(timeoutMs: Int32) -> Bool
    /// False once nothing can wake it any more (PostgreSQL: its LISTEN connection is gone, after a
    /// server restart or `pg_terminate_backend`): ask the backend for a new one.
    var isAlive: Bool { get }
}

extension StoreChangeWaiting {
    public var isAlive: Bool { true }
}

extension DatabaseChangeWatcher: StoreChangeWaiting {}

/// What the engine's journal writes in one transaction.
public struct JournalBatch: Sendable {
    public struct Progress: Sendable, Equatable {
        public var done: Int, total: Int, failed: Int
        public init(done: Int, total: Int, failed: Int) { self.done = done; self.total = total; self.failed = failed }
    }
    public struct DeviceRunStatus: Sendable, Equatable {
        public var status: String, time: Date
        public init(status: String, time: Date) { self.status = status; self.time = time }
    }
    public var lines: [RunLogLine]
    public var results: [RunResult]
    public var progress: [Int64: Progress]
    /// By device id.
    public var deviceStatus: [Int64: DeviceRunStatus]

    public init(lines: [RunLogLine] = [], results: [RunResult] = [], progress: [Int64: Progress] = [:],
                deviceStatus: [Int64: DeviceRunStatus] = [:]) {
        self.lines = lines; self.results = results; self.progress = progress; self.deviceStatus = deviceStatus
    }

    public var isEmpty: Bool { lines.isEmpty && results.isEmpty && progress.isEmpty && deviceStatus.isEmpty }
}
