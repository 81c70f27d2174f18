import Foundation
import GRDB  // the SQLite error mapping test builds GRDB errors
import StoreConformance
import XCTest
@testable import Store

/// The conformance suite against the SQLite backend (`AppDatabase`).
final class SQLiteBackendConformanceTests: XCTestCase {
    var store: TempStore!
    override func setUpWithError() throws { store = try TempStore() }
    override func tearDown() { store = nil }
    var backend: any StoreBackend { store.database }

    func testCapabilities() throws {
        try StoreBackendConformance.capabilitiesMatchWhatTheBackendOffers(backend)
        XCTAssertEqual(backend.capabilities, [.changeWakeups, .changeStamp, .engineMaintenance],
                       "SQLite: wake-ups, a stamp and checkpoints, but one engine host (flock)")
    }
    func testTransactions() throws { try StoreBackendConformance.transactionsRollBackAndSavepointsNest(backend) }
    func testClaims() throws { try StoreBackendConformance.queuedRunsAreClaimedOnceOldestFirst(backend) }
    func testImportExport() throws {
        try StoreBackendConformance.anExportImportsBackUnchanged(backend, secrets: store.secrets, directory: store.dir + "/export")
    }
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
    func testCredentials() throws { try StoreBackendConformance.credentialsAreSealedAndChosenByPriority(backend, secrets: store.secrets) }
    func testConfigurations() throws { try StoreBackendConformance.configurationsAreKeptWhenTheyChange(backend) }
    func testServicesAndTasks() throws { try StoreBackendConformance.servicesAndTasksRoundTrip(backend) }
    func testSnapshot() throws { try StoreBackendConformance.aQueryReadsOneSnapshot(backend) }

    /// SQLite's result codes keep their kind at the boundary; a body's own errors pass untouched.
    func testSQLiteErrorsBecomeStoreErrorsOfTheirKind() throws {
        let busy = AppDatabase.storeError(DatabaseError(resultCode: .SQLITE_BUSY, message: "database is locked"))
        XCTAssertEqual((busy as? StoreError)?.kind, .busy)
        XCTAssertEqual((busy as? StoreError)?.message, "database is locked")
        XCTAssertEqual((AppDatabase.storeError(DatabaseError(resultCode: .SQLITE_LOCKED)) as? StoreError)?.kind, .busy)
        XCTAssertEqual((AppDatabase.storeError(DatabaseError(resultCode: .SQLITE_CONSTRAINT)) as? StoreError)?.kind, .conflict)
        XCTAssertEqual((AppDatabase.storeError(DatabaseError(resultCode: .SQLITE_IOERR)) as? StoreError)?.kind, .connectionLost)
        XCTAssertEqual((AppDatabase.storeError(DatabaseError(resultCode: .SQLITE_ERROR)) as? StoreError)?.kind, .database)
        XCTAssertTrue(AppDatabase.storeError(StoreBackendConformance.Planted()) is StoreBackendConformance.Planted)
        XCTAssertTrue(StoreError(.busy, "").isTransient)
        XCTAssertFalse(StoreError(.conflict, "").isTransient)
    }

    /// Another process's commit wakes the change waiter (SQLite: inotify on the WAL).
    func testACommitWakesTheChangeWaiter() throws {
        // Opened first: opening writes to the file too, and that must not be what wakes the waiter.
        let other = try AppDatabase(path: store.database.path)
        let waiter = try XCTUnwrap(backend.changeWaiter())
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.2) {
            try? other.transaction { tx in try tx.upsert(device: Device(name: "woken", address: "192.0.2.30")) }
        }
        let started = Date()
        XCTAssertTrue(waiter.wait(timeoutMs: 5_000), "woken by the commit, not the timeout")
        let waited = Date().timeIntervalSince(started)
        XCTAssertGreaterThan(waited, 0.15, "asleep until the commit")
        XCTAssertLessThan(waited, 4)
    }
}
