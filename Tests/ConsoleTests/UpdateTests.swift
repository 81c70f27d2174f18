import Foundation
import XCTest
@testable import Console
import Store

final class UpdateTests: XCTestCase {
    let names = (1...50).map { String(format: "dev%02d", $0) }

    func testNavigationKeys() {
        var m = syntheticModel(names)
        XCTAssertEqual(m.top.table.cursor, 0)
        send(&m, .char("j"), .char("j"), .down)
        XCTAssertEqual(m.top.table.cursor, 3)
        XCTAssertEqual(m.top.table.cursorID, "dev04")
        send(&m, .char("k"), .up)
        XCTAssertEqual(m.top.table.cursor, 1)
        send(&m, .char("G"))
        XCTAssertEqual(m.top.table.cursor, 49)
        XCTAssertEqual(m.top.table.top, 50 - m.layout.tableRows)
        send(&m, .char("g"))
        XCTAssertEqual(m.top.table.cursor, 0)
        XCTAssertEqual(m.top.table.top, 0)
        send(&m, .pageDown)
        XCTAssertEqual(m.top.table.cursor, m.layout.tableRows - 1)
        send(&m, .pageUp)
        XCTAssertEqual(m.top.table.cursor, 0)
        send(&m, .end)
        XCTAssertEqual(m.top.table.cursor, 49)
        send(&m, .home)
        XCTAssertEqual(m.top.table.cursor, 0)
        send(&m, .up)
        XCTAssertEqual(m.top.table.cursor, 0)
    }

    func testCursorFollowsItsRowAcrossARefreshThatReordersRows() {
        var m = syntheticModel(["a", "b", "c", "d"])
        send(&m, .char("j"), .char("j"))
        XCTAssertEqual(m.top.table.cursorID, "c")
        // The next load has new rows before it and a different order.
        m = update(m, .tick(m.now.addingTimeInterval(60))).0
        let request = LoadRequest(viewID: m.top.id, content: m.top.content)
        m.stack[0].loading = true
        m = update(m, .loaded(request, .table(syntheticTable(["z", "c", "y", "x", "a", "b", "d"])), m.now)).0
        XCTAssertEqual(m.top.table.cursor, 1)
        XCTAssertEqual(m.top.table.selectedRow?.id, "c")
        // The row under the cursor disappears: the cursor stays at its position.
        m = update(m, .loaded(request, .table(syntheticTable(["z", "y", "x"])), m.now)).0
        XCTAssertEqual(m.top.table.cursor, 1)
        XCTAssertEqual(m.top.table.selectedRow?.id, "y")
    }

    func testMarksAreKeptByIdentity() {
        var m = syntheticModel(["a", "b", "c"])
        send(&m, .char(" "))
        XCTAssertEqual(m.top.table.marked, ["a"])
        XCTAssertEqual(m.top.table.cursor, 1)      // space marks and moves on
        send(&m, .char(" "))
        XCTAssertEqual(m.top.table.marked, ["a", "b"])
        let request = LoadRequest(viewID: m.top.id, content: m.top.content)
        m = update(m, .loaded(request, .table(syntheticTable(["b", "c"])), m.now)).0
        XCTAssertEqual(m.top.table.marked, ["b"])
        send(&m, .char("u"))
        XCTAssertEqual(m.top.table.marked, [])
    }

    func testSortingByColumn() {
        var m = syntheticModel(["b", "c", "a"])
        send(&m, .char(">"))                          // first column: id
        XCTAssertEqual(m.top.table.sort, SortOrder(field: "name", ascending: true))
        let ids = { (m: AppModel) in m.top.table.visible.map { m.top.table.data!.rows[Int($0)].id } }
        XCTAssertEqual(ids(m), ["a", "b", "c"])
        send(&m, .char("o"))
        XCTAssertEqual(ids(m), ["c", "b", "a"])
        XCTAssertEqual(m.top.table.cursorID, "b")     // the cursor stays on its row
        send(&m, .char("<"))
        XCTAssertEqual(m.top.table.sort?.field, m.top.table.visibleColumns.last?.property)
    }

    func testFilterIsAppliedLiveAndEscRestoresIt() {
        var m = syntheticModel(names)
        send(&m, .char("/"))
        for c in "dev1" { send(&m, .char(c)) }
        XCTAssertEqual(m.top.table.visible.count, 10)   // dev10 … dev19
        send(&m, .char("5"))
        XCTAssertEqual(m.top.table.visible.count, 1)
        send(&m, .enter)
        XCTAssertEqual(m.top.table.filterText, "dev15")
        XCTAssertEqual(m.top.table.selectedRow?.id, "dev15")
        send(&m, .char("/"), .backspace, .backspace, .char("2"), .escape)
        XCTAssertEqual(m.top.table.filterText, "dev15")
        XCTAssertEqual(m.top.table.visible.count, 1)
        send(&m, .escape)                               // Esc in the table clears the filter
        XCTAssertEqual(m.top.table.filterText, "")
        XCTAssertEqual(m.top.table.visible.count, 50)
    }

