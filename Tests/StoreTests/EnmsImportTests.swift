import Foundation
import GRDB
import XCTest
@testable import Store

/// eNMS migration folders in the styles eNMS writes: plain (block and flow) and tagged all-quoted.
final class EnmsImportTests: XCTestCase {
    static let devicesPlain = """
        - creator: ''
          custom_json: {a: c, b: [1, 2, '3']}
          description: Jackson
          icon: router
          ip_address: 192.168.56.51
          last_configuration_status: Never
          latitude: '32.29876'
          location: Jackson
          model: Cisco
          name: Jackson
          netmiko_driver: cisco_ios
          operating_system: IOS
          os_version: 15.5(3)M
          port: 22
          positions: {Large Network Display: [621, 908]}
          property1: 10.145.14.1
          type: device
          vendor: Cisco
        - {name: Austin, ip_address: 192.168.56.52, operating_system: EOS, port: 2222, vendor: Arista, type: device}
        - {name: Dallas, ip_address: 192.168.56.53, operating_system: JUNOS, vendor: Juniper}
        """
    static let links = """
        - {color: '#000000 ', description: optical fiber 10G, destination: Dallas, destination_id: 8,
          location: '', model: 10G, name: link0, source: Austin, source_id: 15, subtype: ODU2,
          type: link, vendor: Ciena}
        """
    static let pools = """
        - description: All objects
          device_name: .*
          device_name_invert: false
          device_name_match: regex
          device_vendor: ''
          device_vendor_match: inclusion
          devices: [Jackson]
          link_name: .*
          link_name_match: regex
          manually_defined: false
          name: All devices
          type: pool
        - {device_vendor: Cisco, device_vendor_match: equality, device_vendor_invert: true, name: Not Cisco}
        - {manually_defined: true, devices: [Jackson, Dallas], name: Hand picked}
        """
    static let credentialsTagged = """
        - "admin_only": !!bool "false"
          "creator": ""
          "description": ""
          "device_pools":
          - "All devices"
          "enable_password": ""
          "groups":
          - "All users"
          "name": "Router Credentials - Password"
          "password": "YWRtaW4="
          "priority": !!int "10"
          "private_key": ""
          "role": "read-write"
          "subtype": "password"
          "type": "credential"
          "username": "admin"
        """
    static let services = """
        - {name: '[Shared] Start', scoped_name: Start, shared: true, type: swiss_army_knife_service}
        - {name: '[Shared] End', scoped_name: End, shared: true, type: swiss_army_knife_service}
        - {name: '[Shared] Placeholder', scoped_name: Placeholder, shared: true, type: swiss_army_knife_service}
        - name: '[wf] show vrf'
          commands: |-
            show vrf
            show ip route
          content_match: default
          number_of_retries: 2
          timeout: 3.0
          type: netmiko_commands_service
          target_devices: [Austin]
        - {name: '[wf] backup', type: napalm_backup_service}
        - {name: '[wf] python', type: python_snippet_service}
        - name: wf
          services: ['[Shared] Start', '[Shared] End', '[wf] show vrf', '[wf] backup', '[wf] python']
          type: workflow
        """
    static let edges = """
        - {destination: '[wf] show vrf', source: '[Shared] Start', subtype: success, workflow: wf, type: workflow_edge}
        - {destination: '[wf] backup', source: '[wf] show vrf', subtype: failure, workflow: wf}
        - {destination: '[Shared] End', source: '[wf] show vrf', subtype: success, workflow: wf}
        - {destination: '[wf] python', source: '[wf] backup', subtype: success, workflow: wf}
        - {destination: '[wf] backup', source: '[wf] show vrf', subtype: prerequisite, workflow: wf}
        """
    static let tasks = """
        - crontab_expression: ''
          description: Back-up device configurations
          devices: []
          end_date: ''
          frequency: 60
          frequency_unit: minutes
          initial_payload: {}
          name: Configuration Poller
          pools: [All devices]
          scheduling_mode: standard
          service: wf
          service_id: 49
          start_date: 09/10/2019 21:17:13
          type: task
        - {name: nightly, scheduling_mode: crontab, crontab_expression: '0 2 * * *', service: '[wf] backup', is_active: true}
        - {name: task7}
        """

    func folder(_ t: TempStore, _ files: [String: String]) throws -> String {
        for (name, text) in files { _ = try t.write("enms/" + name, text) }
        _ = try t.write("enms/user.yaml", "- {name: admin}\n")
        return t.dir + "/enms"
    }

