import Foundation
import PostgresNIO
import Store

/// The write half of `StoreTransaction` on PostgreSQL. Pool membership uses Store's pure parts
/// (`PoolMembership.memberSet`, `matches`, `memberCount`, `MemberSet`'s encoding): the member sets
/// are the same bytes on both backends.
extension PostgresExecutor {
    func savepoint<T>(_ body: (any StoreTransaction) throws -> T) throws -> T {
        savepointDepth += 1
        let name = "sb_\(savepointDepth)"
        defer { savepointDepth -= 1 }
        try read("SAVEPOINT \(name)")
        do {
            let value = try body(self)
            try read("RELEASE SAVEPOINT \(name)")
            return value
        } catch {
            // After a failed statement PostgreSQL refuses everything until the rollback to the savepoint.
            _ = try? read("ROLLBACK TO SAVEPOINT \(name)")
            _ = try? read("RELEASE SAVEPOINT \(name)")
            throw error
        }
    }

    // MARK: inventory

    func upsert(device: Device, updateMembership: Bool) throws -> Device {
        var d = device
        d.platform = Inventory.normalizedPlatform(d.platform)
        try Inventory.validate(d)
        if let existing = try int("SELECT id FROM device WHERE name = $1", [.text(d.name)]) {
            d.id = existing
            try update(d, in: "device", id: existing)
        } else {
            d.id = nil
            d.id = try insert(d, into: "device")
        }
        if updateMembership { try deviceChanged(d) }
        return d
    }

    func upsert(pool: Pool, manualDevices: [String]?, updateMembership: Bool) throws -> Pool {
        var p = pool
        if p.name.trimmingCharacters(in: .whitespaces).isEmpty { throw StoreError.invalid("pool: name is empty") }
        p.criteriaKey = Pool.canonicalKey(p.criteria)
        try PoolMembership.validate(p)
        if let existing = try int("SELECT id FROM pool WHERE name = $1", [.text(p.name)]) {
            p.id = existing
            p.memberCount = Int(try int("SELECT member_count::bigint FROM pool WHERE id = $1", [.int(Int(existing))]) ?? 0)
            try update(p, in: "pool", id: existing)
        } else {
            p.id = nil
            p.id = try insert(p, into: "pool")
        }
        if let manualDevices {
            try write("DELETE FROM pool_manual WHERE pool_id = $1", [.int(Int(p.id!))])
            for name in manualDevices {
                guard let did = try int("SELECT id FROM device WHERE name = $1", [.text(name)]) else {
                    throw StoreError.invalid("pool \(p.name): device '\(name)' does not exist")
                }
                try write("INSERT INTO pool_manual (pool_id, device_id) VALUES ($1, $2) ON CONFLICT DO NOTHING", [.int(Int(p.id!)), .int(Int(did))])
            }
        }
        if !updateMembership { return p }
        // The pool's criteria set, computed once per distinct criteria.
        let key = p.criteriaKey
        if !key.isEmpty, try int("SELECT id FROM member_set WHERE criteria_key = $1", [.text(key)]) == nil {
            let set = try PoolMembership.memberSet(criteriaKey: key, devices: try list(Device.self, "device"))
            try write("INSERT INTO member_set (criteria_key, members, count) VALUES ($1, $2, $3)",
                      [.text(key), .bytes(set.encoded()), .int(set.count)])
        }
        try dropUnusedSets()
        try recountPools([p.id!])
        p.memberCount = Int(try int("SELECT member_count::bigint FROM pool WHERE id = $1", [.int(Int(p.id!))]) ?? 0)
        return p
    }

    func deletePool(named name: String) throws {
        _ = try poolId(named: name)
        try write("DELETE FROM pool WHERE name = $1", [.text(name)])
        try dropUnusedSets()
    }

    func upsert(credential: Credential) throws -> Credential {
        var c = credential
        try Inventory.validate(credential: c)
        for p in c.pools where try pool(named: p) == nil {
            throw StoreError.invalid("credential \(c.name): pool '\(p)' does not exist")
        }
        if let existing = try int("SELECT id FROM credential WHERE name = $1", [.text(c.name)]) {
            c.id = existing
            try update(c, in: "credential", id: existing)
        } else {
            c.id = nil
            c.id = try insert(c, into: "credential")
        }
        return c
    }

