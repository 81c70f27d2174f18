import Foundation
import XCTest
@testable import Console
import Store
import GRDB

/// A terminal that records what is drawn; keys are fed from another thread.
final class FakeTerminal: TerminalBackend, @unchecked Sendable {
    let lock = NSLock()
    var width = 80
    var height = 24
    let charset = Charset.unicode
    let inputDescriptor: Int32
    let writeEnd: Int32
    private var pending: [Key] = []
    var draws: [[CellRun]] = []
    var themes: [String] = []
    var shutDown = false

    init() {
        var fds: [Int32] = [0, 0]
        _ = pipe(&fds)
        inputDescriptor = fds[0]
        writeEnd = fds[1]
        _ = fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK)
    }

    deinit { close(inputDescriptor); close(writeEnd) }

    func press(_ keys: Key...) {
        lock.lock(); pending += keys; lock.unlock()
        var b: UInt8 = 1
        _ = write(writeEnd, &b, 1)
    }

    func readKeys() -> [Key] {
        var buf = [UInt8](repeating: 0, count: 64)
        while read(inputDescriptor, &buf, 64) > 0 {}
        lock.lock(); defer { lock.unlock() }
        let k = pending
        pending = []
        return k
    }

    func apply(_ theme: Theme) { themes.append(theme.name) }
    func draw(_ runs: [CellRun], cursor: CursorPosition?) { lock.lock(); draws.append(runs); lock.unlock() }
    func updateSize() -> Bool { false }
    func shutdown() { shutDown = true }
}

final class RuntimeTests: XCTestCase {
    /// Over a minute of refreshes every second with nothing changing in the database, nothing is
    /// written but the clock when its minute turns.
    func testIdleRefreshesWriteNothingButTheClock() throws {
        let store = try ExampleStore()
        // 12:00:30 local time, so the minute turns once in the next 60 seconds.
        var d = Driver(store: store, width: 120, height: 40, now: Date(timeIntervalSince1970: 1_700_000_030))
        d.command("refresh 1")
        d.advance(10)                       // the flash from :refresh expires
        var previous = d.frame.buffer
        var changed: [CellRun] = []
        var loads = 0
        for _ in 0..<60 {
            let before = d.effects.count
            d.advance(1)
            loads += d.effects[before...].filter { if case .load = $0 { return true }; return false }.count
            let next = d.frame.buffer
            changed += CellBuffer.diff(previous, next)
            previous = next
        }
        XCTAssertGreaterThanOrEqual(loads, 60)               // it did refresh, every second
        XCTAssertEqual(changed.count, 1, "\(changed)")       // only the clock, once
        XCTAssertEqual(changed.first?.y, 0)
        XCTAssertLessThanOrEqual(changed.first?.cells.count ?? 0, 5)
    }

    func testAChangedRowRedrawsOnlyThatRow() throws {
        let store = try ExampleStore()
        var d = Driver(store: store)
        let before = d.frame.buffer
        try store.database.writer.write { db in
            try db.execute(sql: "UPDATE device SET model = 'MX960' WHERE name = 'lon-core1'")
        }
        d.advance(11)
        let runs = CellBuffer.diff(before, d.frame.buffer)
        let row = d.row(containing: "lon-core1")!
        XCTAssertFalse(runs.isEmpty)
        XCTAssertTrue(runs.allSatisfy { $0.y == row || $0.y == 0 }, "\(runs.map(\.y))")
        XCTAssertTrue(runs.contains { $0.text.contains("960") })
    }

    func testMainLoopLoadsInTheBackgroundDrawsAndQuits() throws {
        let store = try ExampleStore()
        let terminal = FakeTerminal()
        let inbox = try Inbox()
        let model = AppModel(settings: .defaults, properties: store.properties, readonly: false, width: 80, height: 24,
                             header: HeaderInfo(database: "switchboard.db", user: "alice"))
        let runtime = Runtime(terminal: terminal, model: model, loader: store.loader,
                              themes: ThemeLoader(directories: [repositoryRoot + "/themes"]), inbox: inbox)
        DispatchQueue.global().asyncAfter(deadline: .now() + 1.0) { terminal.press(.char("j")) }
        DispatchQueue.global().asyncAfter(deadline: .now() + 1.5) {
            terminal.press(.char(":"), .char("t"), .char("h"), .char("e"), .char("m"), .char("e"),
                           .char(" "), .char("d"), .char("a"), .char("r"), .char("k"), .enter)
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + 2.5) { terminal.press(.char("q")) }
        let status = runtime.run()
        XCTAssertEqual(status, 0)
        XCTAssertEqual(terminal.themes, ["dark"])
        XCTAssertEqual(runtime.model.themeName, "dark")
        // The first frame is drawn whole, before any data arrives.
        XCTAssertEqual(terminal.draws.first?.count, 24)
        XCTAssertEqual(runtime.model.top.table.data?.count, 20)
        let names = try store.database.writer.read { db in try Inventory.devices(db).map(\.name) }
        XCTAssertEqual(runtime.model.top.table.selectedRow?.id, names[1])
        let screen = view(runtime.model).buffer.lines
        XCTAssertTrue(screen.contains { $0.contains("par-core1") })
        // Moving the cursor redraws two rows (and the position in the breadcrumb), not the screen.
        let small = terminal.draws.dropFirst().filter { !$0.isEmpty }
        XCTAssertTrue(small.contains { runs in Set(runs.map(\.y)).count <= 4 })
    }

