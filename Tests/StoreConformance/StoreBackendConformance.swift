import Foundation
import Store

/// The conformance suite every `StoreBackend` passes, after River's `riverdrivertest`: each check
/// takes a fresh, empty backend and uses the neutral API only, so the same checks run against SQLite
/// (`SQLiteBackendConformanceTests` in StoreTests) and PostgreSQL (`PostgresBackendConformanceTests`
/// in StorePostgresTests). One definition, in a target both test targets depend on; it needs no
/// XCTest (a failed check throws `Failure`).
public enum StoreBackendConformance {
    public struct Failure: Error, CustomStringConvertible { public var description: String }
    public struct Planted: Error, Equatable { public init() {} }

    public static func expect(_ ok: Bool, _ what: @autoclosure () -> String, line: UInt = #line) throws {
        if !ok { throw Failure(description: "line \(line): \(what())") }
    }

    /// A service and a device to run it on.
    @discardableResult
    public static func seed(_ backend: any StoreBackend) throws -> Service {
        try backend.transaction { tx in
            try tx.upsert(device: Device(name: "r1", address: "192.0.2.1"))
            try tx.upsert(device: Device(name: "r2", address: "192.0.2.2"))
            return try tx.upsert(service: Service(name: "show", kind: .cli, parameters: ["commands": .array([.string("show clock")])]))
        }
    }

    /// What a backend declares matches what it hands out.
    public static func capabilitiesMatchWhatTheBackendOffers(_ backend: any StoreBackend) throws {
        let caps = backend.capabilities
        try expect((backend.changeWaiter() != nil) == caps.contains(.changeWakeups), "changeWaiter() agrees with .changeWakeups (\(caps))")
        let maintenance = backend.startMaintenance()
        maintenance?.stop()
        try expect((maintenance != nil) == caps.contains(.engineMaintenance), "startMaintenance() agrees with .engineMaintenance (\(caps))")
        try expect(!backend.location.isEmpty, "a location")
        let info = try backend.info()
        try expect(info.contains { $0.1 == backend.location }, "info names the location: \(info)")
    }

    /// A body's own error comes out unchanged and its writes are undone; a savepoint undoes only its part.
    public static func transactionsRollBackAndSavepointsNest(_ backend: any StoreBackend) throws {
        do {
            try backend.transaction { tx in
                try tx.upsert(device: Device(name: "gone", address: "192.0.2.9"))
                throw Planted()
            }
            throw Failure(description: "the transaction did not throw")
        } catch is Planted {}
        try expect(try backend.query { try $0.device(named: "gone") } == nil, "a failed transaction leaves nothing")

        try backend.transaction { tx in
            try tx.upsert(device: Device(name: "kept", address: "192.0.2.10"))
            do {
                _ = try tx.savepoint { inner in
                    try inner.upsert(device: Device(name: "undone", address: "192.0.2.11"))
                    throw Planted()
                }
            } catch is Planted {}
        }
        try expect(try backend.query { try $0.device(named: "kept") } != nil, "the outer transaction committed")
        try expect(try backend.query { try $0.device(named: "undone") } == nil, "the failed savepoint left nothing")
    }

    /// Each queued run is claimed once, oldest first, within the limit; an empty queue claims nothing.
    public static func queuedRunsAreClaimedOnceOldestFirst(_ backend: any StoreBackend) throws {
        try seed(backend)
        let ids = try backend.transaction { tx in
            try (0..<3).map { _ in try tx.enqueueRun(service: "show", trigger: .cli, user: "ann", devices: ["r1"]).id! }
        }
        let now = Date()
        let first = try backend.claimQueuedRuns(limit: 2, enginePid: 4242, at: now)
        try expect(first.map(\.id!) == Array(ids.prefix(2)), "the two oldest: \(first.map(\.id!)) of \(ids)")
        try expect(first.allSatisfy { $0.status == .running && $0.enginePid == 4242 }, "claimed runs are running for the engine")
        let second = try backend.claimQueuedRuns(limit: 5, enginePid: 4343, at: now)
        try expect(second.map(\.id!) == [ids[2]], "the third only: \(second.map(\.id!))")
        try expect(try backend.claimQueuedRuns(limit: 5, enginePid: 4343, at: now).isEmpty, "nothing left")
        try expect(try backend.query { try $0.run(id: ids[0])?.enginePid } == 4242, "the first claim stands")
    }

