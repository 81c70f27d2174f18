import Crypto
import Engine
import Foundation
import Lab
import Store
import XCTest

/// Runs executed by the engine against the lab: results, progress and device status; retries and
/// timeouts; both workflow traversals with devices that diverge; payload passing; stop; secrets
/// scrubbed from every log line and result.
final class EngineLabTests: LabBackedTestCase {
    final class Fixture: @unchecked Sendable {
        let store: TestStore
        var database: any StoreBackend { store.backend }
        let secrets = SecretBox(key: SymmetricKey(data: Data(repeating: 5, count: 32)))
        let engine: EngineService
        let password: String?

        init(_ lab: LabFixture, _ backend: BackendKind) throws {
            store = try TestStore(backend, prefix: "engine")
            try LabInventory.register(lab.status, database: store.backend, secrets: secrets)
            password = lab.status.password
            var settings = Settings.defaults
            settings.engine.pollMs = 20
            settings.engine.logFlushMs = 20
            engine = try EngineService(database: store.backend, settings: settings, transport: lab.configuration(),
                                       secrets: secrets, environment: [:])
        }

        func close() {
            engine.environment.transport.shutdown()
        }

        @discardableResult
        func service(_ name: String, _ kind: Service.Kind, _ parameters: [String: JSONValue] = [:],
                     devices: [String] = [], configure: (inout Service) -> Void = { _ in }) throws -> Service {
            var s = Service(name: name, kind: kind, parameters: parameters, devices: devices)
            configure(&s)
            try ServiceValidation.validate(s)
            return try database.transaction { store in try store.upsert(service: s) }
        }

        /// A workflow from members (the first is the start) and edges `(source, destination, success?)`.
        func workflow(_ name: String, traversal: String, devices: [String], members: [String],
                      edges: [(String, String, Bool)], maxNodeRuns: Int = 10) throws {
            var w = Service(name: name, kind: .workflow, devices: devices)
            w.traversal = traversal
            w.maxNodeRuns = maxNodeRuns
            try database.transaction { store in
                let saved = try store.upsert(service: w)
                for (i, m) in members.enumerated() {
                    try store.addWorkflowNode(workflowId: saved.id!, serviceId: try store.service(named: m)!.id!, isStart: i == 0)
                }
                for (i, e) in edges.enumerated() {
                    try store.upsert(edge: WorkflowEdge(name: "e\(i)", workflowId: saved.id!,
                                                        sourceId: try store.service(named: e.0)!.id!,
                                                        destinationId: try store.service(named: e.1)!.id!,
                                                        subtype: e.2 ? .success : .failure))
                }
            }
        }

        /// Queues a run, has it claimed the engine's way and executes it to its end.
        func execute(_ name: String, parameters: [String: JSONValue] = [:],
                     whileRunning: (@Sendable (RunExecution) async -> Void)? = nil) async throws -> Run {
            let queued = try RunQueue(database: database).enqueue(service: name, trigger: .cli, user: "tester", parameters: parameters)
            let claimed = try XCTUnwrap(try database.claimQueuedRuns(limit: 1, enginePid: getpid(), at: Date()).first)
            XCTAssertEqual(claimed.id, queued.id)
            let execution = RunExecution(run: claimed, environment: engine.environment)
            // The engine's loop flushes the journal on its interval; here a small task does.
            let journal = engine.environment.journal
            let flusher = Task { while !Task.isCancelled { try? journal.flush(); try? await Task.sleep(nanoseconds: 20_000_000) } }
            defer { flusher.cancel() }
            async let final = execution.execute()
            if let whileRunning { await whileRunning(execution) }
            let result = await final
            let stored = try XCTUnwrap(try RunQueue(database: database).run(queued.id!))
            XCTAssertEqual(stored.status, result.status, "the stored status is the returned one")
            return stored
        }

        func results(_ run: Run) throws -> [RunResult] { try RunQueue(database: database).results(run: run.id!) }
        func lines(_ run: Run) throws -> [RunLogLine] { try RunQueue(database: database).logLines(run: run.id!) }
    }

    func withFixture(_ backend: BackendKind, _ body: (Fixture) async throws -> Void) async throws {
        let fixture = try Fixture(try lab, backend)
        defer { fixture.close() }
        try await body(fixture)
    }

