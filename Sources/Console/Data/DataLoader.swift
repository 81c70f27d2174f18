import Foundation
import GRDB
import GRDBSQLite
import Store

/// What a view shows.
public enum ViewContent: Hashable, Sendable {
    case table(TableKind, Scope?)
    case workflow(String)
    case document(DocumentSource)
    case runLog(Int64)
    case help
}

/// What a drilled-down table is restricted to.
public enum Scope: Hashable, Sendable {
    case pool(String)
    case device(String)
    case run(Int64)
}

/// A text shown in the text view.
public enum DocumentSource: Hashable, Sendable {
    case resultOutput(Int64)
    case config(Int64)
    case configDiff(Int64)
    case session(Int64)
}

/// A load the runtime runs on a background thread: a view's data (or the header's, view 0).
public struct LoadRequest: Sendable, Equatable {
    public var viewID: Int
    public var content: ViewContent?
    public var sort: SortOrder?
    public var filter: FilterExpression
    /// For a run log: the last sequence number held (nil on the first load: the log's last lines).
    public var afterSeq: Int64?
    /// Lines a log view holds at most.
    public var capacity: Int
    /// For a table's periodic refresh: the store's stamp at the last load. When the database files
    /// still carry it, nothing was written since and the load answers `.unchanged` without reading.
    public var unlessStamp: StoreStamp?

    public init(viewID: Int, content: ViewContent?, sort: SortOrder? = nil,
                filter: FilterExpression = FilterExpression(terms: []), afterSeq: Int64? = nil, capacity: Int = 10_000) {
        self.viewID = viewID; self.content = content; self.sort = sort; self.filter = filter
        self.afterSeq = afterSeq; self.capacity = capacity
    }
}

/// A table with its rows already sorted and filtered the way the view asked, off the input thread.
public struct PreparedTable: Sendable {
    public var data: TableData
    public var sort: SortOrder?
    public var filter: FilterExpression
    public var order: [Int32]
    public var visible: [Int32]
    /// The store's stamp taken before the read (a write during it shows as a newer stamp next time).
    public var stamp: StoreStamp? = nil
}

/// The database file and its WAL as seen from outside: sizes and modification times. Every commit
/// in WAL mode appends to the WAL and every checkpoint writes the file, so an equal stamp means
/// nothing was written in between; a refresh of 80,000 unchanged rows then costs two `stat`s
/// instead of a read, a second copy of the table in memory and a diff.
public struct StoreStamp: Sendable, Equatable {
    public var values: [Int64]

    public static func of(databasePath path: String) -> StoreStamp? {
        var values: [Int64] = []
        for file in [path, path + "-wal"] {
            var st = stat()
            if stat(file, &st) != 0 {
                if file == path { return nil }
                values += [-1, -1, -1]
                continue
            }
            values += [Int64(st.st_size), Int64(st.st_mtim.tv_sec), Int64(st.st_mtim.tv_nsec)]
        }
        return StoreStamp(values: values)
    }
}

/// What a load brought back.
public enum LoadResult: Sendable {
    case table(PreparedTable)
    case workflow(WorkflowGraph)
    case document(title: String, lines: [LogLine], skipped: Int)
    case runLog(RunSummary?, lines: [LogLine], skipped: Int)
    case header(HeaderInfo)
    /// Nothing was written to the store since the view's last load (its `unlessStamp`).
    case unchanged
    case failure(String)
}

/// Reads the store into plain row models, in read transactions (never blocking the engine).
public struct DataLoader: Sendable {
    public let database: AppDatabase
    public let properties: DeviceProperties
    public var user: String

    public init(database: AppDatabase, properties: DeviceProperties, user: String = DataLoader.currentUser()) {
        self.database = database; self.properties = properties; self.user = user
    }

    /// The operating system's user (the effective uid's name, not `$USER`): what runs, sessions
    /// and the change log record, as the CLI does.
    public static func currentUser() -> String { OSUser.name }

