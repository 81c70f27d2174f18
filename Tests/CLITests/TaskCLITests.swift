import Foundation
import GRDB
import Store
import XCTest

final class TaskCLITests: XCTestCase {
    /// A database with the example network (service `pause` is a `wait`).
    func demo(_ backend: ParityBackend = .sqlite) throws -> CLI {
        let cli = try CLI.on(backend)
        let r = try cli.run(["demo", "--no-console", "--no-lab"])
        XCTAssertEqual(r.status, 0, r.stderr)
        return cli
    }

    func tasks(_ cli: CLI) throws -> [[String: Any]] {
        let r = try cli.run(["task", "list", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        return try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [[String: Any]]
    }

    func testAddListNextEnableDisableDelete() throws { try addListNextEnableDisableDelete(.sqlite) }
    func testAddListNextEnableDisableDeleteOnPostgreSQL() throws { try addListNextEnableDisableDelete(.postgres) }

    func addListNextEnableDisableDelete(_ backend: ParityBackend) throws {
        let cli = try demo(backend)
        let before = try tasks(cli).count
        let add = try cli.run(["task", "add", "paris nightly", "--service", "pause", "--cron", "30 2 * * *",
                               "--timezone", "Europe/Paris", "--devices", "par-core1,par-dist1", "--param", "n=3",
                               "--param", "label=night", "--misfire", "once", "--max-instances", "2"])
        XCTAssertEqual(add.status, 0, add.stderr)
        XCTAssertTrue(add.stdout.contains("added, inactive: cron 30 2 * * *, zone Europe/Paris"), add.stdout)
        var all = try tasks(cli)
        XCTAssertEqual(all.count, before + 1)
        var t = all.first { $0["name"] as? String == "paris nightly" }!
        XCTAssertEqual(t["active"] as? Bool, false, "new tasks are inactive until enabled")
        XCTAssertEqual(t["timezone"] as? String, "Europe/Paris")
        XCTAssertEqual(t["service"] as? String, "pause")
        XCTAssertEqual(t["devices"] as? [String], ["par-core1", "par-dist1"])
        XCTAssertEqual((t["payload"] as? [String: Any])?["n"] as? Int, 3)
        XCTAssertEqual((t["payload"] as? [String: Any])?["label"] as? String, "night")
        XCTAssertEqual(t["misfire_policy"] as? String, "once")
        XCTAssertEqual(t["max_instances"] as? Int, 2)
        XCTAssertTrue(t["next_fire"] is NSNull)

        // The next due times, in the task's zone with its offset.
        let next = try cli.run(["task", "next", "paris nightly", "--count", "3"])
        XCTAssertEqual(next.status, 0, next.stderr)
        let lines = next.stdout.split(separator: "\n").dropFirst().map { $0.trimmingCharacters(in: .whitespaces) }
        XCTAssertEqual(lines.count, 3, next.stdout)
        for l in lines { XCTAssertTrue(l.contains(" 02:30:00 +01:00") || l.contains(" 02:30:00 +02:00") || l.contains(" 03:00:00 +02:00"), l) }
        let nextJSON = try cli.run(["task", "next", "paris nightly", "--count", "2", "--json"])
        XCTAssertEqual((try JSONSerialization.jsonObject(with: Data(nextJSON.stdout.utf8)) as! [String]).count, 2)

        let enable = try cli.run(["task", "enable", "paris nightly"])
        XCTAssertEqual(enable.status, 0, enable.stderr)
        XCTAssertTrue(enable.stdout.contains("enabled; next fire "), enable.stdout)
        all = try tasks(cli)
        t = all.first { $0["name"] as? String == "paris nightly" }!
        XCTAssertEqual(t["active"] as? Bool, true)
        let nextFire = t["next_fire"] as! String
        XCTAssertTrue(nextFire.contains("T02:30:00+0") || nextFire.contains("T03:00:00+02:00"), nextFire)
        let table = try cli.run(["task", "list"])
        XCTAssertTrue(table.stdout.hasPrefix("NAME"), table.stdout)
        let row = table.stdout.split(separator: "\n").first { $0.hasPrefix("paris nightly") }!
        XCTAssertTrue(row.contains("cron 30 2 * * *") && row.contains("Europe/Paris") && row.contains("yes"), String(row))

        // A task without --timezone shows the local zone by name.
        XCTAssertEqual(try cli.run(["task", "add", "local", "--service", "pause", "--every", "1h30m", "--enable"]).status, 0)
        let local = try tasks(cli).first { $0["name"] as? String == "local" }!
        XCTAssertTrue((local["timezone"] as! String).hasPrefix("local ("), "\(local)")
        XCTAssertEqual(local["schedule"] as? String, "every 1h30m")
        XCTAssertEqual(local["interval_seconds"] as? Int, 5400)

        XCTAssertEqual(try cli.run(["task", "disable", "paris nightly"]).status, 0)
        t = try tasks(cli).first { $0["name"] as? String == "paris nightly" }!
        XCTAssertEqual(t["active"] as? Bool, false)
        XCTAssertTrue(t["next_fire"] is NSNull)
        XCTAssertEqual(try cli.run(["task", "delete", "paris nightly"]).status, 0)
        XCTAssertNil(try tasks(cli).first { $0["name"] as? String == "paris nightly" })
        let missing = try cli.run(["task", "enable", "paris nightly"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("no task named 'paris nightly'"), missing.stderr)
        // Every change is in the changelog.
        let log = try cli.strings("SELECT content FROM changelog WHERE target_type = 'task' AND target_name = 'paris nightly' ORDER BY id")
        XCTAssertEqual(log.count, 4, "\(log)")
    }

    func testOneShotAndIntervalWithStartAndEnd() throws {
        let cli = try demo()
        let once = try cli.run(["task", "add", "one", "--service", "pause", "--at", "2031-06-01T10:00:00+02:00", "--enable"])
        XCTAssertEqual(once.status, 0, once.stderr)
        let bounded = try cli.run(["task", "add", "bounded", "--service", "pause", "--every", "1d", "--start", "2031-01-01T00:00Z",
                                   "--end", "2031-01-03T12:00Z", "--timezone", "UTC"])
        XCTAssertEqual(bounded.status, 0, bounded.stderr)
        let next = try cli.run(["task", "next", "bounded", "--count", "10"])
        XCTAssertEqual(next.stdout.split(separator: "\n").dropFirst().map { $0.trimmingCharacters(in: .whitespaces) },
                       ["2031-01-01 00:00:00 +00:00", "2031-01-02 00:00:00 +00:00", "2031-01-03 00:00:00 +00:00"])
        let all = try tasks(cli)
        let one = all.first { $0["name"] as? String == "one" }!
        XCTAssertEqual(one["schedule_kind"] as? String, "once")
        XCTAssertEqual(one["active"] as? Bool, true)
        XCTAssertNotNil(one["next_fire"] as? String)
    }

    func testBadInputIsRefusedNamingTheFieldAndCreatesNothing() throws {
        let cli = try demo()
        let before = try tasks(cli).count
        let db = try DatabaseQueue(path: cli.databasePath)
        let changelogBefore = try db.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM changelog")! }
        let cases: [([String], Int32, String)] = [
            (["--cron", "61 * * * *"], 2, "minute: 61 is out of range 0–59"),
            (["--cron", "0 0 30 2 *"], 2, "can never fire"),
            (["--cron", "0 0 31 4 *"], 2, "can never fire"),
            (["--cron", "* * * *"], 2, "expected 5"),
            (["--every", "5x"], 2, "every: '5x' has an unknown unit 'x'"),
            (["--every", "0s"], 2, "every: '0s' is zero"),
            (["--every", "10"], 2, "ends without a unit"),
            (["--every", "5m", "--start", "2031-01-02", "--end", "2031-01-01"], 2, "end: 2031-01-01"),
            (["--every", "5m", "--start", "soon"], 2, "start: 'soon' is not an ISO 8601 time"),
            (["--every", "5m", "--timezone", "Mars/Olympus"], 2, "timezone: 'Mars/Olympus' is not a known time zone"),
            (["--at", "2001-01-01T00:00Z"], 2, "at: 2001-01-01 00:00:00 +00:00 is in the past"),
            (["--at", "2031-02-30T00:00Z"], 2, "at: day 30"),
            (["--every", "5m", "--end", "2001-01-01"], 2, "end:"),
            (["--every", "5m", "--cron", "* * * * *"], 2, "exactly one of --every, --cron or --at"),
            ([], 2, "exactly one of --every, --cron or --at"),
            (["--every", "5m", "--max-instances", "0"], 2, "max-instances: 0"),
            (["--every", "5m", "--misfire", "sometimes"], 2, "misfire"),
            (["--every", "5m", "--param", "novalue"], 2, "param: 'novalue' is not k=v"),
            (["--every", "5m", "--devices", "no-such-device"], 1, "devices: no device named 'no-such-device'"),
            (["--every", "5m", "--pools", "no-such-pool"], 1, "pools: no pool named 'no-such-pool'"),
        ]
        for (args, code, message) in cases {
            let r = try cli.run(["task", "add", "bad", "--service", "pause"] + args)
            XCTAssertEqual(r.status, code, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(message), "\(args): \(r.stderr)")
        }
        let unknown = try cli.run(["task", "add", "bad", "--service", "no such service", "--every", "5m"])
        XCTAssertEqual(unknown.status, 1)
        XCTAssertTrue(unknown.stderr.contains("service: no service or workflow named 'no such service'"), unknown.stderr)
        XCTAssertEqual(try tasks(cli).count, before, "nothing created")
        XCTAssertEqual(try db.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM changelog")! }, changelogBefore)
        // A duplicate name is refused and the first task is left as it was.
        XCTAssertEqual(try cli.run(["task", "add", "dup", "--service", "pause", "--every", "5m"]).status, 0)
        let dup = try cli.run(["task", "add", "dup", "--service", "pause", "--every", "10m"])
        XCTAssertEqual(dup.status, 1)
        XCTAssertTrue(dup.stderr.contains("already exists"), dup.stderr)
        XCTAssertEqual(try tasks(cli).first { $0["name"] as? String == "dup" }?["interval_seconds"] as? Int, 300)
        let count = try cli.run(["task", "next", "dup", "--count", "0"])
        XCTAssertEqual(count.status, 2, count.stderr)
    }

    /// The example tasks (imported inactive) can be enabled; an imported task with a broken schedule
    /// cannot, and says why.
    func testImportedTasksEnableOrExplainWhyNot() throws {
        let cli = try demo()
        let r = try cli.run(["task", "enable", "nightly backup"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let db = try DatabaseQueue(path: cli.databasePath)
        try db.write { db in try db.execute(sql: "UPDATE task SET cron = '0 0 31 2 *', active = 0, next_fire = NULL WHERE name = 'nightly backup'") }
        let bad = try cli.run(["task", "enable", "nightly backup"])
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.stderr.contains("cannot be enabled: cron: '0 0 31 2 *' can never fire"), bad.stderr)
        let list = try cli.run(["task", "list"])
        XCTAssertEqual(list.status, 0, list.stderr)
        XCTAssertTrue(list.stdout.contains("(invalid)"), list.stdout)
    }

    /// The real engine process fires a 2-second interval task at least twice within 5 s, and no more
    /// once it is disabled.
    func testTheEngineFiresAnIntervalTaskInRealTimeAndStopsWhenDisabled() throws {
        let cli = try CLI()
        let services = try cli.write("services.json", """
            {"services": [{"name": "nothing", "kind": "wait", "parameters": {"seconds": 0}}]}
            """)
        let imported = try cli.run(["import", services])
        XCTAssertEqual(imported.status, 0, imported.stderr)
        let engine = Process()
        engine.executableURL = URL(fileURLWithPath: CLI.binary)
        engine.arguments = ["engine"]
        engine.environment = cli.environment
        let log = cli.dir + "/engine.log"
        FileManager.default.createFile(atPath: log, contents: nil)
        engine.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        engine.standardOutput = FileHandle.nullDevice
        try engine.run()
        defer { if engine.isRunning { kill(engine.processIdentifier, SIGKILL); engine.waitUntilExit() } }

        let db = try DatabaseQueue(path: cli.databasePath)
        func runs() throws -> [Row] {
            try db.read { db in try Row.fetchAll(db, sql: "SELECT run.status, run.trigger FROM run JOIN task ON task.id = run.task_id WHERE task.name = 'tick'") }
        }
        let added = Date()
        // Starting on the next whole second (without --start the first fire is one interval away).
        let start = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: floor(added.timeIntervalSince1970) + 1))
        let add = try cli.run(["task", "add", "tick", "--service", "nothing", "--every", "2s", "--start", start, "--enable"])
        XCTAssertEqual(add.status, 0, add.stderr)
        var fired: [Row] = []
        while Date().timeIntervalSince(added) < 5 {
            fired = try runs()
            if fired.count >= 2 { break }
            usleep(50_000)
        }
        let engineLog = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        XCTAssertGreaterThanOrEqual(fired.count, 2, "runs within 5 s of adding the task; engine log:\n\(engineLog)")
        for r in fired { XCTAssertEqual(r["trigger"] as String, "scheduler") }
        // The runs really ran: the engine completes them.
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, try runs().contains(where: { ($0["status"] as String) != "completed" }) { usleep(50_000) }
        XCTAssertTrue(try runs().allSatisfy { ($0["status"] as String) == "completed" }, "\((try? runs()) ?? [])")

        let disable = try cli.run(["task", "disable", "tick"])
        XCTAssertEqual(disable.status, 0, disable.stderr)
        let afterDisable = try runs().count
        // Two and a half intervals with nothing: a negative can only be shown by waiting.
        usleep(5_000_000)
        XCTAssertEqual(try runs().count, afterDisable, "fired after being disabled")
        kill(engine.processIdentifier, SIGTERM)
        engine.waitUntilExit()
        let list = try cli.run(["task", "list", "--json"])
        let t = (try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as! [[String: Any]]).first { $0["name"] as? String == "tick" }!
        XCTAssertEqual(t["last_run_status"] as? String, "completed")
    }
}
