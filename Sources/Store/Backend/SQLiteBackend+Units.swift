import Foundation
import GRDB

/// The unit-level queue on SQLite: one engine per file, and one writer, so a claim is a plain
/// conditional update in a write transaction. Times are SQLite's clock in GRDB's own format
/// (`YYYY-MM-DD HH:MM:SS.SSS`, UTC), so they compare with the stored ones as text.
extension AppDatabase {
    static let nowSQL = "strftime('%Y-%m-%d %H:%M:%f', 'now')"
    static func leaseSQL(_ placeholder: String = "?") -> String {
        "strftime('%Y-%m-%d %H:%M:%f', 'now', '+' || \(placeholder) || ' seconds')"
    }
    static let unitColumns = "id, run_id, service_id, service_name, device_id, device_name, mutating, max_processes, status, attempts, engine_id, reason"

    static func unit(_ row: Row) -> RunUnit {
        RunUnit(id: row[0], runId: row[1], serviceId: row[2], serviceName: row[3], deviceId: row[4], deviceName: row[5],
                mutating: row[6], maxProcesses: row[7], status: RunUnit.Status(rawValue: row[8]) ?? .queued, attempts: row[9],
                engineId: row[10], reason: row[11])
    }

    public func enqueueUnits(run: Int64, _ units: [RunUnitSpec], lines: [RunLogLine]) throws -> [RunUnit] {
        try Self.mappingErrors {
            try writer.write { db -> [RunUnit] in
                guard try Int64.fetchOne(db, sql: "SELECT id FROM run WHERE id = ?", arguments: [run]) != nil else {
                    throw StoreError(.notFound, "no run \(run)")
                }
                var ids: [Int64] = []
                for u in units {
                    try db.execute(sql: """
                        INSERT INTO run_unit (run_id, service_id, service_name, device_id, device_name, mutating, max_processes)
                        VALUES (?, ?, ?, ?, ?, ?, ?)
                        """, arguments: [run, u.serviceId, u.serviceName, u.deviceId, u.deviceName, u.mutating, u.maxProcesses])
                    ids.append(db.lastInsertedRowID)
                }
                try Self.settleRun(db, run: run, endIfDone: false)
                try Self.appendLines(db, run: run, lines)
                if ids.isEmpty { return [] }
                return try Row.fetchAll(db, sql: "SELECT \(Self.unitColumns) FROM run_unit WHERE id IN (\(ids.map(String.init).joined(separator: ","))) ORDER BY id")
                    .map(Self.unit)
            }
        }
    }

    public func claimUnits(engine: EngineClaimant, limit: Int, leaseSeconds: Double) throws -> [RunUnit] {
        if limit <= 0 { return [] }
        return try Self.mappingErrors {
            let any = try writer.read { db in try Int64.fetchOne(db, sql: "SELECT 1 FROM run_unit WHERE status = 'queued' LIMIT 1") != nil }
            if !any { return [] }
            return try writer.write { db -> [RunUnit] in
                let ids = try Int64.fetchAll(db, sql: """
                    \(RunUnitClaimSQL.candidates(engine: "?"))
                    \(RunUnitClaimSQL.eligible(limit: "?"))
                    """, arguments: [engine.id ?? 0, engine.id ?? 0, limit])
                var out: [RunUnit] = []
                for id in ids {
                    try db.execute(sql: """
                        UPDATE run_unit SET status = 'claimed', engine_id = ?, attempts = attempts + 1, claimed_at = \(Self.nowSQL),
                                            lease_expires_at = \(Self.leaseSQL()) WHERE id = ? AND status = 'queued'
                        """, arguments: [engine.id ?? 0, leaseSeconds, id])
                    if db.changesCount == 1, let row = try Row.fetchOne(db, sql: "SELECT \(Self.unitColumns) FROM run_unit WHERE id = ?", arguments: [id]) {
                        out.append(Self.unit(row))
                    }
                }
                return out
            }
        }
    }

    @discardableResult
    public func renewUnitLeases(engineId: Int64, units: [Int64], leaseSeconds: Double) throws -> Int {
        if units.isEmpty { return 0 }
        return try Self.mappingErrors {
            try writer.write { db in
                try db.execute(sql: """
                    UPDATE run_unit SET lease_expires_at = \(Self.leaseSQL())
                    WHERE engine_id = ? AND id IN (SELECT value FROM json_each(?)) AND status = 'claimed' AND lease_expires_at > \(Self.nowSQL)
                    """, arguments: [leaseSeconds, engineId, Self.idList(units)])
                return db.changesCount
            }
        }
    }

