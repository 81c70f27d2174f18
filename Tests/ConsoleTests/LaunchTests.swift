import Foundation
import XCTest
import GRDB
@testable import Console
@testable import Store

/// The launch dialog, stopping runs, the engine in the header and the run's live tail, on a real
/// SQLite file. The engine itself is not started here (the end-to-end test does): the launcher's
/// engine starter is a closure that records the call or fails as told.
final class LaunchTests: XCTestCase {
    var store: ExampleStore!
    var engineFailure: String?

    override func setUpWithError() throws {
        store = try ExampleStore()
        engineFailure = nil
    }

    override func tearDown() { store = nil }

    var launcher: Launcher {
        let box = StartLog()
        startLog = box
        let failure = engineFailure
        return Launcher(database: store.database, user: "alice") { path in
            box.append(path)
            if let failure { throw StoreError.invalid(failure) }
            return 4242
        }
    }
    var startLog = StartLog()

    final class StartLog: @unchecked Sendable {
        private let lock = NSLock()
        private var paths: [String] = []
        func append(_ p: String) { lock.lock(); paths.append(p); lock.unlock() }
        var all: [String] { lock.lock(); defer { lock.unlock() }; return paths }
    }

    /// Performs the launch and stop effects the driver has collected since `from`, as the runtime does.
    func perform(_ d: inout Driver, from: Int, with launcher: Launcher) throws {
        let pending = Array(d.effects[from...])
        for effect in pending {
            switch effect {
            case .launch(let request):
                d.send(launcher.launch(request))
            case .launchInfo(let service):
                d.send(launcher.info(service))
            case .mutate(.requestStop(let id)):
                do { d.send(.mutated(message: try launcher.stop(id), error: nil)) }
                catch { d.send(.mutated(message: "", error: AppDatabase.describe(error))) }
            default:
                break
            }
        }
    }

    func select(_ d: inout Driver, _ id: String) {
        guard let idx = d.model.top.table.visible.firstIndex(where: { d.model.top.table.data!.rows[Int($0)].id == id }) else {
            return XCTFail("no row \(id)")
        }
        d.keys(.char("g"))
        for _ in 0..<idx { d.keys(.char("j")) }
        XCTAssertEqual(d.model.top.table.selectedRow?.id, id)
    }

    func launchForm(_ d: Driver) -> LaunchForm? {
        if case .dialog(.launch(let f)) = d.model.mode { return f }
        return nil
    }

    // MARK: the dialog

    func testMarkedDevicesCarryIntoTheDialogAndEnterQueuesTheRunAndOpensItsTail() throws {
        var d = Driver(store: store, width: 100, height: 30)
        select(&d, "lon-core1"); d.keys(.char(" "))
        select(&d, "par-core2"); d.keys(.char(" "))
        d.command("wf")
        select(&d, "version audit")
        d.keys(.char("r"))
        guard let f = launchForm(d) else { return XCTFail("no launch dialog: \(d.model.mode)") }
        XCTAssertEqual(f.service, "version audit")
        XCTAssertTrue(f.isWorkflow)
        XCTAssertEqual(f.text(.devices), "lon-core1, par-core2")
        XCTAssertTrue(d.text.contains("run workflow version audit"), d.text)
        XCTAssertTrue(d.text.contains("lon-core1, par-core2"))
        XCTAssertTrue(d.text.contains("from devices"), d.text)
        // The cursor sits in the devices field.
        let row = d.row(containing: "lon-core1, par-core2")!
        XCTAssertEqual(d.frame.cursor?.y, row)
        // Tab to the parameters and type two.
        d.keys(.tab, .tab, .tab)
        XCTAssertEqual(launchForm(d)?.field, .parameters)
        d.type("vrf=mgmt, count=3")
        let mark = d.effects.count
        d.keys(.enter)
        guard case .launch(let request)? = d.effects.last else { return XCTFail("no launch effect") }
        XCTAssertEqual(request, LaunchRequest(service: "version audit", devices: ["lon-core1", "par-core2"],
                                              parameters: ["vrf": .string("mgmt"), "count": .int(3)]))
        XCTAssertEqual(launchForm(d)?.busy, true)
        let l = launcher
        try perform(&d, from: mark, with: l)
        XCTAssertEqual(startLog.all, [store.database.path], "the engine is started for this database")
        // The run is queued as the console's, by the user, with the devices as targets.
        let run = try XCTUnwrap(try RunQueue(database: store.database).runs(limit: 1).first)
        XCTAssertEqual(run.trigger, .console)
        XCTAssertEqual(run.user, "alice")
        XCTAssertEqual(run.status, .queued)
        XCTAssertEqual(run.targets["devices"], .array([.string("lon-core1"), .string("par-core2")]))
        XCTAssertEqual(run.parameters["count"], .int(3))
        // The console is on the run's tail.
        XCTAssertEqual(d.model.mode, .normal)
        XCTAssertEqual(d.model.top.content, .runLog(run.id!))
        XCTAssertTrue(d.screen[2].contains("run \(run.id!) version audit queued"), d.screen[2])
        XCTAssertTrue(d.screen[28].contains("run \(run.id!) of version audit queued"), d.screen[28])
    }

