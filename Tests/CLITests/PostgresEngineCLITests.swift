import Foundation
import Lab
import PostgresTestSupport
import Store
import StorePostgres
import XCTest

/// The engine on PostgreSQL where it differs from SQLite: engines on several hosts (a registered
/// engine's pid means something only on its host) and connections lost while a run goes on.
final class PostgresEngineCLITests: XCTestCase {
    func testEngineStopNeverSignalsAPidOfThisHostWhenTheEngineRunsOnAnother() throws {
        let server = try PostgresTestServer.require()
        var cli = try CLI()
        let url = server.socketURL(try server.createDatabase("hosts"))
        cli.environment["SWITCHBOARD_DB"] = url
        XCTAssertEqual(try cli.run(["list", "devices"]).status, 0)  // creates the schema
        // A process of this host whose pid another host's engine also has.
        let victim = Process()
        victim.executableURL = URL(fileURLWithPath: "/bin/sleep")
        victim.arguments = ["30"]
        try victim.run()
        defer { if victim.isRunning { victim.terminate(); victim.waitUntilExit() } }
        // That other host's engine: registered as engines register, heartbeating (the default
        // active threshold is 15 s).
        let backend = try PostgresBackend(url: try PostgresURL(parsing: url, source: "test"), environment: [:])
        let other = try XCTUnwrap(try backend.acquireEngineLock(EngineIdentity(host: "elsewhere.example.net", pid: victim.processIdentifier)))
        defer { other.release() }

        let status = try cli.run(["engine", "--status"])
        XCTAssertEqual(status.status, 0, status.stderr)
        XCTAssertTrue(status.stdout.contains("pid \(victim.processIdentifier) on host elsewhere.example.net"), status.stdout)
        let stop = try cli.run(["engine", "--stop"])
        XCTAssertEqual(stop.status, 1)
        XCTAssertTrue(stop.stderr.contains("runs on host elsewhere.example.net"), stop.stderr)
        usleep(200_000)
        XCTAssertTrue(victim.isRunning, "engine --stop signalled a process of this host")
    }

