import Foundation
import XCTest
@testable import Console
@testable import Store

/// Views rendered from a real SQLite file holding the example network, at 80×24 and 120×40.
final class ViewTests: XCTestCase {
    var store: ExampleStore!

    override func setUpWithError() throws {
        store = try ExampleStore()
    }

    override func tearDown() {
        store = nil
    }

    /// Device names in the table's order (by name), from the database.
    func firstDevices() -> [String] {
        (try? store.database.writer.read { db in try Inventory.devices(db).map(\.name) }) ?? []
    }

    func testDeviceTableAt80x24() throws {
        let d = Driver(store: store)
        let screen = d.screen
        XCTAssertEqual(screen.count, 24)
        XCTAssertTrue(screen.allSatisfy { TextWidth.of($0) == 80 })
        // Header: database, engine, running runs, user, clock (local time, to the minute).
        XCTAssertTrue(screen[0].contains("Switchboard"))
        XCTAssertTrue(screen[0].contains("db switchboard.db"))
        XCTAssertTrue(screen[0].contains("running 0"))
        XCTAssertTrue(screen[0].contains("user alice"))
        XCTAssertTrue(screen[0].hasSuffix(Formats.clock(d.now) + " "), screen[0])
        XCTAssertEqual(d.frame.buffer[0, 0].role, .header)
        // Breadcrumb and position.
        XCTAssertTrue(screen[1].contains("devices"))
        XCTAssertTrue(screen[1].contains("1/20"), screen[1])
        // Columns from properties.json, in its order, at its widths.
        let header = screen[2]
        XCTAssertTrue(header.hasPrefix("  Name                     Address          Platform      Vendor     Model"), header)
        XCTAssertEqual(d.frame.buffer[2, 2].role, .columnHeader)
        // Rows by name; the first is selected.
        XCTAssertTrue(screen[3].hasPrefix("  " + firstDevices()[0] + " "), screen[3])
        XCTAssertEqual(d.frame.buffer[5, 3].role, .selectedRow)
        XCTAssertEqual(d.frame.buffer[5, 4].role, .body)
        // Key hints on the last line.
        XCTAssertTrue(screen[23].contains("<?> help"), screen[23])
        XCTAssertTrue(screen[23].contains("</> filter"), screen[23])
    }

    func testDeviceTableAt120x40ShowsMoreColumnsAndRows() throws {
        let d = Driver(store: store, width: 120, height: 40)
        let screen = d.screen
        XCTAssertEqual(screen.count, 40)
        XCTAssertTrue(screen[2].contains("OS version"))
        XCTAssertTrue(screen[2].contains("Location"))
        XCTAssertTrue(screen[2].contains("Site"), screen[2])
        XCTAssertFalse(screen[2].contains("Rack"))            // hidden in properties.json
        // All 20 devices fit.
        XCTAssertEqual(screen.filter { $0.contains("127.0.0.1") }.count, 20)
        let par = screen.first { $0.contains("par-core1") }!
        XCTAssertTrue(par.contains("Juniper"))
        XCTAssertTrue(par.contains("core"))                   // the custom property "role"
    }

    func testMarkedAndSelectedRows() throws {
        var d = Driver(store: store)
        d.keys(.char(" "), .char(" "))
        XCTAssertEqual(d.model.top.table.marked.count, 2)
        let b = d.frame.buffer
        XCTAssertEqual(b[0, 3].text, "●")
        XCTAssertEqual(b[5, 3].role, .markedRow)
        XCTAssertEqual(b[5, 4].role, .markedRow)
        XCTAssertEqual(b[5, 5].role, .selectedRow)          // the cursor moved on
        XCTAssertTrue(d.screen[1].contains("2 marked"))
        d.send(.key(.char("u")))
        XCTAssertEqual(d.frame.buffer[5, 3].role, .body)
    }

    func testFilterAppliedWithTheCLILanguage() throws {
        var d = Driver(store: store)
        d.keys(.char("/"))
        d.type("platform=arista_eos location~^Par")
        XCTAssertTrue(d.screen[22].hasPrefix("/platform=arista_eos location~^Par"), d.screen[22])
        XCTAssertNotNil(d.frame.cursor)
        d.keys(.enter)
        let rows = d.screen[3...].filter { $0.contains("127.0.0.1") }
        XCTAssertEqual(rows.count, 2)
        XCTAssertTrue(rows.allSatisfy { $0.contains("par-dist") })
        XCTAssertTrue(d.screen[1].contains("1/2 of 20"), d.screen[1])
        XCTAssertTrue(d.screen[1].contains("/platform=arista_eos"), d.screen[1])
        // The same expression the CLI uses gives the same rows.
        let cli = try store.database.writer.read { db in
            try Inventory.devices(db, filter: FilterExpression.parse("platform=arista_eos location~^Par")).map(\.name)
        }
        XCTAssertEqual(d.model.top.table.visible.map { d.model.top.table.data!.rows[Int($0)].id }, cli)
        // A filter that matches nothing says so.
        d.keys(.escape, .char("/"))
        d.type("nothing-like-this")
        XCTAssertTrue(d.text.contains("no rows match the filter"))
    }

