import Foundation
import GRDB
import GRDBSQLite

/// The console's compact reads and its writes on SQLite (`ConsoleStoreReader`, `ConsoleStoreWriter`).
extension SQLiteExecutor {
    func activeRunCounts() throws -> (running: Int, queued: Int) {
        let row = try Row.fetchOne(db, sql: """
            SELECT COALESCE(SUM(status = 'running'), 0) AS running, COALESCE(SUM(status = 'queued'), 0) AS queued
            FROM run WHERE status IN ('running', 'queued')
            """)
        return (row?["running"] ?? 0, row?["queued"] ?? 0)
    }

    /// Column by column straight off one statement: no `Device` records and no `Row` subscripts.
    func deviceTable<R>(pool: String?, properties: [String], date: (Date) -> String,
                        make: (_ id: String, _ values: [String]) -> R) throws -> (fields: [String], rows: [R]) {
        var wanted: MemberSet?
        if let pool {
            guard let id = try Int64.fetchOne(db, sql: "SELECT id FROM pool WHERE name = ?", arguments: [pool]) else {
                throw StoreError.notFound("no pool named '\(pool)'")
            }
            wanted = MemberSet(try PoolMembership.memberIds(db, poolId: id))
        }
        let fields = DeviceTable.fields
        let statement = try db.makeStatement(sql: "SELECT " + fields.joined(separator: ", ") + ", properties FROM device ORDER BY name")
        let cursor = try GRDB.Row.fetchCursor(statement)
        let raw = statement.sqliteStatement
        func text(_ i: Int32) -> String {
            guard let p = sqlite3_column_text(raw, i) else { return "" }
            return String(decoding: UnsafeBufferPointer(start: p, count: Int(sqlite3_column_bytes(raw, i))), as: UTF8.self)
        }
        let kinds = DeviceTable.columns.map(\.kind)
        let propertiesColumn = Int32(kinds.count)
        var values: [[String]] = []
        var ids: [String] = []
        values.reserveCapacity(wanted?.count ?? 1024)
        var custom: [(row: Int, properties: [String: JSONValue])] = []
        var keys = Set(properties)
        while try cursor.next() != nil {
            if let wanted, !wanted.contains(sqlite3_column_int64(raw, 0)) { continue }
            var v: [String] = []
            v.reserveCapacity(kinds.count)
            for (i, kind) in kinds.enumerated() {
                let c = Int32(i)
                switch kind {
                case .text: v.append(text(c))
                case .integer: v.append(String(sqlite3_column_int64(raw, c)))
                case .date:
                    if sqlite3_column_type(raw, c) == SQLITE_NULL { v.append("") }
                    else { v.append(Date.fromDatabaseValue(DatabaseValue(sqliteStatement: raw, index: c)).map(date) ?? "") }
                case .yesNo:
                    v.append(sqlite3_column_type(raw, c) == SQLITE_NULL ? "" : (sqlite3_column_int64(raw, c) != 0 ? "yes" : "no"))
                }
            }
            if sqlite3_column_bytes(raw, propertiesColumn) > 2, let props = DeviceTable.customProperties(json: text(propertiesColumn)) {
                keys.formUnion(props.keys)
                custom.append((values.count, props))
            }
            ids.append(v[1])
            values.append(v)
        }
        return DeviceTable.assemble(values: values, ids: ids, custom: custom, keys: keys, make: make)
    }

    func resultSummaries(run: Int64?, device: String?) throws -> [ConsoleStore.ResultSummary] {
        var sql = "SELECT id, run_id, service_name, device_name, success, duration_ms, attempts, created_at, engine_id, engine_host FROM result"
        var args: StatementArguments = []
        if let run { sql += " WHERE run_id = ?"; args = [run] } else if let device { sql += " WHERE device_name = ?"; args = [device] }
        sql += " ORDER BY id DESC"
        return try Row.fetchAll(db, sql: sql, arguments: args).map { r in
            ConsoleStore.ResultSummary(id: r["id"], runId: r["run_id"], serviceName: r["service_name"], deviceName: r["device_name"],
                                       success: r["success"], durationMs: r["duration_ms"], attempts: r["attempts"],
                                       createdAt: r["created_at"], engineId: r["engine_id"], engineHost: r["engine_host"])
        }
    }

    func sessionSummaries(device: String?) throws -> [ConsoleStore.SessionSummary] {
        var sql = "SELECT id, device_name, user, started_at, ended_at, bytes_in, bytes_out, width, height, end_reason FROM session"
        var args: StatementArguments = []
        if let device { sql += " WHERE device_name = ?"; args = [device] }
        sql += " ORDER BY id DESC"
        return try Row.fetchAll(db, sql: sql, arguments: args).map { r in
            ConsoleStore.SessionSummary(id: r["id"], deviceName: r["device_name"], user: r["user"], startedAt: r["started_at"],
                                        endedAt: r["ended_at"], bytesIn: r["bytes_in"], bytesOut: r["bytes_out"],
                                        width: r["width"], height: r["height"], endReason: r["end_reason"])
        }
    }

