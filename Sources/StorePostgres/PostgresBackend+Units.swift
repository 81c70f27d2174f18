import Foundation
import PostgresNIO
import Store

/// The unit-level queue on PostgreSQL (several engines, stage 2). Lock order: a unit's row, then its
/// run's row (which also serialises the run's log sequence numbers across engines), except when a
/// stop ends a run's queued units (`endStoppedUnitRuns`: the run first, then its queued units, which
/// no claimed-unit write holds).
extension PostgresBackend {
    /// Held (transaction-scoped) while claiming: the caps (a service's `max_processes` across
    /// engines, one mutating unit per device) are counts over claimed rows, which a claim running
    /// beside another would not see. The claim itself is milliseconds; `SKIP LOCKED` still passes
    /// over units that a finish or a recovery holds.
    static let unitClaimLockKey = 0x5357_554E  // "SWUN"

    static let unitColumns = """
        id, run_id, service_id, service_name, device_id, device_name, mutating, max_processes::bigint, status, attempts::bigint, engine_id, reason
        """

    static func unit(_ row: PostgresRow) throws -> RunUnit {
        RunUnit(id: try row.value(0, as: Int64.self), runId: try row.value(1, as: Int64.self), serviceId: try row.value(2, as: Int64.self),
                serviceName: try row.value(3, as: String.self), deviceId: try row.value(4, as: Int64?.self),
                deviceName: try row.value(5, as: String.self), mutating: try row.value(6, as: Bool.self),
                maxProcesses: Int(try row.value(7, as: Int64.self)),
                status: RunUnit.Status(rawValue: try row.value(8, as: String.self)) ?? .queued,
                attempts: Int(try row.value(9, as: Int64.self)), engineId: try row.value(10, as: Int64?.self),
                reason: try row.value(11, as: String.self))
    }

    public func enqueueUnits(run: Int64, _ units: [RunUnitSpec], lines: [RunLogLine]) throws -> [RunUnit] {
        try withConnection { c in
            try inTransaction(c) { tx -> [RunUnit] in
                guard try !tx.read("SELECT id FROM run WHERE id = $1 FOR UPDATE", [.int(Int(run))]).isEmpty else {
                    throw StoreError(.notFound, "no run \(run)")
                }
                var out: [RunUnit] = []
                if !units.isEmpty {
                    let rows: [[String: Any]] = units.map { u in
                        ["service_id": u.serviceId, "service_name": u.serviceName, "device_id": u.deviceId.map { $0 as Any } ?? NSNull(),
                         "device_name": u.deviceName, "mutating": u.mutating, "max_processes": u.maxProcesses]
                    }
                    out = try tx.write("""
                        INSERT INTO run_unit (run_id, service_id, service_name, device_id, device_name, mutating, max_processes)
                        SELECT $1, service_id, service_name, device_id, device_name, mutating, max_processes
                        FROM ROWS FROM (jsonb_to_recordset($2::jsonb) AS (service_id bigint, service_name text, device_id bigint,
                             device_name text, mutating boolean, max_processes integer))
                             WITH ORDINALITY AS u(service_id, service_name, device_id, device_name, mutating, max_processes, ordinality)
                        ORDER BY ordinality
                        RETURNING \(Self.unitColumns)
                        """, [.int(Int(run)), .text(try Self.json(rows))]).map(Self.unit).sorted { $0.id < $1.id }
                }
                try settleRun(tx, run: run, endIfDone: false)
                try appendLines(tx, run: run, lines)
                return out
            }
        }
    }

