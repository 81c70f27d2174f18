import Foundation
import PostgresNIO
import Store

/// The PostgreSQL backend's executor: `StoreReader` and `StoreTransaction` in SQL on one connection,
/// inside the snapshot or transaction `PostgresBackend` opened for it. The domain rules (run
/// preparation, stops, targets, the credential choice, pool criteria and member sets, the
/// configuration search) are Store's own, shared with SQLite; only the SQL is this backend's.
///
/// Names sort with `COLLATE "C"`: byte order, as SQLite's BINARY collation sorts them, whatever the
/// database's locale.
final class PostgresExecutor: StoreTransaction {
    let connection: PGConnection
    let columns: [String: [String]]
    /// Whether the transaction wrote anything: only then does its commit notify listeners.
    var wrote = false
    var savepointDepth = 0
    /// The backend, in a read (`inSnapshot`): where a read that spreads over two connections borrows the second.
    var backend: PostgresBackend?

    init(connection: PGConnection, columns: [String: [String]]) {
        self.connection = connection
        self.columns = columns
    }

    // MARK: SQL helpers

    @discardableResult
    func read(_ sql: String, _ values: [PGValue] = []) throws -> [PostgresRow] { try connection.query(sql, values) }

    @discardableResult
    func write(_ sql: String, _ values: [PGValue] = []) throws -> [PostgresRow] {
        wrote = true
        return try connection.query(sql, values)
    }

    /// The table's columns aliased to the records' keys.
    func selectList(_ table: String) -> String {
        (columns[table] ?? []).map { column in
            // `result.rows` is jsonb here but a JSON string in the record (as SQLite stores it).
            let expression = table == "result" && column == "rows" ? "\(table).\"rows\"::text" : "\(table).\"\(column)\""
            return "\(expression) AS \"\(PGRecords.camel(column))\""
        }.joined(separator: ", ")
    }

    /// Records of `table` (`tail`: WHERE, ORDER BY, LIMIT), in one round trip.
    func list<T: Decodable>(_ type: T.Type, _ table: String, _ tail: String = "", _ values: [PGValue] = [],
                            extra: String = "") throws -> [T] {
        let json = try listJSON(table, tail, values, extra: extra)
        return try PGRecords.decodeList(T.self, json: json)
    }

    func listJSON(_ table: String, _ tail: String, _ values: [PGValue], extra: String = "") throws -> String {
        let sql = "SELECT COALESCE(json_agg(t), '[]')::text FROM (SELECT \(selectList(table))\(extra) FROM \(table) \(tail)) t"
        return try read(sql, values).first?.value(0, as: String?.self) ?? "[]"
    }

    func one<T: Decodable>(_ type: T.Type, _ table: String, _ tail: String, _ values: [PGValue]) throws -> T? {
        try list(type, table, tail + " LIMIT 1", values).first
    }

    func strings(_ sql: String, _ values: [PGValue] = []) throws -> [String] {
        try read(sql, values).map { try $0.value(0, as: String.self) }
    }

    func int(_ sql: String, _ values: [PGValue] = []) throws -> Int64? {
        try read(sql, values).first?.value(0, as: Int64?.self) ?? nil
    }

    func bool(_ sql: String, _ values: [PGValue] = []) throws -> Bool {
        try read(sql, values).first?.value(0, as: Bool?.self) ?? false
    }

    /// A name column by id, as two JSON arrays in one value (cell-by-cell decoding of 80,000 rows took seconds).
    func names(table: String, column: String) throws -> [Int64: String] {
        struct Columns: Decodable { var i: [Int64]; var n: [String] }
        let json = try read("""
            SELECT json_build_object('i', COALESCE(array_agg(id), '{}'), 'n', COALESCE(array_agg("\(column)"), '{}'))::text FROM \(table)
            """).first?.value(0, as: String.self) ?? #"{"i":[],"n":[]}"#
        let columns = try JSONDecoder().decode(Columns.self, from: Data(json.utf8))
        return Dictionary(zip(columns.i, columns.n), uniquingKeysWith: { a, _ in a })
    }

