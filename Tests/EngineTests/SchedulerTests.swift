import Foundation
import GRDB
import Store
import XCTest
@testable import Engine

/// A clock the test moves by hand.
typealias TestClock = ManualClock

/// A fresh store of one backend (a SQLite file, or a database on the tests' PostgreSQL server) with a
/// `wait 0` service, a device and a pool; removed afterwards.
final class SchedulerFixture {
    let store: TestStore
    var dir: String { store.directory }
    /// The SQLite file or the PostgreSQL URL: what `--db` takes.
    var path: String { store.location }
    var database: any StoreBackend { store.backend }

    init(_ backend: BackendKind = .sqlite) throws {
        store = try TestStore(backend, prefix: "scheduler")
        try database.transaction { store in
            try store.upsert(service: Service(name: "noop", kind: .wait, parameters: ["seconds": .int(0)]))
            try store.upsert(device: Device(name: "r1", address: "192.0.2.1", platform: "cisco_ios"))
        }
    }

    @discardableResult
    func task(_ name: String, _ configure: (inout ScheduledTask) -> Void) throws -> ScheduledTask {
        try database.transaction { store in
            let sid = try store.service(named: "noop")!.id
            var t = ScheduledTask(name: name, serviceId: sid, scheduleKind: .interval)
            t.active = true
            configure(&t)
            return try store.upsert(task: t)
        }
    }

    func task(_ name: String) throws -> ScheduledTask {
        try database.query { store in try store.task(named: name)! }
    }

    func runs(task id: Int64) throws -> [Run] {
        try database.query { store in try store.recentRuns(limit: 10_000).filter { $0.taskId == id }.sorted { $0.id! < $1.id! } }
    }

    func changelog(_ name: String) throws -> [String] {
        try store.strings("SELECT content FROM changelog WHERE target_type = 'task' AND target_name = ? ORDER BY id", [.text(name)])
    }

    func finish(run id: Int64, _ status: Run.Status) throws {
        try store.execute("UPDATE run SET status = ?, ended_at = ? WHERE id = ?", [.text(status.rawValue), .date(Date()), .int(Int(id))])
    }
}

final class SchedulerTests: XCTestCase {
    let t0 = Date(timeIntervalSince1970: 1_780_000_000)   // 2026-05-28 20:26:40 UTC

    func anIntervalTaskFiresOncePerDueTimeWithTheTasksTargetsAndPayload(_ backend: BackendKind) throws {
        let f = try SchedulerFixture(backend)
        let clock = TestClock(t0.addingTimeInterval(-1))
        let scheduler = Scheduler(database: f.database, clock: { clock.now }, user: "scheduler")
        let task = try f.task("every minute") { t in
            t.intervalSeconds = 60; t.startDate = self.t0; t.devices = ["r1"]; t.payload = ["note": .string("hi")]
        }
        // Scheduled on the first tick (no next fire yet): the start date.
        XCTAssertEqual(try scheduler.nextWake(), clock.now, "an active task without next fire wakes the engine now")
        XCTAssertEqual(try scheduler.tick(), [])
        XCTAssertEqual(try f.task("every minute").nextFire, t0)
        XCTAssertEqual(try scheduler.nextWake(), t0)

        clock.now = t0
        let events = try scheduler.tick()
        XCTAssertEqual(events.count, 1)
        guard case .fired(let runId) = events[0].outcome else { return XCTFail("\(events)") }
        XCTAssertEqual(events[0].due, t0)
        XCTAssertEqual(try scheduler.tick(), [], "the same due time never fires twice")
        let runs = try f.runs(task: task.id!)
        XCTAssertEqual(runs.map(\.id), [runId])
        XCTAssertEqual(runs[0].trigger, .scheduler)
        XCTAssertEqual(runs[0].user, "scheduler")
        XCTAssertEqual(runs[0].serviceName, "noop")
        XCTAssertEqual(runs[0].targets, ["devices": .array([.string("r1")])])
        XCTAssertEqual(runs[0].parameters, ["note": .string("hi")])
        var stored = try f.task("every minute")
        XCTAssertEqual(stored.nextFire, t0.addingTimeInterval(60))
        XCTAssertEqual(stored.lastFire, t0)
        XCTAssertEqual(stored.lastRunId, runId)
        XCTAssertEqual(stored.lastRunStatus, "queued")
        XCTAssertEqual(try scheduler.nextWake(), t0.addingTimeInterval(60))

        // The run's status reaches the task on a later tick, with nothing due.
        try f.finish(run: runId, .completed)
        clock.now = t0.addingTimeInterval(30)
        XCTAssertEqual(try scheduler.tick(), [])
        stored = try f.task("every minute")
        XCTAssertEqual(stored.lastRunStatus, "completed")
        clock.now = t0.addingTimeInterval(60.2)
        XCTAssertEqual(try scheduler.tick().count, 1)
        XCTAssertEqual(try f.runs(task: task.id!).count, 2)
        XCTAssertEqual(try f.task("every minute").nextFire, t0.addingTimeInterval(120))
    }

