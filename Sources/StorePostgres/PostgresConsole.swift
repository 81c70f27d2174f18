import Foundation
import PostgresNIO
import Store

/// The console's compact reads and its writes on PostgreSQL (`ConsoleStoreReader`,
/// `ConsoleStoreWriter`): lists come back as one JSON value each, the device table as one text
/// value (fields and rows split by the ASCII unit and record separators), so 80,000 devices cost
/// one round trip and no per-cell decoding.
extension PostgresExecutor {
    /// Rows of `sql` (columns aliased to `T`'s keys) in one round trip.
    func jsonList<T: Decodable>(_ type: T.Type, _ sql: String, _ values: [PGValue] = []) throws -> [T] {
        let json = try read("SELECT COALESCE(json_agg(t), '[]')::text FROM (\(sql)) t", values).first?.value(0, as: String?.self) ?? "[]"
        return try PGRecords.decodeList(T.self, json: json)
    }

    func activeRunCounts() throws -> (running: Int, queued: Int) {
        guard let row = try read("""
            SELECT count(*) FILTER (WHERE status = 'running'), count(*) FILTER (WHERE status = 'queued')
            FROM run WHERE status IN ('running', 'queued')
            """).first else { return (0, 0) }
        return (Int(try row.value(0, as: Int64.self)), Int(try row.value(1, as: Int64.self)))
    }

    /// The device table's SQL for the devices with ids in `$1 ... $2`: their number, and one text
    /// value with a record per device in name order. Values are not cleaned of the separators (a
    /// `translate` per text value was a third of the query's time); the count shows whether any
    /// value held one (see `deviceTable`).
    static let deviceTableSQL: String = {
        let unit = "E'\\x1f'", record = "E'\\x1e'"
        let columns = DeviceTable.columns.map { c -> String in
            switch c.kind {
            case .text: return "COALESCE(\"\(c.name)\", '')"
            case .integer: return "\"\(c.name)\"::text"
            case .date: return "COALESCE(extract(epoch FROM \"\(c.name)\")::text, '')"
            case .yesNo: return "CASE WHEN \"\(c.name)\" IS NULL THEN '' WHEN \"\(c.name)\" THEN 'yes' ELSE 'no' END"
            }
        } + ["CASE WHEN properties = '{}'::jsonb THEN '' ELSE properties::text END"]
        return "SELECT count(*), string_agg(concat_ws(\(unit), \(columns.joined(separator: ", "))), \(record) ORDER BY name COLLATE \"C\") FROM device WHERE id BETWEEN $1 AND $2"
    }()

    /// Devices per part of the device table's read, and at most this many parts.
    static let devicesPerPart = 10_000, maxParts = 8

    /// The device table's SQL read as rows: the columns as stored (binary on the wire), custom
    /// properties as text when there are any.
    static let deviceRowsSQL: String = {
        let columns = DeviceTable.columns.map { "\"\($0.name)\"" } + ["CASE WHEN properties = '{}'::jsonb THEN NULL ELSE properties::text END"]
        return "SELECT \(columns.joined(separator: ", ")) FROM device ORDER BY name COLLATE \"C\""
    }()