    /// Engines claiming at the same time never get the same run: the claim is conditional, not the read before it.
    public static func concurrentClaimsNeverShareARun(_ backend: any StoreBackend) throws {
        try seed(backend)
        let queued = try backend.transaction { tx in
            try (0..<40).map { _ in try tx.enqueueRun(service: "show", trigger: .cli, user: "ann").id! }
        }
        let claimed = ClaimLog()
        let start = DispatchSemaphore(value: 0)
        let group = DispatchGroup()
        for engine in 0..<4 {
            DispatchQueue.global().async(group: group) {
                start.wait()
                while let runs = try? backend.claimQueuedRuns(limit: 2, enginePid: Int32(100 + engine), at: Date()), !runs.isEmpty {
                    claimed.add(runs.map(\.id!))
                    usleep(1_000)
                }
            }
        }
        for _ in 0..<4 { start.signal() }
        group.wait()
        let ids = claimed.ids
        try expect(ids.count == Set(ids).count, "a run claimed twice: \(ids.count) claims of \(Set(ids).count) runs")
        try expect(Set(ids) == Set(queued), "every run claimed: \(Set(ids).count) of \(queued.count)")
    }

    public final class ClaimLog: @unchecked Sendable {
        private let lock = NSLock()
        private var all: [Int64] = []
        func add(_ ids: [Int64]) { lock.lock(); all += ids; lock.unlock() }
        var ids: [Int64] { lock.lock(); defer { lock.unlock() }; return all }
    }

    /// One engine per database: a second lock is refused while the first is held, and names its holder.
    /// With `.severalEngines`: every engine registers, is listed active, and is gone once released.
    public static func theEngineLockAdmitsOneEngine(_ backend: any StoreBackend) throws {
        if backend.capabilities.contains(.severalEngines) { return try severalEnginesRegister(backend) }
        try expect(backend.engineLockHolder() == nil, "no engine yet")
        guard let lock = try backend.acquireEngineLock() else { throw Failure(description: "the free lock was refused") }
        try expect(backend.engineLockHolder() == getpid(), "the holder is this process: \(String(describing: backend.engineLockHolder()))")
        try expect(try backend.acquireEngineLock() == nil, "a second engine is refused")
        lock.release()
        try expect(backend.engineLockHolder() == nil, "released")
        let again = try backend.acquireEngineLock()
        try expect(again != nil, "free again after release")
        again?.release()
    }

    static func severalEnginesRegister(_ backend: any StoreBackend) throws {
        try expect(backend.engineLockHolder() == nil, "no engine yet")
        try expect(try backend.engines(EngineThresholds()).isEmpty, "none listed")
        guard let first = try backend.acquireEngineLock(EngineIdentity(host: "h1", pid: 11, version: "9.9", capacity: 4, pools: ["eu-core"])),
              let second = try backend.acquireEngineLock(EngineIdentity(host: "h2", pid: 22, version: "9.9", capacity: 8)) else {
            throw Failure(description: "a registration was refused")
        }
        try expect(first.engineId != nil && second.engineId != nil && first.engineId != second.engineId, "two registrations")
        try expect(try first.heartbeat(), "a heartbeat of a live registration")
        let listed = try backend.engines(EngineThresholds())
        try expect(listed.map(\.host) == ["h1", "h2"] && listed.allSatisfy { $0.state == .active }, "both active: \(listed)")
        try expect(listed.first?.pools == ["eu-core"] && listed.first?.capacity == 4 && listed.first?.version == "9.9", "the identity: \(listed)")
        try expect(backend.engineLockHolder() != nil, "an engine serves the database")
        first.release()
        second.release()
        try expect(try backend.engines(EngineThresholds()).isEmpty, "released: none listed")
    }

    /// A run records the engine that claims it; a run ended or claimed elsewhere is no longer its engine's.
    public static func runsKnowTheirEngine(_ backend: any StoreBackend) throws {
        try seed(backend)
        let ids = try backend.transaction { tx in try (0..<2).map { _ in try tx.enqueueRun(service: "show", trigger: .cli, user: "ann").id! } }
        let claimed = try backend.claimQueuedRuns(limit: 2, engine: EngineClaimant(pid: 31, host: "h1", id: 5), at: Date())
        try expect(claimed.allSatisfy { $0.enginePid == 31 && $0.engineHost == "h1" && $0.engineId == 5 }, "the claimant recorded: \(claimed)")
        var ended = claimed[0]
        ended.status = .completed
        ended.endedAt = Date()
        try backend.recordRunEnd(ended)
        let gone = try backend.query { try $0.runsNoLongerOwned(among: ids, engineId: 5) }
        try expect(gone.map(\.run) == [ids[0]] && gone.first?.status == .completed, "the ended run only: \(gone)")
        let other = try backend.query { try $0.runsNoLongerOwned(among: ids, engineId: 6) }
        try expect(Set(other.map(\.run)) == Set(ids), "another engine owns neither: \(other)")
    }

