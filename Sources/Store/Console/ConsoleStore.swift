import Foundation

/// What the console reads and changes, as domain functions returning plain records: the console
/// does not run SQL itself. Built on any `StoreBackend` (SQLite or PostgreSQL): each read is one
/// read snapshot (never blocking the engine), composed of `StoreReader`'s domain reads and the
/// console's own compact reads (`ConsoleStoreReader`), which each backend answers in its own SQL.
public struct ConsoleStore: Sendable {
    public let backend: any StoreBackend

    /// When an engine counts as lost or dropped (`engine.active_threshold_s`, `engine.drop_threshold_s`).
    public var engineThresholds: EngineThresholds

    public init(backend: any StoreBackend, engineThresholds: EngineThresholds = EngineThresholds()) {
        self.backend = backend; self.engineThresholds = engineThresholds
    }
    public init(database: AppDatabase) { self.init(backend: database) }

    /// The engines serving the database, oldest first (`switchboard engines`).
    public func engines() throws -> [EngineEntry] { try backend.engines(engineThresholds) }

    func read<T>(_ body: (any StoreReader) throws -> T) throws -> T { try backend.query(body) }

    // MARK: header

    /// Runs `running` and `queued` (one indexed query).
    public func activeRunCounts() throws -> (running: Int, queued: Int) { try read { try $0.activeRunCounts() } }

    // MARK: inventory tables

    public func links() throws -> [LinkView] { try read { try $0.links() } }
    public func pools() throws -> [Pool] { try read { try $0.pools() } }
    public func credentials() throws -> [Credential] { try read { try $0.credentials() } }
    public func services(workflows: Bool) throws -> [Service] { try read { try $0.services(workflows: workflows) } }

    /// A task with the name of the service it runs ("" when it has none).
    public struct TaskListing: Sendable {
        public var task: ScheduledTask
        public var serviceName: String
    }

    public func tasks() throws -> [TaskListing] {
        try read { r in
            let names = try r.serviceNames()
            return try r.tasks().map { TaskListing(task: $0, serviceName: $0.serviceId.flatMap { names[$0] } ?? "") }
        }
    }

    // MARK: runs, results, sessions, configurations

    /// Every run, newest first.
    /// Running runs whose units no active engine serves (regions) say why in their reason.
    public func runs() throws -> [Run] {
        RunWaiting.annotate(try read { try $0.recentRuns(limit: Int(Int32.max)) }, backend, thresholds: engineThresholds)
    }

    /// A result without its output (the table never shows it).
    public struct ResultSummary: Sendable, Codable, Equatable {
        public var id: Int64, runId: Int64
        public var serviceName: String, deviceName: String
        public var success: Bool
        public var durationMs: Int, attempts: Int
        public var createdAt: Date?
        /// The engine that produced it, named only when its run's results came from more than one
        /// engine (`results` blanks it otherwise: one engine's run reads as it always did).
        public var engineId: Int64?
        public var engineHost: String
        public init(id: Int64, runId: Int64, serviceName: String, deviceName: String, success: Bool, durationMs: Int,
                    attempts: Int, createdAt: Date?, engineId: Int64? = nil, engineHost: String = "") {
            self.id = id; self.runId = runId; self.serviceName = serviceName; self.deviceName = deviceName
            self.success = success; self.durationMs = durationMs; self.attempts = attempts; self.createdAt = createdAt
            self.engineId = engineId; self.engineHost = engineHost
        }

        /// "#3 host-a", or "" when not named.
        public var engine: String { RunResult.engineLabel(id: engineId, host: engineHost) }
    }

    /// Results, newest first, of one run or one device (or all). Each names its engine only when
    /// its run's results came from several engines (a run spread over them).
    public func results(run: Int64? = nil, device: String? = nil) throws -> [ResultSummary] {
        var results = try read { try $0.resultSummaries(run: run, device: run == nil ? device : nil) }
        var engines: [Int64: Set<String>] = [:]
        for r in results { engines[r.runId, default: []].insert(r.engine) }
        for i in results.indices where (engines[results[i].runId]?.count ?? 0) < 2 {
            results[i].engineId = nil
            results[i].engineHost = ""
        }
        return results
    }

    /// A recorded session without its transcript.
    public struct SessionSummary: Sendable, Codable, Equatable {
        public var id: Int64
        public var deviceName: String, user: String
        public var startedAt: Date?, endedAt: Date?
        public var bytesIn: Int, bytesOut: Int, width: Int, height: Int
        public var endReason: String
        public init(id: Int64, deviceName: String, user: String, startedAt: Date?, endedAt: Date?, bytesIn: Int, bytesOut: Int,
                    width: Int, height: Int, endReason: String) {
            self.id = id; self.deviceName = deviceName; self.user = user; self.startedAt = startedAt; self.endedAt = endedAt
            self.bytesIn = bytesIn; self.bytesOut = bytesOut; self.width = width; self.height = height; self.endReason = endReason
        }
    }

    /// Recorded sessions, newest first, of one device (or all).
    public func sessions(device: String? = nil) throws -> [SessionSummary] { try read { try $0.sessionSummaries(device: device) } }

    /// A configuration snapshot without its content.
    public struct SnapshotSummary: Sendable, Codable, Equatable {
        public var id: Int64, deviceId: Int64
        public var deviceName: String
        public var createdAt: Date?
        public var runId: Int64?
        public var sha256: String
        /// The content's size in bytes.
        public var size: Int
        /// The git commit that holds this version, if any.
        public var gitCommit: String? = nil
        public init(id: Int64, deviceId: Int64, deviceName: String, createdAt: Date?, runId: Int64?, sha256: String, size: Int,
                    gitCommit: String? = nil) {
            self.id = id; self.deviceId = deviceId; self.deviceName = deviceName; self.createdAt = createdAt; self.runId = runId
            self.sha256 = sha256; self.size = size; self.gitCommit = gitCommit
        }
    }

