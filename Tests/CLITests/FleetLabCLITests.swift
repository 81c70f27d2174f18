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
final class FleetLabCLITests: XCTestCase {
    var cli: CLI!
    var engines: [Process] = []
    var database = ""
    var psqlOn: ((String) throws -> String)!

    override func tearDownWithError() throws {
        for p in engines where p.isRunning { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() }
        if cli != nil { _ = try? cli.run(["lab", "down"], limit: 30) }
    }

    /// A lab of `labDevices` generated devices plus the example network's, its devices in the
    /// database, and a `cli` service running `show version` over the generated ones (`lab-NNNN`).
    /// The unit queue is switched on explicitly: it is off by default.
    func setUpLab(server: PostgresTestServer, name: String, labDevices: Int, latencyMs: Int = 0, maxProcess: Int) throws -> [String] {
        cli = try CLI()
        cli.environment.removeValue(forKey: "SSH_AUTH_SOCK")
        database = try server.createDatabase(name)
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
    func startEngine() throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CLI.binary)
        p.arguments = ["engine"]
        p.environment = cli.environment
        let log = cli.dir + "/engine-\(engines.count).log"
        FileManager.default.createFile(atPath: log, contents: nil)
        p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        engines.append(p)
        return p
    }

    func engineLogs() -> String {
        (0..<engines.count).map { i in
            let text = (try? String(contentsOfFile: cli.dir + "/engine-\(i).log", encoding: .utf8)) ?? ""
            return "--- engine \(i) (pid \(engines[i].processIdentifier)):\n" + text.split(separator: "\n").suffix(30).joined(separator: "\n")
        }.joined(separator: "\n")
    }

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
        // The engines came through: all alive, registered, heartbeating.
        XCTAssertTrue(engines.allSatisfy(\.isRunning))
        try waitFor("3 engines active", timeout: 20) {
            try self.psql("SELECT count(*) FROM engine WHERE heartbeat_at > now() - interval '5 seconds'") == "3"
        }
    }
}