    /// The device table as text, split here, in parts by id range sent at once (`PGConnection.pipeline`),
    /// all in this read's snapshot: the server aggregates the next part while this thread splits the
    /// last, and the parts' name-ordered records are merged at the end. With two parts or more, half of
    /// them go to a second connection in the same snapshot (`DeviceTableHelper`): two server processes
    /// build parts at once, and each connection's parts are split on a thread of their own. A separator
    /// inside a stored value would add a record (0x1e) or a field (0x1f), so a part's split is trusted
    /// only when it found exactly one record per device and every record has every field: then no value
    /// held either. Otherwise (a value with a control character: rare) the table is read again as rows,
    /// in the same snapshot, and every value comes back exactly as stored.
    func deviceTable<R>(pool: String?, properties: [String], date: (Date) -> String,
                        make: (_ id: String, _ values: [String]) -> R) throws -> (fields: [String], rows: [R]) {
        var wanted: MemberSet?
        if let pool {
            let id = try poolId(named: pool)
            wanted = try memberSet(poolId: id)
        }
        StartTrace.mark("pg-devices-query")
        // Borrowed now, so that a connect overlaps the bounds' query; given back unused for a small table.
        let helper = backend.map { DeviceTableHelper(backend: $0) }
        var helperStarted = false
        defer { if !helperStarted { helper?.cancel(); _ = helper?.wait() } }
        // The id range from the primary key's index (no scan): each part counts its own devices. The
        // snapshot's id lets the helper's connection read in this very snapshot.
        let bounds = try read("SELECT (SELECT min(id) FROM device), (SELECT max(id) FROM device), \(helper == nil ? "NULL::text" : "pg_export_snapshot()")").first
        guard let low = try bounds?.value(0, as: Int64?.self), let high = try bounds?.value(1, as: Int64?.self) else {
            return DeviceTable.assemble(values: [], ids: [], custom: [], keys: Set(properties), make: make)
        }
        let snapshot = try bounds?.value(2, as: String?.self)
        let parts = Int(max(1, min(Int64(Self.maxParts), (high - low + 1) / Int64(Self.devicesPerPart))))
        let step = (high - low) / Int64(parts) + 1
        let statements = (0..<Int64(parts)).map { i in
            (sql: Self.deviceTableSQL, values: [PGValue.int(Int(low + i * step)), .int(Int(min(high, low + (i + 1) * step - 1)))])
        }
        // The table's rows are made as each part is split, while the server aggregates the next,
        // with the declared custom properties as fields. A device with another custom property adds
        // a field to every row, so then (rare) the rows are made again at the end.
        let declared = Set(properties).subtracting(DeviceTable.fields).sorted()
        let known = Set(declared).union(DeviceTable.fields)
        let members = wanted
        return try withoutActuallyEscaping(date) { date in
            let splitPart: DeviceTableHelper.Split = { text, count in
                DeviceTablePart(text: text, devices: count, wanted: members, extra: declared, date: date)
            }
            // However this read ends, the helper is done with `date` before it returns.
            defer { if helperStarted { _ = helper?.wait() } }
            var split: [DeviceTablePart] = []
            var made: [[R]]? = []
            var whole = true
            func take(_ part: DeviceTablePart?) {
                guard whole, let part else { whole = false; return }
                split.append(part)
                if !part.keys.isSubset(of: known) { made = nil }
                if made != nil { made!.append(part.values.map { make($0[1], $0) }) }
            }
            // Every other part to the helper: both connections' parts span the whole id range.
            var mine = statements, theirs: [(sql: String, values: [PGValue])] = []
            if let helper, let snapshot, parts >= 2 {
                mine = statements.enumerated().filter { $0.offset % 2 == 0 }.map(\.element)
                theirs = statements.enumerated().filter { $0.offset % 2 == 1 }.map(\.element)
                helper.start(snapshot: snapshot, statements: theirs, split: splitPart)
                helperStarted = true
            }
            func runHere(_ statements: [(sql: String, values: [PGValue])]) throws {
                try connection.pipeline(statements) { i, rows in
                    guard whole, let row = rows.first else { return }
                    let count = Int(try row.value(0, as: Int64.self))
                    guard count > 0 else { return }
                    take(splitPart(try row.value(1, as: String?.self) ?? "", count))
                    StartTrace.mark("pg-devices-part \(i)")
                }
            }
            try runHere(mine)
            if helperStarted, let helper {
                if let theirs = helper.wait() {
                    for part in theirs { take(part) }
                } else {
                    StartTrace.mark("pg-devices-helper-failed")
                    try runHere(theirs)
                }
            }
            StartTrace.mark("pg-devices-parts-taken")
            guard whole else {
                StartTrace.mark("pg-devices-separator-in-a-value")
                return try deviceTableRows(wanted: wanted, properties: properties, date: date, make: make)
            }
            let order = DeviceTablePart.mergeOrder(split)
            StartTrace.mark("pg-devices-merged")
            defer { StartTrace.mark("pg-devices-assembled") }
            if let made {
                var rows: [R] = []
                rows.reserveCapacity(order.count)
                for (p, r) in order { rows.append(made[p][r]) }
                return (DeviceTable.fields + declared, rows)
            }
            let (values, custom) = DeviceTablePart.merge(split, order: order)
            let keys = split.reduce(into: Set(properties)) { $0.formUnion($1.keys) }
            return DeviceTable.assemble(values: values, ids: values.map { $0[1] }, custom: custom, keys: keys, make: make)
        }
    }