    /// A task's due time has one run: a second run recorded for it is a conflict, and lands nothing.
    public static func aDueTimeHasOneRun(_ backend: any StoreBackend) throws {
        let service = try seed(backend)
        let due = Date(timeIntervalSince1970: 1_800_000_000)
        let task = try backend.transaction { tx in
            var task = ScheduledTask(name: "every-minute", serviceId: service.id, scheduleKind: .interval)
            task.intervalSeconds = 60
            return try tx.upsert(task: task)
        }
        try backend.transaction { tx in
            let run = try tx.enqueueRun(service: "show", trigger: .scheduler, user: "sched", taskId: task.id)
            try tx.recordTaskFire(taskId: task.id!, at: due, run: run)
        }
        do {
            try backend.transaction { tx in
                let run = try tx.enqueueRun(service: "show", trigger: .scheduler, user: "sched", taskId: task.id)
                try tx.recordTaskFire(taskId: task.id!, at: due, run: run)
            }
            throw Failure(description: "a second run for one due time was accepted")
        } catch let e as StoreError {
            try expect(e.kind == .conflict, "a conflict, not \(e.kind): \(e)")
        }
        try backend.transaction { tx in
            let run = try tx.enqueueRun(service: "show", trigger: .scheduler, user: "sched", taskId: task.id)
            try tx.recordTaskFire(taskId: task.id!, at: due.addingTimeInterval(60), run: run)
        }
        let runs = try backend.query { try $0.recentRuns(limit: 10) }
        try expect(runs.count == 2 && Set(runs.compactMap(\.dueAt)) == [due, due.addingTimeInterval(60)], "one run per due time: \(runs.map(\.dueAt))")
    }

    /// A stop aborts a queued run at once and flags a running one for its engine.
    public static func stopsAbortQueuedRunsAndFlagRunningOnes(_ backend: any StoreBackend) throws {
        try seed(backend)
        let (first, second) = try backend.transaction { tx in
            (try tx.enqueueRun(service: "show", trigger: .cli, user: "ann"), try tx.enqueueRun(service: "show", trigger: .cli, user: "ann"))
        }
        _ = try backend.claimQueuedRuns(limit: 1, enginePid: 7, at: Date())
        let running = try backend.transaction { tx in try tx.requestStop(run: first.id!, user: "bob") }
        let queued = try backend.transaction { tx in try tx.requestStop(run: second.id!, user: "bob") }
        try expect(running.status == .running && running.stopRequested, "the running run is flagged: \(running.status)")
        try expect(queued.status == .aborted, "the queued run is aborted: \(queued.status)")
        let stops = try backend.query { try $0.stopRequests(among: [first.id!, second.id!]) }
        try expect(stops.map(\.run) == [first.id!] && stops.first?.reason == "stopped by bob", "the engine sees the running one's stop: \(stops)")
        try expect(try backend.query { try $0.stopRequests(among: []) }.isEmpty, "no runs, no stops")
        do {
            _ = try backend.transaction { tx in try tx.requestStop(run: 999_999, user: "bob") }
            throw Failure(description: "stopping an unknown run succeeded")
        } catch let e as StoreError {
            try expect(e.kind == .notFound, "not found, not \(e.kind)")
        }
    }

    /// An export imports back into the same inventory: nothing is created the second time.
    public static func anExportImportsBackUnchanged(_ backend: any StoreBackend, secrets: SecretBox, directory: String) throws {
        try seed(backend)
        let files = try backend.exportInventory(format: .json, to: directory, secrets: secrets, revealSecrets: false)
        try expect(!files.isEmpty, "files written")
        let report = try backend.importInventory(try Importer.read(paths: files, format: .json), secrets: secrets)
        try expect(report.created.values.reduce(0, +) == 0, "nothing new: \(report.summary)")
        try expect(try backend.query { try $0.devices(filter: FilterExpression(terms: [])).map(\.name) } == ["r1", "r2"], "the same devices")
    }

    /// Runs a dead engine left running end interrupted, with a closing line after their last one.
    public static func abandonedRunsAreInterruptedWithAClosingLine(_ backend: any StoreBackend) throws {
        try seed(backend)
        let run = try backend.transaction { tx in try tx.enqueueRun(service: "show", trigger: .cli, user: "ann") }
        _ = try backend.claimQueuedRuns(limit: 1, enginePid: 99, at: Date())
        try backend.writeJournal(JournalBatch(lines: [RunLogLine(runId: run.id!, seq: 1, time: Date(), level: .info, device: "", service: "show", message: "started")]))
        let ids = try backend.interruptAbandonedRuns(at: Date()) { pid in "engine \(pid.map(String.init) ?? "?") died" }
        try expect(ids == [run.id!], "the running run: \(ids)")
        let stored = try backend.query { try $0.run(id: run.id!) }
        try expect(stored?.status == .interrupted && stored?.reason == "engine 99 died", "interrupted with the reason: \(String(describing: stored))")
        try expect(try backend.query { try $0.lastLogSeq(run: run.id!) } == 2, "a closing line after the last")
        try expect(try backend.interruptAbandonedRuns(at: Date()) { _ in "" }.isEmpty, "nothing more to interrupt")
    }