    public func releaseUnits(engineId: Int64, keeping: [Int64], reason: @escaping (RunUnit) -> String) throws -> ExpiredUnits {
        try Self.mappingErrors {
            try writer.write { db in
                let held = try Row.fetchAll(db, sql: """
                    SELECT \(Self.unitColumns) FROM run_unit WHERE engine_id = ? AND status = 'claimed'
                      AND id NOT IN (SELECT value FROM json_each(?)) ORDER BY id
                    """, arguments: [engineId, Self.idList(keeping)]).map(Self.unit)
                return try Self.recover(db, held, reason: reason)
            }
        }
    }

    /// `[1,2,3]`: a list of ids as one JSON parameter (`json_each`).
    static func idList(_ ids: [Int64]) -> String { "[" + ids.map(String.init).joined(separator: ",") + "]" }

    public func writeUnitJournal(_ batch: JournalBatch, lease: UnitLease) throws -> Bool {
        try Self.mappingErrors {
            try writer.write { db in
                guard let run = try Self.holds(db, lease) else { return false }
                try Self.writeUnitBatch(db, run: run, lease.counted(batch), engineId: lease.engineId)
                return true
            }
        }
    }

    /// One write transaction; each lease checked as `writeUnitJournal` checks it (SQLite's one engine
    /// writes its units one after the other here, in the single writer's transaction).
    public func writeUnitJournals(_ batches: [(lease: UnitLease, batch: JournalBatch)]) throws -> Set<Int64> {
        if batches.isEmpty { return [] }
        return try Self.mappingErrors {
            try writer.write { db -> Set<Int64> in
                var refused = Set<Int64>()
                for (lease, batch) in batches {
                    guard let run = try Self.holds(db, lease) else { refused.insert(lease.unitId); continue }
                    try Self.writeUnitBatch(db, run: run, lease.counted(batch), engineId: lease.engineId)
                }
                return refused
            }
        }
    }

    public func finishUnit(_ lease: UnitLease, success: Bool, batch: JournalBatch) throws -> UnitFinish {
        try endUnit(lease, status: success ? "succeeded" : "failed", batch: batch)
    }

    public func stopUnit(_ lease: UnitLease, batch: JournalBatch) throws -> UnitFinish {
        try endUnit(lease, status: "interrupted", batch: batch)
    }

    private func endUnit(_ lease: UnitLease, status: String, batch: JournalBatch) throws -> UnitFinish {
        try Self.mappingErrors {
            try writer.write { db in
                guard let run = try Self.holds(db, lease) else { return UnitFinish(accepted: false, runEnded: nil) }
                try Self.writeUnitBatch(db, run: run, lease.counted(batch), engineId: lease.engineId)
                try db.execute(sql: "UPDATE run_unit SET status = ?, ended_at = \(Self.nowSQL), lease_expires_at = NULL WHERE id = ?",
                               arguments: [status, lease.unitId])
                return UnitFinish(accepted: true, runEnded: try Self.settleRun(db, run: run, endIfDone: true))
            }
        }
    }

    public func recoverExpiredUnits(reason: @escaping (RunUnit) -> String) throws -> ExpiredUnits {
        try Self.mappingErrors {
            try writer.write { db in
                let expired = try Row.fetchAll(db, sql: """
                    SELECT \(Self.unitColumns) FROM run_unit WHERE status = 'claimed' AND lease_expires_at <= \(Self.nowSQL) ORDER BY id
                    """).map(Self.unit)
                return try Self.recover(db, expired, reason: reason)
            }
        }
    }

