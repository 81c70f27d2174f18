import Foundation
import GRDB

/// What the console reads and changes, as domain functions returning plain records: the console
/// does not run SQL itself. Each read is one read transaction (never blocking the engine).
public struct ConsoleStore: Sendable {
    public let database: AppDatabase

    public init(database: AppDatabase) { self.database = database }

    // MARK: header

    /// Runs `running` and `queued` (one indexed query).
    public func activeRunCounts() throws -> (running: Int, queued: Int) {
        try database.writer.read { db in
            let row = try Row.fetchOne(db, sql: """
                SELECT COALESCE(SUM(status = 'running'), 0) AS running, COALESCE(SUM(status = 'queued'), 0) AS queued
                FROM run WHERE status IN ('running', 'queued')
                """)
            return (row?["running"] ?? 0, row?["queued"] ?? 0)
        }
    }

    // MARK: inventory tables

    public func links() throws -> [LinkView] { try database.writer.read { db in try Inventory.links(db) } }
    public func pools() throws -> [Pool] { try database.writer.read { db in try Inventory.pools(db) } }
    public func credentials() throws -> [Credential] { try database.writer.read { db in try Inventory.credentials(db) } }
    public func services(workflows: Bool) throws -> [Service] {
        try database.writer.read { db in try Inventory.services(db, workflows: workflows) }
    }

    /// A task with the name of the service it runs ("" when it has none).
    public struct TaskListing: Sendable {
        public var task: ScheduledTask
        public var serviceName: String
    }

    public func tasks() throws -> [TaskListing] {
        try database.writer.read { db in
            let names = try Self.serviceNames(db)
            return try Inventory.tasks(db).map { TaskListing(task: $0, serviceName: $0.serviceId.flatMap { names[$0] } ?? "") }
        }
    }

    static func serviceNames(_ db: Database) throws -> [Int64: String] {
        Dictionary(try Row.fetchAll(db, sql: "SELECT id, name FROM service").map {
            (($0["id"] as Int64), ($0["name"] as String))
        }, uniquingKeysWith: { a, _ in a })
    }

    // MARK: runs, results, sessions, configurations

    /// Every run, newest first.
    public func runs() throws -> [Run] {
        try database.writer.read { db in try Run.fetchAll(db, sql: "SELECT * FROM run ORDER BY id DESC") }
    }

    /// A result without its output (the table never shows it).
    public struct ResultSummary: Sendable {
        public var id: Int64, runId: Int64
        public var serviceName: String, deviceName: String
        public var success: Bool
        public var durationMs: Int, attempts: Int
        public var createdAt: Date?
    }

    /// Results, newest first, of one run or one device (or all).
    public func results(run: Int64? = nil, device: String? = nil) throws -> [ResultSummary] {
        var sql = "SELECT id, run_id, service_name, device_name, success, duration_ms, attempts, created_at FROM result"
        var args: StatementArguments = []
        if let run { sql += " WHERE run_id = ?"; args = [run] } else if let device { sql += " WHERE device_name = ?"; args = [device] }
        sql += " ORDER BY id DESC"
        return try database.writer.read { db in
            try Row.fetchAll(db, sql: sql, arguments: args).map { r in
                ResultSummary(id: r["id"], runId: r["run_id"], serviceName: r["service_name"], deviceName: r["device_name"],
                              success: r["success"], durationMs: r["duration_ms"], attempts: r["attempts"],
                              createdAt: r["created_at"])
            }
        }
    }

    /// A recorded session without its transcript.
    public struct SessionSummary: Sendable {
        public var id: Int64
        public var deviceName: String, user: String
        public var startedAt: Date?, endedAt: Date?
        public var bytesIn: Int, bytesOut: Int, width: Int, height: Int
        public var endReason: String
    }

    /// Recorded sessions, newest first, of one device (or all).
    /// The engines serving the database (`:engines`): SQLite's one engine, from its lock, or none.
    public func engines() throws -> [EngineEntry] { try database.engines(EngineThresholds()) }

    public func sessions(device: String? = nil) throws -> [SessionSummary] {
        var sql = "SELECT id, device_name, user, started_at, ended_at, bytes_in, bytes_out, width, height, end_reason FROM session"
        var args: StatementArguments = []
        if let device { sql += " WHERE device_name = ?"; args = [device] }
        sql += " ORDER BY id DESC"
        return try database.writer.read { db in
            try Row.fetchAll(db, sql: sql, arguments: args).map { r in
                SessionSummary(id: r["id"], deviceName: r["device_name"], user: r["user"], startedAt: r["started_at"],
                               endedAt: r["ended_at"], bytesIn: r["bytes_in"], bytesOut: r["bytes_out"],
                               width: r["width"], height: r["height"], endReason: r["end_reason"])
            }
        }
    }

