import Foundation
import XCTest
@testable import Console
@testable import Store

/// Issue #13, item 11: the small things, each on the cell buffer.
final class DetailsViewTests: XCTestCase {
    var store: ExampleStore!

    override func setUpWithError() throws { store = try ExampleStore() }
    override func tearDown() { store = nil }

    /// "Version" fills its 7 columns: the sort arrow used to be cut off with the title.
    func testTheSortedColumnHeaderKeepsItsArrow() throws {
        try store.snapshot(device: "lon-acc1", content: "hostname lon-acc1\n", at: Date(timeIntervalSince1970: 1_699_000_000))
        var d = Driver(store: store)
        d.command("config")
        d.keys(.char(">"))
        XCTAssertEqual(d.model.top.table.sort?.field, "id")
        let b = d.frame.buffer
        let x = b.column(of: "▲", row: 2)
        XCTAssertNotNil(x, d.screen[2])
        XCTAssertEqual(x.map { b[$0, 2].role }, .sortedColumnHeader)
        XCTAssertLessThan(x ?? 99, 2 + 7, "within the column's 7 cells: \(d.screen[2])")
        d.keys(.char("o"))
        XCTAssertNotNil(d.frame.buffer.column(of: "▼", row: 2), d.screen[2])
        // A right-aligned (numeric) column: the arrow after its title, inside the column.
        d.keys(.char(">"), .char(">"), .char(">"))
        XCTAssertEqual(d.model.top.table.sort?.field, "run_id")
        XCTAssertTrue(d.screen[2].contains("Run▲"), d.screen[2])
        // ASCII terminals get ^.
        var a = Driver(store: store, charset: .ascii)
        a.command("config")
        a.keys(.char(">"))
        XCTAssertTrue(a.screen[2].contains("Versi~^"), a.screen[2])
    }

    func testTheHeaderMarksColumnsBeyondTheRightEdge() throws {
        var d = Driver(store: store, width: 80)
        XCTAssertEqual(d.frame.buffer[79, 2].text, "»", d.screen[2])
        XCTAssertEqual(d.frame.buffer[0, 2].text, " ")
        // Scrolled to the last column: nothing more to the right, the left edge says there is.
        d.keys(.char("l"), .char("l"), .char("l"), .char("l"), .char("l"), .char("l"), .char("l"), .char("l"))
        XCTAssertNotEqual(d.frame.buffer[79, 2].text, "»", d.screen[2])
        XCTAssertEqual(d.frame.buffer[0, 2].text, "…")
        // Everything fits: no mark.
        var p = Driver(store: store, width: 200)
        p.command("pools")
        XCTAssertNotEqual(p.frame.buffer[199, 2].text, "»", p.screen[2])
    }

    func testOneLineIsNotOneLines() throws {
        let run = try store.run(service: "show version", status: .completed, done: 1, total: 1)
        try store.result(run: run, device: "lon-acc1", success: true, output: "just one line")
        var d = Driver(store: store)
        d.command("runs")
        d.keys(.enter, .enter, .enter)
        XCTAssertEqual(d.model.top.content, .document(.resultOutput(1)))
        XCTAssertTrue(d.screen[2].contains("  1 line"), d.screen[2])
        XCTAssertFalse(d.screen[2].contains("1 lines"), d.screen[2])
        XCTAssertEqual(Formats.count(2, "line"), "2 lines")
    }

    func testTabCompletesToPoolsNotThePoolAlias() {
        var m = syntheticModel(["a"])
        for typed in ["po", "pool"] {
            m.mode = .command(LineEditor(typed))
            send(&m, .tab)
            guard case .command(let editor) = m.mode else { return XCTFail("\(m.mode)") }
            XCTAssertEqual(editor.text, "pools ", typed)
        }
        XCTAssertEqual(ColonCommand.complete("wor"), "workflows ")
        XCTAssertEqual(ColonCommand.complete("ref"), "refresh ")
        XCTAssertEqual(ColonCommand.complete("mes"), "messages ")
        XCTAssertEqual(ColonCommand.complete("s"), "s")    // many tables and :ssh: nothing chosen
    }

    /// The selected first row of a picker starts in the same column as the rows below it.
    func testPickerRowsLineUp() throws {
        var d = Driver(store: store)
        d.keys(.char("C"))
        let b = d.frame.buffer
        guard let first = d.row(containing: "(name)"), let second = d.row(containing: "(address)") else {
            return XCTFail(d.text)
        }
        XCTAssertEqual(b.column(of: "[", row: first), b.column(of: "[", row: second), "\(d.screen[first])\n\(d.screen[second])")
        let x = try XCTUnwrap(b.column(of: "[", row: first))
        XCTAssertEqual(b[x - 1, first].role, .selectedRow, "the highlight spans the box")
        // The credential picker of S draws through the same box.
        var overlay = CellBuffer(width: 80, height: 24)
        _ = SessionOverlayWidget.render(.picker(device: "lon-acc1", choices: [
            CredentialChoice(name: "ro", username: "u1", kind: "password"), CredentialChoice(name: "rw", username: "u2", kind: "password"),
        ], cursor: 0), into: &overlay, area: Rect(x: 0, y: 2, width: 80, height: 20))
        let r1 = try XCTUnwrap(overlay.lines.firstIndex { $0.contains("ro  u1") }), r2 = try XCTUnwrap(overlay.lines.firstIndex { $0.contains("rw  u2") })
        XCTAssertEqual(overlay.column(of: "ro", row: r1), overlay.column(of: "rw", row: r2))
    }