    func testADrilledPoolPrefillsThePoolsAndRWorksFromTheWorkflowTree() throws {
        var d = Driver(store: store)
        d.command("pools")
        select(&d, "core")
        d.keys(.enter)
        d.command("svc")
        select(&d, "show version")
        d.keys(.char("r"))
        XCTAssertEqual(launchForm(d)?.text(.pools), "core")
        XCTAssertEqual(launchForm(d)?.text(.devices), "")
        XCTAssertEqual(launchForm(d)?.field, .pools)
        XCTAssertFalse(launchForm(d)!.isWorkflow)
        XCTAssertTrue(d.text.contains("pools › pool core"), d.text)
        d.keys(.escape)
        XCTAssertEqual(d.model.mode, .normal)
        // From the workflow's tree too; R is kept as an alias.
        d.command("wf")
        select(&d, "version audit")
        d.keys(.enter)
        guard case .workflow = d.model.top.content else { return XCTFail() }
        d.keys(.char("R"))
        XCTAssertEqual(launchForm(d)?.service, "version audit")
        // Elsewhere r still reloads.
        d.keys(.escape)
        d.command("dev")
        d.keys(.char("r"))
        XCTAssertNil(launchForm(d))
        XCTAssertEqual(d.model.activeFlash?.text, "reloading")
    }

    func testBadFieldsAndUnknownNamesAreShownInTheDialog() throws {
        var d = Driver(store: store, width: 100, height: 30)
        d.command("svc")
        select(&d, "show version")
        d.keys(.char("r"))
        // A bad filter: refused before anything is queued.
        d.keys(.tab, .tab)
        d.type("name~(")
        var mark = d.effects.count
        d.keys(.enter)
        XCTAssertFalse(d.effects[mark...].contains { if case .launch = $0 { return true }; return false })
        let err = try XCTUnwrap(launchForm(d)?.error)
        XCTAssertTrue(err.hasPrefix("filter:"), err)
        XCTAssertTrue(d.text.contains("filter:"), d.text)
        XCTAssertEqual(d.frame.buffer[d.frame.buffer.column(of: "filter:", row: d.row(containing: "filter: ")!)!, d.row(containing: "filter: ")!].role, .flashError)
        // Typing clears the error; a bad parameter is refused the same way.
        d.keys(.ctrl("u"))
        XCTAssertNil(launchForm(d)?.error)
        d.keys(.tab)
        d.type("novalue")
        d.keys(.enter)
        XCTAssertTrue(launchForm(d)?.error?.contains("'novalue' is not NAME=VALUE") == true)
        d.keys(.ctrl("u"))
        // An unknown device: the store refuses, the dialog stays open with its answer, nothing is queued.
        d.keys(.tab)
        XCTAssertEqual(launchForm(d)?.field, .devices)
        d.type("par-core1, atlantis")
        mark = d.effects.count
        d.keys(.enter)
        try perform(&d, from: mark, with: launcher)
        XCTAssertTrue(startLog.all.isEmpty, "no engine for a refused run")
        XCTAssertEqual(launchForm(d)?.busy, false)
        XCTAssertTrue(launchForm(d)?.error?.contains("no device named 'atlantis'") == true, "\(String(describing: launchForm(d)?.error))")
        XCTAssertTrue(d.text.contains("no device named 'atlantis'"), d.text)
        XCTAssertEqual(try RunQueue(database: store.database).runs().count, 0)
    }