    /// A configuration snapshot without its content.
    public struct SnapshotSummary: Sendable {
        public var id: Int64, deviceId: Int64
        public var deviceName: String
        public var createdAt: Date?
        public var runId: Int64?
        public var sha256: String
        /// The content's size in bytes.
        public var size: Int
        /// The git commit that holds this version, if any.
        public var gitCommit: String? = nil
    }

    /// Configuration snapshots, newest first, of one device (or all).
    public func snapshots(device: String? = nil) throws -> [SnapshotSummary] {
        var sql = """
            SELECT c.id, c.device_id, d.name AS device_name, c.created_at, c.run_id, c.sha256,
                   length(CAST(c.content AS BLOB)) AS size, c.git_commit
            FROM config_snapshot c JOIN device d ON d.id = c.device_id
            """
        var args: StatementArguments = []
        if let device { sql += " WHERE d.name = ?"; args = [device] }
        sql += " ORDER BY c.created_at DESC, c.id DESC"
        return try database.writer.read { db in
            try Row.fetchAll(db, sql: sql, arguments: args).map { r in
                SnapshotSummary(id: r["id"], deviceId: r["device_id"], deviceName: r["device_name"],
                                createdAt: r["created_at"], runId: r["run_id"], sha256: r["sha256"], size: r["size"],
                                gitCommit: r["git_commit"])
            }
        }
    }

    // MARK: documents

    /// One configuration version with its content.
    public struct ConfigVersion: Sendable {
        public var id: Int64
        public var deviceName: String
        public var content: String
        public var createdAt: Date?
    }

    public func configVersion(_ id: Int64) throws -> ConfigVersion {
        try database.writer.read { db in try Self.configVersion(db, id) }
    }

    /// A version and the one before it on the same device (nil: it is the first), read together.
    public func configVersionAndPrevious(_ id: Int64) throws -> (ConfigVersion, ConfigVersion?) {
        try database.writer.read { db in
            let v = try Self.configVersion(db, id)
            guard let r = try Row.fetchOne(db, sql: """
                SELECT p.id, p.content, p.created_at FROM config_snapshot c JOIN config_snapshot p ON p.device_id = c.device_id
                WHERE c.id = ? AND (p.created_at < c.created_at OR (p.created_at = c.created_at AND p.id < c.id))
                ORDER BY p.created_at DESC, p.id DESC LIMIT 1
                """, arguments: [id]) else { return (v, nil) }
            return (v, ConfigVersion(id: r["id"], deviceName: v.deviceName, content: r["content"], createdAt: r["created_at"]))
        }
    }

    static func configVersion(_ db: Database, _ id: Int64) throws -> ConfigVersion {
        guard let r = try Row.fetchOne(db, sql: "SELECT c.content, c.created_at, d.name FROM config_snapshot c JOIN device d ON d.id = c.device_id WHERE c.id = ?", arguments: [id]) else {
            throw StoreError.notFound("configuration \(id) no longer exists")
        }
        return ConfigVersion(id: id, deviceName: r["name"], content: r["content"], createdAt: r["created_at"])
    }

    /// A result's output.
    public func resultOutput(_ id: Int64) throws -> (device: String, service: String, output: String) {
        try database.writer.read { db in
            guard let r = try Row.fetchOne(db, sql: "SELECT device_name, service_name, output FROM result WHERE id = ?", arguments: [id]) else {
                throw StoreError.notFound("result \(id) no longer exists")
            }
            return (r["device_name"], r["service_name"], r["output"])
        }
    }

    /// A recorded session's transcript (asciicast v2).
    public func sessionTranscript(_ id: Int64) throws -> (device: String, user: String, transcript: String) {
        try database.writer.read { db in
            guard let r = try Row.fetchOne(db, sql: "SELECT device_name, user, transcript FROM session WHERE id = ?", arguments: [id]) else {
                throw StoreError.notFound("session \(id) no longer exists")
            }
            return (r["device_name"], r["user"], r["transcript"])
        }
    }

    // MARK: workflow graph

    /// A workflow's nodes (service id, name, kind, start) and edges.
    public struct WorkflowShape: Sendable {
        public struct Node: Sendable { public var serviceId: Int64; public var name: String; public var kind: String; public var isStart: Bool }
        public struct Edge: Sendable { public var source: Int64; public var destination: Int64; public var success: Bool }
        public var nodes: [Node]
        public var edges: [Edge]
    }

