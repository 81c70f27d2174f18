import Foundation
import Store

/// Runs the console's loads (off the input thread): each view's data through the store's domain
/// functions (`ConsoleStore`), tables through their descriptors (`Tables/`).
public struct DataLoader: Sendable {
    public let database: any StoreBackend
    public let properties: DeviceProperties
    public var user: String
    /// The scheduler's next due times for a task's Describe view; nil: the stored next fire only.
    public var schedules: (any TaskScheduleReading)?
    /// The change count of a backend without a change stamp (`StoreWakeups`); nil: every refresh reads.
    public var changes: StoreChangeCounter?

    public init(database: any StoreBackend, properties: DeviceProperties, user: String = DataLoader.currentUser()) {
        self.database = database; self.properties = properties; self.user = user
    }

    /// When an engine counts as lost or dropped in `:engines` (from the settings).
    public var engineThresholds = EngineThresholds()

    var store: ConsoleStore { ConsoleStore(backend: database, engineThresholds: engineThresholds) }

    /// What tells a periodic refresh that nothing was written: SQLite's file and WAL, else the
    /// wake-up count; nil: read.
    func currentStamp() -> StoreStamp? {
        if database.capabilities.contains(.changeStamp) { return StoreStamp.of(databasePath: database.location) }
        return changes?.stamp
    }

    /// The database as the header names it: a SQLite file's name, a PostgreSQL URL (without password).
    public static func headerName(_ database: any StoreBackend) -> String {
        database.location.contains("://") ? database.location : (database.location as NSString).lastPathComponent
    }

    /// The operating system's user (the effective uid's name, not `$USER`): what runs, sessions
    /// and the change log record, as the CLI does.
    public static func currentUser() -> String { OSUser.name }

    public func load(_ request: LoadRequest) -> LoadResult {
        do {
            guard let content = request.content else { return .header(try header()) }
            switch content {
            case .table(let kind, let scope):
                let stamp = currentStamp()
                if kind.descriptor.stamped, let stamp, stamp == request.unlessStamp { return .unchanged }
                let data = try table(kind, scope: scope)
                StartTrace.mark("table-read \(kind)")
                let order = data.sortedOrder(request.sort)
                let filter = try? CompiledFilter(request.filter, for: data)
                let prepared = PreparedTable(data: data, sort: request.sort, filter: request.filter, order: order,
                                             visible: data.filtered(order, by: filter), stamp: stamp)
                if request.replacesData { data.waitForIndex() }
                StartTrace.mark("table-sorted \(kind)")
                return .table(prepared)
            case .workflow(let name):
                return .workflow(try workflow(name))
            case .document(let source):
                let (title, lines) = try document(source)
                let skipped = max(0, lines.count - request.capacity)
                return .document(title: title, lines: Array(lines.suffix(request.capacity)), skipped: skipped)
            case .runLog(let id):
                let tail = try store.runLogTail(id, after: request.afterSeq, capacity: request.capacity)
                let summary = tail.run.map { r in
                    RunSummary(id: r.id ?? id, service: r.serviceName, status: r.status.rawValue, done: r.progressDone,
                               total: r.progressTotal, failed: r.progressFailed, startedAt: r.startedAt, endedAt: r.endedAt)
                }
                let lines = tail.lines.map { LogLine(seq: $0.seq, time: $0.time, level: $0.level, device: $0.device,
                                                   service: $0.service, text: $0.message) }
                return .runLog(summary, lines: lines, skipped: tail.skipped)
            case .pulse:
                // Like a table: nothing written since the last read, nothing read now.
                let stamp = currentStamp()
                if let stamp, stamp == request.unlessStamp { return .unchanged }
                let now = request.now ?? Date()
                return .pulse(try store.pulse(now: now, day: Calendar.current.startOfDay(for: now)), stamp: stamp)
            case .help:
                return .failure("nothing to load")
            }
        } catch {
            return .failure(AppDatabase.describe(error))
        }
    }

    /// Running and queued runs (one indexed query) and the engine lock's holder (one `flock` probe).
    func header() throws -> HeaderInfo {
        let (running, queued) = try store.activeRunCounts()
        StartTrace.mark("header-runs")
        let pid = database.engineLockHolder()
        StartTrace.mark("header-engines")
        return HeaderInfo(database: Self.headerName(database), user: user,
                          engine: pid.map { String($0) } ?? "off", running: running, enginePid: pid, queued: queued)
    }

    /// A table, by its kind's descriptor.
    public func table(_ kind: TableKind, scope: Scope?) throws -> TableData {
        try kind.descriptor.load(TableLoad(store: store, properties: properties, scope: scope,
                                           searchable: kind.columns(properties).map(\.property), now: Date()))
    }

    func workflow(_ name: String) throws -> WorkflowGraph {
        let shape = try store.workflowShape(name)
        return WorkflowGraph(name: name,
                             nodes: shape.nodes.map { .init(id: $0.serviceId, name: $0.name, kind: $0.kind, isStart: $0.isStart) },
                             edges: shape.edges.map { .init(source: $0.source, destination: $0.destination, success: $0.success) })
    }

    func document(_ source: DocumentSource) throws -> (String, [LogLine]) {
        switch source {
        case .resultOutput(let id):
            let r = try store.resultOutput(id)
            return ("output of \(r.service)" + (r.device.isEmpty ? "" : " on \(r.device)"), Documents.plain(r.output))
        case .config(let id):
            let v = try store.configVersion(id)
            return ("configuration of \(v.deviceName) saved \(Formats.date(v.createdAt))", Documents.plain(v.content))
        case .configDiff(let id):
            let (v, previous) = try store.configVersionAndPrevious(id)
            guard let previous else {
                return ("configuration of \(v.deviceName): first version, nothing to compare", Documents.plain(v.content))
            }
            return ("changes to \(v.deviceName)", Documents.diff(previous, v))
        case .latestDiff(let a, let b):
            let (old, new) = try store.latestConfigurations(a, b)
            return ("latest configurations: \(a) against \(b)", Documents.diff(old, new, oldLabel: "\(a) (version \(old.id), \(Formats.date(old.createdAt)))",
                                                                               newLabel: "\(b) (version \(new.id), \(Formats.date(new.createdAt)))"))
        case .messages:
            // Filled by the update from the model (AppModel.showMessages); never loaded.
            return ("messages", [])
        case .session(let id):
            let s = try store.sessionTranscript(id)
            return ("session \(id): \(s.user) on \(s.device)", Documents.plain(Asciicast.output(ofTranscript: s.transcript)))
        case .describe(let kind, let name):
            switch kind {
            case .services, .workflows:
                return ("describe \(kind.noun) \(name)", Details.lines(Details.service(try store.serviceDetail(name))))
            case .credentials:
                return ("describe credential \(name)", Details.lines(Details.credential(try store.credentialDetail(name))))
            case .pools:
                return ("describe pool \(name)", Details.lines(Details.pool(try store.poolDetail(name))))
            case .tasks:
                return ("describe task \(name)", Details.lines(Details.task(try store.taskDetail(name), schedules: schedules, now: Date())))
            default:
                throw StoreError.invalid("\(kind.title) have no description")
            }
        case .xray(let name):
            return ("xray of device \(name)", Details.lines(Details.xray(try store.deviceXray(name))))
        }
    }
}