    func testAnEngineThatCannotStartLeavesTheRunQueuedAndSaysSo() throws {
        engineFailure = "cannot start the engine (/nowhere): No such file or directory"
        var d = Driver(store: store)
        d.command("svc")
        select(&d, "ping loopbacks")
        d.keys(.char("r"))
        d.type("par-core1")
        let mark = d.effects.count
        d.keys(.enter)
        try perform(&d, from: mark, with: launcher)
        let run = try XCTUnwrap(try RunQueue(database: store.database).runs(limit: 1).first)
        XCTAssertEqual(d.model.top.content, .runLog(run.id!))
        XCTAssertTrue(d.model.activeFlash!.isError)
        XCTAssertTrue(d.screen[22].contains("queued, but the engine could not be started"), d.screen[22])
        // Once the flash is gone, the status line still says runs wait for an engine.
        d.advance(16)
        XCTAssertTrue(d.screen[22].contains("engine not running: 1 queued run wait"), d.screen[22])
        XCTAssertTrue(d.screen[0].contains("engine off"), d.screen[0])
    }

    /// The issue's case: `:dev platform=cisco_ios`, then a plain `:dev`, then `r` on `set ntp` must
    /// not offer the old filter; the table's filter is offered, never applied unasked; dry run is shown
    /// and toggles; a push is asked first with the count and the first names.
    func testAStaleFilterIsNeverReusedAndAPushIsAskedFirstWithTheCountAndNames() throws {
        var d = Driver(store: store, width: 100, height: 30)
        d.command("dev platform=cisco_ios")
        XCTAssertEqual(d.model.top.table.visible.count, 7)
        d.command("dev")
        XCTAssertEqual(d.model.top.table.visible.count, 20)
        d.command("svc")
        select(&d, "set ntp")
        d.keys(.char("r"))
        var f = try XCTUnwrap(launchForm(d))
        XCTAssertEqual(f.text(.filter), "")
        XCTAssertEqual(f.offeredFilter, "", "the plain :dev left no filter behind")
        XCTAssertFalse(d.text.contains("platform=cisco_ios"), d.text)
        // The dry run, as the service has it, and where the targets come from.
        XCTAssertEqual(f.dryRun, true)
        XCTAssertTrue(d.text.contains("dry run     [x] on: nothing is sent"), d.text)
        XCTAssertTrue(d.text.contains("empty fields: none (the service has no targets of its own)"), d.text)
        // Nothing to run on: refused in the dialog, nothing queued, the reason shown.
        var mark = d.effects.count
        d.keys(.enter)
        XCTAssertFalse(d.effects[mark...].contains { if case .launch = $0 { return true }; return false })
        XCTAssertTrue(launchForm(d)?.error?.contains("runs on devices, and neither the fields nor the service name any") == true,
                      String(describing: launchForm(d)?.error))
        d.keys(.escape)

        // A filtered table: its filter is offered, and taken only with ctrl+t.
        d.command("dev platform=cisco_ios")
        d.command("svc")
        select(&d, "set ntp")
        d.keys(.char("r"))
        f = try XCTUnwrap(launchForm(d))
        XCTAssertEqual(f.text(.filter), "")
        XCTAssertEqual(f.offeredFilter, "platform=cisco_ios")
        XCTAssertTrue(d.text.contains("ctrl+t takes the device table's filter: platform=cisco_ios"), d.text)
        d.keys(.ctrl("t"))
        XCTAssertEqual(launchForm(d)?.text(.filter), "platform=cisco_ios")
        XCTAssertEqual(launchForm(d)?.field, .filter)
        // Dry run on: queued without a question.
        mark = d.effects.count
        d.keys(.enter)
        try perform(&d, from: mark, with: launcher)
        var run = try XCTUnwrap(try RunQueue(database: store.database).runs(limit: 1).first)
        XCTAssertEqual(run.targets["filter"], .string("platform=cisco_ios"))
        XCTAssertNil(run.parameters["dry_run"], "untouched: the service's own dry run")
        XCTAssertEqual(d.model.top.content, .runLog(run.id!))

        // Dry run off (Tab to it, space): the push is asked first.
        d.command("dev platform=cisco_ios")
        d.command("svc")
        select(&d, "set ntp")
        d.keys(.char("r"), .ctrl("t"))
        while launchForm(d)?.field != .dryRun { d.keys(.tab) }
        d.keys(.char(" "))
        XCTAssertEqual(launchForm(d)?.dryRun, false)
        XCTAssertTrue(d.text.contains("[ ] off: changes are pushed"), d.text)
        mark = d.effects.count
        d.keys(.enter)
        try perform(&d, from: mark, with: launcher)
        let question = "push 'set ntp' to 7 devices: lon-acc1, lon-acc2, nyc-acc1, nyc-acc2, oob-par-1, par-acc1, par-acc2? y/N"
        XCTAssertEqual(launchForm(d)?.pending?.preview.question("set ntp", width: 68), question)
        XCTAssertTrue(d.text.contains("push 'set ntp' to 7 devices: lon-acc1"), d.text)
        XCTAssertTrue(d.text.contains("y runs it   n goes back"), d.text)
        XCTAssertEqual(try RunQueue(database: store.database).runs().count, 1, "nothing more queued before the answer")
        // n: back to the fields, nothing queued.
        d.keys(.char("n"))
        XCTAssertNil(launchForm(d)?.pending)
        XCTAssertEqual(try RunQueue(database: store.database).runs().count, 1)
        // Enter again, y: queued with the dry run off.
        mark = d.effects.count
        d.keys(.enter)
        try perform(&d, from: mark, with: launcher)
        mark = d.effects.count
        d.keys(.char("y"))
        try perform(&d, from: mark, with: launcher)
        run = try XCTUnwrap(try RunQueue(database: store.database).runs(limit: 1).first)
        XCTAssertEqual(try RunQueue(database: store.database).runs().count, 2)
        XCTAssertEqual(run.parameters["dry_run"], .bool(false))
        XCTAssertEqual(d.model.top.content, .runLog(run.id!))
        // Marked rows fill the devices; a table left unmarked and unfiltered leaves nothing.
        d.command("dev")
        select(&d, "par-acc1"); d.keys(.char(" "))
        d.command("svc")
        select(&d, "set ntp")
        d.keys(.char("r"))
        XCTAssertEqual(launchForm(d)?.text(.devices), "par-acc1")
        d.keys(.escape)
        d.command("dev")
        d.command("svc")
        select(&d, "set ntp")
        d.keys(.char("r"))
        XCTAssertEqual(launchForm(d)?.text(.devices), "")
    }