    /// The device table as one row per device, each cell decoded from PostgreSQL's binary format:
    /// exact whatever the values hold, and slower than the single text value (80,000 rows are
    /// 80,000 messages), so only the fallback.
    func deviceTableRows<R>(wanted: MemberSet?, properties: [String], date: (Date) -> String,
                            make: (_ id: String, _ values: [String]) -> R) throws -> (fields: [String], rows: [R]) {
        let rows = try read(Self.deviceRowsSQL)
        let kinds = DeviceTable.columns.map(\.kind)
        var values: [[String]] = []
        var ids: [String] = []
        values.reserveCapacity(wanted?.count ?? rows.count)
        ids.reserveCapacity(wanted?.count ?? rows.count)
        var custom: [(row: Int, properties: [String: JSONValue])] = []
        var keys = Set(properties)
        // PostgreSQL's binary encodings: integers big-endian, timestamps as microseconds since 2000-01-01 UTC.
        let epoch2000 = 946_684_800.0
        for row in rows {
            var v: [String] = []
            v.reserveCapacity(kinds.count)
            var skip = false
            var propertiesText: String?
            for (i, cell) in row.enumerated() {
                guard var bytes = cell.bytes else {
                    if i < kinds.count { v.append("") }
                    continue
                }
                if i == kinds.count {
                    propertiesText = bytes.readString(length: bytes.readableBytes)
                    continue
                }
                switch kinds[i] {
                case .text:
                    v.append(bytes.readString(length: bytes.readableBytes) ?? "")
                case .integer:
                    let n: Int64 = bytes.readableBytes == 8 ? bytes.readInteger(as: Int64.self) ?? 0 : Int64(bytes.readInteger(as: Int32.self) ?? 0)
                    if i == 0, let wanted, !wanted.contains(n) { skip = true; break }
                    v.append(String(n))
                case .date:
                    let micros = bytes.readInteger(as: Int64.self) ?? 0
                    v.append(date(Date(timeIntervalSince1970: epoch2000 + Double(micros) / 1_000_000)))
                case .yesNo:
                    v.append((bytes.readInteger(as: UInt8.self) ?? 0) != 0 ? "yes" : "no")
                }
                if skip { break }
            }
            if skip { continue }
            if let propertiesText, let props = DeviceTable.customProperties(json: propertiesText) {
                keys.formUnion(props.keys)
                custom.append((values.count, props))
            }
            ids.append(v[1])
            values.append(v)
        }
        return DeviceTable.assemble(values: values, ids: ids, custom: custom, keys: keys, make: make)
    }

    func resultSummaries(run: Int64?, device: String?) throws -> [ConsoleStore.ResultSummary] {
        var sql = """
            SELECT id, run_id AS "runId", service_name AS "serviceName", device_name AS "deviceName", success,
                   duration_ms AS "durationMs", attempts, created_at AS "createdAt", engine_id AS "engineId", engine_host AS "engineHost"
            FROM result
            """
        var values: [PGValue] = []
        if let run { sql += " WHERE run_id = $1"; values = [.int(Int(run))] } else if let device { sql += " WHERE device_name = $1"; values = [.text(device)] }
        return try jsonList(ConsoleStore.ResultSummary.self, sql + " ORDER BY id DESC", values)
    }

