import Foundation
import Lab
import PostgresTestSupport
import Store
import StorePostgres
import XCTest

/// A workflow's run spread over the unit queue (`engine.unit_queue`, issue 15): each device's walk
/// through a workflow with device traversal is one unit, claimed by any of several real engine
/// processes on one PostgreSQL database. The lab's ledger (every login and command its devices
/// received) is the witness that each device was walked once, independent of anything the engines or
/// the database say.
final class FleetWorkflowLabCLITests: XCTestCase, EngineProcesses {
    var cli: CLI!
    var engines: [Process] = []
    var psqlOn: ((String) throws -> String)!

    override func tearDownWithError() throws {
        killEngines()
        if cli != nil { _ = try? cli.run(["lab", "down"], limit: 30) }
    }

    /// Two `cli` nodes and a configuration node, and the workflows made of them (each with device
    /// traversal, the default, and a `max_processes` that caps nothing here).
    static let services = """
        {"services": [
          {"name": "wf interfaces", "kind": "cli", "parameters": {"commands": ["show interfaces"]}},
          {"name": "wf version", "kind": "cli", "parameters": {"commands": ["show version"]}},
          {"name": "wf check", "kind": "cli", "parameters": {"commands": ["show version"]},
           "validation": {"kind": "contains", "value": "Cisco IOS Software"}},
          {"name": "wf loopback", "kind": "config", "parameters": {"lines": ["interface Loopback77", "description by-switchboard"]}},
          {"name": "wf audit", "kind": "workflow", "traversal": "device", "max_processes": 100,
           "members": ["wf interfaces", "wf version"], "start": "wf interfaces"},
          {"name": "wf checked", "kind": "workflow", "traversal": "device", "max_processes": 100,
           "members": ["wf interfaces", "wf check"], "start": "wf interfaces"},
          {"name": "wf change", "kind": "workflow", "traversal": "device", "max_processes": 100,
           "members": ["wf version", "wf loopback"], "start": "wf version"},
          {"name": "wf backup node", "kind": "backup"},
          {"name": "wf backup", "kind": "workflow", "traversal": "device", "max_processes": 100,
           "members": ["wf version", "wf backup node"], "start": "wf version"}],
         "workflow_edges": [
          {"name": "audit", "workflow": "wf audit", "source": "wf interfaces", "destination": "wf version", "subtype": "success"},
          {"name": "checked", "workflow": "wf checked", "source": "wf interfaces", "destination": "wf check", "subtype": "success"},
          {"name": "change", "workflow": "wf change", "source": "wf version", "destination": "wf loopback", "subtype": "success"},
          {"name": "backup", "workflow": "wf backup", "source": "wf version", "destination": "wf backup node", "subtype": "success"}]}
        """

    /// A lab of `labDevices` generated devices (`lab-NNNN`, platforms in turn) plus the example
    /// network's, in the database with the workflows above. The unit queue is switched on explicitly.
    func setUpLab(name: String, labDevices: Int, latencyMs: Int, maxProcess: Int, settings: String? = nil) throws -> [String] {
        let server = try PostgresTestServer.require()
        cli = try CLI()
        cli.environment.removeValue(forKey: "SSH_AUTH_SOCK")
        if let settings { _ = try cli.write("config/switchboard/settings.json", settings) }
        let database = try server.createDatabase(name)
        psqlOn = { [server, database] sql in try server.psql(database, sql).trimmingCharacters(in: .whitespacesAndNewlines) }
        cli.environment["SWITCHBOARD_DB"] = server.socketURL(database)
        cli.environment["SWITCHBOARD_ENGINE_UNIT_QUEUE"] = "true"
        cli.environment["SWITCHBOARD_AUTOMATION_MAX_PROCESS"] = String(maxProcess)
        let count = labDevices + LabTopology.standard.count
        var up = ["lab", "up", "--devices", String(count), "--crypto", "p256",
                  "--base-port", String(LabPorts.freeBasePort(devices: count, relay: latencyMs > 0))]
        if latencyMs > 0 { up += ["--latency", "\(latencyMs)ms"] }
        let lab = try cli.run(up, limit: 120)
        XCTAssertEqual(lab.status, 0, lab.stdout + lab.stderr)
        let imported = try cli.run(["import", try cli.write("workflows.json", Self.services)])
        XCTAssertEqual(imported.status, 0, imported.stdout + imported.stderr)
        let devices = try psql("SELECT string_agg(name, ',' ORDER BY name) FROM device WHERE name LIKE 'lab-%'").split(separator: ",").map(String.init)
        XCTAssertEqual(devices.count, labDevices)
        return devices
    }

