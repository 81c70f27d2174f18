import Foundation
import Lab
import PostgresTestSupport
import Store
import StorePostgres
import XCTest

/// Several engines on one PostgreSQL database (issue 15, stage 1: work shared at the run level):
/// real `switchboard engine` processes of the built binary registering, claiming, heartbeating,
/// losing one to kill -9, firing scheduled tasks, and seeing stop requests; and SQLite's one engine.
final class FleetCLITests: XCTestCase, EngineProcesses {
    var cli: CLI!
    var engines: [Process] = []
    var server: PostgresTestServer!
    var database = ""
    var url = ""

    static let services = """
    {
      "services": [
        {"name": "quick", "kind": "wait", "parameters": {"seconds": 0}},
        {"name": "long nap", "kind": "wait", "parameters": {"seconds": 60}},
        {"name": "nap", "kind": "wait", "parameters": {"seconds": 1},
         "devices": ["par-core1", "par-core2", "par-dist1", "par-dist2"], "max_processes": 1},
        {"name": "ledger", "kind": "unix", "timeout": 30,
         "parameters": {"command": "echo {{payload.n}} $PPID >> LEDGER; sleep 0.2"}},
        {"name": "spread ledger", "kind": "unix", "timeout": 30, "pools": ["all-devices"], "max_processes": 3,
         "parameters": {"command": "echo {{device.name}} $PPID >> LEDGER-units; sleep 0.3"}},
        {"name": "spread nap", "kind": "wait", "pools": ["all-devices"], "max_processes": 3, "parameters": {"seconds": 2}},
        {"name": "unit nap", "kind": "wait", "parameters": {"seconds": 8}},
        {"name": "spread slow ledger", "kind": "unix", "timeout": 30, "pools": ["all-devices"], "max_processes": 3,
         "parameters": {"command": "echo {{device.name}} $PPID >> LEDGER-slow; sleep 2"}}
      ]
    }
    """

    override func tearDownWithError() throws {
        killEngines()
    }

    /// A PostgreSQL database with the example inventory and this test's services.
    func setUpPostgres(_ name: String, settings: [String: String] = [:]) throws {
        server = try PostgresTestServer.require()
        cli = try CLI()
        database = try server.createDatabase(name)
        url = server.socketURL(database)
        cli.environment["SWITCHBOARD_DB"] = url
        for (key, value) in settings { cli.environment[key] = value }
        XCTAssertEqual(try cli.run(["import", CLI.repositoryRoot + "/setup/examples/switchboard.json"]).status, 0)
        let services = try cli.write("fleet-services.json", Self.services.replacingOccurrences(of: "LEDGER", with: cli.dir + "/ledger"))
        let imported = try cli.run(["import", services])
        XCTAssertEqual(imported.status, 0, imported.stderr)
    }

    func backend() throws -> PostgresBackend {
        try PostgresBackend(url: try PostgresURL(parsing: url, source: "test"), environment: [:])
    }

    /// A foreground `switchboard engine`, its log in a file.
    @discardableResult
    func startEngine(_ extra: [String] = []) throws -> Process { try launchEngine(extra) }

    func engineLogs() -> String { engineLogs(lastLines: nil) }

    /// `switchboard engines --json`.
    func listedEngines() throws -> [EngineEntry] {
        let out = try cli.run(["engines", "--json"])
        XCTAssertEqual(out.status, 0, out.stderr)
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode([EngineEntry].self, from: Data(out.stdout.utf8))
    }

