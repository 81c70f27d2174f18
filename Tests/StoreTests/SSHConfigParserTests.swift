import XCTest
@testable import Store

final class SSHConfigParserTests: XCTestCase {
    /// A throwaway home directory with a `.ssh` folder, so `~` and relative Includes stay inside it.
    private var home = ""

    override func setUpWithError() throws {
        home = NSTemporaryDirectory() + "sshconfig-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: home + "/.ssh/config.d", withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: home)
    }

    @discardableResult
    private func write(_ relative: String, _ text: String) throws -> String {
        let path = home + "/" + relative
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    private func parse(_ relative: String) throws -> InventoryDocument {
        try SSHConfigParser.parse(path: home + "/" + relative, home: home, user: "localme")
    }

    private func device(_ doc: InventoryDocument, _ name: String, file: StaticString = #filePath, line: UInt = #line) throws -> Device {
        try XCTUnwrap(doc.devices.first { $0.device.name == name }?.device, "no device \(name)", file: file, line: line)
    }

    private func errorMessage(_ relative: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            _ = try parse(relative)
            XCTFail("expected an import error", file: file, line: line)
        } catch let error as StoreError {
            XCTAssertEqual(error.kind, .importFile, file: file, line: line)
            return error.message
        } catch {
            XCTFail("unexpected error \(error)", file: file, line: line)
        }
        return ""
    }

    // MARK: A realistic config

    private func writeMainConfig() throws {
        try write(".ssh/config", """
        # Global options before any Host apply to every host.
        ServerAliveInterval 30

        Include config.d/*.conf

        Host bastion
            HostName bastion.example.com
            User jump
            IdentityFile ~/.ssh/id_bastion
            ProxyJump none

        Host core1 core2
            HOSTNAME %h.mgmt.example.com

        Host core*
            ProxyJump bastion
            user netops

        Host edge
            HostName=192.0.2.50
            Port = 2222
            ProxyJump jump@hop1.example.com:2200,bastion

        Host direct
            HostName 192.0.2.99
            ProxyJump none

        Match exec "test -f /nonexistent"
            User matchuser
            IdentityFile ~/.ssh/match_key

        Host *.corp !skip.corp
            User corpuser

        Host *
            User admin
            IdentityFile ~/.ssh/id_ed25519
            Port 2200
            ProxyJump defaultjump
        """)
        try write(".ssh/config.d/10-lab.conf", """
        Host lab1
          HostName 10.10.0.1
          IdentityFile "~/.ssh/lab key"   # quoted, with a space
        """)
        try write(".ssh/config.d/20-more.conf", "Host lab2\n  HostName 10.10.0.2\n")
    }

    func testDevicesWithFirstMatchWins() throws {
        try writeMainConfig()
        let doc = try parse(".ssh/config")
        // Included hosts come where the Include sits; wildcard-only blocks are not devices.
        XCTAssertEqual(doc.devices.map(\.device.name), ["lab1", "lab2", "bastion", "core1", "core2", "edge", "direct"])
        XCTAssertTrue(doc.devices.allSatisfy { $0.device.platform == "autodetect" }, "ssh_config names no platform")

        let lab1 = try device(doc, "lab1")
        XCTAssertEqual(lab1.address, "10.10.0.1")
        XCTAssertEqual(lab1.port, 2200, "from the Host * defaults")
        XCTAssertEqual(lab1.jump, "defaultjump")
        XCTAssertEqual(doc.devices[0].at, SourceLocation(file: home + "/.ssh/config.d/10-lab.conf", line: 1))

        let bastion = try device(doc, "bastion")
        XCTAssertEqual(bastion.address, "bastion.example.com")
        XCTAssertEqual(bastion.jump, "", "ProxyJump none set first wins over the default")

        let core2 = try device(doc, "core2")
        XCTAssertEqual(core2.address, "core2.mgmt.example.com", "%h expands to the alias")
        XCTAssertEqual(core2.jump, "bastion", "the core* block comes before Host *")
        XCTAssertEqual(core2.port, 2200)

        let edge = try device(doc, "edge")
        XCTAssertEqual(edge.address, "192.0.2.50")
        XCTAssertEqual(edge.port, 2222, "the first Port seen wins over Host *")
        XCTAssertEqual(edge.jump, "jump@hop1.example.com:2200,bastion")

        XCTAssertEqual(try device(doc, "direct").jump, "")
        XCTAssertEqual(try device(doc, "lab2").address, "10.10.0.2")
    }

    func testCredentialsPerUserAndKey() throws {
        try writeMainConfig()
        let doc = try parse(".ssh/config")
        let creds = doc.credentials.map(\.credential)
        // IdentityFile accumulates across matching blocks; each distinct (user, key) is one credential.
        XCTAssertEqual(creds.map(\.name), [
            "ssh-config admin lab key", "ssh-config admin id_ed25519",
            "ssh-config jump id_bastion", "ssh-config jump id_ed25519",
            "ssh-config netops id_ed25519",
        ])
        let lab = creds[0]
        XCTAssertEqual(lab.username, "admin")
        XCTAssertEqual(lab.secretKind, .keyFile)
        XCTAssertEqual(lab.keyFile, home + "/.ssh/lab key", "~ expanded, quotes removed")
        XCTAssertEqual(lab.secret, "")
        XCTAssertFalse(creds.contains { $0.username == "matchuser" || $0.username == "corpuser" })
        XCTAssertEqual(doc.credentials[2].at, SourceLocation(file: home + "/.ssh/config", line: 9))
    }