    func maxInstancesSkipsWhileThePreviousRunIsGoingAndLogsWhy(_ backend: BackendKind) throws {
        let f = try SchedulerFixture(backend)
        let clock = TestClock(t0)
        let scheduler = Scheduler(database: f.database, clock: { clock.now }, user: "scheduler")
        let task = try f.task("busy") { t in t.intervalSeconds = 10; t.startDate = self.t0 }
        try scheduler.tick()
        XCTAssertEqual(try f.runs(task: task.id!).count, 1)
        let first = try f.runs(task: task.id!)[0].id!
        try f.store.execute("UPDATE run SET status = 'running' WHERE id = ?", [.int(Int(first))])

        clock.now = t0.addingTimeInterval(10)
        let events = try scheduler.tick()
        XCTAssertEqual(events.count, 1)
        guard case .skipped(let reason) = events[0].outcome else { return XCTFail("\(events)") }
        XCTAssertTrue(reason.contains("run #\(first) still queued or running (max_instances 1)"), reason)
        XCTAssertEqual(try f.runs(task: task.id!).count, 1, "no pile-up")
        XCTAssertEqual(try f.task("busy").nextFire, t0.addingTimeInterval(20), "the skipped due time is consumed")
        XCTAssertEqual(try f.task("busy").lastRunStatus, "running")
        let log = try f.changelog("busy")
        XCTAssertEqual(log.count, 1)
        XCTAssertTrue(log[0].contains("fire at 2026-05-28 20:26:50 +00:00 skipped: run #\(first) still queued or running"), log[0])

        // Two instances allowed: the next due time fires beside the running one.
        try f.store.execute("UPDATE task SET max_instances = 2 WHERE id = ?", [.int(Int(task.id!))])
        clock.now = t0.addingTimeInterval(20)
        guard case .fired = try scheduler.tick().first?.outcome else { return XCTFail() }
        clock.now = t0.addingTimeInterval(30)
        guard case .skipped = try scheduler.tick().first?.outcome else { return XCTFail() }
        // Once the run ends, firing resumes.
        try f.finish(run: first, .failed)
        clock.now = t0.addingTimeInterval(40)
        guard case .fired = try scheduler.tick().first?.outcome else { return XCTFail() }
        XCTAssertEqual(try f.runs(task: task.id!).count, 3)
    }