    func testPoolDrillsDownToItsDevices() throws {
        var d = Driver(store: store)
        d.command("pools")
        XCTAssertTrue(d.screen[2].contains("Devices"))
        let idx = d.model.top.table.visible.firstIndex { d.model.top.table.data!.rows[Int($0)].id == "core" }!
        for _ in 0..<idx { d.keys(.char("j")) }
        d.keys(.enter)
        XCTAssertEqual(d.model.top.content, .table(.devices, .pool("core")))
        XCTAssertTrue(d.screen[1].contains("pools › pool core"), d.screen[1])
        let names = d.model.top.table.visible.map { d.model.top.table.data!.rows[Int($0)].id }
        XCTAssertEqual(Set(names), Set(["par-core1", "par-core2", "lon-core1", "lon-core2", "nyc-core1", "nyc-core2"].filter { n in
            (try? store.database.writer.read { db in try Inventory.poolDeviceNames(db, named: "core") })?.contains(n) ?? false
        }))
        XCTAssertFalse(names.isEmpty)
        d.keys(.escape)
        XCTAssertEqual(d.model.top.content, .table(.pools, nil))
        XCTAssertEqual(d.model.top.table.selectedRow?.id, "core")
    }

    func testDeviceDrillsDownToResultsConfigurationsAndSessions() throws {
        let run = try store.run(service: "show version", status: .completed, done: 2, total: 2)
        try store.result(run: run, device: "lon-acc1", success: true, output: "Cisco IOS XE 17.9.4\nuptime 3 days")
        try store.result(run: run, device: "lon-core1", success: false, output: "timeout")
        let v1 = try store.snapshot(device: "lon-acc1", content: "hostname lon-acc1\nntp server 1.1.1.1\n", at: Date(timeIntervalSince1970: 1_700_000_000))
        let v2 = try store.snapshot(device: "lon-acc1", content: "hostname lon-acc1\nntp server 192.0.2.123\nlogging host 10.0.0.1\n", at: Date(timeIntervalSince1970: 1_700_003_600))
        _ = v1
        try store.session(device: "lon-acc1", transcript: """
            {"version": 2, "width": 80, "height": 24}
            [0.1, "o", "lon-acc1#show clock\\r\\n"]
            [0.2, "o", "\\u001b[1m12:00:00\\u001b[0m\\r\\n"]
            """)
        var d = Driver(store: store)
        d.keys(.char("/"))
        d.type("name=lon-acc1")
        d.keys(.enter)
        XCTAssertEqual(d.model.top.table.selectedRow?.id, "lon-acc1")
        d.keys(.enter)
        XCTAssertEqual(d.model.top.content, .table(.results, .device("lon-acc1")))
        XCTAssertTrue(d.text.contains("show version"))
        XCTAssertTrue(d.text.contains("success"))
        XCTAssertFalse(d.text.contains("lon-core1"))
        d.keys(.enter)
        XCTAssertEqual(d.model.top.content, .document(.resultOutput(1)))
        XCTAssertTrue(d.text.contains("Cisco IOS XE 17.9.4"))
        XCTAssertTrue(d.text.contains("uptime 3 days"))
        d.keys(.escape, .escape, .char("c"))
        XCTAssertEqual(d.model.top.content, .table(.config, .device("lon-acc1")))
        XCTAssertTrue(d.screen[2].contains("Version"))
        XCTAssertEqual(d.model.top.table.selectedRow?.id, String(v2))
        d.keys(.char("d"))
        XCTAssertEqual(d.model.top.content, .document(.configDiff(v2)))
        let diffRow = d.row(containing: "+ ntp server 192.0.2.123")!
        XCTAssertEqual(d.frame.buffer[0, diffRow].role, .diffAdded)
        let removed = d.row(containing: "- ntp server 1.1.1.1")!
        XCTAssertEqual(d.frame.buffer[0, removed].role, .diffRemoved)
        XCTAssertNotNil(d.row(containing: "  hostname lon-acc1"))
        d.keys(.escape, .enter)
        XCTAssertTrue(d.text.contains("logging host 10.0.0.1"))
        d.keys(.escape, .escape, .char("H"))
        XCTAssertEqual(d.model.top.content, .table(.sessions, .device("lon-acc1")))
        d.keys(.char("v"))
        // The transcript's escape sequences are shown inert.
        XCTAssertTrue(d.text.contains("lon-acc1#show clock"))
        let clock = d.row(containing: "12:00:00")!
        XCTAssertTrue(d.screen[clock].contains("^[[1m12:00:00^[[0m"), d.screen[clock])
        XCTAssertEqual(d.frame.buffer[0, clock].role, .controlChar)
    }

