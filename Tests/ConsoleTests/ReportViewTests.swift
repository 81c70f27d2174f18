import Foundation
import GRDB
import XCTest
@testable import Console
@testable import Store

/// The report views: a run's parsed rows, the security log (`:audit`) and the configuration
/// search of `:config`, rendered without a terminal at 80×24 and 120×40.
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

    // MARK: :audit

    func writeSecurityLog(_ lines: [(String, String, String, String, String)], at path: String, start: Double = 1_700_000_000) {
        var text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        for (i, (user, action, targets, outcome, detail)) in lines.enumerated() {
            text += SecurityLog.format(time: Date(timeIntervalSince1970: start + Double(i)), user: user, action: action,
                                       targets: targets, outcome: outcome, detail: detail)
        }
        try? text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    func testSecurityLogLinesParseBack() {
        let line = SecurityLog.format(time: Date(timeIntervalSince1970: 1_700_000_000), user: "alice", action: "run.launch",
                                      targets: "backup on par-core1, par-core2", outcome: "queued", detail: "say \"x\"\nnext\u{1b}")
        let e = SecurityLogEntries.parse(String(line.dropLast()))
        XCTAssertEqual(e.user, "alice")
        XCTAssertEqual(e.action, "run.launch")
        XCTAssertEqual(e.targets, "backup on par-core1, par-core2")
        XCTAssertEqual(e.outcome, "queued")
        XCTAssertEqual(e.detail, "say \"x\"\nnext\u{1b}")
        XCTAssertTrue(e.time.hasPrefix("2023-11-14T22:13:20"), e.time)
    }

    func testAuditViewAt80x24And120x40() throws {
        let path = store.dir + "/state/security.log"
        try FileManager.default.createDirectory(atPath: store.dir + "/state", withIntermediateDirectories: true)
        SecurityLog.configure(SecurityLog.Configuration(path: path))
        writeSecurityLog([("alice", "import", "inventory.json", "success", ""),
                          ("bob", "run.launch", "backup", "refused", "read-only database"),
                          ("alice", "session.open", "par-core1", "success", "")], at: path)
        for (w, h) in [(80, 24), (120, 40)] {
            var d = Driver(store: store, width: w, height: h)
            d.command("audit")
            XCTAssertEqual(d.model.top.content, .table(.audit, nil))
            XCTAssertTrue(d.screen[2].contains("Time") && d.screen[2].contains("User") && d.screen[2].contains("Action"), d.screen[2])
            // Newest first.
            XCTAssertTrue(d.screen[3].contains("session.open"), d.screen[3])
            XCTAssertTrue(d.screen[5].contains("import"), d.screen[5])
            if w == 120 { XCTAssertTrue(d.screen[4].contains("refused") && d.screen[4].contains("read-only database"), d.screen[4]) }
            d.keys(.char("/")); d.type("outcome!=success"); d.keys(.enter)
            XCTAssertEqual(d.model.top.table.visible.count, 1)
            XCTAssertTrue(d.screen[3].contains("bob"), d.screen[3])
            d.keys(.escape)
            // A new line shows on the next refresh, though the database did not change.
            writeSecurityLog([("carol", "task.enable", "nightly", "success", "")], at: path, start: 1_700_000_100)
            d.advance(Double(d.model.interval("audit")) / 1000 + 1)
            XCTAssertTrue(d.screen[3].contains("carol"), d.screen[3])
            XCTAssertEqual(d.model.top.table.data?.count, 4)
            try? FileManager.default.removeItem(atPath: path)
            writeSecurityLog([("alice", "import", "inventory.json", "success", ""),
                              ("bob", "run.launch", "backup", "refused", "read-only database"),
                              ("alice", "session.open", "par-core1", "success", "")], at: path)
        }
    }

    // MARK: configuration search

    func configs() throws {
        try store.snapshot(device: "par-core1", content: "hostname par-core1\ninterface Gi0/1\n description uplink\nntp server 10.0.0.1\n", at: Date(timeIntervalSince1970: 1_700_000_000))
        try store.snapshot(device: "par-core1", content: "hostname par-core1\ninterface Gi0/1\n description uplink to dist\nntp server 192.0.2.1\n", at: Date(timeIntervalSince1970: 1_700_000_100))
        try store.snapshot(device: "lon-core1", content: "hostname lon-core1\ninterface Gi0/1\nntp server 10.9.9.9\n", at: Date(timeIntervalSince1970: 1_700_000_000))
    }

    func testConfigSearchHighlightsMatchesAt80x24And120x40() throws {
        try configs()
        for (w, h) in [(80, 24), (120, 40)] {
            var d = Driver(store: store, width: w, height: h)
            d.command("config")
            XCTAssertTrue(d.screen[h - 1].contains("</> search configs"), d.screen[h - 1])
            d.keys(.char("/"))
            guard case .dialog(.prompt(_, _, .configSearch)) = d.model.mode else { return XCTFail("\(d.model.mode)") }
            d.type("ntp server [0-9.]+"); d.keys(.enter)
            XCTAssertEqual(d.model.top.content, .table(.configSearch, .search("ntp server [0-9.]+")))
            // The latest configuration of each device only: par-core1's old NTP server is not found.
            XCTAssertEqual(d.model.top.table.data?.count, 2)
            XCTAssertFalse(d.text.contains("10.0.0.1"), d.text)
            let y = d.row(containing: "192.0.2.1")!
            XCTAssertTrue(d.screen[y].contains("par-core1") && d.screen[y].contains(" 4 "), d.screen[y])
            let x = d.screen[y].range(of: "ntp").map { d.screen[y].distance(from: d.screen[y].startIndex, to: $0.lowerBound) }!
            let ly = d.row(containing: "10.9.9.9")!
            let lx = d.screen[ly].range(of: "ntp").map { d.screen[ly].distance(from: d.screen[ly].startIndex, to: $0.lowerBound) }!
            // The match is in the match role, on the selected row too; the text before it is not.
            XCTAssertEqual(d.frame.buffer[lx, ly].role, .searchMatch)
            XCTAssertEqual(d.frame.buffer[x + 3, y].role, .searchMatch)
            XCTAssertEqual(d.frame.buffer[x - 2, y].role == .searchMatch, false)
            // Monochrome keeps the highlight visible (reverse video).
            XCTAssertTrue(Theme.builtInDefault.styles[.searchMatch]?.mono.contains(.reverse) ?? false)
            // Two marked devices: their latest configurations compared.
            d.keys(.char(" "), .char(" "), .char("d"))
            XCTAssertEqual(d.model.top.content, .document(.latestDiff("lon-core1", "par-core1")))
            XCTAssertTrue(d.text.contains("--- lon-core1"), d.text)
            XCTAssertTrue(d.text.contains("+++ par-core1"), d.text)
            XCTAssertTrue(d.text.contains("+ ntp server 192.0.2.1"), d.text)
            XCTAssertTrue(d.text.contains("- ntp server 10.9.9.9"), d.text)
        }
    }

    func testConfigSearchRefusesABadRegexAndComparesMarkedSnapshots() throws {
        try configs()
        var d = Driver(store: store)
        d.command("config")
        d.keys(.char("/")); d.type("(?=x)"); d.keys(.enter)
        XCTAssertEqual(d.model.top.content, .table(.config, nil))
        XCTAssertTrue(d.screen[22].contains("invalid regular expression"), d.screen[22])
        d.keys(.char("/")); d.type("nothing-matches-this"); d.keys(.enter)
        XCTAssertTrue(d.text.contains("no line of a latest configuration matches"), d.text)
        d.keys(.escape)
        // In :config, two marked versions of different devices compare the devices' latest.
        let rows = d.model.top.table.data!
        let lon = rows.rows.first { rows.value(rows.rows.firstIndex(of: $0)!, "device_name") == "lon-core1" }!.id
        let pos = d.model.top.table.visible.firstIndex { rows.rows[Int($0)].id == lon }!
        d.model.top.table.marked = [lon, d.model.top.table.data!.rows[Int(d.model.top.table.visible[pos == 0 ? 1 : 0])].id]
        d.keys(.char("d"))
        XCTAssertEqual(d.model.top.content, .document(.latestDiff("lon-core1", "par-core1")))
    }
}