    /// A journal batch lands whole: lines, results, progress; a duplicate line is a conflict and lands nothing.
    public static func journalBatchesLandWholeAndDuplicatesConflict(_ backend: any StoreBackend) throws {
        let service = try seed(backend)
        let run = try backend.transaction { tx in try tx.enqueueRun(service: "show", trigger: .cli, user: "ann") }
        let r1 = try backend.query { try $0.device(named: "r1")! }
        let line = RunLogLine(runId: run.id!, seq: 1, time: Date(), level: .info, device: "r1", service: "show", message: "ok")
        try backend.writeJournal(JournalBatch(
            lines: [line],
            results: [RunResult(runId: run.id!, serviceId: service.id!, serviceName: "show", deviceId: r1.id, deviceName: "r1",
                                success: true, output: "", durationMs: 1, attempts: 1),
                      RunResult(runId: run.id!, serviceId: service.id!, serviceName: "show", deviceId: nil, deviceName: "r2",
                                success: false, output: "", durationMs: 1, attempts: 1)],
            progress: [run.id!: .init(done: 2, total: 2, failed: 1)],
            deviceStatus: [r1.id!: .init(status: "success", time: Date())]))
        try expect(try backend.query { try $0.lastLogSeq(run: run.id!) } == 1, "the line")
        let tail = try backend.query { try $0.logLines(run: run.id!, after: 0, device: "r1", limit: 10) }
        try expect(tail.map(\.seq) == [1] && tail.first?.message == "ok", "the tail of r1: \(tail)")
        try expect(try backend.query { try $0.logLines(run: run.id!, after: 1, device: nil, limit: 10) }.isEmpty, "nothing after seq 1")
        try expect(try backend.query { try $0.results(run: run.id!, device: nil) }.map(\.deviceName) == ["r1", "r2"], "results in order")
        try expect(try backend.query { try $0.results(run: run.id!, device: "r2") }.map(\.success) == [false], "r2's result")
        try expect(try backend.query { try $0.failedDeviceNames(run: run.id!) } == ["r2"], "the failed device")
        try expect(try backend.query { try $0.succeededDeviceNames(run: run.id!, service: "show") } == ["r1"], "the succeeded device")
        let progress = try backend.query { try $0.run(id: run.id!) }
        try expect(progress?.progressDone == 2 && progress?.progressFailed == 1, "progress")
        try expect(try backend.query { try $0.device(named: "r1")?.lastRunStatus } == "success", "the device's last run status")

        let later = RunLogLine(runId: run.id!, seq: 2, time: Date(), level: .info, device: "", service: "", message: "later")
        do {
            try backend.writeJournal(JournalBatch(lines: [later, line]))
            throw Failure(description: "a duplicate (run, seq) was accepted")
        } catch let e as StoreError {
            try expect(e.kind == .conflict, "a duplicate line is a conflict, not \(e.kind)")
        }
        try expect(try backend.query { try $0.lastLogSeq(run: run.id!) } == 1, "nothing of the failed batch landed")
    }

    /// A run's end is recorded once, while it is running, and copied to its task.
    public static func aRunsEndIsRecordedOnlyWhileItRuns(_ backend: any StoreBackend) throws {
        try seed(backend)
        let run = try backend.transaction { tx in try tx.enqueueRun(service: "show", trigger: .cli, user: "ann") }
        var ended = run
        ended.status = .completed
        ended.endedAt = Date()
        try backend.recordRunEnd(ended)
        try expect(try backend.query { try $0.run(id: run.id!)?.status } == .queued, "a queued run is not ended by a late record")
        _ = try backend.claimQueuedRuns(limit: 1, enginePid: 1, at: Date())
        try backend.recordRunEnd(ended)
        try expect(try backend.query { try $0.run(id: run.id!)?.status } == .completed, "a running run ends")
    }

