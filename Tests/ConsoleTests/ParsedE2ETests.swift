import Foundation
import Lab
import XCTest
import Store

/// A run's parsed rows in the real console (tmux), against the lab: a `cli` service with
/// `parse: textfsm` run from the CLI, then the run's parsed view, filtered on a field.
final class ParsedE2ETests: XCTestCase {
    var console: TmuxConsole!

    override func setUpWithError() throws {
        console = try TmuxConsole(width: 120, height: 30)
    }

    override func tearDown() {
        console?.stop()
        console = nil
    }

    func testParsedViewOfALabRunFilteredOnAField() throws {
        let c = console!
        c.labUp = true
        try c.cli(["demo", "--no-console", "--base-port", String(LabPorts.freeBasePort(devices: 20))])
        let services = c.dir + "/parse-services.json"
        try """
            {"services": [{"name": "ip brief", "kind": "cli",
              "parameters": {"commands": ["show ip interface brief"], "parse": "textfsm"},
              "devices": ["par-acc1", "par-acc2", "par-dist1"]}]}
            """.write(toFile: services, atomically: true, encoding: .utf8)
        try c.cli(["import", services])
        try c.cli(["run", "ip brief", "--follow"])
        c.type("switchboard console")
        c.press("Enter")
        XCTAssertTrue(c.wait(for: "par-core1"), c.screen())
        c.command("runs")
        XCTAssertTrue(c.wait { $0.contains("ip brief") && $0.contains("completed") }, c.screen())
        XCTAssertTrue(c.screen().contains("<P> parsed"), c.screen())
        c.type("P")
        XCTAssertTrue(c.wait { $0.contains("run 1 parsed") && $0.contains("par-dist1") }, c.screen())
        let header = c.lines[2]
        for column in ["Device", "Interface", "Ip Address", "Status"] { XCTAssertTrue(header.contains(column), header) }
        let all = c.lines.filter { $0.contains("par-acc") || $0.contains("par-dist") }
        XCTAssertGreaterThan(all.count, 3, c.screen())
        XCTAssertEqual(Set(all.compactMap { $0.split(separator: " ").first.map(String.init) }), ["par-acc1", "par-acc2", "par-dist1"])
        // The filter language on a parsed field.
        c.type("/status!=up")
        c.press("Enter")
        XCTAssertTrue(c.wait { $0.components(separatedBy: "\n")[1].contains("/status!=up") }, c.screen())
        let down = c.lines[3...].filter { $0.contains("par-acc") || $0.contains("par-dist") }
        let rowCount = down.count
        XCTAssertLessThan(rowCount, all.count, c.screen())
        XCTAssertTrue(rowCount > 0 || c.screen().contains("no rows match the filter"), c.screen())
        for line in down { XCTAssertTrue(line.contains("down"), "status!=up: \(line)") }
        // Export as JSON: the path in the status line, the file holding the rows shown.
        c.type("x")
        XCTAssertTrue(c.wait(for: "export to"), c.screen())
        for _ in 0..<3 { c.press("BSpace") }
        c.type("json")
        c.press("Enter")
        let path = c.dir + "/data/switchboard/exports/switchboard-run-1-parsed.json"
        XCTAssertTrue(c.wait(for: "saved " + path.prefix(40)), c.screen())
        let exported = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [[String: String]]
        XCTAssertEqual(exported?.count, rowCount)
        XCTAssertTrue(exported?.allSatisfy { $0["status"] != "up" } ?? false)
        c.type("q")
        XCTAssertTrue(c.wait { $0.contains("e2e$") && !$0.contains("parsed") }, c.screen())
    }
}
