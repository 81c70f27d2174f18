import Foundation
import GRDB
import XCTest
@testable import Store

/// Records naming devices, pools or services that do not exist are skipped with a warning naming file,
/// line and record; partial CSV/JSON updates change only the fields they carry; imports without a
/// platform give `autodetect`.
final class ImportReferenceTests: XCTestCase {
    // MARK: eNMS quirks (hand-written in the shape of eNMS's own `examples` and `model_scalability` sets)

    /// The quirks found in eNMS's `files/migrations/examples` (main, 2025): network records in
    /// device.yaml, a link with no destination ("Duplicate 1 - 2"), links to devices of another set
    /// (model_scalability's link0 names the examples' Houston), gateways listing the devices behind them.
    static let devices = """
        - "admin_only": !!bool "false"
          "devices":
          - "Router behind Gateway 1"
          "gateways": []
          "ip_address": "192.168.56.104"
          "name": "Gateway 1"
          "netmiko_driver": "cisco_ios"
          "operating_system": "Linux"
          "port": !!int "22"
          "type": "gateway"
        - {name: Router behind Gateway 1, ip_address: 172.100.100.11, netmiko_driver: arista_eos, type: router, gateways: [Gateway 1]}
        - {name: Duplicate me 1, ip_address: '', netmiko_driver: cisco_ios, operating_system: '', type: generic_device}
        - {name: Dallas, ip_address: 10.0.0.100, netmiko_driver: '', operating_system: IOS-XR, type: generic_device}
        - name: Duplication of Devices, Subnetworks and Top-level Networks
          devices: [Duplicate me 1, Duplicate me 2]
          links: [Duplicate 1 - 2]
          labels: {}
          path: '97'
          type: network
        - {name: L1 Network, devices: [L2 Network], links: [], type: network}
        """
    static let links = """
        - {name: G1 - R1, source: Gateway 1, destination: Router behind Gateway 1, type: ethernet_link}
        - {name: link0, source: Houston, destination: Dallas, type: generic_link}
        - {name: link1, source: Jackson, destination: Atlanta, type: generic_link}
        - "color": "#000000"
          "name": "Duplicate 1 - 2"
          "source": "Duplicate me 1"
          "type": "generic_link"
        - {name: G1 - R1, source: Router behind Gateway 1, destination: Gateway 1, type: ethernet_link}
        """
    static let pools = """
        - {name: Hand picked, manually_defined: true, devices: [Dallas, Houston, Gateway 1]}
        """
    static let services = """
        - {name: show, type: netmiko_commands_service, commands: show version, target_devices: [Dallas, Austin], target_pools: [Hand picked, Gone]}
        - {name: wf, type: workflow, services: [show, Missing step]}
        """
    static let edges = """
        - {name: e1, workflow: wf, source: show, destination: Missing step, subtype: success}
        """
    static let tasks = """
        - {name: poll, service: Deleted service, is_active: true, devices: [Dallas, Nowhere]}
        """

    func enmsFolder(_ t: TempStore, _ files: [String: String]) throws -> String {
        for (name, text) in files { _ = try t.write("enms/" + name, text) }
        return t.dir + "/enms"
    }