    /// The record's JSON (parameter `p`) re-keyed to the table's column names, column by column: a
    /// fixed expression per table, cheaper than renaming keys with a regex per row.
    func snakeObject(_ table: String, _ p: String) -> String {
        let pairs = (columns[table] ?? []).filter { $0 != "id" }.map { "'\($0)', \(p)::jsonb -> '\(PGRecords.camel($0))'" }
        // jsonb_build_object takes at most 100 arguments: 50 columns, more than any table has.
        return "jsonb_build_object(\(pairs.joined(separator: ", ")))"
    }

    /// Inserts a record through its JSON; returns the new id.
    func insert<T: Encodable>(_ record: T, into table: String) throws -> Int64 {
        let list = (columns[table] ?? []).filter { $0 != "id" }.map { "\"\($0)\"" }.joined(separator: ", ")
        let rows = try write("INSERT INTO \(table) (\(list)) SELECT \(list) FROM jsonb_populate_record(NULL::\(table), \(snakeObject(table, "$1"))) RETURNING id",
                             [.text(try PGRecords.encode(record))])
        return try rows.first?.value(0, as: Int64.self) ?? 0
    }

    /// Updates every column of a record but its id.
    func update<T: Encodable>(_ record: T, in table: String, id: Int64) throws {
        let list = (columns[table] ?? []).filter { $0 != "id" }.map { "\"\($0)\"" }.joined(separator: ", ")
        try write("UPDATE \(table) SET (\(list)) = (SELECT \(list) FROM jsonb_populate_record(NULL::\(table), \(snakeObject(table, "$1")))) WHERE id = $2",
                  [.text(try PGRecords.encode(record)), .int(Int(id))])
    }

    static func idList(_ ids: [Int64]) -> String { ids.map(String.init).joined(separator: ",") }

    // MARK: devices

    func device(named name: String) throws -> Device? { try one(Device.self, "device", "WHERE name = $1", [.text(name)]) }
    func device(id: Int64) throws -> Device? { try one(Device.self, "device", "WHERE id = $1", [.int(Int(id))]) }

    /// A filter's meaning is the Swift evaluator's (`FilterExpression.matches`, the same
    /// `Device.value(of:)` and regex engine the pools use). The server narrows the devices first
    /// with `PostgresFilter`'s condition, which keeps every device the filter keeps (exact on plain
    /// text, permissive elsewhere); what it returns is evaluated in Swift again.
    func devices(filter: FilterExpression, knownProperties: Set<String>?) throws -> [Device] {
        try Inventory.checkFilterFields(filter, knownProperties: knownProperties)
        if filter.isEmpty { return try list(Device.self, "device", "ORDER BY name COLLATE \"C\"") }
        let condition = PostgresFilter.condition(filter)
        let candidates = try list(Device.self, "device", "WHERE \(condition.sql) ORDER BY name COLLATE \"C\"", condition.values)
        return candidates.filter { d in filter.matches(value: { d.value(of: $0) }, searchable: Inventory.deviceSearchFields) }
    }
    func devicePropertyNames() throws -> Set<String> {
        Set(try strings("SELECT DISTINCT jsonb_object_keys(properties) FROM device"))
    }
    func deviceNames() throws -> [Int64: String] { try names(table: "device", column: "name") }

    // MARK: links, pools

    func links() throws -> [LinkView] {
        let json = try read("""
            SELECT COALESCE(json_agg(t), '[]')::text FROM (
                SELECT link.id, link.name, s.name AS source, d.name AS destination, link.description, link.properties
                FROM link JOIN device s ON s.id = link.source_id JOIN device d ON d.id = link.destination_id
                ORDER BY link.name COLLATE "C") t
            """).first?.value(0, as: String.self) ?? "[]"
        return try PGRecords.decodeList(LinkView.self, json: json)
    }
    func pools() throws -> [Pool] { try list(Pool.self, "pool", "ORDER BY name COLLATE \"C\"") }
    func pool(named name: String) throws -> Pool? { try one(Pool.self, "pool", "WHERE name = $1", [.text(name)]) }

