import Foundation
import GRDB

/// The run queue, shared by every process on the database: the console and `switchboard run`
/// enqueue, the engine claims, anyone reads progress, results and log lines by sequence number.
/// Cross-process notification is polling on indexed queries (or the backend's `changeWaiter`).
/// Backend-neutral: it works through `StoreBackend` only.
public struct RunQueue: Sendable {
    public let database: any StoreBackend

    public init(database: any StoreBackend) { self.database = database }

    /// Queues a run of the named service or workflow. Targets are `{"devices": [...], "pools": [...],
    /// "filter": "..."}` overriding the service's own (empty keys are left out); they are resolved
    /// when the engine starts the run, not now. With `requireTargets` (the console and `switchboard
    /// run`), a service that needs devices is refused (`StoreError.Kind.noTargets`, nothing queued)
    /// when the targets are missing or match no device now.
    @discardableResult
    public func enqueue(service name: String, trigger: Run.Trigger, user: String,
                        devices: [String] = [], pools: [String] = [], filter: String = "",
                        parameters: [String: JSONValue] = [:], taskId: Int64? = nil,
                        restartOf: Int64? = nil, restartFrom: String = "", requireTargets: Bool = false) throws -> Run {
        try database.transaction { tx in
            if requireTargets, let service = try tx.service(named: name) {
                try tx.checkTargets(service: service, devices: devices, pools: pools, filter: filter)
            }
            return try tx.enqueueRun(service: name, trigger: trigger, user: user, devices: devices, pools: pools,
                                     filter: filter, parameters: parameters, taskId: taskId,
                                     restartOf: restartOf, restartFrom: restartFrom)
        }
    }

    /// The same inside a caller's transaction (the scheduler fires and records the task in one).
    public static func enqueue(_ db: Database, service name: String, trigger: Run.Trigger, user: String,
                               devices: [String] = [], pools: [String] = [], filter: String = "",
                               parameters: [String: JSONValue] = [:], taskId: Int64? = nil,
                               restartOf: Int64? = nil, restartFrom: String = "") throws -> Run {
        let (service, prepared) = try prepareRun(SQLiteExecutor(db: db), service: name, trigger: trigger, user: user,
                                                 devices: devices, pools: pools, filter: filter, parameters: parameters,
                                                 taskId: taskId, restartOf: restartOf, restartFrom: restartFrom)
        var run = prepared
        try run.insert(db)
        logLaunch(run, service: service, devices: devices, pools: pools, filter: filter)
        return run
    }

    /// What every backend's `enqueueRun` does before inserting: the service, devices and pools must
    /// exist and the filter parse; returns the service and the run to insert (no id yet).
    public static func prepareRun(_ reader: any StoreReader, service name: String, trigger: Run.Trigger, user: String,
                                  devices: [String], pools: [String], filter: String,
                                  parameters: [String: JSONValue], taskId: Int64?,
                                  restartOf: Int64?, restartFrom: String) throws -> (Service, Run) {
        guard let service = try reader.service(named: name), let serviceId = service.id else {
            throw StoreError.notFound("no service or workflow named '\(name)'")
        }
        for d in devices where try reader.device(named: d) == nil {
            throw StoreError.notFound("no device named '\(d)'")
        }
        for p in pools where try reader.pool(named: p) == nil {
            throw StoreError.notFound("no pool named '\(p)'")
        }
        if !filter.isEmpty {
            do { _ = try FilterExpression.parse(filter) }
            catch { throw StoreError.invalid("filter '\(filter)': \(error)") }
        }
        var targets: [String: JSONValue] = [:]
        if !devices.isEmpty { targets["devices"] = .array(devices.map { .string($0) }) }
        if !pools.isEmpty { targets["pools"] = .array(pools.map { .string($0) }) }
        if !filter.isEmpty { targets["filter"] = .string(filter) }
        var run = Run(serviceId: serviceId, serviceName: service.name, trigger: trigger, user: user,
                      targets: targets, parameters: parameters)
        run.taskId = taskId
        run.restartOf = restartOf
        run.restartFrom = restartFrom
        return (service, run)
    }

