import Foundation
import PostgresTestSupport
import XCTest

/// Spread workflow runs (`engine.unit_queue`, one unit per device's walk) on engine processes without
/// the lab: `wait` nodes over the example inventory, so the timing is the test's own. The workflow's
/// `max_processes` across engines, and a stop request that reaches every engine walking the run.
final class FleetWorkflowCLITests: XCTestCase, EngineProcesses {
    var cli: CLI!
    var engines: [Process] = []
    var server: PostgresTestServer!
    var database = ""

    static let devices = ["par-core1", "par-core2", "par-dist1", "par-dist2", "par-acc1", "par-acc2",
                          "lon-core1", "lon-dist1", "lon-acc1", "lon-acc2"]
    static var services: String {
        let list = devices.map { "\"\($0)\"" }.joined(separator: ", ")
        return """
        {"services": [
          {"name": "wf nap", "kind": "wait", "parameters": {"seconds": 1}},
          {"name": "wf short nap", "kind": "wait", "parameters": {"seconds": 0.5}},
          {"name": "wf long nap", "kind": "wait", "parameters": {"seconds": 30}},
          {"name": "wf blink", "kind": "wait", "parameters": {"seconds": 0.2}},
          {"name": "wf 3s nap", "kind": "wait", "parameters": {"seconds": 3}},
          {"name": "wf prompt", "kind": "workflow", "traversal": "device", "max_processes": 100, "devices": [\(list)],
           "members": ["wf nap", "wf blink", "wf 3s nap"], "start": "wf nap"},
          {"name": "wf naps", "kind": "workflow", "traversal": "device", "max_processes": 2, "devices": [\(list)],
           "members": ["wf nap", "wf short nap"], "start": "wf nap"},
          {"name": "wf long", "kind": "workflow", "traversal": "device", "max_processes": 100, "devices": [\(list)],
           "members": ["wf short nap", "wf long nap"], "start": "wf short nap"}],
         "workflow_edges": [
          {"name": "naps", "workflow": "wf naps", "source": "wf nap", "destination": "wf short nap", "subtype": "success"},
          {"name": "long", "workflow": "wf long", "source": "wf short nap", "destination": "wf long nap", "subtype": "success"},
          {"name": "prompt", "workflow": "wf prompt", "source": "wf nap", "destination": "wf blink", "subtype": "success"},
          {"name": "prompt 2", "workflow": "wf prompt", "source": "wf blink", "destination": "wf 3s nap", "subtype": "success"}]}
        """
    }

    override func tearDownWithError() throws { killEngines() }

    func setUpPostgres(_ name: String, maxProcess: Int) throws {
        server = try PostgresTestServer.require()
        cli = try CLI()
        database = try server.createDatabase(name)
        cli.environment["SWITCHBOARD_DB"] = server.socketURL(database)
        cli.environment["SWITCHBOARD_ENGINE_UNIT_QUEUE"] = "true"
        cli.environment["SWITCHBOARD_AUTOMATION_MAX_PROCESS"] = String(maxProcess)
        XCTAssertEqual(try cli.run(["import", CLI.repositoryRoot + "/setup/examples/switchboard.json"]).status, 0)
        let imported = try cli.run(["import", try cli.write("workflows.json", Self.services)])
        XCTAssertEqual(imported.status, 0, imported.stdout + imported.stderr)
        for _ in 0..<3 { try launchEngine() }
        try waitFor("three engines registered", timeout: 30) {
            try self.psql("SELECT count(*) FROM engine WHERE heartbeat_at > now() - interval '5 seconds'") == "3"
        }
    }

    func psql(_ sql: String) throws -> String { try server.psql(database, sql).trimmingCharacters(in: .whitespacesAndNewlines) }

