import Foundation
import GRDB
import Lab
import Store
import XCTest

/// A lab on ports 30000-39000 (never the default 2201+, which other suites use at the same time).
func labBasePort(devices: Int = 20) -> Int {
    LabPorts.freeBasePort(devices: devices)
}

/// Plain git, to look at a repository.
@discardableResult
func plainGit(_ args: [String], home: String) throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/git")
    p.arguments = args
    p.environment = ["PATH": "/usr/bin:/bin", "HOME": home, "GIT_CONFIG_NOSYSTEM": "1", "LC_ALL": "C"]
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return String(decoding: data, as: UTF8.self)
}

/// Configurations in git through the real binary and the lab: a commit per changed
/// configuration, none for an unchanged one, a push to a local bare remote, a push failure
/// survived and retried; then search, compare and export-git on seeded snapshots.
final class ConfigGitCLITests: XCTestCase {
    func testBackupsCommitChangesPushAndSurviveAPushFailure() throws {
        var cli = try CLI()
        cli.environment.removeValue(forKey: "SSH_AUTH_SOCK")
        cli.environment["XDG_STATE_HOME"] = cli.dir + "/state"
        let up = try cli.run(["lab", "up", "--base-port", String(labBasePort())])
        defer { _ = try? cli.run(["engine", "--stop"]); _ = try? cli.run(["lab", "down"]) }
        XCTAssertEqual(up.status, 0, up.stderr)
        let remote = cli.dir + "/remote.git"
        _ = try plainGit(["init", "-q", "--bare", "-b", "main", remote], home: cli.dir)
        _ = try cli.write("config/switchboard/settings.json", #"{"git": {"remote": "\#(remote)"}}"#)
        let services = try cli.write("services.json", """
            {"format": "switchboard-inventory", "version": 1, "services": [
             {"name": "backup", "kind": "backup", "devices": ["par-acc1", "par-acc2"]},
             {"name": "set loopback", "kind": "config", "devices": ["par-acc1"],
              "parameters": {"lines": ["interface Loopback77", "description by-switchboard"]}},
             {"name": "set loopback 2", "kind": "config", "devices": ["par-acc1"],
              "parameters": {"lines": ["interface Loopback78", "description second"]}}]}
            """)
        XCTAssertEqual(try cli.run(["import", services]).status, 0)
        let repo = cli.dir + "/data/switchboard/network_data"
        func commits() throws -> Int { Int(try plainGit(["-C", repo, "rev-list", "--count", "HEAD"], home: cli.dir).trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1 }
        func remoteHead() throws -> String { try plainGit(["--git-dir", remote, "rev-parse", "main"], home: cli.dir) }
        func localHead() throws -> String { try plainGit(["-C", repo, "rev-parse", "HEAD"], home: cli.dir) }

        let first = try cli.run(["run", "backup", "--follow"])
        XCTAssertEqual(first.status, 0, first.stdout + first.stderr)
        XCTAssertEqual(try commits(), 3, ".gitattributes and one commit per device")
        XCTAssertTrue(FileManager.default.fileExists(atPath: repo + "/configurations/par-acc1"))
        XCTAssertEqual(try remoteHead(), try localHead(), "pushed at the run's end")
        XCTAssertTrue(first.stdout.contains("git: pushed to"), first.stdout)

        let unchanged = try cli.run(["run", "backup", "--follow"])
        XCTAssertEqual(unchanged.status, 0, unchanged.stdout)
        XCTAssertEqual(try commits(), 3, "an unchanged configuration makes no commit")

        XCTAssertEqual(try cli.run(["run", "set loopback", "--follow"]).status, 0)
        let changed = try cli.run(["run", "backup", "--follow"])
        XCTAssertEqual(changed.status, 0, changed.stdout)
        XCTAssertEqual(try commits(), 4, "exactly one new commit")
        let show = try plainGit(["-C", repo, "show", "HEAD"], home: cli.dir)
        XCTAssertTrue(show.contains("+interface Loopback77\n+ description by-switchboard"), show)
        XCTAssertTrue(show.contains("configurations/par-acc1"), show)
        let runId = "4"  // backup, backup, set loopback, backup
        XCTAssertTrue(show.contains("par-acc1: configuration from service 'backup', run \(runId)"), show)
        XCTAssertTrue(show.contains("Author: \(OSUser.name) <"), show)
        XCTAssertEqual(try remoteHead(), try localHead())
        let log = try cli.run(["config", "log", "par-acc1"])
        XCTAssertEqual(log.status, 0, log.stderr)
        XCTAssertEqual(log.stdout.split(separator: "\n").count, 2, log.stdout)
        XCTAssertTrue(log.stdout.contains("run \(runId)"), log.stdout)
        XCTAssertTrue(try cli.run(["config", "log", "par-acc1", "--patch", "--limit", "1"]).stdout.contains("+interface Loopback77"))
        // The snapshot knows its commit: the console's history shows it.
        let db = try AppDatabase(path: cli.databasePath, readonly: true)
        let recorded = try db.writer.read { db in
            try String.fetchOne(db, sql: """
                SELECT c.git_commit FROM config_snapshot c JOIN device d ON d.id = c.device_id
                WHERE d.name = 'par-acc1' ORDER BY c.id DESC LIMIT 1
                """)
        }
        XCTAssertEqual(recorded, try localHead().trimmingCharacters(in: .whitespacesAndNewlines))
        let history = try ConsoleStore(database: db).snapshots(device: "par-acc1")
        XCTAssertEqual(history.first?.gitCommit, recorded)

        // The remote disappears: the backup still succeeds, the failure is in its log.
        try FileManager.default.moveItem(atPath: remote, toPath: remote + ".away")
        XCTAssertEqual(try cli.run(["run", "set loopback 2", "--follow"]).status, 0)
        let failedPush = try cli.run(["run", "backup", "--follow"])
        XCTAssertEqual(failedPush.status, 0, "a push failure never fails the backup: \(failedPush.stdout)")
        XCTAssertTrue(failedPush.stdout.contains("push to \(remote) failed"), failedPush.stdout)
        XCTAssertEqual(try commits(), 5)
        // Back: the next run pushes what the failed one could not.
        try FileManager.default.moveItem(atPath: remote + ".away", toPath: remote)
        let retried = try cli.run(["run", "backup", "--follow"])
        XCTAssertEqual(retried.status, 0)
        XCTAssertTrue(retried.stdout.contains("git: pushed to"), retried.stdout)
        XCTAssertEqual(try remoteHead(), try localHead())
        XCTAssertEqual(try commits(), 5)
    }

    /// edge1 with two snapshots, edge2 and core1 with one each.
    func seeded() throws -> CLI {
        var cli = try CLI()
        cli.environment["XDG_STATE_HOME"] = cli.dir + "/state"
        let csv = try cli.write("devices.csv", "name,address,platform,location\nedge1,192.0.2.1,cisco_ios,Paris\nedge2,192.0.2.2,cisco_ios,Lyon\ncore1,192.0.2.3,cisco_ios,Paris\n")
        XCTAssertEqual(try cli.run(["import", csv]).status, 0)
        let database = try AppDatabase(path: cli.databasePath)
        try database.writer.write { db in
            let t0 = Date(timeIntervalSince1970: 1_700_000_000)
            func config(_ name: String, _ ntp: String) -> String {
                "hostname \(name)\n!\ninterface Gi0/1\n description uplink\n!\nntp server \(ntp)\n!\nline vty 0 4\n transport input ssh\nend\n"
            }
            let edge1 = try Inventory.device(db, named: "edge1")!.id!, edge2 = try Inventory.device(db, named: "edge2")!.id!
            let core1 = try Inventory.device(db, named: "core1")!.id!
            try ConfigHistory.record(db, deviceId: edge1, runId: nil, content: config("edge1", "192.0.2.100"), at: t0)
            try ConfigHistory.record(db, deviceId: edge1, runId: nil, content: config("edge1", "192.0.2.123"), at: t0 + 60)
            try ConfigHistory.record(db, deviceId: edge2, runId: nil, content: config("edge2", "192.0.2.123"), at: t0 + 30)
            try ConfigHistory.record(db, deviceId: core1, runId: nil, content: config("core1", "198.51.100.1"), at: t0 + 90)
        }
        return cli
    }

    func testSearchWithContextFilterJSONAndRegexErrors() throws {
        let cli = try seeded()
        let plain = try cli.run(["config", "search", "ntp server 192\\.0\\.2\\.123"])
        XCTAssertEqual(plain.status, 0, plain.stderr)
        XCTAssertEqual(plain.stdout, "edge1:6:ntp server 192.0.2.123\nedge2:6:ntp server 192.0.2.123\n", "the latest snapshot only")
        XCTAssertTrue(plain.stderr.contains("2 matching lines in 2 of 3 device configurations"), plain.stderr)
        let context = try cli.run(["config", "search", "--context", "2", "^ntp server", "--filter", "location=Paris"])
        XCTAssertEqual(context.status, 0, context.stderr)
        XCTAssertEqual(context.stdout, """
            core1-4- description uplink
            core1-5-!
            core1:6:ntp server 198.51.100.1
            core1-7-!
            core1-8-line vty 0 4
            --
            edge1-4- description uplink
            edge1-5-!
            edge1:6:ntp server 192.0.2.123
            edge1-7-!
            edge1-8-line vty 0 4

            """)
        let json = try cli.run(["config", "search", "-C", "1", "(?i)HOSTNAME edge\\d", "--json"])
        XCTAssertEqual(json.status, 0, json.stderr)
        let o = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(o["matches"] as? Int, 2)
        let groups = o["groups"] as! [[String: Any]]
        XCTAssertEqual(groups.map { $0["device"] as! String }, ["edge1", "edge2"])
        XCTAssertEqual((groups[0]["lines"] as! [[String: Any]]).map { $0["line"] as! Int }, [1, 2])
        // A literal found first (memmem), optional characters and groups left out of it.
        let optional = try cli.run(["config", "search", "descriptions? upl(ink)?$"])
        XCTAssertEqual(optional.stdout, "core1:4: description uplink\nedge1:4: description uplink\nedge2:4: description uplink\n", optional.stderr)
        XCTAssertEqual(try cli.run(["config", "search", "ntp server 198\\.51|hostname edge2"]).stdout,
                       "core1:6:ntp server 198.51.100.1\nedge2:1:hostname edge2\n", "an alternation: no literal")
        // Regex errors are usage errors naming the problem.
        let bad = try cli.run(["config", "search", "interface (Gi"])
        XCTAssertEqual(bad.status, 2)
        XCTAssertTrue(bad.stderr.contains("invalid regular expression 'interface (Gi'"), bad.stderr)
        XCTAssertTrue(bad.stderr.contains("Unmatched ("), bad.stderr)
        let lookahead = try cli.run(["config", "search", "ntp(?=x)"])
        XCTAssertEqual(lookahead.status, 2)
        XCTAssertTrue(lookahead.stderr.contains("lookahead"), lookahead.stderr)
        XCTAssertEqual(try cli.run(["config", "search", "x", "--filter", "nosuchfield=1"]).status, 2)
    }

    func testCompareDevicesAndAGoldenTemplate() throws {
        let cli = try seeded()
        let two = try cli.run(["config", "compare", "edge1", "edge2"])
        XCTAssertEqual(two.status, 0, two.stderr)
        XCTAssertTrue(two.stdout.hasPrefix("--- edge1 (snapshot 2)\n+++ edge2 (snapshot 3)\n"), two.stdout)
        XCTAssertTrue(two.stdout.contains("-hostname edge1\n+hostname edge2\n"), two.stdout)
        XCTAssertFalse(two.stdout.contains("ntp server"), "equal lines beyond the context are left out")
        let golden = try cli.write("golden.cfg", "hostname {{device.name}}\n!\ninterface Gi0/1\n description uplink\n!\nntp server 192.0.2.123\n!\nline vty 0 4\n transport input ssh\nend\n")
        let ok = try cli.run(["config", "compare", "edge1", "--golden", golden])
        XCTAssertEqual(ok.status, 0, ok.stderr)
        XCTAssertEqual(ok.stdout, "", "edge1 follows the template")
        let drift = try cli.run(["config", "compare", "core1", "--golden", golden])
        XCTAssertEqual(drift.status, 0)
        XCTAssertTrue(drift.stdout.contains("--- \(golden) (golden, for core1)"), drift.stdout)
        XCTAssertTrue(drift.stdout.contains("-ntp server 192.0.2.123\n+ntp server 198.51.100.1\n"), drift.stdout)
        let unknownField = try cli.write("bad.cfg", "hostname {{device.nosuch}}\n")
        XCTAssertEqual(try cli.run(["config", "compare", "core1", "--golden", unknownField]).status, 2)
        XCTAssertEqual(try cli.run(["config", "compare", "core1"]).status, 2, "a second device or --golden")
        XCTAssertEqual(try cli.run(["config", "compare", "core1", "ghost"]).status, 1)
    }

    func testExportGitWritesSnapshotsInTimeOrderOnce() throws {
        let cli = try seeded()
        let export = try cli.run(["config", "export-git"])
        XCTAssertEqual(export.status, 0, export.stderr)
        XCTAssertTrue(export.stdout.hasPrefix("4 commits written"), export.stdout)
        let repo = cli.dir + "/data/switchboard/network_data"
        let log = try plainGit(["-C", repo, "log", "--reverse", "--format=%at %s", "--", "configurations"], home: cli.dir)
        XCTAssertEqual(log.split(separator: "\n").map { $0.split(separator: " ").prefix(2).joined(separator: " ") },
                       ["1700000000 edge1:", "1700000030 edge2:", "1700000060 edge1:", "1700000090 core1:"], log)
        XCTAssertEqual(try plainGit(["-C", repo, "show", "HEAD~1:configurations/edge1"], home: cli.dir).contains("ntp server 192.0.2.123"), true)
        let again = try cli.run(["config", "export-git"])
        XCTAssertTrue(again.stdout.hasPrefix("0 commits written"), again.stdout)
        XCTAssertEqual(try cli.run(["config", "log", "edge1"]).stdout.split(separator: "\n").count, 2)
    }
}
