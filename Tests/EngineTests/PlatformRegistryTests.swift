@testable import Engine
import Foundation
import Store
import XCTest

/// The platform registry (shipped and user files, aliases, refusals, generic and autodetect), and the
/// pure parts of prompt discovery: what looks like a prompt, its host part, the mode of a literal prompt.
final class PlatformRegistryTests: XCTestCase {
    var shipped: String { TransportTestSupport.platformDirectory }

    func testEveryShippedPlatformHasWhatTheIssueAsksFor() throws {
        let registry = PlatformRegistry.load(directories: [shipped])
        XCTAssertEqual(registry.errors.map(\.description), [])
        XCTAssertEqual(Set(registry.definitions.keys), Set(PlatformCatalog.shippedNames))
        for name in PlatformCatalog.shippedNames where name != "generic" && name != "linux" {
            let d = try XCTUnwrap(registry.definitions[name])
            XCTAssertNotNil(d.prompts[.user], name)
            XCTAssertNotNil(d.backupCommand, "\(name): backup command")
            XCTAssertFalse(d.errorPatterns.isEmpty, "\(name): error patterns")
            XCTAssertNotNil(d.detect, "\(name): detection")
            XCTAssertFalse(d.aliases.isEmpty, "\(name): aliases")
        }
        XCTAssertEqual(registry.definitions["linux"]?.naturalMode, .exec)
        XCTAssertEqual(registry.definitions["cisco_ios"]?.naturalMode, .cli)
        // Aliases: inventories' names for platforms.
        for (alias, platform) in [("ios", "cisco_ios"), ("cisco.ios.ios", "cisco_ios"), ("eos", "arista_eos"), ("junos", "juniper_junos"),
                                  ("nxos", "cisco_nxos"), ("iosxr", "cisco_xr"), ("vrp", "huawei_vrp"), ("routeros", "mikrotik_routeros")] {
            XCTAssertEqual(registry.resolve(alias).definition.name, platform, alias)
            XCTAssertNil(registry.resolve(alias).warning, alias)
        }
        XCTAssertEqual(registry.resolve(" Cisco_IOS ").definition.name, "cisco_ios")
    }

    func testUnknownBrokenAndAutodetectPlatforms() throws {
        let user = try TransportTestSupport.temporaryDirectory("switchboard-user-platforms")
        defer { try? FileManager.default.removeItem(atPath: user) }
        // A user's file replaces the shipped one of the same name; broken ones are refused alone.
        var ios = try String(contentsOfFile: shipped + "/cisco_ios.json", encoding: .utf8)
        ios = ios.replacingOccurrences(of: "\"Cisco IOS and IOS-XE\"", with: "\"my IOS\"")
        try ios.write(toFile: user + "/cisco_ios.json", atomically: true, encoding: .utf8)
        try #"{"name": "badjson", "prompts": {"user": "x"}"#.write(toFile: user + "/badjson.json", atomically: true, encoding: .utf8)
        try #"{"name": "badregex", "prompts": {"user": "^[a-z"}}"#.write(toFile: user + "/badregex.json", atomically: true, encoding: .utf8)
        try #"{"name": "mine", "prompts": {"user": "^mine>$"}, "detect": {"command": "ver", "patterns": ["MineOS"], "priority": 100}}"#
            .write(toFile: user + "/mine.json", atomically: true, encoding: .utf8)
        let registry = PlatformRegistry.load(directories: [user, shipped])
        XCTAssertEqual(registry.definitions["cisco_ios"]?.description, "my IOS")
        let refused = registry.errors.map(\.description).sorted()
        XCTAssertEqual(refused.count, 3, "\(refused)")
        XCTAssertTrue(refused.contains { $0.contains("badjson.json") && $0.contains("malformed JSON") && $0.contains("line 1") }, "\(refused)")
        XCTAssertTrue(refused.contains { $0.contains("badregex.json: prompts.user: not a valid regular expression") }, "\(refused)")
        XCTAssertTrue(refused.contains { $0.contains("mine.json: detect.priority") }, "\(refused)")
        XCTAssertEqual(registry.definitions.count, PlatformCatalog.shippedNames.count, "the others load")

        let broken = registry.resolve("badregex")
        XCTAssertEqual(broken.definition.name, "generic")
        XCTAssertTrue(broken.warning?.contains("was refused") == true, broken.warning ?? "")
        let unknown = registry.resolve("frobos")
        XCTAssertEqual(unknown.definition.name, "generic")
        XCTAssertEqual(unknown.warning, "unknown platform 'frobos'; using generic (the prompt is discovered after login)")
        XCTAssertFalse(unknown.autodetect)
        for name in ["autodetect", "", "  "] {
            XCTAssertTrue(registry.resolve(name).autodetect, "'\(name)'")
            XCTAssertNil(registry.resolve(name).warning)
        }
        // Detection candidates: best priority first; generic is never one.
        let detectable = registry.detectable.map(\.name)
        XCTAssertFalse(detectable.contains("generic"))
        XCTAssertLessThan(try XCTUnwrap(detectable.firstIndex(of: "cisco_xe")), try XCTUnwrap(detectable.firstIndex(of: "cisco_ios")),
                          "IOS-XE output also says Cisco IOS Software: XE is tried first")
    }

