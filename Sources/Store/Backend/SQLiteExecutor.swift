import Foundation
import GRDB

/// The SQLite backend's executor: the domain operations of `StoreReader` and `StoreTransaction` on
/// one GRDB connection, inside the snapshot or transaction `AppDatabase` opened for it.
struct SQLiteExecutor: StoreTransaction {
    let db: Database

    // MARK: devices

    func device(named name: String) throws -> Device? { try Inventory.device(db, named: name) }
    func device(id: Int64) throws -> Device? { try Inventory.device(db, id: id) }
    func devices(filter: FilterExpression, knownProperties: Set<String>?) throws -> [Device] {
        try Inventory.devices(db, filter: filter, knownProperties: knownProperties)
    }
    func devicePropertyNames() throws -> Set<String> { try Inventory.devicePropertyNames(db) }
    func deviceNames() throws -> [Int64: String] { try names(sql: "SELECT id, name FROM device") }

    // MARK: links, pools

    func links() throws -> [LinkView] { try Inventory.links(db) }
    func pools() throws -> [Pool] { try Inventory.pools(db) }
    func pool(named name: String) throws -> Pool? { try Inventory.pool(db, named: name) }
    func poolDevices(named name: String) throws -> [Device] { try Inventory.poolDevices(db, named: name) }
    func poolDeviceNames(named name: String) throws -> [String] { try Inventory.poolDeviceNames(db, named: name) }
    func manualDeviceNames(poolId: Int64) throws -> [String] { try Inventory.manualDeviceNames(db, poolId: poolId) }
    func poolNames(deviceId: Int64) throws -> [String] { try PoolMembership.poolNames(db, deviceId: deviceId) }

    // MARK: credentials

    func credentials() throws -> [Credential] { try Inventory.credentials(db) }
    func credential(named name: String) throws -> Credential? {
        try Credential.fetchOne(db.cachedStatement(sql: "SELECT * FROM credential WHERE name = ?"), arguments: [name])
    }
    func credential(for device: Device) throws -> Credential? { try Inventory.credential(db, for: device) }

    // MARK: services, workflows, tasks