    func testWarnings() throws {
        try writeMainConfig()
        let doc = try parse(".ssh/config")
        XCTAssertEqual(doc.warnings["skipped Match block (its conditions cannot be evaluated on import)"], 1)
        XCTAssertEqual(doc.warnings["ssh_config option ServerAliveInterval not imported"], 1)
    }

    func testDefaultUserIsTheLocalUser() throws {
        try write("cfg", "Host r1\n  IdentityFile /keys/r1.pem\n")
        let doc = try parse("cfg")
        XCTAssertEqual(doc.credentials.map(\.credential.username), ["localme"])
        XCTAssertEqual(doc.credentials.first?.credential.name, "ssh-config localme r1.pem")
        XCTAssertEqual(try device(doc, "r1").address, "r1", "no HostName: the alias")
        XCTAssertEqual(try device(doc, "r1").port, 22)
    }

    // MARK: Include

    func testIncludeInsideHostBlockIsConditional() throws {
        try write(".ssh/extra.conf", "User onlyfoo\nPort 2022\n")
        try write(".ssh/config", "Host foo\n  Include extra.conf\nHost bar\n  HostName 10.0.0.2\nHost foo bar\n  IdentityFile ~/k\n")
        let doc = try parse(".ssh/config")
        XCTAssertEqual(try device(doc, "foo").port, 2022)
        XCTAssertEqual(try device(doc, "bar").port, 22)
        XCTAssertEqual(doc.credentials.map(\.credential.username), ["onlyfoo", "localme"])
    }

    func testIncludeAbsoluteAndNested() throws {
        let inner = try write(".ssh/config.d/inner", "Host deep\n  HostName 10.9.9.9\n")
        try write(".ssh/config.d/middle", "Include \(inner)\n")
        try write(".ssh/config", "Include ~/.ssh/config.d/middle\nInclude nothing-here-*.conf\n")
        let doc = try parse(".ssh/config")
        XCTAssertEqual(try device(doc, "deep").address, "10.9.9.9")
        XCTAssertEqual(doc.warnings["Include nothing-here-*.conf matched no files"], 1)
    }

    func testIncludeLoopIsAnError() throws {
        try write(".ssh/a.conf", "Host a\nInclude b.conf\n")
        try write(".ssh/b.conf", "\n\nInclude a.conf\n")
        let message = errorMessage(".ssh/a.conf")
        XCTAssertTrue(message.hasPrefix(home + "/.ssh/b.conf:3: "), message)
        XCTAssertTrue(message.contains("Include loop"), message)
    }

    // MARK: Errors

    func testBadPortNamesFileAndLine() throws {
        try write("cfg", "Host r1\n  HostName 10.0.0.1\n  Port 99999\n")
        let message = errorMessage("cfg")
        XCTAssertTrue(message.hasPrefix(home + "/cfg:3: "), message)
        XCTAssertTrue(message.contains("Port") && message.contains("99999"), message)

        // Even in a wildcard block, and in the Key=Value form.
        try write("cfg2", "Host *\n\n  Port=ssh\nHost r1\n")
        XCTAssertTrue(errorMessage("cfg2").hasPrefix(home + "/cfg2:3: "))
    }

    func testBadProxyJump() throws {
        try write("cfg", "Host r1\n  ProxyJump ops@:22\n")
        XCTAssertTrue(errorMessage("cfg").hasPrefix(home + "/cfg:2: "))
        try write("cfg2", "Host r1\n  ProxyJump hop1:99999\n")
        XCTAssertTrue(errorMessage("cfg2").contains("99999"))
    }

    func testProxyJumpForms() throws {
        try write("cfg", """
        Host a
          ProxyJump ssh://ops@hop1:2201, hop2
        Host b
          ProxyJump [2001:db8::1]:22
        """)
        let doc = try parse("cfg")
        XCTAssertEqual(try device(doc, "a").jump, "ops@hop1:2201,hop2")
        XCTAssertEqual(try device(doc, "b").jump, "[2001:db8::1]:22")
    }

    func testQuotingEscapesAndComments() throws {
        try write("cfg", #"""
        host q1   # keywords are case-insensitive; a comment after the pattern
          IDENTITYFILE='/keys/single quoted'
        Host q2
          IdentityFile=/keys/escaped\ space
        Host q3
          IdentityFile /keys/back\slash "/keys/second one"
        """#)
        let doc = try parse("cfg")
        XCTAssertEqual(doc.devices.map(\.device.name), ["q1", "q2", "q3"])
        XCTAssertEqual(doc.credentials.map(\.credential.keyFile), [
            "/keys/single quoted", "/keys/escaped space", "/keys/back\\slash", "/keys/second one",
        ])
        try write("bad", "Host r1\n  User \"unterminated\n")
        XCTAssertTrue(errorMessage("bad").hasPrefix(home + "/bad:2: "))
    }

    // MARK: Detection

    func testLooksLikeSSHConfig() {
        XCTAssertTrue(SSHConfigParser.looksLikeSSHConfig(text: "# mine\nHost r1\n  HostName 10.0.0.1\n  User admin\n"))
        XCTAssertTrue(SSHConfigParser.looksLikeSSHConfig(text: "Include config.d/*\n"))
        XCTAssertFalse(SSHConfigParser.looksLikeSSHConfig(text: "[routers]\nr1 ansible_host=10.0.0.1\n"))
        XCTAssertFalse(SSHConfigParser.looksLikeSSHConfig(text: "HostName x\nUser y\n"), "no Host, Match or Include")
        XCTAssertFalse(SSHConfigParser.looksLikeSSHConfig(text: "name,address\nr1,10.0.0.1\n"))
    }
}
