@testable import Engine
import Foundation
import Store
import XCTest

/// Platform files: loading, validation, prompt/pager/error matching, terminal text cleaning.
final class PlatformTests: XCTestCase {
    func testShippedPlatformsLoadAndValidate() throws {
        let all = try PlatformCatalog.loadAll(directory: TransportTestSupport.platformDirectory)
        XCTAssertEqual(Set(all.keys), Set(PlatformCatalog.shippedNames))
        for name in PlatformCatalog.shippedNames {
            let platform = try XCTUnwrap(all[name])
            XCTAssertNotNil(platform.prompts[.user], name)
            XCTAssertEqual(platform.sourcePath, TransportTestSupport.platformDirectory + "/\(name).json")
        }
    }

    func testLocatedLikeTheOtherSetupFiles() throws {
        let setup = (TransportTestSupport.platformDirectory as NSString).deletingLastPathComponent
        let platform = try PlatformCatalog.load("arista_eos", environment: ["SWITCHBOARD_SETUP_DIR": setup])
        XCTAssertEqual(platform.name, "arista_eos")
        XCTAssertEqual(SettingsLoader.locateSetupFile("platforms/arista_eos.json", environment: ["SWITCHBOARD_SETUP_DIR": setup]),
                       platform.sourcePath)
        XCTAssertThrowsError(try PlatformCatalog.load("no_such_os", environment: ["SWITCHBOARD_SETUP_DIR": setup])) {
            XCTAssertTrue("\($0)".contains("platforms/no_such_os.json"), "\($0)")
        }
        XCTAssertThrowsError(try PlatformCatalog.load("../etc/passwd", environment: [:]))
    }

    func testPromptsOfEachPlatform() throws {
        let dir = TransportTestSupport.platformDirectory
        let cases: [(String, String, PlatformDefinition.Mode?)] = [
            ("cisco_ios", "par-acc1>", .user), ("cisco_ios", "par-acc1#", .enable), ("cisco_ios", "par-acc1(config)#", .config),
            ("cisco_ios", "par-acc1(config-if)#", .config), ("cisco_ios", "Building configuration...", nil),
            ("cisco_ios", "ip access-list extended LAB-BULK-00001", nil), ("cisco_ios", " --More-- ", nil),
            ("cisco_nxos", "lab-0024#", .enable), ("cisco_nxos", "lab-0024(config-if)# ", .config),
            ("arista_eos", "par-dist1>", .user), ("arista_eos", "par-dist1(config-if-Et1)#", .config),
            ("juniper_junos", "sblab@par-core1> ", .user), ("juniper_junos", "sblab@par-core1# ", .config),
            ("juniper_junos", "[edit]", nil),
            ("linux", "sblab@bastion:~$ ", .user), ("linux", "root@bastion:/etc# ", .enable), ("linux", "uid=1000(sblab)", nil),
        ]
        for (name, line, expected) in cases {
            let platform = try PlatformCatalog.load(name, directory: dir)
            XCTAssertEqual(platform.mode(ofPrompt: line), expected, "\(name): \(line)")
        }
    }

    func testPagersAndErrors() throws {
        let dir = TransportTestSupport.platformDirectory
        let ios = try PlatformCatalog.load("cisco_ios", directory: dir)
        XCTAssertTrue(ios.isPagerPrompt(" --More-- "))
        XCTAssertFalse(ios.isPagerPrompt("par-acc1#"))
        let junos = try PlatformCatalog.load("juniper_junos", directory: dir)
        XCTAssertTrue(junos.isPagerPrompt("---(more)---"))
        XCTAssertTrue(junos.isPagerPrompt("---(more 45%)---"))

        XCTAssertEqual(ios.rejection(in: "                ^\n% Invalid input detected at '^' marker.\n"),
                       "% Invalid input detected at '^' marker.")
        XCTAssertNil(ios.rejection(in: "Cisco IOS Software, Version 15.9\nInvalid input counters: 0\n"))
        XCTAssertEqual(junos.rejection(in: "              ^\nunknown command.\n"), "unknown command.")
        let linux = try PlatformCatalog.load("linux", directory: dir)
        XCTAssertEqual(linux.rejection(in: "-bash: foo: command not found\n"), "-bash: foo: command not found")
        // A huge output is only scanned at its start (errors come right after the command).
        let bulk = String(repeating: "permit ip any any\n", count: 10_000) + "% Invalid input quoted in a banner\n"
        XCTAssertNil(ios.rejection(in: bulk))
    }