    func misfireSkipRunsNothingForMissedTimesAndWaitsForTheNextDueTime(_ backend: BackendKind) throws {
        let f = try SchedulerFixture(backend)
        let clock = TestClock(t0.addingTimeInterval(-5))
        let scheduler = Scheduler(database: f.database, clock: { clock.now }, user: "scheduler")
        let task = try f.task("skipper") { t in t.intervalSeconds = 60; t.startDate = self.t0; t.misfireGraceSeconds = 30 }
        try scheduler.tick()
        // The engine was down for an hour and 10 s: 61 due times went by, the last 10 s ago.
        clock.now = t0.addingTimeInterval(3600 + 10)
        let events = try scheduler.tick()
        XCTAssertEqual(events.count, 1)
        XCTAssertEqual(events[0].missed, 60)
        XCTAssertEqual(events[0].due, t0.addingTimeInterval(3600))
        guard case .fired = events[0].outcome else { return XCTFail("the latest due time is within grace: \(events)") }
        XCTAssertEqual(try f.runs(task: task.id!).count, 1)
        XCTAssertEqual(try f.task("skipper").nextFire, t0.addingTimeInterval(3660))
        XCTAssertTrue(try f.changelog("skipper").contains { $0.contains("60 earlier due times from 2026-05-28 20:26:40 +00:00 missed, skipped") })

        // Down again, now past the grace window for the latest due time too: nothing runs.
        try f.finish(run: f.runs(task: task.id!)[0].id!, .completed)
        clock.now = t0.addingTimeInterval(7200 + 45)
        let late = try scheduler.tick()
        XCTAssertEqual(late.count, 1)
        guard case .skipped(let reason) = late[0].outcome else { return XCTFail("\(late)") }
        XCTAssertTrue(reason.contains("missed by 45s, beyond the 30 s grace window (misfire policy skip"), reason)
        XCTAssertEqual(try f.runs(task: task.id!).count, 1)
        XCTAssertEqual(try f.task("skipper").nextFire, t0.addingTimeInterval(7260), "only the next due time runs")
        clock.now = t0.addingTimeInterval(7260)
        guard case .fired = try scheduler.tick().first?.outcome else { return XCTFail() }
    }

    func misfireOnceCoalescesMissedTimesIntoOneRun(_ backend: BackendKind) throws {
        let f = try SchedulerFixture(backend)
        let clock = TestClock(t0.addingTimeInterval(-5))
        let scheduler = Scheduler(database: f.database, clock: { clock.now }, user: "scheduler")
        let task = try f.task("coalescer") { t in
            t.scheduleKind = .cron; t.intervalSeconds = nil; t.cron = "*/5 * * * *"; t.timezone = "Europe/Paris"
            t.misfirePolicy = .once; t.misfireGraceSeconds = 60
        }
        try scheduler.tick()
        let first = try f.task("coalescer").nextFire!
        XCTAssertEqual(first, Date(timeIntervalSince1970: 1_780_000_200), "20:30 UTC, a multiple of 5 minutes")
        // A day later: 288 due times missed; one run for all of them.
        clock.now = first.addingTimeInterval(86400 + 100)
        let events = try scheduler.tick()
        XCTAssertEqual(events.count, 1)
        guard case .fired = events[0].outcome else { return XCTFail("\(events)") }
        XCTAssertEqual(events[0].missed, 288)
        XCTAssertEqual(events[0].due, first.addingTimeInterval(86400))
        XCTAssertEqual(try f.runs(task: task.id!).count, 1)
        XCTAssertEqual(try f.task("coalescer").nextFire, first.addingTimeInterval(86400 + 300))
        XCTAssertTrue(try f.changelog("coalescer").contains { $0.contains("288 earlier due times") && $0.contains("coalesced into one run") })
    }

    func oneShotFiresOnceThenTheTaskFinishes(_ backend: BackendKind) throws {
        let f = try SchedulerFixture(backend)
        let clock = TestClock(t0.addingTimeInterval(-60))
        let scheduler = Scheduler(database: f.database, clock: { clock.now }, user: "scheduler")
        let task = try f.task("once") { t in t.scheduleKind = .once; t.intervalSeconds = nil; t.startDate = self.t0 }
        try scheduler.tick()
        XCTAssertEqual(try scheduler.nextWake(), t0)
        clock.now = t0.addingTimeInterval(2)
        let events = try scheduler.tick()
        XCTAssertEqual(events.count, 2, "\(events)")
        guard case .fired = events[0].outcome, case .finished = events[1].outcome else { return XCTFail("\(events)") }
        let stored = try f.task("once")
        XCTAssertFalse(stored.active)
        XCTAssertNil(stored.nextFire)
        XCTAssertEqual(stored.lastFire, t0)
        XCTAssertNil(try scheduler.nextWake())
        clock.now = t0.addingTimeInterval(3600)
        XCTAssertEqual(try scheduler.tick(), [])
        XCTAssertEqual(try f.runs(task: task.id!).count, 1)
    }