    /// Every connection of the engine (its pool, its lock, its LISTEN) terminated by the server while
    /// a run goes on: the engine reconnects, and the run completes with its log and results.
    func testARunSurvivesTheServerTerminatingTheEnginesConnections() throws {
        let server = try PostgresTestServer.require()
        var cli = try CLI()
        let database = try server.createDatabase("lost")
        cli.environment["SWITCHBOARD_DB"] = server.socketURL(database)
        XCTAssertEqual(try cli.run(["import", CLI.repositoryRoot + "/setup/examples/switchboard.json"]).status, 0)
        let services = try cli.write("nap.json", """
            {"services": [{"name": "nap", "kind": "wait", "parameters": {"seconds": 1},
                           "devices": ["par-core1", "par-core2", "par-dist1", "par-dist2"], "max_processes": 1}]}
            """)
        XCTAssertEqual(try cli.run(["import", services]).status, 0)
        defer { _ = try? cli.run(["engine", "--stop"]) }
        let queued = try cli.run(["run", "nap"])
        XCTAssertEqual(queued.status, 0, queued.stderr)
        usleep(1_500_000)
        let killed = try server.psql(database, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
        XCTAssertGreaterThan(Int(killed.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0, 0, "no connection terminated")
        var status = ""
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            status = try server.psql(database, "SELECT status || ' ' || progress_done || '/' || progress_total FROM run ORDER BY id DESC LIMIT 1")
            if !status.hasPrefix("running") && !status.hasPrefix("queued") { break }
            usleep(200_000)
        }
        XCTAssertEqual(status.trimmingCharacters(in: .whitespacesAndNewlines), "completed 4/4")
        let lines = try cli.run(["logs", "1"])
        XCTAssertEqual(lines.status, 0, lines.stderr)
        XCTAssertTrue(lines.stdout.contains("completed"), lines.stdout)
        // The engine is still registered and heartbeating (on new connections): one active engine.
        let engine = try cli.run(["engine", "--status"])
        XCTAssertEqual(engine.status, 0, engine.stdout + engine.stderr)
        let engines = try cli.run(["engines", "--json"])
        XCTAssertEqual((try JSONSerialization.jsonObject(with: Data(engines.stdout.utf8)) as? [[String: Any]])?.map { $0["state"] as? String },
                       ["active"], engines.stdout)
    }

    /// A real server restart (fast shutdown, down for two seconds, started again on the same port)
    /// while the engine runs a workflow on lab devices: the run completes, or ends `interrupted` with
    /// its reason, and nothing is duplicated: one run, one result per device and node, dense log
    /// sequence numbers, and each device's unit executed once (the unix node appends the device's
    /// name to a file of its own: what really ran, whatever the database says). A cluster of this
    /// test's own: the shared one serves the other tests of the process.
    func testARunSurvivesAServerRestart() throws {
        let server = try PostgresTestServer.startOwn()
        defer { server.stop() }
        var cli = try CLI()
        cli.environment.removeValue(forKey: "SSH_AUTH_SOCK")
        let database = try server.createDatabase("restart")
        cli.environment["SWITCHBOARD_DB"] = server.socketURL(database)
        _ = try cli.write("config/switchboard/settings.json", #"{"automation": {"allow_unix": true}}"#)
        let lab = try cli.run(["lab", "up", "--base-port", String(LabPorts.freeBasePort(devices: 20))])
        defer { _ = try? cli.run(["lab", "down"]) }
        XCTAssertEqual(lab.status, 0, lab.stdout + lab.stderr)
        let devices = ["par-core1", "par-core2", "par-dist1", "par-dist2", "par-acc1", "par-acc2", "lon-core1", "lon-dist1", "lon-acc1", "lon-acc2"]
        let units = cli.dir + "/units.log"
        let services = try cli.write("audit.json", """
            {"services": [
              {"name": "show version", "kind": "cli", "parameters": {"commands": ["show version"]}},
              {"name": "mark", "kind": "unix", "parameters": {"command": "echo {{device.name}} >> \(units); sleep 0.5"}},
              {"name": "audit", "kind": "workflow", "traversal": "device", "max_processes": 1,
               "devices": [\(devices.map { "\"\($0)\"" }.joined(separator: ", "))],
               "members": ["show version", "mark"], "start": "show version"}],
             "workflow_edges": [{"name": "audit: show → mark", "workflow": "audit", "source": "show version",
                                 "destination": "mark", "subtype": "success"}]}
            """)
        let imported = try cli.run(["import", services])
        XCTAssertEqual(imported.status, 0, imported.stdout + imported.stderr)
        defer { _ = try? cli.run(["engine", "--stop"]) }
        let queued = try cli.run(["run", "audit"])
        XCTAssertEqual(queued.status, 0, queued.stdout + queued.stderr)
        // Someone following the run's log through the restart: its reads reconnect.
        let follower = Process()
        follower.executableURL = URL(fileURLWithPath: CLI.binary)
        follower.arguments = ["logs", "1", "--follow"]
        follower.environment = cli.environment
        let followed = cli.dir + "/followed.txt"
        FileManager.default.createFile(atPath: followed, contents: nil)
        follower.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: followed))
        follower.standardError = follower.standardOutput
        try follower.run()
        defer { if follower.isRunning { follower.terminate() } }
        // Mid-flight: some devices done, most to go.
        let midway = Date().addingTimeInterval(60)
        var marked = 0
        while Date() < midway {
            marked = ((try? String(contentsOfFile: units, encoding: .utf8)) ?? "").split(separator: "\n").count
            if marked >= 2 { break }
            usleep(100_000)
        }
        XCTAssertGreaterThanOrEqual(marked, 2, "the run never got going")
        try server.restart(downFor: 2)
        var status = ""
        let deadline = Date().addingTimeInterval(90)
        while Date() < deadline {
            status = (try? server.psql(database, "SELECT status FROM run ORDER BY id DESC LIMIT 1")) ?? ""
            if ["completed", "failed", "aborted", "interrupted"].contains(status) { break }
            usleep(250_000)
        }
        let reason = try server.psql(database, "SELECT reason FROM run ORDER BY id DESC LIMIT 1")
        let engineLog = Self.engineLog(cli)
        if status == "interrupted" {
            XCTAssertFalse(reason.isEmpty, "an interrupted run says why")
        } else {
            XCTAssertEqual(status, "completed", "reason: \(reason)\nengine log:\n\(engineLog)")
        }
        XCTAssertEqual(try server.psql(database, "SELECT count(*) FROM run"), "1", "one run")
        // Each device's unit ran once: the file the unix node appends to.
        let ran = ((try? String(contentsOfFile: units, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        XCTAssertEqual(ran.sorted(), status == "completed" ? devices.sorted() : Array(Set(ran)).sorted(), "each device's unit executed once")
        // No duplicate result, no duplicate or missing log line.
        let duplicates = try server.psql(database, "SELECT count(*) FROM (SELECT device_name, service_name FROM result GROUP BY 1, 2 HAVING count(*) > 1) d")
        let stored = try server.psql(database, "SELECT device_name || ' ' || service_name FROM result ORDER BY id")
        XCTAssertEqual(duplicates, "0", stored)
        if status == "completed" {
            XCTAssertEqual(try server.psql(database, "SELECT count(*) FROM result"), String(devices.count * 3), "show version, mark, audit per device")
        }
        let seqs = try server.psql(database, "SELECT count(*) || ' ' || count(DISTINCT seq) || ' ' || coalesce(max(seq), 0) FROM run_log")
        let parts = seqs.split(separator: " ")
        XCTAssertEqual(Set(parts).count, 1, "log lines: count, distinct seq, max seq: \(seqs)")
        let closing = try server.psql(database, "SELECT count(*) FROM run_log WHERE message ~ '^run 1 (completed|failed|aborted|interrupted)'")
        let messages = try server.psql(database, "SELECT message FROM run_log ORDER BY seq")
        XCTAssertEqual(closing, "1", "one closing line: \(messages)")
        // The follower printed every line once, to the closing one, and exited as a run that ended.
        let followEnd = Date().addingTimeInterval(20)
        while follower.isRunning && Date() < followEnd { usleep(100_000) }
        XCTAssertFalse(follower.isRunning, "logs --follow never saw the run end")
        let printed = ((try? String(contentsOfFile: followed, encoding: .utf8)) ?? "").split(separator: "\n")
        XCTAssertEqual(String(printed.count), try server.psql(database, "SELECT count(*) FROM run_log"), printed.joined(separator: "\n"))
        XCTAssertTrue(printed.last?.contains("run 1 \(status)") ?? false, printed.joined(separator: "\n"))
        // The engine lived through it: still registered (its heartbeat resumed), still active.
        let engine = try cli.run(["engine", "--status"])
        XCTAssertEqual(engine.status, 0, engine.stdout + engine.stderr)
        XCTAssertTrue(engine.stdout.contains("engine running on"), engine.stdout + "\nengine log:\n" + engineLog)
    }

    static func engineLog(_ cli: CLI) -> String {
        let stateDirectory = Paths(environment: cli.environment).stateDirectory
        let logs = (try? FileManager.default.contentsOfDirectory(atPath: stateDirectory))?.filter { $0.hasPrefix("engine-") } ?? []
        return logs.compactMap { try? String(contentsOfFile: stateDirectory + "/" + $0, encoding: .utf8) }.joined()
    }

    /// `logs --follow` on PostgreSQL sleeps on LISTEN/NOTIFY: a committed line is printed within a few
    /// milliseconds, not at the next tick of the safety-net poll (250 ms, so 125 ms on average).
    func testLogsFollowWakesOnNotifyNotOnThePoll() throws {
        let server = try PostgresTestServer.require()
        var cli = try CLI()
        let url = server.socketURL(try server.createDatabase("follow"))
        cli.environment["SWITCHBOARD_DB"] = url
        let services = try cli.write("nothing.json", """
            {"services": [{"name": "nothing", "kind": "wait", "parameters": {"seconds": 0}}]}
            """)
        XCTAssertEqual(try cli.run(["import", services]).status, 0)
        let backend = try PostgresBackend(url: try PostgresURL(parsing: url, source: "test"), environment: [:])
        _ = try RunQueue(database: backend).enqueue(service: "nothing", trigger: .cli, user: "test")
        // Running, for an engine that does not exist: only this test writes its log.
        guard var run = try backend.claimQueuedRuns(limit: 1, enginePid: 999_999, at: Date()).first else { return XCTFail("no run claimed") }

        let follower = Process()
        follower.executableURL = URL(fileURLWithPath: CLI.binary)
        follower.arguments = ["logs", String(run.id!), "--follow"]
        follower.environment = cli.environment
        let pipe = Pipe()
        follower.standardOutput = pipe
        follower.standardError = FileHandle.nullDevice
        let seen = NSLock()
        nonisolated(unsafe) var arrivals: [Int: Date] = [:]
        nonisolated(unsafe) var buffer = ""
        nonisolated(unsafe) var order: [Int] = []
        pipe.fileHandleForReading.readabilityHandler = { h in
            let text = String(decoding: h.availableData, as: UTF8.self)
            let now = Date()
            seen.withLock {
                buffer += text
                while let nl = buffer.firstIndex(of: "\n") {
                    let line = buffer[..<nl]
                    if let r = line.range(of: #"line (\d+)"#, options: .regularExpression), let n = Int(line[r].dropFirst(5)) { arrivals[n] = now; order.append(n) }
                    buffer = String(buffer[buffer.index(after: nl)...])
                }
            }
        }
        try follower.run()
        defer { if follower.isRunning { follower.terminate() } }
        usleep(700_000)
        var sent: [Int: Date] = [:]
        for i in 1...12 {
            // Spacing unrelated to the poll's period, so a poll would land anywhere in its window.
            usleep(UInt32(130_000 + (i * 37_000) % 240_000))
            sent[i] = Date()
            // The flush's wake-up carries its lines (printed without a read), except line 7's: too
            // large for a NOTIFY payload, it must be read, and line 8's then follows a gap.
            let message = "line \(i)" + (i == 7 ? " " + String(repeating: "x", count: 8_000) : "")
            try backend.writeJournal(JournalBatch(lines: [RunLogLine(runId: run.id!, seq: Int64(i), time: Date(), level: .info,
                                                                      device: "", service: "nothing", message: message)]))
        }
        usleep(500_000)
        run.status = .completed; run.endedAt = Date()
        try backend.recordRunEnd(run)
        let deadline = Date().addingTimeInterval(10)
        while follower.isRunning, Date() < deadline { usleep(50_000) }
        let latencies = seen.withLock { (1...12).compactMap { i in arrivals[i].map { $0.timeIntervalSince(sent[i]!) } } }.sorted()
        XCTAssertEqual(latencies.count, 12, "lines printed: \(latencies.count)")
        guard !latencies.isEmpty else { return }
        let median = latencies[latencies.count / 2]
        print("logs --follow on PostgreSQL: wake-up latency median \(Int(median * 1000)) ms, max \(Int(latencies.last! * 1000)) ms")
        XCTAssertLessThan(median, 0.06, "median \(median) s: woken by the poll, not by NOTIFY")
        let printed = seen.withLock { buffer }
        XCTAssertEqual(printed, "", "no partial line left")
        XCTAssertEqual(seen.withLock { order }, Array(1...12), "every line printed once, in order")
    }
}