    func aServiceOnSeveralDevicesRecordsResultsProgressAndDeviceStatus(_ backend: BackendKind) async throws {
        try await withFixture(backend) { f in
            try f.service("show version", .cli, ["commands": .array([.string("show version")])],
                          devices: ["par-core1", "par-dist1", "par-acc1", "fault-auth"])
            let run = try await f.execute("show version")
            XCTAssertEqual(run.status, .failed)
            XCTAssertEqual(run.progressTotal, 4)
            XCTAssertEqual(run.progressDone, 4)
            XCTAssertEqual(run.progressFailed, 1)
            XCTAssertEqual(run.reason, "1 of 4 devices failed")
            let results = try f.results(run)
            XCTAssertEqual(results.count, 4)
            let byDevice = Dictionary(uniqueKeysWithValues: results.map { ($0.deviceName, $0) })
            XCTAssertTrue(byDevice["par-core1"]!.success)
            XCTAssertTrue(byDevice["par-core1"]!.output.contains("Junos: "), byDevice["par-core1"]!.output)
            XCTAssertTrue(byDevice["par-dist1"]!.output.contains("Software image version"))
            XCTAssertTrue(byDevice["par-acc1"]!.output.contains("Cisco IOS Software"))
            XCTAssertFalse(byDevice["fault-auth"]!.success)
            XCTAssertTrue(byDevice["fault-auth"]!.output.contains("authentication"), byDevice["fault-auth"]!.output)
            let lines = try f.lines(run)
            XCTAssertEqual(lines.map(\.seq), Array(1...Int64(lines.count)), "sequence numbers are dense and ordered")
            XCTAssertTrue(lines.contains { $0.device == "fault-auth" && $0.level == .error })
            XCTAssertTrue(lines.last!.message.hasPrefix("run \(run.id!) failed in"), lines.last!.message)
            let status = try await f.database.query { store in try ["fault-auth", "par-core1"].map { try store.device(named: $0)! } }
            XCTAssertEqual(status.map(\.lastRunStatus), ["failure", "success"])
            XCTAssertTrue(status.allSatisfy { $0.lastRunTime != nil })
        }
    }

    func retriesAndAPerAttemptTimeoutOnAHangingDevice(_ backend: BackendKind) async throws {
        try await withFixture(backend) { f in
            try f.service("hangs", .cli, ["commands": .array([.string("show version")])], devices: ["fault-hang"]) { s in
                s.timeout = 1; s.retries = 1; s.retryDelay = 0.2
            }
            let started = Date()
            let run = try await f.execute("hangs")
            XCTAssertLessThan(Date().timeIntervalSince(started), 15)
            XCTAssertEqual(run.status, .failed)
            let result = try XCTUnwrap(try f.results(run).first)
            XCTAssertEqual(result.attempts, 2)
            XCTAssertFalse(result.success)
            XCTAssertEqual(result.output, "timed out after 1 s")
            let messages = try f.lines(run).map(\.message)
            XCTAssertTrue(messages.contains("attempt 1 of 2 failed: timed out after 1 s"), "\(messages)")
            XCTAssertTrue(messages.contains { $0.hasPrefix("retry 1 of 1") }, "\(messages)")
        }
    }

    /// show version → extract (matches only EOS) → validate the extracted version; the extract's
    /// failure edge leads Junos devices to a note instead.
    func makeDivergingWorkflow(_ f: Fixture, traversal: String) throws {
        try f.service("show version", .cli, ["commands": .array([.string("show version")])])
        try f.service("extract eos version", .extract,
                      ["regex": .string("Software image version: (?<version>[0-9.]+\\w*)"), "source": .string("previous")])
        try f.service("check version", .validate, ["source": .string("version")]) { s in
            s.validation = ["kind": .string("regex"), "value": .string("^4\\.")]
        }
        try f.service("note", .wait, ["seconds": .int(0)])
        try f.workflow("audit \(traversal)", traversal: traversal, devices: ["par-core1", "par-dist1", "par-dist2", "lon-core1"],
                       members: ["show version", "extract eos version", "check version", "note"],
                       edges: [("show version", "extract eos version", true), ("extract eos version", "check version", true),
                               ("extract eos version", "note", false)])
    }

    func deviceByDeviceTraversalFollowsEachDevicesEdges(_ backend: BackendKind) async throws {
        try await withFixture(backend) { f in
            try makeDivergingWorkflow(f, traversal: "device")
            let run = try await f.execute("audit device")
            let results = try f.results(run)
            func path(_ device: String) -> [String] { results.filter { $0.deviceName == device }.map(\.serviceName) }
            XCTAssertEqual(path("par-dist1"), ["show version", "extract eos version", "check version", "audit device"])
            XCTAssertEqual(path("par-core1"), ["show version", "extract eos version", "note", "audit device"])
            XCTAssertEqual(results.first { $0.deviceName == "par-dist1" && $0.serviceName == "check version" }?.success, true,
                           "the version extracted by the previous service reached the validation through the payload")
            // A Junos device failed the extract but its failure edge handled it: its workflow succeeded.
            XCTAssertEqual(run.status, .completed, run.reason)
            XCTAssertEqual(run.progressDone, 4)
        }
    }