    public func workflowShape(_ name: String) throws -> WorkflowShape {
        try database.writer.read { db in
            guard let wf = try Inventory.service(db, named: name), let wid = wf.id else {
                throw StoreError.notFound("no workflow named '\(name)'")
            }
            let kinds = Dictionary(try Row.fetchAll(db, sql: "SELECT id, name, kind FROM service").map {
                (($0["id"] as Int64), (($0["name"] as String), ($0["kind"] as String)))
            }, uniquingKeysWith: { a, _ in a })
            let nodes = try Inventory.workflowNodes(db, workflowId: wid).map { n in
                WorkflowShape.Node(serviceId: n.serviceId, name: kinds[n.serviceId]?.0 ?? "#\(n.serviceId)",
                                   kind: kinds[n.serviceId]?.1 ?? "?", isStart: n.isStart)
            }
            let edges = try Inventory.workflowEdges(db, workflowId: wid).map { e in
                WorkflowShape.Edge(source: e.sourceId, destination: e.destinationId, success: e.subtype == .success)
            }
            return WorkflowShape(nodes: nodes, edges: edges)
        }
    }

    // MARK: run log tail

    /// The run and its log lines after `after` (nil: the last `capacity` lines), at most `capacity`
    /// of them; `skipped` counts the lines between that were not returned.
    public struct RunLogTail: Sendable {
        public var run: Run?
        public var lines: [RunLogLine]
        public var skipped: Int
    }

    public func runLogTail(_ id: Int64, after: Int64?, capacity: Int) throws -> RunLogTail {
        try database.writer.read { db in
            let run = try Run.fetchOne(db, key: id)
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
            return RunLogTail(run: run, lines: lines, skipped: skipped)
        }
    }

    // MARK: launching

    /// What the launch dialog shows about a service before launching.
    public struct LaunchFacts: Sendable {
        public var service: Service
        public var needsDevices: Bool
        /// Nil when a dry run means nothing for it (`RunTargets.dryRunDefault`).
        public var dryRunDefault: Bool?
    }

    public func launchFacts(_ name: String) throws -> LaunchFacts {
        try database.writer.read { db in
            let s = try Self.service(db, name)
            return LaunchFacts(service: s, needsDevices: try RunTargets.needsDevices(db, service: s),
                               dryRunDefault: try RunTargets.dryRunDefault(db, service: s))
        }
    }

    /// Checks a launch's targets (`RunTargets.check`: a refusal throws); nil when the run changes no
    /// device, else the service's kind and the devices it would change (nil: it runs once, without devices).
    public func launchChanges(_ name: String, devices: [String], pools: [String], filter: String,
                              dryRun: Bool?) throws -> (kind: String, devices: [String]?)? {
        try database.writer.read { db in
            let s = try Self.service(db, name)
            let names = try RunTargets.check(db, service: s, devices: devices, pools: pools, filter: filter)
            guard try RunTargets.changesDevices(db, service: s, dryRun: dryRun) else { return nil }
            return (s.kind.rawValue, names)
        }
    }

    static func service(_ db: Database, _ name: String) throws -> Service {
        guard let s = try Inventory.service(db, named: name) else {
            throw StoreError.notFound("no service or workflow named '\(name)'")
        }
        return s
    }

    // MARK: session recordings

    /// Stores a new session record (its device's id looked up by name); returns it with its id.
    public func insertSession(_ record: SessionRecord) throws -> SessionRecord {
        try database.writer.write { db in
            var r = record
            r.deviceId = try Int64.fetchOne(db, sql: "SELECT id FROM device WHERE name = ?", arguments: [r.deviceName])
            try r.insert(db)
            return r
        }
    }

    /// Writes a session record's end (times, counts, transcript).
    public func updateSession(_ record: SessionRecord) throws {
        try database.writer.write { db in try record.update(db) }
    }

    public func session(_ id: Int64) throws -> SessionRecord? {
        try database.writer.read { db in try SessionRecord.fetchOne(db, key: id) }
    }

    // MARK: changes

    /// The records the console may delete, by the table that holds them.
    public enum DeletableKind: String, Sendable, Equatable {
        case device, link, pool, credential, service, task
    }

    /// Deletes named records in one transaction, each with a change-log entry; nothing is deleted
    /// when one of them does not exist.
    public func delete(_ kind: DeletableKind, names: [String], noun: String, user: String, note: String) throws {
        try database.writer.write { db in
            for name in names {
                switch kind {
                case .device: try Inventory.deleteDevice(db, named: name)
                case .pool: try Inventory.deletePool(db, named: name)
                case .link, .credential, .service, .task:
                    try db.execute(sql: "DELETE FROM \(kind.rawValue) WHERE name = ?", arguments: [name])
                    if db.changesCount == 0 { throw StoreError.notFound("no \(noun) named '\(name)'") }
                }
                try Inventory.log(db, user: user, note, targetType: noun, targetName: name)
            }
        }
    }
}
