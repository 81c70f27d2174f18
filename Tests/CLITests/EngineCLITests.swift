import Foundation
import GRDB
import PostgresTestSupport
import Store
import StorePostgres
import XCTest

/// The engine process and the run commands, end to end with the real binary: queueing, following,
/// exit codes, one engine per database, kill -9 recovery, restart from a node, SIGTERM semantics and
/// stop. Services here are `wait`/`validate` over the example inventory, so no device is contacted;
/// the lab-backed behaviour of each service kind is covered in EngineTests.
final class EngineCLITests: XCTestCase, EngineProcesses {
    var cli: CLI!
    var engines: [Process] = []
    /// Set by `usePostgres()`: the tests that run on both backends (issue #14) use a database of
    /// the test server through SWITCHBOARD_DB; the others use SQLite's default file.
    var postgresURL: String?
    var postgres: PGConnection?

    static let services = """
    {
      "services": [
        {"name": "quick", "kind": "wait", "parameters": {"seconds": 0}},
        {"name": "fails", "kind": "wait", "parameters": {"seconds": 0},
         "devices": ["par-core1", "par-core2"], "validation": {"kind": "contains", "value": "never there"}},
        {"name": "nap", "kind": "wait", "parameters": {"seconds": 2},
         "devices": ["par-core1", "par-core2", "par-dist1", "par-dist2"], "max_processes": 2},
        {"name": "long nap", "kind": "wait", "parameters": {"seconds": 30},
         "devices": ["par-core1", "par-core2"], "max_processes": 2},
        {"name": "step one", "kind": "wait", "parameters": {"seconds": 0}},
        {"name": "local echo", "kind": "unix", "parameters": {"command": "echo reloaded"}},
        {"name": "step two", "kind": "wait", "parameters": {"seconds": 1.5}},
        {"name": "two step", "kind": "workflow", "traversal": "device", "max_processes": 2,
         "devices": ["par-core1", "par-core2", "par-dist1", "par-dist2", "par-acc1", "par-acc2"],
         "members": ["step one", "step two"], "start": "step one"}
      ],
      "workflow_edges": [
        {"name": "one to two", "workflow": "two step", "source": "step one", "destination": "step two", "subtype": "success"}
      ]
    }
    """

    override func setUpWithError() throws {
        if cli == nil { cli = try CLI() }
        XCTAssertEqual(try cli.run(["import", CLI.repositoryRoot + "/setup/examples/switchboard.json"]).status, 0)
        let extra = try cli.write("engine-services.json", Self.services)
        let imported = try cli.run(["import", extra])
        XCTAssertEqual(imported.status, 0, imported.stderr)
    }

    override func tearDownWithError() throws {
        killEngines()
        // Engines started in the background by `run`.
        if let pid = engineHolder(), pid > 0 { kill(pid, SIGKILL) }
        postgres?.close()
    }

    /// This test on PostgreSQL: a new database on the test server, the same inventory imported.
    func usePostgres() throws {
        let server = try PostgresTestServer.require()
        let url = server.socketURL(try server.createDatabase("engine"))
        postgresURL = url
        cli.environment["SWITCHBOARD_DB"] = url
        try setUpWithError()
        postgres = try PGConnection.connect(try PostgresURL(parsing: url, source: "test"), environment: [:])
    }

    /// The test's database, either backend.
    func backend() throws -> any StoreBackend {
        if let postgresURL { return try PostgresBackend(url: try PostgresURL(parsing: postgresURL, source: "test"), environment: [:]) }
        return try AppDatabase(path: cli.databasePath, readonly: true)
    }

    /// The pid of the engine holding the database's engine lock.
    func engineHolder() -> Int32? {
        if postgresURL != nil { return (try? backend())?.engineLockHolder() }
        return EngineLock.holder(databasePath: cli.databasePath)
    }

    // MARK: helpers

    /// A foreground `switchboard engine`, its log in a file; returns once it holds the lock.
    func startEngine(_ extra: [String] = []) throws -> Process {
        let p = try launchEngine(extra)
        try waitFor("the engine holds the lock") { self.engineHolder() == p.processIdentifier }
        return p
    }