    func serviceByServiceTraversalRunsEachNodeOnAllDevicesFirst(_ backend: BackendKind) async throws {
        try await withFixture(backend) { f in
            try makeDivergingWorkflow(f, traversal: "service")
            let run = try await f.execute("audit service")
            let results = try f.results(run)
            let order = results.map(\.serviceName)
            let lastShow = order.lastIndex(of: "show version")!
            let firstExtract = order.firstIndex(of: "extract eos version")!
            XCTAssertLessThan(lastShow, firstExtract, "every device ran show version before any ran the extract: \(order)")
            XCTAssertEqual(order.filter { $0 == "show version" }.count, 4)
            XCTAssertEqual(Set(results.filter { $0.serviceName == "check version" }.map(\.deviceName)), ["par-dist1", "par-dist2"])
            XCTAssertEqual(Set(results.filter { $0.serviceName == "note" }.map(\.deviceName)), ["par-core1", "lon-core1"])
            XCTAssertEqual(run.status, .completed, run.reason)
        }
    }

    func runParametersReachTemplatesAndTheLoopGuardStopsACycle(_ backend: BackendKind) async throws {
        try await withFixture(backend) { f in
            try f.service("parameterised", .cli, ["commands": .array([.string("{{payload.command}}")])])
            try f.service("again", .wait, ["seconds": .int(0)])
            try f.workflow("loop", traversal: "device", devices: ["par-acc1"], members: ["parameterised", "again"],
                           edges: [("parameterised", "again", true), ("again", "parameterised", true)], maxNodeRuns: 3)
            let run = try await f.execute("loop", parameters: ["command": .string("show version")])
            let results = try f.results(run)
            XCTAssertEqual(results.filter { $0.serviceName == "parameterised" }.count, 3, "the loop guard allows 3 runs of a node")
            XCTAssertTrue(results.first!.output.contains("Cisco IOS Software"))
            XCTAssertEqual(run.status, .failed, "a device stopped by the loop guard fails")
            XCTAssertTrue(try f.lines(run).contains { $0.message.hasPrefix("loop guard:") })
        }
    }

    func stopClosesChannelsWithinTwoSecondsAndKeepsPartialResults(_ backend: BackendKind) async throws {
        try await withFixture(backend) { f in
            try f.service("slow and hanging", .cli, ["commands": .array([.string("show version")])],
                          devices: ["par-core1", "fault-hang"]) { s in s.timeout = 60 }
            let stoppedAt = Mutex<Date?>(nil)
            let run = try await f.execute("slow and hanging") { execution in
                // Wait until par-core1 answered and fault-hang hangs, then stop.
                let deadline = Date().addingTimeInterval(20)
                while Date() < deadline {
                    let done = (try? f.store.int("SELECT COUNT(*) FROM result")) ?? 0
                    if done >= 1 { break }
                    try? await Task.sleep(nanoseconds: 50_000_000)
                }
                stoppedAt.withLock { $0 = Date() }
                await execution.stop(reason: "stopped by tester")
            }
            let elapsed = Date().timeIntervalSince(stoppedAt.withLock { $0 }!)
            XCTAssertLessThan(elapsed, 2, "in-flight operations end within 2 s of a stop")
            XCTAssertEqual(run.status, .aborted)
            XCTAssertEqual(run.reason, "stopped by tester")
            let results = try f.results(run)
            XCTAssertEqual(results.map(\.deviceName), ["par-core1"], "the partial result is kept")
        }
    }

    func secretsNeverReachLogsOrResults(_ backend: BackendKind) async throws {
        try await withFixture(backend) { f in
            let password = try XCTUnwrap(f.password, "the lab runs as root in CI, with a password credential")
            // A device that echoes the command echoes the secret: the journal must mask it.
            try f.service("leaky", .cli, ["commands": .array([.string("show {{payload.secret}}")])], devices: ["par-acc1"])
            let run = try await f.execute("leaky", parameters: ["secret": .string(password)])
            let texts = try f.results(run).map(\.output) + f.lines(run).map(\.message)
            XCTAssertTrue(texts.contains { $0.contains(SecretRedactor.mask) }, "the echo was masked: \(texts)")
            XCTAssertFalse(texts.contains { $0.contains(password) })
            // What readers in other processes get: the stored results and lines.
            let stored = try f.store.strings("SELECT output FROM result UNION ALL SELECT message FROM run_log")
            XCTAssertFalse(stored.isEmpty)
            XCTAssertFalse(stored.contains { $0.contains(password) })
        }
    }