    func poolId(named name: String) throws -> Int64 {
        guard let id = try int("SELECT id FROM pool WHERE name = $1", [.text(name)]) else {
            throw StoreError.notFound("no pool named '\(name)'")
        }
        return id
    }

    /// A pool's members: its criteria set plus its manual devices.
    func memberSet(poolId: Int64) throws -> MemberSet {
        guard let key = try strings("SELECT criteria_key FROM pool WHERE id = $1", [.int(Int(poolId))]).first else { return MemberSet(sortedIds: []) }
        var set = MemberSet(sortedIds: [])
        if !key.isEmpty, let blob = try strings("SELECT encode(members, 'base64') FROM member_set WHERE criteria_key = $1", [.text(key)]).first {
            set = Self.decodeSet(blob)
        }
        for row in try read("SELECT device_id FROM pool_manual WHERE pool_id = $1", [.int(Int(poolId))]) {
            set.insert(try row.value(0, as: Int64.self))
        }
        return set
    }

    static func decodeSet(_ base64: String) -> MemberSet {
        MemberSet(encoded: Data(base64Encoded: base64.filter { !$0.isNewline }) ?? Data([0]))
    }

    func poolDevices(named name: String) throws -> [Device] {
        let wanted = try memberSet(poolId: try poolId(named: name))
        if wanted.count == 0 { return [] }
        // One pass over the devices, not a parameter per member (80,000 of them for a `.*` pool).
        return try list(Device.self, "device", "ORDER BY name COLLATE \"C\"").filter { wanted.contains($0.id!) }
    }
    func poolDeviceNames(named name: String) throws -> [String] {
        let wanted = try memberSet(poolId: try poolId(named: name))
        if wanted.count == 0 { return [] }
        // Ids and names as two JSON arrays in one value: decoding 80,000 rows cell by cell took seconds.
        struct Columns: Decodable { var i: [Int64]; var n: [String] }
        let json = try read("""
            SELECT json_build_object('i', COALESCE(array_agg(id ORDER BY name COLLATE "C"), '{}'),
                                     'n', COALESCE(array_agg(name ORDER BY name COLLATE "C"), '{}'))::text FROM device
            """).first?.value(0, as: String.self) ?? #"{"i":[],"n":[]}"#
        let columns = try JSONDecoder().decode(Columns.self, from: Data(json.utf8))
        var out: [String] = []
        out.reserveCapacity(wanted.count)
        for (id, name) in zip(columns.i, columns.n) where wanted.contains(id) { out.append(name) }
        return out
    }
    func manualDeviceNames(poolId: Int64) throws -> [String] {
        try strings("SELECT device.name FROM pool_manual JOIN device ON device.id = pool_manual.device_id WHERE pool_id = $1 ORDER BY device.name COLLATE \"C\"",
                    [.int(Int(poolId))])
    }
    func poolNames(deviceId: Int64) throws -> [String] {
        var keys: [String] = []
        for row in try read("SELECT criteria_key, encode(members, 'base64') FROM member_set")
        where Self.decodeSet(try row.value(1, as: String.self)).contains(deviceId) {
            keys.append(try row.value(0, as: String.self))
        }
        var names = Set<String>()
        if !keys.isEmpty {
            // The keys as one JSON array parameter: no statement per key, no quoting.
            names.formUnion(try strings("SELECT name FROM pool WHERE criteria_key IN (SELECT jsonb_array_elements_text($1::jsonb))",
                                        [.text(try PGRecords.encode(keys))]))
        }
        names.formUnion(try strings("SELECT pool.name FROM pool JOIN pool_manual ON pool_manual.pool_id = pool.id WHERE pool_manual.device_id = $1",
                                    [.int(Int(deviceId))]))
        return names.sorted()
    }

    // MARK: credentials

    func credentials() throws -> [Credential] { try list(Credential.self, "credential", "ORDER BY priority DESC, name COLLATE \"C\"") }
    func credential(named name: String) throws -> Credential? { try one(Credential.self, "credential", "WHERE name = $1", [.text(name)]) }
    func credential(for device: Device) throws -> Credential? { try Inventory.credentialChoice(self, for: device).credential }

