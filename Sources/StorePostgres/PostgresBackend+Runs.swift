import Foundation
import PostgresNIO
import Store

/// Runs as the engine drives them, on PostgreSQL.
extension PostgresBackend {
    /// One conditional `UPDATE … RETURNING` over the oldest queued runs (picked once, in a
    /// materialised CTE: as an `IN (…)` sub-select the planner may rescan it and claim past the
    /// limit), `SKIP LOCKED` so engines
    /// claiming at once take different runs instead of waiting on each other's rows. An empty queue
    /// locks nothing and notifies no one (the idle engine polls here).
    public func claimQueuedRuns(limit: Int, enginePid: Int32, at time: Date) throws -> [Run] {
        if limit <= 0 { return [] }
        return try withConnection { c in
            try inTransaction(c) { tx -> [Run] in
                let ids = try tx.read("""
                    WITH picked AS MATERIALIZED (
                        SELECT id FROM run WHERE status = 'queued' ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED)
                    UPDATE run SET status = 'running', started_at = $1, engine_pid = $2
                    FROM picked WHERE run.id = picked.id AND run.status = 'queued'
                    RETURNING run.id
                    """, [.date(time), .int(Int(enginePid)), .int(limit)]).map { try $0.value(0, as: Int64.self) }
                if ids.isEmpty { return [] }
                tx.wrote = true
                return try tx.runs(ids: ids)
            }
        }
    }

    public func interruptAbandonedRuns(at time: Date, reason: @escaping (Int32?) -> String) throws -> [Int64] {
        try withConnection { c in
            try inTransaction(c) { tx -> [Int64] in
                var ids: [Int64] = []
                for row in try tx.read("SELECT id, engine_pid::bigint FROM run WHERE status = 'running' ORDER BY id FOR UPDATE") {
                    let id = try row.value(0, as: Int64.self)
                    let text = reason((try row.value(1, as: Int64?.self)).map { Int32(truncatingIfNeeded: $0) })
                    try tx.write("UPDATE run SET status = 'interrupted', ended_at = $1, reason = $2 WHERE id = $3",
                                 [.date(time), .text(text), .int(Int(id))])
                    let seq = try tx.lastLogSeq(run: id) + 1
                    try tx.write("INSERT INTO run_log (run_id, seq, time, level, device, service, message) VALUES ($1, $2, $3, 'error', '', '', $4)",
                                 [.int(Int(id)), .int(Int(seq)), .date(time), .text("run interrupted: \(text)")])
                    try tx.write("UPDATE task SET last_run_status = 'interrupted' WHERE last_run_id = $1", [.int(Int(id))])
                    ids.append(id)
                }
                return ids
            }
        }
    }

    /// The whole batch in one statement, outside an explicit transaction: lines and results as one
    /// JSON array each (`jsonb_populate_recordset`), progress and device statuses as arrays too, each
    /// write a data-modifying `WITH` of one `SELECT pg_notify(…)`. One statement is one transaction
    /// (all of it lands, or none) and one round trip: a flush used to be a dozen or more (BEGIN, an
    /// INSERT each, an UPDATE per run and per device, the NOTIFY, COMMIT), each a wake-up of the
    /// server and of this process, which on a busy machine held lines back from `logs --follow`.
    public func writeJournal(_ batch: JournalBatch) throws {
        if batch.isEmpty { return }
        let lines: [[String: Any]] = batch.lines.map { l in
            ["run_id": l.runId, "seq": l.seq, "time": PGRecords.formatTimestamp(l.time), "level": l.level.rawValue,
             "device": l.device, "service": l.service, "message": l.message]
        }
        let results: [[String: Any]] = batch.results.map { r in
            // `rows` is JSON text in the record, a jsonb value here.
            let rows: Any = r.rows.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8), options: [.fragmentsAllowed]) } ?? NSNull()
            return ["run_id": r.runId, "service_id": r.serviceId, "service_name": r.serviceName,
                    "device_id": r.deviceId.map { $0 as Any } ?? NSNull(), "device_name": r.deviceName, "success": r.success,
                    "output": r.output, "duration_ms": r.durationMs, "attempts": r.attempts,
                    "created_at": PGRecords.formatTimestamp(r.createdAt), "rows": rows]
        }
        let progress: [[Any]] = batch.progress.sorted { $0.key < $1.key }.map { [$0.key, $0.value.done, $0.value.total, $0.value.failed] }
        let status: [[Any]] = batch.deviceStatus.sorted { $0.key < $1.key }.map { [$0.key, $0.value.status, PGRecords.formatTimestamp($0.value.time)] }
        try withConnection { c in
            try c.query("""
                WITH l AS (
                    INSERT INTO run_log (run_id, seq, time, level, device, service, message)
                    SELECT run_id, seq, time, level, device, service, message FROM jsonb_populate_recordset(NULL::run_log, $1::jsonb)),
                res AS (
                    INSERT INTO result (run_id, service_id, service_name, device_id, device_name, success, output, duration_ms, attempts, created_at, rows)
                    SELECT run_id, service_id, service_name, device_id, device_name, success, output, duration_ms, attempts, created_at, rows
                    FROM jsonb_populate_recordset(NULL::result, $2::jsonb) WITH ORDINALITY AS r ORDER BY ordinality),
                p AS (
                    UPDATE run SET progress_done = (e->>1)::integer, progress_total = (e->>2)::integer, progress_failed = (e->>3)::integer
                    FROM jsonb_array_elements($3::jsonb) e WHERE run.id = (e->>0)::bigint),
                d AS (
                    UPDATE device SET last_run_status = e->>1, last_run_time = (e->>2)::timestamptz
                    FROM jsonb_array_elements($4::jsonb) e WHERE device.id = (e->>0)::bigint)
                SELECT pg_notify('\(Self.channel)', '')
                """, [.text(try Self.json(lines)), .text(try Self.json(results)), .text(try Self.json(progress)), .text(try Self.json(status))])
        }
    }

    static func json(_ value: Any) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: value), as: UTF8.self)
    }

    public func recordRunEnd(_ run: Run) throws {
        try withConnection { c in
            try inTransaction(c) { tx in
                try tx.write("""
                    UPDATE run SET status = $1, ended_at = $2, reason = $3, progress_done = $4, progress_total = $5, progress_failed = $6
                    WHERE id = $7 AND status = 'running'
                    """, [.text(run.status.rawValue), run.endedAt.map { .date($0) } ?? .null, .text(run.reason), .int(run.progressDone),
                          .int(run.progressTotal), .int(run.progressFailed), .int(Int(run.id ?? 0))])
                if let task = run.taskId {
                    try tx.write("UPDATE task SET last_run_status = $1 WHERE id = $2 AND last_run_id = $3",
                                 [.text(run.status.rawValue), .int(Int(task)), .int(Int(run.id ?? 0))])
                }
            }
        }
    }
}