    func write(_ json: String, name: String = "custom_os") throws -> (String, String) {
        let dir = try TransportTestSupport.temporaryDirectory("switchboard-platforms")
        try json.write(toFile: dir + "/\(name).json", atomically: true, encoding: .utf8)
        return (dir, dir + "/\(name).json")
    }

    func assertInvalid(_ json: String, key: String, contains text: String, line: UInt = #line) throws {
        let (dir, file) = try write(json)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        XCTAssertThrowsError(try PlatformCatalog.load("custom_os", directory: dir), line: line) { error in
            guard let error = error as? PlatformError else { return XCTFail("\(error)", line: line) }
            XCTAssertEqual(error.file, file, line: line)
            XCTAssertEqual(error.key, key, line: line)
            XCTAssertTrue(error.description.contains(text), error.description, line: line)
            XCTAssertTrue(error.description.hasPrefix(file), line: line)
        }
    }

    func testValidationNamesFileAndKey() throws {
        try assertInvalid(##"{"prompts": {"user": ">$"}, "pager_pattern": ["x"]}"##, key: "pager_pattern", contains: "unknown key")
        try assertInvalid(##"{"prompts": {"user": ">$", "enabel": "#$"}}"##, key: "prompts.enabel", contains: "unknown key")
        try assertInvalid(##"{"prompts": {"enable": "#$"}}"##, key: "prompts.user", contains: "missing")
        try assertInvalid(##"{"prompts": {"user": "([a-z"}}"##, key: "prompts.user", contains: "not a valid regular expression")
        try assertInvalid(##"{"prompts": {"user": ">$"}, "error_patterns": ["ok", 3]}"##, key: "error_patterns[1]", contains: "expected a string")
        try assertInvalid(##"{"prompts": {"user": ">$"}, "paging_disable": "terminal length 0"}"##, key: "paging_disable", contains: "list")
        try assertInvalid(##"{"name": "other_os", "prompts": {"user": ">$"}}"##, key: "name", contains: "must agree")
        try assertInvalid(##"{"prompts": {"user": ">$"}, "enable": {"command": "enable", "password_prompt": "Password:"}}"##,
                          key: "prompts.enable", contains: "missing")
        try assertInvalid(##"{"prompts": {"user": ">$"}, "enable": {"command": "enable"}}"##, key: "enable.password_prompt", contains: "missing")
        try assertInvalid(##"{"prompts": {"user": ">$"}, "config_mode": {"enter": "conf t", "exit": "end", "save": "wr"}}"##,
                          key: "config_mode.save", contains: "unknown key")
        try assertInvalid(##"{"prompts": {"user": ">$"}, "line_ending": "\t"}"##, key: "line_ending", contains: "must be")
        try assertInvalid("{\n  \"prompts\": {\"user\": \">$\"},\n  \"oops\n}", key: "", contains: "malformed JSON")
        try assertInvalid(##"["not", "an", "object"]"##, key: "", contains: "expected an object")
    }

    func testMinimalCustomPlatformLoads() throws {
        let (dir, _) = try write(#"{"prompts": {"user": "^\\S+> ?$"}}"#)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let platform = try PlatformCatalog.load("custom_os", directory: dir)
        XCTAssertEqual(platform.name, "custom_os")
        XCTAssertEqual(platform.pagerResponse, " ")
        XCTAssertEqual(platform.lineEnding, "\n")
        XCTAssertNil(platform.enable)
        XCTAssertEqual(platform.mode(ofPrompt: "box> "), .user)
    }

    func testTerminalTextAppliesCarriageReturnsBackspacesAndDropsEscapes() {
        func clean(_ text: String) -> String { String(decoding: TerminalText.clean(Array(text.utf8)), as: UTF8.self) }
        XCTAssertEqual(clean("line one\r\nline two\r\n"), "line one\nline two\n")
        // Junos/IOS pager erasers: the prompt is overwritten with spaces, then by the next line.
        XCTAssertEqual(clean("first\r\n\r            \rsecond\r\n"), "first\nsecond\n")
        XCTAssertEqual(clean("abc\u{08}\u{08}XY\n"), "aXY\n")
        XCTAssertEqual(clean("\u{1b}]0;pwned\u{07}\u{1b}[2J\u{1b}[H\u{1b}[1;31mCisco IOS\u{1b}[0m\r\n"), "Cisco IOS\n")
        XCTAssertEqual(clean("tab\there\u{07}\n"), "tab\there\n")
        XCTAssertEqual(clean("no newline"), "no newline")
        XCTAssertEqual(clean("a\r\r\nb"), "a\nb")
    }
}