    func testWorkflowGraphAsATree() throws {
        var d = Driver(store: store)
        d.command("wf")
        XCTAssertEqual(d.model.top.table.selectedRow?.id, "version audit")
        d.keys(.enter)
        XCTAssertEqual(d.model.top.content, .workflow("version audit"))
        let screen = d.screen
        let show = d.row(containing: "show version")!
        let extract = d.row(containing: "extract version")!
        let validate = d.row(containing: "validate version")!
        let backup = d.row(containing: "backup configuration")!
        XCTAssertTrue(screen[show].contains("show version (cli)"), screen[show])
        XCTAssertTrue(extract > show && validate > extract && backup > show)
        XCTAssertTrue(screen[extract].contains("├─ ✓ extract version"), screen[extract])
        XCTAssertTrue(screen[validate].contains("│  └─ ✓ validate version"), screen[validate])
        XCTAssertTrue(screen[backup].contains("└─ ✗ backup configuration"), screen[backup])
        let x = d.frame.buffer.column(of: "✗", row: backup)!
        XCTAssertEqual(d.frame.buffer[x, backup].role, .treeFailure)
        XCTAssertEqual(d.frame.buffer[d.frame.buffer.column(of: "✓", row: extract)!, extract].role, .treeSuccess)
        XCTAssertEqual(d.frame.buffer[2, show].role, .selectedRow)
        d.keys(.char("j"))
        XCTAssertEqual(d.frame.buffer[2, extract].role, .selectedRow)
    }

    func testWorkflowTreeInASCII() throws {
        var d = Driver(store: store, charset: .ascii)
        d.command("wf")
        d.keys(.enter)
        XCTAssertTrue(d.text.contains("+- + extract version"), d.text)
        XCTAssertTrue(d.text.contains("`- x backup configuration"), d.text)
        XCTAssertTrue(d.screen.joined().allSatisfy(\.isASCII))
    }

    func testRunsTableResultsAndOutput() throws {
        let r1 = try store.run(service: "show version", status: .completed, done: 3, total: 3)
        let r2 = try store.run(service: "version audit", status: .failed, done: 2, total: 3, failed: 1)
        let r3 = try store.run(service: "backup configuration", status: .running, done: 1, total: 20)
        try store.result(run: r2, device: "par-core1", success: true, output: "JUNOS 22.4R3")
        try store.result(run: r2, device: "par-core2", success: false, output: "\u{1b}]0;pwned\u{7}error: \u{1b}[2Jconnection refused")
        var d = Driver(store: store, width: 120, height: 40)
        d.command("runs")
        XCTAssertTrue(d.screen[2].contains("Run"))
        XCTAssertTrue(d.screen[2].contains("Status"))
        XCTAssertTrue(d.screen[2].contains("Progress"))
        let failedRow = d.row(containing: "version audit")!
        let status = d.frame.buffer.column(of: "failed", row: failedRow)!
        XCTAssertEqual(d.frame.buffer[status, failedRow].role, .statusFailed)
        let runningRow = d.row(containing: "backup configuration")!
        XCTAssertEqual(d.frame.buffer[d.frame.buffer.column(of: "running", row: runningRow)!, runningRow].role, .selectedRow)
        d.keys(.char("j"))
        XCTAssertEqual(d.frame.buffer[d.frame.buffer.column(of: "running", row: runningRow)!, runningRow].role, .statusRunning)
        XCTAssertTrue(d.screen[d.row(containing: "show version")!].contains("3/3"))
        XCTAssertEqual(d.model.top.table.selectedRow?.id, String(r2))
        _ = (r1, r3)
        // Enter opens the run's live tail; Enter again its results per device.
        d.keys(.enter)
        XCTAssertEqual(d.model.top.content, .runLog(r2))
        d.keys(.enter)
        XCTAssertEqual(d.model.top.content, .table(.results, .run(r2)))
        XCTAssertTrue(d.screen[1].contains("runs › run \(r2) › run \(r2) results"), d.screen[1])
        // Newest first: par-core2's result is the first row.
        let bad = d.row(containing: "par-core2")!
        XCTAssertEqual(d.model.top.table.selectedRow.map { d.model.top.table.value($0, "device_name") }, "par-core2")
        XCTAssertEqual(d.frame.buffer[0, bad].role, .selectedRow)
        d.keys(.enter)
        let line = d.row(containing: "connection refused")!
        XCTAssertTrue(d.screen[line].contains("^[]0;pwned^Gerror: ^[[2Jconnection refused"), d.screen[line])
        XCTAssertTrue(d.screen.joined().unicodeScalars.allSatisfy { $0.value >= 0x20 && !(0x7F...0x9F).contains($0.value) })
    }