    func endDateStopsAnInterval(_ backend: BackendKind) throws {
        let f = try SchedulerFixture(backend)
        let clock = TestClock(t0.addingTimeInterval(-1))
        let scheduler = Scheduler(database: f.database, clock: { clock.now }, user: "scheduler")
        let task = try f.task("ending") { t in t.intervalSeconds = 10; t.startDate = self.t0; t.endDate = self.t0.addingTimeInterval(25); t.maxInstances = 100 }
        try scheduler.tick()
        var fired: [Date] = []
        for s in stride(from: 0.0, through: 60, by: 1) {
            clock.now = t0.addingTimeInterval(s)
            for e in try scheduler.tick() { if case .fired = e.outcome { fired.append(e.due) } }
        }
        XCTAssertEqual(fired, [t0, t0.addingTimeInterval(10), t0.addingTimeInterval(20)])
        XCTAssertEqual(try f.runs(task: task.id!).count, 3)
        XCTAssertFalse(try f.task("ending").active)
        XCTAssertTrue(try f.changelog("ending").last!.contains("finished: no due time before its end date"))
    }

    func unusableImportedTasksAreDisabledOrSkippedWithTheReason(_ backend: BackendKind) throws {
        let f = try SchedulerFixture(backend)
        let clock = TestClock(t0)
        let scheduler = Scheduler(database: f.database, clock: { clock.now }, user: "scheduler")
        try f.task("bad cron") { t in t.scheduleKind = .cron; t.cron = "0 0 30 2 *" }
        try f.task("bad zone") { t in t.intervalSeconds = 60; t.timezone = "Mars/Olympus" }
        let orphan = try f.task("orphan") { t in t.intervalSeconds = 60; t.startDate = self.t0 }
        try f.store.execute("UPDATE task SET service_id = NULL WHERE id = ?", [.int(Int(orphan.id!))])
        let events = try scheduler.tick()
        XCTAssertEqual(Set(events.map(\.taskName)), ["bad cron", "bad zone", "orphan"], "\(events)")
        for e in events where e.taskName != "orphan" { guard case .disabled = e.outcome else { return XCTFail("\(e)") } }
        XCTAssertFalse(try f.task("bad cron").active)
        XCTAssertTrue(try f.changelog("bad cron")[0].contains("disabled: its schedule is unusable: cron: '0 0 30 2 *' can never fire"))
        XCTAssertTrue(try f.changelog("bad zone")[0].contains("timezone: 'Mars/Olympus' is not a known time zone"))
        guard case .skipped(let reason) = events.first(where: { $0.taskName == "orphan" })!.outcome else { return XCTFail() }
        XCTAssertTrue(reason.contains("no service"), reason)
        XCTAssertTrue(try f.task("orphan").active)
        XCTAssertEqual(try f.task("orphan").nextFire, t0.addingTimeInterval(60))
        XCTAssertEqual(try f.runs(task: orphan.id!).count, 0)
    }

    func aTargetThatVanishedSkipsTheFireAndTheTickGoesOn(_ backend: BackendKind) throws {
        let f = try SchedulerFixture(backend)
        let clock = TestClock(t0)
        let scheduler = Scheduler(database: f.database, clock: { clock.now }, user: "scheduler")
        try f.task("gone") { t in t.intervalSeconds = 60; t.startDate = self.t0; t.pools = ["no-such-pool"] }
        let fine = try f.task("fine") { t in t.intervalSeconds = 60; t.startDate = self.t0 }
        let events = try scheduler.tick()
        XCTAssertEqual(events.count, 2)
        let gone = events.first { $0.taskName == "gone" }!
        guard case .skipped(let reason) = gone.outcome else { return XCTFail("\(gone)") }
        XCTAssertTrue(reason.contains("no pool named 'no-such-pool'"), reason)
        XCTAssertEqual(try f.runs(task: fine.id!).count, 1)
        XCTAssertEqual(try f.task("gone").nextFire, t0.addingTimeInterval(60))
    }