    func waitFor(_ what: String, timeout: Double = 30, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if (try? condition()) == true { return }
            usleep(100_000)
        }
        XCTFail("timed out waiting for: \(what)\n\(engineLogs(lastLines: 30))")
        throw XCTSkip("condition never held: \(what)")
    }

    /// A workflow with `max_processes` 2 over 10 devices, 3 engines each free to take 4 units: never
    /// more than 2 walks in flight across the engines together, and the cap is reached.
    func testAWorkflowsMaxProcessesCapsItsWalksAcrossEngines() throws {
        try setUpPostgres("wfcap", maxProcess: 4)
        XCTAssertEqual(try cli.run(["run", "wf naps"]).status, 0)
        let runId = try psql("SELECT max(id) FROM run")
        var most = 0
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let row = try psql("SELECT (SELECT count(*) FROM run_unit WHERE run_id = \(runId) AND status = 'claimed') || ' ' || status FROM run WHERE id = \(runId)")
                .split(separator: " ")
            most = max(most, Int(row.first ?? "") ?? 0)
            if row.count == 2, !["queued", "running"].contains(String(row[1])) { break }
            usleep(50_000)
        }
        XCTAssertEqual(try psql("SELECT status || ' ' || progress_done || '/' || progress_total FROM run WHERE id = \(runId)"), "completed 10/10",
                       engineLogs(lastLines: 30))
        XCTAssertEqual(try psql("SELECT count(*) || ' ' || max(max_processes) FROM run_unit WHERE run_id = \(runId)"), "10 2")
        XCTAssertEqual(most, 2, "walks in flight at once across the engines (cap 2)")
        XCTAssertGreaterThanOrEqual(Int(try psql("SELECT count(DISTINCT engine_id) FROM run_unit WHERE run_id = \(runId)")) ?? 0, 2, "spread over the engines")
        XCTAssertEqual(try psql("SELECT count(*) || ' ' || bool_and(success) FROM result WHERE run_id = \(runId)"), "30 true")
    }

    /// A stop request to a workflow run spread over 3 engines: the walks in flight stop (their long
    /// node ends at once), the queued walks never start, the run ends `aborted` within seconds as a
    /// whole run does, and `logs --follow`, started before the stop, ends with the run.
    func testAStoppedSpreadWorkflowRunEndsAbortedAndStartsNothingMore() throws {
        try setUpPostgres("wfstop", maxProcess: 1)
        XCTAssertEqual(try cli.run(["run", "wf long"]).status, 0)
        let runId = try psql("SELECT max(id) FROM run")
        try waitFor("walks in their long node on the three engines") {
            try self.psql("SELECT count(DISTINCT engine_id) FROM run_unit WHERE run_id = \(runId) AND status = 'claimed'") == "3"
                && self.psql("SELECT count(*) FROM result WHERE run_id = \(runId)") == "0"
                && Int(self.psql("SELECT count(*) FROM run_log WHERE run_id = \(runId) AND message LIKE 'success in %'"))! >= 3
        }
        let follow = Process()
        follow.executableURL = URL(fileURLWithPath: CLI.binary)
        follow.arguments = ["logs", runId, "--follow"]
        follow.environment = cli.environment
        let out = Pipe()
        follow.standardOutput = out
        follow.standardError = out
        try follow.run()
        usleep(500_000)
        let stopped = Date()
        XCTAssertEqual(try cli.run(["stop", runId]).status, 0)
        try waitFor("the run aborted", timeout: 10) { try self.psql("SELECT status FROM run WHERE id = \(runId)") == "aborted" }
        XCTAssertLessThan(Date().timeIntervalSince(stopped), 5, "ended within seconds, not at the walks' end or a lease's")
        XCTAssertTrue(try psql("SELECT reason FROM run WHERE id = \(runId)").hasPrefix("stopped by "))
        let statuses = try psql("SELECT string_agg(status, ',') FROM run_unit WHERE run_id = \(runId)")
        XCTAssertEqual(try psql("SELECT count(*) FROM run_unit WHERE run_id = \(runId) AND status IN ('queued', 'claimed', 'succeeded')"), "0", statuses)
        XCTAssertEqual(try psql("SELECT count(*) FROM run_log WHERE run_id = \(runId) AND message = 'stopped: the run''s stop was requested'"), "3",
                       "each walk in flight ended stopped")
        XCTAssertEqual(try psql("SELECT count(*) FROM result WHERE run_id = \(runId) AND service_name = 'wf long nap'"), "0", "no long node ran to its end")

        let deadline = Date().addingTimeInterval(10)
        while follow.isRunning && Date() < deadline { usleep(100_000) }
        XCTAssertFalse(follow.isRunning, "logs --follow ended with the run")
        if follow.isRunning { follow.terminate() }
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertTrue(text.contains("stopped: the run's stop was requested"), text)
        sleep(1)
        XCTAssertEqual(try psql("SELECT count(*) FROM run_unit WHERE run_id = \(runId) AND attempts > 1"), "0", "nothing started again")
    }

    /// A spread run's lines reach `logs --follow` at the journal's cadence (`engine.log_flush_ms`),
    /// not at a unit's once-a-second flush from the engine's loop: each walk's second node ends (a
    /// line) 3 s before the walk does, and that line is printed within a fraction of a second of being
    /// logged. (A unit's flush came about a second after its claim, taking its first node's line, and
    /// the next a second later: about 0.8 s after the second node's line (0.2 s later), every walk
    /// alike. `logs --follow` is running by then, started while the first node's 1 s passes.)
    func testASpreadRunsLinesReachLogsFollowPromptly() throws {
        try setUpPostgres("wfprompt", maxProcess: 4)
        XCTAssertEqual(try cli.run(["run", "wf prompt"]).status, 0)
        let runId = try psql("SELECT max(id) FROM run")
        let follow = Process()
        follow.executableURL = URL(fileURLWithPath: CLI.binary)
        follow.arguments = ["logs", runId, "--follow"]
        follow.environment = cli.environment
        let pipe = Pipe()
        follow.standardOutput = pipe
        follow.standardError = FileHandle.nullDevice
        let seen = NSLock()
        nonisolated(unsafe) var arrivals: [String: Date] = [:]
        nonisolated(unsafe) var buffer = ""
        pipe.fileHandleForReading.readabilityHandler = { h in
            let text = String(decoding: h.availableData, as: UTF8.self)
            let now = Date()
            seen.withLock {
                buffer += text
                while let nl = buffer.firstIndex(of: "\n") {
                    let line = String(buffer[..<nl])
                    buffer = String(buffer[buffer.index(after: nl)...])
                    guard line.contains("[wf blink] success in") else { continue }
                    for device in Self.devices where line.contains(" \(device) [") { arrivals[device] = now }
                }
            }
        }
        try follow.run()
        defer { if follow.isRunning { follow.terminate() } }
        try waitFor("the run ended", timeout: 60) { try self.psql("SELECT status FROM run WHERE id = \(runId)") == "completed" }
        let deadline = Date().addingTimeInterval(10)
        while follow.isRunning, Date() < deadline { usleep(50_000) }
        var delays: [Double] = []
        for row in try psql("""
            SELECT device || ' ' || extract(epoch FROM time) FROM run_log WHERE run_id = \(runId) AND service = 'wf blink' AND message LIKE 'success in %'
            """).split(separator: "\n") {
            let parts = row.split(separator: " ")
            guard parts.count == 2, let logged = Double(parts[1]), let arrived = seen.withLock({ arrivals[String(parts[0])] }) else { continue }
            delays.append(arrived.timeIntervalSince1970 - logged)
        }
        delays.sort()
        XCTAssertEqual(delays.count, Self.devices.count, "each walk's first line printed: \(delays)")
        guard !delays.isEmpty else { return }
        let median = delays[delays.count / 2]
        print("spread run, logs --follow: line delay median \(Int(median * 1000)) ms, max \(Int(delays.last! * 1000)) ms")
        XCTAssertLessThan(median, 0.4, "median \(median) s from logged to printed: \(delays)")
        XCTAssertLessThan(delays.last!, 2.5, "every line printed before its walk ended (its 3 s node): \(delays)")
    }
}
