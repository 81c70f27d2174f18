import Foundation
import GRDB
import XCTest
@testable import Console
@testable import Store

/// The Describe (`d`, Enter) and Xray (`x`) views over the example network, rendered without a
/// terminal at 80×24 and 120×40.
final class DetailViewTests: XCTestCase {
    var store: ExampleStore!

    override func setUpWithError() throws { store = try ExampleStore() }
    override func tearDown() { store = nil }

    /// The scheduler's arithmetic is the engine's, which this target does not link: a fixed answer.
    struct FixedSchedule: TaskScheduleReading {
        func upcoming(_ task: ScheduledTask, count: Int, now: Date) throws -> (summary: String, times: [String]) {
            ("cron 30 2 * * *", ["2026-12-07 02:30:00 +01:00", "2026-12-08 02:30:00 +01:00"])
        }
    }

    func select(_ d: inout Driver, _ name: String) {
        guard let pos = d.model.top.table.visible.firstIndex(where: { d.model.top.table.data!.rows[Int($0)].id == name }) else {
            return XCTFail("no row \(name): \(d.text)")
        }
        d.keys(.char("g"))
        for _ in 0..<pos { d.keys(.char("j")) }
        XCTAssertEqual(d.model.top.table.selectedRow?.id, name)
    }

    /// Every line of the view's document as drawn (the whole tree, not only the screen).
    func allLines(_ d: Driver) -> [String] {
        let ring = d.model.top.log.ring
        return (ring.firstPosition..<ring.endPosition).map { ring[position: $0].text }
    }

    /// The screens seen while paging from the first line to the last.
    func pages(_ d: inout Driver) -> [String] {
        d.keys(.char("g"))
        var screens = [d.text]
        for _ in 0..<20 {
            d.keys(.pageDown)
            screens.append(d.text)
        }
        return screens
    }

    func testDescribeACredentialShowsMetadataAndNeverASecretAt80x24And120x40() throws {
        // A credential sealed now, with a secret and an enable secret of our own.
        let secrets = try SecretBox.load(paths: Paths(environment: ["HOME": store.dir, "XDG_CONFIG_HOME": store.dir + "/config"]))
        try store.database.writer.write { db in
            try Inventory.upsert(db, credential: Credential(name: "zz-sealed", description: "break-glass", username: "root",
                                                            secret: try secrets.seal("Hunter2-secret-value"),
                                                            enableSecret: try secrets.seal("Enable-secret-value"), priority: 99,
                                                            pools: ["core"]))
        }
        for (w, h) in [(80, 24), (120, 40)] {
            var d = Driver(store: store, width: w, height: h)
            d.command("creds")
            select(&d, "zz-sealed")
            d.keys(.enter)
            XCTAssertEqual(d.model.top.content, .document(.describe(.credentials, "zz-sealed")))
            XCTAssertTrue(d.screen[1].contains("credential zz-sealed"), d.screen[1])
            XCTAssertTrue(d.text.contains("credential zz-sealed"), d.text)
            XCTAssertTrue(d.text.contains("username: root"), d.text)
            XCTAssertTrue(d.text.contains("authentication: password (set, sealed)"), d.text)
            XCTAssertTrue(d.text.contains("enable secret: set (sealed)"), d.text)
            XCTAssertTrue(d.text.contains("priority: 99"), d.text)
            XCTAssertTrue(d.text.contains("core (6 devices)"), d.text)
            XCTAssertTrue(d.text.contains("break-glass"), d.text)
            // Neither the secrets nor their sealed form, anywhere in the view or on any page of it.
            let sealed = try store.database.writer.read { db in
                try Row.fetchOne(db, sql: "SELECT secret, enable_secret FROM credential WHERE name = 'zz-sealed'")!
            }
            let forbidden = ["Hunter2", "Enable-secret", "switchboard-lab", "viewer-lab", "junos-lab", "sb1:",
                             sealed["secret"] as String, sealed["enable_secret"] as String]
            let everything = allLines(d) + pages(&d)
            for f in forbidden {
                XCTAssertFalse(everything.contains { $0.contains(f) }, "\(f) shown at \(w)x\(h)")
            }
            // Esc goes back to the table, where it was.
            d.keys(.escape)
            XCTAssertEqual(d.model.top.content, .table(.credentials, nil))
            XCTAssertEqual(d.model.top.table.selectedRow?.id, "zz-sealed")
        }
    }