    /// A service that needs devices, launched with none or with targets that match none, is refused
    /// with the reason and nothing is queued; one that runs once (wait) is not.
    func testLaunchingWithNoTargetsIsRefusedWithTheReason() throws {
        let l = launcher
        guard case .launched(_, nil, let e1?, _) = l.launch(LaunchRequest(service: "show interfaces")) else { return XCTFail() }
        XCTAssertTrue(e1.contains("'show interfaces' (cli) runs on devices, and neither the launch nor the service names any"), e1)
        guard case .launched(_, nil, let e2?, _) = l.launch(LaunchRequest(service: "show version", filter: "name=atlantis")) else { return XCTFail() }
        XCTAssertTrue(e2.contains("its targets (filter name=atlantis) match no device"), e2)
        guard case .launched(_, nil, let e3?, _) = l.launch(LaunchRequest(service: "ping loopbacks")) else { return XCTFail() }
        XCTAssertTrue(e3.contains("'ping loopbacks' (ping) runs on devices"), e3)
        XCTAssertEqual(try RunQueue(database: store.database).runs().count, 0, "nothing queued")
        // The dialog says so too, before asking the store, for a service with no targets of its own.
        var d = Driver(store: store, width: 100, height: 30)
        d.command("svc")
        select(&d, "show interfaces")
        d.keys(.char("r"), .enter)
        XCTAssertTrue(d.text.contains("runs on devices"), d.text)
        // Runs once: not refused.
        guard case .launched(_, let run?, nil, _) = l.launch(LaunchRequest(service: "pause")) else { return XCTFail() }
        XCTAssertEqual(try RunQueue(database: store.database).run(run)?.status, .queued)
    }

    /// Runs from the console record the operating system's user (not $USER), trigger console.
    func testRunsRecordTheOperatingSystemUser() throws {
        let expected = String(cString: getpwuid(geteuid())!.pointee.pw_name)
        let saved = ProcessInfo.processInfo.environment["USER"]
        setenv("USER", "mallory", 1)
        defer { if let saved { setenv("USER", saved, 1) } else { unsetenv("USER") } }
        XCTAssertEqual(DataLoader.currentUser(), expected)
        let loader = DataLoader(database: store.database, properties: store.properties)
        XCTAssertEqual(loader.user, expected)
        let l = Launcher(database: store.database, user: loader.user) { _ in 1 }
        guard case .launched(_, let id?, nil, _) = l.launch(LaunchRequest(service: "pause")) else { return XCTFail() }
        let run = try XCTUnwrap(try RunQueue(database: store.database).run(id))
        XCTAssertEqual(run.user, expected)
        XCTAssertEqual(run.trigger, .console)
    }

