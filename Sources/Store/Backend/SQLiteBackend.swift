import Foundation
import GRDB
import Synchronization

/// `AppDatabase` is the SQLite backend: the neutral API on its GRDB pool.
extension AppDatabase: StoreBackend {
    public var location: String { path }

    /// SQLite: commits wake readers through inotify on the WAL, the file and WAL stamp a load, the
    /// engine lock is a `flock` (one host), and the engine runs the WAL checkpoints.
    public var capabilities: StoreCapabilities { [.changeWakeups, .changeStamp, .engineMaintenance] }

    public func query<T>(_ body: (any StoreReader) throws -> T) throws -> T {
        try Self.mappingErrors { try writer.read { db in try body(SQLiteExecutor(db: db)) } }
    }

    public func query<T: Sendable>(_ body: @escaping @Sendable (any StoreReader) throws -> T) async throws -> T {
        do { return try await read { db in try body(SQLiteExecutor(db: db)) } }
        catch { throw Self.storeError(error) }
    }

    public func transaction<T>(_ body: (any StoreTransaction) throws -> T) throws -> T {
        try Self.mappingErrors { try writer.write { db in try body(SQLiteExecutor(db: db)) } }
    }

    public func transaction<T: Sendable>(_ body: @escaping @Sendable (any StoreTransaction) throws -> T) async throws -> T {
        do { return try await writer.write { db in try body(SQLiteExecutor(db: db)) } }
        catch { throw Self.storeError(error) }
    }

    public func exclusiveTransaction<T>(_ body: (any StoreTransaction) throws -> T) throws -> T {
        try Self.mappingErrors {
            try writer.writeWithoutTransaction { db in
                var value: T?
                // IMMEDIATE: the write lock is taken before the first read, so what the body reads is
                // what its conditional updates compare against.
                try db.inTransaction(.immediate) {
                    value = try body(SQLiteExecutor(db: db))
                    return .commit
                }
                return value!
            }
        }
    }

    // MARK: runs

    public func claimQueuedRuns(limit: Int, engine: EngineClaimant, at time: Date) throws -> [Run] {
        if limit <= 0 { return [] }
        return try Self.mappingErrors {
            // A read first: the idle engine polls without taking the write lock.
            let queued = try writer.read { db in
                try Int64.fetchAll(db, sql: "SELECT id FROM run WHERE status = 'queued' ORDER BY id LIMIT ?", arguments: [limit])
            }
            if queued.isEmpty { return [] }
            return try writer.write { db -> [Run] in
                var out: [Run] = []
                for id in queued {
                    try db.execute(sql: "UPDATE run SET status = 'running', started_at = ?, engine_pid = ?, engine_host = ?, engine_id = ? WHERE id = ? AND status = 'queued'",
                                   arguments: [time, engine.pid, engine.host, engine.id, id])
                    if db.changesCount == 1, let run = try Run.fetchOne(db, key: id) { out.append(run) }
                }
                return out
            }
        }
    }