    func testDescribeAServiceShowsCommandsTargetsAndParametersAt80x24And120x40() throws {
        let run = try store.run(service: "show version", status: .completed, done: 17, total: 17)
        for (w, h) in [(80, 24), (120, 40)] {
            var d = Driver(store: store, width: w, height: h)
            d.command("svc")
            select(&d, "show version")
            d.keys(.enter)
            XCTAssertEqual(d.model.top.content, .document(.describe(.services, "show version")))
            let text = allLines(d).joined(separator: "\n")
            XCTAssertTrue(text.contains("service show version (cli)"), text)
            XCTAssertTrue(text.contains("commands"), text)
            XCTAssertTrue(text.contains("pools: network-devices"), text)
            XCTAssertTrue(text.contains("resolve now to 19 devices"), text)
            XCTAssertTrue(text.contains("credential by priority"), text)
            XCTAssertTrue(text.contains("in workflows"), text)
            XCTAssertTrue(text.contains("run \(run) completed 17/17"), text)
            // The tree's guides, in the terminal's charset.
            XCTAssertTrue(d.screen.contains { $0.contains("├─ ") || $0.contains("└─ ") }, d.text)
            XCTAssertTrue(d.screen[h - 1].contains("<esc> back"), d.screen[h - 1])
            XCTAssertFalse(d.screen[h - 1].contains("follow"), d.screen[h - 1])
            // `d` describes too.
            d.keys(.escape)
            d.keys(.char("d"))
            XCTAssertEqual(d.model.top.content, .document(.describe(.services, "show version")))
        }
        // A service without targets says what a launch needs.
        var n = Driver(store: store, width: 80, height: 24)
        n.command("svc")
        select(&n, "set ntp")
        n.keys(.enter)
        XCTAssertTrue(allLines(n).contains("none: a launch gives them (it needs devices)"), n.text)
        XCTAssertTrue(allLines(n).contains("ntp server 192.0.2.123"), n.text)
        // A workflow: Enter stays its graph, `d` describes it with its services.
        var d = Driver(store: store, width: 120, height: 40)
        d.command("wf")
        select(&d, "version audit")
        XCTAssertTrue(d.screen[39].contains("<d> describe"), d.screen[39])
        d.keys(.enter)
        XCTAssertEqual(d.model.top.content, .workflow("version audit"))
        d.keys(.escape, .char("d"))
        XCTAssertEqual(d.model.top.content, .document(.describe(.workflows, "version audit")))
        XCTAssertTrue(d.text.contains("workflow version audit (workflow)"), d.text)
        XCTAssertTrue(allLines(d).contains("extract version (extract)"), d.text)
    }

    func testEnterOnAPoolStillShowsItsDevicesAndDDescribesItAt80x24And120x40() throws {
        for (w, h) in [(80, 24), (120, 40)] {
            var d = Driver(store: store, width: w, height: h)
            d.command("pools")
            select(&d, "arista")
            XCTAssertTrue(d.screen[h - 1].contains("<d> describe"), d.screen[h - 1])
            d.keys(.enter)
            XCTAssertEqual(d.model.top.content, .table(.devices, .pool("arista")))
            d.keys(.escape, .char("d"))
            XCTAssertEqual(d.model.top.content, .document(.describe(.pools, "arista")))
            XCTAssertTrue(d.text.contains("pool arista"), d.text)
            XCTAssertTrue(d.text.contains("criteria"), d.text)
            XCTAssertTrue(d.text.contains("platform=arista_eos"), d.text)
            XCTAssertTrue(allLines(d).contains("size: 6 devices"), allLines(d).joined(separator: "\n"))
            // Help says what Enter and d do here.
            d.keys(.escape, .char("?"))
            let help = HelpContent.lines(d.model).map(\.0)
            XCTAssertTrue(help.contains { $0.hasPrefix("  d ") && $0.hasSuffix("describe the record, read-only (esc goes back)") }, "\(help)")
            XCTAssertTrue(help.contains("  d             the pool's details, read-only (esc goes back); enter still shows the pool's devices"), "\(help)")
            XCTAssertTrue(help.contains { $0.hasPrefix("  enter ") && $0.hasSuffix("open (drill down)") }, "\(help)")
        }
    }