    func upsert(service: Service) throws -> Service {
        var s = service
        if s.name.isEmpty { throw StoreError.invalid("service: name is empty") }
        if let existing = try self.service(named: s.name) {
            s.id = existing.id
            s.createdAt = existing.createdAt
            s.updatedAt = existing.updatedAt
            // Only a real change moves updated_at: re-importing the same file changes nothing.
            if s != existing {
                s.updatedAt = Date()
                try update(s, in: "service", id: existing.id!)
            }
        } else {
            s.id = nil
            s.createdAt = Date()
            s.updatedAt = s.createdAt
            s.id = try insert(s, into: "service")
        }
        return s
    }

    func log(user: String, _ content: String, targetType: String, targetName: String) throws {
        try append(ChangelogEntry(user: user, targetType: targetType, targetName: targetName, content: content))
    }

    func append(_ entry: ChangelogEntry) throws {
        _ = try insert(entry, into: "changelog")
        Inventory.recordChange(entry)
    }

    func setBackupStatus(device name: String, success: Bool, at time: Date) throws {
        guard var current = try device(named: name) else { return }
        let status = success ? "success" : "failure"
        let changed = current.lastBackupStatus != status
        try write("UPDATE device SET last_backup_status = $1, last_backup_time = $2 WHERE id = $3",
                  [.text(status), .date(time), .int(Int(current.id!))])
        if changed {
            // Pools may select on last_backup_status.
            current.lastBackupStatus = status
            current.lastBackupTime = time
            try deviceChanged(current)
        }
    }

    func setReachability(device name: String, reachable: Bool, at time: Date) throws {
        try write("UPDATE device SET reachable = $1, last_reachability_time = $2 WHERE name = $3", [.bool(reachable), .date(time), .text(name)])
    }

    func upsertLink(name: String, source: String, destination: String, description: String, properties: [String: JSONValue]) throws -> Link {
        guard let s = try int("SELECT id FROM device WHERE name = $1", [.text(source)]) else {
            throw StoreError.invalid("link \(name): source device '\(source)' does not exist")
        }
        guard let d = try int("SELECT id FROM device WHERE name = $1", [.text(destination)]) else {
            throw StoreError.invalid("link \(name): destination device '\(destination)' does not exist")
        }
        var link = Link(name: name, sourceId: s, destinationId: d, description: description, properties: properties)
        if let existing = try int("SELECT id FROM link WHERE name = $1", [.text(name)]) {
            link.id = existing
            try update(link, in: "link", id: existing)
        } else {
            link.id = try insert(link, into: "link")
        }
        return link
    }