    // MARK: services, workflows, tasks

    func services(workflows: Bool) throws -> [Service] {
        try list(Service.self, "service", "WHERE kind \(workflows ? "=" : "<>") 'workflow' ORDER BY name COLLATE \"C\"")
    }
    func service(named name: String) throws -> Service? { try one(Service.self, "service", "WHERE name = $1", [.text(name)]) }
    func service(id: Int64) throws -> Service? { try one(Service.self, "service", "WHERE id = $1", [.int(Int(id))]) }
    func serviceNames() throws -> [Int64: String] { try names(table: "service", column: "name") }
    func workflowNodes(workflowId: Int64) throws -> [WorkflowNode] {
        try list(WorkflowNode.self, "workflow_node", "WHERE workflow_id = $1 ORDER BY id", [.int(Int(workflowId))])
    }
    func workflowEdges(workflowId: Int64) throws -> [WorkflowEdge] {
        try list(WorkflowEdge.self, "workflow_edge", "WHERE workflow_id = $1 ORDER BY id", [.int(Int(workflowId))])
    }
    func workflowNodeCounts() throws -> [Int64: Int] {
        var out: [Int64: Int] = [:]
        for row in try read("SELECT workflow_id, count(*) FROM workflow_node GROUP BY workflow_id") {
            out[try row.value(0, as: Int64.self)] = Int(try row.value(1, as: Int64.self))
        }
        return out
    }
    func tasks() throws -> [ScheduledTask] { try list(ScheduledTask.self, "task", "ORDER BY name COLLATE \"C\"") }
    func task(named name: String) throws -> ScheduledTask? { try one(ScheduledTask.self, "task", "WHERE name = $1", [.text(name)]) }

    // MARK: runs, sessions

    func run(id: Int64) throws -> Run? { try one(Run.self, "run", "WHERE id = $1", [.int(Int(id))]) }
    func runs(ids: [Int64]) throws -> [Run] {
        if ids.isEmpty { return [] }
        return try list(Run.self, "run", "WHERE id IN (\(Self.idList(ids))) ORDER BY id")
    }
    func recentRuns(limit: Int) throws -> [Run] { try list(Run.self, "run", "ORDER BY id DESC LIMIT $1", [.int(limit)]) }
    func runUsers() throws -> [Int64: String] { try names(table: "run", column: "user") }
    func logLines(run id: Int64, after seq: Int64, device: String?, limit: Int) throws -> [RunLogLine] {
        if let device {
            return try list(RunLogLine.self, "run_log", "WHERE run_id = $1 AND seq > $2 AND device = $3 ORDER BY seq LIMIT $4",
                            [.int(Int(id)), .int(Int(seq)), .text(device), .int(limit)])
        }
        return try list(RunLogLine.self, "run_log", "WHERE run_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
                        [.int(Int(id)), .int(Int(seq)), .int(limit)])
    }
    func results(run id: Int64, device: String?) throws -> [RunResult] {
        if let device {
            return try list(RunResult.self, "result", "WHERE run_id = $1 AND device_name = $2 ORDER BY id", [.int(Int(id)), .text(device)])
        }
        return try list(RunResult.self, "result", "WHERE run_id = $1 ORDER BY id", [.int(Int(id))])
    }
    func lastLogSeq(run id: Int64) throws -> Int64 {
        try int("SELECT COALESCE(MAX(seq), 0)::bigint FROM run_log WHERE run_id = $1", [.int(Int(id))]) ?? 0
    }
    func failedDeviceNames(run id: Int64) throws -> [String] {
        try strings("SELECT DISTINCT device_name COLLATE \"C\" FROM result WHERE run_id = $1 AND NOT success AND device_name <> '' ORDER BY 1",
                    [.int(Int(id))])
    }
    func succeededDeviceNames(run id: Int64, service: String) throws -> [String] {
        try strings("SELECT device_name FROM result WHERE run_id = $1 AND service_name = $2 AND success ORDER BY id", [.int(Int(id)), .text(service)])
    }
    func stopRequests(among runs: [Int64]) throws -> [(run: Int64, reason: String)] {
        if runs.isEmpty { return [] }
        return try read("SELECT id, reason FROM run WHERE status = 'running' AND stop_requested AND id IN (\(Self.idList(runs))) ORDER BY id")
            .map { (run: try $0.value(0, as: Int64.self), reason: try $0.value(1, as: String.self)) }
    }
    func runsNoLongerOwned(among runs: [Int64], engineId: Int64) throws -> [(run: Int64, status: Run.Status)] {
        if runs.isEmpty { return [] }
        return try read("SELECT id, status FROM run WHERE (status <> 'running' OR engine_id IS DISTINCT FROM $1) AND id IN (\(Self.idList(runs))) ORDER BY id",
                        [.int(Int(engineId))])
            .map { (run: try $0.value(0, as: Int64.self), status: Run.Status(rawValue: try $0.value(1, as: String.self)) ?? .interrupted) }
    }
    func session(id: Int64) throws -> SessionRecord? { try one(SessionRecord.self, "session", "WHERE id = $1", [.int(Int(id))]) }
    func recentSessions(limit: Int) throws -> [SessionRecord] {
        try list(SessionRecord.self, "session", "ORDER BY id DESC LIMIT $1", [.int(limit)])
    }