    /// Configuration snapshots, newest first, of one device (or all).
    public func snapshots(device: String? = nil) throws -> [SnapshotSummary] { try read { try $0.snapshotSummaries(device: device) } }

    // MARK: documents

    /// One configuration version with its content.
    public struct ConfigVersion: Sendable, Codable, Equatable {
        public var id: Int64
        public var deviceName: String
        public var content: String
        public var createdAt: Date?
        public init(id: Int64, deviceName: String, content: String, createdAt: Date?) {
            self.id = id; self.deviceName = deviceName; self.content = content; self.createdAt = createdAt
        }
    }

    public func configVersion(_ id: Int64) throws -> ConfigVersion {
        try read { r in
            guard let v = try r.configVersion(id: id) else { throw StoreError.notFound("configuration \(id) no longer exists") }
            return v
        }
    }

    /// A version and the one before it on the same device (nil: it is the first), read together.
    public func configVersionAndPrevious(_ id: Int64) throws -> (ConfigVersion, ConfigVersion?) {
        try read { r in
            guard let v = try r.configVersion(id: id) else { throw StoreError.notFound("configuration \(id) no longer exists") }
            return (v, try r.previousConfigVersion(id: id))
        }
    }

    /// A result's output.
    public func resultOutput(_ id: Int64) throws -> (device: String, service: String, output: String) {
        try read { r in
            guard let result = try r.result(id: id) else { throw StoreError.notFound("result \(id) no longer exists") }
            return (result.deviceName, result.serviceName, result.output)
        }
    }

    /// A recorded session's transcript (asciicast v2).
    public func sessionTranscript(_ id: Int64) throws -> (device: String, user: String, transcript: String) {
        try read { r in
            guard let s = try r.session(id: id) else { throw StoreError.notFound("session \(id) no longer exists") }
            return (s.deviceName, s.user, s.transcript)
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
        try read { r in
            guard let wf = try r.service(named: name), let wid = wf.id else {
                throw StoreError.notFound("no workflow named '\(name)'")
            }
            let kinds = Self.kinds(try r.services(workflows: false) + r.services(workflows: true))
            let nodes = try r.workflowNodes(workflowId: wid).map { n in
                WorkflowShape.Node(serviceId: n.serviceId, name: kinds[n.serviceId]?.0 ?? "#\(n.serviceId)",
                                   kind: kinds[n.serviceId]?.1 ?? "?", isStart: n.isStart)
            }
            let edges = try r.workflowEdges(workflowId: wid).map { e in
                WorkflowShape.Edge(source: e.sourceId, destination: e.destinationId, success: e.subtype == .success)
            }
            return WorkflowShape(nodes: nodes, edges: edges)
        }
    }

    static func kinds(_ services: [Service]) -> [Int64: (String, String)] {
        var out: [Int64: (String, String)] = [:]
        for s in services { if let id = s.id, out[id] == nil { out[id] = (s.name, s.kind.rawValue) } }
        return out
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
        try read { r in
            let run = try r.run(id: id)
            let (lines, skipped) = try r.logTail(run: id, after: after, capacity: capacity)
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
        try read { r in
            let s = try Self.service(r, name)
            return LaunchFacts(service: s, needsDevices: try RunTargets.needsDevices(r, service: s),
                               dryRunDefault: try RunTargets.dryRunDefault(r, service: s))
        }
    }

    /// Checks a launch's targets (`RunTargets.check`: a refusal throws); nil when the run changes no
    /// device, else the service's kind and the devices it would change (nil: it runs once, without devices).
    public func launchChanges(_ name: String, devices: [String], pools: [String], filter: String,
                              dryRun: Bool?) throws -> (kind: String, devices: [String]?)? {
        try read { r in
            let s = try Self.service(r, name)
            let names = try RunTargets.check(r, service: s, devices: devices, pools: pools, filter: filter)
            guard try RunTargets.changesDevices(r, service: s, dryRun: dryRun) else { return nil }
            return (s.kind.rawValue, names)
        }
    }

    static func service(_ r: any StoreReader, _ name: String) throws -> Service {
        guard let s = try r.service(named: name) else {
            throw StoreError.notFound("no service or workflow named '\(name)'")
        }
        return s
    }

    // MARK: session recordings

    /// Stores a new session record (its device's id looked up by name); returns it with its id.
    public func insertSession(_ record: SessionRecord) throws -> SessionRecord {
        try backend.transaction { try $0.insert(session: record) }
    }

    /// Writes a session record's end (times, counts, transcript).
    public func updateSession(_ record: SessionRecord) throws {
        try backend.transaction { try $0.update(session: record) }
    }

    public func session(_ id: Int64) throws -> SessionRecord? { try read { try $0.session(id: id) } }

    // MARK: changes

    /// The records the console may delete, by the table that holds them.
    public enum DeletableKind: String, Sendable, Equatable {
        case device, link, pool, credential, service, task
    }

    /// Deletes named records in one transaction, each with a change-log entry; nothing is deleted
    /// when one of them does not exist.
    public func delete(_ kind: DeletableKind, names: [String], noun: String, user: String, note: String) throws {
        try backend.transaction { tx in
            for name in names {
                try tx.delete(kind, named: name, noun: noun)
                try tx.log(user: user, note, targetType: noun, targetName: name)
            }
        }
    }
}