    /// In :svc, `r` runs the service; the help no longer also lists it as "reload now".
    func testServicesHelpGivesEachKeyOneMeaning() throws {
        var d = Driver(store: store, height: 60)
        d.command("svc")
        d.keys(.char("?"))
        let lines = d.screen
        let reload = lines.first { $0.contains("reload now") }
        let run = lines.first { $0.contains("run the service or workflow") }
        XCTAssertNotNil(run, d.text)
        XCTAssertTrue(run?.contains("  r, R ") ?? false, run ?? "")
        XCTAssertNotNil(reload, d.text)
        XCTAssertFalse(reload?.contains(" r ") ?? true, reload ?? "")
        XCTAssertFalse(reload?.contains(" r,") ?? true, reload ?? "")
        XCTAssertTrue(reload?.contains("ctrl+r") ?? false, reload ?? "")
        // ctrl+r reloads there, r opens the launch dialog.
        d.keys(.escape, .ctrl("r"))
        XCTAssertEqual(d.model.activeFlash?.text, "reloading")
        // Elsewhere r still reloads, and the help says so.
        d.command("dev")
        d.keys(.char("?"))
        XCTAssertTrue(d.screen.first { $0.contains("reload now") }?.contains("  r, ctrl+r") ?? false, d.text)
    }

    /// `s` in a text saves under `$XDG_DATA_HOME/switchboard/exports/` and says the full path.
    func testSaveGoesToTheExportsDirectoryAndShowsTheFullPath() throws {
        let run = try store.run(service: "show version", status: .completed, done: 1, total: 1)
        try store.log(run: run, lines: [(.info, "par-core1", "connecting")])
        var d = Driver(store: store)
        d.command("runs")
        d.keys(.char("L"), .char("s"))
        XCTAssertTrue(d.text.contains(AppModel.exportDirectory()) || d.text.contains("save to (in"), d.text)
        d.keys(.enter)
        guard case .save(let path, _)? = d.effects.last else { return XCTFail("no save effect") }
        XCTAssertEqual(path, Paths().dataDirectory + "/exports/switchboard-run-\(run).log")
        d.send(.saved(path: path, error: nil))
        XCTAssertEqual(d.model.activeFlash?.text, "saved " + path)
        // An absolute path is kept as written.
        d.keys(.char("s"), .ctrl("u"))
        d.type("/tmp/elsewhere.log")
        d.keys(.enter)
        guard case .save(let absolute, _)? = d.effects.last else { return XCTFail("no save effect") }
        XCTAssertEqual(absolute, "/tmp/elsewhere.log")
    }

    /// A long error is cut in the status line; `:messages` shows it whole, with the others.
    func testMessagesKeepsLongStatusLineErrorsReadable() throws {
        var d = Driver(store: store, width: 80)
        d.command("nosuchcommand")
        let full = try XCTUnwrap(d.model.activeFlash?.text)
        XCTAssertGreaterThan(full.count, 80)
        XCTAssertFalse(d.screen[22].contains(":q)"), "cut in the status line: \(d.screen[22])")
        d.keys(.char("p"))
        d.command("messages")
        XCTAssertEqual(d.model.top.content, .document(.messages))
        // Wrapped: the end of the long message is on screen, in the error role.
        XCTAssertTrue(d.text.contains("unknown command 'nosuchcommand'"), d.text)
        XCTAssertTrue(d.text.contains(":q)"), d.text)
        XCTAssertNotNil(d.row(containing: "automatic refresh paused"))
        let y = try XCTUnwrap(d.row(containing: "unknown command"))
        XCTAssertEqual(d.frame.buffer[try XCTUnwrap(d.frame.buffer.column(of: "unknown", row: y)), y].role, .logError)
        // A refresh does not empty it.
        d.keys(.char("r"))
        XCTAssertTrue(d.text.contains("unknown command"), d.text)
        d.keys(.escape)
        XCTAssertEqual(d.model.top.content, .table(.devices, nil))
    }

    /// Enter on a run opens its log (then its results, then a device's output), as the README now says.
    func testEnterOnARunOpensItsLogAsTheReadmeSays() throws {
        let run = try store.run(service: "show version", status: .completed, done: 1, total: 1)
        try store.result(run: run, device: "lon-acc1", success: true, output: "ok")
        var d = Driver(store: store)
        d.command("runs")
        d.keys(.enter)
        XCTAssertEqual(d.model.top.content, .runLog(run))
        d.keys(.enter)
        XCTAssertEqual(d.model.top.content, .table(.results, .run(run)))
        d.keys(.enter)
        XCTAssertEqual(d.model.top.content, .document(.resultOutput(1)))
        let readme = try String(contentsOfFile: repositoryRoot + "/README.md", encoding: .utf8)
        let enter = readme.components(separatedBy: "\n").first { $0.hasPrefix("| `Enter` / `Esc` |") } ?? ""
        XCTAssertTrue(enter.contains("run → log → results → output"), enter)
        XCTAssertFalse(enter.contains("run → results"), enter)
    }
}
