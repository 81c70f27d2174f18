import Foundation
import GRDB
import XCTest
@testable import Console
@testable import Store

/// The report views: a run's parsed rows, rendered without a terminal at 80×24 and 120×40.
final class ReportViewTests: XCTestCase {
    var store: ExampleStore!

    override func setUpWithError() throws { store = try ExampleStore() }
    override func tearDown() { store = nil }

    /// A run of `show ip interface brief` parsed on two devices: 3 interfaces each, one down per device.
    func parsedRun() throws -> Int64 {
        let run = try store.run(service: "show version", status: .completed, done: 2, total: 2)
        try store.database.writer.write { db in
            for device in ["par-acc1", "par-dist1"] {
                let parsed = ParsedRows(columns: ["intf", "ipaddr", "status", "proto"], rows: [
                    ["intf": .string("Gi0/1"), "ipaddr": .string("10.0.0.1"), "status": .string("up"), "proto": .string("up")],
                    ["intf": .string("Gi0/2"), "ipaddr": .string("unassigned"), "status": .string("administratively down"), "proto": .string("down")],
                    ["intf": .string("Vlan10"), "ipaddr": .string("10.1.0.1"), "status": .string("up"), "proto": .string("up")],
                ])
                var r = RunResult(runId: run, serviceId: 1, serviceName: "show version", deviceId: nil, deviceName: device,
                                  success: true, output: "…", durationMs: 10, attempts: 1, rows: parsed.encoded)
                try r.insert(db)
            }
        }
        return run
    }

    func openParsed(_ d: inout Driver, run: Int64) {
        d.command("runs")
        let pos = d.model.top.table.visible.firstIndex { d.model.top.table.data!.rows[Int($0)].id == String(run) }!
        for _ in 0..<pos { d.keys(.char("j")) }
        d.keys(.char("P"))
    }

    func testParsedViewOfARunAt80x24() throws {
        let run = try parsedRun()
        var d = Driver(store: store)
        d.command("runs")
        XCTAssertTrue(d.screen[23].contains("<P> parsed"), d.screen[23])
        openParsed(&d, run: run)
        XCTAssertEqual(d.model.top.content, .table(.parsed, .run(run)))
        XCTAssertTrue(d.screen[1].contains("run \(run) parsed"), d.screen[1])
        XCTAssertTrue(d.screen[2].contains("Device") && d.screen[2].contains("Intf") && d.screen[2].contains("Status"), d.screen[2])
        XCTAssertEqual(d.screen.filter { $0.contains("Gi0/") || $0.contains("Vlan10") }.count, 6)
        XCTAssertTrue(d.screen[23].contains("<x> export"), d.screen[23])
        // The filter language on any field.
        d.keys(.char("/")); d.type("status!=up"); d.keys(.enter)
        let rows = d.screen[3..<22].filter { $0.contains("Gi0/") || $0.contains("Vlan10") }
        XCTAssertEqual(rows.count, 2, d.text)
        XCTAssertTrue(rows.allSatisfy { $0.contains("Gi0/2") && $0.contains("administratively down") })
        d.keys(.escape)
        d.keys(.char("/")); d.type("proto=up device~dist"); d.keys(.enter)
        XCTAssertEqual(d.model.top.table.visible.count, 2)
        d.keys(.escape)
        // Sorting and marks.
        d.keys(.char(">"))
        XCTAssertEqual(d.model.top.table.sort?.field, "device")
        d.keys(.char(">"))
        XCTAssertEqual(d.model.top.table.sort?.field, "intf")
        d.keys(.char("g"), .char(" "), .char(" "))
        XCTAssertEqual(d.model.top.table.marked.count, 2)
        // Export: the marked rows, as CSV under the exports directory; the status line names the full path.
        d.keys(.char("x"))
        guard case .dialog(.prompt(_, let editor, .export)) = d.model.mode else { return XCTFail("\(d.model.mode)") }
        XCTAssertEqual(editor.text, "switchboard-run-\(run)-parsed.csv")
        XCTAssertTrue(d.text.contains("exports"), d.text)
        d.keys(.enter)
        guard case .save(let path, let csv)? = d.effects.last else { return XCTFail("\(d.effects)") }
        XCTAssertEqual(path, Paths().dataDirectory + "/exports/switchboard-run-\(run)-parsed.csv")
        XCTAssertEqual(csv, "device,intf,ipaddr,status,proto\npar-acc1,Gi0/1,10.0.0.1,up,up\npar-dist1,Gi0/1,10.0.0.1,up,up\n")
        d.send(.saved(path: path, error: nil))
        XCTAssertTrue(d.screen[22].contains("saved " + path) || d.screen[22].contains("saved"), d.screen[22])
        // JSON for a .json name: every row shown when none is marked.
        d.keys(.char("u"), .char("x"))
        for _ in 0..<"csv".count { d.keys(.backspace) }
        d.type("json"); d.keys(.enter)
        guard case .save(let jpath, let json)? = d.effects.last else { return XCTFail() }
        XCTAssertTrue(jpath.hasSuffix("/exports/switchboard-run-\(run)-parsed.json"))
        let decoded = try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [[String: String]]
        XCTAssertEqual(decoded.count, 6)
        XCTAssertEqual(decoded.first?["device"], "par-acc1")
        XCTAssertTrue(json.contains("{\"device\": \"par-acc1\", \"intf\": \"Gi0/1\""), json)
    }