    func testBuiltInGenericWhenNoFileProvidesIt() {
        let registry = PlatformRegistry.load(directories: ["/nonexistent"])
        XCTAssertEqual(registry.resolve("anything").definition.name, "generic")
        XCTAssertEqual(registry.definitions["generic"]?.mode(ofPrompt: "junos1>"), .user)
    }

    func testWhatLooksLikeAPromptAndItsHostPart() {
        let terminators = ">#$%]"
        for line in ["R1#", "R1>", "junos1>", "user@host:~$", "<HUAWEI>", "[~HUAWEI]", "[admin@MikroTik] >", "A:admin@router#", "FW01 #"] {
            XCTAssertTrue(CLISession.looksLikePrompt(line, terminators: terminators), line)
        }
        for line in ["", "Building configuration...", "Router> do not type here", String(repeating: "x", count: 200) + "#"] {
            XCTAssertFalse(CLISession.looksLikePrompt(line, terminators: terminators), line)
        }
        let bases = [("R1(config-if)#", "R1"), ("<HUAWEI>", "HUAWEI"), ("[~HUAWEI-GigabitEthernet0/0/1]", "HUAWEI-GigabitEthernet0/0/1"),
                     ("user@host:~$", "user@host"), ("[admin@MikroTik] >", "admin@MikroTik"), ("*A:router#", "A:router"),
                     ("junos1>", "junos1"), ("RP/0/RSP0/CPU0:xr1#", "RP/0/RSP0/CPU0:xr1")]
        for (prompt, base) in bases { XCTAssertEqual(CLISession.promptBase(of: prompt), base, prompt) }
    }

    func testTheModeOfALiteralPrompt() throws {
        let registry = PlatformRegistry.load(directories: [shipped])
        let ios = try XCTUnwrap(registry.definitions["cisco_ios"])
        let junos = try XCTUnwrap(registry.definitions["juniper_junos"])
        let generic = try XCTUnwrap(registry.definitions["generic"])
        XCTAssertEqual(CLISession.literalMode(of: "junos1>", base: "junos1", platform: junos), .user)
        XCTAssertEqual(CLISession.literalMode(of: "junos1#", base: "junos1", platform: junos), .config, "Junos has no enable: # is configuration")
        XCTAssertEqual(CLISession.literalMode(of: "sw 1#", base: "sw", platform: ios), .enable)
        XCTAssertEqual(CLISession.literalMode(of: "sw 1(config)#", base: "sw", platform: ios), .config)
        XCTAssertEqual(CLISession.literalMode(of: "[~HW]", base: "HW", platform: generic), .config)
        XCTAssertNil(CLISession.literalMode(of: "other#", base: "junos1", platform: junos), "another host's prompt")
        XCTAssertNil(CLISession.literalMode(of: "junos1 is up and running, load average 0.1 and more text to make it long >", base: "junos1", platform: junos))
    }

    func testTimeoutsNameWhatWasAwaitedAndTheLastLine() {
        let error = SSHError.timeout(host: "10.0.0.1", port: 22, phase: .prompt, seconds: 30, detail: "the first prompt")
        let named = CLISession.withLastLine(error, awaited: "a prompt", lastLine: "Press any key to continue")
        XCTAssertEqual(named.description, "10.0.0.1:22: waiting for the prompt (the first prompt; awaited a prompt; last line received: \"Press any key to continue\") timed out after 30 s")
    }
}