    /// The security log's record of a queued run (every backend, after the insert).
    public static func logLaunch(_ run: Run, service: Service, devices: [String], pools: [String], filter: String) {
        let described = ([run.id.map { "run \($0)" } ?? "run", "\(service.kind == .workflow ? "workflow" : "service") '\(service.name)'"]
                         + (devices.isEmpty ? [] : ["devices \(devices.joined(separator: ","))"])
                         + (pools.isEmpty ? [] : ["pools \(pools.joined(separator: ","))"])
                         + (filter.isEmpty ? [] : ["filter \(filter)"])).joined(separator: " ")
        SecurityLog.record("run.launch", targets: described, outcome: "queued",
                           detail: "trigger \(run.trigger.rawValue)" + (run.restartOf.map { ", restart of run \($0)" } ?? ""), user: run.user)
    }

    /// Asks the engine to stop a run. A queued run is aborted at once; a running one is aborted by
    /// the engine, which polls the flag and closes its channels. Returns the run as it now stands.
    @discardableResult
    public func requestStop(_ id: Int64, user: String) throws -> Run {
        try database.transaction { tx in try tx.requestStop(run: id, user: user) }
    }

    /// The same inside a caller's transaction (`StoreTransaction.requestStop`).
    static func requestStop(_ db: Database, _ id: Int64, user: String) throws -> Run {
        guard let run = try Run.fetchOne(db, key: id) else { throw StoreError.notFound("no run \(id)") }
        guard var stopped = stopping(run, user: user) else { return run }
        try stopped.update(db)
        return stopped
    }

    /// A stop's effect on a run, for every backend: a queued run is aborted, a running one flagged;
    /// nil when nothing changes (logged either way). The backend stores the run it returns.
    public static func stopping(_ current: Run, user: String) -> Run? {
        var run = current
        var changed = false
        switch run.status {
        case .queued:
            run.status = .aborted
            run.endedAt = Date()
            run.reason = "stopped by \(user) before it started"
            run.stopRequested = true
            changed = true
        case .running:
            if !run.stopRequested {
                run.stopRequested = true
                run.reason = "stopped by \(user)"
                changed = true
            }
        default:
            break
        }
        SecurityLog.record("run.stop", targets: "run \(run.id.map(String.init) ?? "?") (\(run.serviceName))",
                           outcome: run.status == .aborted || run.stopRequested ? "requested" : "refused",
                           detail: run.status.isFinished && run.status != .aborted ? "already \(run.status.rawValue)" : "", user: user)
        return changed ? run : nil
    }

    public func run(_ id: Int64) throws -> Run? {
        try database.query { try $0.run(id: id) }
    }

    /// Runs, newest first.
    /// Running runs whose units no active engine serves (regions) say so in their reason.
    public func runs(limit: Int = 100, thresholds: EngineThresholds = EngineThresholds()) throws -> [Run] {
        RunWaiting.annotate(try database.query { try $0.recentRuns(limit: limit) }, database, thresholds: thresholds)
    }

    /// Log lines of a run after a sequence number, in order: the tail query.
    public func logLines(run id: Int64, after seq: Int64 = 0, device: String? = nil, limit: Int = 10_000) throws -> [RunLogLine] {
        try database.query { try $0.logLines(run: id, after: seq, device: device, limit: limit) }
    }

    public func results(run id: Int64, device: String? = nil) throws -> [RunResult] {
        try database.query { try $0.results(run: id, device: device) }
    }

    static func logLines(_ db: Database, run id: Int64, after seq: Int64, device: String?, limit: Int) throws -> [RunLogLine] {
        var request = RunLogLine.filter(Column("run_id") == id && Column("seq") > seq)
        if let device { request = request.filter(Column("device") == device) }
        return try request.order(Column("seq")).limit(limit).fetchAll(db)
    }

    static func results(_ db: Database, run id: Int64, device: String?) throws -> [RunResult] {
        var request = RunResult.filter(Column("run_id") == id)
        if let device { request = request.filter(Column("device_name") == device) }
        return try request.order(Column("id")).fetchAll(db)
    }
}