    // MARK: configurations

    func configSnapshots(device name: String) throws -> [ConfigSnapshot] {
        guard let id = try device(named: name)?.id else { throw StoreError.notFound("no device named '\(name)'") }
        return try list(ConfigSnapshot.self, "config_snapshot", "WHERE device_id = $1 ORDER BY created_at DESC, id DESC", [.int(Int(id))])
    }
    func latestConfigSnapshot(deviceId: Int64) throws -> ConfigSnapshot? {
        try one(ConfigSnapshot.self, "config_snapshot", "WHERE device_id = $1 ORDER BY created_at DESC, id DESC", [.int(Int(deviceId))])
    }
    func allConfigSnapshots() throws -> [ConfigSnapshot] {
        try list(ConfigSnapshot.self, "config_snapshot", "ORDER BY created_at, id")
    }
    func searchConfigurations(pattern: ConfigSearch.Pattern, context: Int, devices: Set<Int64>?) throws -> ConfigSearch.Result {
        var result = ConfigSearch.Result.empty
        let rows = try read("""
            SELECT d.id, d.name, s.content FROM device d
            JOIN LATERAL (SELECT content FROM config_snapshot WHERE device_id = d.id ORDER BY created_at DESC, id DESC LIMIT 1) s ON true
            ORDER BY d.name COLLATE "C"
            """)
        for row in rows {
            if let devices, !devices.contains(try row.value(0, as: Int64.self)) { continue }
            ConfigSearch.add(device: try row.value(1, as: String.self), content: try row.value(2, as: String.self),
                             pattern: pattern, context: context, to: &result)
        }
        return result
    }

    // MARK: scheduler reads

    func hasUnscheduledActiveTask() throws -> Bool {
        try bool("SELECT EXISTS(SELECT 1 FROM task WHERE next_fire IS NULL AND active)")
    }
    func earliestNextFire() throws -> Date? {
        try read("SELECT next_fire FROM task WHERE next_fire IS NOT NULL AND active ORDER BY next_fire LIMIT 1").first?.value(0, as: Date?.self) ?? nil
    }
    func schedulerHasWork(now: Date) throws -> Bool {
        if try bool("SELECT EXISTS(SELECT 1 FROM task WHERE next_fire <= $1 AND active)", [.date(now)]) { return true }
        if try hasUnscheduledActiveTask() { return true }
        return try bool("""
            SELECT EXISTS(SELECT 1 FROM task JOIN run ON run.id = task.last_run_id
                          WHERE task.last_run_status IN ('queued', 'running') AND run.status <> task.last_run_status)
            """)
    }
}
