import Foundation
import XCTest

/// `switchboard platforms` and `detect`, and devices whose platform is `autodetect` or unknown,
/// through the real binary against the lab (real sshd).
final class DetectCLITests: XCTestCase {
    func testPlatformsListsEveryDefinitionAndRefusesABrokenOneAlone() throws {
        let cli = try CLI()
        let listed = try cli.run(["platforms"])
        XCTAssertEqual(listed.status, 0, listed.stderr)
        for name in ["cisco_ios", "cisco_xe", "cisco_xr", "cisco_nxos", "cisco_asa", "arista_eos", "juniper_junos", "huawei_vrp",
                     "hp_comware", "hp_procurve", "aruba_aoscx", "fortinet", "paloalto_panos", "mikrotik_routeros", "nokia_sros",
                     "extreme_exos", "dell_os10", "vyos", "linux", "generic"] {
            XCTAssertTrue(listed.stdout.contains("\n\(name) "), "\(name) missing:\n\(listed.stdout)")
        }
        // A user's platform directory: a good file is added, a broken one is refused with file and key.
        let dir = cli.dir + "/config/switchboard/platforms"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try #"{"name": "acme_os", "prompts": {"user": "^acme>$"}, "natural_mode": "cli"}"#.write(toFile: dir + "/acme_os.json", atomically: true, encoding: .utf8)
        try #"{"name": "broken_os", "prompts": {"user": "^(unclosed"}}"#.write(toFile: dir + "/broken_os.json", atomically: true, encoding: .utf8)
        let mixed = try cli.run(["platforms"])
        XCTAssertEqual(mixed.status, 1)
        XCTAssertTrue(mixed.stdout.contains("\nacme_os "), mixed.stdout)
        XCTAssertTrue(mixed.stdout.contains("\ncisco_ios "), "the others load")
        XCTAssertTrue(mixed.stderr.contains("broken_os.json: prompts.user: not a valid regular expression"), mixed.stderr)
    }

    func testDevicesOfUnknownPlatformAreDetectedAndWork() throws {
        var cli = try CLI()
        cli.environment.removeValue(forKey: "SSH_AUTH_SOCK")
        let demo = try cli.run(["demo", "--no-console"])
        defer { _ = try? cli.run(["lab", "down"]) }
        XCTAssertEqual(demo.status, 0, demo.stderr)
        let expected = ["par-core1": "juniper_junos", "par-dist1": "arista_eos", "par-acc1": "cisco_ios", "bastion": "linux"]

        // A partial CSV changes the platform only: addresses and ports stay (the lab's).
        let before = try cli.run(["show", "device", "par-acc1", "--json"])
        let csv = try cli.write("forget.csv", "name,platform\n" + expected.keys.sorted().map { "\($0),autodetect" }.joined(separator: "\n") + "\n")
        XCTAssertEqual(try cli.run(["import", csv]).status, 0)
        let after = try cli.run(["show", "device", "par-acc1", "--json"])
        XCTAssertTrue(after.stdout.contains("\"autodetect\""), after.stdout)
        XCTAssertEqual(try field("port", before.stdout), try field("port", after.stdout))
        XCTAssertEqual(try field("address", before.stdout), try field("address", after.stdout))

        // exec on an autodetect device: logged in once, recognised, the command runs.
        let started = Date()
        let ios = try cli.run(["exec", "par-acc1", "show", "version"])
        XCTAssertEqual(ios.status, 0, ios.stderr)
        XCTAssertTrue(ios.stdout.contains("Cisco IOS"), ios.stdout)
        XCTAssertTrue(ios.stderr.contains("platform detected: cisco_ios"), ios.stderr)
        XCTAssertLessThan(Date().timeIntervalSince(started), 10, "no prompt timeout on the way")

        // detect reports each, then --save stores them.
        let report = try cli.run(["detect", "--filter", "platform=autodetect", "--json"])
        XCTAssertEqual(report.status, 0, report.stdout + report.stderr)
        for line in report.stdout.split(separator: "\n") {
            let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let device = try XCTUnwrap(object["device"] as? String)
            XCTAssertEqual(object["platform"] as? String, expected[device], "\(device): \(object)")
        }
        XCTAssertEqual(report.stdout.split(separator: "\n").count, expected.count)
        XCTAssertEqual(try cli.run(["detect", "--filter", "platform=autodetect", "--save"]).status, 0)
        for (device, platform) in expected {
            let shown = try cli.run(["show", "device", device, "--json"])
            XCTAssertEqual(try field("platform", shown.stdout), platform, device)
        }

        // An unknown platform name: generic with a warning, and the command still works.
        let csv2 = try cli.write("unknown.csv", "name,platform\npar-acc2,frobos\n")
        XCTAssertEqual(try cli.run(["import", csv2]).status, 0)
        let generic = try cli.run(["exec", "par-acc2", "show", "version"])
        XCTAssertEqual(generic.status, 0, generic.stderr)
        XCTAssertTrue(generic.stdout.contains("Cisco IOS"), generic.stdout)
        XCTAssertTrue(generic.stderr.contains("unknown platform 'frobos'; using generic"), generic.stderr)

        // Usage errors.
        XCTAssertEqual(try cli.run(["detect"]).status, 2)
        XCTAssertEqual(try cli.run(["detect", "par-acc1", "--pool", "lab"]).status, 2)
        XCTAssertEqual(try cli.run(["detect", "ghost"]).status, 1)
    }

    private func field(_ name: String, _ json: String) throws -> String? {
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let device = (object["device"] as? [String: Any]) ?? object
        return device[name].map { "\($0)" }
    }
}
