import Foundation
import GRDB  // the SQLite error mapping test builds GRDB errors
import XCTest
@testable import Store

/// The conformance suite every `StoreBackend` passes, after River's `riverdrivertest`: each check
/// takes a fresh, empty backend and uses the neutral API only, so the same checks run against SQLite
/// (`SQLiteBackendConformanceTests`) and, later, PostgreSQL.
enum StoreBackendConformance {
    struct Failure: Error, CustomStringConvertible { var description: String }
    struct Planted: Error, Equatable {}

    static func expect(_ ok: Bool, _ what: @autoclosure () -> String, line: UInt = #line) throws {
        if !ok { throw Failure(description: "line \(line): \(what())") }
    }

    /// A service and a device to run it on.
    @discardableResult
    static func seed(_ backend: any StoreBackend) throws -> Service {
        try backend.transaction { tx in
            try tx.upsert(device: Device(name: "r1", address: "192.0.2.1"))
            try tx.upsert(device: Device(name: "r2", address: "192.0.2.2"))
            return try tx.upsert(service: Service(name: "show", kind: .cli, parameters: ["commands": .array([.string("show clock")])]))
        }
    }

    /// What a backend declares matches what it hands out.
    static func capabilitiesMatchWhatTheBackendOffers(_ backend: any StoreBackend) throws {
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
    static func transactionsRollBackAndSavepointsNest(_ backend: any StoreBackend) throws {
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
    static func queuedRunsAreClaimedOnceOldestFirst(_ backend: any StoreBackend) throws {
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
    static func concurrentClaimsNeverShareARun(_ backend: any StoreBackend) throws {
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

    final class ClaimLog: @unchecked Sendable {
        private let lock = NSLock()
        private var all: [Int64] = []
        func add(_ ids: [Int64]) { lock.lock(); all += ids; lock.unlock() }
        var ids: [Int64] { lock.lock(); defer { lock.unlock() }; return all }
    }

    /// One engine per database: a second lock is refused while the first is held, and names its holder.
    static func theEngineLockAdmitsOneEngine(_ backend: any StoreBackend) throws {
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

    /// A stop aborts a queued run at once and flags a running one for its engine.
    static func stopsAbortQueuedRunsAndFlagRunningOnes(_ backend: any StoreBackend) throws {
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
    static func anExportImportsBackUnchanged(_ backend: any StoreBackend, secrets: SecretBox, directory: String) throws {
        try seed(backend)
        let files = try backend.exportInventory(format: .json, to: directory, secrets: secrets, revealSecrets: false)
        try expect(!files.isEmpty, "files written")
        let report = try backend.importInventory(try Importer.read(paths: files, format: .json), secrets: secrets)
        try expect(report.created.values.reduce(0, +) == 0, "nothing new: \(report.summary)")
        try expect(try backend.query { try $0.devices(filter: FilterExpression(terms: [])).map(\.name) } == ["r1", "r2"], "the same devices")
    }

    /// Runs a dead engine left running end interrupted, with a closing line after their last one.
    static func abandonedRunsAreInterruptedWithAClosingLine(_ backend: any StoreBackend) throws {
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
    static func journalBatchesLandWholeAndDuplicatesConflict(_ backend: any StoreBackend) throws {
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
    static func aRunsEndIsRecordedOnlyWhileItRuns(_ backend: any StoreBackend) throws {
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
    static func dueTasksAreClaimedByCompareAndSet(_ backend: any StoreBackend) throws {
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
    static func missingRecordsAreNilOrNotFound(_ backend: any StoreBackend) throws {
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
    static func asyncReadsAndTransactionsWork(_ backend: any StoreBackend) async throws {
        try seed(backend)
        try await backend.transaction { tx in try tx.upsert(device: Device(name: "async", address: "192.0.2.20")) }
        let names = try await backend.query { try $0.devices(filter: FilterExpression(terms: [])).map(\.name) }
        try expect(names == ["async", "r1", "r2"], "devices by name: \(names)")
    }
}

/// The conformance suite against the SQLite backend (`AppDatabase`).
final class SQLiteBackendConformanceTests: XCTestCase {
    var store: TempStore!
    override func setUpWithError() throws { store = try TempStore() }
    override func tearDown() { store = nil }
    var backend: any StoreBackend { store.database }

    func testCapabilities() throws {
        try StoreBackendConformance.capabilitiesMatchWhatTheBackendOffers(backend)
        XCTAssertEqual(backend.capabilities, [.changeWakeups, .changeStamp, .engineMaintenance],
                       "SQLite: wake-ups, a stamp and checkpoints, but one engine host (flock)")
    }
    func testTransactions() throws { try StoreBackendConformance.transactionsRollBackAndSavepointsNest(backend) }
    func testClaims() throws { try StoreBackendConformance.queuedRunsAreClaimedOnceOldestFirst(backend) }
    func testImportExport() throws {
        try StoreBackendConformance.anExportImportsBackUnchanged(backend, secrets: store.secrets, directory: store.dir + "/export")
    }
    func testStops() throws { try StoreBackendConformance.stopsAbortQueuedRunsAndFlagRunningOnes(backend) }
    func testEngineLock() throws { try StoreBackendConformance.theEngineLockAdmitsOneEngine(backend) }
    func testConcurrentClaims() throws { try StoreBackendConformance.concurrentClaimsNeverShareARun(backend) }
    func testAbandonedRuns() throws { try StoreBackendConformance.abandonedRunsAreInterruptedWithAClosingLine(backend) }
    func testJournal() throws { try StoreBackendConformance.journalBatchesLandWholeAndDuplicatesConflict(backend) }
    func testRunEnd() throws { try StoreBackendConformance.aRunsEndIsRecordedOnlyWhileItRuns(backend) }
    func testDueTasks() throws { try StoreBackendConformance.dueTasksAreClaimedByCompareAndSet(backend) }
    func testMissing() throws { try StoreBackendConformance.missingRecordsAreNilOrNotFound(backend) }
    func testAsync() async throws { try await StoreBackendConformance.asyncReadsAndTransactionsWork(backend) }

    /// SQLite's result codes keep their kind at the boundary; a body's own errors pass untouched.
    func testSQLiteErrorsBecomeStoreErrorsOfTheirKind() throws {
        let busy = AppDatabase.storeError(DatabaseError(resultCode: .SQLITE_BUSY, message: "database is locked"))
        XCTAssertEqual((busy as? StoreError)?.kind, .busy)
        XCTAssertEqual((busy as? StoreError)?.message, "database is locked")
        XCTAssertEqual((AppDatabase.storeError(DatabaseError(resultCode: .SQLITE_LOCKED)) as? StoreError)?.kind, .busy)
        XCTAssertEqual((AppDatabase.storeError(DatabaseError(resultCode: .SQLITE_CONSTRAINT)) as? StoreError)?.kind, .conflict)
        XCTAssertEqual((AppDatabase.storeError(DatabaseError(resultCode: .SQLITE_IOERR)) as? StoreError)?.kind, .connectionLost)
        XCTAssertEqual((AppDatabase.storeError(DatabaseError(resultCode: .SQLITE_ERROR)) as? StoreError)?.kind, .database)
        XCTAssertTrue(AppDatabase.storeError(StoreBackendConformance.Planted()) is StoreBackendConformance.Planted)
        XCTAssertTrue(StoreError(.busy, "").isTransient)
        XCTAssertFalse(StoreError(.conflict, "").isTransient)
    }

    /// Another process's commit wakes the change waiter (SQLite: inotify on the WAL).
    func testACommitWakesTheChangeWaiter() throws {
        // Opened first: opening writes to the file too, and that must not be what wakes the waiter.
        let other = try AppDatabase(path: store.database.path)
        let waiter = try XCTUnwrap(backend.changeWaiter())
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.2) {
            try? other.transaction { tx in try tx.upsert(device: Device(name: "woken", address: "192.0.2.30")) }
        }
        let started = Date()
        XCTAssertTrue(waiter.wait(timeoutMs: 5_000), "woken by the commit, not the timeout")
        let waited = Date().timeIntervalSince(started)
        XCTAssertGreaterThan(waited, 0.15, "asleep until the commit")
        XCTAssertLessThan(waited, 4)
    }
}