    public func claimUnits(engine: EngineClaimant, limit: Int, leaseSeconds: Double) throws -> [RunUnit] {
        if limit <= 0 { return [] }
        // The idle poll reads one index entry and takes no lock.
        let any = try withConnection { c in try !c.query("SELECT 1 FROM run_unit WHERE status = 'queued' LIMIT 1").isEmpty }
        if !any { return [] }
        return try withConnection { c in
            try inTransaction(c) { tx -> [RunUnit] in
                try tx.read("SELECT pg_advisory_xact_lock($1)", [.int(Self.unitClaimLockKey)])
                let claimed = try tx.write("""
                    \(RunUnitClaimSQL.candidates(engine: "$1")), picked AS MATERIALIZED (
                        \(RunUnitClaimSQL.eligible(limit: "$3"))
                    ), locked AS MATERIALIZED (
                        SELECT u.id FROM run_unit u JOIN picked p ON p.id = u.id WHERE u.status = 'queued' FOR UPDATE OF u SKIP LOCKED
                    )
                    UPDATE run_unit SET status = 'claimed', engine_id = $1, attempts = attempts + 1, claimed_at = now(),
                                        lease_expires_at = now() + make_interval(secs => $2)
                    FROM locked WHERE run_unit.id = locked.id
                    RETURNING \(Self.unitColumns.split(separator: ",").map { "run_unit." + $0.trimmingCharacters(in: .whitespaces) }.joined(separator: ", "))
                    """, [.int(Int(engine.id ?? 0)), .double(leaseSeconds), .int(limit)]).map(Self.unit)
                return claimed.sorted { $0.id < $1.id }
            }
        }
    }

    @discardableResult
    public func renewUnitLeases(engineId: Int64, units: [Int64], leaseSeconds: Double) throws -> Int {
        if units.isEmpty { return 0 }
        return try withConnection { c in
            // An expired lease is not revived: another engine may be recovering it now.
            try c.query("""
                UPDATE run_unit SET lease_expires_at = now() + make_interval(secs => $2)
                WHERE engine_id = $1 AND id = ANY($3::bigint[]) AND status = 'claimed' AND lease_expires_at > now() RETURNING id
                """, [.int(Int(engineId)), .double(leaseSeconds), .text(Self.bigintArray(units))]).count
        }
    }

    public func releaseUnits(engineId: Int64, keeping: [Int64], reason: @escaping (RunUnit) -> String) throws -> ExpiredUnits {
        try withConnection { c in
            try inTransaction(c) { tx -> ExpiredUnits in
                let held = try tx.read("""
                    SELECT \(Self.unitColumns) FROM run_unit WHERE engine_id = $1 AND status = 'claimed' AND NOT (id = ANY($2::bigint[]))
                    ORDER BY id FOR UPDATE SKIP LOCKED
                    """, [.int(Int(engineId)), .text(Self.bigintArray(keeping))]).map(Self.unit)
                return try recover(tx, held, reason: reason)
            }
        }
    }

    /// `{1,2,3}`: a list of ids as one `bigint[]` parameter.
    static func bigintArray(_ ids: [Int64]) -> String { "{" + ids.map(String.init).joined(separator: ",") + "}" }

    public func writeUnitJournal(_ batch: JournalBatch, lease: UnitLease) throws -> Bool {
        try withConnection { c in
            try inTransaction(c) { tx -> Bool in
                guard let run = try holds(tx, lease) else { return false }
                try tx.read("SELECT id FROM run WHERE id = $1 FOR UPDATE", [.int(Int(run))])
                try writeUnitBatch(tx, run: run, lease.counted(batch), engineId: lease.engineId)
                return true
            }
        }
    }

