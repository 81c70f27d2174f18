import Crypto
import Foundation
import Store
import StoreConformance
import StorePostgres
import PostgresTestSupport
import XCTest

/// The conformance suite (StoreConformance, the same definition SQLite runs) against
/// `PostgresBackend`, each test on a new database of the throwaway cluster; then what only
/// PostgreSQL has: LISTEN/NOTIFY across connections, conflict and lost-connection kinds, the
/// engine lock across backends.
final class PostgresBackendConformanceTests: XCTestCase {
    var server: PostgresTestServer!
    var database: String!
    var backend: PostgresBackend!
    let secrets = SecretBox(key: SymmetricKey(data: Data(repeating: 7, count: 32)))

    override func setUpWithError() throws {
        server = try PostgresTestServer.require()
        database = try server.createDatabase()
        backend = try open()
    }

    override func tearDown() { backend = nil }

    func open() throws -> PostgresBackend {
        try PostgresBackend(url: try PostgresURL(parsing: server.socketURL(database), source: "test"), environment: [:])
    }

    func testCapabilities() throws {
        try StoreBackendConformance.capabilitiesMatchWhatTheBackendOffers(backend)
        XCTAssertEqual(backend.capabilities, [.changeWakeups, .enginesOnSeveralHosts, .severalEngines],
                       "PostgreSQL: LISTEN/NOTIFY wake-ups and several registered engines, no stamp, no engine maintenance")
    }
    func testTransactions() throws { try StoreBackendConformance.transactionsRollBackAndSavepointsNest(backend) }
    func testClaims() throws { try StoreBackendConformance.queuedRunsAreClaimedOnceOldestFirst(backend) }
    func testStops() throws { try StoreBackendConformance.stopsAbortQueuedRunsAndFlagRunningOnes(backend) }
    func testEngineLock() throws { try StoreBackendConformance.theEngineLockAdmitsOneEngine(backend) }
    func testRunsKnowTheirEngine() throws { try StoreBackendConformance.runsKnowTheirEngine(backend) }
    func testADueTimeHasOneRun() throws { try StoreBackendConformance.aDueTimeHasOneRun(backend) }
    func testConcurrentClaims() throws { try StoreBackendConformance.concurrentClaimsNeverShareARun(backend) }
    func testAbandonedRuns() throws { try StoreBackendConformance.abandonedRunsAreInterruptedWithAClosingLine(backend) }
    func testJournal() throws { try StoreBackendConformance.journalBatchesLandWholeAndDuplicatesConflict(backend) }
    func testUnitClaims() throws { try StoreBackendConformance.unitsAreClaimedOnceWithinTheirCaps(backend) }
    func testUnitLeases() throws { try StoreBackendConformance.expiredLeasesRequeueReadOnlyUnitsAndLoseMutatingOnes(backend) }
    func testConcurrentUnitClaims() throws { try StoreBackendConformance.concurrentUnitClaimsNeverShareAUnit(backend) }
    func testRegionClaims() throws { try StoreBackendConformance.anEnginesRegionLimitsItsClaims(backend) }
    func testUnservedUnits() throws { try StoreBackendConformance.unitsNoEngineServesAreNamedWithTheirPools(backend) }
    func testUnitHeartbeat() throws { try StoreBackendConformance.theHeartbeatKeepsOnlyTrackedUnitsAndReleasesTheRest(backend) }
    func testUnitJournals() throws { try StoreBackendConformance.unitJournalsAreWrittenTogetherEachThroughItsLease(backend) }
    func testUnitResults() throws { try StoreBackendConformance.resultsCountEarlierClaimsAndNameTheirEngine(backend) }
    func testStoppedSpreadRun() throws { try StoreBackendConformance.aStoppedSpreadRunEndsAbortedOnce(backend) }
    func testLeavingEngine() throws { try StoreBackendConformance.anEngineLeavingInterruptsTheUnitsNoOtherEngineCanTake(backend) }
    func testRunEnd() throws { try StoreBackendConformance.aRunsEndIsRecordedOnlyWhileItRuns(backend) }
    func testDueTasks() throws { try StoreBackendConformance.dueTasksAreClaimedByCompareAndSet(backend) }
    func testMissing() throws { try StoreBackendConformance.missingRecordsAreNilOrNotFound(backend) }
    func testAsync() async throws { try await StoreBackendConformance.asyncReadsAndTransactionsWork(backend) }
    func testPools() throws { try StoreBackendConformance.poolsKeepTheirMembersCurrent(backend) }
    func testFilters() throws { try StoreBackendConformance.filtersSelectTheSameDevices(backend) }
    func testCredentials() throws { try StoreBackendConformance.credentialsAreSealedAndChosenByPriority(backend, secrets: secrets) }
    func testConfigurations() throws { try StoreBackendConformance.configurationsAreKeptWhenTheyChange(backend) }
    func testServicesAndTasks() throws { try StoreBackendConformance.servicesAndTasksRoundTrip(backend) }
    func testSnapshot() throws { try StoreBackendConformance.aQueryReadsOneSnapshot(backend) }
    func testImportExport() throws {
        let dir = NSTemporaryDirectory() + "switchboard-pgexport-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try StoreBackendConformance.anExportImportsBackUnchanged(backend, secrets: secrets, directory: dir)
    }