    func addWorkflowNode(workflowId: Int64, serviceId: Int64, isStart: Bool) throws {
        try write("INSERT INTO workflow_node (workflow_id, service_id, is_start) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                  [.int(Int(workflowId)), .int(Int(serviceId)), .bool(isStart)])
        if isStart {
            try write("UPDATE workflow_node SET is_start = (service_id = $1) WHERE workflow_id = $2", [.int(Int(serviceId)), .int(Int(workflowId))])
        }
    }

    func upsert(edge: WorkflowEdge) throws -> WorkflowEdge {
        var e = edge
        try addWorkflowNode(workflowId: e.workflowId, serviceId: e.sourceId, isStart: false)
        try addWorkflowNode(workflowId: e.workflowId, serviceId: e.destinationId, isStart: false)
        if let existing = try int("SELECT id FROM workflow_edge WHERE workflow_id = $1 AND name = $2", [.int(Int(e.workflowId)), .text(e.name)]) {
            e.id = existing
            try update(e, in: "workflow_edge", id: existing)
        } else {
            e.id = try insert(e, into: "workflow_edge")
        }
        return e
    }

    // MARK: bulk writes (an import)
    //
    // A batch of new records (no name stored yet, none twice) is one INSERT of a JSON array, typed
    // by the same `jsonb_populate_record` as a single insert; any other batch goes record by record.
    // Checks a single upsert makes before writing are made here too, and a failing one fails the
    // batch (the import then replays it record by record for the exact error).

    /// Whether none of `names` is in `table` and none repeats.
    func allNew(_ table: String, _ names: [String], column: String = "name") throws -> Bool {
        if Set(names).count != names.count { return false }
        if names.isEmpty { return true }
        return try !bool("SELECT EXISTS(SELECT 1 FROM \(table) WHERE \(column) IN (SELECT jsonb_array_elements_text($1::jsonb)))",
                         [.text(try PGRecords.encode(names))])
    }

    /// Inserts records in one statement, in order; returns the new ids by name.
    func insertAll<T: Encodable>(_ records: [T], into table: String) throws -> [String: Int64] {
        if records.isEmpty { return [:] }
        let names = (columns[table] ?? []).filter { $0 != "id" }.map { "\"\($0)\"" }
        let sql = """
            INSERT INTO \(table) (\(names.joined(separator: ", ")))
            SELECT \(names.map { "p.\($0)" }.joined(separator: ", "))
            FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS e(r, n)
            CROSS JOIN LATERAL jsonb_populate_record(NULL::\(table), \(snakeObject(table, "e.r"))) AS p
            ORDER BY e.n RETURNING id, name
            """
        var ids: [String: Int64] = [:]
        for row in try write(sql, [.text(try PGRecords.encode(records))]) {
            ids[try row.value(1, as: String.self)] = try row.value(0, as: Int64.self)
        }
        if ids.count != records.count { throw StoreError(.database, "PostgreSQL: \(table): \(records.count) records inserted, \(ids.count) ids returned") }
        return ids
    }

    func upsert(devices: [Device]) throws -> [Device] {
        var out: [Device] = []
        out.reserveCapacity(devices.count)
        for device in devices {
            var d = device
            d.platform = Inventory.normalizedPlatform(d.platform)
            try Inventory.validate(d)
            d.id = nil
            out.append(d)
        }
        guard try allNew("device", out.map(\.name)) else { return try devices.map { try upsert(device: $0, updateMembership: false) } }
        let ids = try insertAll(out, into: "device")
        for i in out.indices { out[i].id = ids[out[i].name] }
        return out
    }

    func upsertLinks(_ links: [LinkUpsert]) throws {
        if links.isEmpty { return }
        var ids: [String: Int64] = [:]
        let ends = Array(Set(links.flatMap { [$0.source, $0.destination] }))
        for row in try read("SELECT name, id FROM device WHERE name IN (SELECT jsonb_array_elements_text($1::jsonb))", [.text(try PGRecords.encode(ends))]) {
            ids[try row.value(0, as: String.self)] = try row.value(1, as: Int64.self)
        }
        guard links.allSatisfy({ ids[$0.source] != nil && ids[$0.destination] != nil }), try allNew("link", links.map(\.name)) else {
            for l in links {
                try upsertLink(name: l.name, source: l.source, destination: l.destination, description: l.description, properties: l.properties)
            }
            return
        }
        _ = try insertAll(links.map { Link(name: $0.name, sourceId: ids[$0.source]!, destinationId: ids[$0.destination]!,
                                           description: $0.description, properties: $0.properties) }, into: "link")
    }

    func upsert(pools: [(pool: Pool, manualDevices: [String]?)]) throws -> [Pool] {
        func oneByOne() throws -> [Pool] {
            try pools.map { try upsert(pool: $0.pool, manualDevices: $0.manualDevices, updateMembership: false) }
        }
        // Manual members are written one pool at a time.
        if pools.contains(where: { !($0.manualDevices?.isEmpty ?? true) }) { return try oneByOne() }
        var out: [Pool] = []
        out.reserveCapacity(pools.count)
        for entry in pools {
            var p = entry.pool
            if p.name.trimmingCharacters(in: .whitespaces).isEmpty { throw StoreError.invalid("pool: name is empty") }
            p.criteriaKey = Pool.canonicalKey(p.criteria)
            try PoolMembership.validate(p)
            p.id = nil
            out.append(p)
        }
        guard try allNew("pool", out.map(\.name)) else { return try oneByOne() }
        let ids = try insertAll(out, into: "pool")
        for i in out.indices { out[i].id = ids[out[i].name] }
        return out
    }

    func upsert(services: [Service]) throws -> [Service] {
        guard !services.contains(where: { $0.name.isEmpty }), try allNew("service", services.map(\.name)) else {
            return try services.map { try upsert(service: $0) }
        }
        var out = services
        for i in out.indices {
            out[i].id = nil
            out[i].createdAt = Date()
            out[i].updatedAt = out[i].createdAt
        }
        let ids = try insertAll(out, into: "service")
        for i in out.indices { out[i].id = ids[out[i].name] }
        return out
    }

    /// The nodes in one INSERT (in order, duplicates and existing nodes ignored), then one UPDATE for
    /// the start nodes: per workflow, the last start of the batch, which is where the one-by-one
    /// updates leave it.
    func addWorkflowNodes(_ nodes: [WorkflowNodeAdd]) throws {
        if nodes.isEmpty { return }
        try write("""
            INSERT INTO workflow_node (workflow_id, service_id, is_start)
            SELECT (x.e->>0)::bigint, (x.e->>1)::bigint, (x.e->>2)::boolean
            FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS x(e, n) ORDER BY x.n
            ON CONFLICT DO NOTHING
            """, [.text(try PGRecords.encode(nodes.map { [JSONValue.int(Int($0.workflowId)), .int(Int($0.serviceId)), .bool($0.isStart)] }))])
        var lastStart: [Int64: Int64] = [:]
        for n in nodes where n.isStart { lastStart[n.workflowId] = n.serviceId }
        if lastStart.isEmpty { return }
        try write("""
            UPDATE workflow_node SET is_start = (workflow_node.service_id = u.s)
            FROM (SELECT (e->>0)::bigint AS w, (e->>1)::bigint AS s FROM jsonb_array_elements($1::jsonb) e) u
            WHERE workflow_node.workflow_id = u.w
            """, [.text(try PGRecords.encode(lastStart.map { [$0.key, $0.value] }))])
    }

    func upsert(tasks: [ScheduledTask]) throws -> [ScheduledTask] {
        guard !tasks.contains(where: { $0.name.isEmpty }), try allNew("task", tasks.map(\.name)) else {
            return try tasks.map { try upsert(task: $0) }
        }
        var out = tasks
        for i in out.indices { out[i].id = nil }
        let ids = try insertAll(out, into: "task")
        for i in out.indices { out[i].id = ids[out[i].name] }
        return out
    }

    // MARK: pool membership

    /// Every member set from scratch (sets updated in place, so unchanged ones keep their ids), then
    /// every pool's count: an import's one pass per distinct criteria set.
    func recomputePoolMembership() throws {
        let devices = try list(Device.self, "device")
        var existing: [String: String] = [:]
        for row in try read("SELECT criteria_key, encode(members, 'base64') FROM member_set") {
            existing[try row.value(0, as: String.self)] = try row.value(1, as: String.self)
        }
        for key in try strings("SELECT DISTINCT criteria_key FROM pool WHERE criteria_key <> ''") {
            let set = try PoolMembership.memberSet(criteriaKey: key, devices: devices)
            if let old = existing[key] {
                if Self.decodeSet(old) != set {
                    try write("UPDATE member_set SET members = $1, count = $2 WHERE criteria_key = $3", [.bytes(set.encoded()), .int(set.count), .text(key)])
                }
            } else {
                try write("INSERT INTO member_set (criteria_key, members, count) VALUES ($1, $2, $3)", [.text(key), .bytes(set.encoded()), .int(set.count)])
            }
        }
        try dropUnusedSets()
        let all = try read("SELECT id FROM pool").map { try $0.value(0, as: Int64.self) }
        if !all.isEmpty { try recountPools(all) }
    }

    /// Re-evaluates one inserted or updated device against every criteria set.
    func deviceChanged(_ device: Device) throws {
        guard let id = device.id else { return }
        var changedKeys: [String] = []
        for row in try read("SELECT id, criteria_key, encode(members, 'base64') FROM member_set") {
            let key = try row.value(1, as: String.self)
            var set = Self.decodeSet(try row.value(2, as: String.self))
            let changed = try PoolMembership.matches(criteriaKey: key, device: device) ? set.insert(id) : set.remove(id)
            if changed {
                try write("UPDATE member_set SET members = $1, count = $2 WHERE id = $3",
                          [.bytes(set.encoded()), .int(set.count), .int(Int(try row.value(0, as: Int64.self)))])
                changedKeys.append(key)
            }
        }
        var pools = Set(try read("SELECT pool_id FROM pool_manual WHERE device_id = $1", [.int(Int(id))]).map { try $0.value(0, as: Int64.self) })
        if !changedKeys.isEmpty {
            for row in try read("SELECT id FROM pool WHERE criteria_key IN (SELECT jsonb_array_elements_text($1::jsonb))",
                                [.text(try PGRecords.encode(changedKeys))]) {
                pools.insert(try row.value(0, as: Int64.self))
            }
        }
        if !pools.isEmpty { try recountPools(Array(pools)) }
    }

    /// Sets `member_count` for the given pools: the criteria set plus manual devices outside it.
    /// Counts and manual members are read in bulk (an import recounts thousands of pools).
    func recountPools(_ ids: [Int64]) throws {
        let idList = Self.idList(ids)
        var counts: [String: Int] = [:]
        for row in try read("SELECT criteria_key, count::bigint FROM member_set") {
            counts[try row.value(0, as: String.self)] = Int(try row.value(1, as: Int64.self))
        }
        var manual: [Int64: [Int64]] = [:]
        for row in try read("SELECT pool_id, device_id FROM pool_manual WHERE pool_id IN (\(idList))") {
            manual[try row.value(0, as: Int64.self), default: []].append(try row.value(1, as: Int64.self))
        }
        var sets: [String: MemberSet] = [:]
        var updates: [[Int64]] = []
        for row in try read("SELECT id, criteria_key, member_count::bigint FROM pool WHERE id IN (\(idList))") {
            let id = try row.value(0, as: Int64.self)
            let key = try row.value(1, as: String.self)
            let count = try PoolMembership.memberCount(criteriaKey: key, setCount: counts[key], manual: manual[id] ?? []) {
                if let set = sets[key] { return set }
                let blob = try strings("SELECT encode(members, 'base64') FROM member_set WHERE criteria_key = $1", [.text(key)]).first
                let set = blob.map(Self.decodeSet) ?? MemberSet(sortedIds: [])
                sets[key] = set
                return set
            }
            if Int64(count) != (try row.value(2, as: Int64.self)) { updates.append([id, Int64(count)]) }
        }
        if !updates.isEmpty {
            try write("""
                UPDATE pool SET member_count = u.count FROM (SELECT (e->>0)::bigint AS id, (e->>1)::integer AS count
                FROM jsonb_array_elements($1::jsonb) e) u WHERE pool.id = u.id
                """, [.text(try PGRecords.encode(updates))])
        }
    }

    func dropUnusedSets() throws {
        try write("DELETE FROM member_set WHERE criteria_key NOT IN (SELECT DISTINCT criteria_key FROM pool)")
    }

    // MARK: tasks

    func upsert(task: ScheduledTask) throws -> ScheduledTask {
        var t = task
        if t.name.isEmpty { throw StoreError.invalid("task: name is empty") }
        if let existing = try int("SELECT id FROM task WHERE name = $1", [.text(t.name)]) {
            t.id = existing
            try update(t, in: "task", id: existing)
        } else {
            t.id = nil
            t.id = try insert(t, into: "task")
        }
        return t
    }

    func deleteTask(id: Int64) throws { try write("DELETE FROM task WHERE id = $1", [.int(Int(id))]) }

    func setTaskActivation(id: Int64, active: Bool, nextFire: Date?) throws {
        try write("UPDATE task SET active = $1, next_fire = $2 WHERE id = $3", [.bool(active), nextFire.map { .date($0) } ?? .null, .int(Int(id))])
    }

    func refreshTaskRunStatuses() throws {
        try write("""
            UPDATE task SET last_run_status = run.status FROM run
            WHERE run.id = task.last_run_id AND task.last_run_status IN ('queued', 'running') AND run.status <> task.last_run_status
            """)
    }

    func unscheduledActiveTasks() throws -> [ScheduledTask] {
        try list(ScheduledTask.self, "task", "WHERE next_fire IS NULL AND active ORDER BY id")
    }

    func scheduleFirstFire(taskId: Int64, at time: Date) throws {
        try write("UPDATE task SET next_fire = $1 WHERE id = $2 AND next_fire IS NULL AND active", [.date(time), .int(Int(taskId))])
    }

    private struct RawFire: Decodable { var rawNextFire: String? }

    func dueTasks(now: Date) throws -> [DueTask] {
        // The token is `next_fire` as PostgreSQL prints it (to the microsecond), compared back as a
        // timestamptz: the compare-and-set is exact.
        let json = try listJSON("task", "WHERE next_fire <= $1 AND active ORDER BY next_fire", [.date(now)],
                                extra: ", task.next_fire::text AS \"rawNextFire\"")
        let tasks = try PGRecords.decodeList(ScheduledTask.self, json: json)
        let raw = try PGRecords.decodeList(RawFire.self, json: json)
        return zip(tasks, raw).map { DueTask(task: $0, token: FireToken(storedText: $1.rawNextFire)) }
    }

    func pendingRunsByTask() throws -> [Int64: [Int64]] {
        var going: [Int64: [Int64]] = [:]
        for row in try read("SELECT task_id, id FROM run WHERE status IN ('queued', 'running') AND task_id IS NOT NULL ORDER BY id") {
            going[try row.value(0, as: Int64.self), default: []].append(try row.value(1, as: Int64.self))
        }
        return going
    }

    func claimDueTask(id: Int64, token: FireToken, next: Date?) throws -> Bool {
        try !write("UPDATE task SET next_fire = $1, active = $2 WHERE id = $3 AND next_fire = $4::timestamptz AND active RETURNING id",
                   [next.map { .date($0) } ?? .null, .bool(next != nil), .int(Int(id)), token.storedText.map { .text($0) } ?? .null]).isEmpty
    }

    func deactivateTask(id: Int64, ifNextFire token: FireToken) throws -> Bool {
        try !write("UPDATE task SET next_fire = NULL, active = false WHERE id = $1 AND active AND next_fire IS NOT DISTINCT FROM $2::timestamptz RETURNING id",
                   [.int(Int(id)), token.storedText.map { .text($0) } ?? .null]).isEmpty
    }

    func recordTaskFire(taskId: Int64, at time: Date, run: Run) throws {
        // The run's due time: unique per task, so a second run for it is a conflict.
        try write("UPDATE run SET due_at = $1 WHERE id = $2", [.date(time), run.id.map { .int(Int($0)) } ?? .null])
        try write("UPDATE task SET last_fire = $1, last_run_id = $2, last_run_status = $3 WHERE id = $4",
                  [.date(time), run.id.map { .int(Int($0)) } ?? .null, .text(run.status.rawValue), .int(Int(taskId))])
    }

    // MARK: runs, configurations

    func enqueueRun(service name: String, trigger: Run.Trigger, user: String, devices: [String], pools: [String],
                    filter: String, parameters: [String: JSONValue], taskId: Int64?,
                    restartOf: Int64?, restartFrom: String) throws -> Run {
        let (service, prepared) = try RunQueue.prepareRun(self, service: name, trigger: trigger, user: user, devices: devices,
                                                          pools: pools, filter: filter, parameters: parameters, taskId: taskId,
                                                          restartOf: restartOf, restartFrom: restartFrom)
        var run = prepared
        run.id = try insert(run, into: "run")
        RunQueue.logLaunch(run, service: service, devices: devices, pools: pools, filter: filter)
        return run
    }

    func checkTargets(service: Service, devices: [String], pools: [String], filter: String) throws {
        try RunTargets.check(self as any StoreReader, service: service, devices: devices, pools: pools, filter: filter)
    }

    func requestStop(run id: Int64, user: String) throws -> Run {
        // The row locked first: an engine claiming it meanwhile waits, so a stop never overwrites a claim.
        try read("SELECT 1 FROM run WHERE id = $1 FOR UPDATE", [.int(Int(id))])
        guard let run = try run(id: id) else { throw StoreError.notFound("no run \(id)") }
        guard let stopped = RunQueue.stopping(run, user: user) else { return run }
        try update(stopped, in: "run", id: id)
        // Wakes the engines at commit (`PostgresBackend.stopWaiter`): the one running it stops at once.
        if stopped.status == .running { try write("SELECT pg_notify('\(PostgresBackend.stopChannel)', $1)", [.text(String(id))]) }
        return stopped
    }

    func recordConfig(deviceId: Int64, runId: Int64?, content: String) throws -> ConfigSnapshot? {
        let digest = ConfigHistory.sha256(content)
        if let latest = try latestConfigSnapshot(deviceId: deviceId), latest.sha256 == digest { return nil }
        var snapshot = ConfigSnapshot(deviceId: deviceId, runId: runId, sha256: digest, content: content)
        snapshot.createdAt = Date()
        snapshot.id = try insert(snapshot, into: "config_snapshot")
        return snapshot
    }

    func setGitCommit(snapshot id: Int64, commit: String) throws {
        try write("UPDATE config_snapshot SET git_commit = $1 WHERE id = $2", [.text(commit), .int(Int(id))])
    }
}