    func testNothingDueMeansNoWriteTransaction() throws {
        let f = try SchedulerFixture()
        let clock = TestClock(t0)
        let scheduler = Scheduler(database: f.database, clock: { clock.now }, user: "scheduler")
        try f.task("later") { t in t.intervalSeconds = 3600; t.startDate = self.t0.addingTimeInterval(3600) }
        try scheduler.tick()
        // Hold the write lock from another connection: a tick with nothing due must not need it.
        let other = try DatabaseQueue(path: f.path)
        let held = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0), done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            try? other.inDatabase { db in
                try db.execute(sql: "BEGIN IMMEDIATE")
                held.signal()
                release.wait()
                try db.execute(sql: "ROLLBACK")
            }
            done.signal()
        }
        held.wait()
        defer { release.signal(); done.wait() }
        for _ in 0..<100 { XCTAssertEqual(try scheduler.tick(), []) }
        XCTAssertEqual(try scheduler.nextWake(), t0.addingTimeInterval(3600))
    }

    /// Two schedulers, each with its own connection pool on one file, in two threads, with clocks that
    /// wander independently: every due time of every task fires exactly once.
    func twoSchedulersInTwoThreadsFireEachDueTimeExactlyOnce(_ backend: BackendKind) throws {
        let f = try SchedulerFixture(backend)
        let taskCount = 40
        for i in 0..<taskCount {
            try f.task("t\(i)") { t in t.intervalSeconds = 10; t.startDate = self.t0.addingTimeInterval(TimeInterval(i % 10)); t.maxInstances = 1000 }
        }
        // Scheduled before the start: the first due time of each is its start.
        let before = t0.addingTimeInterval(-1)
        try Scheduler(database: f.database, clock: { before }, user: "setup").tick()
        let collected = NSLock()
        nonisolated(unsafe) var events: [FireEvent] = []
        nonisolated(unsafe) var failures: [String] = []
        let store = f.store, t0 = self.t0
        DispatchQueue.concurrentPerform(iterations: 2) { worker in
            do {
                let database = try store.reopen()
                let clock = TestClock(t0.addingTimeInterval(-1))
                let scheduler = Scheduler(database: database, clock: { clock.now }, user: "worker\(worker)")
                var mine: [FireEvent] = []
                var g = CronTests.SeededGenerator(state: UInt64(worker + 1))
                for step in 0...200 {
                    // Half-second steps, each worker a little ahead or behind the other.
                    clock.now = t0.addingTimeInterval(Double(step) * 0.5 + Double(Int.random(in: 0...3, using: &g)) * 0.25)
                    mine += try scheduler.tick()
                }
                collected.lock(); events += mine; collected.unlock()
            } catch {
                collected.lock(); failures.append("\(error)"); collected.unlock()
            }
        }
        XCTAssertEqual(failures, [])
        var seen: [String: Int] = [:]
        for e in events {
            guard case .fired = e.outcome else { XCTFail("\(e)"); continue }
            seen["\(e.taskName)@\(e.due.timeIntervalSince1970)", default: 0] += 1
        }
        XCTAssertEqual(seen.values.filter { $0 > 1 }.count, 0, "a due time fired twice")
        // Each task: due times start, start+10, … up to t0+100 (the clocks reach at least t0+100).
        var expected = 0
        for i in 0..<taskCount { expected += Int((100 - Double(i % 10)) / 10) + 1 }
        XCTAssertEqual(seen.count, expected)
        let runs = try f.store.int("SELECT COUNT(*) FROM run")
        XCTAssertEqual(runs, events.count, "one run per fire event, none half-written")
        XCTAssertEqual(Set(events.map { $0.at }).count > 1, true)
    }

    /// The same with two OS processes (`switchboard task tick`, the hidden driver), racing on one file.
    func twoProcessesFireEachDueTimeExactlyOnce(_ backend: BackendKind) throws {
        let f = try SchedulerFixture(backend)
        let taskCount = 100
        for i in 0..<taskCount {
            try f.task("p\(i)") { t in t.intervalSeconds = 5; t.startDate = self.t0.addingTimeInterval(TimeInterval(i % 5)); t.maxInstances = 1000 }
        }
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        let binary = url.path + "/.build/debug/switchboard"
        guard FileManager.default.isExecutableFile(atPath: binary) else { return XCTFail("build the switchboard binary first: \(binary)") }
        // A cold start of the debug binary can take seconds on a loaded machine: warm it first.
        let warm = Process()
        warm.executableURL = URL(fileURLWithPath: binary)
        warm.arguments = ["--version"]
        warm.standardOutput = FileHandle.nullDevice
        try warm.run()
        warm.waitUntilExit()
        // Paced slower than a tick. A tick that fires 20 tasks can take longer than 80 ms (on PostgreSQL,
        // a round trip per statement; on SQLite, on a loaded machine): both processes behind the pace,
        // the one that just committed always reached the next instant first and the other never fired
        // (correct, but no race). At 250 ms they wake together and race at every instant.
        let (span, pace) = (30.0, 250)
        var processes: [(Process, String)] = []
        // Far enough ahead that both have started even on a loaded machine (with +2 s one process
        // once started after the other had ticked every instant, and nothing raced).
        let startAt = Date().timeIntervalSince1970 + 6
        for worker in 0..<2 {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: binary)
            // Both tick simulated instant k at wall-clock startAt + k × pace (one that falls behind
            // catches up), so at every step they race for the same due times.
            p.arguments = ["task", "tick", "--db", f.path, "--from", String(t0.timeIntervalSince1970 - 1),
                           "--to", String(t0.timeIntervalSince1970 + span), "--step", "1",
                           "--start-at", String(startAt), "--pace-ms", String(pace), "--json"]
            var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SWITCHBOARD_") }
            env["XDG_CONFIG_HOME"] = f.dir + "/config"; env["XDG_DATA_HOME"] = f.dir + "/data"
            p.environment = env
            let out = f.dir + "/worker\(worker).out"
            FileManager.default.createFile(atPath: out, contents: nil)
            p.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
            FileManager.default.createFile(atPath: f.dir + "/worker\(worker).err", contents: nil)
            p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: f.dir + "/worker\(worker).err"))
            processes.append((p, out))
        }
        for (p, _) in processes { try p.run() }
        for (p, _) in processes { p.waitUntilExit() }
        var seen: [String: Int] = [:]
        var perWorker: [Int] = []
        for (i, (p, out)) in processes.enumerated() {
            let err = (try? String(contentsOfFile: f.dir + "/worker\(i).err", encoding: .utf8)) ?? ""
            XCTAssertEqual(p.terminationStatus, 0, err)
            let lines = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n")
            perWorker.append(lines.count)
            for line in lines {
                let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
                XCTAssertEqual(o["outcome"] as? String, "fired", String(line))
                seen["\(o["task"]!)@\(o["due"]!)", default: 0] += 1
            }
        }
        XCTAssertEqual(seen.values.filter { $0 > 1 }.count, 0, "a due time fired twice")
        var expected = 0
        for i in 0..<taskCount { expected += Int((span - Double(i % 5)) / 5) + 1 }
        XCTAssertEqual(seen.count, expected)
        let runs = try f.store.int("SELECT COUNT(*) FROM run")
        XCTAssertEqual(runs, expected)
        XCTAssertTrue(perWorker.allSatisfy { $0 > 0 }, "both processes fired some (\(perWorker)): they really raced")
    }

    // MARK: each on both backends (issue #14)

    func testAnIntervalTaskFiresOncePerDueTimeWithTheTasksTargetsAndPayloadOnSQLite() throws { try anIntervalTaskFiresOncePerDueTimeWithTheTasksTargetsAndPayload(.sqlite) }
    func testAnIntervalTaskFiresOncePerDueTimeWithTheTasksTargetsAndPayloadOnPostgreSQL() throws { try anIntervalTaskFiresOncePerDueTimeWithTheTasksTargetsAndPayload(.postgres) }
    func testMaxInstancesSkipsWhileThePreviousRunIsGoingAndLogsWhyOnSQLite() throws { try maxInstancesSkipsWhileThePreviousRunIsGoingAndLogsWhy(.sqlite) }
    func testMaxInstancesSkipsWhileThePreviousRunIsGoingAndLogsWhyOnPostgreSQL() throws { try maxInstancesSkipsWhileThePreviousRunIsGoingAndLogsWhy(.postgres) }
    func testMisfireSkipRunsNothingForMissedTimesAndWaitsForTheNextDueTimeOnSQLite() throws { try misfireSkipRunsNothingForMissedTimesAndWaitsForTheNextDueTime(.sqlite) }
    func testMisfireSkipRunsNothingForMissedTimesAndWaitsForTheNextDueTimeOnPostgreSQL() throws { try misfireSkipRunsNothingForMissedTimesAndWaitsForTheNextDueTime(.postgres) }
    func testMisfireOnceCoalescesMissedTimesIntoOneRunOnSQLite() throws { try misfireOnceCoalescesMissedTimesIntoOneRun(.sqlite) }
    func testMisfireOnceCoalescesMissedTimesIntoOneRunOnPostgreSQL() throws { try misfireOnceCoalescesMissedTimesIntoOneRun(.postgres) }
    func testOneShotFiresOnceThenTheTaskFinishesOnSQLite() throws { try oneShotFiresOnceThenTheTaskFinishes(.sqlite) }
    func testOneShotFiresOnceThenTheTaskFinishesOnPostgreSQL() throws { try oneShotFiresOnceThenTheTaskFinishes(.postgres) }
    func testEndDateStopsAnIntervalOnSQLite() throws { try endDateStopsAnInterval(.sqlite) }
    func testEndDateStopsAnIntervalOnPostgreSQL() throws { try endDateStopsAnInterval(.postgres) }
    func testUnusableImportedTasksAreDisabledOrSkippedWithTheReasonOnSQLite() throws { try unusableImportedTasksAreDisabledOrSkippedWithTheReason(.sqlite) }
    func testUnusableImportedTasksAreDisabledOrSkippedWithTheReasonOnPostgreSQL() throws { try unusableImportedTasksAreDisabledOrSkippedWithTheReason(.postgres) }
    func testATargetThatVanishedSkipsTheFireAndTheTickGoesOnOnSQLite() throws { try aTargetThatVanishedSkipsTheFireAndTheTickGoesOn(.sqlite) }
    func testATargetThatVanishedSkipsTheFireAndTheTickGoesOnOnPostgreSQL() throws { try aTargetThatVanishedSkipsTheFireAndTheTickGoesOn(.postgres) }
    func testTwoSchedulersInTwoThreadsFireEachDueTimeExactlyOnceOnSQLite() throws { try twoSchedulersInTwoThreadsFireEachDueTimeExactlyOnce(.sqlite) }
    func testTwoSchedulersInTwoThreadsFireEachDueTimeExactlyOnceOnPostgreSQL() throws { try twoSchedulersInTwoThreadsFireEachDueTimeExactlyOnce(.postgres) }
    func testTwoProcessesFireEachDueTimeExactlyOnceOnSQLite() throws { try twoProcessesFireEachDueTimeExactlyOnce(.sqlite) }
    func testTwoProcessesFireEachDueTimeExactlyOnceOnPostgreSQL() throws { try twoProcessesFireEachDueTimeExactlyOnce(.postgres) }
}