    /// The shared Exporter reads PostgreSQL through the neutral API: its files import into SQLite
    /// unchanged, secrets still sealed under the same key.
    func testAnExportFromPostgreSQLImportsIntoSQLite() throws {
        try StoreBackendConformance.credentialsAreSealedAndChosenByPriority(backend, secrets: secrets)
        let dir = NSTemporaryDirectory() + "switchboard-pgexport-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let files = try backend.exportInventory(format: .json, to: dir + "/out", secrets: secrets, revealSecrets: false)
        let sqlite = try AppDatabase(path: dir + "/data/switchboard.db")
        _ = try sqlite.importInventory(try Importer.read(paths: files, format: .json), secrets: secrets)
        XCTAssertEqual(try sqlite.query { try $0.devices(filter: FilterExpression(terms: [])).map(\.name) }, ["r1", "r2"])
        XCTAssertEqual(try sqlite.query { try $0.credentials().map(\.name) }, ["r1-admin", "everyone"])
        let secret = try XCTUnwrap(try sqlite.query { try $0.credential(named: "r1-admin")?.secret })
        XCTAssertTrue(SecretBox.isEncrypted(secret), "still sealed")
        XCTAssertEqual(try secrets.open(secret), "s3cret")
        XCTAssertEqual(try sqlite.query { try $0.poolDeviceNames(named: "r1-only") }, ["r1"])
    }

    // MARK: PostgreSQL only