    /// A due time is claimed by one compare-and-set only; a stale token claims nothing.
    public static func dueTasksAreClaimedByCompareAndSet(_ backend: any StoreBackend) throws {
        let service = try seed(backend)
        let due = Date(timeIntervalSince1970: 1_800_000_000)
        try backend.transaction { tx in
            var task = ScheduledTask(name: "every-minute", serviceId: service.id, scheduleKind: .interval)
            task.intervalSeconds = 60
            task.active = true
            task.nextFire = due
            try tx.upsert(task: task)
        }
        try expect(try backend.query { try $0.earliestNextFire() } == due, "the earliest next fire")
        try expect(try backend.query { try $0.schedulerHasWork(now: due) }, "work at the due time")
        try expect(try !backend.query { try $0.schedulerHasWork(now: due.addingTimeInterval(-1)) }, "no work before it")
        let claimed = try backend.exclusiveTransaction { tx -> [Bool] in
            let found = try tx.dueTasks(now: due)
            guard let one = found.first, found.count == 1 else { throw Failure(description: "one due task, got \(found.count)") }
            let first = try tx.claimDueTask(id: one.task.id!, token: one.token, next: due.addingTimeInterval(60))
            let again = try tx.claimDueTask(id: one.task.id!, token: one.token, next: due.addingTimeInterval(120))
            let run = try tx.enqueueRun(service: "show", trigger: .scheduler, user: "sched", taskId: one.task.id)
            try tx.recordTaskFire(taskId: one.task.id!, at: due, run: run)
            return [first, again]
        }
        try expect(claimed == [true, false], "claimed once: \(claimed)")
        let task = try backend.query { try $0.task(named: "every-minute") }
        try expect(task?.nextFire == due.addingTimeInterval(60) && task?.lastRunStatus == "queued", "moved on, with its run: \(String(describing: task))")
        try expect(try backend.query { try $0.hasUnscheduledActiveTask() } == false, "every active task is scheduled")
        let pending = try backend.exclusiveTransaction { try $0.pendingRunsByTask() }
        try expect(pending[task!.id!]?.count == 1, "its run is pending: \(pending)")
        let stale = try backend.exclusiveTransaction { tx in try tx.deactivateTask(id: task!.id!, ifNextFire: .none) }
        try expect(!stale, "deactivating against a stale token changes nothing")
    }

    /// Unknown names read as nil; a run of an unknown service is refused as not found.
    public static func missingRecordsAreNilOrNotFound(_ backend: any StoreBackend) throws {
        try expect(try backend.query { try $0.device(named: "nope") } == nil, "no device")
        try expect(try backend.query { try $0.task(named: "nope") } == nil, "no task")
        try expect(try backend.query { try $0.run(id: 12345) } == nil, "no run")
        do {
            _ = try backend.transaction { tx in try tx.enqueueRun(service: "nope", trigger: .cli, user: "ann") }
            throw Failure(description: "a run of an unknown service was queued")
        } catch let e as StoreError {
            try expect(e.kind == .notFound, "not found, not \(e.kind)")
        }
    }

    /// Async reads and transactions see the same data as synchronous ones.
    public static func asyncReadsAndTransactionsWork(_ backend: any StoreBackend) async throws {
        try seed(backend)
        try await backend.transaction { tx in try tx.upsert(device: Device(name: "async", address: "192.0.2.20")) }
        let names = try await backend.query { try $0.devices(filter: FilterExpression(terms: [])).map(\.name) }
        try expect(names == ["async", "r1", "r2"], "devices by name: \(names)")
    }

    /// Pools: criteria sets and manual members, kept current when a device changes, counted once
    /// per member, named back from a device; deleting a pool drops it.
    public static func poolsKeepTheirMembersCurrent(_ backend: any StoreBackend) throws {
        try backend.transaction { tx in
            try tx.upsert(device: Device(name: "par-core1", address: "192.0.2.1", vendor: "cisco"))
            try tx.upsert(device: Device(name: "par-edge1", address: "192.0.2.2", vendor: "juniper"))
            try tx.upsert(device: Device(name: "lon-core1", address: "192.0.2.3", vendor: "cisco"))
            let criteria = [PoolCriterion(property: "name", value: "^par-", match: .regex, invert: false)]
            try tx.upsert(pool: Pool(name: "paris", criteria: criteria), manualDevices: ["lon-core1"])
            try tx.upsert(pool: Pool(name: "cisco", criteria: [PoolCriterion(property: "vendor", value: "cisco", match: .equality, invert: false)]))
        }
        try expect(try backend.query { try $0.poolDeviceNames(named: "paris") } == ["lon-core1", "par-core1", "par-edge1"],
                   "criteria and manual members, by name")
        try expect(try backend.query { try $0.pool(named: "paris")?.memberCount } == 3, "counted")
        try expect(try backend.query { try $0.poolDevices(named: "cisco").map(\.name) } == ["lon-core1", "par-core1"], "the cisco pool")
        let lon = try backend.query { try $0.device(named: "lon-core1")! }
        try expect(try backend.query { try $0.poolNames(deviceId: lon.id!) } == ["cisco", "paris"], "a device's pools")
        // A device that stops matching leaves the set; one that starts matching joins it.
        try backend.transaction { tx in
            try tx.upsert(device: Device(name: "par-edge1", address: "192.0.2.2", vendor: "cisco"))
            try tx.upsert(device: Device(name: "par-core1", address: "192.0.2.1", vendor: "arista"))
        }
        try expect(try backend.query { try $0.poolDeviceNames(named: "cisco") } == ["lon-core1", "par-edge1"], "membership follows the devices")
        try expect(try backend.query { try $0.pool(named: "cisco")?.memberCount } == 2, "recounted")
        try expect(try backend.query { try $0.manualDeviceNames(poolId: try $0.pool(named: "paris")!.id!) } == ["lon-core1"], "manual members")
        try backend.transaction { tx in try tx.deletePool(named: "cisco") }
        try expect(try backend.query { try $0.pools().map(\.name) } == ["paris"], "deleted")
        do {
            _ = try backend.query { try $0.poolDeviceNames(named: "cisco") }
            throw Failure(description: "a deleted pool still lists devices")
        } catch let e as StoreError {
            try expect(e.kind == .notFound, "not found, not \(e.kind)")
        }
    }

