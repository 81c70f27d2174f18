import Foundation
import Lab
import XCTest
import Store

/// Issue #13 items 6 and 7 in the real console (tmux): a workflow run's log names device and node
/// on every line as `switchboard logs` does, and an invalid filter says so, filters nothing and
/// never looks active, in every table kind.
final class ClarityE2ETests: XCTestCase {
    var console: TmuxConsole?

    override func tearDown() {
        console?.stop()
        console = nil
    }

    /// `switchboard logs` prints `par-core1 [show version] started`; the console's tail of the same
    /// workflow run shows each of those lines with its device and node, not `[par-core1] started`.
    func testWorkflowRunLogLinesNameDeviceAndNodeAsTheCLIDoes() throws {
        let c = try TmuxConsole(width: 200, height: 50)
        console = c
        c.labUp = true
        try c.cli(["demo", "--no-console", "--base-port", String(LabPorts.freeBasePort(devices: 20))])
        _ = try? c.cli(["run", "version audit", "--devices", "par-core1,par-core2", "--follow"])
        let cliLines = try c.cli(["logs", "1"]).components(separatedBy: "\n").filter { !$0.isEmpty }
        // `2026-12-06 03:40:00.123 INFO    par-core1 [show version] started`: time, level, then what
        // the console must show after its own time.
        let origins = cliLines.map { String($0.dropFirst(24 + 8)) }
        let deviceLines = origins.filter { $0.hasPrefix("par-core1 [") || $0.hasPrefix("par-core2 [") }
        XCTAssertGreaterThan(deviceLines.count, 4, cliLines.joined(separator: "\n"))
        for node in ["show version", "extract version", "validate version"] {
            XCTAssertTrue(deviceLines.contains { $0.hasPrefix("par-core1 [\(node)] ") }, "node \(node): \(cliLines)")
        }
        c.type("switchboard console")
        c.press("Enter")
        XCTAssertTrue(c.wait(for: "par-core1"), c.screen())
        c.command("runs")
        XCTAssertTrue(c.wait { $0.contains("version audit") && $0.contains("completed") || $0.contains("failed") }, c.screen())
        c.press("Enter")
        XCTAssertTrue(c.wait { $0.components(separatedBy: "\n")[2].contains("run 1 version audit") }, c.screen())
        // The tail's last lines are the CLI's last lines, each with its device and node.
        let shown = origins.suffix(40).filter { $0.count < 180 }
        XCTAssertTrue(c.wait { s in shown.allSatisfy { s.contains($0) } }, "missing: \(shown.filter { !c.screen().contains($0) })\n\(c.screen())")
        let screen = c.screen()
        for line in c.lines[3..<(c.lines.count - 2)] where line.contains("par-core") {
            XCTAssertNotNil(line.range(of: "par-core[12] \\[(show version|extract version|validate version|backup configuration)\\] ",
                                       options: .regularExpression), "a device line without its node: \(line)\n\(screen)")
        }
        XCTAssertFalse(screen.contains("[par-core1]"), screen)
        // Lines of the run itself name the workflow.
        XCTAssertTrue(screen.contains("[version audit] run 1 of workflow 'version audit' started") || origins.count > 40, screen)
    }