    func services(workflows: Bool) throws -> [Service] { try Inventory.services(db, workflows: workflows) }
    func service(named name: String) throws -> Service? { try Inventory.service(db, named: name) }
    func service(id: Int64) throws -> Service? { try Service.fetchOne(db, key: id) }
    func serviceNames() throws -> [Int64: String] { try names(sql: "SELECT id, name FROM service") }
    func workflowNodes(workflowId: Int64) throws -> [WorkflowNode] { try Inventory.workflowNodes(db, workflowId: workflowId) }
    func workflowEdges(workflowId: Int64) throws -> [WorkflowEdge] { try Inventory.workflowEdges(db, workflowId: workflowId) }
    func workflowNodeCounts() throws -> [Int64: Int] {
        var out: [Int64: Int] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT workflow_id, COUNT(*) AS n FROM workflow_node GROUP BY workflow_id") {
            out[row["workflow_id"]] = row["n"]
        }
        return out
    }
    func tasks() throws -> [ScheduledTask] { try Inventory.tasks(db) }
    func task(named name: String) throws -> ScheduledTask? {
        try ScheduledTask.fetchOne(db, sql: "SELECT * FROM task WHERE name = ?", arguments: [name])
    }

    // MARK: runs, sessions

    func run(id: Int64) throws -> Run? { try Run.fetchOne(db, key: id) }
    func recentRuns(limit: Int) throws -> [Run] {
        try Run.fetchAll(db, sql: "SELECT * FROM run ORDER BY id DESC LIMIT ?", arguments: [limit])
    }
    func runUsers() throws -> [Int64: String] { try names(sql: "SELECT id, user FROM run") }
    func logLines(run id: Int64, after seq: Int64, device: String?, limit: Int) throws -> [RunLogLine] {
        try RunQueue.logLines(db, run: id, after: seq, device: device, limit: limit)
    }
    func results(run id: Int64, device: String?) throws -> [RunResult] { try RunQueue.results(db, run: id, device: device) }
    func lastLogSeq(run id: Int64) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM run_log WHERE run_id = ?", arguments: [id]) ?? 0
    }
    func failedDeviceNames(run id: Int64) throws -> [String] {
        try String.fetchAll(db, sql: "SELECT DISTINCT device_name FROM result WHERE run_id = ? AND NOT success AND device_name != '' ORDER BY device_name",
                            arguments: [id])
    }
    func succeededDeviceNames(run id: Int64, service: String) throws -> [String] {
        try String.fetchAll(db, sql: "SELECT device_name FROM result WHERE run_id = ? AND service_name = ? AND success", arguments: [id, service])
    }
    func stopRequests(among runs: [Int64]) throws -> [(run: Int64, reason: String)] {
        if runs.isEmpty { return [] }
        return try Row.fetchAll(db, sql: "SELECT id, reason FROM run WHERE status = 'running' AND stop_requested AND id IN (\(runs.map(String.init).joined(separator: ",")))")
            .map { (run: $0[0], reason: $0[1]) }
    }
    func runsNoLongerOwned(among runs: [Int64], engineId: Int64) throws -> [(run: Int64, status: Run.Status)] {
        if runs.isEmpty { return [] }
        return try Row.fetchAll(db, sql: "SELECT id, status FROM run WHERE (status <> 'running' OR engine_id IS NOT ?) AND id IN (\(runs.map(String.init).joined(separator: ",")))",
                                arguments: [engineId])
            .map { (run: $0[0], status: Run.Status(rawValue: $0[1]) ?? .interrupted) }
    }
    func session(id: Int64) throws -> SessionRecord? { try SessionRecord.fetchOne(db, key: id) }
    func recentSessions(limit: Int) throws -> [SessionRecord] {
        try SessionRecord.fetchAll(db, sql: "SELECT * FROM session ORDER BY id DESC LIMIT ?", arguments: [limit])
    }

    // MARK: configurations

    func configSnapshots(device name: String) throws -> [ConfigSnapshot] { try ConfigHistory.snapshots(db, device: name) }
    func latestConfigSnapshot(deviceId: Int64) throws -> ConfigSnapshot? { try ConfigHistory.latest(db, deviceId: deviceId) }
    func allConfigSnapshots() throws -> [ConfigSnapshot] {
        try ConfigSnapshot.fetchAll(db, sql: "SELECT * FROM config_snapshot ORDER BY created_at, id")
    }
    func searchConfigurations(pattern: ConfigSearch.Pattern, context: Int, devices: Set<Int64>?) throws -> ConfigSearch.Result {
        try ConfigSearch.search(db, pattern: pattern, context: context, devices: devices)
    }

    // MARK: scheduler reads

    func hasUnscheduledActiveTask() throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT EXISTS(SELECT 1 FROM task WHERE next_fire IS NULL AND active = 1)") ?? false
    }
    func earliestNextFire() throws -> Date? {
        try Date.fetchOne(db, sql: "SELECT next_fire FROM task WHERE next_fire IS NOT NULL AND active = 1 ORDER BY next_fire LIMIT 1")
    }
    func schedulerHasWork(now: Date) throws -> Bool {
        if try Bool.fetchOne(db, sql: "SELECT EXISTS(SELECT 1 FROM task WHERE next_fire <= ? AND active = 1)", arguments: [now]) ?? false { return true }
        if try hasUnscheduledActiveTask() { return true }
        return try Bool.fetchOne(db, sql: """
            SELECT EXISTS(SELECT 1 FROM task JOIN run ON run.id = task.last_run_id
                          WHERE task.last_run_status IN ('queued', 'running') AND run.status <> task.last_run_status)
            """) ?? false
    }

    // MARK: transaction

    func savepoint<T>(_ body: (any StoreTransaction) throws -> T) throws -> T {
        var value: T?
        try db.inSavepoint {
            value = try body(self)
            return .commit
        }
        return value!
    }

    // MARK: inventory writes

    func upsert(device: Device, updateMembership: Bool) throws -> Device {
        try Inventory.upsert(db, device: device, updateMembership: updateMembership)
    }
    func upsert(pool: Pool, manualDevices: [String]?, updateMembership: Bool) throws -> Pool {
        try Inventory.upsert(db, pool: pool, manualDevices: manualDevices, updateMembership: updateMembership)
    }
    func recomputePoolMembership() throws { try PoolMembership.recomputeAll(db) }
    func upsertLink(name: String, source: String, destination: String, description: String, properties: [String: JSONValue]) throws -> Link {
        try Inventory.upsertLink(db, name: name, source: source, destination: destination, description: description, properties: properties)
    }
    func addWorkflowNode(workflowId: Int64, serviceId: Int64, isStart: Bool) throws {
        try Inventory.addNode(db, workflowId: workflowId, serviceId: serviceId, isStart: isStart)
    }
    func upsert(edge: WorkflowEdge) throws -> WorkflowEdge { try Inventory.upsertEdge(db, edge) }
    func deletePool(named name: String) throws { try Inventory.deletePool(db, named: name) }
    func upsert(credential: Credential) throws -> Credential { try Inventory.upsert(db, credential: credential) }
    func upsert(service: Service) throws -> Service { try Inventory.upsert(db, service: service) }
    func log(user: String, _ content: String, targetType: String, targetName: String) throws {
        try Inventory.log(db, user: user, content, targetType: targetType, targetName: targetName)
    }
    func append(_ entry: ChangelogEntry) throws {
        var e = entry
        try e.insert(db)
    }
    func setBackupStatus(device name: String, success: Bool, at time: Date) throws {
        guard var current = try Inventory.device(db, named: name) else { return }
        let status = success ? "success" : "failure"
        let changed = current.lastBackupStatus != status
        try db.execute(sql: "UPDATE device SET last_backup_status = ?, last_backup_time = ? WHERE id = ?",
                       arguments: [status, time, current.id])
        if changed {
            // Pools may select on last_backup_status.
            current.lastBackupStatus = status
            current.lastBackupTime = time
            try PoolMembership.deviceChanged(db, current)
        }
    }
    func setReachability(device name: String, reachable: Bool, at time: Date) throws {
        try db.execute(sql: "UPDATE device SET reachable = ?, last_reachability_time = ? WHERE name = ?",
                       arguments: [reachable, time, name])
    }

    // MARK: tasks

    func upsert(task: ScheduledTask) throws -> ScheduledTask { try Inventory.upsert(db, task: task) }
    func deleteTask(id: Int64) throws { try db.execute(sql: "DELETE FROM task WHERE id = ?", arguments: [id]) }
    func setTaskActivation(id: Int64, active: Bool, nextFire: Date?) throws {
        try db.execute(sql: "UPDATE task SET active = ?, next_fire = ? WHERE id = ?", arguments: [active, nextFire, id])
    }
    func refreshTaskRunStatuses() throws {
        try db.execute(sql: """
            UPDATE task SET last_run_status = (SELECT status FROM run WHERE run.id = task.last_run_id)
            WHERE last_run_status IN ('queued', 'running')
              AND EXISTS(SELECT 1 FROM run WHERE run.id = task.last_run_id AND run.status <> task.last_run_status)
            """)
    }
    func unscheduledActiveTasks() throws -> [ScheduledTask] {
        try ScheduledTask.fetchAll(db, sql: "SELECT * FROM task WHERE next_fire IS NULL AND active = 1")
    }
    func scheduleFirstFire(taskId: Int64, at time: Date) throws {
        try db.execute(sql: "UPDATE task SET next_fire = ? WHERE id = ? AND next_fire IS NULL AND active = 1", arguments: [time, taskId])
    }
    func dueTasks(now: Date) throws -> [DueTask] {
        // The raw stored value is the claim's token: comparing the text SQLite holds, not a Date
        // re-encoded from it, keeps the compare-and-set exact.
        try Row.fetchAll(db, sql: "SELECT *, next_fire AS raw_next_fire FROM task WHERE next_fire <= ? AND active = 1 ORDER BY next_fire", arguments: [now])
            .map { row in DueTask(task: try ScheduledTask(row: row), token: FireToken(databaseValue: row["raw_next_fire"])) }
    }
    func pendingRunsByTask() throws -> [Int64: [Int64]] {
        var going: [Int64: [Int64]] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT task_id, id FROM run WHERE status IN ('queued', 'running') AND task_id IS NOT NULL ORDER BY id") {
            going[row["task_id"], default: []].append(row["id"])
        }
        return going
    }
    func claimDueTask(id: Int64, token: FireToken, next: Date?) throws -> Bool {
        try db.execute(sql: "UPDATE task SET next_fire = ?, active = ? WHERE id = ? AND next_fire = ? AND active = 1",
                       arguments: [next, next != nil, id, token.databaseValue])
        return db.changesCount == 1
    }
    func deactivateTask(id: Int64, ifNextFire token: FireToken) throws -> Bool {
        try db.execute(sql: "UPDATE task SET next_fire = NULL, active = 0 WHERE id = ? AND active = 1 AND next_fire IS ?",
                       arguments: [id, token.databaseValue])
        return db.changesCount == 1
    }
    func recordTaskFire(taskId: Int64, at time: Date, run: Run) throws {
        // The run's due time: unique per task, so a second run for it is a conflict.
        try db.execute(sql: "UPDATE run SET due_at = ? WHERE id = ?", arguments: [time, run.id])
        try db.execute(sql: "UPDATE task SET last_fire = ?, last_run_id = ?, last_run_status = ? WHERE id = ?",
                       arguments: [time, run.id, run.status.rawValue, taskId])
    }

    // MARK: runs, configurations

    func enqueueRun(service name: String, trigger: Run.Trigger, user: String, devices: [String], pools: [String],
                    filter: String, parameters: [String: JSONValue], taskId: Int64?,
                    restartOf: Int64?, restartFrom: String) throws -> Run {
        try RunQueue.enqueue(db, service: name, trigger: trigger, user: user, devices: devices, pools: pools, filter: filter,
                             parameters: parameters, taskId: taskId, restartOf: restartOf, restartFrom: restartFrom)
    }
    func checkTargets(service: Service, devices: [String], pools: [String], filter: String) throws {
        try RunTargets.check(db, service: service, devices: devices, pools: pools, filter: filter)
    }
    func requestStop(run id: Int64, user: String) throws -> Run { try RunQueue.requestStop(db, id, user: user) }
    func recordConfig(deviceId: Int64, runId: Int64?, content: String) throws -> ConfigSnapshot? {
        try ConfigHistory.record(db, deviceId: deviceId, runId: runId, content: content)
    }
    func setGitCommit(snapshot id: Int64, commit: String) throws {
        try ConfigHistory.setGitCommit(db, snapshot: id, commit: commit)
    }

    private func names(sql: String) throws -> [Int64: String] {
        var out: [Int64: String] = [:]
        for row in try Row.fetchAll(db, sql: sql) { out[row[0]] = row[1] }
        return out
    }
}

extension FireToken {
    init(databaseValue value: DatabaseValue) {
        switch value.storage {
        case .null: self.init(.null)
        case .int64(let i): self.init(.integer(i))
        case .double(let d): self.init(.real(d))
        case .string(let s): self.init(.text(s))
        case .blob(let b): self.init(.text(String(decoding: b, as: UTF8.self)))
        }
    }

    var databaseValue: DatabaseValue {
        switch stored {
        case .null: return .null
        case .integer(let i): return i.databaseValue
        case .real(let d): return d.databaseValue
        case .text(let s): return s.databaseValue
        }
    }
}