    func testEnmsQuirksAreSkippedNamedAndCounted() throws {
        let t = try TempStore()
        let dir = try enmsFolder(t, ["device.yaml": Self.devices, "link.yaml": Self.links, "pool.yaml": Self.pools,
                                     "service.yaml": Self.services, "workflow_edge.yaml": Self.edges, "task.yaml": Self.tasks])
        let report = try t.importFiles([dir])
        XCTAssertEqual(report.created["device"], 4, "network records are maps, not devices")
        XCTAssertEqual(report.warnings["device.yaml: skipped network records (eNMS maps of devices, not devices)"], 2)
        XCTAssertEqual(report.created["link"], 1)
        XCTAssertEqual(report.skippedRecords, ["link": 4, "edge": 1])
        let link = dir + "/link.yaml"
        XCTAssertEqual(report.skipped.map(\.message), [
            "\(link):4: link 'Duplicate 1 - 2' skipped: no destination device",
            "\(link):2: link 'link0' skipped: source device 'Houston' does not exist",
            "\(link):3: link 'link1' skipped: source device 'Jackson' and destination device 'Atlanta' do not exist",
            "\(link):8: link 'G1 - R1' skipped: a link of that name is already at \(link):1",
            "\(dir)/pool.yaml:1: pool 'Hand picked' member 'Houston' skipped: no such device",
            "\(dir)/service.yaml:1: service 'show' target device 'Austin' skipped: no such device",
            "\(dir)/service.yaml:1: service 'show' target pool 'Gone' skipped: no such pool",
            "\(dir)/service.yaml:2: workflow 'wf' member 'Missing step' skipped: no such service",
            "\(dir)/workflow_edge.yaml:1: edge 'e1' skipped: destination 'Missing step': no such service",
            "\(dir)/task.yaml:1: task 'poll' imported inactive: service 'Deleted service' does not exist",
            "\(dir)/task.yaml:1: task 'poll' target device 'Nowhere' skipped: no such device",
        ])
        XCTAssertTrue(report.summary.contains("links: 1 new, 0 updated, 4 skipped"), report.summary)
        try t.database.writer.read { db in
            XCTAssertEqual(try Inventory.links(db).map(\.name), ["G1 - R1"])
            XCTAssertEqual(try Inventory.links(db).first?.source, "Gateway 1", "the first of two links with one name wins")
            XCTAssertEqual(try Inventory.poolDeviceNames(db, named: "Hand picked"), ["Dallas", "Gateway 1"])
            let show = try Inventory.service(db, named: "show")!
            XCTAssertEqual(show.devices, ["Dallas"])
            XCTAssertEqual(show.pools, ["Hand picked"])
            let task = try ScheduledTask.fetchOne(db, sql: "SELECT * FROM task WHERE name = 'poll'")!
            XCTAssertNil(task.serviceId)
            XCTAssertFalse(task.active)
            XCTAssertEqual(task.devices, ["Dallas"])
            XCTAssertNil(try Inventory.device(db, named: "Gateway 1")!.properties["devices"], "a gateway's device list is eNMS topology")
            XCTAssertEqual(try Inventory.device(db, named: "Dallas")!.platform, "autodetect", "no netmiko_driver and an OS naming no platform")
            XCTAssertEqual(try Inventory.device(db, named: "Gateway 1")!.platform, "cisco_ios")
        }
        // Re-importing is still idempotent, and skips the same records.
        let before = try t.contentDigest()
        let again = try t.importFiles([dir])
        XCTAssertEqual(try t.contentDigest(), before)
        XCTAssertEqual(again.skipped, report.skipped)
    }

    /// model_scalability's links name devices of the examples set; imported on top of the examples,
    /// they resolve, alone they are skipped and counted, with the first few named.
    func testLinksToAnotherSetResolveAgainstTheDatabase() throws {
        let t = try TempStore()
        var links = ""
        for i in 0..<30 { links += "- {name: link\(i), source: Houston, destination: d\(i % 3)}\n" }
        let scale = try enmsFolder(t, ["device.yaml": "- {name: d0}\n- {name: d1}\n- {name: d2}\n", "link.yaml": links])
        let alone = try t.importFiles([scale])
        XCTAssertEqual(alone.skippedRecords["link"], 30)
        XCTAssertEqual(alone.warningLines(examples: 3), [
            "\(scale)/link.yaml:1: link 'link0' skipped: source device 'Houston' does not exist",
            "\(scale)/link.yaml:2: link 'link1' skipped: source device 'Houston' does not exist",
            "\(scale)/link.yaml:3: link 'link2' skipped: source device 'Houston' does not exist",
            "… and 27 more links skipped: source or destination device missing",
        ])
        try t.database.writer.write { db in _ = try Inventory.upsert(db, device: Device(name: "Houston", address: "10.0.0.104")) }
        let together = try t.importFiles([scale])
        XCTAssertEqual(together.created["link"], 30)
        XCTAssertTrue(together.skipped.isEmpty)
    }

    func testManySkipsAreSummarisedWithThousandsSeparators() {
        var report = ImportReport()
        report.warnings["device.yaml: skipped field icon"] = 2
        for i in 0..<1237 {
            report.skipped.append(ImportSkip(category: "links skipped: source or destination device missing",
                                             message: "link.yaml:\(i + 1): link 'l\(i)' skipped: source device 'x' does not exist", kind: "link"))
        }
        XCTAssertEqual(report.warningLines(), [
            "device.yaml: skipped field icon (2×)",
            "link.yaml:1: link 'l0' skipped: source device 'x' does not exist",
            "link.yaml:2: link 'l1' skipped: source device 'x' does not exist",
            "link.yaml:3: link 'l2' skipped: source device 'x' does not exist",
            "… and 1,234 more links skipped: source or destination device missing",
        ])
    }