    func sessionSummaries(device: String?) throws -> [ConsoleStore.SessionSummary] {
        var sql = """
            SELECT id, device_name AS "deviceName", "user", started_at AS "startedAt", ended_at AS "endedAt", bytes_in AS "bytesIn",
                   bytes_out AS "bytesOut", width, height, end_reason AS "endReason" FROM session
            """
        var values: [PGValue] = []
        if let device { sql += " WHERE device_name = $1"; values = [.text(device)] }
        return try jsonList(ConsoleStore.SessionSummary.self, sql + " ORDER BY id DESC", values)
    }

    func snapshotSummaries(device: String?) throws -> [ConsoleStore.SnapshotSummary] {
        var sql = """
            SELECT c.id, c.device_id AS "deviceId", d.name AS "deviceName", c.created_at AS "createdAt", c.run_id AS "runId", c.sha256,
                   octet_length(c.content) AS size, c.git_commit AS "gitCommit"
            FROM config_snapshot c JOIN device d ON d.id = c.device_id
            """
        var values: [PGValue] = []
        if let device { sql += " WHERE d.name = $1"; values = [.text(device)] }
        return try jsonList(ConsoleStore.SnapshotSummary.self, sql + " ORDER BY c.created_at DESC, c.id DESC", values)
    }

    func configVersion(id: Int64) throws -> ConsoleStore.ConfigVersion? {
        try jsonList(ConsoleStore.ConfigVersion.self, """
            SELECT c.id, d.name AS "deviceName", c.content, c.created_at AS "createdAt"
            FROM config_snapshot c JOIN device d ON d.id = c.device_id WHERE c.id = $1
            """, [.int(Int(id))]).first
    }

    func previousConfigVersion(id: Int64) throws -> ConsoleStore.ConfigVersion? {
        try jsonList(ConsoleStore.ConfigVersion.self, """
            SELECT p.id, d.name AS "deviceName", p.content, p.created_at AS "createdAt"
            FROM config_snapshot c JOIN config_snapshot p ON p.device_id = c.device_id JOIN device d ON d.id = c.device_id
            WHERE c.id = $1 AND (p.created_at < c.created_at OR (p.created_at = c.created_at AND p.id < c.id))
            ORDER BY p.created_at DESC, p.id DESC LIMIT 1
            """, [.int(Int(id))]).first
    }

    func result(id: Int64) throws -> RunResult? { try one(RunResult.self, "result", "WHERE id = $1", [.int(Int(id))]) }

    func logTail(run id: Int64, after: Int64?, capacity: Int) throws -> (lines: [RunLogLine], skipped: Int) {
        let run = PGValue.int(Int(id))
        var lines: [RunLogLine]
        var skipped = 0
        if let after {
            lines = try list(RunLogLine.self, "run_log", "WHERE run_id = $1 AND seq > $2 ORDER BY seq LIMIT $3", [run, .int(Int(after)), .int(capacity + 1)])
            if lines.count > capacity {
                // More arrived than the view holds: count what lies between, keep the end.
                let total = Int(try int("SELECT count(*) FROM run_log WHERE run_id = $1 AND seq > $2", [run, .int(Int(after))]) ?? 0)
                lines = try list(RunLogLine.self, "run_log", "WHERE run_id = $1 AND seq > $2 ORDER BY seq DESC LIMIT $3",
                                 [run, .int(Int(after)), .int(capacity)]).reversed()
                skipped = total - lines.count
            }
        } else {
            lines = try list(RunLogLine.self, "run_log", "WHERE run_id = $1 ORDER BY seq DESC LIMIT $2", [run, .int(capacity)]).reversed()
            if lines.count == capacity {
                let total = Int(try int("SELECT count(*) FROM run_log WHERE run_id = $1", [run]) ?? 0)
                skipped = total - lines.count
            }
        }
        return (lines, skipped)
    }

