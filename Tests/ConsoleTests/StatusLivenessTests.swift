import Foundation
import XCTest
@testable import Console
@testable import Store

/// Issue #13 item 8, "status goes stale": the header's run counts, the flash after a launch, flashes
/// across views and a task's next fire, each against the store (the numbers `switchboard runs` and
/// `switchboard task list` show), on the cell buffer.
final class StatusLivenessTests: XCTestCase {
    var store: ExampleStore!

    override func setUpWithError() throws {
        store = try ExampleStore()
    }

    override func tearDown() {
        store = nil
    }

    func setStatus(_ run: Int64, _ status: Run.Status) throws {
        try store.database.writer.write { db in
            try db.execute(sql: "UPDATE run SET status = ? WHERE id = ?", arguments: [status.rawValue, run])
        }
    }

    /// A run starts after the header's last look: the runs table shows it running, and the header
    /// agrees at once instead of saying `running 0` until its next refresh.
    func testHeaderAgreesWithTheRunsTableItJustRead() throws {
        var d = Driver(store: store, width: 120, height: 30)
        XCTAssertTrue(d.screen[0].contains("running 0"), d.screen[0])
        let run = try store.run(service: "show version", status: .running)
        d.command("runs")
        let row = try XCTUnwrap(d.row(containing: "show version"), d.text)
        XCTAssertTrue(d.screen[row].contains("running"), d.screen[row])
        XCTAssertTrue(d.screen[0].contains("running 1"), "the header lags the table: \(d.screen[0])")
        // The run ends while its log is tailed: the header follows the tail, not its own interval.
        d.keys(.enter)
        XCTAssertEqual(d.model.top.content, .runLog(run))
        try setStatus(run, .completed)
        d.advance(0.2)
        XCTAssertTrue(d.screen[2].contains("completed"), d.screen[2])
        XCTAssertTrue(d.screen[0].contains("running 0"), "the run completed: \(d.screen[0])")
    }

    /// A run's tail opened straight (not through the runs table) on a run started elsewhere since
    /// the header's last look: the header counts it at once.
    func testHeaderCountsTheRunATailShowsRunning() throws {
        var d = Driver(store: store, width: 120, height: 30)
        XCTAssertTrue(d.screen[0].contains("running 0"), d.screen[0])
        let run = try store.run(service: "show version", status: .running)
        d.model.stack.append(d.model.makeView(.runLog(run), title: "run \(run)"))
        d.advance(0.01)
        XCTAssertTrue(d.screen[2].contains("running"), d.screen[2])
        XCTAssertTrue(d.screen[0].contains("running 1"), d.screen[0])
    }

    /// Queued runs are counted in the header too (as `switchboard runs` lists them), not hidden
    /// behind `running 0`.
    func testHeaderCountsQueuedRuns() throws {
        try store.run(service: "show version", status: .queued)
        try store.run(service: "show version", status: .queued)
        let d = Driver(store: store, width: 120, height: 30)
        XCTAssertTrue(d.screen[0].contains("running 0"), d.screen[0])
        XCTAssertTrue(d.screen[0].contains("queued 2"), d.screen[0])
    }

    /// `run N … queued` goes as soon as the tail sees the run leave the queue, not 5 s later.
    func testQueuedFlashGoesWhenTheRunLeavesTheQueue() throws {
        var d = Driver(store: store, width: 100, height: 24)
        let run = try store.run(service: "show version", status: .queued)
        d.send(.launched(LaunchRequest(service: "show version"), run: run, error: nil, engine: nil))
        XCTAssertEqual(d.model.top.content, .runLog(run))
        XCTAssertTrue(d.screen[22].contains("run \(run) of show version queued"), d.screen[22])
        // Still queued a moment later: the message is still true.
        d.advance(0.2)
        XCTAssertTrue(d.screen[22].contains("queued"), d.screen[22])
        try setStatus(run, .running)
        d.advance(0.2)
        XCTAssertTrue(d.screen[2].contains("running"), d.screen[2])
        XCTAssertFalse(d.screen[22].contains("queued"), "stale flash: \(d.screen[22])")
        XCTAssertTrue(d.screen[0].contains("running 1"), d.screen[0])
        try setStatus(run, .completed)
        d.advance(0.2)
        XCTAssertTrue(d.screen[2].contains("completed"), d.screen[2])
        XCTAssertFalse(d.screen[22].contains("queued"), d.screen[22])
        XCTAssertTrue(d.screen[0].contains("running 0"), d.screen[0])
    }

    /// A flash belongs to the view it was said in: it does not follow the engineer elsewhere, and
    /// one said while opening a view shows in that view.
    func testFlashesStayWithTheirView() throws {
        var d = Driver(store: store, width: 100, height: 24)
        d.keys(.char(">"))
        XCTAssertTrue(d.screen[22].contains("sorted by"), d.screen[22])
        d.command("runs")
        XCTAssertFalse(d.screen[22].contains("sorted by"), "the devices' flash followed into runs: \(d.screen[22])")
        // Said in a view, then another view pushed on it and popped: back with its view.
        d.command("pools")
        d.keys(.char(">"))
        XCTAssertTrue(d.screen[22].contains("sorted by"), d.screen[22])
        d.keys(.enter)
        XCTAssertEqual(d.model.stack.count, 2)
        XCTAssertFalse(d.screen[22].contains("sorted by"), d.screen[22])
        d.keys(.escape)
        XCTAssertEqual(d.model.stack.count, 1)
        XCTAssertTrue(d.screen[22].contains("sorted by"), d.screen[22])
        // Expired is expired.
        d.advance(AppModel.flashSeconds + 1)
        XCTAssertFalse(d.screen[22].contains("sorted by"), d.screen[22])
    }

    /// An inactive task has no next fire (as `task list` shows it), whatever the store still holds;
    /// an active one's is shown in the task's zone with its offset, as `task list` prints it.
    func testTaskNextFireAgreesWithTheCLI() throws {
        let stale = Date(timeIntervalSince1970: 1_800_000_000)      // 2027-01-15 08:00:00 UTC
        try store.database.writer.write { db in
            try db.execute(sql: "UPDATE task SET active = 0, next_fire = ? WHERE name = 'nightly backup'", arguments: [stale])
        }
        var d = Driver(store: store, width: 160, height: 30)
        d.command("tasks")
        let row = try XCTUnwrap(d.row(containing: "nightly backup"), d.text)
        XCTAssertTrue(d.screen[row].contains(" no "), d.screen[row])
        XCTAssertFalse(d.screen[row].contains("2027"), "an inactive task shows a next fire: \(d.screen[row])")
        // Active, in Tokyo: `task list` says 2027-01-15 17:00:00 +09:00.
        try store.database.writer.write { db in
            try db.execute(sql: "UPDATE task SET active = 1, timezone = 'Asia/Tokyo' WHERE name = 'nightly backup'")
        }
        d.model.stack[0].reloadRequested = true
        d.advance(0.1)
        let active = try XCTUnwrap(d.row(containing: "nightly backup"), d.text)
        XCTAssertTrue(d.screen[active].contains("2027-01-15 17:00:00 +09:00"), d.screen[active])
    }
}