    public func load(_ request: LoadRequest) -> LoadResult {
        do {
            guard let content = request.content else { return .header(try header()) }
            switch content {
            case .table(let kind, let scope):
                let stamp = StoreStamp.of(databasePath: database.path)
                if let stamp, stamp == request.unlessStamp { return .unchanged }
                let data = try table(kind, scope: scope)
                let order = data.sortedOrder(request.sort)
                let filter = try? CompiledFilter(request.filter, for: data)
                return .table(PreparedTable(data: data, sort: request.sort, filter: request.filter, order: order,
                                            visible: data.filtered(order, by: filter), stamp: stamp))
            case .workflow(let name):
                return .workflow(try workflow(name))
            case .document(let source):
                let (title, lines) = try document(source)
                let skipped = max(0, lines.count - request.capacity)
                return .document(title: title, lines: Array(lines.suffix(request.capacity)), skipped: skipped)
            case .runLog(let id):
                return try runLog(id, after: request.afterSeq, capacity: request.capacity)
            case .help:
                return .failure("nothing to load")
            }
        } catch {
            return .failure(AppDatabase.describe(error))
        }
    }

    // MARK: header

    /// Running and queued runs (one indexed query) and the engine lock's holder (one `flock` probe).
    func header() throws -> HeaderInfo {
        let (running, queued) = try database.writer.read { db -> (Int, Int) in
            let row = try Row.fetchOne(db, sql: """
                SELECT COALESCE(SUM(status = 'running'), 0) AS running, COALESCE(SUM(status = 'queued'), 0) AS queued
                FROM run WHERE status IN ('running', 'queued')
                """)
            return (row?["running"] ?? 0, row?["queued"] ?? 0)
        }
        let pid = EngineLock.holder(databasePath: database.path)
        return HeaderInfo(database: (database.path as NSString).lastPathComponent, user: user,
                          engine: pid.map { String($0) } ?? "off", running: running, enginePid: pid, queued: queued)
    }

    // MARK: tables

    static let deviceFields = ["id", "name", "address", "port", "platform", "vendor", "model", "os_version",
                               "category", "location", "description", "jump", "last_run_status", "last_run_time",
                               "last_backup_status", "last_backup_time", "reachable", "last_reachability_time"]
    static let serviceFields = ["id", "name", "kind", "description", "devices", "pools", "target_filter",
                                "run_method", "max_processes", "retries", "retry_delay", "timeout", "credential",
                                "conversion", "created_at", "updated_at", "traversal", "max_node_runs"]