    /// Records what the console hands to the scheduler's rule (the executable's is Engine's
    /// `TaskActivation`, tested end to end in ConsoleSafetyE2ETests).
    final class RecordingTasks: TaskActivating, @unchecked Sendable {
        var calls: [(String, Bool, String)] = []
        func setActive(_ name: String, active: Bool, database: any StoreBackend, user: String) throws -> String {
            calls.append((name, active, user))
            return "task \(name) enabled"
        }
    }

    func testMutationsAreWrittenWithAChangelogEntry() throws {
        let store = try ExampleStore()
        let tasks = RecordingTasks()
        var message = try Runtime.apply(.setTaskActive("nightly backup", true), database: store.database, user: "alice", tasks: tasks)
        XCTAssertEqual(message, "task nightly backup enabled")
        XCTAssertEqual(tasks.calls.map(\.0), ["nightly backup"])
        XCTAssertEqual(tasks.calls.map(\.1), [true])
        message = try Runtime.apply(.delete(.devices, ["lon-acc1"]), database: store.database, user: "alice")
        XCTAssertEqual(message, "deleted device lon-acc1")
        let (exists, log) = try store.database.writer.read { db in
            (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM device WHERE name = 'lon-acc1'"),
             try String.fetchAll(db, sql: "SELECT target_name FROM changelog WHERE user = 'alice' ORDER BY id"))
        }
        XCTAssertEqual(exists, 0)
        XCTAssertEqual(log, ["lon-acc1"])
        XCTAssertThrowsError(try Runtime.apply(.requestStop(999), database: store.database, user: "alice"))
        XCTAssertThrowsError(try Runtime.apply(.delete(.runs, ["1"]), database: store.database, user: "alice"))
    }

    /// The task toggle never writes `active` by itself (that skipped the schedule's checks and left
    /// `next_fire` stale, so a re-enabled task was taken for a missed fire): without the
    /// scheduler's rule it is refused and nothing changes.
    func testTaskToggleWithoutTheSchedulersRuleChangesNothing() throws {
        let store = try ExampleStore()
        try store.database.writer.write { db in
            try db.execute(sql: "UPDATE task SET next_fire = ? WHERE name = 'nightly backup'", arguments: [Date(timeIntervalSince1970: 1_700_000_000)])
        }
        XCTAssertThrowsError(try Runtime.apply(.setTaskActive("nightly backup", true), database: store.database, user: "alice")) { e in
            XCTAssertTrue("\(e)".contains("no scheduler"), "\(e)")
        }
        let active = try store.database.writer.read { db in
            try Bool.fetchOne(db, sql: "SELECT active FROM task WHERE name = 'nightly backup'")
        }
        XCTAssertEqual(active, false)
    }

    /// The console's stop is `RunQueue.requestStop`, as `switchboard stop`: a queued run is aborted
    /// at once with the reason and the user (it used to be only flagged, and stay queued).
    func testStopGoesThroughTheRunQueue() throws {
        let store = try ExampleStore()
        let queued = try store.run(service: "show version", status: .queued, started: nil)
        let running = try store.run(service: "show version", status: .running)
        let done = try store.run(service: "show version", status: .completed)
        XCTAssertEqual(try Runtime.apply(.requestStop(queued), database: store.database, user: "alice"), "run \(queued) aborted")
        XCTAssertEqual(try Runtime.apply(.requestStop(running), database: store.database, user: "alice"), "stop requested for run \(running)")
        XCTAssertThrowsError(try Runtime.apply(.requestStop(done), database: store.database, user: "alice"))
        let queue = RunQueue(database: store.database)
        let q = try XCTUnwrap(queue.run(queued)), r = try XCTUnwrap(queue.run(running))
        XCTAssertEqual(q.status, .aborted)
        XCTAssertEqual(q.reason, "stopped by alice before it started")
        XCTAssertNotNil(q.endedAt)
        XCTAssertEqual(r.status, .running)
        XCTAssertTrue(r.stopRequested)
        XCTAssertEqual(r.reason, "stopped by alice")
    }
}