    func testSyntaxErrorStillRefusesTheWholeImport() throws {
        let t = try TempStore()
        try t.importFiles([try t.write("base.csv", "name,address\nr1,192.0.2.1\n")])
        let before = try t.contentDigest()
        let dangling = try t.write("links.csv", "name,source,destination\nl1,r1,ghost\n")
        let broken = try t.write("broken.json", "[{\"name\": \"r2\" \"port\": 1}]")
        XCTAssertThrowsError(try t.importFiles([dangling, broken])) { XCTAssertTrue("\($0)".contains("broken.json"), "\($0)") }
        let brokenYAML = try enmsFolder(t, ["device.yaml": "- {name: a}\n- {name: b\n", "link.yaml": "- {name: l, source: a}\n"])
        XCTAssertThrowsError(try t.importFiles([brokenYAML])) { XCTAssertTrue("\($0)".contains("YAML syntax error"), "\($0)") }
        XCTAssertEqual(try t.contentDigest(), before)
    }

    func testCSVAndJSONLinksSkipDanglingReferences() throws {
        let t = try TempStore()
        let devices = try t.write("d.csv", "name,address\nr1,192.0.2.1\nr2,192.0.2.2\n")
        let links = try t.write("l.csv", "name,source,destination\nok,r1,r2\nhalf,r1,\nghost,r1,r9\n")
        let json = try t.write("l.json", #"{"links": [{"name": "j1", "source": "r2", "destination": "r1"}, {"name": "j2", "source": "r0", "destination": "r1"}]}"#)
        let report = try t.importFiles([devices, links, json])
        XCTAssertEqual(report.created["link"], 2)
        XCTAssertEqual(report.skipped.map(\.message), [
            "\(t.dir)/l.csv:3: link 'half' skipped: no destination device",
            "\(t.dir)/l.csv:4: link 'ghost' skipped: destination device 'r9' does not exist",
            "\(t.dir)/l.json:1: link 'j2' skipped: source device 'r0' does not exist",
        ])
    }

    func testCredentialWhosePoolsAreAllMissingIsSkippedNotWidened() throws {
        let t = try TempStore()
        _ = try t.pool("core", [PoolCriterion(property: "name", value: "c", match: .inclusion)])
        let json = try t.write("c.json", """
            {"credentials": [
              {"name": "scoped", "username": "a", "secret_kind": "password", "secret": "x", "pools": ["core", "gone"]},
              {"name": "orphan", "username": "b", "secret_kind": "password", "secret": "y", "pools": ["gone"]}
            ]}
            """)
        let report = try t.importFiles([json])
        XCTAssertEqual(report.created["credential"], 1)
        XCTAssertEqual(report.skippedRecords["credential"], 1)
        XCTAssertTrue(report.skipped.contains { $0.message.hasSuffix("credential 'orphan' skipped: none of its pools exist ('gone')") }, "\(report.skipped)")
        XCTAssertTrue(report.skipped.contains { $0.message.hasSuffix("credential 'scoped' pool 'gone' skipped: no such pool") }, "\(report.skipped)")
        let scoped = try t.database.writer.read { try Inventory.credentials($0) }
        XCTAssertEqual(scoped.map(\.name), ["scoped"])
        XCTAssertEqual(scoped.first?.pools, ["core"])
    }

    // MARK: partial updates

    func testPartialCSVChangesOnlyItsColumns() throws {
        let t = try TempStore()
        let full = try t.write("full.csv", """
            name,address,port,platform,location,description,rack
            r1,192.0.2.1,2222,cisco_ios,Paris,core router,A1
            r2,192.0.2.2,22,cisco_ios,Lyon,edge router,B2
            """)
        try t.importFiles([full])
        let partial = try t.write("platform.csv", "name,platform\nr1,arista_eos\nr3,juniper_junos\n")
        let report = try t.importFiles([partial])
        XCTAssertEqual(report.updated["device"], 1)
        XCTAssertEqual(report.created["device"], 1)
        try t.database.writer.read { db in
            let r1 = try Inventory.device(db, named: "r1")!
            XCTAssertEqual(r1.platform, "arista_eos")
            XCTAssertEqual(r1.address, "192.0.2.1", "a missing column never clears a stored value")
            XCTAssertEqual(r1.port, 2222)
            XCTAssertEqual(r1.location, "Paris")
            XCTAssertEqual(r1.description, "core router")
            XCTAssertEqual(r1.properties["rack"], .string("A1"))
            let r3 = try Inventory.device(db, named: "r3")!
            XCTAssertEqual(r3.address, "", "a new device gets defaults")
            XCTAssertEqual(r3.port, 22)
            XCTAssertEqual(r3.platform, "juniper_junos")
        }
        // An explicitly empty cell clears: text to empty, port back to 22, platform to autodetect,
        // a custom property removed.
        let blanks = try t.write("blanks.csv", "name,description,port,platform,rack\nr1,,,,\n")
        try t.importFiles([blanks])
        try t.database.writer.read { db in
            let r1 = try Inventory.device(db, named: "r1")!
            XCTAssertEqual(r1.description, "")
            XCTAssertEqual(r1.port, 22)
            XCTAssertEqual(r1.platform, "autodetect")
            XCTAssertNil(r1.properties["rack"])
            XCTAssertEqual(r1.address, "192.0.2.1")
            XCTAssertEqual(r1.location, "Paris")
        }
        let noName = try t.write("noname.csv", "name,platform\n,ios\n")
        XCTAssertThrowsError(try t.importFiles([noName])) { XCTAssertTrue("\($0)".contains("noname.csv:2"), "\($0)") }
    }

    func testJSONDeviceListKeepsAbsentKeysAndClearsNulls() throws {
        let t = try TempStore()
        try t.importFiles([try t.write("a.json", #"[{"name": "r1", "address": "192.0.2.1", "port": 830, "vendor": "Juniper", "rack": 7}]"#)])
        try t.importFiles([try t.write("b.json", #"[{"name": "r1", "location": "Nice", "vendor": null, "rack": null}]"#)])
        let r1 = try t.database.writer.read { try Inventory.device($0, named: "r1")! }
        XCTAssertEqual(r1.address, "192.0.2.1")
        XCTAssertEqual(r1.port, 830)
        XCTAssertEqual(r1.location, "Nice")
        XCTAssertEqual(r1.vendor, "")
        XCTAssertNil(r1.properties["rack"])
        XCTAssertEqual(r1.platform, "autodetect")
    }

    // MARK: platforms

    func testImportsWithoutPlatformGiveAutodetectAndKeepAKnownOne() throws {
        let t = try TempStore()
        let csv = try t.write("d.csv", "name,address\nnew1,192.0.2.1\n")
        let ini = try t.write("hosts.ini", "[routers]\nnew2 ansible_host=192.0.2.2\nknown ansible_host=192.0.2.3\n")
        _ = try t.device("known", platform: "cisco_nxos")
        try t.importFiles([csv])
        try t.importFiles([ini], format: .ansible)
        let sshConfig = try t.write("ssh_config", "Host known\n  HostName 192.0.2.30\nHost new3\n  HostName 192.0.2.4\n")
        try t.importFiles([sshConfig], format: .sshConfig)
        let enms = try enmsFolder(t, ["device.yaml": "- {name: known, ip_address: 192.0.2.31, netmiko_driver: '', operating_system: ''}\n- {name: new4, netmiko_driver: ''}\n"])
        try t.importFiles([enms])
        try t.database.writer.read { db in
            for name in ["new1", "new2", "new3", "new4"] {
                XCTAssertEqual(try Inventory.device(db, named: name)?.platform, "autodetect", name)
            }
            let known = try Inventory.device(db, named: "known")!
            XCTAssertEqual(known.platform, "cisco_nxos", "a file with no platform leaves the stored one")
            XCTAssertEqual(known.address, "192.0.2.31")
        }
    }

    func testPlatformNamesAreStoredTrimmedAndLowerCased() throws {
        let t = try TempStore()
        try t.importFiles([try t.write("p.csv", "name,platform\na, Cisco_IOS \nb,cisco.ios.ios\nc,generic\nd,AutoDetect\n")])
        let platforms = try t.database.writer.read { db in try Inventory.devices(db).map(\.platform) }
        XCTAssertEqual(platforms, ["cisco_ios", "cisco.ios.ios", "generic", "autodetect"])
        XCTAssertEqual(Inventory.normalizedPlatform("  "), "autodetect")
    }
}