    public func table(_ kind: TableKind, scope: Scope?) throws -> TableData {
        let columns = kind.columns(properties).map(\.property)
        return try database.writer.read { db -> TableData in
            switch kind {
            case .devices: return try devices(db, scope: scope)
            case .links:
                let rows = try Inventory.links(db).map { l in
                    TableRow(id: l.name, values: [String(l.id), l.name, l.source, l.destination, l.description])
                }
                return TableData(kind: kind, fields: ["id", "name", "source", "destination", "description"],
                                 searchable: columns, rows: rows)
            case .pools:
                let rows = try Inventory.pools(db).map { p in
                    TableRow(id: p.name, values: [String(p.id ?? 0), p.name, p.description,
                                                  DataLoader.criteriaText(p.criteria), String(p.memberCount)])
                }
                return TableData(kind: kind, fields: ["id", "name", "description", "criteria", "member_count"],
                                 searchable: columns, rows: rows)
            case .credentials:
                // Never the secret, the key material or the enable secret: not even loaded into a row.
                let rows = try Inventory.credentials(db).map { c in
                    TableRow(id: c.name, values: [String(c.id ?? 0), c.name, c.description, c.username,
                                                  c.secretKind.rawValue, c.keyFile, c.role.rawValue,
                                                  String(c.priority), c.pools.joined(separator: ", ")])
                }
                return TableData(kind: kind, fields: ["id", "name", "description", "username", "secret_kind",
                                                      "key_file", "role", "priority", "pools"],
                                 searchable: columns, rows: rows)
            case .services, .workflows:
                let rows = try Inventory.services(db, workflows: kind == .workflows).map { s in
                    TableRow(id: s.name, values: [
                        String(s.id ?? 0), s.name, s.kind.rawValue, s.description, s.devices.joined(separator: ", "),
                        s.pools.joined(separator: ", "), s.targetFilter, s.runMethod.rawValue, String(s.maxProcesses),
                        String(s.retries), DataLoader.number(s.retryDelay), DataLoader.number(s.timeout), s.credential,
                        s.conversion, Formats.date(s.createdAt), Formats.date(s.updatedAt), s.traversal,
                        String(s.maxNodeRuns),
                    ])
                }
                return TableData(kind: kind, fields: DataLoader.serviceFields, searchable: columns, rows: rows)
            case .runs:
                let runs = try Run.fetchAll(db, sql: "SELECT * FROM run ORDER BY id DESC")
                let now = Date()
                let rows = runs.map { r in
                    TableRow(id: String(r.id ?? 0), values: [
                        String(r.id ?? 0), r.serviceName, r.trigger.rawValue, r.user, r.status.rawValue,
                        DataLoader.progress(r), String(r.progressDone), String(r.progressTotal),
                        String(r.progressFailed), Formats.date(r.createdAt), Formats.date(r.startedAt),
                        Formats.date(r.endedAt), Formats.duration(from: r.startedAt, to: r.endedAt, now: now),
                        r.enginePid.map { String($0) } ?? "", r.reason, r.restartOf.map { String($0) } ?? "",
                        r.taskId.map { String($0) } ?? "",
                    ])
                }
                return TableData(kind: kind, fields: ["id", "service_name", "trigger", "user", "status", "progress",
                                                      "progress_done", "progress_total", "progress_failed",
                                                      "created_at", "started_at", "ended_at", "duration",
                                                      "engine_pid", "reason", "restart_of", "task_id"],
                                 searchable: columns, rows: rows)
            case .tasks:
                let names = Dictionary(try Row.fetchAll(db, sql: "SELECT id, name FROM service").map {
                    (($0["id"] as Int64), ($0["name"] as String))
                }, uniquingKeysWith: { a, _ in a })
                let rows = try Inventory.tasks(db).map { t in
                    TableRow(id: t.name, values: [
                        String(t.id ?? 0), t.name, t.description, t.serviceId.flatMap { names[$0] } ?? "",
                        t.scheduleKind.rawValue,
                        Formats.schedule(kind: t.scheduleKind.rawValue, interval: t.intervalSeconds, cron: t.cron, start: t.startDate),
                        t.intervalSeconds.map { String($0) } ?? "", t.cron, Formats.date(t.startDate),
                        Formats.date(t.endDate), t.active ? "yes" : "no", t.devices.joined(separator: ", "),
                        t.pools.joined(separator: ", "), t.timezone, t.misfirePolicy.rawValue,
                        String(t.misfireGraceSeconds), String(t.maxInstances), Formats.date(t.nextFire),
                        Formats.date(t.lastFire), t.lastRunId.map { String($0) } ?? "", t.lastRunStatus ?? "",
                    ])
                }
                return TableData(kind: kind, fields: ["id", "name", "description", "service", "schedule_kind",
                                                      "schedule", "interval_seconds", "cron", "start_date",
                                                      "end_date", "active", "devices", "pools", "timezone",
                                                      "misfire_policy", "misfire_grace_seconds", "max_instances",
                                                      "next_fire", "last_fire", "last_run_id", "last_run_status"],
                                 searchable: columns, rows: rows)
            case .sessions:
                var sql = "SELECT id, device_name, user, started_at, ended_at, bytes_in, bytes_out, width, height, end_reason FROM session"
                var args: StatementArguments = []
                if case .device(let name)? = scope { sql += " WHERE device_name = ?"; args = [name] }
                sql += " ORDER BY id DESC"
                let now = Date()
                let rows = try Row.fetchAll(db, sql: sql, arguments: args).map { r -> TableRow in
                    let id: Int64 = r["id"]
                    let started: Date? = r["started_at"], ended: Date? = r["ended_at"]
                    return TableRow(id: String(id), values: [
                        String(id), r["device_name"], r["user"], Formats.date(started), Formats.date(ended),
                        Formats.duration(from: started, to: ended, now: now), String(r["bytes_in"] as Int),
                        String(r["bytes_out"] as Int), String(r["width"] as Int), String(r["height"] as Int),
                        r["end_reason"],
                    ])
                }
                return TableData(kind: kind, fields: ["id", "device_name", "user", "started_at", "ended_at", "duration",
                                                      "bytes_in", "bytes_out", "width", "height", "end_reason"],
                                 searchable: columns, rows: rows)
            case .config:
                var sql = """
                    SELECT c.id, c.device_id, d.name AS device_name, c.created_at, c.run_id, c.sha256,
                           length(CAST(c.content AS BLOB)) AS size
                    FROM config_snapshot c JOIN device d ON d.id = c.device_id
                    """
                var args: StatementArguments = []
                if case .device(let name)? = scope { sql += " WHERE d.name = ?"; args = [name] }
                sql += " ORDER BY c.created_at DESC, c.id DESC"
                let rows = try Row.fetchAll(db, sql: sql, arguments: args).map { r -> TableRow in
                    let id: Int64 = r["id"]
                    let runId: Int64? = r["run_id"]
                    return TableRow(id: String(id), values: [
                        String(id), String(r["device_id"] as Int64), r["device_name"],
                        Formats.date(r["created_at"] as Date?), runId.map { String($0) } ?? "", r["sha256"],
                        String(r["size"] as Int),
                    ])
                }
                return TableData(kind: kind, fields: ["id", "device_id", "device_name", "created_at", "run_id",
                                                      "sha256", "size"],
                                 searchable: columns, rows: rows)
            case .results:
                var sql = "SELECT id, run_id, service_name, device_name, success, duration_ms, attempts, created_at FROM result"
                var args: StatementArguments = []
                switch scope {
                case .run(let id)?: sql += " WHERE run_id = ?"; args = [id]
                case .device(let name)?: sql += " WHERE device_name = ?"; args = [name]
                default: break
                }
                sql += " ORDER BY id DESC"
                let rows = try Row.fetchAll(db, sql: sql, arguments: args).map { r -> TableRow in
                    let id: Int64 = r["id"]
                    let ok: Bool = r["success"]
                    return TableRow(id: String(id), values: [
                        String(id), String(r["run_id"] as Int64), r["service_name"], r["device_name"],
                        ok ? "success" : "failed", Formats.duration(seconds: Double(r["duration_ms"] as Int) / 1000),
                        String(r["duration_ms"] as Int), String(r["attempts"] as Int),
                        Formats.date(r["created_at"] as Date?),
                    ])
                }
                return TableData(kind: kind, fields: ["id", "run_id", "service_name", "device_name", "status",
                                                      "duration", "duration_ms", "attempts", "created_at"],
                                 searchable: ["device_name", "service_name", "status"], rows: rows)
            }
        }
    }