    var all: [String: String] {
        ["device.yaml": Self.devicesPlain, "link.yaml": Self.links, "pool.yaml": Self.pools,
         "credential.yaml": Self.credentialsTagged, "service.yaml": Self.services,
         "workflow_edge.yaml": Self.edges, "task.yaml": Self.tasks]
    }

    func testImportsEveryModelFile() throws {
        let t = try TempStore()
        let report = try t.importFiles([try folder(t, all)])
        XCTAssertEqual(report.created["device"], 3)
        XCTAssertEqual(report.created["link"], 1)
        XCTAssertEqual(report.created["pool"], 3)
        XCTAssertEqual(report.created["credential"], 1)
        XCTAssertEqual(report.created["workflow"], 1)
        XCTAssertEqual(report.created["task"], 3)
        // Skipped things are counted, never silent.
        XCTAssertEqual(report.warnings["service.yaml: skipped service type swiss_army_knife_service"], 1)
        XCTAssertEqual(report.warnings["service.yaml: skipped service type python_snippet_service"], 1)
        XCTAssertEqual(report.warnings["device.yaml: skipped field icon"], 1)
        XCTAssertEqual(report.warnings["workflow_edge.yaml: skipped prerequisite edges"], 1)
        XCTAssertNotNil(report.warnings["skipped user.yaml: not a kind of record switchboard keeps"])

        try t.database.writer.read { db in
            let jackson = try Inventory.device(db, named: "Jackson")!
            XCTAssertEqual(jackson.address, "192.168.56.51")
            XCTAssertEqual(jackson.platform, "cisco_ios")
            XCTAssertEqual(jackson.osVersion, "15.5(3)M")
            XCTAssertEqual(jackson.properties["property1"], .string("10.145.14.1"))
            XCTAssertEqual(jackson.properties["latitude"], .string("32.29876"))
            XCTAssertEqual(jackson.properties["custom_json"]?.objectValue?["a"], .string("c"))
            XCTAssertNil(jackson.properties["icon"])
            let austin = try Inventory.device(db, named: "Austin")!
            XCTAssertEqual(austin.platform, "arista_eos")
            XCTAssertEqual(austin.port, 2222)
            XCTAssertEqual(try Inventory.device(db, named: "Dallas")!.platform, "juniper_junos")

            XCTAssertEqual(try Inventory.links(db).first?.source, "Austin")
            XCTAssertEqual(try Inventory.links(db).first?.properties["vendor"], .string("Ciena"))

            XCTAssertEqual(try Inventory.poolDevices(db, named: "All devices").count, 3)
            XCTAssertEqual(try Inventory.poolDevices(db, named: "Not Cisco").map(\.name), ["Austin", "Dallas"])
            XCTAssertEqual(try Inventory.poolDevices(db, named: "Hand picked").map(\.name), ["Dallas", "Jackson"])

            let cred = try Credential.fetchOne(db, sql: "SELECT * FROM credential")!
            XCTAssertEqual(cred.priority, 10)
            XCTAssertEqual(cred.pools, ["All devices"])
            XCTAssertEqual(try TempStore.secretsForTests.open(cred.secret), "admin", "eNMS base64 private properties are decoded")

            let cli = try Inventory.service(db, named: "[wf] show vrf")!
            XCTAssertEqual(cli.kind, .cli)
            XCTAssertEqual(cli.parameters["commands"], .array([.string("show vrf"), .string("show ip route")]))
            XCTAssertEqual(cli.retries, 2)
            XCTAssertEqual(cli.timeout, 3.0)
            XCTAssertEqual(cli.devices, ["Austin"])
            XCTAssertEqual(cli.validation["value"], .string("default"))
            XCTAssertEqual(try Inventory.service(db, named: "[wf] backup")?.kind, .backup)

            let wf = try Inventory.service(db, named: "wf")!
            let nodes = try Inventory.workflowNodes(db, workflowId: wf.id!)
            XCTAssertEqual(nodes.count, 4, "start, end, show vrf, backup; python was skipped")
            let start = try Inventory.service(db, named: "[Shared] Start")!
            XCTAssertEqual(nodes.first(where: \.isStart)?.serviceId, start.id)
            XCTAssertEqual(try Inventory.workflowEdges(db, workflowId: wf.id!).count, 3)

            let poller = try ScheduledTask.fetchOne(db, sql: "SELECT * FROM task WHERE name = 'Configuration Poller'")!
            XCTAssertEqual(poller.intervalSeconds, 3600)
            XCTAssertEqual(poller.serviceId, wf.id)
            XCTAssertFalse(poller.active)
            let nightly = try ScheduledTask.fetchOne(db, sql: "SELECT * FROM task WHERE name = 'nightly'")!
            XCTAssertEqual(nightly.scheduleKind, .cron)
            XCTAssertEqual(nightly.cron, "0 2 * * *")
            XCTAssertTrue(nightly.active)
            XCTAssertNil(try ScheduledTask.fetchOne(db, sql: "SELECT * FROM task WHERE name = 'task7'")!.serviceId)
        }
    }

