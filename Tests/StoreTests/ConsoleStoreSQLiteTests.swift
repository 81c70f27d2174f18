import Foundation
import StoreConformance
import XCTest
@testable import Store

/// The console's data layer (ConsoleStoreConformance, the same definition PostgreSQL runs) on SQLite.
final class ConsoleStoreSQLiteTests: XCTestCase {
    var store: TempStore!
    override func setUpWithError() throws { store = try TempStore() }
    override func tearDown() { store = nil }
    var backend: any StoreBackend { store.database }

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