    func waitFor(_ what: String, timeout: Double = 30, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try condition() { return }
            usleep(100_000)
        }
        XCTFail("timed out waiting for: \(what)\n\(engineLogs())")
        throw XCTSkip("condition never held: \(what)")
    }

    func psql(_ sql: String) throws -> String {
        try server.psql(database, sql).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The example network on the lab in a fresh database (`DemoLabOnPostgres`), as this test's.
    func startDemoLab(_ name: String, _ environment: [String: String] = [:]) throws -> DemoLabOnPostgres {
        server = try PostgresTestServer.require()
        let lab = try DemoLabOnPostgres.start(server, name: name, environment: environment)
        (cli, database, url) = (lab.cli, lab.database, lab.url)
        return lab
    }

    func startThreeEngines(_ extra: [String] = []) throws {
        for _ in 0..<3 { try startEngine(extra) }
        try waitFor("three engines registered and active") {
            let listed = try self.listedEngines()
            return listed.count == 3 && listed.allSatisfy { $0.state == .active }
        }
    }

    // MARK: tests

    /// 3 engines on one database share a queue of 60 runs: each run executes exactly once (the
    /// ledger the runs append to, with the pid of the engine that ran each), each engine takes
    /// some, and the run table names the engine that ran it.
    func testThreeEnginesShareAQueueAndEveryRunExecutesOnce() throws {
        try setUpPostgres("fleetqueue", settings: ["SWITCHBOARD_AUTOMATION_ALLOW_UNIX": "true", "SWITCHBOARD_ENGINE_MAX_RUNS": "4"])
        try startThreeEngines()
        // The whole queue at once, in one transaction: the engines compete for it from the first run.
        try backend().transaction { tx in
            for n in 1...60 { _ = try tx.enqueueRun(service: "ledger", trigger: .cli, user: "test", parameters: ["n": .int(n)]) }
        }
        try waitFor("every run ended", timeout: 90) { try self.psql("SELECT count(*) FROM run WHERE status IN ('queued', 'running')") == "0" }
        XCTAssertEqual(try psql("SELECT count(*) FROM run WHERE status = 'completed'"), "60", engineLogs())

        let ledger = try String(contentsOfFile: cli.dir + "/ledger", encoding: .utf8)
            .split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        XCTAssertEqual(ledger.count, 60, "executions: \(ledger.count)")
        XCTAssertEqual(Set(ledger.map { $0[0] }), Set((1...60).map(String.init)), "each run once")
        let pids = Set(engines.map { String($0.processIdentifier) })
        let ran = Dictionary(grouping: ledger, by: { $0[1] }).mapValues(\.count)
        XCTAssertEqual(Set(ran.keys), pids, "every engine ran some runs, and only engines did: \(ran)")

        // The run table records who ran each, as the ledger does.
        let recorded = try psql("SELECT string_agg((parameters->>'n') || ' ' || engine_pid, ',' ORDER BY id) FROM run")
            .split(separator: ",").map(String.init)
        XCTAssertEqual(Set(recorded), Set(ledger.map { $0.joined(separator: " ") }))
        let registered = try listedEngines()
        XCTAssertEqual(try psql("SELECT count(DISTINCT engine_id) FROM run"), "3")
        XCTAssertEqual(try psql("SELECT count(*) FROM run WHERE engine_id NOT IN (\(registered.compactMap(\.id).map(String.init).joined(separator: ",")))"), "0")
        XCTAssertEqual(try psql("SELECT count(DISTINCT engine_host) FROM run WHERE engine_host = '\(EngineIdentity.thisHost)'"), "1")

        // `engine --stop` stops every engine of this host; their registrations go with them.
        let stop = try cli.run(["engine", "--stop"])
        XCTAssertEqual(stop.status, 0, stop.stdout + stop.stderr)
        XCTAssertEqual(stop.stdout.components(separatedBy: "stopped").count - 1, 3, stop.stdout)
        for p in engines { p.waitUntilExit(); XCTAssertEqual(p.terminationStatus, 0) }
        XCTAssertEqual(try listedEngines().count, 0)
        XCTAssertEqual(try cli.run(["engine", "--status"]).status, 1)
    }

    /// The same over SSH: the example network on the lab (real sshd), `show version` runs queued two
    /// per device and shared by 3 engines: every run completes with exactly one result, on its device.
    func testThreeEnginesShareRunsOverTheLab() throws {
        let lab = try startDemoLab("fleetlab", ["SWITCHBOARD_ENGINE_MAX_RUNS": "3"])
        defer { lab.down() }
        let devices = lab.devices
        let queue = RunQueue(database: try backend())
        for _ in 0..<2 {
            for device in devices { _ = try queue.enqueue(service: "show version", trigger: .cli, user: "test", devices: [device]) }
        }
        try startThreeEngines()
        try waitFor("every run ended", timeout: 180) { try self.psql("SELECT count(*) FROM run WHERE status IN ('queued', 'running')") == "0" }
        let unfinished = try psql("SELECT string_agg(id || ' ' || status || ' ' || reason, E'\n') FROM run WHERE status <> 'completed'")
        XCTAssertEqual(try psql("SELECT count(*) FROM run WHERE status = 'completed' AND progress_done = 1 AND progress_failed = 0"), "36",
                       unfinished + engineLogs())
        // One result per run, on the run's own device; each device's two runs.
        XCTAssertEqual(try psql("SELECT count(*) FROM result"), "36")
        XCTAssertEqual(try psql("""
            SELECT count(*) FROM run r JOIN result x ON x.run_id = r.id
            WHERE x.success AND x.device_name = r.targets->'devices'->>0
            """), "36")
        XCTAssertEqual(try psql("SELECT count(*) FROM (SELECT device_name FROM result GROUP BY device_name HAVING count(*) = 2) d"), "18")
        let spread = try psql("SELECT string_agg(n::text, ',' ORDER BY n) FROM (SELECT count(*) AS n FROM run GROUP BY engine_id) c")
        XCTAssertGreaterThanOrEqual(spread.split(separator: ",").count, 2, "runs per engine: \(spread)")
        print("lab runs per engine: \(spread)")
    }

    /// The unit queue over the lab: one `show version` run over the 18 lab devices (real SSH) spreads
    /// over 3 engines, each unit claimed once (`run_unit`: one claim each, by several engines) and the
    /// run as with one engine: completed, one successful result per device, gap-free lines.
    func testOneRunOverTheLabSpreadsOverThreeEngines() throws {
        let lab = try startDemoLab("fleetlabunits", ["SWITCHBOARD_AUTOMATION_MAX_PROCESS": "2"])
        defer { lab.down() }
        let devices = lab.devices
        try startThreeEngines()
        let run = try RunQueue(database: try backend()).enqueue(service: "show version", trigger: .cli, user: "test", devices: devices)
        let runId = try XCTUnwrap(run.id)
        try waitFor("the run ended", timeout: 180) { !["queued", "running"].contains(try self.psql("SELECT status FROM run WHERE id = \(runId)")) }
        XCTAssertEqual(try psql("SELECT status || ' ' || progress_done || '/' || progress_total || ' ' || progress_failed FROM run WHERE id = \(runId)"),
                       "completed 18/18 0", engineLogs())
        XCTAssertEqual(try psql("SELECT count(*) || ' ' || count(DISTINCT device_name) || ' ' || bool_and(success) FROM result WHERE run_id = \(runId)"),
                       "18 18 true")
        XCTAssertEqual(try psql("SELECT count(*) FROM run_unit WHERE run_id = \(runId) AND attempts = 1 AND status = 'succeeded'"), "18")
        let spread = try psql("SELECT count(DISTINCT engine_id) FROM run_unit WHERE run_id = \(runId)")
        XCTAssertGreaterThanOrEqual(Int(spread) ?? 0, 2, "units ran on several engines: \(spread)")
        XCTAssertEqual(try psql("SELECT count(*) = max(seq) FROM run_log WHERE run_id = \(runId)"), "t")
    }

    /// `switchboard engines` shows 3 active engines; one killed with -9 turns lost after
    /// engine.active_threshold_s (by the database's clock), and another engine interrupts its
    /// running run with a reason naming it (host and pid). The other engines' runs go on.
    func testAKilledEngineIsLostAndItsRunEndsInterruptedNamingIt() throws {
        try setUpPostgres("fleetlost", settings: ["SWITCHBOARD_ENGINE_ACTIVE_THRESHOLD_S": "2", "SWITCHBOARD_ENGINE_DROP_THRESHOLD_S": "60",
                                                  "SWITCHBOARD_ENGINE_MAX_RUNS": "1"])
        try startThreeEngines()
        let table = try cli.run(["engines"])
        XCTAssertEqual(table.status, 0, table.stderr)
        XCTAssertEqual(table.stdout.components(separatedBy: " active ").count - 1, 3, table.stdout)
        for p in engines { XCTAssertTrue(table.stdout.contains(" \(p.processIdentifier) "), table.stdout) }
        XCTAssertTrue(table.stdout.contains("HEARTBEAT") && table.stdout.contains("IN FLIGHT") && table.stdout.contains("CAPACITY"), table.stdout)

        for _ in 0..<3 { XCTAssertEqual(try cli.run(["run", "long nap"]).status, 0) }
        try waitFor("three runs running, one per engine") {
            try self.psql("SELECT count(DISTINCT engine_pid) FROM run WHERE status = 'running'") == "3"
        }
        let victim = engines[1]
        let runId = try psql("SELECT id FROM run WHERE status = 'running' AND engine_pid = \(victim.processIdentifier)")
        XCTAssertEqual(try listedEngines().map(\.inFlight), [1, 1, 1])
        let killed = Date()
        kill(victim.processIdentifier, SIGKILL)
        victim.waitUntilExit()

        try waitFor("the killed engine listed lost", timeout: 15) {
            try self.listedEngines().first { $0.pid == victim.processIdentifier }?.state == .lost
        }
        let lostAfter = Date().timeIntervalSince(killed)
        XCTAssertGreaterThanOrEqual(lostAfter, 1.5, "lost only after the active threshold")
        let listed = try listedEngines()
        XCTAssertEqual(listed.filter { $0.state == .active }.count, 2, "\(listed)")
        let text = try cli.run(["engines"]).stdout
        XCTAssertTrue(text.split(separator: "\n").contains { $0.contains(" \(victim.processIdentifier) ") && $0.contains(" lost ") }, text)

        try waitFor("its run interrupted", timeout: 10) { try self.psql("SELECT status FROM run WHERE id = \(runId)") == "interrupted" }
        let reason = try psql("SELECT reason FROM run WHERE id = \(runId)")
        XCTAssertTrue(reason.contains("pid \(victim.processIdentifier) on host \(EngineIdentity.thisHost)"), reason)
        XCTAssertTrue(reason.contains("lost"), reason)
        let lastLine = try psql("SELECT message FROM run_log WHERE run_id = \(runId) ORDER BY seq DESC LIMIT 1")
        XCTAssertTrue(lastLine.hasPrefix("run interrupted: ") && lastLine.contains("pid \(victim.processIdentifier)"), lastLine)
        XCTAssertEqual(try psql("SELECT count(*) FROM run WHERE status = 'running'"), "2", "the other engines' runs go on")
        let status = try cli.run(["engine", "--status"])
        XCTAssertEqual(status.status, 0)
        XCTAssertTrue(status.stdout.split(separator: "\n").contains { $0.hasPrefix("engine lost on ") && $0.contains("pid \(victim.processIdentifier) (#") },
                      status.stdout)
        XCTAssertEqual(status.stdout.components(separatedBy: "engine running on ").count - 1, 2, status.stdout)

        // The console's `:engines` shows the same, on PostgreSQL, in a real terminal.
        let tmux = try Tmux(environment: cli.environment, width: 150, height: 20)
        defer { tmux.kill() }
        tmux.line(CLI.binary)
        XCTAssertTrue(tmux.wait(for: "bastion"), tmux.capture())
        tmux.type(":engines")
        tmux.keys("Enter")
        let shown = tmux.wait {
            let rows = tmux.lines()
            return rows.contains { $0.contains(" \(victim.processIdentifier) ") && $0.contains(" lost ") }
                && rows.filter { $0.contains(" active ") }.count == 2
        }
        XCTAssertTrue(shown, tmux.capture())
        XCTAssertTrue(tmux.capture().contains("engines"), tmux.capture())
        tmux.type(":q")
        tmux.keys("Enter")
        XCTAssertTrue(tmux.wait(for: "sbshell$"), tmux.capture())
    }

    /// The unit queue on (`engine.unit_queue`): one run over the example network's devices spreads
    /// over 3 engine processes (each taking one unit at a time, the service at most 3 at once across
    /// them): every device's unit executes exactly once (the ledger, with the pid of the engine that
    /// ran it), several engines ran some, and the run looks as with one engine: one result per device,
    /// progress, gap-free log sequence numbers, one end.
    func testOneRunSpreadsOverThreeEnginesUnitByUnitAndEachUnitRunsOnce() throws {
        try setUpPostgres("fleetunits", settings: ["SWITCHBOARD_AUTOMATION_ALLOW_UNIX": "true", "SWITCHBOARD_ENGINE_UNIT_QUEUE": "true",
                                                   "SWITCHBOARD_AUTOMATION_MAX_PROCESS": "1"])
        try startThreeEngines()
        XCTAssertEqual(try cli.run(["run", "spread ledger"]).status, 0)
        let runId = try psql("SELECT max(id) FROM run")
        try waitFor("the run ended", timeout: 60) { try self.psql("SELECT status FROM run WHERE id = \(runId)") != "running"
            && (try self.psql("SELECT status FROM run WHERE id = \(runId)")) != "queued" }
        let devices = Int(try psql("SELECT count(*) FROM run_unit WHERE run_id = \(runId)")) ?? 0
        XCTAssertGreaterThanOrEqual(devices, 10, "the run was spread as units")
        XCTAssertEqual(try psql("SELECT status || ' ' || progress_done || '/' || progress_total || ' ' || progress_failed FROM run WHERE id = \(runId)"),
                       "completed \(devices)/\(devices) 0", engineLogs())
        let ledger = try String(contentsOfFile: cli.dir + "/ledger-units", encoding: .utf8).split(separator: "\n").map { $0.split(separator: " ") }
        XCTAssertEqual(ledger.count, devices, "each unit executed once: \(ledger)")
        XCTAssertEqual(Set(ledger.map { String($0[0]) }).count, devices, "every device once")
        let pids = Set(ledger.map { Int32($0[1]) ?? 0 })
        XCTAssertTrue(pids.isSubset(of: Set(engines.map(\.processIdentifier))), "run by the engines: \(pids)")
        XCTAssertGreaterThanOrEqual(pids.count, 2, "the run spread over several engines: \(pids)")
        XCTAssertEqual(try psql("SELECT count(*) || ' ' || count(DISTINCT device_name) || ' ' || bool_and(success) FROM result WHERE run_id = \(runId)"),
                       "\(devices) \(devices) true")
        XCTAssertEqual(try psql("SELECT count(*) = max(seq) FROM run_log WHERE run_id = \(runId)"), "t", "gap-free sequence numbers")
        XCTAssertEqual(try psql("SELECT count(*) FROM run_log WHERE run_id = \(runId) AND message LIKE 'run \(runId) completed%'"), "1", "one end")
        XCTAssertEqual(try psql("SELECT max(attempts) FROM run_unit WHERE run_id = \(runId)"), "1")
    }

    /// The unit queue seen from the CLI: `switchboard engines` counts the units each engine holds as
    /// in flight (a spread run is not one run of the engine that spread it), and every result names
    /// the engine that produced it: `results RUN` tags each device with it when the run involved
    /// several engines, `--json` always carries it, and a whole run's results say nothing new.
    func testEnginesCountTheirUnitsAndResultsNameTheirEngine() throws {
        try setUpPostgres("fleetunitview", settings: ["SWITCHBOARD_ENGINE_UNIT_QUEUE": "true", "SWITCHBOARD_AUTOMATION_MAX_PROCESS": "2"])
        try startThreeEngines()
        XCTAssertEqual(try cli.run(["run", "spread nap"]).status, 0)
        let runId = try psql("SELECT max(id) FROM run")
        try waitFor("each engine's in-flight count is the units it holds, two or more in all", timeout: 30) {
            let listed = try self.listedEngines()
            let held = try self.psql("SELECT string_agg(engine_id || ':' || n, ',' ORDER BY engine_id) FROM (SELECT engine_id, count(*) n FROM run_unit WHERE status = 'claimed' GROUP BY engine_id) c")
            let shown = listed.filter { $0.inFlight > 0 }.map { "\($0.id ?? 0):\($0.inFlight)" }.joined(separator: ",")
            return shown == held && listed.reduce(0) { $0 + $1.inFlight } >= 2
        }
        try waitFor("the run ended", timeout: 90) { try self.psql("SELECT status FROM run WHERE id = \(runId)") == "completed" }
        XCTAssertEqual(try psql("SELECT count(*) FROM result r JOIN run_unit u ON u.run_id = r.run_id AND u.device_name = r.device_name WHERE r.run_id = \(runId) AND r.engine_id IS DISTINCT FROM u.engine_id"),
                       "0", "each result names the engine that ran its unit")
        XCTAssertEqual(try psql("SELECT count(*) FROM result WHERE run_id = \(runId) AND engine_host <> '\(EngineIdentity.thisHost)'"), "0", "and its host")
        let engines = Int(try psql("SELECT count(DISTINCT engine_id) FROM result WHERE run_id = \(runId)")) ?? 0
        XCTAssertGreaterThanOrEqual(engines, 2, engineLogs())
        let text = try cli.run(["results", runId])
        XCTAssertEqual(text.status, 0, text.stderr)
        let heads = text.stdout.split(separator: "\n").filter { $0.hasPrefix("== ") }
        XCTAssertFalse(heads.isEmpty)
        XCTAssertTrue(heads.allSatisfy { $0.contains(" · engine #") && $0.contains(EngineIdentity.thisHost) }, text.stdout)
        let json = try cli.run(["results", runId, "--json"])
        let decoded = try JSONDecoder().decode([[String: JSONValue]].self, from: Data(json.stdout.utf8))
        XCTAssertTrue(!decoded.isEmpty && decoded.allSatisfy { if case .int? = $0["engineId"] { return true }; return false }, json.stdout)

        // A whole run (no devices to spread): one engine, so its results read as before.
        XCTAssertEqual(try cli.run(["run", "quick"]).status, 0)
        let quick = try psql("SELECT max(id) FROM run")
        try waitFor("the quick run ended") { try self.psql("SELECT status FROM run WHERE id = \(quick)") == "completed" }
        let single = try cli.run(["results", quick])
        XCTAssertFalse(single.stdout.contains(" · engine"), single.stdout)
        XCTAssertEqual(try psql("SELECT count(*) FROM result WHERE run_id = \(quick) AND engine_id IS NOT NULL"),
                       try psql("SELECT count(*) FROM result WHERE run_id = \(quick)"), "a whole run's results name its engine too")
    }

    /// A spread run's end actions: the engine that ends it (its last unit's finish) sends its
    /// notification, once, as a whole run's engine would, with the run's final counts.
    func testASpreadRunSendsItsNotificationOnceAtItsEnd() throws {
        try setUpPostgres("fleetunitnotify", settings: ["SWITCHBOARD_ENGINE_UNIT_QUEUE": "true", "SWITCHBOARD_AUTOMATION_MAX_PROCESS": "2"])
        let http = try Receiver(python: "/usr/bin/python3", script: Receiver.http, directory: cli.dir + "/http")
        defer { http.stop() }
        cli.environment["SWITCHBOARD_WEBHOOK_URL"] = "http://127.0.0.1:\(http.port)/hook"
        for _ in 0..<2 { try startEngine() }
        try waitFor("two engines active") { try self.listedEngines().filter { $0.state == .active }.count == 2 }
        let queued = try cli.run(["run", "spread nap", "--param", #"notify={"when": "always", "channels": ["webhook"]}"#])
        XCTAssertEqual(queued.status, 0, queued.stderr)
        let runId = try psql("SELECT max(id) FROM run")
        try waitFor("the run ended", timeout: 90) { try self.psql("SELECT status FROM run WHERE id = \(runId)") == "completed" }
        let devices = try psql("SELECT count(*) FROM run_unit WHERE run_id = \(runId)")
        XCTAssertGreaterThanOrEqual(Int(try psql("SELECT count(DISTINCT engine_id) FROM run_unit WHERE run_id = \(runId)")) ?? 0, 2, "spread")
        let posts = http.received(atLeast: 1).map { try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        sleep(2)
        XCTAssertEqual(http.received(atLeast: 1).count, 1, "one notification, from the engine that ended the run")
        let body = try XCTUnwrap(posts.first?["body"] as? [String: Any])
        XCTAssertEqual(body["status"] as? String, "completed")
        XCTAssertEqual((body["run"] as? Int).map(String.init), runId)
        XCTAssertEqual((body["done"] as? Int).map(String.init), devices)
        XCTAssertEqual((body["total"] as? Int).map(String.init), devices)
        try waitFor("the delivery logged in the run") {
            try self.psql("SELECT count(*) FROM run_log WHERE run_id = \(runId) AND message LIKE 'notify: sent to webhook%'") == "1"
        }
        XCTAssertEqual(try psql("SELECT count(*) = max(seq) FROM run_log WHERE run_id = \(runId)"), "t", "gap-free sequence numbers")
    }

    /// A spread backup over the lab ends as a whole run does: each engine that committed
    /// configurations pushes them once its last unit of the run ends, so the remote ends with every
    /// device's configuration and the local head; its `change` notification, sent by the engine
    /// that ends the run, lists every device's change (read back from the run's snapshots).
    func testASpreadBackupPushesItsConfigurations() throws {
        server = try PostgresTestServer.require()
        cli = try CLI()
        database = try server.createDatabase("fleetunitgit")
        url = server.socketURL(database)
        cli.environment["SWITCHBOARD_DB"] = url
        cli.environment["SWITCHBOARD_ENGINE_UNIT_QUEUE"] = "true"
        cli.environment["SWITCHBOARD_AUTOMATION_MAX_PROCESS"] = "1"
        cli.environment.removeValue(forKey: "SSH_AUTH_SOCK")
        cli.environment["XDG_STATE_HOME"] = cli.dir + "/state"
        let up = try cli.run(["lab", "up", "--base-port", String(LabPorts.freeBasePort(devices: 20))])
        defer { _ = try? cli.run(["lab", "down"]) }
        XCTAssertEqual(up.status, 0, up.stdout + up.stderr)
        let remote = cli.dir + "/remote.git"
        _ = try plainGit(["init", "-q", "--bare", "-b", "main", remote], home: cli.dir)
        _ = try cli.write("config/switchboard/settings.json", #"{"git": {"remote": "\#(remote)"}}"#)
        let devices = ["par-acc1", "par-acc2", "lon-acc1", "nyc-acc1"]
        let services = try cli.write("services.json", """
            {"format": "switchboard-inventory", "version": 1, "services": [
             {"name": "backup", "kind": "backup", "devices": [\(devices.map { "\"\($0)\"" }.joined(separator: ", "))]}]}
            """)
        XCTAssertEqual(try cli.run(["import", services]).status, 0)
        let http = try Receiver(python: "/usr/bin/python3", script: Receiver.http, directory: cli.dir + "/http")
        defer { http.stop() }
        cli.environment["SWITCHBOARD_WEBHOOK_URL"] = "http://127.0.0.1:\(http.port)/hook"
        for _ in 0..<2 { try startEngine() }
        try waitFor("two engines active") { try self.listedEngines().filter { $0.state == .active }.count == 2 }
        XCTAssertEqual(try cli.run(["run", "backup", "--param", #"notify={"when": "change", "channels": ["webhook"]}"#]).status, 0)
        let runId = try psql("SELECT max(id) FROM run")
        try waitFor("the run ended", timeout: 120) { !["queued", "running"].contains(try self.psql("SELECT status FROM run WHERE id = \(runId)")) }
        XCTAssertEqual(try psql("SELECT r.status || ' ' || count(u.id) FROM run r JOIN run_unit u ON u.run_id = r.id WHERE r.id = \(runId) GROUP BY r.status"),
                       "completed \(devices.count)", engineLogs())
        let repo = cli.dir + "/data/switchboard/network_data"
        let remoteFiles = try plainGit(["--git-dir", remote, "ls-tree", "-r", "--name-only", "main"], home: cli.dir)
        for device in devices { XCTAssertTrue(remoteFiles.contains("configurations/\(device)"), "\(device) pushed: \(remoteFiles)\n\(engineLogs())") }
        XCTAssertEqual(try plainGit(["--git-dir", remote, "rev-parse", "main"], home: cli.dir), try plainGit(["-C", repo, "rev-parse", "HEAD"], home: cli.dir))
        XCTAssertNotEqual(try psql("SELECT count(*) FROM run_log WHERE run_id = \(runId) AND message LIKE 'git: pushed to%'"), "0")
        let posts = http.received(atLeast: 1).map { try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        let body = try XCTUnwrap(posts.first?["body"] as? [String: Any], "the change notification was sent")
        let changes = (body["changes"] as? [[String: Any]]) ?? []
        XCTAssertEqual(Set(changes.compactMap { $0["device"] as? String }), Set(devices), "\(body)")
        XCTAssertTrue(changes.allSatisfy { ($0["diff"] as? String)?.contains("+++") == true }, "\(changes)")
    }

    /// The unit queue, kill -9 mid-run: the engines holding a read-only unit (`wait`) and a
    /// configuration-changing one (`unix`) are killed; both runs complete on the engine left. The
    /// read-only unit is retried there, its attempt counted; the unix unit ends `lost` with the
    /// reason and is never run again (the ledger has each device once).
    func testKilledEnginesUnitsAreRetriedIfReadOnlyAndLostIfTheyChangeConfiguration() throws {
        try setUpPostgres("fleetunitkill", settings: ["SWITCHBOARD_AUTOMATION_ALLOW_UNIX": "true", "SWITCHBOARD_ENGINE_UNIT_QUEUE": "true",
                                                      "SWITCHBOARD_AUTOMATION_MAX_PROCESS": "2", "SWITCHBOARD_ENGINE_ACTIVE_THRESHOLD_S": "2",
                                                      "SWITCHBOARD_ENGINE_DROP_THRESHOLD_S": "60"])
        try startThreeEngines()
        XCTAssertEqual(try cli.run(["run", "spread nap"]).status, 0)
        XCTAssertEqual(try cli.run(["run", "spread slow ledger"]).status, 0)
        let napRun = try psql("SELECT id FROM run WHERE service_name = 'spread nap'")
        let ledgerRun = try psql("SELECT id FROM run WHERE service_name = 'spread slow ledger'")
        var holders: (reading: Int64, changing: Int64) = (0, 0)
        try waitFor("units of both kinds in flight", timeout: 30) {
            let rows = try self.psql("SELECT mutating, engine_id FROM run_unit WHERE status = 'claimed' ORDER BY id").split(separator: "\n")
                .map { $0.split(separator: "|") }
            guard let r = rows.first(where: { $0[0] == "f" }), let c = rows.first(where: { $0[0] == "t" }) else { return false }
            holders = (Int64(r[1]) ?? 0, Int64(c[1]) ?? 0)
            return true
        }
        let listed = try listedEngines()
        let victims = Set([holders.reading, holders.changing]).compactMap { id in listed.first { $0.id == id }?.pid }
        XCTAssertFalse(victims.isEmpty)
        let inFlight = try psql("SELECT string_agg(id::text, ',') FROM run_unit WHERE status = 'claimed' AND engine_id IN (\(holders.reading), \(holders.changing))")
        for pid in victims { kill(pid, SIGKILL) }
        for p in engines where victims.contains(p.processIdentifier) { p.waitUntilExit() }

        try waitFor("both runs ended", timeout: 90) {
            try self.psql("SELECT count(*) FROM run WHERE status IN ('queued', 'running')") == "0"
        }
        XCTAssertEqual(try psql("SELECT status FROM run WHERE id = \(napRun)"), "completed", engineLogs())
        let retried = try psql("SELECT count(*) FROM run_unit WHERE run_id = \(napRun) AND attempts = 2 AND id IN (\(inFlight))")
        XCTAssertGreaterThanOrEqual(Int(retried) ?? 0, 1, "the killed engine's read-only units retried elsewhere")
        XCTAssertEqual(try psql("SELECT count(*) FROM result WHERE run_id = \(napRun) AND attempts = 2"), retried, "their second attempt counted")
        XCTAssertEqual(try psql("SELECT count(*) || ' ' || count(DISTINCT device_name) FROM result WHERE run_id = \(napRun)"),
                       try psql("SELECT count(*) || ' ' || count(*) FROM run_unit WHERE run_id = \(napRun)"), "one result per device")

        XCTAssertEqual(try psql("SELECT status FROM run WHERE id = \(ledgerRun)"), "failed", engineLogs())
        let lost = try psql("SELECT string_agg(device_name, ',') FROM run_unit WHERE run_id = \(ledgerRun) AND status = 'lost'")
        XCTAssertFalse(lost.isEmpty, "the killed engine's unix unit ended lost")
        XCTAssertEqual(try psql("SELECT count(*) FROM run_unit WHERE run_id = \(ledgerRun) AND attempts > 1"), "0", "no configuration-changing unit claimed twice")
        let reason = try psql("SELECT output FROM result WHERE run_id = \(ledgerRun) AND NOT success LIMIT 1")
        XCTAssertTrue(reason.contains("lost, not repeated") && reason.contains("expired"), reason)
        let ledger = try String(contentsOfFile: cli.dir + "/ledger-slow", encoding: .utf8).split(separator: "\n").map { String($0.split(separator: " ")[0]) }
        XCTAssertEqual(ledger.count, Set(ledger).count, "no device's unix unit ran twice: \(ledger)")
        XCTAssertEqual(ledger.count, Int(try psql("SELECT count(*) FROM run_unit WHERE run_id = \(ledgerRun)")), "and every one ran")
        XCTAssertEqual(try psql("SELECT count(*) = max(seq) FROM run_log WHERE run_id = \(ledgerRun)"), "t")
    }

    /// The unit queue, `switchboard stop` of a spread run: the engines stop its units in flight, its
    /// queued units never start, and the run ends `aborted` with the stop's reason within seconds.
    func testAStoppedSpreadRunEndsAbortedAndStartsNothingMore() throws {
        try setUpPostgres("fleetunitabort", settings: ["SWITCHBOARD_ENGINE_UNIT_QUEUE": "true", "SWITCHBOARD_AUTOMATION_MAX_PROCESS": "1"])
        try startThreeEngines()
        XCTAssertEqual(try cli.run(["run", "spread nap"]).status, 0)
        let runId = try psql("SELECT max(id) FROM run")
        try waitFor("units in flight") { try self.psql("SELECT count(*) FROM run_unit WHERE run_id = \(runId) AND status = 'claimed'") != "0" }
        let stopped = Date()
        XCTAssertEqual(try cli.run(["stop", runId]).status, 0)
        try waitFor("the run aborted", timeout: 10) { try self.psql("SELECT status FROM run WHERE id = \(runId)") == "aborted" }
        XCTAssertLessThan(Date().timeIntervalSince(stopped), 5, "ended within seconds, not at the units' end or a lease's")
        XCTAssertTrue(try psql("SELECT reason FROM run WHERE id = \(runId)").hasPrefix("stopped by "))
        let statuses = try psql("SELECT string_agg(status, ',') FROM run_unit WHERE run_id = \(runId)")
        XCTAssertEqual(try psql("SELECT count(*) FROM run_unit WHERE run_id = \(runId) AND status IN ('queued', 'claimed', 'succeeded')"), "0", statuses)
        // As a whole run's: progress counts what ran, not the units that never started.
        XCTAssertEqual(try psql("""
            SELECT progress_done = (SELECT count(*) FROM run_unit WHERE run_id = \(runId) AND status IN ('failed', 'lost')) AND progress_done < progress_total
            FROM run WHERE id = \(runId)
            """), "t", statuses)
        XCTAssertEqual(try psql("SELECT count(*) FROM run_log WHERE run_id = \(runId) AND message LIKE 'run \(runId) aborted in %'"), "1", "one closing line")
        sleep(1)
        XCTAssertEqual(try psql("SELECT count(*) FROM run_unit WHERE run_id = \(runId) AND attempts > 1"), "0", "nothing started again")
    }

    /// The unit queue, SIGSTOP past the lease then SIGCONT: the stopped engine's unit is recovered and
    /// retried by the other engine; continued, the stopped engine's late writes for it are refused
    /// (it says so and stops the unit), so the run has one result per device, the retry's.
    func testAnEngineStoppedPastItsLeaseWritesNothingLateForItsUnit() throws {
        try setUpPostgres("fleetunitstop", settings: ["SWITCHBOARD_ENGINE_UNIT_QUEUE": "true", "SWITCHBOARD_AUTOMATION_MAX_PROCESS": "1",
                                                      "SWITCHBOARD_ENGINE_ACTIVE_THRESHOLD_S": "2", "SWITCHBOARD_ENGINE_DROP_THRESHOLD_S": "60"])
        for _ in 0..<2 { try startEngine() }
        try waitFor("two engines active") { try self.listedEngines().filter { $0.state == .active }.count == 2 }
        XCTAssertEqual(try cli.run(["run", "spread nap"]).status, 0)
        let runId = try psql("SELECT max(id) FROM run")
        var held: (unit: String, engine: Int64) = ("", 0)
        try waitFor("a unit in flight") {
            let row = try self.psql("SELECT id, engine_id FROM run_unit WHERE status = 'claimed' ORDER BY id LIMIT 1").split(separator: "|")
            guard row.count == 2 else { return false }
            held = (String(row[0]), Int64(row[1]) ?? 0)
            return true
        }
        let pid = try XCTUnwrap(try listedEngines().first { $0.id == held.engine }?.pid)
        let index = try XCTUnwrap(engines.firstIndex { $0.processIdentifier == pid })
        kill(pid, SIGSTOP)
        var continued = false
        defer { if !continued { kill(pid, SIGCONT) } }
        try waitFor("its unit recovered and claimed again by the other engine", timeout: 20) {
            try self.psql("SELECT attempts FROM run_unit WHERE id = \(held.unit)") == "2"
        }
        kill(pid, SIGCONT)
        continued = true
        try waitFor("the run ended", timeout: 90) { try self.psql("SELECT status FROM run WHERE id = \(runId)") == "completed" }
        try waitFor("the continued engine refused its late writes") {
            let log = (try? String(contentsOfFile: self.cli.dir + "/engine-\(index).log", encoding: .utf8)) ?? ""
            return log.contains("unit #\(held.unit)") && log.contains("no longer this engine's")
        }
        XCTAssertEqual(try psql("SELECT count(*) || ' ' || count(DISTINCT device_name) FROM result WHERE run_id = \(runId)"),
                       try psql("SELECT count(*) || ' ' || count(*) FROM run_unit WHERE run_id = \(runId)"), "one result per device, none late")
        XCTAssertEqual(try psql("SELECT r.attempts FROM result r JOIN run_unit u ON u.run_id = r.run_id AND u.device_name = r.device_name WHERE u.id = \(held.unit)"),
                       "2", "the retry's result, its attempt counted")
        XCTAssertEqual(try psql("SELECT count(*) = max(seq) FROM run_log WHERE run_id = \(runId)"), "t")
    }

    /// Leases with real engine processes: the holder executes two units (`engine.unit_queue`), so its
    /// heartbeat keeps their leases alive past their length (it renews only the units it works on);
    /// once it is stopped (SIGSTOP) past the lease, or killed (kill -9), another engine's housekeeping
    /// requeues its read-only unit and ends its configuration-changing one `lost`; every write under
    /// the old lease is refused, even after SIGCONT (its heartbeat does not revive an expired lease);
    /// the run is not interrupted for its engine's death but ends once its last unit does.
    func testUnitLeasesLiveByTheHeartbeatAndAreRecoveredByAnotherEngine() throws {
        try setUpPostgres("fleetleases", settings: ["SWITCHBOARD_ENGINE_ACTIVE_THRESHOLD_S": "2", "SWITCHBOARD_ENGINE_DROP_THRESHOLD_S": "60"])
        let store = try backend()
        let napId = try XCTUnwrap(Int64(try psql("SELECT id FROM service WHERE name = 'unit nap'")))
        for (index, signal) in [SIGSTOP, SIGKILL].enumerated() {
            // The holder executes units; the finder only keeps house (it takes none of them).
            cli.environment["SWITCHBOARD_ENGINE_UNIT_QUEUE"] = "true"
            let holder = try startEngine()
            cli.environment["SWITCHBOARD_ENGINE_UNIT_QUEUE"] = "false"
            try waitFor("the holder registered") { try self.listedEngines().contains { $0.pid == holder.processIdentifier && $0.state == .active } }
            let holderId = try XCTUnwrap(try listedEngines().first { $0.pid == holder.processIdentifier }?.id)
            // A run spread over units (inserted running: the engines would otherwise execute it whole).
            let runId = try XCTUnwrap(Int64(try psql("""
                INSERT INTO run (service_id, service_name, trigger, "user", status, created_at, started_at, engine_id, engine_pid)
                SELECT id, name, 'cli', 'test', 'running', now(), now(), \(holderId), \(holder.processIdentifier) FROM service WHERE name = 'unit nap'
                RETURNING id
                """).split(separator: "\n").first.map(String.init) ?? ""))
            let core1 = try XCTUnwrap(Int64(try psql("SELECT id FROM device WHERE name = 'par-core1'")))
            let core2 = try XCTUnwrap(Int64(try psql("SELECT id FROM device WHERE name = 'par-core2'")))
            let units = try store.enqueueUnits(run: runId, [
                RunUnitSpec(serviceId: napId, serviceName: "unit nap", deviceId: core1, deviceName: "par-core1", mutating: false, maxProcesses: 0),
                RunUnitSpec(serviceId: napId, serviceName: "unit nap", deviceId: core2, deviceName: "par-core2", mutating: true, maxProcesses: 0)], lines: [])
            try waitFor("the holder claimed both units") {
                try self.psql("SELECT count(*) FROM run_unit WHERE run_id = \(runId) AND status = 'claimed' AND engine_id = \(holderId)") == "2"
            }
            let claimed = try store.units(run: runId)
            XCTAssertEqual(claimed.map(\.id), units.map(\.id))
            sleep(4)
            XCTAssertEqual(try psql("SELECT count(*) FROM run_unit WHERE run_id = \(runId) AND status = 'claimed' AND lease_expires_at > now()"), "2",
                           "the holder's heartbeat renewed its leases past their 2 s\n\(engineLogs())")
            let lease = try XCTUnwrap(claimed[0].lease)
            XCTAssertTrue(try store.writeUnitJournal(JournalBatch(lines: [RunLogLine(runId: runId, seq: 1, time: Date(), level: .info,
                device: "par-core1", service: "unit nap", message: "in time")]), lease: lease), "a write under a live lease lands")

            kill(holder.processIdentifier, signal)
            if signal == SIGKILL { holder.waitUntilExit() }
            let finder = try startEngine()
            try waitFor("the read-only unit requeued and the mutating one lost", timeout: 20) {
                try self.psql("SELECT string_agg(status || ':' || attempts, ',' ORDER BY id) FROM run_unit WHERE run_id = \(runId)") == "queued:1,lost:1"
            }
            let finderLog = try String(contentsOfFile: cli.dir + "/engine-\(engines.count - 1).log", encoding: .utf8)
            XCTAssertTrue(finderLog.contains("requeued 1 read-only unit of a lost engine"), finderLog)
            XCTAssertTrue(finderLog.contains("ended lost 1 configuration-changing unit of a lost engine"), finderLog)
            // Another claim is the unit's second attempt: made here, before the holder can continue and
            // take it back, under an id no engine process has (an engine's heartbeat releases the units
            // it holds and does not work on).
            let retry = try store.claimUnits(engine: EngineClaimant(pid: 1, host: "test", id: 900_000 + Int64(index)), limit: 5, leaseSeconds: 30)
            XCTAssertEqual(retry.map(\.attempts), [2])
            if signal == SIGSTOP {
                kill(holder.processIdentifier, SIGCONT)
                try waitFor("the holder heartbeating again") {
                    try self.listedEngines().contains { $0.pid == holder.processIdentifier && $0.state == .active }
                }
            }
            for late in claimed.compactMap(\.lease) {
                XCTAssertFalse(try store.writeUnitJournal(JournalBatch(lines: [RunLogLine(runId: runId, seq: 1, time: Date(), level: .info,
                    device: "", service: "", message: "late")]), lease: late), "a late write under the old lease is refused")
                XCTAssertFalse(try store.finishUnit(late, success: true, batch: JournalBatch()).accepted, "a late finish is refused")
            }
            XCTAssertEqual(try psql("SELECT status FROM run WHERE id = \(runId)"), "running", "the run is not interrupted: its units carry on")
            let lostReason = try psql("SELECT reason FROM run_unit WHERE run_id = \(runId) AND status = 'lost'")
            XCTAssertTrue(lostReason.contains("engine #\(holderId)") && lostReason.contains("found by engine \(finder.processIdentifier)@"), lostReason)

            // The retry's finish ends the run, once; its result counts the lost claim.
            let end = try store.finishUnit(try XCTUnwrap(retry.first?.lease), success: true, batch: JournalBatch(results: [
                RunResult(runId: runId, serviceId: napId, serviceName: "unit nap", deviceId: core1, deviceName: "par-core1", success: true,
                          output: "ok", durationMs: 1, attempts: 1)]))
            XCTAssertEqual(end, UnitFinish(accepted: true, runEnded: .failed))
            XCTAssertEqual(try psql("SELECT status || ' ' || progress_done || '/' || progress_total || ' ' || progress_failed FROM run WHERE id = \(runId)"),
                           "failed 2/2 1")
            XCTAssertEqual(try psql("SELECT attempts FROM result WHERE run_id = \(runId) AND device_name = 'par-core1'"), "2")
            let messages = try psql("SELECT string_agg(message, '|' ORDER BY seq) FROM run_log WHERE run_id = \(runId)")
            XCTAssertTrue(messages.contains("in time") && !messages.contains("late") && messages.contains("requeued after attempt 1"), messages)
            XCTAssertEqual(try psql("SELECT count(*) = max(seq) FROM run_log WHERE run_id = \(runId)"), "t", "gap-free sequence numbers")
            for p in [holder, finder] where p.isRunning { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() }
            XCTAssertEqual(index < 1 ? "SIGSTOP" : "SIGKILL", signal == SIGSTOP ? "SIGSTOP" : "SIGKILL")
        }
    }

    /// An engine stopped (SIGSTOP) past engine.active_threshold_s is lost: another engine
    /// interrupts its run. Continued (SIGCONT), it finds the run is no longer its own, stops its
    /// device work without overwriting the run's end, heartbeats again and takes new runs.
    func testAnEngineStoppedPastItsThresholdLosesItsRunAndComesBack() throws {
        try setUpPostgres("fleetstop2", settings: ["SWITCHBOARD_ENGINE_ACTIVE_THRESHOLD_S": "2", "SWITCHBOARD_ENGINE_DROP_THRESHOLD_S": "60",
                                                   "SWITCHBOARD_ENGINE_MAX_RUNS": "1"])
        try startThreeEngines()
        for _ in 0..<3 { XCTAssertEqual(try cli.run(["run", "long nap"]).status, 0) }
        try waitFor("three runs running") { try self.psql("SELECT count(DISTINCT engine_pid) FROM run WHERE status = 'running'") == "3" }
        let paused = engines[2]
        let runId = try psql("SELECT id FROM run WHERE status = 'running' AND engine_pid = \(paused.processIdentifier)")
        kill(paused.processIdentifier, SIGSTOP)
        defer { kill(paused.processIdentifier, SIGCONT) }
        try waitFor("its run interrupted by another engine", timeout: 15) { try self.psql("SELECT status FROM run WHERE id = \(runId)") == "interrupted" }
        let reason = try psql("SELECT reason FROM run WHERE id = \(runId)")
        XCTAssertTrue(reason.contains("pid \(paused.processIdentifier) on host"), reason)
        XCTAssertEqual(try listedEngines().first { $0.pid == paused.processIdentifier }?.state, .lost)

        kill(paused.processIdentifier, SIGCONT)
        try waitFor("the continued engine active again", timeout: 10) {
            try self.listedEngines().first { $0.pid == paused.processIdentifier }?.state == .active
        }
        try waitFor("it stopped the run's device work", timeout: 10) {
            ((try? String(contentsOfFile: self.cli.dir + "/engine-2.log", encoding: .utf8)) ?? "").contains("run \(runId) is no longer this engine's")
        }
        usleep(500_000)
        XCTAssertEqual(try psql("SELECT status FROM run WHERE id = \(runId)"), "interrupted", "its late end does not overwrite the run's")
        XCTAssertEqual(try psql("SELECT reason FROM run WHERE id = \(runId)"), reason)
        // Free again, it takes the next run.
        XCTAssertEqual(try cli.run(["run", "quick"]).status, 0)
        try waitFor("the quick run completed") { try self.psql("SELECT status FROM run WHERE service_name = 'quick'") == "completed" }
        XCTAssertEqual(try psql("SELECT engine_pid FROM run WHERE service_name = 'quick'"), String(paused.processIdentifier))
    }

    /// 3 engines tick 50 tasks due every 2 s for about 20 s: every due time fires exactly once
    /// (the run table holds one run per task and due time, and no due time is missing).
    func testThreeEnginesFireEveryDueTimeOfFiftyTasksOnce() throws {
        try setUpPostgres("fleetsched")
        try startThreeEngines()
        let b = try backend()
        let service = try XCTUnwrap(try b.query { try $0.service(named: "quick") })
        let start = Date(timeIntervalSince1970: floor(Date().timeIntervalSince1970) + 4)
        try b.transaction { tx in
            for i in 0..<50 {
                var task = ScheduledTask(name: "tick-\(i)", serviceId: service.id, scheduleKind: .interval)
                task.intervalSeconds = 2
                task.startDate = start
                task.active = true
                task.maxInstances = 1_000  // a backlog of runs never skips a due time here
                try tx.upsert(task: task)
            }
        }
        let window = start.addingTimeInterval(20)
        while Date() < window.addingTimeInterval(1.5) { usleep(200_000) }
        _ = try psql("UPDATE task SET active = false, next_fire = NULL")
        let stoppedAt = Date()

        let rows = try psql("""
            SELECT string_agg(t.name || ' ' || (extract(epoch FROM r.due_at) * 1000)::bigint, ',')
            FROM run r JOIN task t ON t.id = r.task_id
            """).split(separator: ",").map { $0.split(separator: " ").map(String.init) }
        var fired: [String: [Int64]] = [:]
        for row in rows { fired[row[0], default: []].append(Int64(row[1])!) }
        let first = Int64((start.timeIntervalSince1970 * 1000).rounded())
        // Due times surely fired: those at least a second before the tasks were disabled.
        let sure = (0...).lazy.map { first + Int64($0) * 2000 }.prefix { Double($0) / 1000 <= stoppedAt.timeIntervalSince1970 - 1.5 }
        let expected = Array(sure)
        XCTAssertGreaterThanOrEqual(expected.count, 10)
        for i in 0..<50 {
            let times = (fired["tick-\(i)"] ?? []).sorted()
            XCTAssertEqual(times.count, Set(times).count, "tick-\(i): a due time fired twice: \(times)")
            XCTAssertEqual(Array(times.prefix(expected.count)), expected, "tick-\(i): every due time from the start, each once")
            XCTAssertTrue(times.allSatisfy { ($0 - first) % 2000 == 0 && $0 >= first }, "tick-\(i): only due times: \(times)")
            XCTAssertLessThanOrEqual(times.count, expected.count + 1, "tick-\(i): nothing beyond the window: \(times)")
        }
        let changelog = try psql("SELECT string_agg(content, E'\n') FROM changelog")
        XCTAssertEqual(try psql("SELECT count(*) FROM changelog WHERE content LIKE '%skipped%' OR content LIKE '%could not queue%'"), "0", changelog)
        // Engines tick together: whichever takes the tick's lock first fires, so the fires spread
        // over them (each logs its own).
        let logs = (0..<3).map { (try? String(contentsOfFile: cli.dir + "/engine-\($0).log", encoding: .utf8)) ?? "" }
        XCTAssertGreaterThanOrEqual(logs.filter { $0.contains("scheduler: task 'tick-") }.count, 2, "fires spread over the engines:\n\(engineLogs())")
    }

    /// SIGTERM drains one engine and leaves the others going: its run ends interrupted after the
    /// grace time, it removes its registration on the way out, and the next queued run goes to
    /// another engine.
    func testSIGTERMDrainsOneEngineAndLeavesTheOthersGoing() throws {
        try setUpPostgres("fleetdrain", settings: ["SWITCHBOARD_ENGINE_MAX_RUNS": "1", "SWITCHBOARD_ENGINE_STOP_GRACE_SECONDS": "1"])
        try startThreeEngines()
        for _ in 0..<3 { XCTAssertEqual(try cli.run(["run", "long nap"]).status, 0) }
        try waitFor("three runs running") { try self.psql("SELECT count(DISTINCT engine_pid) FROM run WHERE status = 'running'") == "3" }
        let drained = engines[0]
        let runId = try psql("SELECT id FROM run WHERE status = 'running' AND engine_pid = \(drained.processIdentifier)")
        kill(drained.processIdentifier, SIGTERM)
        try waitFor("the drained engine exits", timeout: 20) { !drained.isRunning }
        XCTAssertEqual(drained.terminationStatus, 0)
        XCTAssertEqual(try psql("SELECT status FROM run WHERE id = \(runId)"), "interrupted")
        XCTAssertTrue(try psql("SELECT reason FROM run WHERE id = \(runId)").contains("SIGTERM"))
        let listed = try listedEngines()
        XCTAssertEqual(listed.map(\.pid).sorted(), engines[1...].map(\.processIdentifier).sorted(), "its registration is gone")
        XCTAssertTrue(listed.allSatisfy { $0.state == .active && $0.inFlight == 1 })
        // The others go on; a run queued now waits for a free engine (each runs one at a time) and
        // is taken by one of them once the first is stopped.
        XCTAssertEqual(try cli.run(["run", "quick"]).status, 0)
        let other = try psql("SELECT id FROM run WHERE status = 'running' ORDER BY id LIMIT 1")
        XCTAssertEqual(try cli.run(["stop", other]).status, 0)
        try waitFor("the quick run completed") { try self.psql("SELECT status FROM run WHERE service_name = 'quick'") == "completed" }
        let by = try psql("SELECT engine_pid FROM run WHERE service_name = 'quick'")
        XCTAssertNotEqual(by, String(drained.processIdentifier))
        XCTAssertEqual(try psql("SELECT count(*) FROM run WHERE status = 'running'"), "1")
    }

    /// The unit queue and shutdowns: SIGTERM drains one of two engines while a spread run still has
    /// queued units: the run goes on on the other and completes, each unit once. Then the last
    /// engine is stopped at once (a second SIGTERM) with units queued: its unit in flight and the
    /// queued ones end `interrupted`, and the run ends `interrupted` with a reason naming the engine
    /// and why, said in its log, as a whole run does when its one engine stops (it stayed `running`).
    func testASpreadRunGoesOnWithAnotherEngineAndEndsInterruptedWhenTheLastLeaves() throws {
        try setUpPostgres("fleetleave", settings: ["SWITCHBOARD_AUTOMATION_MAX_PROCESS": "1"])
        for _ in 0..<2 { try startEngine() }
        try waitFor("two engines active") { try self.listedEngines().filter { $0.state == .active }.count == 2 }
        XCTAssertEqual(try cli.run(["run", "nap"]).status, 0)
        // The engine that holds a unit drains (which engine claims first is the engines' race).
        var holder = ""
        try waitFor("a unit in flight") {
            holder = try self.psql("SELECT e.pid FROM run_unit u JOIN engine e ON e.id = u.engine_id WHERE u.status = 'claimed' LIMIT 1")
            return !holder.isEmpty
        }
        let drained = try XCTUnwrap(engines.first { String($0.processIdentifier) == holder })
        let last = try XCTUnwrap(engines.first { $0 !== drained })
        kill(drained.processIdentifier, SIGTERM)
        try waitFor("the drained engine exits", timeout: 20) { !drained.isRunning }
        XCTAssertEqual(drained.terminationStatus, 0)
        try waitFor("the run ended", timeout: 30) { try self.psql("SELECT status FROM run WHERE id = 1") != "running" }
        XCTAssertEqual(try psql("SELECT status || ' ' || progress_done || '/' || progress_total FROM run WHERE id = 1"), "completed 4/4", engineLogs())
        XCTAssertEqual(try psql("SELECT count(*) FROM run_unit WHERE run_id = 1 AND status = 'succeeded' AND attempts = 1"), "4")
        XCTAssertEqual(try psql("SELECT count(DISTINCT device_name) || ' ' || count(*) FROM result WHERE run_id = 1"), "4 4")

        XCTAssertEqual(try cli.run(["run", "spread nap"]).status, 0)
        try waitFor("a unit of run 2 in flight") { try self.psql("SELECT count(*) FROM run_unit WHERE run_id = 2 AND status = 'claimed'") == "1" }
        let total = try psql("SELECT count(*) FROM run_unit WHERE run_id = 2")
        kill(last.processIdentifier, SIGTERM)
        usleep(300_000)
        kill(last.processIdentifier, SIGTERM)
        try waitFor("the last engine exits at once", timeout: 5) { !last.isRunning }
        let end = try psql("SELECT status || ' ' || progress_total FROM run WHERE id = 2")
        XCTAssertEqual(end, "interrupted \(total)", engineLogs())
        let reason = try psql("SELECT reason FROM run WHERE id = 2")
        XCTAssertTrue(reason.contains("the engine pid \(last.processIdentifier) on host \(EngineIdentity.thisHost)")
                      && reason.contains("was stopped at once by a signal before") && reason.contains("no other active engine could take them"), reason)
        XCTAssertEqual(try psql("SELECT count(*) FROM run_unit WHERE run_id = 2 AND status IN ('queued', 'claimed')"), "0")
        let logs = try cli.run(["logs", "2"])
        XCTAssertTrue(logs.stdout.contains("interrupted: the engine pid \(last.processIdentifier)") && logs.stdout.contains("run 2 interrupted in "), logs.stdout)
        XCTAssertEqual(try psql("SELECT count(*) FROM engine"), "0", "both registrations gone")
    }

    /// The unit queue and the grace time: the only engine's SIGTERM with a unit in flight longer than
    /// `engine.stop_grace_seconds` and units queued: once the grace time runs out the unit is stopped
    /// and released, and the run ends `interrupted` with a reason saying so (it stayed `running`).
    func testTheLastEnginesGraceTimeRunningOutInterruptsItsSpreadRun() throws {
        try setUpPostgres("fleetgrace", settings: ["SWITCHBOARD_AUTOMATION_MAX_PROCESS": "1", "SWITCHBOARD_ENGINE_STOP_GRACE_SECONDS": "0.5"])
        let engine = try startEngine()
        XCTAssertEqual(try cli.run(["run", "spread nap"]).status, 0)
        try waitFor("a unit in flight") { try self.psql("SELECT count(*) FROM run_unit WHERE status = 'claimed'") == "1" }
        kill(engine.processIdentifier, SIGTERM)
        try waitFor("the engine exits after its grace time", timeout: 10) { !engine.isRunning }
        XCTAssertEqual(engine.terminationStatus, 0)
        let total = try psql("SELECT count(*) FROM run_unit WHERE run_id = 1")
        XCTAssertEqual(try psql("SELECT status || ' ' || progress_done || '/' || progress_total FROM run WHERE id = 1"), "interrupted 0/\(total)", engineLogs())
        let reason = try psql("SELECT reason FROM run WHERE id = 1")
        XCTAssertTrue(reason.contains("the engine pid \(engine.processIdentifier)") && reason.contains("its grace time of 0.5 s ran out")
                      && reason.contains("before \(total) of \(total) devices ran"), reason)
        XCTAssertEqual(try psql("SELECT count(*) FROM run_unit WHERE run_id = 1 AND status <> 'interrupted'"), "0")
    }

    /// The server terminates every connection of 3 engines while each works on a unit of one of 3
    /// spread runs (the unit queue: each engine holds one unit at a time): they reconnect (heartbeats
    /// included, so none is taken for lost and no lease lapses), and every run completes once, each
    /// device's unit claimed once with one result, nothing duplicated.
    func testThreeEnginesSurviveTheServerDroppingTheirConnections() throws {
        try setUpPostgres("fleetdrop", settings: ["SWITCHBOARD_AUTOMATION_MAX_PROCESS": "1", "SWITCHBOARD_ENGINE_ACTIVE_THRESHOLD_S": "5"])
        try startThreeEngines()
        for _ in 0..<3 { XCTAssertEqual(try cli.run(["run", "nap"]).status, 0) }
        try waitFor("a unit of each run in flight, on three engines") {
            try self.psql("SELECT count(DISTINCT run_id) || ' ' || count(DISTINCT engine_id) FROM run_unit WHERE status = 'claimed'") == "3 3"
        }
        usleep(1_200_000)
        let killed = try psql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
        XCTAssertGreaterThanOrEqual(Int(killed) ?? 0, 3, "connections terminated")
        try waitFor("every run ended", timeout: 40) { try self.psql("SELECT count(*) FROM run WHERE status IN ('queued', 'running')") == "0" }
        XCTAssertEqual(try psql("SELECT string_agg(status || ' ' || progress_done || '/' || progress_total, ',') FROM run"),
                       "completed 4/4,completed 4/4,completed 4/4", engineLogs())
        XCTAssertEqual(try psql("SELECT count(*) || ' ' || count(*) FILTER (WHERE status = 'succeeded' AND attempts = 1) FROM run_unit"), "12 12",
                       "each unit claimed once and succeeded")
        XCTAssertEqual(try psql("SELECT count(*) || ' ' || count(DISTINCT (run_id, device_name)) || ' ' || bool_and(success) FROM result"),
                       "12 12 true", "one result per run and device")
        for run in 1...3 {
            XCTAssertEqual(try psql("SELECT count(*) FROM run_log WHERE run_id = \(run) AND message LIKE 'run \(run) completed%'"), "1", "run \(run) ended once")
            XCTAssertEqual(try psql("SELECT count(*) = max(seq) FROM run_log WHERE run_id = \(run)"), "t", "gap-free lines")
        }
        let listed = try listedEngines()
        XCTAssertEqual(listed.count, 3)
        XCTAssertTrue(listed.allSatisfy { $0.state == .active }, "\(listed)")
    }

    /// A stop request reaches the engine running the run within 2 s through LISTEN/NOTIFY, even
    /// when the engines poll only every 10 s.
    func testAStopRequestReachesItsEngineWithinTwoSeconds() throws {
        try setUpPostgres("fleetstop", settings: ["SWITCHBOARD_ENGINE_POLL_MS": "10000", "SWITCHBOARD_ENGINE_MAX_RUNS": "1"])
        try startThreeEngines()
        for _ in 0..<3 { XCTAssertEqual(try cli.run(["run", "long nap"]).status, 0) }
        try waitFor("three runs running") { try self.psql("SELECT count(DISTINCT engine_pid) FROM run WHERE status = 'running'") == "3" }
        usleep(500_000)
        for id in ["1", "3"] {
            let asked = Date()
            let stop = try cli.run(["stop", id])
            XCTAssertEqual(stop.status, 0, stop.stderr)
            try waitFor("run \(id) aborted", timeout: 5) { try self.psql("SELECT status FROM run WHERE id = \(id)") == "aborted" }
            // When the engine ended it (its clock: same host as this one), from before `stop` was asked.
            let ended = Double(try psql("SELECT extract(epoch FROM ended_at) FROM run WHERE id = \(id)")) ?? 0
            let took = ended - asked.timeIntervalSince1970
            print("stop request to run \(id) ended: \(Int(took * 1000)) ms")
            XCTAssertLessThan(took, 2.0, "run \(id) took \(took) s to stop")
        }
        XCTAssertEqual(try psql("SELECT status FROM run WHERE id = 2"), "running")
    }

    /// SQLite keeps its one engine: a second is refused, naming the first; `engines` lists the one
    /// that holds the lock, or none.
    func testSQLiteStillRefusesASecondEngineAndListsItsOne() throws {
        cli = try CLI()
        XCTAssertEqual(try cli.run(["import", CLI.repositoryRoot + "/setup/examples/switchboard.json"]).status, 0)
        XCTAssertEqual(try cli.run(["engines"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines), "no engine runs on \(cli.databasePath)")
        let first = try startEngine()
        try waitFor("the engine holds the lock") { EngineLock.holder(databasePath: self.cli.databasePath) == first.processIdentifier }
        let second = try cli.run(["engine"])
        XCTAssertEqual(second.status, 1)
        XCTAssertTrue(second.stderr.contains("an engine already runs") && second.stderr.contains("pid \(first.processIdentifier)"), second.stderr)
        let listed = try listedEngines()
        XCTAssertEqual(listed.map(\.pid), [first.processIdentifier])
        XCTAssertEqual(listed.first?.state, .active)
        XCTAssertEqual(listed.first?.host, EngineIdentity.thisHost)
        XCTAssertNil(listed.first?.id, "SQLite's engine has no registration")
        let table = try cli.run(["engines"])
        XCTAssertTrue(table.stdout.contains(" \(first.processIdentifier) ") && table.stdout.contains("active"), table.stdout)
        XCTAssertEqual(try cli.run(["engine", "--stop"]).status, 0)
        first.waitUntilExit()
    }
}