    func testParsedViewAt120x40FromTheRunsResults() throws {
        let run = try parsedRun()
        var d = Driver(store: store, width: 120, height: 40)
        d.command("runs")
        let pos = d.model.top.table.visible.firstIndex { d.model.top.table.data!.rows[Int($0)].id == String(run) }!
        for _ in 0..<pos { d.keys(.char("j")) }
        d.keys(.char("L"), .enter)          // the log, then its results
        XCTAssertEqual(d.model.top.content, .table(.results, .run(run)))
        XCTAssertTrue(d.screen[39].contains("<P> parsed"), d.screen[39])
        d.keys(.char("?"))
        XCTAssertTrue(d.text.contains("parsed rows of the run"), d.text)
        d.keys(.escape, .char("P"))
        XCTAssertEqual(d.model.top.content, .table(.parsed, .run(run)))
        XCTAssertEqual(d.screen.count, 40)
        XCTAssertTrue(d.screen.allSatisfy { TextWidth.of($0) == 120 })
        XCTAssertTrue(d.screen[2].contains("Proto"), d.screen[2])
        XCTAssertTrue(d.screen.contains { $0.contains("par-dist1") && $0.contains("Vlan10") && $0.contains("10.1.0.1") })
        XCTAssertEqual(d.model.top.table.visible.count, 6)
    }

    func testRunWithoutParsedRowsSaysSo() throws {
        let run = try store.run(service: "show version", status: .completed, done: 1, total: 1)
        try store.result(run: run, device: "par-core1", success: true, output: "ok")
        var d = Driver(store: store)
        openParsed(&d, run: run)
        XCTAssertEqual(d.model.top.content, .table(.parsed, .run(run)))
        XCTAssertTrue(d.text.contains("run \(run) has no parsed rows"), d.text)
        d.keys(.char("x"))
        XCTAssertTrue(d.text.contains("nothing to export"), d.text)
    }

    func testCSVFieldsAreQuotedAndFormulasDefused() {
        XCTAssertEqual(ParsedTable.csvField("a,b"), "\"a,b\"")
        XCTAssertEqual(ParsedTable.csvField("say \"hi\""), "\"say \"\"hi\"\"\"")
        XCTAssertEqual(ParsedTable.csvField("=cmd()"), "\"'=cmd()\"")
        XCTAssertEqual(ParsedTable.csvField("-5"), "-5")
    }
}
