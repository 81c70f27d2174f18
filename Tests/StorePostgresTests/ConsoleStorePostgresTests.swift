import Foundation
import Store
import StoreConformance
import StorePostgres
import PostgresTestSupport
import XCTest

/// The console's data layer (ConsoleStoreConformance, the same definition SQLite runs) on
/// PostgreSQL, each test on a new database of the throwaway cluster.
final class ConsoleStorePostgresTests: XCTestCase {
    var server: PostgresTestServer!
    var backend: PostgresBackend!

    override func setUpWithError() throws {
        server = try PostgresTestServer.require()
        let database = try server.createDatabase()
        backend = try PostgresBackend(url: try PostgresURL(parsing: server.socketURL(database), source: "test"), environment: [:])
    }
    override func tearDown() { backend = nil }

    func testDeviceTable() throws { try ConsoleStoreConformance.theDeviceTableReadsEveryDeviceAsText(backend) }
    func testEmptyDeviceTable() throws { try ConsoleStoreConformance.anEmptyDeviceTableHasTheBuiltInFields(backend) }
    func testDeviceTableValuesAsStored() throws { try ConsoleStoreConformance.theDeviceTableKeepsValuesAsStored(backend) }
    func testLogTail() throws { try ConsoleStoreConformance.theLogTailKeepsTheEndAndCountsWhatItSkips(backend) }
    func testSessions() throws { try ConsoleStoreConformance.sessionsAreRecordedListedAndReadBack(backend) }
    func testSummariesAndDocuments() throws { try ConsoleStoreConformance.summariesAndDocumentsRead(backend) }
    func testDetailsAndXray() throws { try ConsoleStoreConformance.detailsAndTheXrayGatherWhatRelates(backend) }
    func testPulse() throws { try ConsoleStoreConformance.thePulseAddsUpDevicesRunsAndBackups(backend) }
    func testDeletes() throws { try ConsoleStoreConformance.deletesAreWholeAndPoolsFollow(backend) }
    func testEngines() throws { try ConsoleStoreConformance.enginesAreListedWhileTheyServe(backend) }
}