    /// One engine per database: every `running` run is abandoned when the lock holder asks.
    public func interruptAbandonedRuns(at time: Date, thresholds: EngineThresholds,
                                       reason: @escaping (AbandonedRunEngine) -> String) throws -> [Int64] {
        try Self.mappingErrors {
            try writer.write { db in
                let ids = try Int64.fetchAll(db, sql: "SELECT id FROM run WHERE status = 'running'")
                for id in ids {
                    let row = try Row.fetchOne(db, sql: "SELECT engine_pid, engine_host, engine_id FROM run WHERE id = ?", arguments: [id])
                    let text = reason(AbandonedRunEngine(runId: id, pid: row?["engine_pid"], host: row?["engine_host"] ?? "",
                                                         engineId: row?["engine_id"], state: nil, heartbeatAgeSeconds: nil))
                    try db.execute(sql: "UPDATE run SET status = 'interrupted', ended_at = ?, reason = ? WHERE id = ?",
                                   arguments: [time, text, id])
                    let seq = (try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM run_log WHERE run_id = ?", arguments: [id]) ?? 0) + 1
                    try RunLogLine(runId: id, seq: seq, time: time, level: .error, device: "", service: "", message: "run interrupted: \(text)").insert(db)
                    try db.execute(sql: "UPDATE task SET last_run_status = 'interrupted' WHERE last_run_id = ?", arguments: [id])
                }
                return ids
            }
        }
    }

    public func writeJournal(_ batch: JournalBatch) throws {
        if batch.isEmpty { return }
        try Self.mappingErrors {
            try writer.write { db in
                // Prepared once per connection and bound per row: encoding each record through
                // Codable was the largest part of the engine's own CPU on a 1,000-device run.
                let insertLine = try db.cachedStatement(sql: """
                    INSERT INTO run_log (run_id, seq, time, level, device, service, message) VALUES (?, ?, ?, ?, ?, ?, ?)
                    """)
                for l in batch.lines {
                    try insertLine.execute(arguments: [l.runId, l.seq, l.time, l.level.rawValue, l.device, l.service, l.message])
                }
                let insertResult = try db.cachedStatement(sql: """
                    INSERT INTO result (run_id, service_id, service_name, device_id, device_name, success, output,
                                        duration_ms, attempts, created_at, rows, engine_id, engine_host)
                    SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, run.engine_id, run.engine_host FROM run WHERE run.id = ?
                    """)
                // A whole run's results are its engine's (the run names it).
                for r in batch.results {
                    try insertResult.execute(arguments: [r.runId, r.serviceId, r.serviceName, r.deviceId, r.deviceName, r.success,
                                                         r.output, r.durationMs, r.attempts, r.createdAt, r.rows, r.runId])
                }
                for (run, p) in batch.progress {
                    try db.execute(sql: "UPDATE run SET progress_done = ?, progress_total = ?, progress_failed = ? WHERE id = ?",
                                   arguments: [p.done, p.total, p.failed, run])
                }
                for (device, s) in batch.deviceStatus {
                    try db.execute(sql: "UPDATE device SET last_run_status = ?, last_run_time = ? WHERE id = ?",
                                   arguments: [s.status, s.time, device])
                }
            }
        }
    }

    public func recordRunEnd(_ run: Run) throws {
        try Self.mappingErrors {
            try writer.write { db in
                try db.execute(sql: """
                    UPDATE run SET status = ?, ended_at = ?, reason = ?, progress_done = ?, progress_total = ?, progress_failed = ?
                    WHERE id = ? AND status = 'running'
                    """, arguments: [run.status.rawValue, run.endedAt, run.reason, run.progressDone,
                                     run.progressTotal, run.progressFailed, run.id])
                if let task = run.taskId {
                    try db.execute(sql: "UPDATE task SET last_run_status = ? WHERE id = ? AND last_run_id = ?",
                                   arguments: [run.status.rawValue, task, run.id])
                }
            }
        }
    }

    // MARK: import, export

    public func importInventory(_ document: InventoryDocument, secrets: SecretBox) throws -> ImportReport {
        try Self.mappingErrors { try InventoryWriter(database: self, secrets: secrets).apply(document) }
    }

    public func exportInventory(format: Exporter.Format, to directory: String, secrets: SecretBox, revealSecrets: Bool) throws -> [String] {
        try Self.mappingErrors {
            try Exporter(database: self, secrets: secrets, revealSecrets: revealSecrets).export(format: format, to: directory)
        }
    }

    // MARK: engine lock

    /// One engine per database: the `flock`, whatever the identity.
    public func acquireEngineLock(_ identity: EngineIdentity) throws -> (any StoreEngineLock)? { try EngineLock.acquire(databasePath: path) }
    public func engineLockHolder() -> Int32? { EngineLock.holder(databasePath: path) }

    /// The lock holder, if any: on this host (a `flock` is local), active while it holds the lock.
    /// Its version and capacity are what it published beside the database.
    public func engines(_ thresholds: EngineThresholds) throws -> [EngineEntry] {
        guard let pid = engineLockHolder() else { return [] }
        let inFlight = try Self.mappingErrors {
            try writer.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM run WHERE status = 'running'") ?? 0 }
        }
        let published = EngineSettingsFile.read(databasePath: path)
        let capacity = published.flatMap { $0.pid == pid ? $0.settings["engine.max_runs"] : nil }.flatMap { Int($0) } ?? 0
        var info = stat()
        let started = stat(EngineLock.path(forDatabase: path), &info) == 0
            ? Date(timeIntervalSince1970: TimeInterval(info.st_mtim.tv_sec)) : nil
        return [EngineEntry(id: nil, host: EngineIdentity.thisHost, pid: pid, version: "", capacity: capacity, pools: [],
                            startedAt: started, heartbeatAgeSeconds: nil, state: .active, inFlight: inFlight)]
    }

    public func removeDroppedEngines(_ thresholds: EngineThresholds) throws -> [EngineEntry] { [] }
    public func stopWaiter() -> (any StoreChangeWaiting)? { nil }

    // MARK: maintenance, wake-ups

    public func startMaintenance() -> (any StoreMaintenance)? {
        SQLiteCheckpointer.start(self)
    }

    public func changeWaiter() -> (any StoreChangeWaiting)? {
        DatabaseChangeWatcher(databasePath: path)
    }

    // MARK: errors

    /// GRDB's errors become `StoreError`s with their kind; anything else (a body's own error) passes.
    static func mappingErrors<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch { throw storeError(error) }
    }

