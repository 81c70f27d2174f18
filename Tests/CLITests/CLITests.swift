import Foundation
import XCTest

final class CLITests: XCTestCase {
    func testDemoLoadsTheExampleNetworkOnceAndNeedsATerminalForTheConsole() throws {
        let cli = try CLI()
        let first = try cli.run(["demo", "--no-lab"])
        XCTAssertTrue(first.stdout.contains("devices: 20 new"), first.stdout)
        // Without a terminal the console refuses plainly, after the examples were loaded.
        XCTAssertEqual(first.status, 1, first.stderr)
        XCTAssertTrue(first.stderr.contains("needs a terminal"), first.stderr)
        let second = try cli.run(["demo", "--no-console", "--no-lab"])
        XCTAssertTrue(second.stdout.contains("devices: 0 new, 20 updated"), second.stdout)
        let list = try cli.run(["list", "devices", "--json"])
        let devices = try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as! [[String: Any]]
        XCTAssertEqual(devices.count, 20)
        // The database was created private, in a private directory.
        let attrs = try FileManager.default.attributesOfItem(atPath: cli.databasePath)
        XCTAssertEqual((attrs[.posixPermissions] as? NSNumber)?.intValue, 0o600)
    }

    func testDemoStartsTheLabTheExampleDevicesLiveIn() throws {
        let cli = try CLI()
        let r = try cli.run(["demo", "--no-console"])
        defer { _ = try? cli.run(["lab", "down"]) }
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("lab up in"), r.stdout + r.stderr)
        let status = try cli.run(["lab", "status", "--json"])
        XCTAssertEqual(status.status, 0, status.stdout + status.stderr)
        let show = try cli.run(["show", "device", "par-core1", "--json"])
        let o = try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(o["credential"] as? String, "lab-key", "the lab's credential wins for lab devices")
        XCTAssertTrue(try String(contentsOfFile: cli.dir + "/data/switchboard/known_hosts", encoding: .utf8).contains("[127.0.0.1]:2201 "))
        let again = try cli.run(["demo", "--no-console"])
        XCTAssertTrue(again.stdout.contains("lab already up"), again.stdout + again.stderr)
        XCTAssertEqual(try cli.run(["lab", "down"]).status, 0)
        XCTAssertEqual(try cli.run(["lab", "status"]).status, 1)
        XCTAssertFalse(try String(contentsOfFile: cli.dir + "/data/switchboard/known_hosts", encoding: .utf8).contains("[127.0.0.1]:2201 "))
    }

    func testImportIntoANewDatabaseYieldsExactlyThatInventory() throws {
        let cli = try CLI()
        let csv = try cli.write("devices.csv", "name,address,platform\nedge1,192.0.2.1,cisco_ios\nedge2,192.0.2.2,arista_eos\n")
        let r = try cli.run(["import", csv])
        XCTAssertEqual(r.status, 0, r.stderr)
        let list = try cli.run(["list", "devices"])
        XCTAssertEqual(list.stdout.split(separator: "\n").count, 3, list.stdout)
        XCTAssertEqual(try cli.run(["list", "pools", "--json"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines), "[\n\n]")
    }

    func testFilterTableAndJSON() throws {
        let cli = try CLI()
        XCTAssertEqual(try cli.run(["demo", "--no-console", "--no-lab"]).status, 0)
        let table = try cli.run(["list", "devices", "--filter", "platform=arista_eos location~^Par"])
        XCTAssertEqual(table.status, 0, table.stderr)
        let lines = table.stdout.split(separator: "\n")
        XCTAssertTrue(lines[0].hasPrefix("NAME"))
        XCTAssertEqual(lines.dropFirst().map { String($0.split(separator: " ")[0]) }, ["par-dist1", "par-dist2"])
        let negated = try cli.run(["list", "devices", "--filter", "!par- !lon- !nyc-", "--json"])
        let names = (try JSONSerialization.jsonObject(with: Data(negated.stdout.utf8)) as! [[String: Any]]).map { $0["name"] as! String }
        XCTAssertEqual(names, ["bastion"], "oob-par-1 contains par- too")
        let pools = try cli.run(["list", "pools", "--filter", "name~^ar"])
        XCTAssertTrue(pools.stdout.contains("arista") && !pools.stdout.contains("juniper"), pools.stdout)
    }

    func testShowNamesPoolsAndNeverSecrets() throws {
        let cli = try CLI()
        XCTAssertEqual(try cli.run(["demo", "--no-console", "--no-lab"]).status, 0)
        let dev = try cli.run(["show", "device", "par-core1", "--json"])
        let o = try JSONSerialization.jsonObject(with: Data(dev.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(o["credential"] as? String, "juniper-netconf")
        XCTAssertTrue((o["pools"] as! [String]).contains("core"))
        for args in [["show", "credential", "lab-admin"], ["list", "credentials", "--json"], ["show", "credential", "lab-admin", "--json"]] {
            let r = try cli.run(args)
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertFalse(r.stdout.contains("switchboard-lab"), "secret shown by \(args)")
            XCTAssertFalse(r.stdout.contains("sb1:"), "ciphertext shown by \(args)")
        }
    }

    func testExitCodes() throws {
        let cli = try CLI()
        XCTAssertEqual(try cli.run(["list", "devices"]).status, 0)
        XCTAssertEqual(try cli.run(["list", "gadgets"]).status, 2, "unknown kind is a usage error")
        XCTAssertEqual(try cli.run(["list", "devices", "--filter", "name~(["]).status, 2, "bad regex is a usage error")
        XCTAssertEqual(try cli.run(["import", "--format", "xml", "x"]).status, 2)
        XCTAssertEqual(try cli.run(["frobnicate"]).status, 2)
        let missing = try cli.run(["import", cli.dir + "/nope.csv"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("nope.csv"), missing.stderr)
        XCTAssertEqual(try cli.run(["show", "device", "ghost"]).status, 1)
        XCTAssertEqual(try cli.run(["--help"]).status, 0)
        XCTAssertEqual(try cli.run(["import", "--help"]).status, 0)
        XCTAssertEqual(try cli.run(["--version"]).status, 0)
    }

    func testBrokenImportExitsNonZeroNamesLineAndChangesNothing() throws {
        let cli = try CLI()
        XCTAssertEqual(try cli.run(["demo", "--no-console", "--no-lab"]).status, 0)
        let before = try cli.run(["list", "devices", "--json"]).stdout
        let bad = try cli.write("bad.csv", "name,address,port\nnew1,192.0.2.1,22\nnew2,192.0.2.2,notaport\n")
        let r = try cli.run(["import", bad])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("bad.csv:3"), r.stderr)
        XCTAssertEqual(try cli.run(["list", "devices", "--json"]).stdout, before)
    }

    func testBadSettingsAreReportedWithFileAndKeyAndNothingIsWritten() throws {
        let cli = try CLI()
        _ = try cli.write("config/switchboard/settings.json", "{\n  \"automation\": {\"max_process\": \"lots\"},\n  \"colour\": 1\n}\n")
        let csv = try cli.write("d.csv", "name,address\nr1,192.0.2.1\n")
        let r = try cli.run(["import", csv])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("settings.json"), r.stderr)
        XCTAssertTrue(r.stderr.contains("automation.max_process"), r.stderr)
        XCTAssertTrue(r.stderr.contains("colour"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: cli.databasePath), "nothing is created when settings are bad")
        _ = try cli.write("config/switchboard/settings.json", "{\n  \"automation\": {\"max_process\": 20 \"retry_delay\": 1}\n}\n")
        let syntax = try cli.run(["settings"])
        XCTAssertEqual(syntax.status, 1)
        XCTAssertTrue(syntax.stderr.contains("line 2, column"), syntax.stderr)
    }

    func testEnvironmentAndFlagOverrides() throws {
        var cli = try CLI()
        cli.environment["SWITCHBOARD_AUTOMATION_MAX_PROCESS"] = "0"
        let r = try cli.run(["settings"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("SWITCHBOARD_AUTOMATION_MAX_PROCESS"), r.stderr)
        cli.environment["SWITCHBOARD_AUTOMATION_MAX_PROCESS"] = "50"
        XCTAssertEqual(try cli.run(["settings"]).status, 0)
        let flag = try cli.run(["settings", "--set", "ssh.host_key_policy=sometimes"])
        XCTAssertEqual(flag.status, 1)
        XCTAssertTrue(flag.stderr.contains("ssh.host_key_policy"), flag.stderr)
    }

    func testExportImportRoundTripThroughTheCLI() throws {
        let a = try CLI()
        XCTAssertEqual(try a.run(["demo", "--no-console", "--no-lab"]).status, 0)
        for format in ["json", "enms"] {
            let out = a.dir + "/export-" + format
            let e = try a.run(["export", "--format", format, out])
            XCTAssertEqual(e.status, 0, e.stderr)
            var b = try CLI()
            // The same key, so sealed secrets open in the second database.
            b.environment["SWITCHBOARD_KEY"] = try String(contentsOfFile: a.dir + "/config/switchboard/key", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            let paths = format == "enms" ? [out] : [out + "/switchboard.json"]
            let i = try b.run(["import"] + paths)
            XCTAssertEqual(i.status, 0, i.stderr)
            for kind in ["devices", "links", "pools", "credentials", "services", "workflows", "tasks"] {
                XCTAssertEqual(try b.run(["list", kind, "--json"]).stdout, try a.run(["list", kind, "--json"]).stdout, "\(kind) after \(format) round trip")
            }
        }
    }

    func testDatabaseFlagAndEnvironmentChooseTheFile() throws {
        var cli = try CLI()
        let csv = try cli.write("d.csv", "name,address\nr1,192.0.2.1\n")
        XCTAssertEqual(try cli.run(["import", "--db", cli.dir + "/flag.db", csv]).status, 0)
        XCTAssertTrue(FileManager.default.fileExists(atPath: cli.dir + "/flag.db"))
        cli.environment["SWITCHBOARD_DB"] = cli.dir + "/env.db"
        XCTAssertEqual(try cli.run(["import", csv]).status, 0)
        XCTAssertTrue(FileManager.default.fileExists(atPath: cli.dir + "/env.db"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: cli.databasePath))
        let info = try cli.run(["db", "info", "--json"])
        XCTAssertTrue(info.stdout.contains("env.db"), info.stdout)
    }
}
