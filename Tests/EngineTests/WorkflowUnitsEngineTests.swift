import Crypto
@testable import Engine
import Foundation
import PostgresTestSupport
import Store
import XCTest

/// How the engine that claims a workflow run spreads it over the unit queue (several engines): one
/// unit per device for device traversal, configuration-changing when any node the walk can reach
/// changes configuration (nested workflows included, from the node a restart names), capped by the
/// workflow's `max_processes`; service traversal stays whole. In process, on each backend's queue:
/// the claim and the walks themselves are exercised with engine processes and the lab in
/// FleetWorkflowLabCLITests.
final class WorkflowUnitsEngineTests: XCTestCase {
    func testWorkflowRunsSpreadOneUnitPerDeviceMutatingWhenTheWalkCanReachAChange() async throws {
        try await spreadsWorkflows(.sqlite)
    }

    func testWorkflowRunsSpreadOneUnitPerDeviceMutatingWhenTheWalkCanReachAChangeOnPostgreSQL() async throws {
        try await spreadsWorkflows(.postgres)
    }

    func spreadsWorkflows(_ kind: BackendKind) async throws {
        let store = try TestStore(kind, prefix: "wfunits")
        let backend = store.backend
        let devices = ["d1", "d2", "d3"]
        try await backend.transaction { tx in
            for (i, name) in devices.enumerated() { try tx.upsert(device: Device(name: name, address: "192.0.2.\(i + 1)")) }
            let look = try tx.upsert(service: Service(name: "look", kind: .wait, parameters: ["seconds": .int(0)]))
            let look2 = try tx.upsert(service: Service(name: "look again", kind: .wait, parameters: ["seconds": .int(0)]))
            let change = try tx.upsert(service: Service(name: "change", kind: .config, parameters: ["lines": .array([.string("hostname x")])]))
            let marked = try tx.upsert(service: Service(name: "marked", kind: .wait, parameters: ["seconds": .int(0), "mutating": .bool(true)]))
            func workflow(_ name: String, traversal: String = "device", maxProcesses: Int = 0, parameters: [String: JSONValue] = [:],
                          start: Service, nodes: [Service] = [], edges: [(Service, Service, WorkflowEdge.Subtype)] = []) throws -> Service {
                var w = Service(name: name, kind: .workflow, parameters: parameters, devices: devices)
                w.traversal = traversal
                w.maxProcesses = maxProcesses
                w = try tx.upsert(service: w)
                try tx.addWorkflowNode(workflowId: w.id!, serviceId: start.id!, isStart: true)
                for n in nodes { try tx.addWorkflowNode(workflowId: w.id!, serviceId: n.id!, isStart: false) }
                for (i, e) in edges.enumerated() {
                    try tx.upsert(edge: WorkflowEdge(name: "\(name) \(i)", workflowId: w.id!, sourceId: e.0.id!, destinationId: e.1.id!, subtype: e.2))
                }
                return w
            }
            // A configuration node in the graph that no edge leads to is never walked.
            _ = try workflow("read only", maxProcesses: 2, start: look, nodes: [change], edges: [(look, look2, .success)])
            // Reached only when `look` fails: the walk can still reach it.
            let failing = try workflow("fails into change", start: look, edges: [(look, change, .failure)])
            _ = try workflow("outer", start: look2, edges: [(look2, failing, .success)])
            _ = try workflow("deep", start: failing)
            _ = try workflow("marked node", start: look, edges: [(look, marked, .success)])
            _ = try workflow("marked workflow", parameters: ["mutating": .bool(true)], start: look)
            _ = try workflow("change first", start: change, edges: [(change, look, .success)])
            _ = try workflow("by service", traversal: "service", start: look)
        }
        var settings = Settings.defaults
        settings.engine.unitQueue = true
        let membership = try XCTUnwrap(try backend.acquireEngineLock(EngineIdentity()))
        let engine = try EngineService(database: backend, settings: settings, transport: SSHTransportConfiguration(ioThreads: 1),
                                       secrets: SecretBox(key: SymmetricKey(data: Data(repeating: 7, count: 32))), environment: [:],
                                       membership: membership, log: { _ in })
        defer { engine.environment.transport.shutdown() }

        /// Queues and claims a run of `name` and spreads it as the engine that claimed it would.
        func spread(_ name: String, restartFrom: String = "") async throws -> (spread: Bool, units: [RunUnit], log: [String]) {
            let queued = try await backend.transaction { tx in
                try tx.enqueueRun(service: name, trigger: .cli, user: "ann", restartOf: restartFrom.isEmpty ? nil : 1, restartFrom: restartFrom)
            }
            let claimed = try XCTUnwrap(try backend.claimQueuedRuns(limit: 1, engine: EngineClaimant(pid: getpid(), host: "h", id: membership.engineId),
                                                                    at: Date()).first)
            XCTAssertEqual(claimed.id, queued.id)
            let spread = await engine.spread(claimed)
            let lines = try await backend.query { try $0.logLines(run: claimed.id!, after: 0, device: nil, limit: 100).map(\.message) }
            return (spread, try backend.units(run: claimed.id!), lines)
        }

        let readOnly = try await spread("read only")
        XCTAssertTrue(readOnly.spread)
        XCTAssertEqual(readOnly.units.map(\.deviceName), devices, "one unit per device")
        XCTAssertEqual(Set(readOnly.units.map(\.serviceName)), ["read only"], "each unit is the device's walk of the workflow")
        XCTAssertEqual(readOnly.units.map(\.mutating), [false, false, false], "the unreachable config node changes nothing")
        XCTAssertEqual(readOnly.units.map(\.maxProcesses), [2, 2, 2], "the workflow's max_processes caps its units across engines")
        XCTAssertEqual(readOnly.log.first, "run \(readOnly.units.first?.runId ?? -1) of workflow 'read only' started by ann (cli) on 3 devices, spread over the engines")

        for name in ["fails into change", "outer", "deep", "marked node", "marked workflow", "change first"] {
            let r = try await spread(name)
            XCTAssertTrue(r.spread, name)
            XCTAssertEqual(r.units.map(\.mutating), [true, true, true], "\(name): its walk can change configuration")
        }

        // A restart from the node after the change walks only what follows it.
        let restart = try await spread("change first", restartFrom: "look")
        XCTAssertTrue(restart.spread)
        XCTAssertEqual(restart.units.map(\.mutating), [false, false, false], "restarted past its change, the walk changes nothing")
        XCTAssertTrue(restart.log.contains("restarting from 'look' (restart of run 1)"), "\(restart.log)")

        // Service traversal moves every device together: the run stays whole.
        let whole = try await spread("by service")
        XCTAssertFalse(whole.spread)
        XCTAssertEqual(whole.units, [])
    }
}