    /// Another backend's commit (another connection, as another process would be) wakes the waiter
    /// through LISTEN/NOTIFY; a read-only transaction does not.
    func testACommitOnAnotherConnectionWakesTheChangeWaiter() throws {
        let other = try open()
        let waiter = try XCTUnwrap(backend.changeWaiter())
        _ = try other.query { try $0.device(named: "nobody") }
        XCTAssertFalse(waiter.wait(timeoutMs: 300), "a read notifies no one")
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.2) {
            try? other.transaction { tx in try tx.upsert(device: Device(name: "woken", address: "192.0.2.30")) }
        }
        let started = Date()
        XCTAssertTrue(waiter.wait(timeoutMs: 5_000), "woken by the commit, not the timeout")
        let waited = Date().timeIntervalSince(started)
        XCTAssertGreaterThan(waited, 0.15, "asleep until the commit")
        XCTAssertLessThan(waited, 4)
        // The engine's claim wakes tails too; an empty claim does not.
        _ = try other.claimQueuedRuns(limit: 5, enginePid: 1, at: Date())
        XCTAssertFalse(waiter.wait(timeoutMs: 300), "an empty claim notifies no one")
    }

    /// Two transactions inserting the same device at once: the loser's unique violation is a
    /// `conflict` through the neutral API, not a message to parse.
    func testAUniqueKeyRaceIsAConflict() throws {
        let other = try open()
        let first: PostgresBackend = backend
        let entered = DispatchSemaphore(value: 0)
        let proceed = DispatchSemaphore(value: 0)
        let group = DispatchGroup()
        nonisolated(unsafe) var firstError: Error?
        DispatchQueue.global().async(group: group) {
            do {
                try first.transaction { tx in
                    try tx.upsert(device: Device(name: "dup", address: "192.0.2.40"))
                    entered.signal()
                    proceed.wait()
                }
            } catch { firstError = error }
        }
        entered.wait()
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) { proceed.signal() }
        // Its check finds no "dup" (uncommitted), its insert waits on the first, then violates the key.
        XCTAssertThrowsError(try other.transaction { tx in try tx.upsert(device: Device(name: "dup", address: "192.0.2.41")) }) { error in
            XCTAssertEqual((error as? StoreError)?.kind, .conflict, "\(error)")
        }
        group.wait()
        XCTAssertNil(firstError)
        XCTAssertEqual(try backend.query { try $0.device(named: "dup")?.address }, "192.0.2.40")
    }

    /// A row another transaction holds past the lock timeout is `busy` (transient), as SQLite's busy
    /// timeout gives, not a wait without end.
    func testALockHeldPastTheTimeoutIsBusy() throws {
        try backend.transaction { tx in try tx.upsert(device: Device(name: "r1", address: "192.0.2.1")) }
        let impatient = try PostgresBackend(url: try PostgresURL(parsing: server.socketURL(database), source: "test"),
                                            environment: [:], lockTimeoutMs: 300)
        let holder: PostgresBackend = backend
        let locked = DispatchSemaphore(value: 0)
        let done = DispatchSemaphore(value: 0)
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) {
            try? holder.transaction { tx in
                try tx.setReachability(device: "r1", reachable: true, at: Date())
                locked.signal()
                done.wait()
            }
        }
        locked.wait()
        let started = Date()
        XCTAssertThrowsError(try impatient.transaction { tx in try tx.setReachability(device: "r1", reachable: false, at: Date()) }) { error in
            XCTAssertEqual((error as? StoreError)?.kind, .busy, "\(error)")
            XCTAssertTrue((error as? StoreError)?.isTransient ?? false)
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 5)
        done.signal()
        group.wait()
        try impatient.transaction { tx in try tx.setReachability(device: "r1", reachable: false, at: Date()) }
        XCTAssertEqual(try backend.query { try $0.device(named: "r1")?.reachable }, false, "free again")
    }

    /// A connection the server kills in the middle of a transaction gives `connectionLost`
    /// (transient: a retry may work), the transaction is gone, and the backend drops that connection:
    /// the next call connects afresh. An idle pooled connection the server killed is replaced silently.
    func testAKilledConnectionIsConnectionLostAndReplaced() throws {
        let server = self.server!
        let database = self.database!
        XCTAssertThrowsError(try backend.transaction { tx in
            try tx.upsert(device: Device(name: "r1", address: "192.0.2.1"))
            _ = try server.psql(database, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
            try tx.upsert(device: Device(name: "r2", address: "192.0.2.2"))
        }) { error in
            XCTAssertEqual((error as? StoreError)?.kind, .connectionLost, "\(error)")
            XCTAssertTrue((error as? StoreError)?.isTransient ?? false)
        }
        XCTAssertEqual(try backend.query { try $0.deviceNames().count }, 0, "a new connection; nothing of the transaction landed")
        try backend.transaction { tx in try tx.upsert(device: Device(name: "r1", address: "192.0.2.1")) }
        _ = try server.psql(database, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
        usleep(200_000)
        XCTAssertEqual(try backend.query { try $0.device(named: "r1")?.address }, "192.0.2.1", "the idle connection replaced")
    }

    /// Engines register from several backends (processes, hosts); one without a heartbeat for the
    /// active threshold is lost by the database's clock, and its running run is interrupted naming
    /// it (host, pid); past the drop threshold it is removed, and its own next heartbeat registers
    /// it again under a new id.
    func testEnginesRegisterAndALostEnginesRunsAreInterruptedNamingIt() throws {
        let other = try open()
        try StoreBackendConformance.seed(backend)
        let a = try XCTUnwrap(try backend.acquireEngineLock(EngineIdentity(host: "host-a", pid: 101, version: "1", capacity: 2)))
        let b = try XCTUnwrap(try other.acquireEngineLock(EngineIdentity(host: "host-b", pid: 202, version: "1", capacity: 2)))
        defer { a.release(); b.release() }
        let runs = try backend.transaction { tx in try (0..<2).map { _ in try tx.enqueueRun(service: "show", trigger: .cli, user: "ann").id! } }
        _ = try backend.claimQueuedRuns(limit: 1, engine: EngineClaimant(pid: 101, host: "host-a", id: a.engineId), at: Date())
        _ = try other.claimQueuedRuns(limit: 1, engine: EngineClaimant(pid: 202, host: "host-b", id: b.engineId), at: Date())
        let thresholds = EngineThresholds(active: 5, drop: 60)
        XCTAssertEqual(try other.interruptAbandonedRuns(at: Date(), thresholds: thresholds) { _ in "x" }, [], "both engines active")

        // A stops heartbeating (its clock says nothing: the database's does).
        _ = try server.psql(database, "UPDATE engine SET heartbeat_at = now() - interval '10 s' WHERE id = \(a.engineId!)")
        let listed = try other.engines(thresholds)
        XCTAssertEqual(listed.map(\.state), [.lost, .active], "\(listed)")
        XCTAssertEqual(listed.map(\.inFlight), [1, 1])
        XCTAssertEqual(listed.first?.heartbeatAgeSeconds ?? 0, 10, accuracy: 2)
        var named: AbandonedRunEngine?
        let interrupted = try other.interruptAbandonedRuns(at: Date(), thresholds: thresholds) { e in named = e; return "engine \(e.pid!)@\(e.host) lost" }
        XCTAssertEqual(interrupted, [runs[0]], "A's run only")
        XCTAssertEqual(named?.host, "host-a")
        XCTAssertEqual(named?.state, .lost)
        XCTAssertEqual(try other.query { try $0.run(id: runs[0]) }?.reason, "engine 101@host-a lost")
        XCTAssertEqual(try other.query { try $0.run(id: runs[1]) }?.status, .running, "B's run goes on")
        XCTAssertEqual(try backend.query { try $0.runsNoLongerOwned(among: [runs[0]], engineId: a.engineId!) }.map(\.status), [.interrupted])

        // Past the drop threshold: removed by anyone's housekeeping; A's next heartbeat registers it again.
        _ = try server.psql(database, "UPDATE engine SET heartbeat_at = now() - interval '90 s' WHERE id = \(a.engineId!)")
        XCTAssertEqual(try other.engines(thresholds).map(\.state), [.dropped, .active])
        let old = a.engineId!
        XCTAssertEqual(try other.removeDroppedEngines(thresholds).map(\.id), [old])
        XCTAssertEqual(try other.engines(thresholds).map(\.host), ["host-b"])
        XCTAssertFalse(try a.heartbeat(), "the registration was gone")
        XCTAssertNotEqual(a.engineId, old, "registered again under a new id")
        XCTAssertEqual(try other.engines(thresholds).map(\.host), ["host-b", "host-a"])
    }

    /// A stop request wakes the engines' stop waiter (LISTEN) at commit.
    func testAStopRequestWakesTheStopWaiter() throws {
        try StoreBackendConformance.seed(backend)
        let run = try backend.transaction { tx in try tx.enqueueRun(service: "show", trigger: .cli, user: "ann") }
        _ = try backend.claimQueuedRuns(limit: 1, enginePid: 1, at: Date())
        let waiter = try XCTUnwrap(backend.stopWaiter())
        XCTAssertFalse(waiter.wait(timeoutMs: 50), "nothing yet")
        let other = try open()
        let asked = Date()
        try other.transaction { tx in _ = try tx.requestStop(run: run.id!, user: "bob") }
        XCTAssertTrue(waiter.wait(timeoutMs: 2000), "woken by the stop")
        XCTAssertLessThan(Date().timeIntervalSince(asked), 1)
        // The server drops the LISTEN connection: the waiter says so, and its caller listens anew.
        XCTAssertTrue(waiter.isAlive)
        _ = try server.psql(database, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
        var alive = waiter.isAlive
        for _ in 0..<100 where alive { usleep(20_000); alive = waiter.isAlive }
        XCTAssertFalse(alive, "a closed LISTEN connection is not alive")
    }

    /// Times keep their microseconds and their instant whatever the server's time zone.
    func testTimesRoundTripExactly() throws {
        _ = try server.psql(database, "ALTER DATABASE \(database!) SET timezone TO 'Asia/Kolkata'")
        let b = try open()
        try StoreBackendConformance.seed(b)
        let at = Date(timeIntervalSince1970: 1_800_000_000.123456)
        let run = try b.transaction { tx in try tx.enqueueRun(service: "show", trigger: .cli, user: "ann") }
        _ = try b.claimQueuedRuns(limit: 1, enginePid: 1, at: at)
        let started = try XCTUnwrap(try b.query { try $0.run(id: run.id!)?.startedAt })
        XCTAssertEqual(started.timeIntervalSince1970, at.timeIntervalSince1970, accuracy: 0.000_001)
    }
}
