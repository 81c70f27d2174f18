import Foundation

/// Domain reads inside one snapshot (`StoreBackend.query`). Every backend answers them the same way:
/// `StoreBackendConformance` (Tests/StoreConformance) checks it, run against SQLite and PostgreSQL.
public protocol StoreReader: ConsoleStoreReader {
    // MARK: devices
    func device(named name: String) throws -> Device?
    func device(id: Int64) throws -> Device?
    /// Devices matching a filter, by name; `knownProperties` (custom property names) makes an unknown
    /// field an `invalid` error instead of an empty result.
    func devices(filter: FilterExpression, knownProperties: Set<String>?) throws -> [Device]
    /// Custom property names the stored devices carry.
    func devicePropertyNames() throws -> Set<String>
    /// Every device's name by id.
    func deviceNames() throws -> [Int64: String]

    // MARK: links, pools
    func links() throws -> [LinkView]
    func pools() throws -> [Pool]
    func pool(named name: String) throws -> Pool?
    func poolDevices(named name: String) throws -> [Device]
    func poolDeviceNames(named name: String) throws -> [String]
    func manualDeviceNames(poolId: Int64) throws -> [String]
    /// The pools a device is a member of.
    func poolNames(deviceId: Int64) throws -> [String]

    // MARK: credentials
    func credentials() throws -> [Credential]
    func credential(named name: String) throws -> Credential?
    /// The credential a device logs in with when none is named: the highest priority one whose scope holds it.
    func credential(for device: Device) throws -> Credential?

    // MARK: services, workflows, tasks
    func services(workflows: Bool) throws -> [Service]
    func service(named name: String) throws -> Service?
    func service(id: Int64) throws -> Service?
    /// Every service's (and workflow's) name by id.
    func serviceNames() throws -> [Int64: String]
    func workflowNodes(workflowId: Int64) throws -> [WorkflowNode]
    func workflowEdges(workflowId: Int64) throws -> [WorkflowEdge]
    /// Node count per workflow id (workflows without nodes are absent).
    func workflowNodeCounts() throws -> [Int64: Int]
    func tasks() throws -> [ScheduledTask]
    func task(named name: String) throws -> ScheduledTask?

    // MARK: runs, sessions
    func run(id: Int64) throws -> Run?
    /// Runs, newest first.
    func recentRuns(limit: Int) throws -> [Run]
    /// Every run's user by run id.
    func runUsers() throws -> [Int64: String]
    /// A run's log lines after a sequence number, in order (of one device, when given): the tail query.
    func logLines(run id: Int64, after seq: Int64, device: String?, limit: Int) throws -> [RunLogLine]
    /// A run's results in the order they were recorded (of one device, when given).
    func results(run id: Int64, device: String?) throws -> [RunResult]
    /// The highest log sequence number of a run (0 without lines).
    func lastLogSeq(run id: Int64) throws -> Int64
    /// Devices with a failed result in a run, sorted, without duplicates.
    func failedDeviceNames(run id: Int64) throws -> [String]
    /// Devices with a successful result for the named service (a workflow node) in a run.
    func succeededDeviceNames(run id: Int64, service: String) throws -> [String]
    /// Of the given runs, those `running` with a stop requested, with the stop's reason.
    func stopRequests(among runs: [Int64]) throws -> [(run: Int64, reason: String)]
    /// Of the given runs, those no longer `running` for the registered engine `engineId` (another
    /// engine found it lost and interrupted them, or another registration holds them), with their status.
    func runsNoLongerOwned(among runs: [Int64], engineId: Int64) throws -> [(run: Int64, status: Run.Status)]
    func session(id: Int64) throws -> SessionRecord?
    /// Sessions, newest first.
    func recentSessions(limit: Int) throws -> [SessionRecord]

    // MARK: configurations
    /// A device's snapshots, newest first.
    func configSnapshots(device name: String) throws -> [ConfigSnapshot]
    func latestConfigSnapshot(deviceId: Int64) throws -> ConfigSnapshot?
    /// Every snapshot, oldest first (`created_at`, then id).
    func allConfigSnapshots() throws -> [ConfigSnapshot]
    /// Searches the newest snapshot of each device (of `devices`, or all), sorted by device name.
    func searchConfigurations(pattern: ConfigSearch.Pattern, context: Int, devices: Set<Int64>?) throws -> ConfigSearch.Result

    // MARK: scheduler
    /// Whether an active task has no next fire yet (the next tick schedules it).
    func hasUnscheduledActiveTask() throws -> Bool
    /// The earliest `next_fire` of an active task.
    func earliestNextFire() throws -> Date?
    /// Whether a tick has anything to do at `now`: a task due, one to schedule, or a task's last run
    /// status to bring up to date.
    func schedulerHasWork(now: Date) throws -> Bool
}

/// A due task as the scheduler claims it: the record and the token its claim compares against.
public struct DueTask: Sendable {
    public var task: ScheduledTask
    /// The stored `next_fire` exactly as the backend holds it; `claimDueTask` succeeds only while it is unchanged.
    public var token: FireToken