    func recentRuns(serviceId: Int64?, taskId: Int64?, limit: Int) throws -> [Run] {
        if let serviceId {
            return try list(Run.self, "run", "WHERE service_id = $1 ORDER BY id DESC LIMIT $2", [.int(Int(serviceId)), .int(max(0, limit))])
        }
        if let taskId {
            return try list(Run.self, "run", "WHERE task_id = $1 ORDER BY id DESC LIMIT $2", [.int(Int(taskId)), .int(max(0, limit))])
        }
        return try recentRuns(limit: max(0, limit))
    }

    func manualPoolIds(deviceId: Int64) throws -> Set<Int64> {
        Set(try read("SELECT pool_id FROM pool_manual WHERE device_id = $1", [.int(Int(deviceId))]).map { try $0.value(0, as: Int64.self) })
    }

    func deviceResultBriefs(deviceId id: Int64, limit: Int) throws -> [ConsoleStore.DeviceXray.ResultBrief] {
        try jsonList(ConsoleStore.DeviceXray.ResultBrief.self, """
            SELECT r.id, r.run_id AS "runId", r.service_name AS "serviceName", r.success, r.duration_ms AS "durationMs",
                   r.created_at AS "createdAt", COALESCE(run.status, '') AS "runStatus"
            FROM result r LEFT JOIN run ON run.id = r.run_id WHERE r.device_id = $1 ORDER BY r.id DESC LIMIT $2
            """, [.int(Int(id)), .int(limit)])
    }

    private struct RunningRow: Decodable {
        var id: Int64, service: String, done: Int, total: Int, failed: Int, startedAt: Date?, started: Int, finished: Int
    }
    private struct TimingRow: Decodable { var device: String, average: Int, longest: Int, n: Int }

    /// The same aggregates as SQLite's, in PostgreSQL's SQL.
    func pulse(_ shape: ConsoleStore.PulseShape) throws -> ConsoleStore.Pulse {
        let buckets = try read("""
            SELECT (floor(extract(epoch FROM ended_at))::bigint - $1) / $2, count(*) FILTER (WHERE status = 'completed'),
                   count(*) FILTER (WHERE status <> 'completed')
            FROM run WHERE ended_at >= $3 AND status IN ('completed', 'failed', 'aborted', 'interrupted') GROUP BY 1
            """, [.int(shape.first), .int(shape.bucketSeconds), .date(shape.firstDate)]).map { r in
            ConsoleStore.Pulse.BucketCount(bucket: Int(try r.value(0, as: Int64.self)), succeeded: Int(try r.value(1, as: Int64.self)),
                                           failed: Int(try r.value(2, as: Int64.self)))
        }
        let groups = try read("""
            SELECT COALESCE(last_run_status, ''), reachable, count(*), count(*) FILTER (WHERE last_backup_time >= $1),
                   count(*) FILTER (WHERE last_backup_time >= $1 AND last_backup_status = 'failure')
            FROM device GROUP BY 1, 2
            """, [.date(shape.day)]).map { r in
            ConsoleStore.Pulse.DeviceGroup(status: try r.value(0, as: String.self), reachable: try r.value(1, as: Bool?.self),
                                           count: Int(try r.value(2, as: Int64.self)), backedUp: Int(try r.value(3, as: Int64.self)),
                                           backupsFailed: Int(try r.value(4, as: Int64.self)))
        }
        let queued = Int(try int("SELECT count(*) FROM run WHERE status = 'queued'") ?? 0)
        let running = try jsonList(RunningRow.self, """
            SELECT id, service_name AS service, progress_done AS done, progress_total AS total, progress_failed AS failed,
                   started_at AS "startedAt",
                   (SELECT count(*) FROM run_log l WHERE l.run_id = run.id AND l.message = $1) AS started,
                   (SELECT count(*) FROM result r WHERE r.run_id = run.id) AS finished
            FROM run WHERE status = 'running' ORDER BY id
            """, [.text(RunLogLine.unitStarted)]).map { r in
            ConsoleStore.Pulse.RunningRun(id: r.id, service: r.service, done: r.done, total: r.total, failed: r.failed,
                                          startedAt: r.startedAt, inFlight: max(0, r.started - r.finished))
        }
        let slowest = try jsonList(TimingRow.self, """
            SELECT device_name AS device, round(avg(duration_ms))::bigint AS average, max(duration_ms) AS longest, count(*) AS n
            FROM result WHERE run_id IN (SELECT id FROM run WHERE created_at >= $1) AND device_name <> ''
            GROUP BY device_name ORDER BY average DESC, device_name COLLATE "C" LIMIT $2
            """, [.date(shape.since), .int(shape.slowestLimit)]).map { r in
            ConsoleStore.Pulse.DeviceTiming(device: r.device, averageMs: r.average, maxMs: r.longest, operations: r.n)
        }
        let changed = try read("SELECT count(*), count(DISTINCT device_id) FROM config_snapshot WHERE created_at >= $1", [.date(shape.day)]).first
        let changedDevices = try strings("""
            SELECT d.name FROM config_snapshot c JOIN device d ON d.id = c.device_id WHERE c.created_at >= $1
            GROUP BY d.name ORDER BY max(c.created_at) DESC, d.name COLLATE "C" LIMIT $2
            """, [.date(shape.day), .int(shape.changedLimit)])
        return ConsoleStore.Pulse.assemble(shape, buckets: buckets, devices: groups, queued: queued, running: running, slowest: slowest,
                                           changedVersions: Int(try changed?.value(0, as: Int64.self) ?? 0), changedDevices: changedDevices,
                                           changedDeviceCount: Int(try changed?.value(1, as: Int64.self) ?? 0))
    }