    func testRunLogFollowSearchWrapTimestampsAndDeviceFilter() throws {
        let run = try store.run(service: "show version", status: .running, done: 1, total: 2)
        try store.log(run: run, lines: [
            (.info, "par-core1", "connecting"),
            (.debug, "par-core1", "sent: show version"),
            (.warning, "par-core2", "slow answer from device"),
            (.error, "par-core2", "timeout after 30 s: " + String(repeating: "x", count: 150)),
            (.info, "par-core1", "done \u{1b}[32mOK\u{1b}[0m"),
        ])
        var d = Driver(store: store, width: 80, height: 24)
        d.command("runs")
        d.keys(.char("L"))
        XCTAssertEqual(d.model.top.content, .runLog(run))
        var screen = d.screen
        XCTAssertTrue(screen[2].contains("run \(run) show version"), screen[2])
        XCTAssertTrue(screen[2].contains("running"))
        XCTAssertTrue(screen[2].contains("1/2"))
        XCTAssertTrue(screen[2].contains("5 lines"), screen[2])
        let connecting = d.row(containing: "connecting")!
        XCTAssertTrue(screen[connecting].hasPrefix(Formats.logTime(Date(timeIntervalSince1970: 1_700_000_001)) + " par-core1 [show version] connecting"), screen[connecting])
        // The service (a workflow's node) is named as well, as `switchboard logs` prints it.
        let serviceColumn = try XCTUnwrap(d.frame.buffer.column(of: "[show version]", row: connecting), screen[connecting])
        XCTAssertEqual(d.frame.buffer[serviceColumn, connecting].role, .logDevice)
        let warn = d.row(containing: "slow answer")!
        XCTAssertEqual(d.frame.buffer[d.frame.buffer.column(of: "slow", row: warn)!, warn].role, .logWarning)
        let err = d.row(containing: "timeout after")!
        XCTAssertEqual(d.frame.buffer[d.frame.buffer.column(of: "timeout", row: err)!, err].role, .logError)
        XCTAssertTrue(d.screen[d.row(containing: "done")!].contains("^[[32mOK^[[0m"))
        // No wrap: the long line is cut at the edge.
        XCTAssertEqual(screen.filter { $0.contains("xxxx") }.count, 1)
        // Wrap on: it continues on the next rows.
        d.keys(.char("w"))
        XCTAssertGreaterThan(d.screen.filter { $0.contains("xxxx") }.count, 1)
        d.keys(.char("w"))
        // Timestamps off.
        d.keys(.char("t"))
        XCTAssertTrue(d.screen[connecting].hasPrefix("par-core1 [show version] connecting"), d.screen[connecting])
        d.keys(.char("t"))
        // Follow: new lines appear at the bottom on the next tail (every 100 ms while running).
        XCTAssertTrue(d.model.top.log.follow)
        try store.log(run: run, lines: [(.info, "par-core2", "late line")], startSeq: 6)
        d.advance(0.25)
        screen = d.screen
        let late = d.row(containing: "late line")!
        XCTAssertTrue(late > d.row(containing: "connecting")!)
        XCTAssertTrue(screen[2].contains("6 lines"), screen[2])
        // Search highlights the matches.
        d.keys(.char("/"))
        d.type("answer")
        d.keys(.enter)
        let hit = d.row(containing: "slow answer")!
        let col = d.frame.buffer.column(of: "answer", row: hit)!
        XCTAssertEqual(d.frame.buffer[col, hit].role, .searchMatch)
        XCTAssertEqual(d.frame.buffer[col + 6, hit].role, .logWarning)
        XCTAssertFalse(d.model.top.log.follow)          // a match stops following
        // Device filter.
        d.keys(.char("d"))
        d.type("par-core2")
        d.keys(.enter)
        XCTAssertNil(d.row(containing: "connecting"))
        XCTAssertNotNil(d.row(containing: "slow answer"))
        XCTAssertTrue(d.screen[1].contains("device par-core2"), d.screen[1])
        // f turns follow back on.
        d.keys(.char("f"))
        XCTAssertTrue(d.model.top.log.follow)
        // s saves what is held, as inert text.
        let path = store.dir + "/saved.log"
        d.keys(.char("s"), .ctrl("u"))
        d.type(path)
        d.keys(.enter)
        guard case .save(let savedPath, let text)? = d.effects.last else { return XCTFail("no save effect") }
        XCTAssertEqual(savedPath, path)
        XCTAssertTrue(text.contains("par-core2 [show version] slow answer"), text)
        XCTAssertFalse(text.contains("connecting"))          // the device filter applies
        XCTAssertFalse(text.contains("\u{1b}"))
    }

