import Foundation
import GRDB
import XCTest
@testable import Console
@testable import Store

/// The configuration diff view (issue #13, item 9): unified hunks with 3 lines of context and `@@`
/// headers, `n`/`N` between hunks, side by side on terminals of 120 columns or more; and the
/// history table's numeric columns lined up under their titles.
final class DiffViewTests: XCTestCase {
    var store: ExampleStore!

    override func setUpWithError() throws { store = try ExampleStore() }
    override func tearDown() { store = nil }

    /// 40 lines; the new version changes line 5 and line 30.
    static let old = (1...40).map { "line \($0) of the configuration" }
    static var new: [String] {
        var n = old
        n[4] = "line 5 CHANGED"
        n[29] = "line 30 CHANGED"
        return n
    }

    /// The diff of lon-acc1's second version against its first, at `width`×30.
    func openDiff(width: Int = 100) throws -> Driver {
        let t = Date(timeIntervalSince1970: 1_699_000_000)
        try store.snapshot(device: "lon-acc1", content: DiffViewTests.old.joined(separator: "\n") + "\n", at: t)
        let v2 = try store.snapshot(device: "lon-acc1", content: DiffViewTests.new.joined(separator: "\n") + "\n", at: t.addingTimeInterval(60))
        var d = Driver(store: store, width: width, height: 30)
        d.command("config")
        XCTAssertEqual(d.model.top.table.selectedRow?.id, String(v2))
        d.keys(.char("d"))
        XCTAssertEqual(d.model.top.content, .document(.configDiff(v2)))
        return d
    }

    func testTheDiffShowsHunksWithThreeLinesOfContextNotTheWholeFile() throws {
        let d = try openDiff()
        let text = d.text
        XCTAssertTrue(text.contains("@@ -2,7 +2,7 @@"), text)
        XCTAssertTrue(text.contains("@@ -27,7 +27,7 @@"), text)
        // Three lines of context on either side of each change, nothing further.
        for n in [2, 3, 4, 6, 7, 8, 27, 28, 29, 31, 32, 33] { XCTAssertTrue(text.contains("  line \(n) of the"), "context \(n): \(text)") }
        for n in [1, 9, 15, 20, 26, 34, 40] { XCTAssertFalse(text.contains("line \(n) of the"), "line \(n) is not shown: \(text)") }
        XCTAssertEqual(d.frame.buffer[0, try XCTUnwrap(d.row(containing: "- line 5 of the"))].role, .diffRemoved)
        XCTAssertEqual(d.frame.buffer[0, try XCTUnwrap(d.row(containing: "+ line 5 CHANGED"))].role, .diffAdded)
        XCTAssertEqual(d.frame.buffer[0, try XCTUnwrap(d.row(containing: "@@ -2,7"))].role, .diffHeader)
        XCTAssertTrue(d.screen[2].contains("2 hunks"), d.screen[2])
        // Equal versions: the headers and a line saying so.
        let same = DiffDocument.lines(old: "a\nb\n", new: "a\nb\n", oldLabel: "x", newLabel: "y").map(\.text)
        XCTAssertEqual(same, ["--- x", "+++ y", "(no differences)"])
    }

    func testNAndShiftNMoveBetweenHunks() throws {
        var d = try openDiff(width: 100)
        // A screen that cannot hold both hunks: 10 rows.
        d.send(.resize(width: 100, height: 14))
        XCTAssertFalse(d.text.contains("@@ -27"), d.text)
        d.keys(.char("n"))
        XCTAssertTrue(d.screen[3].hasPrefix("@@ -2,7 +2,7 @@"), d.screen.joined(separator: "\n"))
        d.keys(.char("n"))
        XCTAssertTrue(d.screen[3].hasPrefix("@@ -27,7 +27,7 @@"), d.screen.joined(separator: "\n"))
        XCTAssertTrue(d.text.contains("+ line 30 CHANGED"))
        d.keys(.char("n"))
        XCTAssertEqual(d.model.activeFlash?.text, "no later change")
        d.keys(.char("N"))
        XCTAssertTrue(d.screen[3].hasPrefix("@@ -2,7 +2,7 @@"), d.screen.joined(separator: "\n"))
        // With a search, n and N go to its matches again.
        d.keys(.char("/")); d.type("line 30"); d.keys(.enter)
        XCTAssertEqual(d.model.top.log.search, "line 30")
        XCTAssertTrue(d.text.contains("line 30 CHANGED"))
        // The help lists the key.
        d.send(.resize(width: 100, height: 60))
        d.keys(.char("?"))
        XCTAssertTrue(d.text.contains("side by side"), d.text)
    }

