import Foundation
import Lab
import PostgresTestSupport
import Store
import StorePostgres
import XCTest

/// The unit queue (`engine.unit_queue`, issue 15) at lab scale: real `switchboard engine` processes
/// on one PostgreSQL database spread one `cli` run over hundreds of lab devices, and the lab's own
/// ledger (every login and command its devices received) is the witness that each unit ran once,
/// independent of anything the engines or the database say.
final class FleetLabCLITests: XCTestCase, EngineProcesses {
    var cli: CLI!
    var engines: [Process] = []
    var database = ""
    var psqlOn: ((String) throws -> String)!

    override func tearDownWithError() throws {
        killEngines()
        if cli != nil { _ = try? cli.run(["lab", "down"], limit: 30) }
    }

    /// A lab of `labDevices` generated devices plus the example network's, its devices in the
    /// database, and a `cli` service running `show version` over the generated ones (`lab-NNNN`).
    /// The unit queue is on by default on PostgreSQL: nothing switches it on here.
    func setUpLab(server: PostgresTestServer, name: String, labDevices: Int, latencyMs: Int = 0, maxProcess: Int) throws -> [String] {
        cli = try CLI()
        cli.environment.removeValue(forKey: "SSH_AUTH_SOCK")
        database = try server.createDatabase(name)
        psqlOn = { [server, database] sql in try server.psql(database, sql).trimmingCharacters(in: .whitespacesAndNewlines) }
        cli.environment["SWITCHBOARD_DB"] = server.socketURL(database)
        cli.environment["SWITCHBOARD_AUTOMATION_MAX_PROCESS"] = String(maxProcess)
        let count = labDevices + LabTopology.standard.count
        var up = ["lab", "up", "--devices", String(count), "--crypto", "p256",
                  "--base-port", String(LabPorts.freeBasePort(devices: count, relay: latencyMs > 0))]
        if latencyMs > 0 { up += ["--latency", "\(latencyMs)ms"] }
        let lab = try cli.run(up, limit: 120)
        XCTAssertEqual(lab.status, 0, lab.stdout + lab.stderr)
        let devices = try psql("SELECT string_agg(name, ',' ORDER BY name) FROM device WHERE name LIKE 'lab-%'").split(separator: ",").map(String.init)
        XCTAssertEqual(devices.count, labDevices)
        let services = try cli.write("fleet-version.json", """
            {"services": [{"name": "fleet version", "kind": "cli", "max_processes": 100, "parameters": {"commands": ["show version"]}}]}
            """)
        let imported = try cli.run(["import", services])
        XCTAssertEqual(imported.status, 0, imported.stdout + imported.stderr)
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

    @discardableResult
    func startEngine() throws -> Process { try launchEngine() }

    func engineLogs() -> String { engineLogs(lastLines: 30) }

    func waitFor(_ what: String, timeout: Double, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if (try? condition()) == true { return }
            usleep(200_000)
        }
        XCTFail("timed out waiting for: \(what)\n\(engineLogs())")
        throw XCTSkip("condition never held: \(what)")
    }

    func startEngines(_ n: Int) throws {
        for _ in 0..<n { try startEngine() }
        try waitFor("\(n) engines registered", timeout: 30) {
            try self.psql("SELECT count(*) FROM engine") == String(n)
        }
    }

    func enqueue(_ devices: [String]) throws -> Int64 {
        let backend = try PostgresBackend(url: try PostgresURL(parsing: cli.environment["SWITCHBOARD_DB"]!, source: "test"), environment: [:])
        return try XCTUnwrap(try RunQueue(database: backend).enqueue(service: "fleet version", trigger: .cli, user: "test", devices: devices).id)
    }

    /// The lab's side: each device received exactly one `show version`, in a session of its own,
    /// and no other device received any.
    func assertLedgerShowsEachDeviceOnce(_ devices: [String], _ ledger: LabLedger, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(ledger.malformed, [], file: file, line: line)
        let counts = ledger.count(of: "show version")
        XCTAssertEqual(ledger.duplicates(of: "show version"), [:], "devices that ran `show version` more than once", file: file, line: line)
        XCTAssertEqual(Set(counts.keys), Set(devices), "missing: \(Set(devices).subtracting(counts.keys).sorted().prefix(10)); extra: \(Set(counts.keys).subtracting(devices).sorted().prefix(10))",
                       file: file, line: line)
        let sessions = ledger.entries.filter { $0.event == .command && $0.detail == "show version" }.map(\.pid)
        XCTAssertEqual(Set(sessions).count, sessions.count, "one session per `show version`", file: file, line: line)
    }