    func snapshotSummaries(device: String?) throws -> [ConsoleStore.SnapshotSummary] {
        var sql = """
            SELECT c.id, c.device_id, d.name AS device_name, c.created_at, c.run_id, c.sha256,
                   length(CAST(c.content AS BLOB)) AS size, c.git_commit
            FROM config_snapshot c JOIN device d ON d.id = c.device_id
            """
        var args: StatementArguments = []
        if let device { sql += " WHERE d.name = ?"; args = [device] }
        sql += " ORDER BY c.created_at DESC, c.id DESC"
        return try Row.fetchAll(db, sql: sql, arguments: args).map { r in
            ConsoleStore.SnapshotSummary(id: r["id"], deviceId: r["device_id"], deviceName: r["device_name"],
                                         createdAt: r["created_at"], runId: r["run_id"], sha256: r["sha256"], size: r["size"],
                                         gitCommit: r["git_commit"])
        }
    }

    func configVersion(id: Int64) throws -> ConsoleStore.ConfigVersion? {
        guard let r = try Row.fetchOne(db, sql: "SELECT c.content, c.created_at, d.name FROM config_snapshot c JOIN device d ON d.id = c.device_id WHERE c.id = ?", arguments: [id]) else {
            return nil
        }
        return ConsoleStore.ConfigVersion(id: id, deviceName: r["name"], content: r["content"], createdAt: r["created_at"])
    }

    func previousConfigVersion(id: Int64) throws -> ConsoleStore.ConfigVersion? {
        guard let r = try Row.fetchOne(db, sql: """
            SELECT p.id, p.content, p.created_at, d.name FROM config_snapshot c JOIN config_snapshot p ON p.device_id = c.device_id
            JOIN device d ON d.id = c.device_id
            WHERE c.id = ? AND (p.created_at < c.created_at OR (p.created_at = c.created_at AND p.id < c.id))
            ORDER BY p.created_at DESC, p.id DESC LIMIT 1
            """, arguments: [id]) else { return nil }
        return ConsoleStore.ConfigVersion(id: r["id"], deviceName: r["name"], content: r["content"], createdAt: r["created_at"])
    }

    func result(id: Int64) throws -> RunResult? { try RunResult.fetchOne(db, key: id) }

    func logTail(run id: Int64, after: Int64?, capacity: Int) throws -> (lines: [RunLogLine], skipped: Int) {
        let columns = "seq, time, level, device, service, message"
        var rows: [Row]
        var skipped = 0
        if let after {
            rows = try Row.fetchAll(db, sql: "SELECT \(columns) FROM run_log WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?",
                                    arguments: [id, after, capacity + 1])
            if rows.count > capacity {
                // More arrived than the view holds: count what lies between, keep the end.
                let total = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM run_log WHERE run_id = ? AND seq > ?", arguments: [id, after]) ?? 0
                rows = try Row.fetchAll(db, sql: "SELECT \(columns) FROM run_log WHERE run_id = ? AND seq > ? ORDER BY seq DESC LIMIT ?",
                                        arguments: [id, after, capacity]).reversed()
                skipped = total - rows.count
            }
        } else {
            rows = try Row.fetchAll(db, sql: "SELECT \(columns) FROM run_log WHERE run_id = ? ORDER BY seq DESC LIMIT ?",
                                    arguments: [id, capacity]).reversed()
            if rows.count == capacity {
                let total = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM run_log WHERE run_id = ?", arguments: [id]) ?? 0
                skipped = total - rows.count
            }
        }
        let lines = rows.map { r in
            RunLogLine(runId: id, seq: r["seq"], time: r["time"], level: RunLogLine.Level(rawValue: r["level"]) ?? .info,
                       device: r["device"], service: r["service"], message: r["message"])
        }
        return (lines, skipped)
    }

    func recentRuns(serviceId: Int64?, taskId: Int64?, limit: Int) throws -> [Run] {
        var sql = "SELECT * FROM run"
        var args: StatementArguments = []
        if let serviceId { sql += " WHERE service_id = ?"; args = [serviceId] } else if let taskId { sql += " WHERE task_id = ?"; args = [taskId] }
        sql += " ORDER BY id DESC LIMIT \(max(0, limit))"
        return try Run.fetchAll(db, sql: sql, arguments: args)
    }

    func manualPoolIds(deviceId: Int64) throws -> Set<Int64> {
        Set(try Int64.fetchAll(db, sql: "SELECT pool_id FROM pool_manual WHERE device_id = ?", arguments: [deviceId]))
    }

    func deviceResultBriefs(deviceId id: Int64, limit: Int) throws -> [ConsoleStore.DeviceXray.ResultBrief] {
        try Row.fetchAll(db, sql: """
            SELECT r.id, r.run_id, r.service_name, r.success, r.duration_ms, r.created_at, COALESCE(run.status, '') AS run_status
            FROM result r LEFT JOIN run ON run.id = r.run_id WHERE r.device_id = ? ORDER BY r.id DESC LIMIT ?
            """, arguments: [id, limit]).map { r in
            ConsoleStore.DeviceXray.ResultBrief(id: r["id"], runId: r["run_id"], serviceName: r["service_name"], success: r["success"],
                                                runStatus: r["run_status"], durationMs: r["duration_ms"], createdAt: r["created_at"])
        }
    }