    /// The device table, read column by column from one cursor (no `Device` records: at 80,000 rows,
    /// decoding records by column name was most of the console's start time).
    private func devices(_ db: Database, scope: Scope?) throws -> TableData {
        var wanted: MemberSet?
        if case .pool(let name)? = scope {
            guard let id = try Int64.fetchOne(db, sql: "SELECT id FROM pool WHERE name = ?", arguments: [name]) else {
                throw StoreError.notFound("no pool named '\(name)'")
            }
            wanted = MemberSet(try PoolMembership.memberIds(db, poolId: id))
        }
        // Columns in the order of `deviceFields`, then the properties JSON. Values are read straight
        // off the SQLite statement (GRDB steps it and reports errors): going through `Row`
        // subscripts cost about 2 µs a row, most of the console's start time at 80,000 devices.
        let statement = try db.makeStatement(sql: """
            SELECT id, name, address, port, platform, vendor, model, os_version, category, location, description,
                   jump, last_run_status, last_run_time, last_backup_status, last_backup_time, reachable,
                   last_reachability_time, properties
            FROM device ORDER BY name
            """)
        let cursor = try Row.fetchCursor(statement)
        let raw = statement.sqliteStatement
        func text(_ i: Int32) -> String {
            guard let p = sqlite3_column_text(raw, i) else { return "" }
            return String(decoding: UnsafeBufferPointer(start: p, count: Int(sqlite3_column_bytes(raw, i))), as: UTF8.self)
        }
        func date(_ i: Int32) -> String {
            if sqlite3_column_type(raw, i) == SQLITE_NULL { return "" }
            return Formats.date(Date.fromDatabaseValue(DatabaseValue(sqliteStatement: raw, index: i)))
        }
        var rows: [TableRow] = []
        rows.reserveCapacity(wanted?.count ?? 1024)
        var custom: [(row: Int, properties: [String: JSONValue])] = []
        var keys = Set(properties.properties.map(\.name))
        while try cursor.next() != nil {
            let id = sqlite3_column_int64(raw, 0)
            if let wanted, !wanted.contains(id) { continue }
            let reachable = sqlite3_column_type(raw, 16) == SQLITE_NULL ? "" : (sqlite3_column_int64(raw, 16) != 0 ? "yes" : "no")
            var values: [String] = []
            values.reserveCapacity(DataLoader.deviceFields.count)
            values.append(String(id))
            values.append(text(1)); values.append(text(2))
            values.append(String(sqlite3_column_int64(raw, 3)))
            for i in Int32(4)...12 { values.append(text(i)) }
            values.append(date(13)); values.append(text(14)); values.append(date(15))
            values.append(reachable); values.append(date(17))
            if sqlite3_column_bytes(raw, 18) > 2 {
                let json = text(18)
                if let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any], !object.isEmpty {
                    let props = object.mapValues { JSONValue(any: $0) }
                    keys.formUnion(props.keys)
                    custom.append((rows.count, props))
                }
            }
            rows.append(TableRow(id: values[1], values: values))
        }
        let extra = keys.subtracting(DataLoader.deviceFields).sorted()
        if !extra.isEmpty {
            for i in rows.indices { rows[i].values.append(contentsOf: repeatElement("", count: extra.count)) }
            let base = DataLoader.deviceFields.count
            for (i, props) in custom {
                for (k, p) in extra.enumerated() { if let v = props[p] { rows[i].values[base + k] = v.description } }
            }
        }
        return TableData(kind: .devices, fields: DataLoader.deviceFields + extra,
                         aliases: ["ip_address": "address", "operating_system": "platform"],
                         searchable: ["name", "address", "platform", "vendor", "model", "category", "location", "description"],
                         rows: rows)
    }

    static func criteriaText(_ criteria: [PoolCriterion]) -> String {
        criteria.filter(\.isActive).map { c in
            let op: String
            switch c.match {
            case .inclusion: op = c.invert ? " not contains " : " contains "
            case .equality: op = c.invert ? "!=" : "="
            case .regex: op = c.invert ? "!~" : "~"
            case .empty: return c.property + (c.invert ? " not empty" : " empty")
            }
            return c.property + op + c.value
        }.joined(separator: ", ")
    }

    static func number(_ d: Double) -> String {
        d.rounded() == d && abs(d) < 1e15 ? String(Int(d)) : String(d)
    }

    static func progress(_ r: Run) -> String {
        guard r.progressTotal > 0 || r.progressDone > 0 else { return "" }
        var s = "\(r.progressDone)/\(r.progressTotal)"
        if r.progressFailed > 0 { s += " \(r.progressFailed)✗" }
        return s
    }

    // MARK: workflow graph

    func workflow(_ name: String) throws -> WorkflowGraph {
        try database.writer.read { db in
            guard let wf = try Inventory.service(db, named: name), let wid = wf.id else {
                throw StoreError.notFound("no workflow named '\(name)'")
            }
            let kinds = Dictionary(try Row.fetchAll(db, sql: "SELECT id, name, kind FROM service").map {
                (($0["id"] as Int64), (($0["name"] as String), ($0["kind"] as String)))
            }, uniquingKeysWith: { a, _ in a })
            let nodes = try Inventory.workflowNodes(db, workflowId: wid).map { n in
                WorkflowGraph.Node(id: n.serviceId, name: kinds[n.serviceId]?.0 ?? "#\(n.serviceId)",
                                   kind: kinds[n.serviceId]?.1 ?? "?", isStart: n.isStart)
            }
            let edges = try Inventory.workflowEdges(db, workflowId: wid).map { e in
                WorkflowGraph.Edge(source: e.sourceId, destination: e.destinationId, success: e.subtype == .success)
            }
            return WorkflowGraph(name: name, nodes: nodes, edges: edges)
        }
    }

    // MARK: documents

    /// Splits text into lines: `\n`, `\r\n` and a lone `\r` (a progress bar redrawing itself) all end one.
    public static func splitLines(_ text: String) -> [String] {
        var lines: [String] = []
        var current = String.UnicodeScalarView()
        var lastWasCR = false
        for s in text.unicodeScalars {
            if s == "\n" {
                if !lastWasCR { lines.append(String(current)); current = String.UnicodeScalarView() }
                lastWasCR = false
            } else if s == "\r" {
                lines.append(String(current)); current = String.UnicodeScalarView()
                lastWasCR = true
            } else {
                current.append(s)
                lastWasCR = false
            }
        }
        if !current.isEmpty { lines.append(String(current)) }
        return lines
    }

    static func plain(_ text: String) -> [LogLine] {
        splitLines(text).enumerated().map { LogLine(seq: Int64($0.offset), text: $0.element) }
    }

    func document(_ source: DocumentSource) throws -> (String, [LogLine]) {
        try database.writer.read { db in
            switch source {
            case .resultOutput(let id):
                guard let r = try Row.fetchOne(db, sql: "SELECT device_name, service_name, success, output FROM result WHERE id = ?", arguments: [id]) else {
                    throw StoreError.notFound("result \(id) no longer exists")
                }
                let device: String = r["device_name"]
                let title = "output of \(r["service_name"] as String)" + (device.isEmpty ? "" : " on \(device)")
                return (title, DataLoader.plain(r["output"]))
            case .config(let id):
                guard let r = try Row.fetchOne(db, sql: "SELECT c.content, c.created_at, d.name FROM config_snapshot c JOIN device d ON d.id = c.device_id WHERE c.id = ?", arguments: [id]) else {
                    throw StoreError.notFound("configuration \(id) no longer exists")
                }
                return ("configuration of \(r["name"] as String) saved \(Formats.date(r["created_at"] as Date?))", DataLoader.plain(r["content"]))
            case .configDiff(let id):
                guard let r = try Row.fetchOne(db, sql: "SELECT c.device_id, c.content, c.created_at, d.name FROM config_snapshot c JOIN device d ON d.id = c.device_id WHERE c.id = ?", arguments: [id]) else {
                    throw StoreError.notFound("configuration \(id) no longer exists")
                }
                let device: Int64 = r["device_id"]
                let created: Date = r["created_at"]
                let previous = try Row.fetchOne(db, sql: """
                    SELECT id, content, created_at FROM config_snapshot
                    WHERE device_id = ? AND (created_at < ? OR (created_at = ? AND id < ?))
                    ORDER BY created_at DESC, id DESC LIMIT 1
                    """, arguments: [device, created, created, id])
                let name: String = r["name"]
                guard let previous else {
                    return ("configuration of \(name): first version, nothing to compare", DataLoader.plain(r["content"]))
                }
                let old = DataLoader.splitLines(previous["content"]), new = DataLoader.splitLines(r["content"])
                var lines = [LogLine(seq: 0, text: "--- version \(previous["id"] as Int64) (\(Formats.date(previous["created_at"] as Date?)))", role: .diffHeader),
                             LogLine(seq: 1, text: "+++ version \(id) (\(Formats.date(created)))", role: .diffHeader)]
                for (i, d) in LineDiff.diff(old, new).enumerated() {
                    switch d {
                    case .same(let t): lines.append(LogLine(seq: Int64(i + 2), text: "  " + t, role: .diffContext))
                    case .added(let t): lines.append(LogLine(seq: Int64(i + 2), text: "+ " + t, role: .diffAdded))
                    case .removed(let t): lines.append(LogLine(seq: Int64(i + 2), text: "- " + t, role: .diffRemoved))
                    }
                }
                return ("changes to \(name)", lines)
            case .session(let id):
                guard let r = try Row.fetchOne(db, sql: "SELECT device_name, user, transcript FROM session WHERE id = ?", arguments: [id]) else {
                    throw StoreError.notFound("session \(id) no longer exists")
                }
                return ("session \(id): \(r["user"] as String) on \(r["device_name"] as String)",
                        DataLoader.plain(DataLoader.transcriptOutput(r["transcript"])))
            }
        }
    }

    /// The output of an asciicast v2 transcript (`[time, "o", data]` lines after a header); a
    /// transcript in any other form is shown as it is.
    static func transcriptOutput(_ transcript: String) -> String {
        var out = ""
        var sawEvent = false
        for (i, line) in transcript.split(separator: "\n", omittingEmptySubsequences: true).enumerated() {
            if i == 0 && line.hasPrefix("{") { continue }
            guard line.hasPrefix("["),
                  let array = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [Any], array.count >= 3,
                  let kind = array[1] as? String, let data = array[2] as? String else {
                if !sawEvent { return transcript }
                continue
            }
            sawEvent = true
            if kind == "o" { out += data }
        }
        return sawEvent ? out : transcript
    }

    // MARK: run log

    func runLog(_ id: Int64, after: Int64?, capacity: Int) throws -> LoadResult {
        try database.writer.read { db in
            let summary = try Row.fetchOne(db, sql: "SELECT id, service_name, status, progress_done, progress_total, progress_failed, started_at, ended_at FROM run WHERE id = ?", arguments: [id]).map { r in
                RunSummary(id: r["id"], service: r["service_name"], status: r["status"], done: r["progress_done"],
                           total: r["progress_total"], failed: r["progress_failed"], startedAt: r["started_at"],
                           endedAt: r["ended_at"])
            }
            var rows: [Row]
            var skipped = 0
            if let after {
                rows = try Row.fetchAll(db, sql: "SELECT seq, time, level, device, service, message FROM run_log WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?",
                                        arguments: [id, after, capacity + 1])
                if rows.count > capacity {
                    // More arrived than the view holds: count what lies between, keep the end.
                    let total = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM run_log WHERE run_id = ? AND seq > ?", arguments: [id, after]) ?? 0
                    rows = try Row.fetchAll(db, sql: "SELECT seq, time, level, device, service, message FROM run_log WHERE run_id = ? AND seq > ? ORDER BY seq DESC LIMIT ?",
                                            arguments: [id, after, capacity]).reversed()
                    skipped = total - rows.count
                }
            } else {
                rows = try Row.fetchAll(db, sql: "SELECT seq, time, level, device, service, message FROM run_log WHERE run_id = ? ORDER BY seq DESC LIMIT ?",
                                        arguments: [id, capacity]).reversed()
                if rows.count == capacity {
                    let total = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM run_log WHERE run_id = ?", arguments: [id]) ?? 0
                    skipped = total - rows.count
                }
            }
            let lines = rows.map { r in
                LogLine(seq: r["seq"], time: r["time"], level: RunLogLine.Level(rawValue: r["level"]) ?? .info,
                        device: r["device"], text: r["message"])
            }
            return .runLog(summary, lines: lines, skipped: skipped)
        }
    }
}