    func testSideBySideOnAWideTerminal() throws {
        var d = try openDiff(width: 130)
        d.keys(.char("|"))
        XCTAssertTrue(d.model.sideBySideShown)
        let row = try XCTUnwrap(d.row(containing: "line 5 CHANGED"), d.text)
        let line = d.screen[row]
        // The old line on the left, the new on the right, on one row, with line numbers.
        XCTAssertTrue(line.contains("5 - line 5 of the configuration"), line)
        XCTAssertTrue(line.contains("5 + line 5 CHANGED"), line)
        let b = d.frame.buffer
        let left = try XCTUnwrap(b.column(of: "line 5 of the", row: row)), right = try XCTUnwrap(b.column(of: "line 5 CHANGED", row: row))
        XCTAssertLessThan(left, 65)
        XCTAssertGreaterThanOrEqual(right, 65)
        XCTAssertEqual(b[left, row].role, .diffRemoved)
        XCTAssertEqual(b[right, row].role, .diffAdded)
        // Context on both sides, hunk headers across.
        let context = try XCTUnwrap(d.row(containing: "line 4 of the"))
        XCTAssertEqual(d.screen[context].components(separatedBy: "line 4 of the configuration").count, 3, d.screen[context])
        XCTAssertNotNil(d.row(containing: "@@ -27,7 +27,7 @@"), d.text)
        XCTAssertTrue(d.screen[2].contains("side by side"), d.screen[2])
        // n still moves between hunks.
        d.send(.resize(width: 130, height: 12))
        d.keys(.char("n"), .char("n"))
        XCTAssertTrue(d.screen[3].hasPrefix("@@ -27,7 +27,7 @@"), d.screen.joined(separator: "\n"))
        // Back to unified.
        d.send(.resize(width: 130, height: 30))
        d.keys(.char("|"))
        // In the same place: the second hunk on top.
        XCTAssertTrue(d.screen[3].hasPrefix("@@ -27,7 +27,7 @@"), d.text)
        XCTAssertNotNil(d.row(containing: "+ line 30 CHANGED"), d.text)
        XCTAssertNil(d.row(containing: "30 + line 30 CHANGED"))
    }

    func testSideBySideIsRefusedOnANarrowTerminal() throws {
        var d = try openDiff(width: 100)
        d.keys(.char("|"))
        XCTAssertFalse(d.model.sideBySideShown)
        XCTAssertEqual(d.model.activeFlash?.text, "side by side needs 120 columns (this terminal has 100)")
        XCTAssertNotNil(d.row(containing: "+ line 5 CHANGED"))
        // Not in a text that is no diff.
        d.keys(.escape, .enter)
        XCTAssertEqual(d.model.top.log.isDiff, false)
        XCTAssertFalse(d.model.applies(.sideBySide))
    }

    func testSideBySideRowsPairRemovedWithAddedLines() {
        let lines = DiffDocument.lines(old: "a\nb\nc\nd\n", new: "a\nB\nB2\nd\n", oldLabel: "old", newLabel: "new")
        let rows = DiffDocument.sideBySide(lines)
        func show(_ r: DiffDocument.Row) -> String {
            "\(r.left.map { "\($0.number.map(String.init) ?? "")|\($0.text)" } ?? "")  \(r.right.map { "\($0.number.map(String.init) ?? "")|\($0.text)" } ?? "")"
        }
        XCTAssertEqual(rows.map(show), ["|--- old  |+++ new", "|@@ -1,4 +1,4 @@  ", "1|a  1|a", "2|b  2|B", "3|c  3|B2", "4|d  4|d"])
    }

    /// The history's Run and Size columns are numbers: their titles sit over the right-aligned values.
    func testHistoryRunAndSizeTitlesAlignWithTheirValues() throws {
        let run = try store.run(service: "show version", status: .completed)
        let content = "hostname lon-acc1\n"
        try store.database.writer.write { db in
            let did = try Int64.fetchOne(db, sql: "SELECT id FROM device WHERE name = 'lon-acc1'")!
            var s = ConfigSnapshot(deviceId: did, runId: run, sha256: "abc", content: content)
            s.createdAt = Date(timeIntervalSince1970: 1_699_000_000)
            try s.insert(db)
        }
        var d = Driver(store: store, width: 100)
        d.command("config")
        let b = d.frame.buffer
        let context = d.screen[2] + "\n" + d.screen[3]
        // The last cell of each title holds the value's last digit, and the cell after it is blank.
        for (title, value) in [("Run", String(run)), ("Size", String(content.utf8.count))] {
            let end = try XCTUnwrap(b.column(of: title, row: 2)) + title.count - 1
            XCTAssertEqual(b[end, 3].text, String(value.last!), "\(title): \(context)")
            XCTAssertEqual(b[end + 1, 3].text, " ", "\(title): \(context)")
            XCTAssertEqual(b[end - value.count, 3].text, " ", "\(title): \(context)")
        }
    }
}