    func psql(_ sql: String) throws -> String { try psqlOn(sql) }

    func ledger() throws -> LabLedger {
        let status = try cli.run(["lab", "status", "--json"])
        XCTAssertEqual(status.status, 0, status.stderr)
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try LabLedger(lab: try decoder.decode(LabStatus.self, from: Data(status.stdout.utf8)))
    }

    func waitFor(_ what: String, timeout: Double, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if (try? condition()) == true { return }
            usleep(200_000)
        }
        XCTFail("timed out waiting for: \(what)\n\(engineLogs(lastLines: 30))")
        throw XCTSkip("condition never held: \(what)")
    }

    func startEngines(_ n: Int) throws {
        let before = engines.count
        for _ in 0..<n { try launchEngine() }
        try waitFor("\(n) engines registered", timeout: 30) {
            try Int(self.psql("SELECT count(*) FROM engine WHERE heartbeat_at > now() - interval '5 seconds'"))! >= n && self.engines.count == before + n
        }
    }

    func enqueue(_ workflow: String, _ devices: [String]) throws -> Int64 {
        let backend = try PostgresBackend(url: try PostgresURL(parsing: cli.environment["SWITCHBOARD_DB"]!, source: "test"), environment: [:])
        return try XCTUnwrap(try RunQueue(database: backend).enqueue(service: workflow, trigger: .cli, user: "test", devices: devices).id)
    }

    func waitForEnd(_ run: Int64, timeout: Double = 150) throws {
        try waitFor("run \(run) ended", timeout: timeout) { !["queued", "running"].contains(try self.psql("SELECT status FROM run WHERE id = \(run)")) }
    }

    /// `device service success` for each result of a run, sorted: what a run gives per node per device.
    func resultRows(_ run: Int64) throws -> [String] {
        try psql("SELECT string_agg(device_name || ' ' || service_name || ' ' || success, ',' ORDER BY device_name, service_name) FROM result WHERE run_id = \(run)")
            .split(separator: ",").map(String.init)
    }

    /// The `device:count` of each device's log lines in a run.
    func linesPerDevice(_ run: Int64) throws -> String {
        try psql("SELECT string_agg(device || ':' || n, ',' ORDER BY device) FROM (SELECT device, count(*) AS n FROM run_log WHERE run_id = \(run) AND device <> '' GROUP BY device) c")
    }

    /// The devices whose unit has more than one claim (retried after their engine was lost).
    func retried(_ run: Int64) throws -> Set<String> {
        Set(try psql("SELECT coalesce(string_agg(device_name, ','), '') FROM run_unit WHERE run_id = \(run) AND attempts > 1").split(separator: ",").map(String.init))
    }

    /// kill -9 of the engine with the most of the run's units in flight; returns it and the devices
    /// whose walks it held when it died (read after the kill: they stay claimed by it until their
    /// lease, 3 s, expires).
    func killBusiestEngine(_ run: Int64) throws -> (Process, Set<String>) {
        let pid = try XCTUnwrap(Int32(try psql("""
            SELECT e.pid FROM run_unit u JOIN engine e ON e.id = u.engine_id
            WHERE u.run_id = \(run) AND u.status = 'claimed' GROUP BY e.pid ORDER BY count(*) DESC LIMIT 1
            """)))
        let victim = try XCTUnwrap(engines.first { $0.processIdentifier == pid })
        kill(pid, SIGKILL)
        victim.waitUntilExit()
        let held = Set(try psql("""
            SELECT coalesce(string_agg(u.device_name, ','), '') FROM run_unit u JOIN engine e ON e.id = u.engine_id
            WHERE u.run_id = \(run) AND u.status = 'claimed' AND e.pid = \(pid)
            """).split(separator: ",").map(String.init))
        print("killed engine \(pid) walking \(held.sorted())")
        return (victim, held)
    }

    // MARK: tests

    /// 3 engines walk 24 lab devices through a two-node workflow: one unit per device, each claimed
    /// once, every engine walking some; each device received each node's command once (the lab's
    /// ledger); the results per node per device, and each device's log lines, are what the same
    /// workflow run whole on one engine gives; `results RUN` names each device's engine.
    func testAWorkflowRunIsSpreadAsOneWalkPerDeviceOverThreeEngines() throws {
        let devices = try setUpLab(name: "wfspread", labDevices: 24, latencyMs: 50, maxProcess: 3)
        try startEngines(3)
        let runId = try enqueue("wf audit", devices)
        try waitForEnd(runId)

        XCTAssertEqual(try psql("SELECT status || ' ' || progress_done || '/' || progress_total || ' ' || progress_failed FROM run WHERE id = \(runId)"),
                       "completed 24/24 0", engineLogs(lastLines: 30))
        XCTAssertEqual(try psql("SELECT count(*) || ' ' || count(DISTINCT device_name) || ' ' || bool_and(service_name = 'wf audit') || ' ' || bool_and(NOT mutating) FROM run_unit WHERE run_id = \(runId)"),
                       "24 24 true true", "one read-only unit per device, the device's walk of the workflow")
        XCTAssertEqual(try psql("SELECT count(*) FROM run_unit WHERE run_id = \(runId) AND attempts = 1 AND status = 'succeeded'"), "24")
        let perEngine = try psql("SELECT string_agg(n::text, ',' ORDER BY n) FROM (SELECT count(*) AS n FROM run_unit WHERE run_id = \(runId) GROUP BY engine_id) c")
        XCTAssertEqual(perEngine.split(separator: ",").count, 3, "each engine walked some devices: \(perEngine)")
        XCTAssertEqual(try psql("SELECT count(*) FROM result r JOIN run_unit u ON u.run_id = r.run_id AND u.device_name = r.device_name WHERE r.run_id = \(runId) AND r.engine_id IS DISTINCT FROM u.engine_id"),
                       "0", "each node's result names the engine that walked its device")
        let spreadResults = try resultRows(runId)
        XCTAssertEqual(spreadResults.count, 72, "each device: its two nodes and its workflow outcome")
        XCTAssertEqual(Set(spreadResults), Set(devices.flatMap { ["\($0) wf audit true", "\($0) wf interfaces true", "\($0) wf version true"] }))
        XCTAssertEqual(try psql("SELECT count(*) = max(seq) FROM run_log WHERE run_id = \(runId)"), "t", "a gap-free log sequence")

        let ledger = try ledger()
        XCTAssertEqual(ledger.malformed, [])
        for command in ["show interfaces", "show version"] {
            XCTAssertEqual(ledger.duplicates(of: command), [:], "devices that received `\(command)` more than once")
            XCTAssertEqual(Set(ledger.count(of: command).keys), Set(devices), "every device, and no other, received `\(command)`")
        }

        let text = try cli.run(["results", String(runId)])
        XCTAssertEqual(text.status, 0, text.stderr)
        let heads = text.stdout.split(separator: "\n").filter { $0.hasPrefix("== ") }
        XCTAssertFalse(heads.isEmpty, text.stdout)
        XCTAssertTrue(heads.allSatisfy { $0.contains(" · engine #") }, text.stdout)

        // The same workflow run whole by one engine with the queue off: the same results per node per
        // device, and the same number of log lines per device.
        killEngines()
        cli.environment["SWITCHBOARD_ENGINE_UNIT_QUEUE"] = "false"
        try startEngines(1)
        let whole = try enqueue("wf audit", devices)
        try waitForEnd(whole)
        XCTAssertEqual(try psql("SELECT status || ' ' || progress_done || '/' || progress_total FROM run WHERE id = \(whole)"), "completed 24/24")
        XCTAssertEqual(try psql("SELECT count(*) FROM run_unit WHERE run_id = \(whole)"), "0", "run whole")
        XCTAssertEqual(try resultRows(whole), spreadResults)
        XCTAssertEqual(try linesPerDevice(whole), try linesPerDevice(runId))
    }

    /// kill -9 of the engine with the most walks in flight, a quarter of the way through a read-only
    /// workflow over 40 lab devices: its walks are walked again from the start by the other engines,
    /// once, with the attempt counted in every result of the retried walk; the run completes with one
    /// result per node per device, as one engine gives. The ledger: a device received a node's
    /// command twice only when its walk was retried.
    func testAKilledEnginesReadOnlyWalksAreWalkedAgainElsewhereOnce() throws {
        let devices = try setUpLab(name: "wfkill", labDevices: 40, latencyMs: 100, maxProcess: 4)
        cli.environment["SWITCHBOARD_ENGINE_ACTIVE_THRESHOLD_S"] = "3"  // the lease: recovery within seconds
        try startEngines(3)
        let runId = try enqueue("wf audit", devices)
        try waitFor("a quarter of the walks done, and some in flight", timeout: 120) {
            try Int(self.psql("SELECT count(*) FROM run_unit WHERE run_id = \(runId) AND status = 'succeeded'"))! >= 10
                && Int(self.psql("SELECT count(*) FROM run_unit WHERE run_id = \(runId) AND status = 'claimed'"))! >= 2
        }
        let (victim, held) = try killBusiestEngine(runId)
        try waitForEnd(runId)

        XCTAssertEqual(try psql("SELECT status || ' ' || progress_done || '/' || progress_total || ' ' || progress_failed FROM run WHERE id = \(runId)"),
                       "completed 40/40 0", engineLogs(lastLines: 30))
        let retried = try retried(runId)
        XCTAssertFalse(retried.isEmpty, "the dead engine's walks were retried")
        XCTAssertTrue(retried.isSubset(of: held), "only the dead engine's walks: \(retried.subtracting(held).sorted())")
        XCTAssertEqual(try psql("SELECT max(attempts) FROM run_unit WHERE run_id = \(runId)"), "2", "retried once")
        XCTAssertEqual(try psql("SELECT count(*) FROM run_unit WHERE run_id = \(runId) AND attempts = 2 AND engine_id = (SELECT id FROM engine WHERE pid = \(victim.processIdentifier))"),
                       "0", "retried by another engine")
        XCTAssertEqual(Set(try resultRows(runId)), Set(devices.flatMap { ["\($0) wf audit true", "\($0) wf interfaces true", "\($0) wf version true"] }))
        XCTAssertEqual(try psql("SELECT count(*) FROM result WHERE run_id = \(runId)"), "120", "one result per node per device")
        let list = retried.sorted().map { "'\($0)'" }.joined(separator: ",")
        XCTAssertEqual(try psql("SELECT count(*) FILTER (WHERE attempts = 2) || '/' || count(*) FROM result WHERE run_id = \(runId) AND device_name IN (\(list))"),
                       "\(retried.count * 3)/\(retried.count * 3)", "a retried walk's results count its first attempt")
        let ledger = try ledger()
        for command in ["show interfaces", "show version"] {
            let counts = ledger.count(of: command)
            XCTAssertEqual(Set(counts.keys), Set(devices), "every device received `\(command)`")
            let twice = Set(counts.filter { $0.value > 1 }.keys)
            XCTAssertTrue(twice.isSubset(of: retried), "only retried walks sent `\(command)` twice: \(twice.subtracting(retried).sorted())")
            XCTAssertLessThanOrEqual(counts.values.max() ?? 0, 2)
        }
    }

    /// A workflow with a configuration node: each device's walk is one configuration-changing unit.
    /// kill -9 of the engine walking the most devices: those walks end `lost`, each with a failed
    /// workflow result naming why, never walked again (one `show version` and at most one loopback
    /// per device in the ledger); the other devices complete.
    func testAKilledEnginesConfigurationChangingWalksEndLost() throws {
        let all = try setUpLab(name: "wfchange", labDevices: 64, latencyMs: 100, maxProcess: 2)
        // The configuration node on the lab's Cisco IOS devices (every fourth generated one).
        let devices = try psql("SELECT string_agg(name, ',' ORDER BY name) FROM device WHERE name LIKE 'lab-%' AND platform = 'cisco_ios'")
            .split(separator: ",").map(String.init)
        XCTAssertEqual(devices.count, 16, "\(all.count) lab devices")
        cli.environment["SWITCHBOARD_ENGINE_ACTIVE_THRESHOLD_S"] = "3"
        try startEngines(3)
        let runId = try enqueue("wf change", devices)
        try waitFor("some walks done, and some in flight", timeout: 120) {
            try Int(self.psql("SELECT count(*) FROM run_unit WHERE run_id = \(runId) AND status = 'succeeded'"))! >= 3
                && Int(self.psql("SELECT count(*) FROM run_unit WHERE run_id = \(runId) AND status = 'claimed'"))! >= 2
        }
        let (_, held) = try killBusiestEngine(runId)
        try waitForEnd(runId)

        XCTAssertEqual(try psql("SELECT count(*) FROM run_unit WHERE run_id = \(runId) AND NOT mutating"), "0", "every walk can change configuration")
        let lost = Set(try psql("SELECT coalesce(string_agg(device_name, ','), '') FROM run_unit WHERE run_id = \(runId) AND status = 'lost'")
            .split(separator: ",").map(String.init))
        XCTAssertFalse(lost.isEmpty, "the dead engine's walks ended lost\n\(engineLogs(lastLines: 30))")
        XCTAssertTrue(lost.isSubset(of: held), "only the dead engine's walks: \(lost.subtracting(held).sorted())")
        XCTAssertEqual(try psql("SELECT max(attempts) FROM run_unit WHERE run_id = \(runId)"), "1", "no walk was walked again")
        XCTAssertEqual(try psql("SELECT status || ' ' || progress_done || '/' || progress_total || ' ' || progress_failed FROM run WHERE id = \(runId)"),
                       "failed 16/16 \(lost.count)")
        var expected = Set<String>()
        for d in devices {
            expected.formUnion(lost.contains(d) ? ["\(d) wf change false"] : ["\(d) wf change true", "\(d) wf loopback true", "\(d) wf version true"])
        }
        XCTAssertEqual(Set(try resultRows(runId)), expected)
        XCTAssertEqual(try psql("SELECT count(*) FROM result WHERE run_id = \(runId) AND NOT success AND output LIKE 'lost, not repeated (it changes configuration)%'"),
                       String(lost.count))
        let ledger = try ledger()
        XCTAssertEqual(ledger.duplicates(of: "show version"), [:], "no device walked twice")
        XCTAssertEqual(ledger.duplicates(of: "interface Loopback77"), [:], "no configuration sent twice")
        XCTAssertEqual(Set(ledger.count(of: "interface Loopback77").keys).intersection(Set(devices).subtracting(lost)), Set(devices).subtracting(lost))
    }

    /// Restart from a node of a workflow run spread over 2 engines: the first run's check fails on
    /// the devices that are not Cisco IOS; the check is fixed and the run restarted from it. The
    /// restart's devices are those without a successful check in the first run's results (written by
    /// both engines); the restart run is spread over both engines too, each device's walk starting at
    /// the check (no `show interfaces` again); `run --follow` ends with the run, as for a whole run.
    func testARestartFromANodeOfASpreadWorkflowRunIsSpreadFromThatNode() throws {
        let devices = try setUpLab(name: "wfrestart", labDevices: 24, latencyMs: 50, maxProcess: 3)
        try startEngines(2)
        let first = try enqueue("wf checked", devices)
        try waitForEnd(first)
        XCTAssertEqual(try psql("SELECT count(DISTINCT engine_id) FROM result WHERE run_id = \(first)"), "2", "the first run's results came from both engines")
        let passed = Set(try psql("SELECT string_agg(device_name, ',') FROM result WHERE run_id = \(first) AND service_name = 'wf check' AND success")
            .split(separator: ",").map(String.init))
        XCTAssertEqual(passed.count, 6, "the Cisco IOS devices passed the check")
        XCTAssertEqual(try psql("SELECT status || ' ' || progress_done || '/' || progress_total || ' ' || progress_failed FROM run WHERE id = \(first)"), "failed 24/24 18")

        _ = try psql("UPDATE service SET validation = '{}' WHERE name = 'wf check'")
        XCTAssertEqual(try psql("SELECT validation::text FROM service WHERE name = 'wf check'"), "{}")
        let restarted = try cli.run(["run", "--restart", String(first), "--from", "wf check", "--follow"], limit: 120)
        XCTAssertEqual(restarted.status, 0, restarted.stdout + restarted.stderr + engineLogs(lastLines: 30))
        let second = try XCTUnwrap(Int64(try psql("SELECT max(id) FROM run")))
        XCTAssertEqual(try psql("SELECT restart_of || ' ' || restart_from || ' ' || status || ' ' || progress_done || '/' || progress_total FROM run WHERE id = \(second)"),
                       "\(first) wf check completed 18/18")
        let remaining = Set(devices).subtracting(passed)
        XCTAssertEqual(Set(try psql("SELECT string_agg(device_name, ',') FROM run_unit WHERE run_id = \(second)").split(separator: ",").map(String.init)),
                       remaining, "one unit per device without a successful check")
        XCTAssertEqual(try psql("SELECT count(DISTINCT engine_id) FROM run_unit WHERE run_id = \(second)"), "2", "the restart is spread over both engines")
        XCTAssertEqual(Set(try resultRows(second)), Set(remaining.flatMap { ["\($0) wf check true", "\($0) wf checked true"] }),
                       "each walk started at the check")
        XCTAssertEqual(try psql("SELECT count(*) FROM run_log WHERE run_id = \(second) AND message = 'restarting from ''wf check'' (restart of run \(first))'"), "1")
        let ledger = try ledger()
        XCTAssertEqual(ledger.duplicates(of: "show interfaces"), [:], "the restart did not walk the first node again")
        let versions = ledger.count(of: "show version")
        XCTAssertEqual(Set(versions.filter { $0.value == 2 }.keys), remaining)
        XCTAssertEqual(Set(versions.filter { $0.value == 1 }.keys), passed)
    }

    /// A spread workflow run's end is a whole run's: its backup node's configurations, committed by
    /// each engine that walked some devices, are pushed by that engine once its last walk of the run
    /// ends (the remote ends at the local head with every device's configuration), and its `change`
    /// notification, sent once by the engine that ends the run, lists every device's change (read
    /// back from the run's snapshots, whichever engine took them).
    func testASpreadWorkflowRunPushesItsBackupsAndNotifiesItsChanges() throws {
        let remote = NSTemporaryDirectory() + "wfunits-remote-\(UUID().uuidString).git"
        defer { try? FileManager.default.removeItem(atPath: remote) }
        _ = try plainGit(["init", "-q", "--bare", "-b", "main", remote], home: NSTemporaryDirectory())
        _ = try setUpLab(name: "wfbackup", labDevices: 0, latencyMs: 50, maxProcess: 1, settings: #"{"git": {"remote": "\#(remote)"}}"#)
        cli.environment["XDG_STATE_HOME"] = cli.dir + "/state"
        let http = try Receiver(python: "/usr/bin/python3", script: Receiver.http, directory: cli.dir + "/http")
        defer { http.stop() }
        cli.environment["SWITCHBOARD_WEBHOOK_URL"] = "http://127.0.0.1:\(http.port)/hook"
        try startEngines(2)
        let devices = ["par-acc1", "par-acc2", "lon-acc1", "nyc-acc1"]
        let backend = try PostgresBackend(url: try PostgresURL(parsing: cli.environment["SWITCHBOARD_DB"]!, source: "test"), environment: [:])
        let runId = try XCTUnwrap(try RunQueue(database: backend).enqueue(
            service: "wf backup", trigger: .cli, user: "test", devices: devices,
            parameters: ["notify": .object(["when": .string("change"), "channels": .array([.string("webhook")])])]).id)
        try waitForEnd(runId, timeout: 120)
        XCTAssertEqual(try psql("SELECT status || ' ' || progress_done || '/' || progress_total FROM run WHERE id = \(runId)"), "completed 4/4",
                       engineLogs(lastLines: 30))
        XCTAssertEqual(try psql("SELECT count(DISTINCT engine_id) FROM run_unit WHERE run_id = \(runId)"), "2", "walked by both engines")
        let repo = cli.dir + "/data/switchboard/network_data"
        let remoteFiles = try plainGit(["--git-dir", remote, "ls-tree", "-r", "--name-only", "main"], home: cli.dir)
        XCTAssertEqual(try psql("SELECT count(*) FROM run_log WHERE run_id = \(runId) AND message LIKE 'git: the configuration was not committed%'"), "0",
                       "every backup committed (two engines once raced to create the repository)")
        let runLog = try psql("SELECT string_agg(device || ' ' || service || ' ' || message, E'\\n' ORDER BY seq) FROM run_log WHERE run_id = \(runId)")
        for device in devices { XCTAssertTrue(remoteFiles.contains("configurations/\(device)"), "\(device) pushed: \(remoteFiles)\n\(runLog)\n\(engineLogs(lastLines: 30))") }
        XCTAssertEqual(try plainGit(["--git-dir", remote, "rev-parse", "main"], home: cli.dir), try plainGit(["-C", repo, "rev-parse", "HEAD"], home: cli.dir))
        let posts = http.received(atLeast: 1).map { try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        sleep(2)
        XCTAssertEqual(http.received(atLeast: 1).count, 1, "one notification, from the engine that ended the run")
        let body = try XCTUnwrap(posts.first?["body"] as? [String: Any], "the change notification was sent")
        XCTAssertEqual(body["status"] as? String, "completed")
        let changes = (body["changes"] as? [[String: Any]]) ?? []
        XCTAssertEqual(Set(changes.compactMap { $0["device"] as? String }), Set(devices), "\(body)")
        XCTAssertTrue(changes.allSatisfy { ($0["diff"] as? String)?.contains("+++") == true }, "\(changes)")
    }
}