    /// Units whose claim ends without their engine (its lease expired, or it released them):
    /// read-only ones back in the queue, mutating ones `lost`.
    static func recover(_ db: Database, _ units: [RunUnit], reason: (RunUnit) -> String) throws -> ExpiredUnits {
        var out = ExpiredUnits()
        for unit in units {
            let text = reason(unit)
            if unit.mutating {
                try db.execute(sql: "UPDATE run_unit SET status = 'lost', reason = ?, ended_at = \(Self.nowSQL), lease_expires_at = NULL WHERE id = ?",
                               arguments: [text, unit.id])
                let message = "lost, not repeated (it changes configuration): \(text)"
                let result = RunResult(runId: unit.runId, serviceId: unit.serviceId, serviceName: unit.serviceName, deviceId: unit.deviceId,
                                       deviceName: unit.deviceName, success: false, output: message, durationMs: 0, attempts: unit.attempts)
                let line = RunLogLine(runId: unit.runId, seq: 0, time: Date(), level: .error, device: unit.deviceName,
                                      service: unit.serviceName, message: message)
                try writeUnitBatch(db, run: unit.runId, JournalBatch(lines: [line], results: [result]), engineId: unit.engineId)
                var lost = unit
                lost.status = .lost; lost.reason = text
                out.lost.append(lost)
                if let end = try settleRun(db, run: unit.runId, endIfDone: true) { out.endedRuns[unit.runId] = end }
            } else {
                try db.execute(sql: """
                    UPDATE run_unit SET status = 'queued', engine_id = NULL, claimed_at = NULL, lease_expires_at = NULL, reason = ? WHERE id = ?
                    """, arguments: [text, unit.id])
                let line = RunLogLine(runId: unit.runId, seq: 0, time: Date(), level: .warning, device: unit.deviceName,
                                      service: unit.serviceName, message: "requeued after attempt \(unit.attempts): \(text)")
                try writeUnitBatch(db, run: unit.runId, JournalBatch(lines: [line]), engineId: nil)
                var requeued = unit
                requeued.status = .queued; requeued.engineId = nil; requeued.reason = text
                out.requeued.append(requeued)
            }
        }
        return out
    }

    public func endStoppedUnitRuns() throws -> [Int64] {
        try Self.mappingErrors {
            try writer.write { db in
                var ended: [Int64] = []
                for run in try Int64.fetchAll(db, sql: """
                    SELECT r.id FROM run r WHERE r.status = 'running' AND r.stop_requested
                      AND EXISTS (SELECT 1 FROM run_unit u WHERE u.run_id = r.id) ORDER BY r.id
                    """) {
                    try db.execute(sql: "UPDATE run_unit SET status = 'interrupted', reason = 'the run was stopped before it started', ended_at = \(Self.nowSQL) WHERE run_id = ? AND status = 'queued'",
                                   arguments: [run])
                    if try Self.settleRun(db, run: run, endIfDone: true) != nil { ended.append(run) }
                }
                return ended
            }
        }
    }

    /// SQLite's one engine registers nowhere: nothing to mark.
    public func markEngineDraining(engineId: Int64) throws {}

    /// SQLite's one engine is the last: every queued unit of a running, unstopped run ends `interrupted`.
    public func leaveUnits(engineId: Int64, thresholds: EngineThresholds, reason: @escaping (Int, Int) -> String) throws -> LeftUnits {
        try Self.mappingErrors {
            try writer.write { db in
                var out = LeftUnits()
                for row in try Row.fetchAll(db, sql: """
                    SELECT r.id, (SELECT count(*) FROM run_unit u WHERE u.run_id = r.id AND u.status = 'queued'),
                           (SELECT count(*) FROM run_unit u WHERE u.run_id = r.id)
                    FROM run r WHERE r.status = 'running' AND NOT r.stop_requested
                      AND EXISTS (SELECT 1 FROM run_unit u WHERE u.run_id = r.id AND u.status = 'queued') ORDER BY r.id
                    """) {
                    let run: Int64 = row[0], queued: Int = row[1], total: Int = row[2]
                    let text = reason(queued, total)
                    try db.execute(sql: """
                        UPDATE run_unit SET status = 'interrupted', reason = ?, ended_at = \(Self.nowSQL) WHERE run_id = ? AND status = 'queued'
                        """, arguments: [text, run])
                    try Self.appendLines(db, run: run, [RunLogLine(runId: run, seq: 0, time: Date(), level: .warning, device: "", service: "",
                                                                   message: "interrupted: \(text)")])
                    out.interrupted[run] = queued
                    if let end = try Self.settleRun(db, run: run, endIfDone: true) { out.endedRuns[run] = end }
                }
                return out
            }
        }
    }

    public func units(run: Int64) throws -> [RunUnit] {
        try Self.mappingErrors {
            try writer.read { db in
                try Row.fetchAll(db, sql: "SELECT \(Self.unitColumns) FROM run_unit WHERE run_id = ? ORDER BY id", arguments: [run]).map(Self.unit)
            }
        }
    }

    // MARK: helpers

