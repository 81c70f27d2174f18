import Crypto
@testable import Engine
import Foundation
import PostgresTestSupport
import Store
import XCTest

/// The engine's side of the unit queue (several engines, PostgreSQL), in process: what its claim
/// step registers, and what its heartbeat keeps or lets go. The CLI suite (FleetCLITests) runs the
/// same code in real engine processes; here the steps are called one by one, so a race between
/// them is not left to timing.
final class UnitQueueEngineTests: XCTestCase {
    final class Fixture: @unchecked Sendable {
        let store: TestStore
        var backend: any StoreBackend { store.backend }
        let engine: EngineService
        let engineId: Int64
        let run: Int64
        let logged = LogLines()

        /// A registered engine with `automation.max_process` 1 and a running run of a 30 s `wait` on
        /// four devices, spread as four units (as the engine that claimed it would).
        init() throws {
            store = try TestStore(.postgres, prefix: "unitengine")
            let backend = store.backend
            let devices = (1...4).map { "d\($0)" }
            try backend.transaction { tx in
                for (i, name) in devices.enumerated() { try tx.upsert(device: Device(name: name, address: "192.0.2.\(i + 1)")) }
                try tx.upsert(service: Service(name: "nap", kind: .wait, parameters: ["seconds": .int(30)], devices: devices))
            }
            var settings = Settings.defaults
            settings.engine.unitQueue = true
            settings.automation.maxProcess = 1
            let membership = try XCTUnwrap(try backend.acquireEngineLock(EngineIdentity()))
            engineId = try XCTUnwrap(membership.engineId)
            let logged = self.logged
            engine = try EngineService(database: backend, settings: settings, transport: SSHTransportConfiguration(ioThreads: 1),
                                       secrets: SecretBox(key: SymmetricKey(data: Data(repeating: 7, count: 32))), environment: [:],
                                       membership: membership, log: { logged.add($0) })
            let queued = try backend.transaction { tx in try tx.enqueueRun(service: "nap", trigger: .cli, user: "ann").id! }
            let claimed = try XCTUnwrap(try backend.claimQueuedRuns(limit: 1, engine: EngineClaimant(pid: getpid(), host: "h", id: engineId),
                                                                    at: Date()).first)
            run = queued
            let service = try XCTUnwrap(try backend.query { try $0.service(named: "nap") })
            let specs = try backend.query { q in
                try devices.map { RunUnitSpec(serviceId: service.id!, serviceName: "nap", deviceId: try q.device(named: $0)?.id, deviceName: $0,
                                              mutating: false, maxProcesses: 0) }
            }
            XCTAssertEqual(claimed.id, run)
            _ = try backend.enqueueUnits(run: run, specs, lines: [])
        }

        func claimedInDatabase() throws -> [RunUnit] { try backend.units(run: run).filter { $0.status == .claimed } }
        var tracked: Int { engine.state.withLock { $0.units.count } }

        /// Stops every unit the engine works on and waits until it no longer tracks any.
        func haltAll() async throws {
            for id in engine.state.withLock({ Array($0.units.keys) }) {
                await engine.haltUnit(id, status: .interrupted, reason: "the test is over")
            }
            let deadline = Date().addingTimeInterval(20)
            while tracked > 0, Date() < deadline { try await Task.sleep(nanoseconds: 50_000_000) }
            XCTAssertEqual(tracked, 0, "the engine let go of its stopped units")
        }

        func close() { engine.environment.transport.shutdown() }
    }

    final class LogLines: @unchecked Sendable {
        private let lock = NSLock()
        private var lines: [String] = []
        func add(_ line: String) { lock.lock(); lines.append(line); lock.unlock() }
        var all: [String] { lock.lock(); defer { lock.unlock() }; return lines }
    }

    /// A claimed unit takes its slot of `automation.max_process` in the claim step itself, before it
    /// has loaded: claim steps one after another (as the engine's loop makes them, faster than a
    /// unit loads) never hold more units than the cap.
    func testAClaimedUnitTakesItsSlotBeforeItLoads() async throws {
        let f = try Fixture()
        defer { f.close() }
        for _ in 0..<4 { f.engine.claimUnits() }
        XCTAssertEqual(f.tracked, 1, "registered in the claim step (a drain waits for it)")
        XCTAssertEqual(try f.claimedInDatabase().count, 1, "automation.max_process 1: one unit claimed, not one per claim step")
        try await f.haltAll()
    }

    /// The heartbeat renews only the units the engine works on: a unit it stopped before its end
    /// (and so no longer tracks) is released at once, back to the queue for any engine, rather than
    /// kept alive by the heartbeat forever.
    func testTheHeartbeatReleasesAUnitTheEngineNoLongerWorksOn() async throws {
        let f = try Fixture()
        defer { f.close() }
        f.engine.claimUnits()
        let held = try XCTUnwrap(try f.claimedInDatabase().first)
        XCTAssertEqual(held.engineId, f.engineId)
        let thresholds = EngineThresholds(active: 30, drop: 120)
        try f.engine.keepUnitLeases(engineId: f.engineId, thresholds)
        XCTAssertEqual(try f.claimedInDatabase().map(\.id), [held.id], "a unit it works on is kept")

        try await f.haltAll()
        XCTAssertEqual(try f.claimedInDatabase().map(\.id), [held.id], "stopped before its end, still held in the database")
        try f.engine.keepUnitLeases(engineId: f.engineId, thresholds)
        let unit = try XCTUnwrap(try f.backend.units(run: f.run).first { $0.id == held.id })
        XCTAssertEqual(unit.status, .queued, "released at once: back in the queue")
        XCTAssertTrue(unit.reason.contains("engine #\(f.engineId)") && unit.reason.contains("released"), unit.reason)
        XCTAssertTrue(f.logged.all.contains { $0.contains("released units this engine no longer works on: #\(held.id)") }, "\(f.logged.all)")
        XCTAssertTrue(try f.claimedInDatabase().isEmpty)
    }
}