    func testDescribeATaskShowsScheduleNextFiresAndLastRunsAt80x24And120x40() throws {
        let runs = try store.database.writer.write { db -> [Int64] in
            let task = try ScheduledTask.fetchOne(db, sql: "SELECT * FROM task WHERE name = 'nightly backup'")!
            return try (0..<2).map { i in
                var r = Run(serviceId: task.serviceId!, serviceName: "backup configuration", trigger: .scheduler, user: "engine")
                r.taskId = task.id
                r.status = i == 0 ? .completed : .failed
                r.reason = i == 0 ? "" : "2 devices failed"
                r.startedAt = Date(timeIntervalSince1970: 1_700_000_000 + Double(i) * 86_400)
                try r.insert(db)
                return r.id!
            }
        }
        for (w, h) in [(80, 24), (120, 40)] {
            var d = Driver(store: store, width: w, height: h)
            d.loader.schedules = FixedSchedule()
            d.command("tasks")
            select(&d, "nightly backup")
            d.keys(.enter)
            XCTAssertEqual(d.model.top.content, .document(.describe(.tasks, "nightly backup")))
            let text = allLines(d).joined(separator: "\n")
            XCTAssertTrue(text.contains("task nightly backup"), text)
            XCTAssertTrue(text.contains("service: backup configuration"), text)
            XCTAssertTrue(text.contains("cron 30 2 * * *"), text)
            XCTAssertTrue(text.contains("zone: the engine's local zone"), text)
            XCTAssertTrue(text.contains("next fires"), text)
            XCTAssertTrue(text.contains("inactive: the due times if enabled now"), text)
            XCTAssertTrue(text.contains("2026-12-07 02:30:00 +01:00"), text)
            XCTAssertTrue(text.contains("pools: network-devices"), text)
            XCTAssertTrue(text.contains("run \(runs[1]) failed"), text)
            XCTAssertTrue(text.contains("2 devices failed"), text)
            XCTAssertTrue(text.contains("run \(runs[0]) completed"), text)
            // Scrollable: the last line is reachable at either size.
            d.keys(.char("G"))
            XCTAssertTrue(d.text.contains("run \(runs[0]) completed"), d.text)
        }
        // Without the scheduler (no engine linked), the view still opens.
        var d = Driver(store: store)
        d.command("tasks")
        select(&d, "nightly backup")
        d.keys(.char("d"))
        XCTAssertTrue(d.text.contains("next fires"), d.text)
        XCTAssertNil(d.model.top.error)
    }