    func testFilterLanguageAndErrors() {
        var m = syntheticModel(names)
        send(&m, .char("/"))
        for c in "platform=arista_eos !dev0" { send(&m, .char(c)) }
        XCTAssertEqual(m.top.table.visible.count, 20)
        send(&m, .escape, .char("/"))
        for c in "nosuchfield=1" { send(&m, .char(c)) }
        XCTAssertNotNil(m.top.table.filterError)
        XCTAssertTrue(m.top.table.filterError!.contains("unknown device field 'nosuchfield'"))
        XCTAssertEqual(m.top.table.filterText, "nosuchfield=1")
        let status = view(m).buffer.text(row: m.height - 2)
        XCTAssertTrue(status.contains("unknown device field"), status)
        send(&m, .enter)
        XCTAssertEqual(m.activeFlash?.isError, true)
    }

    func testIncrementalFilterNarrowsTheRowsAlreadyShown() {
        let data = syntheticTable(names).data
        let a = try! CompiledFilter(FilterExpression.parse("dev"), for: data)
        XCTAssertTrue(a.isRefined(by: try! FilterExpression.parse("dev1")))
        XCTAssertTrue(a.isRefined(by: try! FilterExpression.parse("dev paris")))
        XCTAssertFalse(a.isRefined(by: try! FilterExpression.parse("de")))
        XCTAssertFalse(a.isRefined(by: try! FilterExpression.parse("!dev")))
    }

    func testCommandAliases() {
        var m = syntheticModel(names)
        for (command, kind) in [("dev", TableKind.devices), ("devices", .devices), ("links", .links), ("pools", .pools),
                                ("creds", .credentials), ("services", .services), ("svc", .services),
                                ("workflows", .workflows), ("wf", .workflows), ("runs", .runs), ("tasks", .tasks),
                                ("sessions", .sessions), ("config", .config)] {
            _ = m.execute(command)
            XCTAssertEqual(m.top.tableKind, kind, command)
            XCTAssertEqual(m.stack.count, 1, command)
        }
        _ = m.execute("dev platform=arista_eos")
        XCTAssertEqual(m.top.table.filterText, "platform=arista_eos")
        XCTAssertEqual(m.execute("q"), [.quit])
        XCTAssertEqual(m.execute("theme solarized"), [.loadTheme("solarized")])
        _ = m.execute("refresh 2")
        XCTAssertEqual(m.refreshOverride, 2000)
        XCTAssertEqual(m.interval("device"), 2000)
        _ = m.execute("refresh soon")
        XCTAssertEqual(m.activeFlash?.isError, true)
        _ = m.execute("frobnicate")
        XCTAssertTrue(m.activeFlash!.text.contains("unknown command 'frobnicate'"))
        // Every match opens one table: its name as the help writes it, not a shorter alias.
        XCTAssertEqual(ColonCommand.complete("wor"), "workflows ")
        XCTAssertEqual(ColonCommand.complete("sess"), "sessions ")
        XCTAssertEqual(ColonCommand.complete("them"), "theme ")
    }

    func testCommandHistoryWithUpAndDown() {
        var m = syntheticModel(names)
        for line in ["pools", "links", "runs"] {
            send(&m, .char(":"))
            for c in line { send(&m, .char(c)) }
            send(&m, .enter)
        }
        XCTAssertEqual(m.commandHistory, ["pools", "links", "runs"])
        send(&m, .char(":"), .up)
        XCTAssertEqual(m.mode, .command(LineEditor("runs")))
        send(&m, .up, .up)
        XCTAssertEqual(m.mode, .command(LineEditor("pools")))
        send(&m, .up)
        XCTAssertEqual(m.mode, .command(LineEditor("pools")))
        send(&m, .down)
        XCTAssertEqual(m.mode, .command(LineEditor("links")))
        send(&m, .down, .down)
        XCTAssertEqual(m.mode, .command(LineEditor("")))
        send(&m, .up, .enter)
        XCTAssertEqual(m.top.tableKind, .runs)
        XCTAssertEqual(m.commandHistory, ["pools", "links", "runs"])   // no duplicate
        send(&m, .char(":"), .char("x"), .escape)
        XCTAssertEqual(m.mode, .normal)
        XCTAssertEqual(m.commandHistory.count, 3)
    }