    public init(task: ScheduledTask, token: FireToken) { self.task = task; self.token = token }
}

/// An opaque compare-and-set value: a task's `next_fire` as stored (nil: none).
public struct FireToken: Sendable {
    let stored: StoredValue
    enum StoredValue: Sendable, Equatable { case null, text(String), real(Double), integer(Int64) }
    init(_ stored: StoredValue) { self.stored = stored }
    /// The token of a task without a next fire.
    public static let none = FireToken(.null)

    /// For a backend outside this module: the stored value as the database renders it as text
    /// (PostgreSQL's `next_fire::text`), nil for none.
    public init(storedText: String?) { self.init(storedText.map { .text($0) } ?? .null) }
    /// The text a backend outside this module made the token from; nil for none.
    public var storedText: String? {
        if case .text(let s) = stored { return s }
        return nil
    }
}

/// Domain writes (and reads) inside one transaction (`StoreBackend.transaction`/`exclusiveTransaction`).
public protocol StoreTransaction: StoreReader, ConsoleStoreWriter {
    /// Runs `body` in a nested savepoint: when it throws, its writes are undone and the error comes
    /// out, the surrounding transaction goes on.
    func savepoint<T>(_ body: (any StoreTransaction) throws -> T) throws -> T

    // MARK: inventory
    /// Inserts or updates a device by name. With `updateMembership` false (an import) the caller
    /// recomputes pools once at the end (`recomputePoolMembership`).
    @discardableResult func upsert(device: Device, updateMembership: Bool) throws -> Device
    /// Inserts or updates a pool by name; `manualDevices` (names), when given, replaces its manual members.
    @discardableResult func upsert(pool: Pool, manualDevices: [String]?, updateMembership: Bool) throws -> Pool
    /// Recomputes every member set from scratch and every pool's size: one pass over the devices per
    /// distinct criteria set (after an import).
    func recomputePoolMembership() throws
    /// Inserts or updates a link by name between two existing devices (`invalid` when one is missing).
    @discardableResult func upsertLink(name: String, source: String, destination: String, description: String,
                                       properties: [String: JSONValue]) throws -> Link
    /// Adds a service to a workflow (once); `isStart` makes it the workflow's only start node.
    func addWorkflowNode(workflowId: Int64, serviceId: Int64, isStart: Bool) throws
    /// Inserts or updates an edge by workflow and name, adding its ends as nodes.
    @discardableResult func upsert(edge: WorkflowEdge) throws -> WorkflowEdge
    func deletePool(named name: String) throws
    @discardableResult func upsert(credential: Credential) throws -> Credential
    @discardableResult func upsert(service: Service) throws -> Service

    // MARK: bulk writes (an import)
    // Each does exactly what the record-by-record call does for every element in order (the default
    // implementations are those loops); a backend may do it in fewer statements (PostgreSQL: one
    // per batch of new records, where a statement per record is a round trip each). An import calls
    // them in a savepoint and, when one fails, replays its records one by one, so the error is the
    // record-by-record one.

    /// `upsert(device:updateMembership: false)` for each device; the devices as stored, with ids.
    func upsert(devices: [Device]) throws -> [Device]
    /// `upsert(pool:manualDevices:updateMembership: false)` for each pool.
    func upsert(pools: [(pool: Pool, manualDevices: [String]?)]) throws -> [Pool]
    /// `upsertLink` for each link.
    func upsertLinks(_ links: [LinkUpsert]) throws
    /// `upsert(service:)` for each service.
    func upsert(services: [Service]) throws -> [Service]
    /// `addWorkflowNode` for each node, in order.
    func addWorkflowNodes(_ nodes: [WorkflowNodeAdd]) throws
    /// `upsert(task:)` for each task.
    func upsert(tasks: [ScheduledTask]) throws -> [ScheduledTask]
    /// A change-log entry (what `Inventory.log` writes).
    func log(user: String, _ content: String, targetType: String, targetName: String) throws
    func append(_ entry: ChangelogEntry) throws
    /// The device's last backup status and time; pools are re-evaluated when the status changed.
    func setBackupStatus(device name: String, success: Bool, at time: Date) throws
    func setReachability(device name: String, reachable: Bool, at time: Date) throws

