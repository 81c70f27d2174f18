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
    /// Several engines serve the database at once, each registered (`acquireEngineLock` registers
    /// and never refuses; `heartbeat` keeps the registration; `engines` lists them). Without it the
    /// engine lock admits one engine.
    public static let severalEngines = StoreCapabilities(rawValue: 1 << 4)

    public var description: String {
        var names: [String] = []
        if contains(.changeWakeups) { names.append("change wake-ups") }
        if contains(.changeStamp) { names.append("change stamp") }
        if contains(.enginesOnSeveralHosts) { names.append("engines on several hosts") }
        if contains(.engineMaintenance) { names.append("engine maintenance") }
        if contains(.severalEngines) { names.append("several engines") }
        return names.isEmpty ? "none" : names.joined(separator: ", ")
    }
}

/// A backend: one database, shared by every process that opens it.
///
/// `query` runs its body in one consistent snapshot; `transaction` in one transaction that commits
/// when the body returns and rolls back when it throws (errors the body throws come out unchanged);
/// `exclusiveTransaction` takes the write lock before the body reads anything, for read-then-update
/// sequences that must see the latest commit (the scheduler's tick: SQLite `BEGIN IMMEDIATE`).
public protocol StoreBackend: StoreUnitQueue {
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

    /// Makes this process an engine of the database. Without `.severalEngines` (SQLite) it takes the
    /// engine lock: one engine per database, released by `release()` or when the process dies (never
    /// stale), nil when another engine holds it (an exclusive `flock` on `<path>.engine.lock`, valid
    /// on one host). With `.severalEngines` (PostgreSQL) it registers the engine (a row of the
    /// `engine` table stamped with the database's clock) and never returns nil: the registration
    /// lives by `heartbeat()`, and `release()` removes it.
    func acquireEngineLock(_ identity: EngineIdentity) throws -> (any StoreEngineLock)?
    /// The pid of an engine serving this database (the lock holder; with `.severalEngines` an active
    /// engine, one of this host first), or nil when none does.
    func engineLockHolder() -> Int32?
    /// The engines serving this database, oldest first, with their state by the database's clock.
    /// SQLite: the lock holder, if any (always active). PostgreSQL: every registered engine.
    func engines(_ thresholds: EngineThresholds) throws -> [EngineEntry]
    /// Removes engines without a heartbeat for longer than the drop threshold; returns them.
    /// Nothing to do without `.severalEngines`.
    func removeDroppedEngines(_ thresholds: EngineThresholds) throws -> [EngineEntry]
    /// Something an engine sleeps on until a stop is requested for a run (PostgreSQL: LISTEN), or nil
    /// (the engine's poll sees stop flags).
    func stopWaiter() -> (any StoreChangeWaiting)?

    /// A summary for `switchboard db info`: location, schema version, sizes, record counts.
    func info() throws -> [(String, String)]

    /// Applies an import in one transaction (a bad record anywhere rolls everything back; pools are
    /// recomputed once). Secrets are sealed with `secrets` before they are stored.
    func importInventory(_ document: InventoryDocument, secrets: SecretBox) throws -> ImportReport
    /// Writes the inventory as `format` into `directory`; returns the files written.
    func exportInventory(format: Exporter.Format, to directory: String, secrets: SecretBox, revealSecrets: Bool) throws -> [String]

    // Runs, as the engine drives them.

    /// Claims queued runs, oldest first, at most `limit`, for `engine`: each with a conditional update
    /// (`status = 'queued'`; PostgreSQL `FOR UPDATE SKIP LOCKED`, so engines claiming at once take
    /// different runs), so a run is executed once whatever else claims. The run records the engine
    /// (pid, host, registration). Returns the runs now `running`. When nothing is queued, takes no write lock.
    func claimQueuedRuns(limit: Int, engine: EngineClaimant, at time: Date) throws -> [Run]
    /// Marks abandoned runs as `interrupted`, each with a closing log line and its task's last status;
    /// `reason` gives the text for the engine that had it. Returns their ids. Abandoned: without
    /// `.severalEngines` every `running` run (the caller holds the one engine lock); with it, the
    /// runs whose engine is not active (lost or dropped by `thresholds`, or no longer registered).
    func interruptAbandonedRuns(at time: Date, thresholds: EngineThresholds,
                                reason: @escaping (AbandonedRunEngine) -> String) throws -> [Int64]
    /// Writes a journal batch (log lines, results, progress, device run status) in one transaction.
    func writeJournal(_ batch: JournalBatch) throws
    /// Records a run's end (status, reason, progress) if it is still `running`, and its task's last status.
    func recordRunEnd(_ run: Run) throws

