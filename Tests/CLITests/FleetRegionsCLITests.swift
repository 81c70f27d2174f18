import Foundation
import Lab
import PostgresTestSupport
import Store
import StorePostgres
import XCTest

/// Regions (issue 15): `switchboard engine --pools A` (or `--filter`) claims only the units of its
/// devices; units no active engine serves wait, and `runs` says why. Real engine processes of the
/// built binary on one PostgreSQL database, with the FleetCLITests helpers.
extension FleetCLITests {
    static let regionInventory = """
    {
      "pools": [
        {"name": "london", "criteria": [{"property": "location", "value": "London", "match": "equality", "invert": false}]}
      ],
      "services": [
        {"name": "region ledger", "kind": "unix", "timeout": 30, "pools": ["paris", "london"], "max_processes": 4,
         "parameters": {"command": "echo {{device.name}} $PPID >> LEDGER-region; sleep 0.2"}}
      ]
    }
    """

    func setUpRegions(_ name: String) throws {
        try setUpPostgres(name, settings: ["SWITCHBOARD_AUTOMATION_ALLOW_UNIX": "true", "SWITCHBOARD_ENGINE_UNIT_QUEUE": "true",
                                           "SWITCHBOARD_AUTOMATION_MAX_PROCESS": "2"])
        let file = try cli.write("regions.json", Self.regionInventory.replacingOccurrences(of: "LEDGER", with: cli.dir + "/ledger"))
        let imported = try cli.run(["import", file])
        XCTAssertEqual(imported.status, 0, imported.stderr)
    }

    /// `runs --json`: the run's reason.
    func listedReason(_ run: String) throws -> String? {
        let out = try cli.run(["runs", "--json"])
        XCTAssertEqual(out.status, 0, out.stderr)
        let runs = try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [[String: Any]] ?? []
        return runs.first { "\($0["id"] ?? "")" == run }?["reason"] as? String
    }

    /// An engine serving pool paris takes only the Paris devices' units of a run over paris and
    /// london; the London units stay queued, never claimed, and `runs` (table and JSON) says
    /// "waiting: no engine serves pool london"; `engines` and `engine --status` show each region.
    /// An engine serving london then takes them: the run completes with each device's unit run
    /// exactly once (the ledger, with the pid of the engine that ran it), each by its region's engine.
    func testAnEngineTakesOnlyItsPoolsUnitsAndTheOthersWaitWithTheirReason() throws {
        try setUpRegions("fleetregions")
        let paris = Set(try psql("SELECT string_agg(name, ',') FROM device WHERE location = 'Paris'").split(separator: ",").map(String.init))
        let london = Set(try psql("SELECT string_agg(name, ',') FROM device WHERE location = 'London'").split(separator: ",").map(String.init))
        XCTAssertEqual(paris.count, 8)
        XCTAssertEqual(london.count, 6)
        let parisEngine = try startEngine(["--pools", "paris"])
        try waitFor("the paris engine registered with its region") {
            try self.listedEngines().contains { $0.pools == ["paris"] && $0.servedDevices == 8 && $0.state == .active }
        }
        XCTAssertEqual(try cli.run(["run", "region ledger"]).status, 0)
        let runId = try psql("SELECT max(id) FROM run")
        try waitFor("the Paris units done", timeout: 60) {
            try self.psql("SELECT count(*) FROM run_unit WHERE run_id = \(runId) AND status = 'succeeded'") == "8"
        }
        try waitFor("runs says why the rest waits", timeout: 10) {
            try self.listedReason(runId) == "waiting: no engine serves pool london"
        }
        let table = try cli.run(["runs"])
        XCTAssertTrue(table.stdout.contains("waiting: no engine serves pool london"), table.stdout)
        usleep(1_000_000)  // more polls of the paris engine: still nothing of London claimed
        XCTAssertEqual(try psql("SELECT string_agg(DISTINCT status || ' ' || attempts, ',') FROM run_unit WHERE run_id = \(runId) AND device_name LIKE 'lon-%'"),
                       "queued 0", engineLogs())
        XCTAssertEqual(try psql("SELECT status FROM run WHERE id = \(runId)"), "running")

        let engines = try cli.run(["engines"])
        XCTAssertTrue(engines.stdout.contains("SERVES") && engines.stdout.contains("pool paris (8 devices)"), engines.stdout)
        let status = try cli.run(["engine", "--status"])
        XCTAssertTrue(status.stdout.contains("serves pool paris (8 devices)"), status.stdout)

        // The console, in a real terminal: `:engines` shows the region, `:runs` the waiting reason.
        let tmux = try Tmux(environment: cli.environment, width: 250, height: 20)
        defer { tmux.kill() }
        tmux.line(CLI.binary)
        XCTAssertTrue(tmux.wait(for: "bastion"), tmux.capture())
        tmux.type(":engines")
        tmux.keys("Enter")
        XCTAssertTrue(tmux.wait(for: "pool paris (8 devices)"), tmux.capture())
        tmux.type(":runs")
        tmux.keys("Enter")
        XCTAssertTrue(tmux.wait(for: "waiting: no engine serves pool london"), tmux.capture())
        tmux.type(":q")
        tmux.keys("Enter")
        XCTAssertTrue(tmux.wait(for: "sbshell$"), tmux.capture())

        let londonEngine = try startEngine(["--pools", "london"])
        try waitFor("the run completed", timeout: 60) { try self.psql("SELECT status FROM run WHERE id = \(runId)") == "completed" }
        XCTAssertEqual(try psql("SELECT progress_done || '/' || progress_total || ' ' || progress_failed FROM run WHERE id = \(runId)"), "14/14 0")
        let ledger = try String(contentsOfFile: cli.dir + "/ledger-region", encoding: .utf8).split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        XCTAssertEqual(ledger.count, 14, "each unit once: \(ledger)")
        XCTAssertEqual(Set(ledger.map { $0[0] }), paris.union(london), "every device once")
        for row in ledger {
            let expected = paris.contains(row[0]) ? parisEngine.processIdentifier : londonEngine.processIdentifier
            XCTAssertEqual(Int32(row[1]), expected, "\(row[0]) ran on its region's engine")
        }
        XCTAssertEqual(try psql("SELECT max(attempts) FROM run_unit WHERE run_id = \(runId)"), "1")
        XCTAssertEqual(try listedReason(runId), "", "no waiting reason once it ended")
        let listed = try listedEngines()
        XCTAssertEqual(Set(listed.map(\.pools)), [["paris"], ["london"]])
    }

