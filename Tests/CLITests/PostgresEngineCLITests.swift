import Foundation
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
        pipe.fileHandleForReading.readabilityHandler = { h in
            let text = String(decoding: h.availableData, as: UTF8.self)
            let now = Date()
            seen.withLock {
                buffer += text
                while let nl = buffer.firstIndex(of: "\n") {
                    let line = buffer[..<nl]
                    if let r = line.range(of: #"line (\d+)"#, options: .regularExpression), let n = Int(line[r].dropFirst(5)) { arrivals[n] = now }
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
            try backend.writeJournal(JournalBatch(lines: [RunLogLine(runId: run.id!, seq: Int64(i), time: Date(), level: .info,
                                                                      device: "", service: "nothing", message: "line \(i)")]))
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
    }
}