    /// Starts the backend's background maintenance for an engine (nil when it needs none).
    func startMaintenance() -> (any StoreMaintenance)?
    /// Something to sleep on until another process commits, or nil (then poll).
    func changeWaiter() -> (any StoreChangeWaiting)?
}

extension StoreBackend {
    /// This process as an engine, with default capacity.
    public func acquireEngineLock() throws -> (any StoreEngineLock)? { try acquireEngineLock(EngineIdentity()) }

    public func claimQueuedRuns(limit: Int, enginePid: Int32, at time: Date) throws -> [Run] {
        try claimQueuedRuns(limit: limit, engine: EngineClaimant(pid: enginePid, host: EngineIdentity.thisHost, id: nil), at: time)
    }

    public func interruptAbandonedRuns(at time: Date, reason: @escaping (Int32?) -> String) throws -> [Int64] {
        try interruptAbandonedRuns(at: time, thresholds: EngineThresholds()) { reason($0.pid) }
    }
}

/// An engine as it registers: where it runs, what it is, what it takes.
public struct EngineIdentity: Sendable, Equatable {
    public var host: String
    public var pid: Int32
    public var version: String
    /// Runs it executes at once (`engine.max_runs`); stage 2 counts units.
    public var capacity: Int
    /// Pools it serves (`engine --pools`; with `filter` empty too: any device). Its region: it
    /// claims only the units whose device is in one of them, or matches `filter`.
    public var pools: [String]
    /// A device filter expression it serves (`engine --filter`), besides `pools`.
    public var filter: String

    public init(host: String = EngineIdentity.thisHost, pid: Int32 = getpid(), version: String = "",
                capacity: Int = 0, pools: [String] = [], filter: String = "") {
        self.host = host; self.pid = pid; self.version = version; self.capacity = capacity; self.pools = pools; self.filter = filter
    }

    /// It serves only some devices (a region), not all.
    public var isRestricted: Bool { !pools.isEmpty || !filter.isEmpty }

    /// This host's name (`gethostname`): a pid means something only on its own host.
    public static var thisHost: String {
        var host = [CChar](repeating: 0, count: 256)
        gethostname(&host, host.count)
        return String(cString: host)
    }
}

/// Who claims runs: the engine's pid, host and registration (nil without `.severalEngines`).
public struct EngineClaimant: Sendable, Equatable {
    public var pid: Int32
    public var host: String
    public var id: Int64?
    public init(pid: Int32, host: String, id: Int64?) { self.pid = pid; self.host = host; self.id = id }
}

/// When an engine without a heartbeat is lost, then dropped (`engine.active_threshold_s`,
/// `engine.drop_threshold_s`).
public struct EngineThresholds: Sendable, Equatable {
    public var active: TimeInterval
    public var drop: TimeInterval
    public init(active: TimeInterval = 15, drop: TimeInterval = 120) { self.active = active; self.drop = drop }
    public init(_ settings: Settings) {
        self.init(active: settings.engine.activeThresholdS, drop: settings.engine.dropThresholdS)
    }
}

/// One engine as `switchboard engines` lists it.
public struct EngineEntry: Codable, Sendable, Equatable {
    public enum State: String, Codable, Sendable { case active, lost, dropped }
    /// The registration (nil on SQLite: the lock holder has none).
    public var id: Int64?
    public var host: String
    public var pid: Int32
    public var version: String
    public var capacity: Int
    /// Its region (`engine --pools`, `--filter`); both empty: it serves every device.
    public var pools: [String]
    public var filter: String
    /// The devices its region holds now (nil: it serves every device).
    public var servedDevices: Int?
    public var startedAt: Date?
    /// Seconds since its last heartbeat, by the database's clock (nil when it has none).
    public var heartbeatAgeSeconds: Double?
    public var state: State
    /// What it works on now: the units it holds (the unit queue) plus the runs it executes whole
    /// (a spread run counts as its units, not as a run of the engine that spread it).
    public var inFlight: Int
    /// Shutting down (SIGTERM): it takes no new work, and no other engine counts on it.
    public var draining: Bool