    // MARK: tests

    /// 3 engines, 600 lab devices (real sshd), one `cli` run of `show version` spread as 600 units:
    /// every unit executed exactly once. The run's results (one per device, successful), the queue
    /// (one claim per unit) and the lab's own ledger (one `show version` per device) agree, and
    /// every engine executed some of them.
    func testThreeEnginesRunSixHundredLabDevicesEachExactlyOnce() throws {
        let server = try PostgresTestServer.require()
        let devices = try setUpLab(server: server, name: "fleet600", labDevices: 600, maxProcess: 8)
        XCTAssertEqual(try ledger().entries.count, 0, "a new lab starts with an empty ledger")
        try startEngines(3)
        let started = Date()
        let runId = try enqueue(devices)
        try waitFor("the run ended", timeout: 150) { !["queued", "running"].contains(try self.psql("SELECT status FROM run WHERE id = \(runId)")) }
        print("600 units over 3 engines: \(String(format: "%.1f", Date().timeIntervalSince(started))) s")

        XCTAssertEqual(try psql("SELECT status || ' ' || progress_done || '/' || progress_total || ' ' || progress_failed FROM run WHERE id = \(runId)"),
                       "completed 600/600 0", engineLogs())
        XCTAssertEqual(try psql("SELECT count(*) || ' ' || count(DISTINCT device_name) || ' ' || bool_and(success) FROM result WHERE run_id = \(runId)"),
                       "600 600 true")
        XCTAssertEqual(try psql("SELECT count(*) FROM result WHERE run_id = \(runId) AND device_name NOT LIKE 'lab-%'"), "0")
        XCTAssertEqual(try psql("SELECT count(*) FROM run_unit WHERE run_id = \(runId) AND attempts = 1 AND status = 'succeeded'"), "600")
        let perEngine = try psql("SELECT string_agg(n::text, ',' ORDER BY n) FROM (SELECT count(*) AS n FROM run_unit WHERE run_id = \(runId) GROUP BY engine_id) c")
        print("units per engine: \(perEngine)")
        XCTAssertEqual(perEngine.split(separator: ",").count, 3, "each engine executed some units: \(perEngine)")
        // The log as one engine writes it: each device's success line once, sequence numbers without a gap.
        XCTAssertEqual(try psql("SELECT count(*) || ' ' || count(DISTINCT device) FROM run_log WHERE run_id = \(runId) AND message LIKE 'success in %'"),
                       "600 600")
        XCTAssertEqual(try psql("SELECT count(*) = max(seq) FROM run_log WHERE run_id = \(runId)"), "t")

        let ledger = try ledger()
        assertLedgerShowsEachDeviceOnce(devices, ledger)
        let logins = Dictionary(grouping: ledger.logins, by: \.device).mapValues(\.count)
        XCTAssertEqual(logins.filter { $0.value != 1 }, [:], "one login per device")
        XCTAssertEqual(Set(logins.keys), Set(devices))
    }

