import XCTest
@testable import Store

final class AnsibleInventoryParserTests: XCTestCase {

    // MARK: Helpers

    private func device(_ doc: InventoryDocument, _ name: String, file: StaticString = #filePath, line: UInt = #line) throws -> Device {
        try XCTUnwrap(doc.devices.first { $0.device.name == name }?.device, "no device \(name)", file: file, line: line)
    }

    private func pool(_ doc: InventoryDocument, _ name: String, file: StaticString = #filePath, line: UInt = #line) throws -> InventoryDocument.PoolEntry {
        try XCTUnwrap(doc.pools.first { $0.pool.name == name }, "no pool \(name)", file: file, line: line)
    }

    /// Runs `parse` expecting an import error, and returns its message.
    private func errorMessage(_ text: String, file name: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            _ = try AnsibleInventoryParser.parse(text: text, file: name)
            XCTFail("expected an import error", file: file, line: line)
            return ""
        } catch let error as StoreError {
            XCTAssertEqual(error.kind, .importFile, file: file, line: line)
            return error.message
        } catch {
            XCTFail("unexpected error \(error)", file: file, line: line)
            return ""
        }
    }

    // MARK: INI

    static let ini = """
    # Lab inventory
    ; hosts before any section are ungrouped
    bastion ansible_host=10.0.0.1

    [core]
    core-sw[01:03].example.com ansible_network_os=cisco.nxos.nxos
    edge1 ansible_host="192.0.2.10" ansible_port=2222 site='Paris DC' rack=12  # trailing comment

    [access]
    acc-[a:c] ansible_network_os=ios
    edge1 role=access

    [juniper]
    mx1:830 ansible_network_os=junos

    [dc:children]
    core
    access

    [dc:vars]
    ntp_server=10.1.1.1
    snmp_community = "public"   # quoted, with a comment
    site=London

    [core:vars]
    site=Core-Site

    [all:vars]
    ansible_user=netops
    timeout=30
    """

    func testINIDevicesFieldsAndOrder() throws {
        let doc = try AnsibleInventoryParser.parse(text: Self.ini, file: "hosts.ini")
        XCTAssertEqual(doc.devices.map(\.device.name), [
            "bastion", "core-sw01.example.com", "core-sw02.example.com", "core-sw03.example.com", "edge1",
            "acc-a", "acc-b", "acc-c", "mx1",
        ])
        // A host in two groups is one device, located at its first line.
        XCTAssertEqual(doc.devices.filter { $0.device.name == "edge1" }.count, 1)
        XCTAssertEqual(doc.devices.first { $0.device.name == "edge1" }?.at, SourceLocation(file: "hosts.ini", line: 7))

        let bastion = try device(doc, "bastion")
        XCTAssertEqual(bastion.address, "10.0.0.1")
        XCTAssertEqual(bastion.port, 22)
        XCTAssertEqual(bastion.platform, "autodetect", "no ansible_network_os: detected on connection")
        XCTAssertEqual(bastion.properties["ansible_user"], .string("netops"))
        XCTAssertNil(bastion.properties["ansible_host"], "consumed vars are not repeated as properties")

        let core = try device(doc, "core-sw02.example.com")
        XCTAssertEqual(core.address, "core-sw02.example.com", "no ansible_host: the inventory name is the address")
        XCTAssertEqual(core.platform, "cisco_nxos")
        XCTAssertEqual(core.properties["ntp_server"], .string("10.1.1.1"))
        XCTAssertEqual(core.properties["snmp_community"], .string("public"))
        XCTAssertEqual(core.properties["timeout"], .int(30))

        let edge = try device(doc, "edge1")
        XCTAssertEqual(edge.address, "192.0.2.10")
        XCTAssertEqual(edge.port, 2222)
        XCTAssertEqual(edge.platform, "autodetect")
        XCTAssertEqual(edge.properties["rack"], .int(12))
        XCTAssertEqual(edge.properties["role"], .string("access"))

        let mx = try device(doc, "mx1")
        XCTAssertEqual(mx.port, 830, "host:port on the host line")
        XCTAssertEqual(mx.platform, "juniper_junos")
        XCTAssertEqual(try device(doc, "acc-b").platform, "cisco_ios")
        XCTAssertTrue(doc.warnings.isEmpty, "\(doc.warnings)")
    }

    func testINIVariablePrecedence() throws {
        let doc = try AnsibleInventoryParser.parse(text: Self.ini, file: "hosts.ini")
        // core is a child of dc, so its site wins over dc's; a host var wins over both.
        XCTAssertEqual(try device(doc, "core-sw01.example.com").properties["site"], .string("Core-Site"))
        XCTAssertEqual(try device(doc, "acc-a").properties["site"], .string("London"))
        XCTAssertEqual(try device(doc, "edge1").properties["site"], .string("Paris DC"))
        // Groups outside dc do not get dc's vars; every host gets all's.
        XCTAssertNil(try device(doc, "mx1").properties["ntp_server"])
        XCTAssertEqual(try device(doc, "mx1").properties["ansible_user"], .string("netops"))
    }

    func testINIPools() throws {
        let doc = try AnsibleInventoryParser.parse(text: Self.ini, file: "hosts.ini")
        XCTAssertEqual(doc.pools.map(\.pool.name).sorted(), ["access", "core", "dc", "juniper"],
                       "all and ungrouped are not pools")
        let core = try pool(doc, "core")
        XCTAssertEqual(core.manualDevices, ["core-sw01.example.com", "core-sw02.example.com", "core-sw03.example.com", "edge1"])
        XCTAssertTrue(core.pool.criteria.isEmpty)
        XCTAssertEqual(core.at, SourceLocation(file: "hosts.ini", line: 5))
        // A parent pool holds its children's hosts, transitively and without repeats.
        XCTAssertEqual(try pool(doc, "dc").manualDevices, [
            "core-sw01.example.com", "core-sw02.example.com", "core-sw03.example.com", "edge1", "acc-a", "acc-b", "acc-c",
        ])
        XCTAssertEqual(try pool(doc, "juniper").manualDevices, ["mx1"])
    }

    func testINIValueTyping() throws {
        let text = """
        [g]
        r1 a=22 b="22" c=True d=1.5 e=['x','y'] f="two words" g=None h=0755 i={'k':1}
        """
        let r1 = try device(try AnsibleInventoryParser.parse(text: text, file: "inv"), "r1")
        XCTAssertEqual(r1.properties["a"], .int(22))
        XCTAssertEqual(r1.properties["b"], .string("22"), "quoted values stay text")
        XCTAssertEqual(r1.properties["c"], .bool(true))
        XCTAssertEqual(r1.properties["d"], .double(1.5))
        XCTAssertEqual(r1.properties["e"], .array([.string("x"), .string("y")]))
        XCTAssertEqual(r1.properties["f"], .string("two words"))
        XCTAssertEqual(r1.properties["g"], .null)
        XCTAssertEqual(r1.properties["h"], .string("0755"), "not a Python literal, so text")
        XCTAssertEqual(r1.properties["i"], .object(["k": .int(1)]))
    }

    func testNetworkOSMapping() throws {
        let cases: [(String, String)] = [
            ("ios", "cisco_ios"), ("cisco.ios.ios", "cisco_ios"), ("nxos", "cisco_nxos"),
            ("cisco.nxos.nxos", "cisco_nxos"), ("eos", "arista_eos"), ("arista.eos.eos", "arista_eos"),
            ("junos", "juniper_junos"), ("junipernetworks.junos.junos", "juniper_junos"),
        ]
        let text = "[g]\n" + cases.enumerated().map { "h\($0.offset) ansible_network_os=\($0.element.0)" }.joined(separator: "\n")
            + "\nplain\nodd ansible_network_os=acme.os.os\n"
        let doc = try AnsibleInventoryParser.parse(text: text, file: "inv")
        for (i, (_, platform)) in cases.enumerated() {
            XCTAssertEqual(try device(doc, "h\(i)").platform, platform, cases[i].0)
        }
        XCTAssertEqual(try device(doc, "plain").platform, "autodetect")
        // An unknown OS is kept, not guessed, and the engineer is told.
        XCTAssertEqual(try device(doc, "odd").platform, "acme.os.os")
        XCTAssertEqual(doc.warnings["ansible_network_os 'acme.os.os' has no known platform; kept as is"], 1)
    }

    func testHostRanges() throws {
        func names(_ pattern: String) throws -> [String] { try AnsibleHostPattern.expand(pattern).names }
        let ten = try names("sw[01:10].example.com")
        XCTAssertEqual(ten.count, 10)
        XCTAssertEqual(ten.first, "sw01.example.com")
        XCTAssertEqual(ten.last, "sw10.example.com")
        XCTAssertEqual(try names("r[1:3]"), ["r1", "r2", "r3"])
        XCTAssertEqual(try names("r[a:c]"), ["ra", "rb", "rc"])
        XCTAssertEqual(try names("r[0:10:5]"), ["r0", "r5", "r10"])
        XCTAssertEqual(try names("r[:2]"), ["r0", "r1", "r2"])
        XCTAssertEqual(try names("p[1:2]-[a:b]"), ["p1-a", "p1-b", "p2-a", "p2-b"])
        XCTAssertEqual(try AnsibleHostPattern.expand("r[1:2]:2200").port, 2200)
        XCTAssertEqual(try AnsibleHostPattern.expand("2001:db8::1").names, ["2001:db8::1"])
        let v6 = try AnsibleHostPattern.expand("[2001:db8::1]:2222")
        XCTAssertEqual(v6.names, ["2001:db8::1"])
        XCTAssertEqual(v6.port, 2222)
        for bad in ["r[3:1]", "r[1:]", "r[1:2", "r[a:5]", "r[01:100]", "r[1:2:0]", "r1]", "r:99999", "r:ssh"] {
            XCTAssertThrowsError(try AnsibleHostPattern.expand(bad), bad)
        }
    }

    // MARK: INI errors

    func testINIBadRangeNamesLineAndHost() {
        let message = errorMessage("[core]\nok1\nsw[05:01].lab\n", file: "inv.ini")
        XCTAssertTrue(message.hasPrefix("inv.ini:3: "), message)
        XCTAssertTrue(message.contains("sw[05:01].lab"), message)
    }

    func testINIMalformedHostLine() {
        let message = errorMessage("[core]\nr1 ansible_host=1.2.3.4\nr2 ansible_host\n", file: "inv.ini")
        XCTAssertTrue(message.hasPrefix("inv.ini:3: "), message)
        XCTAssertTrue(message.contains("r2"), message)
        XCTAssertTrue(message.contains("key=value"), message)
        // Windows line ends count as one line each.
        XCTAssertTrue(errorMessage("[core]\r\nr1\r\nr2 oops\r\n", file: "inv.ini").hasPrefix("inv.ini:3: "))
    }

    func testINIBadPortNamesTheLineThatSetIt() {
        var message = errorMessage("[g]\nr1\nr2 ansible_port=70000\n", file: "inv.ini")
        XCTAssertTrue(message.hasPrefix("inv.ini:3: "), message)
        XCTAssertTrue(message.contains("r2") && message.contains("70000"), message)
        // Set in group vars: the error points at the vars line, and names the host it broke.
        message = errorMessage("[g]\nr1\n\n[g:vars]\nansible_port=ssh\n", file: "inv.ini")
        XCTAssertTrue(message.hasPrefix("inv.ini:5: "), message)
        XCTAssertTrue(message.contains("host r1"), message)
    }

    func testINIStructuralErrors() {
        XCTAssertTrue(errorMessage("[p:children]\nmissing\n", file: "i").contains("undefined group missing"))
        XCTAssertTrue(errorMessage("[x]\nh\n[ghost:vars]\na=1\n", file: "i").hasPrefix("i:3: "))
        XCTAssertTrue(errorMessage("[web servers]\nh\n", file: "i").hasPrefix("i:1: "))
        XCTAssertTrue(errorMessage("[g:things]\nh\n", file: "i").contains("unknown type"))
        XCTAssertTrue(errorMessage("[a:children]\nb\n[b:children]\na\n", file: "i").contains("loop"))
        XCTAssertTrue(errorMessage("[g]\nh note=\"unterminated\n", file: "i").hasPrefix("i:2: "))
    }

    func testSecretsAreNotStoredAsProperties() throws {
        let doc = try AnsibleInventoryParser.parse(text: "[g]\nr1 ansible_password=hunter2 ansible_connection=network_cli\n", file: "i")
        let r1 = try device(doc, "r1")
        XCTAssertNil(r1.properties["ansible_password"])
        XCTAssertEqual(r1.properties["ansible_connection"], .string("network_cli"))
        XCTAssertEqual(doc.warnings["skipped secret variable ansible_password (import credentials separately)"], 1)
    }

    func testJumpFromSSHArgs() throws {
        let doc = try AnsibleInventoryParser.parse(
            text: "[g]\nr1 ansible_ssh_common_args='-o ProxyJump=ops@bastion:2222'\nr2 ansible_ssh_extra_args='-J jump1'\n", file: "i")
        XCTAssertEqual(try device(doc, "r1").jump, "ops@bastion:2222")
        XCTAssertEqual(try device(doc, "r2").jump, "jump1")
    }

    // MARK: YAML

    static let yaml = """
    all:
      vars:
        ansible_user: admin
        domain: example.net
      hosts:
        jumpbox:
          ansible_host: 198.51.100.1
      children:
        network:
          vars:
            ansible_network_os: arista.eos.eos
            syslog: 10.9.9.9
          children:
            spines:
              hosts:
                spine[1:2]:
                  ansible_port: 8022
            leaves:
              vars:
                syslog: 10.8.8.8
              hosts:
                leaf1:
                  ansible_host: 10.0.1.1
                  tags: [a, b]
                  enabled: true
                  note: "22"
                leaf2:
        junipers:
          hosts:
            leaf2:
            srx1:
              ansible_network_os: junipernetworks.junos.junos
              ansible_port: "830"
    """

    func testYAMLDevices() throws {
        let doc = try AnsibleInventoryParser.parse(text: Self.yaml, file: "inventory.yml")
        XCTAssertEqual(doc.devices.map(\.device.name), ["jumpbox", "spine1", "spine2", "leaf1", "leaf2", "srx1"])

        let jumpbox = try device(doc, "jumpbox")
        XCTAssertEqual(jumpbox.address, "198.51.100.1")
        XCTAssertEqual(jumpbox.platform, "autodetect")
        XCTAssertEqual(jumpbox.properties["ansible_user"], .string("admin"))
        XCTAssertEqual(jumpbox.properties["domain"], .string("example.net"))
        XCTAssertNil(jumpbox.properties["syslog"])

        let spine2 = try device(doc, "spine2")
        XCTAssertEqual(spine2.port, 8022)
        XCTAssertEqual(spine2.platform, "arista_eos", "inherited from the grandparent group's vars")
        XCTAssertEqual(spine2.properties["syslog"], .string("10.9.9.9"))
        XCTAssertEqual(doc.devices.first { $0.device.name == "spine2" }?.at.line, 16)

        let leaf1 = try device(doc, "leaf1")
        XCTAssertEqual(leaf1.address, "10.0.1.1")
        XCTAssertEqual(leaf1.properties["syslog"], .string("10.8.8.8"), "the child group overrides its parent")
        XCTAssertEqual(leaf1.properties["tags"], .array([.string("a"), .string("b")]))
        XCTAssertEqual(leaf1.properties["enabled"], .bool(true))
        XCTAssertEqual(leaf1.properties["note"], .string("22"))

        let srx = try device(doc, "srx1")
        XCTAssertEqual(srx.port, 830)
        XCTAssertEqual(srx.platform, "juniper_junos")
        XCTAssertEqual(try device(doc, "leaf2").platform, "arista_eos")
    }

    func testYAMLPools() throws {
        let doc = try AnsibleInventoryParser.parse(text: Self.yaml, file: "inventory.yml")
        XCTAssertEqual(doc.pools.map(\.pool.name), ["network", "spines", "leaves", "junipers"])
        XCTAssertEqual(try pool(doc, "network").manualDevices, ["spine1", "spine2", "leaf1", "leaf2"])
        XCTAssertEqual(try pool(doc, "leaves").manualDevices, ["leaf1", "leaf2"])
        XCTAssertEqual(try pool(doc, "junipers").manualDevices, ["leaf2", "srx1"])
        XCTAssertTrue(doc.pools.allSatisfy { $0.pool.criteria.isEmpty })
    }

    func testYAMLTopLevelGroupsWithoutAll() throws {
        let text = """
        routers:
          hosts:
            r1:
            r2: {ansible_port: 2022}
          vars: {ansible_network_os: ios}
        """
        let doc = try AnsibleInventoryParser.parse(text: text, file: "inv.yaml")
        XCTAssertEqual(doc.devices.map(\.device.name), ["r1", "r2"])
        XCTAssertEqual(try device(doc, "r2").port, 2022)
        XCTAssertEqual(try device(doc, "r1").platform, "cisco_ios")
        XCTAssertEqual(try pool(doc, "routers").manualDevices, ["r1", "r2"])
    }

    func testYAMLWarnings() throws {
        let text = """
        all:
          children:
            g:
              hosts:
                r1:
                  secret: !vault |
                    $ANSIBLE_VAULT;1.1;AES256
                    6162
              comment: not a known key
        """
        let doc = try AnsibleInventoryParser.parse(text: text, file: "inv.yml")
        XCTAssertNil(try device(doc, "r1").properties["secret"])
        XCTAssertEqual(doc.warnings["skipped vault-encrypted variable secret"], 1)
        XCTAssertEqual(doc.warnings.keys.filter { $0.contains("unknown key 'comment'") }.count, 1)
    }

    // MARK: YAML errors

    func testYAMLSyntaxErrorNamesLine() {
        let text = """
        all:
          hosts:
            r1:
              ansible_host: [unclosed
            r2:
        """
        let message = errorMessage(text, file: "inv.yml")
        XCTAssertTrue(message.hasPrefix("inv.yml:"), message)
        XCTAssertTrue(message.contains("YAML syntax error"), message)
        let line = Int(message.dropFirst("inv.yml:".count).prefix { $0.isNumber })
        XCTAssertNotNil(line, message)
        XCTAssertTrue((4...6).contains(line ?? 0), message)
    }

    func testYAMLStructureErrors() {
        var message = errorMessage("web:\n  hosts:\n    - h1\n", file: "inv.yml")
        XCTAssertTrue(message.hasPrefix("inv.yml:3: "), message)
        XCTAssertTrue(message.contains("requires a dictionary"), message)

        message = errorMessage("all:\n  hosts:\n    r1:\n      ansible_port: 0\n", file: "inv.yml")
        XCTAssertTrue(message.hasPrefix("inv.yml:4: "), message)
        XCTAssertTrue(message.contains("host r1"), message)

        message = errorMessage("all:\n  hosts:\n    sw[9:1]:\n", file: "inv.yml")
        XCTAssertTrue(message.hasPrefix("inv.yml:3: "), message)
        XCTAssertTrue(message.contains("sw[9:1]"), message)

        message = errorMessage("plugin: amazon.aws.aws_ec2\nregions: [eu-west-1]\n", file: "aws_ec2.yml")
        XCTAssertTrue(message.contains("--list --yaml"), message)
    }

    // MARK: Detection

    func testLooksLikeAnsible() {
        XCTAssertTrue(AnsibleInventoryParser.looksLikeAnsible(text: Self.ini, fileName: "hosts"))
        XCTAssertTrue(AnsibleInventoryParser.looksLikeAnsible(text: Self.yaml, fileName: "inventory.yml"))
        XCTAssertTrue(AnsibleInventoryParser.looksLikeAnsible(text: "web:\n  hosts:\n    w1:\n", fileName: "x.yaml"))
        XCTAssertFalse(AnsibleInventoryParser.looksLikeAnsible(text: "[defaults]\ninventory = hosts\n", fileName: "ansible.cfg"))
        XCTAssertFalse(AnsibleInventoryParser.looksLikeAnsible(text: "Host r1\n  HostName 10.0.0.1\n", fileName: "config"))
        XCTAssertFalse(AnsibleInventoryParser.looksLikeAnsible(text: "name,address\nr1,10.0.0.1\n", fileName: "d.csv"))
        XCTAssertFalse(AnsibleInventoryParser.looksLikeAnsible(text: "devices:\n  - name: r1\n", fileName: "d.yaml"))
        XCTAssertFalse(AnsibleInventoryParser.looksLikeAnsible(text: "r1\nr2\n", fileName: "list.txt"), "no group header")
    }
}