    /// A filter selects the same devices on every backend: fields, custom properties, regexes,
    /// bare words, negation; an unknown field is refused when the properties are known.
    public static func filtersSelectTheSameDevices(_ backend: any StoreBackend) throws {
        try backend.transaction { tx in
            try tx.upsert(device: Device(name: "par-core1", address: "192.0.2.1", vendor: "Cisco", properties: ["site": .string("Paris")]))
            try tx.upsert(device: Device(name: "par-edge1", address: "192.0.2.2", vendor: "juniper", properties: ["site": .string("Paris")]))
            try tx.upsert(device: Device(name: "lon-core1", address: "198.51.100.3", vendor: "cisco", location: "London"))
        }
        func names(_ text: String) throws -> [String] {
            let filter = try FilterExpression.parse(text)
            return try backend.query { try $0.devices(filter: filter, knownProperties: try $0.devicePropertyNames()).map(\.name) }
        }
        try expect(try names("") == ["lon-core1", "par-core1", "par-edge1"], "everything, by name")
        let cisco = try names("vendor=cisco")
        try expect(cisco == ["lon-core1", "par-core1"], "equality ignores case: \(cisco)")
        try expect(try names("name~^par-.*1$") == ["par-core1", "par-edge1"], "a regex")
        let digits = try names("name~\\d$ vendor!~^jun")
        try expect(digits == ["lon-core1", "par-core1"], "a \\d regex and a negated one: \(digits)")
        try expect(try names("site=paris") == ["par-core1", "par-edge1"], "a custom property")
        try expect(try names("london") == ["lon-core1"], "a bare word, any searchable field")
        try expect(try names("198.51") == ["lon-core1"], "a bare word in the address")
        try expect(try backend.query { try $0.devicePropertyNames() } == ["site"], "property names")
        do {
            _ = try names("colour=red")
            throw Failure(description: "an unknown field was accepted")
        } catch let e as StoreError {
            try expect(e.kind == .invalid, "invalid, not \(e.kind)")
        }

        // Where a backend compiles filters to SQL, the SQL must select what the Swift evaluator
        // (`FilterExpression.matches` over `Device.value(of:)`) selects: case, empty and missing
        // fields, anchors, numbers, text with a newline.
        try backend.transaction { tx in
            var a = Device(name: "CORE-sw1", address: "10.0.0.1", port: 2222, vendor: "Arista", description: "first line\nsecond",
                           properties: ["rack": .int(7), "note": .string("")])
            a.lastRunStatus = nil
            try tx.upsert(device: a)
            var b = Device(name: "core-sw2", address: "10.0.0.2", vendor: "ARISTA", jump: "par-core1", properties: ["rack": .string("7b")])
            b.lastRunStatus = "success"
            try tx.upsert(device: b)
        }
        let all = try backend.query { try $0.devices(filter: FilterExpression(terms: [])) }
        let cases: [(String, [String])] = [
            ("vendor=arista", ["CORE-sw1", "core-sw2"]),
            ("vendor=ARISTA", ["CORE-sw1", "core-sw2"]),
            ("vendor~^Arista$", ["CORE-sw1"]),
            ("vendor~arista", []),
            ("vendor!~^Arista$ name~sw", ["core-sw2"]),
            ("name~^core", ["core-sw2"]),
            ("name~^CORE-", ["CORE-sw1"]),
            ("name~sw[0-9]$", ["CORE-sw1", "core-sw2"]),
            ("name~1$", ["CORE-sw1", "lon-core1", "par-core1", "par-edge1"]),
            ("name~^(par|lon)-core\\d$", ["lon-core1", "par-core1"]),
            ("name~^.{9}$", ["lon-core1", "par-core1", "par-edge1"]),
            ("CORE", ["CORE-sw1", "core-sw2", "lon-core1", "par-core1"]),
            ("!core", ["par-edge1"]),
            ("last_run_status=", ["CORE-sw1", "lon-core1", "par-core1", "par-edge1"]),
            ("last_run_status!=", ["core-sw2"]),
            ("last_run_status=SUCCESS", ["core-sw2"]),
            ("jump=", ["CORE-sw1", "lon-core1", "par-core1", "par-edge1"]),
            ("jump~^par", ["core-sw2"]),
            ("location=", ["CORE-sw1", "core-sw2", "par-core1", "par-edge1"]),
            ("port=22", ["core-sw2", "lon-core1", "par-core1", "par-edge1"]),
            ("port=2222", ["CORE-sw1"]),
            ("port~^22$", ["core-sw2", "lon-core1", "par-core1", "par-edge1"]),
            ("port~22", ["CORE-sw1", "core-sw2", "lon-core1", "par-core1", "par-edge1"]),
            ("port!~^22$", ["CORE-sw1"]),
            ("rack=7", ["CORE-sw1"]),
            ("rack=07", []),
            ("rack~^7", ["CORE-sw1", "core-sw2"]),
            ("rack~^7$", ["CORE-sw1"]),
            ("rack=7B", ["core-sw2"]),
            ("rack=", ["lon-core1", "par-core1", "par-edge1"]),
            ("note=", ["CORE-sw1", "core-sw2", "lon-core1", "par-core1", "par-edge1"]),
            ("site!=paris", ["CORE-sw1", "core-sw2", "lon-core1"]),
            ("description~second$", ["CORE-sw1"]),
            ("description~\"^first line$\"", []),
            ("description~^first", ["CORE-sw1"]),
            ("description~line.second", []),
            ("description!~line", ["core-sw2", "lon-core1", "par-core1", "par-edge1"]),
            ("10.0.0", ["CORE-sw1", "core-sw2"]),
            ("address~^10\\.0\\.0\\.[12]$", ["CORE-sw1", "core-sw2"]),
            ("address~^10.0.0.1$", ["CORE-sw1"]),
        ]
        for (text, expected) in cases {
            let filter = try FilterExpression.parse(text)
            let swift = all.filter { d in filter.matches(value: { d.value(of: $0) }, searchable: Inventory.deviceSearchFields) }.map(\.name)
            let got = try names(text)
            try expect(swift == expected, "'\(text)' in Swift: \(swift), expected \(expected)")
            try expect(got == expected, "'\(text)': \(got), the Swift evaluator selects \(expected)")
        }
    }