    /// The database server restarts (every session cut, down 2 s) while a spread run is half done
    /// on 3 engines: the engines reconnect, stay registered and active, and the run completes, with
    /// no device's unit executed twice (the lab's ledger) and one successful result per device.
    func testASpreadRunSurvivesAServerRestart() throws {
        let server = try PostgresTestServer.startOwn()
        defer { server.stop() }
        // The relay's 100 ms each way make a unit last about a second, so the run is long enough to
        // restart the server in its middle on a busy machine too.
        let devices = try setUpLab(server: server, name: "fleetrestart", labDevices: 60, latencyMs: 100, maxProcess: 2)
        try startEngines(3)
        let runId = try enqueue(devices)
        try waitFor("a sixth of the units done", timeout: 90) {
            try Int(self.psql("SELECT count(*) FROM run_unit WHERE run_id = \(runId) AND status = 'succeeded'"))! >= 10
        }
        let before = try psql("SELECT count(*) FILTER (WHERE status = 'claimed') || ' ' || count(*) FILTER (WHERE status <> 'succeeded') FROM run_unit WHERE run_id = \(runId)")
            .split(separator: " ").compactMap { Int($0) }
        XCTAssertGreaterThan(before.last ?? 0, 20, "the restart comes mid-run")
        XCTAssertGreaterThan(before.first ?? 0, 0, "units are in flight when the server goes")
        print("server restart with \(before.first ?? 0) units in flight and \(before.last ?? 0) to finish")
        try server.restart(downFor: 2)
        try waitFor("the run ended", timeout: 120) { !["queued", "running"].contains(try self.psql("SELECT status FROM run WHERE id = \(runId)")) }

        XCTAssertEqual(try psql("SELECT status || ' ' || progress_done || '/' || progress_total || ' ' || progress_failed FROM run WHERE id = \(runId)"),
                       "completed 60/60 0", engineLogs())
        XCTAssertEqual(try psql("SELECT count(*) || ' ' || count(DISTINCT device_name) || ' ' || bool_and(success) FROM result WHERE run_id = \(runId)"),
                       "60 60 true")
        XCTAssertEqual(try psql("SELECT count(*) FROM run_unit WHERE run_id = \(runId) AND attempts = 1"), "60", "no unit was claimed twice")
        assertLedgerShowsEachDeviceOnce(devices, try ledger())
        XCTAssertEqual(try psql("SELECT count(*) = max(seq) FROM run_log WHERE run_id = \(runId)"), "t", "gap-free log sequence")
        XCTAssertEqual(try psql("SELECT count(*) || ' ' || count(DISTINCT device) FROM run_log WHERE run_id = \(runId) AND message LIKE 'success in %'"),
                       "60 60", "each device's success line, once")
        // The engines came through: all alive, registered, heartbeating.
        XCTAssertTrue(engines.allSatisfy(\.isRunning))
        try waitFor("3 engines active", timeout: 20) {
            try self.psql("SELECT count(*) FROM engine WHERE heartbeat_at > now() - interval '5 seconds'") == "3"
        }
    }

    /// kill -9 of the engine with the most units in flight, a third of the way through a spread run
    /// over 90 lab devices (100 ms round trips, so units overlap their journal flushes): the run
    /// completes, the dead engine's read-only units are retried once by the others, and the run holds
    /// one result per device, as with one engine. The lab's ledger: every device ran `show version`,
    /// a second time only when its unit was retried (the first attempt may have sent it before the kill).
    func testAKilledEnginesUnitsAreRetriedWithOneResultPerDevice() throws {
        let server = try PostgresTestServer.require()
        let devices = try setUpLab(server: server, name: "fleetkill", labDevices: 90, latencyMs: 50, maxProcess: 10)
        cli.environment["SWITCHBOARD_ENGINE_ACTIVE_THRESHOLD_S"] = "3"  // the lease: recovery within seconds
        try startEngines(3)
        let runId = try enqueue(devices)
        try waitFor("a third of the units done", timeout: 90) {
            try Int(self.psql("SELECT count(*) FROM run_unit WHERE run_id = \(runId) AND status = 'succeeded'"))! >= 30
        }
        let busiest = try psql("""
            SELECT e.pid || ' ' || count(*) FROM run_unit u JOIN engine e ON e.id = u.engine_id
            WHERE u.run_id = \(runId) AND u.status = 'claimed' GROUP BY e.pid ORDER BY count(*) DESC LIMIT 1
            """).split(separator: " ").compactMap { Int32($0) }
        let victim = try XCTUnwrap(engines.first { $0.processIdentifier == busiest.first })
        kill(victim.processIdentifier, SIGKILL)
        victim.waitUntilExit()
        print("killed engine \(victim.processIdentifier) with \(busiest.last ?? 0) units in flight")
        try waitFor("the run ended", timeout: 120) { !["queued", "running"].contains(try self.psql("SELECT status FROM run WHERE id = \(runId)")) }

        XCTAssertEqual(try psql("SELECT status || ' ' || progress_done || '/' || progress_total || ' ' || progress_failed FROM run WHERE id = \(runId)"),
                       "completed 90/90 0", engineLogs())
        let retried = Set(try psql("SELECT string_agg(device_name, ',') FROM run_unit WHERE run_id = \(runId) AND attempts = 2")
            .split(separator: ",").map(String.init))
        XCTAssertFalse(retried.isEmpty, "the dead engine's units were retried")
        XCTAssertEqual(try psql("SELECT max(attempts) FROM run_unit WHERE run_id = \(runId)"), "2")
        let doubled = try psql("""
            SELECT coalesce(string_agg(device_name || ' attempts ' || a, ', '), '') FROM (
              SELECT device_name, string_agg(attempts::text, '+' ORDER BY id) AS a FROM result WHERE run_id = \(runId)
              GROUP BY device_name HAVING count(*) > 1) d
            """)
        XCTAssertEqual(doubled, "", "devices with more than one result (one expected per device, as with one engine)")
        XCTAssertEqual(try psql("SELECT count(*) || ' ' || count(DISTINCT device_name) || ' ' || bool_and(success) FROM result WHERE run_id = \(runId)"),
                       "90 90 true")
        let ledger = try ledger()
        let counts = ledger.count(of: "show version")
        XCTAssertEqual(Set(counts.keys), Set(devices), "every device ran it")
        let twice = Set(counts.filter { $0.value > 1 }.keys)
        XCTAssertTrue(twice.isSubset(of: retried), "only retried units ran twice: \(twice.subtracting(retried).sorted())")
        XCTAssertEqual(counts.values.max(), retried.isEmpty ? 1 : counts.values.max().map { min($0, 2) }, "never more than twice")
    }

