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
    public func claimQueuedRuns(limit: Int, engine: EngineClaimant, at time: Date) throws -> [Run] {
        if limit <= 0 { return [] }
        do {
            return try claimOnce(limit: limit, engine: engine, at: time)
        } catch let e as StoreError where e.kind == .connectionLost {
            // Lost during COMMIT (a server restart): the claim may have happened. Runs it made are
            // `running` for this engine since exactly `time`; returned, they are not left running
            // for an engine that never heard of them.
            guard let ids = try? withConnection({ c in
                try c.query("SELECT id FROM run WHERE status = 'running' AND engine_pid = $1 AND engine_host = $3 AND started_at = $2 ORDER BY id",
                            [.int(Int(engine.pid)), .date(time), .text(engine.host)]).map { try $0.value(0, as: Int64.self) }
            }) else { throw e }
            if ids.isEmpty { throw e }
            return try withConnection { c in try inTransaction(c) { tx in try tx.runs(ids: ids) } }
        }
    }

    private func claimOnce(limit: Int, engine: EngineClaimant, at time: Date) throws -> [Run] {
        try withConnection { c in
            try inTransaction(c) { tx -> [Run] in
                let ids = try tx.read("""
                    WITH picked AS MATERIALIZED (
                        SELECT id FROM run WHERE status = 'queued' ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED)
                    UPDATE run SET status = 'running', started_at = $1, engine_pid = $2, engine_host = $4, engine_id = $5
                    FROM picked WHERE run.id = picked.id AND run.status = 'queued'
                    RETURNING run.id
                    """, [.date(time), .int(Int(engine.pid)), .int(limit), .text(engine.host),
                          engine.id.map { .int(Int($0)) } ?? .null]).map { try $0.value(0, as: Int64.self) }
                if ids.isEmpty { return [] }
                tx.wrote = true
                return try tx.runs(ids: ids)
            }
        }
    }

    /// Abandoned: `running` runs whose engine is not active by the database's clock (lost, dropped, or
    /// no longer registered). A run spread over units belongs to no engine: its units' leases say
    /// what was lost (`recoverExpiredUnits`), so it is not abandoned here. Rows another transaction holds (a stop request) are skipped until the
    /// next round; the row lock and the re-checked status keep two engines from ending one run twice.
    public func interruptAbandonedRuns(at time: Date, thresholds: EngineThresholds,
                                       reason: @escaping (AbandonedRunEngine) -> String) throws -> [Int64] {
        try withConnection { c in
            try inTransaction(c) { tx -> [Int64] in
                var ids: [Int64] = []
                for row in try tx.read("""
                    SELECT r.id, r.engine_pid::bigint, r.engine_host, r.engine_id, e.id, extract(epoch FROM now() - e.heartbeat_at)::float8
                    FROM run r LEFT JOIN engine e ON e.id = r.engine_id
                    WHERE r.status = 'running' AND (e.id IS NULL OR e.heartbeat_at <= now() - make_interval(secs => $1))
                      AND NOT EXISTS (SELECT 1 FROM run_unit u WHERE u.run_id = r.id)
                    ORDER BY r.id FOR UPDATE OF r SKIP LOCKED
                    """, [.double(thresholds.active)]) {
                    let id = try row.value(0, as: Int64.self)
                    let registered = try row.value(4, as: Int64?.self) != nil
                    let age = try row.value(5, as: Double?.self)
                    let text = reason(AbandonedRunEngine(
                        runId: id, pid: (try row.value(1, as: Int64?.self)).map { Int32(truncatingIfNeeded: $0) },
                        host: try row.value(2, as: String.self), engineId: try row.value(3, as: Int64?.self),
                        state: registered ? age.map { EngineEntry.state(age: $0, thresholds) } : nil, heartbeatAgeSeconds: registered ? age : nil))
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
        do {
            try writeJournalOnce(batch)
        } catch let e as StoreError where e.kind == .connectionLost {
            // Lost during COMMIT (a server restart): the batch may have landed, and written again it
            // would conflict on its lines for ever (the journal keeps a failed batch). It landed
            // whole or not at all: its first line says which.
            guard journalLanded(batch) == true else { throw e }
        }
    }

    private func writeJournalOnce(_ batch: JournalBatch) throws {
        let (sql, values) = try Self.journalStatement(batch)
        try withConnection { c in try c.query(sql, values) }
    }

    /// The journal's one statement for `batch`.
    static func journalStatement(_ batch: JournalBatch) throws -> (String, [PGValue]) {
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
        let values: [PGValue] = [.text(try Self.json(lines)), .text(try Self.json(results)), .text(try Self.json(progress)), .text(try Self.json(status))]
        return ("""
            WITH l AS (
                INSERT INTO run_log (run_id, seq, time, level, device, service, message)
                SELECT run_id, seq, time, level, device, service, message FROM jsonb_populate_recordset(NULL::run_log, $1::jsonb)),
            res AS (
                INSERT INTO result (run_id, service_id, service_name, device_id, device_name, success, output, duration_ms, attempts, created_at, rows,
                                    engine_id, engine_host)
                SELECT r.run_id, r.service_id, r.service_name, r.device_id, r.device_name, r.success, r.output, r.duration_ms, r.attempts,
                       r.created_at, r.rows, run.engine_id, COALESCE(run.engine_host, '')
                FROM jsonb_populate_recordset(NULL::result, $2::jsonb) WITH ORDINALITY AS r LEFT JOIN run ON run.id = r.run_id
                ORDER BY ordinality),
            p AS (
                UPDATE run SET progress_done = (e->>1)::integer, progress_total = (e->>2)::integer, progress_failed = (e->>3)::integer
                FROM jsonb_array_elements($3::jsonb) e WHERE run.id = (e->>0)::bigint),
            d AS (
                UPDATE device SET last_run_status = e->>1, last_run_time = (e->>2)::timestamptz
                FROM jsonb_array_elements($4::jsonb) e WHERE device.id = (e->>0)::bigint)
            SELECT pg_notify('\(Self.channel)', CASE WHEN octet_length($1) <= \(Self.maxCarried) THEN $1 ELSE '' END)
            """, values)
    }

    /// The largest lines payload a journal flush's NOTIFY carries (PostgreSQL's limit is 8000 bytes).
    static let maxCarried = 7900

    /// The lines a journal flush's NOTIFY payload carries (the `$1` of `journalStatement`: a JSON
    /// array of `run_log` rows), nil for any other payload.
    static func carriedLines(_ payload: String) -> [RunLogLine]? {
        guard payload.hasPrefix("["), let array = try? JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [[String: Any]] else { return nil }
        var lines: [RunLogLine] = []
        lines.reserveCapacity(array.count)
        for o in array {
            guard let run = (o["run_id"] as? NSNumber)?.int64Value, let seq = (o["seq"] as? NSNumber)?.int64Value,
                  let time = (o["time"] as? String).flatMap(PGRecords.parseTimestamp),
                  let level = (o["level"] as? String).flatMap(RunLogLine.Level.init(rawValue:)),
                  let device = o["device"] as? String, let service = o["service"] as? String, let message = o["message"] as? String
            else { return nil }
            lines.append(RunLogLine(runId: run, seq: seq, time: time, level: level, device: device, service: service, message: message))
        }
        return lines
    }

    /// Whether `batch` committed, when the answer was lost with the connection (a server restart
    /// during COMMIT): a batch lands whole or not at all, and its first line says which. Nil: no
    /// line to tell by, or the server cannot be asked now.
    func journalLanded(_ batch: JournalBatch) -> Bool? {
        guard let first = batch.lines.first else { return nil }
        return try? withConnection { c in
            try c.query("SELECT count(*) FROM run_log WHERE run_id = $1 AND seq = $2 AND message = $3",
                        [.int(Int(first.runId)), .int(Int(first.seq)), .text(first.message)]).first?.value(0, as: Int.self) ?? 0
        } > 0
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