    func testXrayOfADeviceAt80x24And120x40() throws {
        let run = try store.run(service: "show version", status: .failed, done: 1, total: 1, failed: 1)
        try store.result(run: run, device: "par-core1", success: false, output: "% timeout")
        let snap = try store.snapshot(device: "par-core1", content: "hostname par-core1\n", at: Date(timeIntervalSince1970: 1_700_000_100))
        let session = try store.session(device: "par-core1", transcript: "")
        for (w, h) in [(80, 24), (120, 40)] {
            var d = Driver(store: store, width: w, height: h)
            select(&d, "par-core1")
            XCTAssertTrue(d.screen[h - 1].contains("<x> xray"), d.screen[h - 1])
            d.keys(.char("x"))
            XCTAssertEqual(d.model.top.content, .document(.xray("par-core1")))
            XCTAssertTrue(d.screen[1].contains("xray par-core1"), d.screen[1])
            let lines = allLines(d)
            let text = lines.joined(separator: "\n")
            XCTAssertEqual(lines.first, "device par-core1")
            for section in ["pools (", "links and neighbours (", "credential that would be chosen", "services targeting it (",
                            "tasks targeting it (", "last results", "configuration snapshots", "sessions"] {
                XCTAssertTrue(lines.contains { $0.hasPrefix(section) }, "\(section): \(text)")
            }
            XCTAssertTrue(text.contains("core (6): name~-core\\d$"), text)
            XCTAssertTrue(text.contains("all-devices"), text)
            XCTAssertTrue(text.contains("→ par-core2  link par-core1--par-core2"), text)
            // par-core1 is a Junos device: the juniper pool's credential outranks the ones for every device.
            XCTAssertTrue(text.contains("juniper-netconf: user automation, password, read-write, priority 20"), text)
            XCTAssertTrue(text.contains("why: priority 20, the highest of the 3 credentials that apply; its pool juniper holds the device"), text)
            XCTAssertTrue(text.contains("lab-admin (priority 10, read-write): no pools: applies to every device"), text)
            XCTAssertTrue(text.contains("show version (cli) by pool network-devices"), text)
            XCTAssertTrue(text.contains("nightly backup runs backup configuration by pool network-devices; inactive"), text)
            XCTAssertTrue(text.contains("run \(run) show version: failure"), text)
            XCTAssertTrue(text.contains("version \(snap)"), text)
            XCTAssertTrue(text.contains("session \(session)  alice"), text)
            XCTAssertFalse(text.contains("switchboard-lab"))
            // Pages down to the sessions at the end; Esc back to the devices.
            let screens = pages(&d)
            XCTAssertTrue(screens.last!.contains("session \(session)"), screens.last!)
            XCTAssertTrue(screens.first!.contains("device par-core1"), screens.first!)
            d.keys(.escape)
            XCTAssertEqual(d.model.top.content, .table(.devices, nil))
        }
    }

    func testStoredEscapeSequencesAreInertAndTreesFollowTheCharset() throws {
        try store.database.writer.write { db in
            try db.execute(sql: "UPDATE pool SET description = ? WHERE name = 'core'", arguments: ["core \u{1B}]0;owned\u{07}\u{1B}[2J\u{1B}[31mred"])
            try db.execute(sql: "UPDATE device SET location = ? WHERE name = 'par-core1'", arguments: ["Paris\u{1B}[H\u{1B}[2J"])
        }
        var d = Driver(store: store, width: 80, height: 24, charset: .ascii)
        d.command("pools")
        select(&d, "core")
        d.keys(.char("d"))
        XCTAssertTrue(d.text.contains("pool core"), d.text)
        var cells = d.frame.buffer
        for y in 0..<cells.height {
            for x in 0..<cells.width { XCTAssertFalse(cells[x, y].text.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }, "\(x),\(y)") }
        }
        XCTAssertTrue(d.text.contains("red"), d.text)
        // ASCII guides, no `?` for box drawing.
        XCTAssertTrue(d.screen.contains { $0.contains("+- criteria") }, d.text)
        XCTAssertTrue(d.screen.contains { $0.contains("`- ") }, d.text)
        d.keys(.escape)
        d.command("dev")
        select(&d, "par-core1")
        d.keys(.char("x"))
        cells = d.frame.buffer
        for y in 0..<cells.height {
            for x in 0..<cells.width { XCTAssertFalse(cells[x, y].text.unicodeScalars.contains { $0.value < 0x20 }, "\(x),\(y)") }
        }
        XCTAssertTrue(d.text.contains("device par-core1"), d.text)
    }

    func testDescribeAndXrayWhereTheyDoNotApply() throws {
        var d = Driver(store: store)
        d.command("links")
        d.keys(.char("d"))
        XCTAssertEqual(d.model.top.content, .table(.links, nil))
        d.keys(.char("x"))
        XCTAssertEqual(d.model.top.content, .table(.links, nil))
        // A record deleted meanwhile: the view says so instead of failing.
        d.command("creds")
        select(&d, "lab-readonly")
        try store.database.writer.write { db in try db.execute(sql: "DELETE FROM credential WHERE name = 'lab-readonly'") }
        d.keys(.enter)
        XCTAssertTrue(d.text.contains("no credential named 'lab-readonly'"), d.text)
    }
}