    func testRunLogMemoryIsBounded() throws {
        let run = try store.run(service: "show version", status: .completed, done: 1, total: 1)
        try store.bulkLog(run: run, count: 100_000)
        var d = Driver(store: store)
        d.model.logCapacity = 1000
        d.command("runs")
        d.keys(.char("L"))
        let log = d.model.top.log
        XCTAssertEqual(log.ring.count, 1000)
        XCTAssertEqual(log.ring.dropped, 99_000)
        XCTAssertEqual(log.ring.last?.text, "line 100000")
        XCTAssertTrue(d.screen[2].contains("1000 lines, 99000 earlier not held"), d.screen[2])
        XCTAssertTrue(d.screen[21].contains("line 100000"), d.screen[21])
        // More lines than the ring holds arrive between two tails: the ring keeps the newest.
        try store.database.writer.write { db in
            try db.execute(sql: """
                WITH RECURSIVE n(i) AS (SELECT 100001 UNION ALL SELECT i + 1 FROM n WHERE i < 102500)
                INSERT INTO run_log(run_id, seq, time, level, device, service, message)
                SELECT ?, i, '2023-11-14 22:13:20.000', 'info', '', '', 'line ' || i FROM n
                """, arguments: [run])
        }
        d.keys(.char("r"))
        XCTAssertEqual(d.model.top.log.ring.count, 1000)
        XCTAssertEqual(d.model.top.log.ring.last?.text, "line 102500")
        XCTAssertEqual(d.model.top.log.ring.dropped, 101_500)
        // g goes to the oldest line held, G back to the end.
        d.keys(.char("g"))
        XCTAssertNotNil(d.row(containing: "line 101501"))
        d.keys(.char("G"))
        XCTAssertNotNil(d.row(containing: "line 102500"))
    }

    func testHelpListsEveryKeyOfTheView() throws {
        var d = Driver(store: store, width: 120, height: 40)
        d.keys(.char("?"))
        let text = d.text
        XCTAssertTrue(text.contains("Keys of devices"))
        for action in Action.allCases {
            var below = d.model
            below.stack.removeLast()
            guard below.applies(action) else { continue }
            XCTAssertTrue(text.contains(action.summary), "help lacks \(action)")
        }
        XCTAssertTrue(text.contains("configuration history of the device"))
        XCTAssertFalse(text.contains("follow the end"))
        XCTAssertTrue(text.contains(":theme NAME"))
        XCTAssertTrue(text.contains("field~regex"))
        d.keys(.escape, .char(":"))
        d.type("runs")
        d.keys(.enter, .char("?"))
        XCTAssertTrue(d.text.contains("log of the run"))
    }

    func testHelpInReadonlyModeMarksDisabledActions() throws {
        var d = Driver(store: store, width: 120, height: 40, readonly: true)
        XCTAssertTrue(d.screen[0].contains("read-only"))
        d.keys(.char("?"))
        let line = d.screen.first { $0.contains("delete (asks first)") }!
        XCTAssertTrue(line.contains("disabled: read-only"))
    }