    // MARK: tasks
    @discardableResult func upsert(task: ScheduledTask) throws -> ScheduledTask
    func deleteTask(id: Int64) throws
    /// Sets a task's `active` and `next_fire` unconditionally (enable, disable).
    func setTaskActivation(id: Int64, active: Bool, nextFire: Date?) throws
    /// Copies finished run statuses into their tasks' `last_run_status`.
    func refreshTaskRunStatuses() throws
    /// Active tasks without a next fire.
    func unscheduledActiveTasks() throws -> [ScheduledTask]
    /// Sets a first fire on an active task that still has none.
    func scheduleFirstFire(taskId: Int64, at time: Date) throws
    /// Active tasks due at `now`, earliest first, each with its claim token.
    func dueTasks(now: Date) throws -> [DueTask]
    /// Queued or running runs per task id, oldest first.
    func pendingRunsByTask() throws -> [Int64: [Int64]]
    /// Claims a due time: moves `next_fire` to `next` (and `active` to `next != nil`) only if the task is
    /// active and its `next_fire` is still `token`. False when another tick got there first.
    func claimDueTask(id: Int64, token: FireToken, next: Date?) throws -> Bool
    /// Makes an active task inactive (no next fire) only if its `next_fire` is still `token`.
    func deactivateTask(id: Int64, ifNextFire token: FireToken) throws -> Bool
    /// Records the run a task's fire queued.
    func recordTaskFire(taskId: Int64, at time: Date, run: Run) throws

    // MARK: runs, configurations
    /// Queues a run (see `RunQueue.enqueue`).
    func enqueueRun(service name: String, trigger: Run.Trigger, user: String, devices: [String], pools: [String],
                    filter: String, parameters: [String: JSONValue], taskId: Int64?,
                    restartOf: Int64?, restartFrom: String) throws -> Run
    /// Refuses (`StoreError.Kind.noTargets`) a launch of a service that needs devices when the targets
    /// given (else the service's own) name none or match none now.
    func checkTargets(service: Service, devices: [String], pools: [String], filter: String) throws
    /// Asks the engine to stop a run (see `RunQueue.requestStop`); returns the run as it now stands.
    @discardableResult func requestStop(run id: Int64, user: String) throws -> Run
    /// Stores a configuration if it differs from the device's latest; nil when unchanged.
    func recordConfig(deviceId: Int64, runId: Int64?, content: String) throws -> ConfigSnapshot?
    func setGitCommit(snapshot id: Int64, commit: String) throws
}

/// A link as `upsertLink` takes it: devices by name.
public struct LinkUpsert: Sendable {
    public var name: String, source: String, destination: String, description: String
    public var properties: [String: JSONValue]
    public init(name: String, source: String, destination: String, description: String, properties: [String: JSONValue]) {
        self.name = name; self.source = source; self.destination = destination
        self.description = description; self.properties = properties
    }
}

/// A workflow node as `addWorkflowNode` takes it.
public struct WorkflowNodeAdd: Sendable, Equatable {
    public var workflowId: Int64, serviceId: Int64, isStart: Bool
    public init(workflowId: Int64, serviceId: Int64, isStart: Bool) {
        self.workflowId = workflowId; self.serviceId = serviceId; self.isStart = isStart
    }
}

extension StoreTransaction {
    public func upsert(devices: [Device]) throws -> [Device] {
        try devices.map { try upsert(device: $0, updateMembership: false) }
    }
    public func upsert(pools: [(pool: Pool, manualDevices: [String]?)]) throws -> [Pool] {
        try pools.map { try upsert(pool: $0.pool, manualDevices: $0.manualDevices, updateMembership: false) }
    }
    public func upsertLinks(_ links: [LinkUpsert]) throws {
        for l in links {
            try upsertLink(name: l.name, source: l.source, destination: l.destination, description: l.description, properties: l.properties)
        }
    }
    public func upsert(services: [Service]) throws -> [Service] { try services.map { try upsert(service: $0) } }
    public func addWorkflowNodes(_ nodes: [WorkflowNodeAdd]) throws {
        for n in nodes { try addWorkflowNode(workflowId: n.workflowId, serviceId: n.serviceId, isStart: n.isStart) }
    }
    public func upsert(tasks: [ScheduledTask]) throws -> [ScheduledTask] { try tasks.map { try upsert(task: $0) } }
}

extension StoreTransaction {
    @discardableResult public func upsert(device: Device) throws -> Device { try upsert(device: device, updateMembership: true) }
    @discardableResult public func upsert(pool: Pool, manualDevices: [String]?) throws -> Pool {
        try upsert(pool: pool, manualDevices: manualDevices, updateMembership: true)
    }
    @discardableResult public func upsert(pool: Pool) throws -> Pool { try upsert(pool: pool, manualDevices: nil) }
    public func log(user: String, _ content: String) throws { try log(user: user, content, targetType: "", targetName: "") }
    public func enqueueRun(service name: String, trigger: Run.Trigger, user: String, devices: [String] = [],
                           pools: [String] = [], parameters: [String: JSONValue] = [:], taskId: Int64? = nil,
                           restartOf: Int64? = nil, restartFrom: String = "") throws -> Run {
        try enqueueRun(service: name, trigger: trigger, user: user, devices: devices, pools: pools, filter: "",
                       parameters: parameters, taskId: taskId, restartOf: restartOf, restartFrom: restartFrom)
    }
}

extension StoreReader {
    public func devices(filter: FilterExpression) throws -> [Device] { try devices(filter: filter, knownProperties: nil) }
}