    /// Secrets reach the store sealed (a plaintext one is refused); the credential a device logs in
    /// with is the highest priority one whose pools hold it.
    public static func credentialsAreSealedAndChosenByPriority(_ backend: any StoreBackend, secrets: SecretBox) throws {
        try seed(backend)
        do {
            _ = try backend.transaction { tx in try tx.upsert(credential: Credential(name: "plain", username: "ann", secret: "hunter2")) }
            throw Failure(description: "a plaintext secret was stored")
        } catch let e as StoreError {
            try expect(e.kind == .encryption, "refused as encryption, not \(e.kind)")
        }
        let sealed = try secrets.seal("s3cret")
        try backend.transaction { tx in
            try tx.upsert(pool: Pool(name: "r1-only", criteria: [PoolCriterion(property: "name", value: "r1", match: .equality, invert: false)]))
            var low = Credential(name: "everyone", username: "ops", secret: sealed)
            low.priority = 1
            var high = Credential(name: "r1-admin", username: "admin", secret: sealed)
            high.priority = 5
            high.pools = ["r1-only"]
            try tx.upsert(credential: low)
            try tx.upsert(credential: high)
        }
        let stored = try backend.query { try $0.credential(named: "r1-admin") }
        try expect(stored?.secret == sealed && SecretBox.isEncrypted(stored?.secret ?? ""), "stored sealed")
        try expect(try secrets.open(stored!.secret) == "s3cret", "opens client-side")
        try expect(try backend.query { try $0.credentials().map(\.name) } == ["r1-admin", "everyone"], "by priority")
        let forR1 = try backend.query { try $0.credential(for: try $0.device(named: "r1")!)?.name }
        let forR2 = try backend.query { try $0.credential(for: try $0.device(named: "r2")!)?.name }
        try expect(forR1 == "r1-admin" && forR2 == "everyone", "chosen: r1 \(forR1 ?? "-"), r2 \(forR2 ?? "-")")
    }