    /// `:dev colour=red`, `/colour=red` and `/name~[` behave alike: every row stays, the status line
    /// names the error (an unknown field with the table's fields), the breadcrumb claims no filter.
    /// The same in another table kind; a valid filter still filters; Esc clears an invalid one.
    func testInvalidFiltersShowTheirErrorFilterNothingAndNeverLookActive() throws {
        let c = try TmuxConsole(width: 160, height: 30)
        console = c
        c.type("switchboard console")
        c.press("Enter")
        XCTAssertTrue(c.wait(for: "par-core1"), c.screen())
        XCTAssertTrue(c.wait { $0.components(separatedBy: "\n")[1].trimmingCharacters(in: .whitespaces).hasSuffix("1/20") }, c.screen())
        let status = 28

        func assertUnfiltered(_ what: String, error: String, file: StaticString = #filePath, line: UInt = #line) {
            let ok = c.wait { s in
                let l = s.components(separatedBy: "\n")
                return l[status].contains(error) && l[1].trimmingCharacters(in: .whitespaces).hasSuffix("/20")
            }
            let l = c.lines
            XCTAssertTrue(ok, "\(what): \(c.screen())", file: file, line: line)
            XCTAssertFalse(l[1].contains(" /"), "\(what): the breadcrumb claims a filter: \(l[1])", file: file, line: line)
            XCTAssertFalse(l[1].contains(" of "), "\(what): \(l[1])", file: file, line: line)
            XCTAssertEqual(l[3..<status].filter { $0.contains("-core") || $0.contains("-acc") || $0.contains("-dist") }.isEmpty, false,
                           "\(what): rows: \(c.screen())", file: file, line: line)
        }

        // 1. A filter given with the table command.
        c.command("dev colour=red")
        assertUnfiltered(":dev colour=red", error: "unknown device field 'colour'")
        XCTAssertTrue(c.lines[status].contains("fields: "), c.lines[status])
        XCTAssertTrue(c.lines[status].contains("name"), c.lines[status])
        // 2. The same filter typed after /.
        c.command("dev")
        XCTAssertTrue(c.wait { !$0.components(separatedBy: "\n")[status].contains("colour") }, c.screen())
        c.type("/colour=red")
        c.press("Enter")
        assertUnfiltered("/colour=red", error: "unknown device field 'colour'")
        // 3. An invalid regular expression.
        c.command("dev")
        c.type("/name~[")
        c.press("Enter")
        assertUnfiltered("/name~[", error: "invalid regular expression")
        // Esc clears it: no error left.
        c.press("Escape")
        XCTAssertTrue(c.wait { !$0.components(separatedBy: "\n")[status].contains("invalid") }, c.screen())
        // A valid filter still filters and says so.
        c.type("/name~core")
        c.press("Enter")
        XCTAssertTrue(c.wait { $0.components(separatedBy: "\n")[1].contains("/name~core") && $0.contains(" of 20") }, c.screen())
        // 4. Another table kind, the same rule.
        c.command("svc colour=red")
        XCTAssertTrue(c.wait { $0.components(separatedBy: "\n")[status].contains("unknown service field 'colour'") }, c.screen())
        let l = c.lines
        XCTAssertTrue(l[status].contains("fields: "), l[status])
        XCTAssertFalse(l[1].contains(" /"), l[1])
        XCTAssertFalse(l[1].contains(" of "), l[1])
        XCTAssertTrue(c.screen().contains("show version"), c.screen())
    }

    /// Item 8 in the real console: `:tasks` shows what `switchboard task list` shows for next fire,
    /// in the task's zone; an inactive task shows none even when the store still holds a time.
    func testTaskNextFireAgreesWithTaskList() throws {
        let c = try TmuxConsole(width: 180, height: 30)
        console = c
        try c.cli(["task", "add", "tokyo check", "--service", "show version", "--cron", "0 3 * * *",
                   "--timezone", "Asia/Tokyo", "--enable"])
        let list = try c.cli(["task", "list"])
        let cliRow = try XCTUnwrap(list.components(separatedBy: "\n").first { $0.hasPrefix("tokyo check") }, list)
        let next = try XCTUnwrap(cliRow.range(of: "[0-9]{4}-[0-9]{2}-[0-9]{2} 03:00:00 \\+09:00", options: .regularExpression)
            .map { String(cliRow[$0]) }, cliRow)
        // An inactive task with a next fire left in the store (as an older version or a crash leaves it).
        let database = try AppDatabase(path: c.databasePath)
        try database.writer.write { db in
            try db.execute(sql: "UPDATE task SET active = 0, next_fire = ? WHERE name = 'nightly backup'",
                           arguments: [Date(timeIntervalSince1970: 1_800_000_000)])
        }
        let nightly = try XCTUnwrap(try c.cli(["task", "list"]).components(separatedBy: "\n").first { $0.hasPrefix("nightly backup") })
        XCTAssertFalse(nightly.contains("2027"), nightly)
        c.type("switchboard console")
        c.press("Enter")
        XCTAssertTrue(c.wait(for: "par-core1"), c.screen())
        c.command("tasks")
        XCTAssertTrue(c.wait { $0.contains("tokyo check") && $0.contains("nightly backup") }, c.screen())
        let tokyo = try XCTUnwrap(c.lines.first { $0.contains("tokyo check") })
        XCTAssertTrue(tokyo.contains(next), "console: \(tokyo)\nCLI: \(cliRow)")
        let row = try XCTUnwrap(c.lines.first { $0.contains("nightly backup") })
        XCTAssertFalse(row.contains("2027"), "an inactive task shows a next fire: \(row)")
    }
}