    // MARK: writes

    func insert(session record: SessionRecord) throws -> SessionRecord {
        var r = record
        r.deviceId = try int("SELECT id FROM device WHERE name = $1", [.text(r.deviceName)])
        r.id = try insert(r, into: "session")
        return r
    }

    func update(session record: SessionRecord) throws {
        guard let id = record.id else { throw StoreError.notFound("session without an id") }
        try update(record, in: "session", id: id)
    }

    func delete(_ kind: ConsoleStore.DeletableKind, named name: String, noun: String) throws {
        switch kind {
        case .device:
            guard let id = try int("SELECT id FROM device WHERE name = $1", [.text(name)]) else {
                throw StoreError.notFound("no device named '\(name)'")
            }
            // The device leaves every member set it was in, and those sets' pools (and its manual ones) are recounted.
            var pools = try manualPoolIds(deviceId: id)
            var changedKeys: [String] = []
            for row in try read("SELECT id, criteria_key, encode(members, 'base64') FROM member_set") {
                var set = Self.decodeSet(try row.value(2, as: String.self))
                if set.remove(id) {
                    try write("UPDATE member_set SET members = $1, count = $2 WHERE id = $3",
                              [.bytes(set.encoded()), .int(set.count), .int(Int(try row.value(0, as: Int64.self)))])
                    changedKeys.append(try row.value(1, as: String.self))
                }
            }
            try write("DELETE FROM device WHERE id = $1", [.int(Int(id))])
            if !changedKeys.isEmpty {
                for row in try read("SELECT id FROM pool WHERE criteria_key IN (SELECT jsonb_array_elements_text($1::jsonb))",
                                    [.text(try PGRecords.encode(changedKeys))]) {
                    pools.insert(try row.value(0, as: Int64.self))
                }
            }
            if !pools.isEmpty { try recountPools(Array(pools)) }
        case .pool:
            try deletePool(named: name)
        case .link, .credential, .service, .task:
            if try write("DELETE FROM \(kind.rawValue) WHERE name = $1 RETURNING id", [.text(name)]).isEmpty {
                throw StoreError.notFound("no \(noun) named '\(name)'")
            }
        }
    }
}
