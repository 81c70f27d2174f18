import Foundation
import Lab
import XCTest

/// The differential test on real device output: the lab's answers to its commands, on each lab
/// platform, parsed by `switchboard parse` (the Swift TextFSM engine and ntc-templates' index) and by
/// Google's textfsm with its CliTable (from the set-up's `.venv-textfsm`) must give the same rows.
final class LabOutputsParseTests: XCTestCase {
    static let python = CLI.repositoryRoot + "/.venv-textfsm/bin/python"

    /// Google's CliTable on one output: {"header": [...], "rows": [[...]]}, or {"notemplate": true}.
    static let reference = #"""
    import json, sys, glob, os
    from textfsm import clitable
    import ntc_templates
    templates = os.path.join(os.path.dirname(ntc_templates.__file__), "templates")
    platform, command, path = sys.argv[1:4]
    table = clitable.CliTable("index", templates)
    try:
        table.ParseCmd(open(path).read(), attributes={"Platform": platform, "Command": command})
    except clitable.CliTableError:
        print(json.dumps({"notemplate": True})); sys.exit(0)
    except Exception as e:  # the template's Error action
        print(json.dumps({"error": "%s: %s" % (type(e).__name__, e)})); sys.exit(0)
    print(json.dumps({"header": [h.lower() for h in table.header], "rows": [list(r) for r in table]}))
    """#

    func testTheLabsOutputsParseAlikeInBothEngines() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.python) else {
            XCTFail("\(Self.python) is missing: scripts/install-deps creates it")
            return
        }
        var cli = try CLI()
        cli.environment.removeValue(forKey: "SSH_AUTH_SOCK")
        // 24 devices: the example network's platforms plus lab-0024, an NX-OS device.
        let up = try cli.run(["lab", "up", "--devices", "24", "--base-port", String(LabPorts.freeBasePort(devices: 24))])
        defer { _ = try? cli.run(["lab", "down"]) }
        XCTAssertEqual(up.status, 0, up.stderr)
        let script = try cli.write("reference.py", Self.reference)

        let cases: [(device: String, platform: String, commands: [String])] = [
            ("par-acc1", "cisco_ios", ["show version", "show ip interface brief", "show interfaces", "show ip route", "show clock",
                                       "show users", "show inventory", "show interfaces description"]),
            ("par-dist1", "arista_eos", ["show version", "show ip interface brief", "show interfaces", "show ip route", "show clock",
                                         "show inventory", "show interfaces description"]),
            ("par-core1", "juniper_junos", ["show version", "show interfaces terse", "show route", "show chassis hardware",
                                            "show system uptime"]),
            ("lab-0024", "cisco_nxos", ["show version", "show ip interface brief", "show interfaces", "show ip route", "show clock",
                                        "show inventory", "show interfaces description"]),
        ]
        var compared = 0, withRows = 0
        for (device, platform, commands) in cases {
            for command in commands {
                let output = try cli.run(["exec", device] + command.split(separator: " ").map(String.init))
                guard output.status == 0, !output.stdout.isEmpty else {
                    XCTFail("\(device) `\(command)`: \(output.stderr)")
                    continue
                }
                let file = try cli.write("out/\(device)-\(command.replacingOccurrences(of: " ", with: "_")).txt", output.stdout)
                let swift = try cli.run(["parse", "--platform", platform, "--command", command, file, "--json"])
                let reference = try Self.runPython([script, platform, command, file])
                let expected = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(reference.utf8)) as? [String: Any], reference)
                if expected["notemplate"] != nil {
                    XCTAssertEqual(swift.status, 1, "\(platform) `\(command)`: Python has no template, Swift parsed it")
                    XCTAssertTrue(swift.stderr.contains("no template for command"), swift.stderr)
                    continue
                }
                compared += 1
                if let error = expected["error"] {
                    // The template refuses this output in Python: it must in Swift too.
                    XCTAssertEqual(swift.status, 1, "\(platform) `\(command)`: Python says \(error), Swift parsed it")
                    continue
                }
                XCTAssertEqual(swift.status, 0, "\(platform) `\(command)`: \(swift.stderr)")
                let header = expected["header"] as? [String] ?? []
                let rows = (expected["rows"] as? [[Any]] ?? []).map { row in
                    Dictionary(uniqueKeysWithValues: zip(header, row.map { Self.normalise($0) }))
                }
                let mine = (try JSONSerialization.jsonObject(with: Data(swift.stdout.utf8)) as? [[String: Any]] ?? [])
                    .map { $0.mapValues { Self.normalise($0) } }
                XCTAssertEqual(mine, rows, "\(platform) `\(command)`: the engines disagree")
                if !rows.isEmpty { withRows += 1 }
            }
        }
        print("lab outputs: \(compared) commands compared in both engines, \(withRows) with rows")
        // Most of these commands have an ntc-templates template, and most of those find rows in the lab's output.
        XCTAssertGreaterThanOrEqual(compared, 15, "commands compared")
        XCTAssertGreaterThanOrEqual(withRows, 12, "commands whose output gave rows")
    }

    /// A value as text for comparison: strings as they are, lists as JSON.
    static func normalise(_ value: Any) -> String {
        if let s = value as? String { return s }
        if let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys]) { return String(decoding: data, as: UTF8.self) }
        return "\(value)"
    }

    static func runPython(_ arguments: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = arguments
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