    /// Configurations are kept when they change, newest first, and searched in each device's newest one.
    public static func configurationsAreKeptWhenTheyChange(_ backend: any StoreBackend) throws {
        try seed(backend)
        let r1 = try backend.query { try $0.device(named: "r1")!.id! }
        let r2 = try backend.query { try $0.device(named: "r2")!.id! }
        let first = try backend.transaction { tx in try tx.recordConfig(deviceId: r1, runId: nil, content: "hostname r1\nntp server 192.0.2.99\n") }
        let same = try backend.transaction { tx in try tx.recordConfig(deviceId: r1, runId: nil, content: "hostname r1\nntp server 192.0.2.99\n") }
        usleep(2_000)
        let second = try backend.transaction { tx in try tx.recordConfig(deviceId: r1, runId: nil, content: "hostname r1\nntp server 192.0.2.1\n") }
        _ = try backend.transaction { tx in try tx.recordConfig(deviceId: r2, runId: nil, content: "hostname r2\nntp server 192.0.2.99\n") }
        try expect(first != nil && same == nil && second != nil, "unchanged content is not kept")
        try backend.transaction { tx in try tx.setGitCommit(snapshot: second!.id!, commit: "abc123") }
        let history = try backend.query { try $0.configSnapshots(device: "r1") }
        try expect(history.map(\.id) == [second!.id, first!.id], "newest first: \(history.map(\.id))")
        try expect(history.first?.gitCommit == "abc123", "the git commit")
        try expect(try backend.query { try $0.latestConfigSnapshot(deviceId: r1)?.id } == second!.id, "the latest")
        try expect(try backend.query { try $0.allConfigSnapshots().count } == 3, "all of them")
        let found = try backend.query { try $0.searchConfigurations(pattern: try ConfigSearch.Pattern("192\\.0\\.2\\.99"), context: 0, devices: nil) }
        try expect(found.devicesSearched == 2 && found.devicesMatched == 1 && found.groups.first?.device == "r2",
                   "only r2's newest matches: \(found.devicesMatched) of \(found.devicesSearched)")
    }

    /// Services and workflows round-trip with their parameters; tasks are listed by name.
    public static func servicesAndTasksRoundTrip(_ backend: any StoreBackend) throws {
        let show = try seed(backend)
        let again = try backend.transaction { tx in try tx.upsert(service: show) }
        try expect(again.id == show.id && again.updatedAt == (try backend.query { try $0.service(named: "show")!.updatedAt }), "an unchanged service is not rewritten")
        let stored = try backend.query { try $0.service(named: "show") }
        try expect(stored?.parameters == show.parameters && stored?.kind == .cli, "parameters kept: \(String(describing: stored?.parameters))")
        try expect(try backend.query { try $0.services(workflows: false).map(\.name) } == ["show"], "services")
        try expect(try backend.query { try $0.serviceNames() } == [show.id!: "show"], "names by id")
        try backend.transaction { tx in
            var b = ScheduledTask(name: "b-nightly", serviceId: show.id, scheduleKind: .interval)
            b.intervalSeconds = 86_400
            try tx.upsert(task: b)
            try tx.upsert(task: ScheduledTask(name: "a-hourly", serviceId: show.id, scheduleKind: .interval))
            try tx.log(user: "ann", "created tasks", targetType: "task", targetName: "b-nightly")
        }
        try expect(try backend.query { try $0.tasks().map(\.name) } == ["a-hourly", "b-nightly"], "tasks by name")
        try expect(try backend.query { try $0.task(named: "b-nightly")?.intervalSeconds } == 86_400, "task fields")
    }

    /// A `query` reads one snapshot: a commit made while it runs is not seen until the next query.
    public static func aQueryReadsOneSnapshot(_ backend: any StoreBackend) throws {
        try seed(backend)
        let committed = DispatchSemaphore(value: 0)
        let (before, after) = try backend.query { r -> (Int, Int) in
            let before = try r.deviceNames().count
            DispatchQueue.global().async {
                try? backend.transaction { tx in try tx.upsert(device: Device(name: "r3", address: "192.0.2.3")) }
                committed.signal()
            }
            committed.wait()
            return (before, try r.deviceNames().count)
        }
        try expect(before == 2 && after == 2, "the snapshot holds: \(before) then \(after)")
        try expect(try backend.query { try $0.deviceNames().count } == 3, "the next query sees the commit")
    }
}