    func testReadonlyRefusesTheDialog() throws {
        var d = Driver(store: store, readonly: true)
        d.command("svc")
        d.keys(.char("r"))
        XCTAssertNil(launchForm(d))
        XCTAssertTrue(d.model.activeFlash!.text.hasPrefix("read-only"))
    }

    // MARK: stopping

    func testStoppingARunAsksFirstThenStopsItThroughTheQueue() throws {
        let running = try store.run(service: "show version", status: .running, done: 1, total: 4)
        let queued = try store.run(service: "ping loopbacks", status: .queued, started: nil)
        var d = Driver(store: store, width: 100, height: 30)
        d.command("runs")
        select(&d, String(queued))
        var mark = d.effects.count
        d.keys(.ctrl("k"))
        guard case .dialog(.confirm(_, let message, .requestStop(queued))) = d.model.mode else { return XCTFail("\(d.model.mode)") }
        XCTAssertEqual(message, "Stop run \(queued)?")
        XCTAssertTrue(d.text.contains("Stop run \(queued)?"))
        d.keys(.char("n"))
        XCTAssertFalse(d.effects[mark...].contains { if case .mutate = $0 { return true }; return false })
        d.keys(.ctrl("k"), .char("y"))
        try perform(&d, from: mark, with: launcher)
        XCTAssertEqual(try RunQueue(database: store.database).run(queued)?.status, .aborted)
        XCTAssertEqual(d.model.activeFlash?.text, "run \(queued) aborted")
        // From the tail of the running one: a stop request the engine acts on.
        d.command("runs")
        select(&d, String(running))
        d.keys(.enter)
        XCTAssertEqual(d.model.top.content, .runLog(running))
        XCTAssertTrue(d.screen[29].contains("stop"), d.screen[29])
        mark = d.effects.count
        d.keys(.ctrl("k"), .char("y"))
        try perform(&d, from: mark, with: launcher)
        let r = try XCTUnwrap(try RunQueue(database: store.database).run(running))
        XCTAssertEqual(r.status, .running)
        XCTAssertTrue(r.stopRequested)
        XCTAssertEqual(r.reason, "stopped by alice")
        XCTAssertEqual(d.model.activeFlash?.text, "stop requested for run \(running)")
        // A finished run cannot be stopped: said in the status line.
        try store.database.writer.write { db in try db.execute(sql: "UPDATE run SET status = 'aborted' WHERE id = ?", arguments: [running]) }
        mark = d.effects.count
        d.keys(.ctrl("k"), .char("y"))
        try perform(&d, from: mark, with: launcher)
        XCTAssertTrue(d.model.activeFlash!.isError)
        XCTAssertTrue(d.model.activeFlash!.text.contains("is not running"), d.model.activeFlash!.text)
    }

    // MARK: header

    func testHeaderShowsTheEngineAndRunningRuns() throws {
        try store.run(service: "show version", status: .running)
        try store.run(service: "show version", status: .running)
        var d = Driver(store: store, width: 120, height: 30)
        XCTAssertTrue(d.screen[0].contains("engine off"), d.screen[0])
        XCTAssertTrue(d.screen[0].contains("running 2"), d.screen[0])
        XCTAssertTrue(d.screen[28].contains("engine not running: 2 marked running runs wait"), d.screen[28])
        // An engine takes the lock: the header names its pid at the next header refresh.
        let lock = try XCTUnwrap(try EngineLock.acquire(databasePath: store.database.path))
        d.advance(TimeInterval(d.model.interval("run")) / 1000 + 0.1)
        XCTAssertTrue(d.screen[0].contains("engine \(getpid())"), d.screen[0])
        XCTAssertFalse(d.screen[28].contains("engine not running"), d.screen[28])
        lock.release()
        d.advance(TimeInterval(d.model.interval("run")) / 1000 + 0.1)
        XCTAssertTrue(d.screen[0].contains("engine off"), d.screen[0])
    }

    func testHeaderLoadsInTheBackgroundAsAnEffect() {
        // The header's facts come from a load effect (view 0), performed off the input thread.
        let m = AppModel(settings: .defaults, properties: .builtIn, readonly: false)
        let (_, effects) = update(m, .tick(Date()))
        XCTAssertTrue(effects.contains(.load(LoadRequest(viewID: 0, content: nil))))
    }