    func theEngineClaimsQueuedRunsAndStopsWhenAsked(_ backend: BackendKind) async throws {
        try await withFixture(backend) { f in
            try f.service("tiny", .wait, ["seconds": .double(0.1)], devices: ["par-core1", "par-core2"])
            let queue = RunQueue(database: f.database)
            let ids = try (0..<3).map { _ in try queue.enqueue(service: "tiny", trigger: .console, user: "tester").id! }
            let engine = f.engine
            let loop = Task { await engine.run() }
            let deadline = Date().addingTimeInterval(20)
            while Date() < deadline, try ids.contains(where: { try queue.run($0)?.status != .completed }) {
                try await Task.sleep(nanoseconds: 50_000_000)
            }
            XCTAssertEqual(try ids.map { try queue.run($0)!.status }, [.completed, .completed, .completed])
            XCTAssertEqual(try ids.map { try queue.run($0)!.enginePid }, Array(repeating: Int(getpid()), count: 3))
            engine.requestShutdown(immediate: false)
            await loop.value
            XCTAssertEqual(engine.shutdownState, .drain)
        }
    }

    // MARK: each on both backends (issue #14)

    func testAServiceOnSeveralDevicesRecordsResultsProgressAndDeviceStatusOnSQLite() async throws { try await aServiceOnSeveralDevicesRecordsResultsProgressAndDeviceStatus(.sqlite) }
    func testAServiceOnSeveralDevicesRecordsResultsProgressAndDeviceStatusOnPostgreSQL() async throws { try await aServiceOnSeveralDevicesRecordsResultsProgressAndDeviceStatus(.postgres) }
    func testRetriesAndAPerAttemptTimeoutOnAHangingDeviceOnSQLite() async throws { try await retriesAndAPerAttemptTimeoutOnAHangingDevice(.sqlite) }
    func testRetriesAndAPerAttemptTimeoutOnAHangingDeviceOnPostgreSQL() async throws { try await retriesAndAPerAttemptTimeoutOnAHangingDevice(.postgres) }
    func testDeviceByDeviceTraversalFollowsEachDevicesEdgesOnSQLite() async throws { try await deviceByDeviceTraversalFollowsEachDevicesEdges(.sqlite) }
    func testDeviceByDeviceTraversalFollowsEachDevicesEdgesOnPostgreSQL() async throws { try await deviceByDeviceTraversalFollowsEachDevicesEdges(.postgres) }
    func testServiceByServiceTraversalRunsEachNodeOnAllDevicesFirstOnSQLite() async throws { try await serviceByServiceTraversalRunsEachNodeOnAllDevicesFirst(.sqlite) }
    func testServiceByServiceTraversalRunsEachNodeOnAllDevicesFirstOnPostgreSQL() async throws { try await serviceByServiceTraversalRunsEachNodeOnAllDevicesFirst(.postgres) }
    func testRunParametersReachTemplatesAndTheLoopGuardStopsACycleOnSQLite() async throws { try await runParametersReachTemplatesAndTheLoopGuardStopsACycle(.sqlite) }
    func testRunParametersReachTemplatesAndTheLoopGuardStopsACycleOnPostgreSQL() async throws { try await runParametersReachTemplatesAndTheLoopGuardStopsACycle(.postgres) }
    func testStopClosesChannelsWithinTwoSecondsAndKeepsPartialResultsOnSQLite() async throws { try await stopClosesChannelsWithinTwoSecondsAndKeepsPartialResults(.sqlite) }
    func testStopClosesChannelsWithinTwoSecondsAndKeepsPartialResultsOnPostgreSQL() async throws { try await stopClosesChannelsWithinTwoSecondsAndKeepsPartialResults(.postgres) }
    func testSecretsNeverReachLogsOrResultsOnSQLite() async throws { try await secretsNeverReachLogsOrResults(.sqlite) }
    func testSecretsNeverReachLogsOrResultsOnPostgreSQL() async throws { try await secretsNeverReachLogsOrResults(.postgres) }
    func testTheEngineClaimsQueuedRunsAndStopsWhenAskedOnSQLite() async throws { try await theEngineClaimsQueuedRunsAndStopsWhenAsked(.sqlite) }
    func testTheEngineClaimsQueuedRunsAndStopsWhenAskedOnPostgreSQL() async throws { try await theEngineClaimsQueuedRunsAndStopsWhenAsked(.postgres) }
}

import Synchronization