    func waitFor(_ what: String, timeout: Double = 20, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try condition() { return }
            usleep(50_000)
        }
        XCTFail("timed out waiting for: \(what)")
        throw XCTSkip("condition never held: \(what)")
    }

    func database() throws -> AppDatabase { try AppDatabase(path: cli.databasePath, readonly: true) }

    func run(_ id: Int64) throws -> Run {
        try XCTUnwrap(try backend().query { store in try store.run(id: id) })
    }

    /// A count in SQL with `?` placeholders, on either backend.
    func count(_ sql: String, _ arguments: [Int32] = []) throws -> Int {
        if let postgres {
            var n = 0
            let numbered = sql.map { c -> String in
                guard c == "?" else { return String(c) }
                n += 1
                return "$\(n)"
            }.joined()
            return try postgres.query(numbered, arguments.map { .int(Int($0)) }).first?.value(0, as: Int.self) ?? 0
        }
        return try database().writer.read { db in try Int.fetchOne(db, sql: sql, arguments: StatementArguments(arguments)) ?? 0 }
    }

    func strings(_ sql: String) throws -> [String] {
        if let postgres { return try postgres.query(sql).map { try $0.value(0, as: String.self) } }
        return try database().writer.read { db in try String.fetchAll(db, sql: sql) }
    }

    func waitForExit(_ p: Process, timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { usleep(20_000) }
        return !p.isRunning
    }

    // MARK: tests

    /// A service that needs devices, with none given or matching: refused with the reason, exit 1,
    /// nothing queued. One that runs once is queued; runs record the OS user (not $USER), trigger cli.
    func testRunRefusesNoTargetsAndRecordsTheOperatingSystemUser() throws {
        var c = cli!
        c.environment["USER"] = "mallory"
        let none = try c.run(["run", "show interfaces"])
        XCTAssertEqual(none.status, 1, none.stderr)
        XCTAssertTrue(none.stderr.contains("not queued: 'show interfaces' (cli) runs on devices, and neither the launch nor the service names any"), none.stderr)
        let nomatch = try c.run(["run", "show version", "--filter", "name=atlantis"])
        XCTAssertEqual(nomatch.status, 1, nomatch.stderr)
        XCTAssertTrue(nomatch.stderr.contains("its targets (filter name=atlantis) match no device"), nomatch.stderr)
        XCTAssertEqual(try count("SELECT COUNT(*) FROM run"), 0, "nothing queued")
        // Runs once: accepted.
        let once = try c.run(["run", "quick", "--json"])
        XCTAssertEqual(once.status, 0, once.stderr)
        let run = try XCTUnwrap(try database().writer.read { db in try Run.fetchOne(db, sql: "SELECT * FROM run ORDER BY id DESC LIMIT 1") })
        XCTAssertEqual(run.user, String(cString: getpwuid(geteuid())!.pointee.pw_name))
        XCTAssertEqual(run.trigger, .cli)
    }

    func testFollowPrintsTheLogAndExitCodesTellSuccessFromFailure() throws { try followPrintsTheLogAndExitCodesTellSuccessFromFailure() }
    func testFollowPrintsTheLogAndExitCodesTellSuccessFromFailureOnPostgreSQL() throws {
        try usePostgres()
        try followPrintsTheLogAndExitCodesTellSuccessFromFailure()
    }

    func followPrintsTheLogAndExitCodesTellSuccessFromFailure() throws {
        let ok = try cli.run(["run", "quick", "--follow"])
        XCTAssertEqual(ok.status, 0, ok.stderr + ok.stdout)
        XCTAssertTrue(ok.stdout.contains("[quick] success"), ok.stdout)
        XCTAssertTrue(ok.stdout.contains("run 1 completed: 1/1 done, 0 failed"), ok.stdout)

        let failed = try cli.run(["run", "fails", "--follow"])
        XCTAssertEqual(failed.status, 1, failed.stdout)
        XCTAssertTrue(failed.stdout.contains("par-core1 [fails] failed"), failed.stdout)
        XCTAssertTrue(failed.stdout.contains("run 2 failed: 2/2 done, 2 failed"), failed.stdout)

        // Targets given on the command line replace the service's own.
        let one = try cli.run(["run", "fails", "--devices", "par-core2", "--follow", "--json"])
        XCTAssertEqual(one.status, 1)
        let decoded = try JSONSerialization.jsonObject(with: Data(one.stdout.utf8)) as? [String: Any]
        XCTAssertEqual(decoded?["progress_total"] as? Int ?? decoded?["progressTotal"] as? Int, 1, one.stdout)

        // Usage errors: 2, and nothing queued.
        let before = try count("SELECT COUNT(*) FROM run")
        XCTAssertEqual(try cli.run(["run", "quick", "--param", "novalue"]).status, 2)
        XCTAssertEqual(try cli.run(["run", "quick", "--filter", "name~("]).status, 2)
        XCTAssertEqual(try cli.run(["run", "--restart", "1"]).status, 2)
        XCTAssertEqual(try cli.run(["run"]).status, 2)
        let unknown = try cli.run(["run", "no such service"])
        XCTAssertEqual(unknown.status, 1)
        XCTAssertTrue(unknown.stderr.contains("no service or workflow named 'no such service'"), unknown.stderr)
        XCTAssertEqual(try cli.run(["run", "quick", "--devices", "nowhere"]).status, 1)
        XCTAssertEqual(try count("SELECT COUNT(*) FROM run"), before)

        // runs, results, logs.
        let runs = try cli.run(["runs"])
        XCTAssertTrue(runs.stdout.contains("fails") && runs.stdout.contains("completed"), runs.stdout)
        let results = try cli.run(["results", "2", "--json"])
        let list = try JSONSerialization.jsonObject(with: Data(results.stdout.utf8)) as? [[String: Any]]
        XCTAssertEqual(list?.count, 2)
        let log = cli.dir + "/run2.log"
        XCTAssertEqual(try cli.run(["logs", "2", "--export", log]).status, 0)
        let text = try String(contentsOfFile: log, encoding: .utf8)
        XCTAssertTrue(text.hasPrefix("# run 2 · fails · failed"), text)
        XCTAssertTrue(text.contains("par-core2 [fails] failed"), text)
        XCTAssertEqual(try cli.run(["logs", "99"]).status, 1)
    }

    /// A running engine re-reads a changed settings.json before its next run, says so in that run's
    /// log, and `run` names the settings the engine does not share (environment, --set).
    func testARunningEngineReloadsChangedSettingsBeforeTheNextRun() throws {
        _ = try startEngine()
        let refused = try cli.run(["run", "local echo", "--follow"])
        XCTAssertEqual(refused.status, 1, refused.stdout)
        XCTAssertTrue(refused.stdout.contains("automation.allow_unix"), refused.stdout)

        try FileManager.default.createDirectory(atPath: cli.dir + "/config/switchboard", withIntermediateDirectories: true)
        try #"{"automation": {"allow_unix": true}}"#.write(toFile: cli.dir + "/config/switchboard/settings.json", atomically: true, encoding: .utf8)
        let allowed = try cli.run(["run", "local echo", "--follow"])
        XCTAssertEqual(allowed.status, 0, allowed.stdout + allowed.stderr)
        XCTAssertTrue(allowed.stdout.contains("engine settings reloaded: automation.allow_unix false → true"), allowed.stdout)
        XCTAssertTrue(allowed.stdout.contains("reloaded"), allowed.stdout)
        // Not said again on the next run.
        let again = try cli.run(["run", "local echo", "--follow"])
        XCTAssertEqual(again.status, 0, again.stdout)
        XCTAssertFalse(again.stdout.contains("engine settings reloaded"), again.stdout)

        // --set does not reach a running engine: the command says so.
        let differs = try cli.run(["run", "quick", "--follow", "--set", "automation.max_process=7"])
        XCTAssertEqual(differs.status, 0, differs.stderr)
        XCTAssertTrue(differs.stderr.contains("automation.max_process 100 (engine) vs 7 (here)"), differs.stderr)

        // A settings file that no longer loads: the engine keeps its settings and the run says why.
        try #"{"automation": {"allow_unix": tru"#.write(toFile: cli.dir + "/config/switchboard/settings.json", atomically: true, encoding: .utf8)
        let db = try database()
        let id = try RunQueue(database: try AppDatabase(path: cli.databasePath)).enqueue(service: "local echo", trigger: .cli, user: "test").id!
        try waitFor("the run ends") { (try? self.run(id).status).map { $0 == .completed || $0 == .failed } ?? false }
        XCTAssertEqual(try run(id).status, .completed, "the previous settings (allow_unix true) stay")
        let lines = try db.writer.read { try String.fetchAll($0, sql: "SELECT message FROM run_log WHERE run_id = ?", arguments: [id]) }
        XCTAssertTrue(lines.contains { $0.contains("do not load") }, "\(lines) \((try? String(contentsOfFile: cli.dir + "/engine-0.log", encoding: .utf8)) ?? "")")
    }

    func testOneEnginePerDatabaseAndNoRunExecutedTwice() throws { try oneEnginePerDatabaseAndNoRunExecutedTwice() }
    // PostgreSQL admits several engines per database (FleetCLITests: a shared queue with each run
    // executed once); the one-engine rule is SQLite's.

    func oneEnginePerDatabaseAndNoRunExecutedTwice() throws {
        let first = try startEngine()
        let second = try cli.run(["engine"])
        XCTAssertEqual(second.status, 1)
        XCTAssertTrue(second.stderr.contains("an engine already runs") && second.stderr.contains("pid \(first.processIdentifier)"), second.stderr)
        XCTAssertEqual(try cli.run(["engine", "--quiet-if-running"]).status, 0)
        XCTAssertEqual(try cli.run(["engine", "--status"]).status, 0)

        // A rival engine racing for the lock while runs are queued changes nothing.
        for _ in 0..<10 { XCTAssertEqual(try cli.run(["run", "quick"]).status, 0) }
        for _ in 0..<3 { XCTAssertEqual(try cli.run(["engine", "--quiet-if-running"]).status, 0) }
        try waitFor("ten runs completed") { try self.count("SELECT COUNT(*) FROM run WHERE status = 'completed'") == 10 }
        XCTAssertEqual(try count("SELECT COUNT(*) FROM run WHERE engine_pid != ?", [first.processIdentifier]), 0)
        XCTAssertEqual(try count("SELECT COUNT(*) FROM run_log WHERE message LIKE '%started by%'"), 10)
        XCTAssertEqual(try count("SELECT COUNT(*) FROM result"), 10)

        let stop = try cli.run(["engine", "--stop"])
        XCTAssertEqual(stop.status, 0, stop.stderr)
        XCTAssertTrue(waitForExit(first, timeout: 10))
        XCTAssertEqual(first.terminationStatus, 0)
        XCTAssertEqual(try cli.run(["engine", "--status"]).status, 1)
    }

    func testKill9LeavesAnInterruptedRunThatRestartsFromANode() throws { try kill9LeavesAnInterruptedRunThatRestartsFromANode() }
    func testKill9LeavesAnInterruptedRunThatRestartsFromANodeOnPostgreSQL() throws {
        // Lost after 2 s without a heartbeat (15 s by default) keeps the test short.
        cli.environment["SWITCHBOARD_ENGINE_ACTIVE_THRESHOLD_S"] = "2"
        // The run-level recovery of a run executed whole (interrupted, naming the lost engine). With the
        // unit queue on, this workflow's read-only walks are requeued instead and the run completes:
        // FleetWorkflowLabCLITests covers that, and a restart from a node of a spread run.
        cli.environment["SWITCHBOARD_ENGINE_UNIT_QUEUE"] = "false"
        try usePostgres()
        try kill9LeavesAnInterruptedRunThatRestartsFromANode()
    }

    func kill9LeavesAnInterruptedRunThatRestartsFromANode() throws {
        let first = try startEngine()
        XCTAssertEqual(try cli.run(["run", "two step"]).status, 0)
        // Two devices at a time, 1.5 s each in step two: kill while the second pair is in it.
        try waitFor("two devices finished step two") {
            try self.count("SELECT COUNT(*) FROM result WHERE service_name = 'step two' AND success") >= 2
        }
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        let resultsBefore = try count("SELECT COUNT(*) FROM result")
        let linesBefore = try count("SELECT COUNT(*) FROM run_log")
        let completed = try count("SELECT COUNT(*) FROM result WHERE service_name = 'step two' AND success")
        XCTAssertEqual(try run(1).status, .running)

        _ = try startEngine()
        try waitFor("run 1 marked interrupted") { try self.run(1).status == .interrupted }
        let interrupted = try run(1)
        // SQLite: the lock's holder died; PostgreSQL: its registration stopped heartbeating.
        XCTAssertTrue(interrupted.reason.contains(postgres == nil ? "died while the run was going" : "was lost (no heartbeat for"), interrupted.reason)
        XCTAssertTrue(interrupted.reason.contains("pid \(first.processIdentifier)"), interrupted.reason)
        XCTAssertGreaterThanOrEqual(try count("SELECT COUNT(*) FROM result"), resultsBefore)
        XCTAssertGreaterThan(try count("SELECT COUNT(*) FROM run_log"), linesBefore)
        if postgres == nil {
            let integrity = try database().writer.read { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") }
            XCTAssertEqual(integrity, "ok")
        }

        // Restart from step two on the devices that had not completed it.
        XCTAssertEqual(try cli.run(["run", "--restart", "1", "--from", "no such node"]).status, 2)
        let restarted = try cli.run(["run", "--restart", "1", "--from", "step two", "--follow"])
        XCTAssertEqual(restarted.status, 0, restarted.stdout + restarted.stderr)
        let second = try run(2)
        XCTAssertEqual(second.restartOf, 1)
        XCTAssertEqual(second.restartFrom, "step two")
        XCTAssertEqual(second.progressTotal, 6 - completed)
        XCTAssertEqual(try count("SELECT COUNT(*) FROM result WHERE run_id = 2 AND service_name = 'step one'"), 0)
        XCTAssertEqual(try count("SELECT COUNT(*) FROM result WHERE run_id = 2 AND service_name = 'step two' AND success"), 6 - completed)
        let done = Set(try strings("SELECT device_name FROM result WHERE service_name = 'step two' AND success"))
        XCTAssertEqual(done.count, 6, "every device completed step two exactly across both runs")
    }

    func testSIGTERMLetsDeviceOperationsInFlightFinishThenInterrupts() throws { try sigtermLetsDeviceOperationsInFlightFinishThenInterrupts() }
    func testSIGTERMLetsDeviceOperationsInFlightFinishThenInterruptsOnPostgreSQL() throws {
        try usePostgres()
        try sigtermLetsDeviceOperationsInFlightFinishThenInterrupts()
    }

    func sigtermLetsDeviceOperationsInFlightFinishThenInterrupts() throws {
        let engine = try startEngine(["--set", "engine.stop_grace_seconds=10"])
        XCTAssertEqual(try cli.run(["run", "nap"]).status, 0)
        try waitFor("two devices in flight") {
            try self.count("SELECT COUNT(*) FROM run_log WHERE run_id = 1 AND message = 'started'") == 2
        }
        kill(engine.processIdentifier, SIGTERM)
        XCTAssertTrue(waitForExit(engine, timeout: 8), "the engine exits once in-flight operations end")
        XCTAssertEqual(engine.terminationStatus, 0)
        let r = try run(1)
        XCTAssertEqual(r.status, .interrupted)
        XCTAssertTrue(r.reason.contains("shut down before 2 of 4 devices ran"), r.reason)
        XCTAssertEqual(try count("SELECT COUNT(*) FROM result WHERE run_id = 1 AND success"), 2, "in-flight operations finished")
        if postgres == nil {
            XCTAssertEqual(try database().writer.read { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") }, "ok")
        }
    }

    func testSecondSignalAbortsAtOnce() throws {
        let engine = try startEngine()
        XCTAssertEqual(try cli.run(["run", "long nap"]).status, 0)
        try waitFor("in flight") { try self.count("SELECT COUNT(*) FROM run_log WHERE run_id = 1 AND message = 'started'") == 2 }
        kill(engine.processIdentifier, SIGTERM)
        usleep(300_000)
        XCTAssertTrue(engine.isRunning, "the first SIGTERM waits for the 30-second operations")
        kill(engine.processIdentifier, SIGTERM)
        XCTAssertTrue(waitForExit(engine, timeout: 3), "the second SIGTERM aborts at once")
        let r = try run(1)
        XCTAssertEqual(r.status, .interrupted)
        XCTAssertTrue(r.reason.contains("stopped at once"), r.reason)
    }

    func testStopAbortsARunningRunWithinTwoSeconds() throws {
        _ = try startEngine()
        XCTAssertEqual(try cli.run(["run", "long nap"]).status, 0)
        try waitFor("in flight") { try self.run(1).status == .running }
        let asked = Date()
        let stop = try cli.run(["stop", "1"])
        XCTAssertEqual(stop.status, 0, stop.stderr)
        try waitFor("aborted", timeout: 5) { try self.run(1).status == .aborted }
        XCTAssertLessThan(Date().timeIntervalSince(asked), 2.5)
        let r = try run(1)
        XCTAssertTrue(r.reason.hasPrefix("stopped by"), r.reason)
        XCTAssertTrue(try cli.run(["logs", "1"]).stdout.contains("stopping: stopped by"))
        // A queued run stops without starting; a finished one says so.
        XCTAssertTrue(try cli.run(["stop", "1"]).stdout.contains("already aborted"))
        XCTAssertEqual(try cli.run(["stop", "42"]).status, 1)
    }

    /// The engine `run` starts lives in its own session: the terminal that launched it hanging up
    /// (the engineer's SSH link dropping) does not stop the run.
    func testRunsSurviveTheLaunchingTerminalHangingUp() throws {
        let socket = cli.dir + "/tmux.sock"
        func tmux(_ args: [String]) throws -> Int32 {
            // posix_spawn + waitpid: tmux's server forks away and would keep Foundation's Process
            // waiting on a descriptor it inherited.
            var environment = cli.environment
            environment["TERM"] = "xterm-256color"
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            for fd in Int32(0)...2 { posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0) }
            var argv = (["/usr/bin/tmux", "-S", socket] + args).map { strdup($0) } + [nil]
            var envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
            defer { (argv + envp).forEach { free($0) } }
            var pid: pid_t = 0
            guard posix_spawn(&pid, "/usr/bin/tmux", &actions, nil, &argv, &envp) == 0 else { return -1 }
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            return (status >> 8) & 0xff
        }
        defer { _ = try? tmux(["kill-server"]) }
        XCTAssertEqual(try tmux(["new-session", "-d", "-s", "hangup", "-x", "80", "-y", "24",
                                 "'\(CLI.binary)' run nap --follow; sleep 60"]), 0)
        try waitFor("the run started") {
            try self.database().writer.read { db in try Run.fetchOne(db, key: 1) }?.status == .running
        }
        let engine = try XCTUnwrap(EngineLock.holder(databasePath: cli.databasePath))
        XCTAssertEqual(try tmux(["kill-server"]), 0)
        try waitFor("the run completed after the hang-up", timeout: 30) { try self.run(1).status == .completed }
        XCTAssertEqual(try count("SELECT COUNT(*) FROM result WHERE run_id = 1 AND success"), 4)
        XCTAssertEqual(EngineLock.holder(databasePath: cli.databasePath), engine, "the same engine is still there")
    }
}