/// A line diff (Myers' algorithm, O((N+M)·D)): what the configuration diff view shows.
public enum LineDiff {
    public enum Line: Equatable, Sendable {
        case same(String), added(String), removed(String)
    }

    public static func diff(_ a: [String], _ b: [String]) -> [Line] {
        let n = a.count, m = b.count
        if n + m == 0 { return [] }
        // Very different files: beyond this many edits, show "all removed, all added".
        let budget = min(n + m, 2000)
        let offset = budget + 1
        var v = [Int](repeating: 0, count: 2 * budget + 3)
        // trace[d]: v before round d, indexes -d-1 … d+1 (stored from 0).
        var trace: [[Int]] = []
        var final = -1
        outer: for d in 0...budget {
            trace.append(Array(v[(offset - d - 1)...(offset + d + 1)]))
            var k = -d
            while k <= d {
                var x = (k == -d || (k != d && v[offset + k - 1] < v[offset + k + 1])) ? v[offset + k + 1] : v[offset + k - 1] + 1
                var y = x - k
                while x < n && y < m && a[x] == b[y] { x += 1; y += 1 }
                v[offset + k] = x
                if x >= n && y >= m { final = d; break outer }
                k += 2
            }
        }
        if final < 0 { return a.map { .removed($0) } + b.map { .added($0) } }
        var out: [Line] = []
        var x = n, y = m
        for d in stride(from: final, through: 0, by: -1) {
            let vd = trace[d]
            func at(_ k: Int) -> Int { vd[k + d + 1] }
            let k = x - y
            let prevK = (k == -d || (k != d && at(k - 1) < at(k + 1))) ? k + 1 : k - 1
            let prevX = d == 0 ? 0 : at(prevK)
            let prevY = d == 0 ? 0 : prevX - prevK
            while x > prevX && y > prevY { out.append(.same(a[x - 1])); x -= 1; y -= 1 }
            if d > 0 {
                if x == prevX { out.append(.added(b[y - 1])); y -= 1 } else { out.append(.removed(a[x - 1])); x -= 1 }
            }
        }
        return out.reversed()
    }
}