    static func holds(_ db: Database, _ lease: UnitLease) throws -> Int64? {
        try Int64.fetchOne(db, sql: """
            SELECT run_id FROM run_unit WHERE id = ? AND engine_id = ? AND attempts = ? AND status = 'claimed' AND lease_expires_at > \(nowSQL)
            """, arguments: [lease.unitId, lease.engineId, lease.epoch])
    }

    static func appendLines(_ db: Database, run: Int64, _ lines: [RunLogLine]) throws {
        if lines.isEmpty { return }
        let base = try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(seq), 0) FROM run_log WHERE run_id = ?", arguments: [run]) ?? 0
        for (i, l) in lines.enumerated() {
            try db.execute(sql: "INSERT INTO run_log (run_id, seq, time, level, device, service, message) VALUES (?, ?, ?, ?, ?, ?, ?)",
                           arguments: [run, base + Int64(i) + 1, l.time, l.level.rawValue, l.device, l.service, l.message])
        }
    }

    /// Results name `engineId` and its host (the engine that produced them).
    static func writeUnitBatch(_ db: Database, run: Int64, _ batch: JournalBatch, engineId: Int64?) throws {
        try appendLines(db, run: run, batch.lines)
        for r in batch.results {
            try db.execute(sql: """
                INSERT INTO result (run_id, service_id, service_name, device_id, device_name, success, output, duration_ms, attempts, created_at, rows,
                                    engine_id, engine_host)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, COALESCE((SELECT host FROM engine WHERE id = ?), ''))
                """, arguments: [run, r.serviceId, r.serviceName, r.deviceId, r.deviceName, r.success, r.output, r.durationMs, r.attempts,
                                 r.createdAt, r.rows, engineId, engineId])
        }
        for (device, s) in batch.deviceStatus {
            try db.execute(sql: "UPDATE device SET last_run_status = ?, last_run_time = ? WHERE id = ?", arguments: [s.status, s.time, device])
        }
    }

    /// The run's progress from its units (those that ran); once none is left, its end: `interrupted`
    /// with their reason when some never ran (no engine was left), as on PostgreSQL.
    @discardableResult
    static func settleRun(_ db: Database, run: Int64, endIfDone: Bool) throws -> Run.Status? {
        guard let row = try Row.fetchOne(db, sql: """
            SELECT COALESCE(SUM(status IN ('succeeded', 'failed', 'lost')), 0), count(*), COALESCE(SUM(status IN ('failed', 'lost')), 0),
                   COALESCE(SUM(status = 'interrupted'), 0), MAX(CASE WHEN status = 'interrupted' THEN reason END)
            FROM run_unit WHERE run_id = ?
            """, arguments: [run]) else { return nil }
        let done: Int = row[0], total: Int = row[1], failed: Int = row[2], interrupted: Int = row[3]
        try db.execute(sql: "UPDATE run SET progress_done = ?, progress_total = ?, progress_failed = ? WHERE id = ?",
                       arguments: [done, total, failed, run])
        guard endIfDone, done + interrupted == total else { return nil }
        let stop = try Row.fetchOne(db, sql: "SELECT stop_requested, reason, started_at FROM run WHERE id = ?", arguments: [run])
        let stopped: Bool = stop?[0] ?? false
        let started: Date? = stop?[2]
        let seconds = max(0, Date().timeIntervalSince(started ?? Date()))
        let status: Run.Status = stopped ? .aborted : interrupted > 0 ? .interrupted : RunUnit.runStatus(failed: failed)
        let reason: String = stopped ? (stop?[1] ?? "stopped")
            : interrupted > 0 ? ((row[4] as String?) ?? "")
            : failed > 0 ? "\(failed) of \(total) device\(total == 1 ? "" : "s") failed" : ""
        try db.execute(sql: "UPDATE run SET status = ?, ended_at = ?, reason = ? WHERE id = ? AND status = 'running'",
                       arguments: [status.rawValue, Date(), reason, run])
        guard db.changesCount == 1 else { return nil }
        try appendLines(db, run: run, [RunLogLine(runId: run, seq: 0, time: Date(), level: status == .completed ? .info : .warning,
                                                  device: "", service: "",
                                                  message: "run \(run) \(status.rawValue) in \(String(format: "%.1f", seconds)) s: \(done)/\(total) done, \(failed) failed")])
        try db.execute(sql: "UPDATE task SET last_run_status = ? WHERE id = (SELECT task_id FROM run WHERE id = ?) AND last_run_id = ?",
                       arguments: [status.rawValue, run, run])
        return status
    }
}
