import Foundation
import XCTest
@testable import Console
import Store

/// `[` and `]`: the view history, as in k9s. Every navigation is a place; going back restores a
/// place as it was left (its filter, its drill-down stack); a new navigation drops the places ahead.
final class HistoryTests: XCTestCase {
    func testBackAndForwardThroughCommandsKeepEachViewsFilter() throws {
        let store = try ExampleStore()
        var d = Driver(store: store)
        d.keys(.char("["))
        XCTAssertEqual(d.model.activeFlash?.text, "no earlier view in the history")
        XCTAssertEqual(d.model.top.title, "devices")

        // A filter typed on the devices, then another table.
        d.keys(.char("/")); d.type("core1"); d.keys(.enter)
        let filtered = d.model.top.table.visible.count
        XCTAssertEqual(filtered, 3)
        d.command("runs")
        XCTAssertEqual(d.model.top.title, "runs")
        d.command("links lon")
        XCTAssertEqual(d.model.top.table.filterText, "lon")

        // Back: runs, then devices with the filter it was left with, rows filtered once loaded.
        d.keys(.char("["))
        XCTAssertEqual(d.model.top.content, .table(.runs, nil))
        XCTAssertEqual(d.model.activeFlash?.text, "back to runs (2/3)")
        d.keys(.char("["))
        XCTAssertEqual(d.model.top.content, .table(.devices, nil))
        XCTAssertEqual(d.model.top.table.filterText, "core1")
        XCTAssertEqual(d.model.top.table.visible.count, filtered)
        XCTAssertTrue(d.text.contains("/core1"), d.text)
        d.keys(.char("["))
        XCTAssertEqual(d.model.activeFlash?.text, "no earlier view in the history")

        // Forward again, to the links and their filter.
        d.keys(.char("]"))
        XCTAssertEqual(d.model.top.content, .table(.runs, nil))
        d.keys(.char("]"))
        XCTAssertEqual(d.model.top.content, .table(.links, nil))
        XCTAssertEqual(d.model.top.table.filterText, "lon")
        d.keys(.char("]"))
        XCTAssertEqual(d.model.activeFlash?.text, "no later view in the history")

        // A filter changed on the way back is what the place keeps.
        d.keys(.char("["), .char("["))
        d.keys(.char("/"), .backspace, .backspace, .backspace, .backspace, .backspace); d.type("par-"); d.keys(.enter)
        d.keys(.char("]"), .char("["))
        XCTAssertEqual(d.model.top.table.filterText, "par-")
    }

    func testANewNavigationDropsThePlacesAhead() throws {
        let store = try ExampleStore()
        var d = Driver(store: store)
        d.command("runs")
        d.command("tasks")
        d.keys(.char("["), .char("["))
        XCTAssertEqual(d.model.top.content, .table(.devices, nil))
        XCTAssertEqual(d.model.history.count, 3)
        // Going somewhere new from here: runs and tasks are no longer ahead.
        d.command("pools")
        XCTAssertEqual(d.model.history.map { $0.levels.map(\.content) }, [[.table(.devices, nil)], [.table(.pools, nil)]])
        d.keys(.char("]"))
        XCTAssertEqual(d.model.activeFlash?.text, "no later view in the history")
        XCTAssertEqual(d.model.top.content, .table(.pools, nil))
        d.keys(.char("["))
        XCTAssertEqual(d.model.top.content, .table(.devices, nil))
    }

    func testDrillDownsAndEscAreNavigationsAndTheStackComesBackWhole() throws {
        let store = try ExampleStore()
        var d = Driver(store: store)
        d.command("pools")
        let pool = try XCTUnwrap(d.model.top.table.selectedRow?.id)
        d.keys(.enter)
        XCTAssertEqual(d.model.stack.count, 2)
        d.keys(.escape)
        XCTAssertEqual(d.model.stack.count, 1)
        // Back from the pools (reached by Esc) is the pool's devices, under the pools.
        d.keys(.char("["))
        XCTAssertEqual(d.model.stack.count, 2)
        XCTAssertEqual(d.model.stack[0].content, .table(.pools, nil))
        XCTAssertEqual(d.model.top.content, .table(.devices, .pool(pool)))
        XCTAssertTrue(d.screen[1].contains("pools"), d.screen[1])
        XCTAssertNotNil(d.model.top.table.data, "the restored view reads its rows again")
        d.keys(.char("["))
        XCTAssertEqual(d.model.stack.map(\.content), [.table(.pools, nil)])
        // The help screen is not a place: closing it goes nowhere new.
        let places = d.model.history.count
        d.keys(.char("?"), .escape)
        XCTAssertEqual(d.model.history.count, places)
        d.keys(.char("]"))
        XCTAssertEqual(d.model.top.content, .table(.devices, .pool(pool)))
    }

    func testTheHistoryIsBounded() {
        var m = syntheticModel(["a", "b"])
        for i in 0..<(AppModel.maxHistoryPlaces + 10) {
            _ = m.execute(i % 2 == 0 ? "runs" : "tasks")
        }
        XCTAssertEqual(m.history.count, AppModel.maxHistoryPlaces)
        XCTAssertEqual(m.historyPosition, AppModel.maxHistoryPlaces - 1)
    }
}