    /// A filter region: the engine takes only the units of the devices its filter matches; the
    /// others wait, named by device; a device imported later that matches joins the region.
    func testAFilterRegionTakesOnlyItsDevicesAndNamesTheOthers() throws {
        try setUpRegions("fleetregionfilter")
        try startEngine(["--filter", "name~^lon-core"])
        try waitFor("the engine registered with its filter") {
            try self.listedEngines().contains { $0.filter == "name~^lon-core" && $0.servedDevices == 2 && $0.state == .active }
        }
        let run = try cli.run(["run", "region ledger", "--pools", "london"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let runId = try psql("SELECT max(id) FROM run")
        try waitFor("the two lon-core units done", timeout: 60) {
            try self.psql("SELECT count(*) FROM run_unit WHERE run_id = \(runId) AND status = 'succeeded'") == "2"
        }
        try waitFor("runs names the devices that wait", timeout: 10) {
            try self.listedReason(runId) == "waiting: no engine serves devices lon-acc1, lon-acc2, lon-dist1, lon-dist2"
        }
        let ledger = try String(contentsOfFile: cli.dir + "/ledger-region", encoding: .utf8).split(separator: "\n").map { String($0.split(separator: " ")[0]) }
        XCTAssertEqual(Set(ledger), ["lon-core1", "lon-core2"])
        XCTAssertEqual(ledger.count, 2)

        // A device that joins the region later is recorded within the refresh (5 s).
        let joined = try cli.write("joined.json", #"{"devices": [{"name": "lon-core3", "address": "192.0.2.33", "location": "London"}]}"#)
        XCTAssertEqual(try cli.run(["import", joined]).status, 0)
        try waitFor("the engine's region grew", timeout: 15) { try self.listedEngines().first?.servedDevices == 3 }
    }

    /// Regions over the lab (real SSH): `show version` on the Paris and London lab devices with an
    /// engine serving paris only: the Paris devices are done, London's wait (never claimed) with the
    /// reason naming pool london; an engine serving london then runs them, each unit claimed once and
    /// by the engine of its region.
    func testRegionsOverTheLab() throws {
        server = try PostgresTestServer.require()
        let lab = try DemoLabOnPostgres.start(server, name: "fleetregionlab", environment: ["SWITCHBOARD_AUTOMATION_MAX_PROCESS": "3"])
        defer { lab.down() }
        (cli, database, url) = (lab.cli, lab.database, lab.url)
        let pools = try cli.write("lab-pools.json", """
            {"pools": [{"name": "london", "criteria": [{"property": "name", "value": "^lon-", "match": "regex", "invert": false}]},
                       {"name": "paris-lab", "criteria": [{"property": "name", "value": "^par-", "match": "regex", "invert": false}]}]}
            """)
        XCTAssertEqual(try cli.run(["import", pools]).status, 0)
        let paris = try startEngine(["--pools", "paris-lab"])
        try waitFor("the paris engine serves its 6 devices") { try self.listedEngines().contains { $0.servedDevices == 6 && $0.state == .active } }
        let run = try RunQueue(database: try backend()).enqueue(service: "show version", trigger: .cli, user: "test", pools: ["paris-lab", "london"])
        let runId = try XCTUnwrap(run.id)
        try waitFor("the Paris devices done", timeout: 120) {
            try self.psql("SELECT count(*) FROM run_unit WHERE run_id = \(runId) AND status = 'succeeded'") == "6"
        }
        try waitFor("runs says why London waits", timeout: 10) { try self.listedReason(String(runId)) == "waiting: no engine serves pool london" }
        XCTAssertEqual(try psql("SELECT count(*) FROM run_unit WHERE run_id = \(runId) AND device_name LIKE 'lon-%' AND status = 'queued' AND attempts = 0"), "6")
        let london = try startEngine(["--pools", "london"])
        try waitFor("the run ended", timeout: 120) { !["queued", "running"].contains(try self.psql("SELECT status FROM run WHERE id = \(runId)")) }
        XCTAssertEqual(try psql("SELECT status || ' ' || progress_done || '/' || progress_total FROM run WHERE id = \(runId)"), "completed 12/12", engineLogs())
        XCTAssertEqual(try psql("SELECT count(*) || ' ' || count(DISTINCT device_name) || ' ' || bool_and(success) FROM result WHERE run_id = \(runId)"), "12 12 true")
        XCTAssertEqual(try psql("SELECT count(*) FROM run_unit WHERE run_id = \(runId) AND attempts = 1"), "12", "each unit claimed once")
        // Each unit on its region's engine: the engines' logs name the units they finished.
        let byEngine = try listedEngines().reduce(into: [Int64: [String]]()) { $0[$1.id ?? 0] = $1.pools }
        let placed = try psql("SELECT string_agg(device_name || ':' || engine_id, ',') FROM run_unit WHERE run_id = \(runId)").split(separator: ",")
        for p in placed {
            let parts = p.split(separator: ":")
            let expected = parts[0].hasPrefix("par-") ? "paris-lab" : "london"
            XCTAssertEqual(byEngine[Int64(parts[1]) ?? 0], [expected], "\(parts[0]) ran on the engine of its region")
        }
        _ = (paris, london)
    }

    /// What cannot be served is refused before the engine starts, naming why, exit 2: an unknown
    /// pool, a filter that does not parse or names an unknown field, an empty pool name, the unit
    /// queue off, and SQLite (one engine serves every device). No engine registers.
    func testBadRegionsAreRefusedBeforeTheEngineStarts() throws {
        try setUpRegions("fleetregionbad")
        for (args, fault) in [(["--pools", "paris,eu-nowhere"], "no pool named 'eu-nowhere'"),
                              (["--filter", "nosuchfield=1"], "--filter 'nosuchfield=1'"),
                              (["--filter", "name~(unclosed"], "--filter 'name~(unclosed'"),
                              (["--pools", "paris,,london"], "an empty pool name")] {
            let out = try cli.run(["engine"] + args, limit: 30)
            XCTAssertEqual(out.status, 2, "\(args): \(out.stderr)")
            XCTAssertTrue(out.stderr.contains(fault), "\(args) names its fault (\(fault)): \(out.stderr)")
        }
        cli.environment["SWITCHBOARD_ENGINE_UNIT_QUEUE"] = "false"
        let off = try cli.run(["engine", "--pools", "paris"], limit: 30)
        XCTAssertEqual(off.status, 2, off.stderr)
        XCTAssertTrue(off.stderr.contains("engine.unit_queue"), off.stderr)
        XCTAssertEqual(try psql("SELECT count(*) FROM engine"), "0", "no engine registered")

        var sqlite = try CLI()
        sqlite.environment["SWITCHBOARD_ENGINE_UNIT_QUEUE"] = "true"
        XCTAssertEqual(try sqlite.run(["import", CLI.repositoryRoot + "/setup/examples/switchboard.json"]).status, 0)
        let refused = try sqlite.run(["engine", "--pools", "paris"], limit: 30)
        XCTAssertEqual(refused.status, 2, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("SQLite") && refused.stderr.contains("several engines on PostgreSQL"), refused.stderr)
        XCTAssertNil(EngineLock.holder(databasePath: sqlite.databasePath), "no engine started")
    }
}