    func testStatusLineFlashExpires() throws {
        var d = Driver(store: store)
        d.model.flash("database: disk I/O error", error: true)
        XCTAssertTrue(d.screen[22].hasPrefix("database: disk I/O error"))
        XCTAssertEqual(d.frame.buffer[0, 22].role, .flashError)
        d.model.flash("saved /tmp/x")
        XCTAssertEqual(d.frame.buffer[0, 22].role, .flashInfo)
        d.advance(AppModel.flashSeconds + 1)
        XCTAssertEqual(d.screen[22].trimmingCharacters(in: .whitespaces), "")
    }

    func testDatabaseErrorsAppearInTheStatusLine() throws {
        var d = Driver(store: store)
        try store.database.writer.write { db in try db.execute(sql: "DROP TABLE session") }
        d.command("sessions")
        XCTAssertTrue(d.screen[22].contains("database:"), d.screen[22])
        XCTAssertTrue(d.screen[22].contains("session"), d.screen[22])
        XCTAssertEqual(d.frame.buffer[0, 22].role, .flashError)
    }

    func testCredentialsNeverShowSecrets() throws {
        var d = Driver(store: store, width: 200, height: 30)
        d.command("creds")
        XCTAssertTrue(d.text.contains("lab-admin"))
        XCTAssertTrue(d.text.contains("sblab"))
        for secret in ["switchboard-lab", "enable-lab", "viewer-lab", "junos-lab", "sb1:"] {
            XCTAssertFalse(d.text.contains(secret), secret)
        }
        let data = d.model.top.table.data!
        // Not even loaded into the rows.
        for row in data.rows { for v in row.values { XCTAssertFalse(v.hasPrefix("sb1:") || v.hasSuffix("-lab"), v) } }
        XCTAssertFalse(data.fields.contains("secret"))
        XCTAssertFalse(data.fields.contains("enable_secret"))
    }

    func testEveryTableRendersAtBothSizes() throws {
        try store.run(service: "show version", status: .queued)
        try store.session(device: "par-core1", transcript: "plain text")
        try store.snapshot(device: "par-core1", content: "hostname par-core1", at: Date())
        for (w, h) in [(80, 24), (120, 40)] {
            var d = Driver(store: store, width: w, height: h)
            for command in ["dev", "links", "pools", "creds", "svc", "wf", "runs", "tasks", "sessions", "config"] {
                d.command(command)
                let screen = d.screen
                XCTAssertEqual(screen.count, h)
                XCTAssertTrue(screen.allSatisfy { TextWidth.of($0) == w }, command)
                XCTAssertNil(d.model.top.error, "\(command): \(d.model.top.error ?? "")")
                XCTAssertFalse(d.model.top.table.visible.isEmpty, command)
                let expected = d.model.top.table.visibleColumns.first!.title
                XCTAssertTrue(screen[2].contains(expected), "\(command): \(screen[2])")
            }
        }
    }

    func testWideCharactersInData() throws {
        try store.database.writer.write { db in
            try Inventory.upsert(db, device: Device(name: "tok-東京-core1", address: "192.0.2.9", location: "東京 🚀 Tokyo"))
        }
        var d = Driver(store: store, width: 120, height: 40)
        d.keys(.char("G"))
        let row = d.row(containing: "tok-東京-core1")!
        XCTAssertTrue(d.screen[row].contains("東京 🚀 Tokyo"), d.screen[row])
        XCTAssertEqual(TextWidth.of(d.screen[row]), 120)
        // Columns after the wide text stay aligned with the header.
        let header = d.frame.buffer.column(of: "Site", row: 2)!
        let name = d.frame.buffer.column(of: "Name", row: 2)!
        XCTAssertEqual(d.frame.buffer.column(of: "tok-", row: row), name)
        XCTAssertLessThan(name, header)
    }

    func testColumnsCanBeShownAndHidden() throws {
        var d = Driver(store: store, width: 200, height: 30)
        XCTAssertFalse(d.screen[2].contains("Rack"))
        d.keys(.char("C"))
        XCTAssertTrue(d.text.contains("[ ] Rack (rack)"))
        let rack = d.model.top.table.columns.firstIndex { $0.property == "rack" }!
        for _ in 0..<rack { d.keys(.char("j")) }
        d.keys(.char(" "), .enter)
        XCTAssertTrue(d.screen[2].contains("Rack"))
    }

    func testHorizontalScrollShowsColumnsBeyondTheEdge() throws {
        var d = Driver(store: store)
        XCTAssertFalse(d.screen[2].contains("Last run"))
        for _ in 0..<6 { d.keys(.char("l")) }
        XCTAssertTrue(d.screen[2].contains("Last run"), d.screen[2])
        XCTAssertTrue(d.screen[2].hasPrefix("…"))
    }
}