    // MARK: the tail

    func testTheTailPollsALiveRunEvery100msThenSlowsDown() throws {
        let run = try store.run(service: "show version", status: .running, done: 0, total: 2)
        try store.log(run: run, lines: [(.info, "par-core1", "connecting")])
        var d = Driver(store: store)
        d.command("runs")
        d.keys(.enter)
        XCTAssertEqual(d.model.top.content, .runLog(run))
        XCTAssertEqual(d.model.pollMilliseconds, 25)
        try store.log(run: run, lines: [(.info, "par-core2", "second line")], startSeq: 2)
        d.advance(0.1)
        XCTAssertNotNil(d.row(containing: "second line"), d.text)
        // Finished: the header says so, and the tail is polled at the run table's interval.
        try store.database.writer.write { db in
            try db.execute(sql: "UPDATE run SET status = 'completed', progress_done = 2, ended_at = ? WHERE id = ?",
                           arguments: [Date(timeIntervalSince1970: 1_700_000_050), run])
        }
        d.advance(0.1)
        XCTAssertTrue(d.screen[2].contains("completed  2/2"), d.screen[2])
        XCTAssertEqual(d.model.pollMilliseconds, 100)
        try store.log(run: run, lines: [(.info, "par-core2", "third line")], startSeq: 3)
        d.advance(0.1)
        XCTAssertNil(d.row(containing: "third line"))
        d.advance(TimeInterval(d.model.interval("run")) / 1000)
        XCTAssertNotNil(d.row(containing: "third line"))
    }

    func testFollowOffKeepsThePlaceWhileLinesArrive() throws {
        let run = try store.run(service: "show version", status: .running, done: 0, total: 2)
        try store.bulkLog(run: run, count: 100)
        var d = Driver(store: store)
        d.command("runs")
        d.keys(.enter)
        XCTAssertNotNil(d.row(containing: "line 100"))
        d.keys(.pageUp)
        XCTAssertFalse(d.model.top.log.follow)
        let before = d.screen
        try store.database.writer.write { db in
            try db.execute(sql: """
                WITH RECURSIVE n(i) AS (SELECT 101 UNION ALL SELECT i + 1 FROM n WHERE i < 150)
                INSERT INTO run_log(run_id, seq, time, level, device, service, message)
                SELECT ?, i, '2023-11-14 22:13:20.000', 'info', 'par-core1', '', 'line ' || i FROM n
                """, arguments: [run])
        }
        d.advance(0.1)
        XCTAssertEqual(d.model.top.log.ring.count, 150)
        XCTAssertEqual(Array(d.screen[3..<21]), Array(before[3..<21]), "scrolled back: the lines shown stay put")
        XCTAssertNil(d.row(containing: "line 150"))
        d.keys(.char("f"))
        XCTAssertNotNil(d.row(containing: "line 150"))
    }

    func testFromTheTailToResultsPerDeviceToOutputShownInert() throws {
        let run = try store.run(service: "show version", status: .completed, done: 2, total: 2, failed: 1)
        try store.log(run: run, lines: [(.info, "par-core1", "ok \u{1b}]0;owned\u{7}")])
        try store.result(run: run, device: "par-core1", success: true, output: "JUNOS \u{1b}[31mred\u{1b}[0m")
        try store.result(run: run, device: "par-core2", success: false, output: "refused")
        var d = Driver(store: store, width: 100, height: 30)
        d.command("runs")
        d.keys(.enter)
        XCTAssertTrue(d.screen[2].contains("completed  2/2 (1 failed)"), d.screen[2])
        XCTAssertTrue(d.text.contains("ok ^[]0;owned^G"), d.text)
        d.keys(.enter)
        XCTAssertEqual(d.model.top.content, .table(.results, .run(run)))
        select(&d, String(try store.database.writer.read { db in
            try Int64.fetchOne(db, sql: "SELECT id FROM result WHERE device_name = 'par-core1'")! }))
        d.keys(.enter)
        XCTAssertEqual(d.model.top.title, "par-core1 output")
        XCTAssertTrue(d.text.contains("JUNOS ^[[31mred^[[0m"), d.text)
        XCTAssertFalse(d.frame.buffer.lines.joined().contains("\u{1b}"))
    }
}
