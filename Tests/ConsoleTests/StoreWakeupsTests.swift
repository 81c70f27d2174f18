import Foundation
import XCTest
@testable import Console
import Store

/// The console's reaction to the store's wake-ups (PostgreSQL's NOTIFY): a live tail reads at once,
/// a table waits for its own refresh.
final class StoreWakeupsTests: XCTestCase {
    static func loads(_ effects: [Effect]) -> [LoadRequest] {
        effects.compactMap { if case .load(let r) = $0, r.viewID != 0 { return r } else { return nil } }
    }

    func testAWakeUpMakesALiveTailReadNowAndLeavesATableToItsInterval() {
        var m = syntheticModel(["r1", "r2"])
        m.storeWakeups = true
        // The devices table on top, just loaded: a wake-up reads nothing now.
        XCTAssertTrue(Self.loads(update(m, .storeChanged).1).isEmpty, "a table is not read on every commit")

        // A live run's tail on top, loaded.
        m.push(.runLog(7), "run 7 log")
        var (next, effects) = update(m, .tick(m.now))
        let request = try! XCTUnwrap(Self.loads(effects).first)
        let running = RunSummary(id: 7, service: "show", status: "running", done: 0, total: 1, failed: 0, startedAt: m.now, endedAt: nil)
        next = update(next, .loaded(request, .runLog(running, lines: [], skipped: 0), next.now)).0
        (_, effects) = update(next, .tick(next.now.addingTimeInterval(0.5)))
        XCTAssertTrue(Self.loads(effects).isEmpty, "with wake-ups, a live tail does not poll every 100 ms")
        (_, effects) = update(next, .storeChanged)
        XCTAssertEqual(Self.loads(effects).map(\.content), [.runLog(7)], "a wake-up reads the tail at once")

        // Without wake-ups (SQLite), the same tail polls.
        next.storeWakeups = false
        (_, effects) = update(next, .tick(next.now.addingTimeInterval(0.5)))
        XCTAssertEqual(Self.loads(effects).map(\.content), [.runLog(7)], "SQLite's tail polls every 100 ms")
    }
}