    public init(id: Int64?, host: String, pid: Int32, version: String, capacity: Int, pools: [String], startedAt: Date?,
                heartbeatAgeSeconds: Double?, state: State, inFlight: Int, filter: String = "", servedDevices: Int? = nil,
                draining: Bool = false) {
        self.id = id; self.host = host; self.pid = pid; self.version = version; self.capacity = capacity; self.pools = pools
        self.startedAt = startedAt; self.heartbeatAgeSeconds = heartbeatAgeSeconds; self.state = state; self.inFlight = inFlight
        self.filter = filter; self.servedDevices = servedDevices; self.draining = draining
    }

    /// What it serves, as `engines` and `:engines` show it: "all devices", or "pools eu-core,eu-edge;
    /// filter 'platform=x' (12 devices)", or "nothing more (draining)" once it is shutting down.
    public var serves: String {
        if draining { return "nothing more (draining)" }
        if pools.isEmpty && filter.isEmpty { return "all devices" }
        var parts: [String] = []
        if !pools.isEmpty { parts.append("pool\(pools.count == 1 ? "" : "s") \(pools.joined(separator: ","))") }
        if !filter.isEmpty { parts.append("filter '\(filter)'") }
        let count = servedDevices.map { " (\($0) device\($0 == 1 ? "" : "s"))" } ?? ""
        return parts.joined(separator: "; ") + count
    }

    /// The state an age gives.
    public static func state(age: Double, _ thresholds: EngineThresholds) -> State {
        age < thresholds.active ? .active : age < thresholds.drop ? .lost : .dropped
    }
}

/// The engine an abandoned run had, as its interruption names it.
public struct AbandonedRunEngine: Sendable, Equatable {
    public var runId: Int64
    public var pid: Int32?
    public var host: String
    public var engineId: Int64?
    /// Its state (nil: its registration is gone, or the backend has none).
    public var state: EngineEntry.State?
    /// Seconds since its last heartbeat, when it is still registered.
    public var heartbeatAgeSeconds: Double?
    public init(runId: Int64, pid: Int32?, host: String, engineId: Int64?, state: EngineEntry.State?, heartbeatAgeSeconds: Double?) {
        self.runId = runId; self.pid = pid; self.host = host; self.engineId = engineId; self.state = state
        self.heartbeatAgeSeconds = heartbeatAgeSeconds
    }
}

/// Background work a backend runs while an engine is up; `stop` waits for it to end.
public protocol StoreMaintenance: Sendable {
    func stop()
}

/// The engine lock (SQLite) or registration (PostgreSQL), held until released.
public protocol StoreEngineLock: AnyObject, Sendable {
    func release()
    /// Whether the lock is still held. A file lock is held until released.
    var isHeld: Bool { get }
    /// The registration's id (nil for a lock: one engine needs none).
    var engineId: Int64? { get }
    /// Stamps the registration with the database's `now()`. False when the registration was gone
    /// (dropped by another engine's housekeeping while this one could not heartbeat): it is made
    /// again under a new `engineId`, and the runs of the old one are no longer this engine's. A lock
    /// has nothing to renew.
    func heartbeat() throws -> Bool
}

extension StoreEngineLock {
    public var isHeld: Bool { true }
    public var engineId: Int64? { nil }
    public func heartbeat() throws -> Bool { true }
}

extension EngineLock: StoreEngineLock {}

/// Sleeps until the database may have changed or the timeout passes.
public protocol StoreChangeWaiting: AnyObject {
    /// True when woken by a change, false on timeout.
    @discardableResult func wait(timeoutMs: Int32) -> Bool
    /// False once the waiter can never be woken again (PostgreSQL: its LISTEN connection closed, a
    /// server restart): the caller makes a new one.
    var isAlive: Bool { get }
    /// The log lines that commits since the last call carried with their wake-up, in commit order
    /// (PostgreSQL: a journal flush's NOTIFY holds its lines when they fit), so that a live tail can
    /// print them without reading them back. Not every commit that adds lines carries them: a
    /// reader uses them only when they follow on from the last line it has, else it reads.
    func takeCarriedLines() -> [RunLogLine]
}

extension StoreChangeWaiting {
    public var isAlive: Bool { true }
    public func takeCarriedLines() -> [RunLogLine] { [] }
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