    /// A unit's result belongs with its end. An engine killed after its unit's result reached the
    /// database but before the unit ended (the result went out with a periodic journal flush while
    /// the unit was closing its session) leaves that result behind, and the unit's retry adds a
    /// second: two results for one device, which one engine never writes. The test watches the
    /// database for such a unit (a result in the run for a unit still claimed), which must never be
    /// seen; if it is, it kills that engine there and then. The run must end with one result per device. 75 units in flight keep the engines' task
    /// pools busy, which widens the moment between a unit's result and its end.
    func testAKilledEngineLeavesNoResultOfAnUnfinishedUnit() throws {
        let server = try PostgresTestServer.require()
        let devices = try setUpLab(server: server, name: "fleetearly", labDevices: 150, maxProcess: 25)
        cli.environment["SWITCHBOARD_ENGINE_ACTIVE_THRESHOLD_S"] = "3"
        try startEngines(3)
        let runId = try enqueue(devices)
        var caught: (pid: Int32, device: String)?
        let deadline = Date().addingTimeInterval(90)
        while caught == nil && Date() < deadline {
            let row = try psql("""
                SELECT e.pid || ' ' || u.device_name FROM run_unit u JOIN engine e ON e.id = u.engine_id
                JOIN result r ON r.run_id = u.run_id AND r.device_name = u.device_name
                WHERE u.run_id = \(runId) AND u.status = 'claimed' LIMIT 1
                """).split(separator: " ").map(String.init)
            if row.count == 2, let pid = Int32(row[0]), let engine = engines.first(where: { $0.processIdentifier == pid }) {
                kill(pid, SIGKILL)
                engine.waitUntilExit()
                caught = (pid, row[1])
                break
            }
            if !["queued", "running"].contains(try psql("SELECT status FROM run WHERE id = \(runId)")) { break }
        }
        XCTAssertNil(caught.map { "\($0.device)'s result was in the database while its unit was still claimed by engine pid \($0.pid) (killed then)" },
                     "a unit's result is written only with its end: written before it, it stays beside the retry's when the engine dies")
        try waitFor("the run ended", timeout: 120) { !["queued", "running"].contains(try self.psql("SELECT status FROM run WHERE id = \(runId)")) }
        XCTAssertEqual(try psql("SELECT status || ' ' || progress_done || '/' || progress_total FROM run WHERE id = \(runId)"), "completed 150/150", engineLogs())
        let doubled = try psql("""
            SELECT coalesce(string_agg(device_name || ' (attempts ' || a || ')', ', '), '') FROM (
              SELECT device_name, string_agg(attempts::text, '+' ORDER BY id) AS a FROM result WHERE run_id = \(runId)
              GROUP BY device_name HAVING count(*) > 1) d
            """)
        XCTAssertEqual(doubled, "", "devices with more than one result")
        XCTAssertEqual(try psql("SELECT count(*) || ' ' || count(DISTINCT device_name) FROM result WHERE run_id = \(runId)"), "150 150")
    }
}