    func testReadonlyRefusesEveryActionThatChangesSomething() {
        var m = syntheticModel(names, readonly: true)
        for key in [Key.ctrl("d")] {
            let (next, effects) = update(m, .key(key))
            XCTAssertEqual(effects.filter { if case .load = $0 { return false }; return true }, [])
            XCTAssertEqual(next.mode, .normal)
            XCTAssertTrue(next.activeFlash!.text.hasPrefix("read-only console"), next.activeFlash!.text)
            m = next
        }
        // Not read-only: the same key asks before deleting, and only yes deletes.
        var w = syntheticModel(names)
        send(&w, .ctrl("d"))
        guard case .dialog(.confirm(_, let message, .delete(.devices, ["dev01"]))) = w.mode else {
            return XCTFail("expected a confirmation, got \(w.mode)")
        }
        XCTAssertTrue(message.contains("dev01"))
        XCTAssertTrue(view(w).buffer.lines.joined().contains("Delete device dev01?"))
        let (afterNo, noEffects) = update(w, .key(.char("n")))
        XCTAssertEqual(afterNo.mode, .normal)
        XCTAssertFalse(noEffects.contains { if case .mutate = $0 { return true }; return false })
        let (_, yes) = update(w, .key(.char("y")))
        XCTAssertTrue(yes.contains(.mutate(.delete(.devices, ["dev01"]))))

        // Every action that changes something is refused in read-only mode, whatever its key.
        for action in Action.allCases where action.changesSomething {
            var r = syntheticModel(names, readonly: true)
            _ = r.execute(action == .toggleActive ? "tasks" : action == .runService ? "svc" : action == .stopRun ? "runs" : "dev")
            let req = LoadRequest(viewID: r.top.id, content: r.top.content)
            r = update(r, .loaded(req, .table(syntheticTable(["x"], kind: r.top.tableKind!)), r.now)).0
            let key = r.keymap.keys(for: action)[0]
            let (next, effects) = update(r, .key(key))
            XCTAssertFalse(effects.contains { if case .load = $0 { return false }; return true }, "\(action)")
            XCTAssertEqual(next.mode, .normal, "\(action)")
            XCTAssertTrue(next.activeFlash?.text.hasPrefix("read-only") == true, "\(action)")
        }
    }

    func testRefreshIsScheduledAndSkippedWhileALoadRuns() {
        var m = syntheticModel(names)
        let t0 = m.now
        // Not due yet: nothing.
        var (next, effects) = update(m, .tick(t0.addingTimeInterval(1)))
        XCTAssertEqual(effects, [])
        // Due (devices refresh every 10 s): one load.
        (next, effects) = update(next, .tick(t0.addingTimeInterval(11)))
        let loads = effects.compactMap { if case .load(let r) = $0, r.viewID != 0 { return r }; return nil }
        XCTAssertEqual(loads.count, 1)
        XCTAssertTrue(next.top.loading)
        // Still running at the next interval: skipped.
        (next, effects) = update(next, .tick(t0.addingTimeInterval(25)))
        XCTAssertEqual(effects.filter { if case .load(let r) = $0 { return r.viewID != 0 }; return false }, [])
        // Done: scheduled again one interval later.
        next = update(next, .loaded(loads[0], .table(syntheticTable(names)), t0.addingTimeInterval(26))).0
        XCTAssertFalse(next.top.loading)
        (next, effects) = update(next, .tick(t0.addingTimeInterval(30)))
        XCTAssertEqual(effects.filter { if case .load(let r) = $0 { return r.viewID != 0 }; return false }, [])
        // Paused: never, but r still reloads.
        m = next
        send(&m, .char("p"))
        XCTAssertTrue(m.paused)
        (next, effects) = update(m, .tick(t0.addingTimeInterval(100)))
        XCTAssertEqual(effects, [])
        (next, effects) = update(next, .key(.char("r")))
        XCTAssertEqual(effects.filter { if case .load(let r) = $0 { return r.viewID != 0 }; return false }.count, 1)
    }

    func testEscPopsTheViewStackAndQuitQuits() {
        var m = syntheticModel(names)
        let (_, fx) = update(m, .key(.char("?")))
        _ = fx
        send(&m, .char("?"))
        XCTAssertEqual(m.stack.count, 2)
        XCTAssertEqual(m.top.content, .help)
        send(&m, .escape)
        XCTAssertEqual(m.stack.count, 1)
        send(&m, .escape)
        XCTAssertEqual(m.stack.count, 1)   // the root stays
        let (q, effects) = update(m, .key(.char("q")))
        XCTAssertTrue(q.quitting)
        XCTAssertEqual(effects, [.quit])
    }

    func testResizeKeepsTheCursorVisible() {
        var m = syntheticModel(names, height: 40)
        send(&m, .char("G"))
        m = update(m, .resize(width: 80, height: 24)).0
        XCTAssertEqual(m.top.table.cursor, 49)
        XCTAssertGreaterThanOrEqual(m.top.table.cursor, m.top.table.top)
        XCTAssertLessThan(m.top.table.cursor, m.top.table.top + m.layout.tableRows)
        let screen = view(m).buffer.lines
        XCTAssertTrue(screen.contains { $0.contains("dev50") })
    }

    func testUnknownKeyExplainsItself() {
        var m = syntheticModel(names)
        send(&m, .char("Z"))
        XCTAssertTrue(m.activeFlash!.text.contains("? lists the keys"))
    }
}