    /// A fixed number of round trips whatever the number of units (it was one transaction of ~5 per
    /// unit, one unit after the other): every lease checked and its unit's row locked in one
    /// statement; each run with lines locked once (in id order) and its last line number read; every
    /// line of every unit inserted in one statement whose `pg_notify` carries them, as a journal
    /// flush's does (`journalStatement`), so `logs --follow` prints them without a read.
    public func writeUnitJournals(_ batches: [(lease: UnitLease, batch: JournalBatch)]) throws -> Set<Int64> {
        if batches.isEmpty { return [] }
        return try withConnection { c in
            try inTransaction(c) { tx -> Set<Int64> in
                var runOf: [Int64: Int64] = [:]
                for row in try tx.read("""
                    SELECT u.id, u.run_id FROM run_unit u
                    JOIN unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS l(id, engine_id, epoch)
                      ON u.id = l.id AND u.engine_id = l.engine_id AND u.attempts = l.epoch
                    WHERE u.status = 'claimed' AND u.lease_expires_at > now()
                    ORDER BY u.id FOR UPDATE OF u
                    """, [.text(Self.bigintArray(batches.map { $0.lease.unitId })), .text(Self.bigintArray(batches.map { $0.lease.engineId })),
                          .text(Self.bigintArray(batches.map { Int64($0.lease.epoch) }))]) {
                    runOf[try row.value(0, as: Int64.self)] = try row.value(1, as: Int64.self)
                }
                let held = batches.filter { runOf[$0.lease.unitId] != nil && !$0.batch.isEmpty }
                let runs = Set(held.map { runOf[$0.lease.unitId]! }).sorted()
                if !runs.isEmpty {
                    // The run's row serialises its line numbers across engines (as `writeUnitJournal`);
                    // the last numbers are read after the locks, in a statement of their own (a fresh snapshot).
                    try tx.read("SELECT id FROM run WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE", [.text(Self.bigintArray(runs))])
                }
                let withLines = Set(held.filter { !$0.batch.lines.isEmpty }.map { runOf[$0.lease.unitId]! }).sorted()
                var next: [Int64: Int64] = [:]
                if !withLines.isEmpty {
                    for row in try tx.read("""
                        SELECT r, (SELECT COALESCE(max(seq), 0) FROM run_log WHERE run_id = r)::bigint FROM unnest($1::bigint[]) AS r
                        """, [.text(Self.bigintArray(withLines))]) {
                        next[try row.value(0, as: Int64.self)] = try row.value(1, as: Int64.self)
                    }
                }
                var rows: [[String: Any]] = []
                for (lease, batch) in held {
                    let run = runOf[lease.unitId]!
                    for l in batch.lines {
                        let seq = (next[run] ?? 0) + 1
                        next[run] = seq
                        rows.append(["run_id": run, "seq": seq, "time": PGRecords.formatTimestamp(l.time), "level": l.level.rawValue,
                                     "device": l.device, "service": l.service, "message": l.message])
                    }
                    var rest = lease.counted(batch)
                    rest.lines = []
                    if !rest.isEmpty { try writeUnitBatch(tx, run: run, rest, engineId: lease.engineId) }
                }
                if !rows.isEmpty {
                    // A read, not a write: this statement's own NOTIFY is the commit's wake-up (a
                    // write would add an empty one, which has every follower read).
                    try tx.read("""
                        WITH l AS (
                            INSERT INTO run_log (run_id, seq, time, level, device, service, message)
                            SELECT run_id, seq, time, level, device, service, message FROM jsonb_populate_recordset(NULL::run_log, $1::jsonb))
                        SELECT pg_notify('\(Self.channel)', CASE WHEN octet_length($1) <= \(Self.maxCarried) THEN $1 ELSE '' END)
                        """, [.text(try Self.json(rows))])
                }
                return Set(batches.map { $0.lease.unitId }.filter { runOf[$0] == nil })
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
        try withConnection { c in
            try inTransaction(c) { tx -> UnitFinish in
                guard let run = try holds(tx, lease) else { return UnitFinish(accepted: false, runEnded: nil) }
                try tx.read("SELECT id FROM run WHERE id = $1 FOR UPDATE", [.int(Int(run))])
                try writeUnitBatch(tx, run: run, lease.counted(batch), engineId: lease.engineId)
                try tx.write("UPDATE run_unit SET status = $2, ended_at = now(), lease_expires_at = NULL WHERE id = $1",
                             [.int(Int(lease.unitId)), .text(status)])
                return UnitFinish(accepted: true, runEnded: try settleRun(tx, run: run, endIfDone: true))
            }
        }
    }

    public func recoverExpiredUnits(reason: @escaping (RunUnit) -> String) throws -> ExpiredUnits {
        try withConnection { c in
            try inTransaction(c) { tx -> ExpiredUnits in
                let expired = try tx.read("""
                    SELECT \(Self.unitColumns) FROM run_unit WHERE status = 'claimed' AND lease_expires_at <= now()
                    ORDER BY id FOR UPDATE SKIP LOCKED
                    """).map(Self.unit)
                return try recover(tx, expired, reason: reason)
            }
        }
    }

    /// Units whose claim ends without their engine (its lease expired, or it released them; the
    /// caller holds their rows): read-only ones back in the queue, mutating ones `lost`.
    private func recover(_ tx: PostgresExecutor, _ units: [RunUnit], reason: (RunUnit) -> String) throws -> ExpiredUnits {
        var out = ExpiredUnits()
        for unit in units {
            let text = reason(unit)
            try tx.read("SELECT id FROM run WHERE id = $1 FOR UPDATE", [.int(Int(unit.runId))])
            if unit.mutating {
                try tx.write("UPDATE run_unit SET status = 'lost', reason = $2, ended_at = now(), lease_expires_at = NULL WHERE id = $1",
                             [.int(Int(unit.id)), .text(text)])
                let message = "lost, not repeated (it changes configuration): \(text)"
                let result = RunResult(runId: unit.runId, serviceId: unit.serviceId, serviceName: unit.serviceName, deviceId: unit.deviceId,
                                       deviceName: unit.deviceName, success: false, output: message, durationMs: 0,
                                       attempts: unit.attempts)
                let line = RunLogLine(runId: unit.runId, seq: 0, time: Date(), level: .error, device: unit.deviceName,
                                      service: unit.serviceName, message: message)
                try writeUnitBatch(tx, run: unit.runId, JournalBatch(lines: [line], results: [result]), engineId: unit.engineId)
                var lost = unit
                lost.status = .lost; lost.reason = text
                out.lost.append(lost)
                if let end = try settleRun(tx, run: unit.runId, endIfDone: true) { out.endedRuns[unit.runId] = end }
            } else {
                try tx.write("""
                    UPDATE run_unit SET status = 'queued', engine_id = NULL, claimed_at = NULL, lease_expires_at = NULL, reason = $2
                    WHERE id = $1
                    """, [.int(Int(unit.id)), .text(text)])
                let line = RunLogLine(runId: unit.runId, seq: 0, time: Date(), level: .warning, device: unit.deviceName,
                                      service: unit.serviceName, message: "requeued after attempt \(unit.attempts): \(text)")
                try writeUnitBatch(tx, run: unit.runId, JournalBatch(lines: [line]), engineId: nil)
                var requeued = unit
                requeued.status = .queued; requeued.engineId = nil; requeued.reason = text
                out.requeued.append(requeued)
            }
        }
        return out
    }

    public func endStoppedUnitRuns() throws -> [Int64] {
        try withConnection { c in
            try inTransaction(c) { tx -> [Int64] in
                var ended: [Int64] = []
                for row in try tx.read("""
                    SELECT r.id FROM run r WHERE r.status = 'running' AND r.stop_requested
                      AND EXISTS (SELECT 1 FROM run_unit u WHERE u.run_id = r.id)
                    ORDER BY r.id FOR UPDATE OF r SKIP LOCKED
                    """) {
                    let run = try row.value(0, as: Int64.self)
                    try tx.write("UPDATE run_unit SET status = 'interrupted', reason = 'the run was stopped before it started', ended_at = now() WHERE run_id = $1 AND status = 'queued'",
                                 [.int(Int(run))])
                    if try settleRun(tx, run: run, endIfDone: true) != nil { ended.append(run) }
                }
                return ended
            }
        }
    }

    public func markEngineDraining(engineId: Int64) throws {
        try withConnection { c in _ = try c.query("UPDATE engine SET draining = true WHERE id = $1 RETURNING id", [.int(Int(engineId))]) }
    }

    public func leaveUnits(engineId: Int64, thresholds: EngineThresholds, reason: @escaping (Int, Int) -> String) throws -> LeftUnits {
        // Nothing queued (one index entry read): nothing to leave.
        if try withConnection({ c in try c.query("SELECT 1 FROM run_unit WHERE status = 'queued' LIMIT 1").isEmpty }) { return LeftUnits() }
        return try withConnection { c in
            try inTransaction(c) { tx -> LeftUnits in
                // The claims' lock: no claim takes a unit between the look at the engines and the
                // units' end. An engine whose registration committed before this look keeps the run
                // going; one registering after it claims only once this commits, and finds them ended.
                try tx.read("SELECT pg_advisory_xact_lock($1)", [.int(Self.unitClaimLockKey)])
                let runs = try tx.read("""
                    WITH serving AS (
                        SELECT id, restricted FROM engine
                        WHERE id <> $1 AND NOT draining AND heartbeat_at > now() - make_interval(secs => $2)
                    )
                    SELECT r.id FROM run r
                    WHERE r.status = 'running' AND NOT r.stop_requested
                      AND EXISTS (SELECT 1 FROM run_unit u WHERE u.run_id = r.id AND u.status = 'queued')
                      AND NOT EXISTS (
                          SELECT 1 FROM run_unit u, serving e
                          WHERE u.run_id = r.id AND u.status = 'queued'
                            AND (u.device_id IS NULL OR NOT e.restricted
                                 OR EXISTS (SELECT 1 FROM engine_device ed WHERE ed.engine_id = e.id AND ed.device_id = u.device_id)))
                    ORDER BY r.id FOR UPDATE OF r
                    """, [.int(Int(engineId)), .double(thresholds.active)]).map { try $0.value(0, as: Int64.self) }
                var out = LeftUnits()
                for run in runs {
                    guard let counts = try tx.read("""
                        SELECT count(*) FILTER (WHERE status = 'queued')::bigint, count(*)::bigint FROM run_unit WHERE run_id = $1
                        """, [.int(Int(run))]).first else { continue }
                    let queued = Int(try counts.value(0, as: Int64.self)), total = Int(try counts.value(1, as: Int64.self))
                    if queued == 0 { continue }
                    let text = reason(queued, total)
                    try tx.write("""
                        UPDATE run_unit SET status = 'interrupted', reason = $2, ended_at = now() WHERE run_id = $1 AND status = 'queued'
                        """, [.int(Int(run)), .text(text)])
                    try appendLines(tx, run: run, [RunLogLine(runId: run, seq: 0, time: Date(), level: .warning, device: "", service: "",
                                                              message: "interrupted: \(text)")])
                    out.interrupted[run] = queued
                    if let end = try settleRun(tx, run: run, endIfDone: true) { out.endedRuns[run] = end }
                }
                return out
            }
        }
    }

    public func units(run: Int64) throws -> [RunUnit] {
        try withConnection { c in
            try c.query("SELECT \(Self.unitColumns) FROM run_unit WHERE run_id = $1 ORDER BY id", [.int(Int(run))]).map(Self.unit)
        }
    }

    // MARK: helpers

    /// The unit's run when `lease` still holds (locking the unit's row), else nil.
    private func holds(_ tx: PostgresExecutor, _ lease: UnitLease) throws -> Int64? {
        try tx.read("""
            SELECT run_id FROM run_unit WHERE id = $1 AND engine_id = $2 AND attempts = $3 AND status = 'claimed' AND lease_expires_at > now()
            FOR UPDATE
            """, [.int(Int(lease.unitId)), .int(Int(lease.engineId)), .int(lease.epoch)]).first?.value(0, as: Int64.self)
    }

    /// Lines get the run's next sequence numbers (the caller holds the run's row).
    private func appendLines(_ tx: PostgresExecutor, run: Int64, _ lines: [RunLogLine]) throws {
        if lines.isEmpty { return }
        let base = try tx.lastLogSeq(run: run)
        let rows: [[String: Any]] = lines.enumerated().map { i, l in
            ["run_id": run, "seq": base + Int64(i) + 1, "time": PGRecords.formatTimestamp(l.time), "level": l.level.rawValue,
             "device": l.device, "service": l.service, "message": l.message]
        }
        try tx.write("""
            INSERT INTO run_log (run_id, seq, time, level, device, service, message)
            SELECT run_id, seq, time, level, device, service, message FROM jsonb_populate_recordset(NULL::run_log, $1::jsonb)
            """, [.text(try Self.json(rows))])
    }

    /// A unit's journal: its lines (renumbered), results and device status; progress comes from the
    /// units. Results name `engineId` and its host (the engine that produced them).
    private func writeUnitBatch(_ tx: PostgresExecutor, run: Int64, _ batch: JournalBatch, engineId: Int64?) throws {
        try appendLines(tx, run: run, batch.lines)
        if !batch.results.isEmpty {
            let results: [[String: Any]] = batch.results.map { r in
                let rows: Any = r.rows.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8), options: [.fragmentsAllowed]) } ?? NSNull()
                return ["run_id": run, "service_id": r.serviceId, "service_name": r.serviceName,
                        "device_id": r.deviceId.map { $0 as Any } ?? NSNull(), "device_name": r.deviceName, "success": r.success,
                        "output": r.output, "duration_ms": r.durationMs, "attempts": r.attempts,
                        "created_at": PGRecords.formatTimestamp(r.createdAt), "rows": rows]
            }
            try tx.write("""
                INSERT INTO result (run_id, service_id, service_name, device_id, device_name, success, output, duration_ms, attempts, created_at, rows,
                                    engine_id, engine_host)
                SELECT run_id, service_id, service_name, device_id, device_name, success, output, duration_ms, attempts, created_at, rows,
                       $2::bigint, COALESCE((SELECT host FROM engine WHERE id = $2::bigint), '')
                FROM jsonb_populate_recordset(NULL::result, $1::jsonb) WITH ORDINALITY AS r ORDER BY ordinality
                """, [.text(try Self.json(results)), engineId.map { .int(Int($0)) } ?? .null])
        }
        for (device, s) in batch.deviceStatus {
            try tx.write("UPDATE device SET last_run_status = $1, last_run_time = $2 WHERE id = $3",
                         [.text(s.status), .date(s.time), .int(Int(device))])
        }
    }

    /// The run's progress from its units (those that ran, as a whole run counts its devices); when
    /// none is left and `endIfDone`, its end (once: only while it is `running`): `interrupted` with
    /// their reason when some never ran because no engine was left to take them; a closing line and
    /// its task's last status (the closing line a whole run has, with the run's time by the
    /// database's clock). The caller holds the run's row.
    @discardableResult
    private func settleRun(_ tx: PostgresExecutor, run: Int64, endIfDone: Bool) throws -> Run.Status? {
        guard let row = try tx.read("""
            SELECT count(*) FILTER (WHERE status IN ('succeeded', 'failed', 'lost'))::bigint, count(*)::bigint,
                   count(*) FILTER (WHERE status IN ('failed', 'lost'))::bigint,
                   count(*) FILTER (WHERE status = 'interrupted')::bigint, max(reason) FILTER (WHERE status = 'interrupted')
            FROM run_unit WHERE run_id = $1
            """, [.int(Int(run))]).first else { return nil }
        let done = Int(try row.value(0, as: Int64.self)), total = Int(try row.value(1, as: Int64.self))
        let failed = Int(try row.value(2, as: Int64.self)), interrupted = Int(try row.value(3, as: Int64.self))
        try tx.write("UPDATE run SET progress_done = $1, progress_total = $2, progress_failed = $3 WHERE id = $4",
                     [.int(done), .int(total), .int(failed), .int(Int(run))])
        guard endIfDone, done + interrupted == total else { return nil }
        let stop = try tx.read("""
            SELECT stop_requested, reason, extract(epoch FROM now() - COALESCE(started_at, now()))::float8 FROM run WHERE id = $1
            """, [.int(Int(run))]).first
        let stopped = try stop?.value(0, as: Bool.self) ?? false
        let seconds = try stop?.value(2, as: Double.self) ?? 0
        let status: Run.Status = stopped ? .aborted : interrupted > 0 ? .interrupted : RunUnit.runStatus(failed: failed)
        let reason = stopped ? (try stop?.value(1, as: String.self) ?? "stopped")
            : interrupted > 0 ? (try row.value(4, as: String?.self) ?? "")
            : failed > 0 ? "\(failed) of \(total) device\(total == 1 ? "" : "s") failed" : ""
        let ended = try tx.write("""
            UPDATE run SET status = $1, ended_at = now(), reason = $2 WHERE id = $3 AND status = 'running' RETURNING task_id
            """, [.text(status.rawValue), .text(reason), .int(Int(run))])
        guard let first = ended.first else { return nil }
        try appendLines(tx, run: run, [RunLogLine(runId: run, seq: 0, time: Date(), level: status == .completed ? .info : .warning,
                                                  device: "", service: "",
                                                  message: "run \(run) \(status.rawValue) in \(String(format: "%.1f", seconds)) s: \(done)/\(total) done, \(failed) failed")])
        if let task = try first.value(0, as: Int64?.self) {
            try tx.write("UPDATE task SET last_run_status = $1 WHERE id = $2 AND last_run_id = $3",
                         [.text(status.rawValue), .int(Int(task)), .int(Int(run))])
        }
        return status
    }
}