    /// Every figure aggregated by SQLite: a few scans however many runs, results and devices.
    func pulse(_ shape: ConsoleStore.PulseShape) throws -> ConsoleStore.Pulse {
        // Finished runs by the quarter they ended in: completed is a success, the rest failures.
        let buckets = try Row.fetchAll(db, sql: """
            SELECT (CAST(strftime('%s', ended_at) AS INTEGER) - ?) / ? AS bucket,
                   SUM(status = 'completed') AS ok, SUM(status <> 'completed') AS bad
            FROM run WHERE ended_at >= ? AND status IN ('completed', 'failed', 'aborted', 'interrupted')
            GROUP BY bucket
            """, arguments: [shape.first, shape.bucketSeconds, shape.firstDate]).map { r in
            ConsoleStore.Pulse.BucketCount(bucket: r["bucket"], succeeded: r["ok"], failed: r["bad"])
        }
        // One scan of the devices for status, reachability and today's backups.
        let groups = try Row.fetchAll(db, sql: """
            SELECT COALESCE(last_run_status, '') AS status, reachable, COUNT(*) AS n,
                   COALESCE(SUM(last_backup_time >= ?), 0) AS backed_up,
                   COALESCE(SUM(last_backup_time >= ? AND last_backup_status = 'failure'), 0) AS backup_failed
            FROM device GROUP BY 1, 2
            """, arguments: [shape.day, shape.day]).map { r in
            ConsoleStore.Pulse.DeviceGroup(status: r["status"], reachable: r["reachable"], count: r["n"],
                                           backedUp: r["backed_up"], backupsFailed: r["backup_failed"])
        }
        let queued = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM run WHERE status = 'queued'") ?? 0
        let running = try Row.fetchAll(db, sql: """
            SELECT id, service_name, progress_done, progress_total, progress_failed, started_at,
                   (SELECT COUNT(*) FROM run_log l WHERE l.run_id = run.id AND l.message = ?) AS started_units,
                   (SELECT COUNT(*) FROM result r WHERE r.run_id = run.id) AS finished_units
            FROM run WHERE status = 'running' ORDER BY id
            """, arguments: [RunLogLine.unitStarted]).map { r in
            ConsoleStore.Pulse.RunningRun(id: r["id"], service: r["service_name"], done: r["progress_done"], total: r["progress_total"],
                                          failed: r["progress_failed"], startedAt: r["started_at"],
                                          inFlight: max(0, (r["started_units"] as Int) - (r["finished_units"] as Int)))
        }
        // Results are found through their runs (indexed by run), so only the window's are read.
        let slowest = try Row.fetchAll(db, sql: """
            SELECT device_name, CAST(ROUND(AVG(duration_ms)) AS INTEGER) AS average, MAX(duration_ms) AS longest,
                   COUNT(*) AS n
            FROM result WHERE run_id IN (SELECT id FROM run WHERE created_at >= ?) AND device_name <> ''
            GROUP BY device_name ORDER BY average DESC, device_name LIMIT ?
            """, arguments: [shape.since, shape.slowestLimit]).map { r in
            ConsoleStore.Pulse.DeviceTiming(device: r["device_name"], averageMs: r["average"], maxMs: r["longest"], operations: r["n"])
        }
        // The snapshot index (device_id, created_at) covers this count: no configuration is read.
        let changed = try Row.fetchOne(db, sql: """
            SELECT COUNT(*) AS versions, COUNT(DISTINCT device_id) AS devices FROM config_snapshot WHERE created_at >= ?
            """, arguments: [shape.day])
        let changedDevices = try String.fetchAll(db, sql: """
            SELECT d.name FROM config_snapshot c JOIN device d ON d.id = c.device_id WHERE c.created_at >= ?
            GROUP BY d.name ORDER BY MAX(c.created_at) DESC, d.name LIMIT ?
            """, arguments: [shape.day, shape.changedLimit])
        return ConsoleStore.Pulse.assemble(shape, buckets: buckets, devices: groups, queued: queued, running: running, slowest: slowest,
                                           changedVersions: changed?["versions"] ?? 0, changedDevices: changedDevices,
                                           changedDeviceCount: changed?["devices"] ?? 0)
    }

    // MARK: writes

    func insert(session record: SessionRecord) throws -> SessionRecord {
        var r = record
        r.deviceId = try Int64.fetchOne(db, sql: "SELECT id FROM device WHERE name = ?", arguments: [r.deviceName])
        try r.insert(db)
        return r
    }

    func update(session record: SessionRecord) throws { try record.update(db) }

    func delete(_ kind: ConsoleStore.DeletableKind, named name: String, noun: String) throws {
        switch kind {
        case .device: try Inventory.deleteDevice(db, named: name)
        case .pool: try Inventory.deletePool(db, named: name)
        case .link, .credential, .service, .task:
            try db.execute(sql: "DELETE FROM \(kind.rawValue) WHERE name = ?", arguments: [name])
            if db.changesCount == 0 { throw StoreError.notFound("no \(noun) named '\(name)'") }
        }
    }
}