    func testReimportIsIdempotent() throws {
        let t = try TempStore()
        let dir = try folder(t, all)
        try t.importFiles([dir])
        let before = try t.contentDigest()
        let report = try t.importFiles([dir])
        XCTAssertNil(report.created["device"])
        XCTAssertEqual(report.updated["device"], 3)
        XCTAssertEqual(try t.contentDigest(), before)
    }

    func testBrokenFileImportsNothingAndNamesFileAndLine() throws {
        let t = try TempStore()
        try t.importFiles([try folder(t, ["device.yaml": "- {name: keep, ip_address: 192.0.2.1}\n"])])
        let before = try t.contentDigest()
        var files = all
        files["pool.yaml"] = Self.pools + "\n- {name: Bad, device_name: 'x', device_name_match: fuzzy}\n"
        let dir = try folder(t, files)
        XCTAssertThrowsError(try t.importFiles([dir])) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("pool.yaml:"), text)
            XCTAssertTrue(text.contains("pool.yaml:15:"), text)
            XCTAssertTrue(text.contains("fuzzy"), text)
        }
        XCTAssertEqual(try t.contentDigest(), before)
    }

    func testYAMLSyntaxErrorNamesTheLine() throws {
        let t = try TempStore()
        let dir = try folder(t, ["device.yaml": "- {name: a}\n- {name: b\n- name: c\n"])
        XCTAssertThrowsError(try t.importFiles([dir])) { error in
            XCTAssertTrue("\(error)".contains("device.yaml:"), "\(error)")
            XCTAssertTrue("\(error)".contains("YAML syntax error"), "\(error)")
        }
    }

    func testBadPortIsAnErrorNamingRecordAndLine() throws {
        let t = try TempStore()
        let dir = try folder(t, ["device.yaml": "- {name: a}\n- {name: b, port: twenty-two}\n"])
        XCTAssertThrowsError(try t.importFiles([dir])) { error in
            XCTAssertTrue("\(error)".contains("device.yaml:2"), "\(error)")
            XCTAssertTrue("\(error)".contains("twenty-two"), "\(error)")
        }
        XCTAssertEqual(try t.database.writer.read { try Inventory.devices($0).count }, 0)
    }

    func testLinkToUnknownDeviceIsSkippedAndTheRestImports() throws {
        let t = try TempStore()
        let dir = try folder(t, ["device.yaml": Self.devicesPlain, "link.yaml": "- {name: l, source: Austin, destination: Nowhere}\n"])
        let report = try t.importFiles([dir])
        XCTAssertEqual(report.created["device"], 3)
        XCTAssertEqual(report.skippedRecords["link"], 1)
        XCTAssertEqual(report.skipped.map(\.message), ["\(dir)/link.yaml:1: link 'l' skipped: destination device 'Nowhere' does not exist"])
        XCTAssertEqual(try t.database.writer.read { try Inventory.links($0).count }, 0)
    }

    /// Shapes seen in eNMS's own example exports of 2020 and 2022.
    func testOlderAndNewerEnmsShapes() throws {
        let t = try TempStore()
        let devices = """
            - {name: 'Router behind Gateway 1, 2 and 3', ip_address: "192.168.56.50\\t", operating_system: IOS}
            - {name: r2, ip_address: 192.0.2.2}
            """
        let pools = """
            - {name: Old all, operator: all, device_name: '', device_name_match: inclusion, device_number: 28, link_name: '', link_name_match: inclusion}
            - {name: Old named, operator: all, device_name: r2, device_name_match: equality, device_number: 1}
            - {name: New empty, device_name: '', device_name_match: inclusion, device_name_invert: false, site_name: 'x', site_name_match: regex, device_number: 0}
            """
        let services = """
            - {name: cluster_monitoring, type: swiss_army_knife_service}
            - {name: check, type: netmiko_validation_service, command: show version, content_match: IOS}
            - {name: wf, type: workflow, run_method: per_service_with_workflow_targets, services: [check, cluster_monitoring]}
            """
        let tasks = "- {name: Cluster Monitoring, service: cluster_monitoring, frequency: 15, frequency_unit: seconds, scheduling_mode: standard}\n"
        let dir = try folder(t, ["device.yaml": devices, "pool.yaml": pools, "service.yaml": services, "task.yaml": tasks])
        let report = try t.importFiles([dir])
        XCTAssertEqual(report.warnings["pool.yaml: skipped site criteria (pools here hold devices only)"], 1)
        XCTAssertEqual(report.warnings["task.yaml: tasks whose service was skipped (imported without a service, never fire)"], 1)
        try t.database.writer.read { db in
            let gw = try Inventory.device(db, named: "Router behind Gateway 1, 2 and 3")!
            XCTAssertEqual(gw.address, "192.168.56.50", "white space around addresses is trimmed")
            XCTAssertEqual(try Inventory.pool(db, named: "Old all")?.memberCount, 2, "pre-4.0 pools without device criteria held every device")
            XCTAssertEqual(try Inventory.poolDeviceNames(db, named: "Old named"), ["r2"], "device_number is a count, not a criterion")
            XCTAssertEqual(try Inventory.pool(db, named: "New empty")?.memberCount, 0)
            let check = try Inventory.service(db, named: "check")!
            XCTAssertEqual(check.kind, .cli)
            XCTAssertEqual(check.parameters["commands"], .array([.string("show version")]))
            XCTAssertEqual(try Inventory.service(db, named: "wf")?.traversal, "service")
            let task = try ScheduledTask.fetchOne(db, sql: "SELECT * FROM task")!
            XCTAssertNil(task.serviceId)
            XCTAssertFalse(task.active)
        }
    }

    /// The shape of eNMS's model_scalability set, scaled down: name-only devices, regex pools,
    /// thousands of identical `.*` pools, name-only tasks, workflows without edges.
    func testModelScalabilityShape() throws {
        let t = try TempStore()
        var devices = "", pools = "", services = "", tasks = ""
        for i in 1...2000 { devices += "- {name: d\(i)}\n" }
        for i in 0..<1001 {
            let k = i / 100
            pools += "- {device_name: 'd[\(max(0, k - 1))-\(min(9, k + 1))]\\d{3}', device_name_match: regex, name: Pool \(i)}\n"
        }
        for i in 1001...5000 { pools += "- {device_name: .*, device_name_match: regex, name: Pool \(i)}\n" }
        services += "- {name: '[Shared] Start', scoped_name: Start, shared: true, type: swiss_army_knife_service}\n"
        for i in 1...300 { services += "- {name: '[Shared] s\(i)', scoped_name: s\(i), shared: true, type: netmiko_configuration_service}\n" }
        services += "- name: w1\n  scoped_name: w1\n  services: ['[Shared] s45', '[Shared] s7']\n  shared: false\n  type: workflow\n"
        for i in 1...200 { tasks += "- {name: task\(i)}\n" }
        let dir = try folder(t, ["device.yaml": devices, "pool.yaml": pools, "service.yaml": services, "task.yaml": tasks])
        let report = try t.importFiles([dir])
        XCTAssertEqual(report.created["device"], 2000)
        XCTAssertEqual(report.created["pool"], 5001)
        XCTAssertEqual(report.created["task"], 200)
        try t.database.writer.read { db in
            XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM member_set"), 12, "11 regex shapes and one .* set shared by 4,000 pools")
            XCTAssertEqual(try Inventory.pool(db, named: "Pool 4000")?.memberCount, 2000)
            // d[0-1]\d{3} is unanchored: d1000..d1999 match, d1..d999 do not.
            XCTAssertEqual(try Inventory.pool(db, named: "Pool 0")?.memberCount, 1000)
            XCTAssertEqual(try Inventory.poolDevices(db, named: "Pool 0").first?.name, "d1000")
        }
    }
}

extension TempStore {
    /// TempStore's fixed key, for tests that open secrets.
    static let secretsForTests = SecretBox(key: .init(data: Data(repeating: 7, count: 32)))
}