    static func storeError(_ error: Error) -> Error {
        guard let e = error as? DatabaseError else { return error }
        let kind: StoreError.Kind
        switch e.resultCode {
        case .SQLITE_BUSY, .SQLITE_LOCKED: kind = .busy
        case .SQLITE_CONSTRAINT: kind = .conflict
        case .SQLITE_IOERR, .SQLITE_CANTOPEN, .SQLITE_NOTADB, .SQLITE_CORRUPT: kind = .connectionLost
        default: kind = .database
        }
        return StoreError(kind, e.message ?? e.description)
    }
}

/// WAL checkpoints on a thread and connection of their own, once a second. SQLite otherwise
/// checkpoints inside the commit that crosses 1,000 WAL pages, and such a commit (copying 4 MB and
/// syncing the database file) held the engine's next journal flush back by up to 160 ms on a busy run.
final class SQLiteCheckpointer: StoreMaintenance {
    private let stopped = Mutex(false)
    private let done = DispatchSemaphore(value: 0)
    private let wake = DispatchSemaphore(value: 0)

    /// The engine's writer stops checkpointing at commit; a separate connection does it instead.
    /// Other processes keep SQLite's default, so the WAL is bounded even while the engine is down.
    static func start(_ database: AppDatabase) -> SQLiteCheckpointer {
        let checkpointer = SQLiteCheckpointer()
        var config = Configuration()
        config.busyMode = .timeout(5)
        config.label = "switchboard-checkpoint"
        let queue = try? DatabaseQueue(path: database.path, configuration: config)
        if queue != nil {
            try? database.writer.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_autocheckpoint = 0") }
        }
        let thread = Thread { [checkpointer] in
            while !checkpointer.stopped.withLock({ $0 }) {
                _ = checkpointer.wake.wait(timeout: .now() + 1)
                if checkpointer.stopped.withLock({ $0 }) { break }
                // PASSIVE: copies what no reader still needs, never waits for anyone.
                _ = try? queue?.writeWithoutTransaction { db in try db.checkpoint(.passive) }
            }
            checkpointer.done.signal()
        }
        thread.name = "wal-checkpoint"
        thread.start()
        return checkpointer
    }

    func stop() {
        stopped.withLock { $0 = true }
        wake.signal()
        done.wait()
    }
}
