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
    var database = ""

    override func setUpWithError() throws {
        server = try PostgresTestServer.require()
        database = try server.createDatabase()
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

    /// 25,000 devices are read in parts by id range, sent at once, and merged (PostgresExecutor.deviceTable):
    /// names come out in byte order though they do not follow the ids, each row with its own values
    /// and custom properties, and a pool's members only.
    func testALargeDeviceTableIsReadInPartsAndMergedInNameOrder() throws {
        // Names are a permutation of the ids (7919 is prime to 25,000), so every part interleaves with the others.
        _ = try server.psql(database, """
            INSERT INTO device (name, address, properties)
            SELECT 'n' || lpad(((i * 7919) % 25000)::text, 5, '0'), '10.0.0.' || i,
                   CASE WHEN i % 1000 = 0 THEN jsonb_build_object('rank', i) ELSE '{}'::jsonb END
            FROM generate_series(1, 25000) i
            """)
        let (fields, rows) = try DeviceTable.read(backend, pool: nil, properties: [], date: { "\($0)" }) { id, values in (id, values) }
        XCTAssertEqual(rows.count, 25_000)
        XCTAssertEqual(fields, DeviceTable.fields + ["rank"])
        let names = rows.map(\.0)
        XCTAssertEqual(names, names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }, "byte order of name")
        XCTAssertEqual(names.first, "n00000")
        let id = fields.firstIndex(of: "id")!, address = fields.firstIndex(of: "address")!, rank = fields.firstIndex(of: "rank")!
        var ranked = 0
        for (name, values) in rows {
            let i = Int(values[id])!
            XCTAssertEqual(name, "n" + String(format: "%05d", (i * 7919) % 25_000), "row \(i)")
            XCTAssertEqual(values[address], "10.0.0.\(i)", "row \(i)")
            XCTAssertEqual(values[rank], i % 1000 == 0 ? String(i) : "", "row \(i)")
            if !values[rank].isEmpty { ranked += 1 }
        }
        XCTAssertEqual(ranked, 25)
        // With `rank` declared, the rows are made part by part (no device has another property): the same table.
        let declared = try DeviceTable.read(backend, pool: nil, properties: ["rank"], date: { "\($0)" }) { id, values in (id, values) }
        XCTAssertEqual(declared.fields, fields)
        XCTAssertTrue(declared.rows.elementsEqual(rows) { $0.0 == $1.0 && $0.1 == $1.1 }, "the same rows either way")
        // Declared but held by no device: an empty field in every row.
        let owner = try DeviceTable.read(backend, pool: nil, properties: ["owner"], date: { "\($0)" }) { id, values in (id, values) }
        XCTAssertEqual(owner.fields, DeviceTable.fields + ["owner", "rank"])
        XCTAssertTrue(owner.rows.allSatisfy { $0.1.count == owner.fields.count && $0.1[DeviceTable.fields.count].isEmpty })
        try backend.transaction { tx in
            try tx.upsert(pool: Pool(name: "n1", criteria: [PoolCriterion(property: "name", value: "^n1", match: .regex)]))
        }
        let pool = try DeviceTable.read(backend, pool: "n1", properties: [], date: { "\($0)" }) { id, _ in id }
        XCTAssertEqual(pool.rows, names.filter { $0.hasPrefix("n1") })
        XCTAssertEqual(pool.rows.count, 10_000)

        // A separator in a value, in a part the second connection reads: the table is read again as
        // rows, every value as stored.
        _ = try server.psql(database, "UPDATE device SET description = E'a\\x1eb\\x1fc' WHERE id = 2")
        let again = try DeviceTable.read(backend, pool: nil, properties: [], date: { "\($0)" }) { id, values in (id, values) }
        XCTAssertEqual(again.rows.count, 25_000)
        let description = fields.firstIndex(of: "description")!
        XCTAssertEqual(again.rows.first { $0.1[id] == "2" }?.1[description], "a\u{1e}b\u{1f}c")
        XCTAssertEqual(again.rows.map(\.0), names)
    }

    /// The second connection reads in the first one's snapshot: devices another session deleted after
    /// the read began are still in the table, in the parts the second connection reads too.
    func testALargeDeviceTableIsOneSnapshotAcrossItsConnections() throws {
        _ = try server.psql(database, "INSERT INTO device (name) SELECT 'd' || lpad(i::text, 5, '0') FROM generate_series(1, 30000) i")
        let other = try PGConnection.connect(try PostgresURL(parsing: server.socketURL(database), source: "test"), environment: [:])
        defer { other.close() }
        let rows = try backend.query { reader -> Int in
            // The read's snapshot is taken by its first statement; the table is read after a commit elsewhere.
            _ = try reader.run(id: 1)
            // Ids 10001-20000 are the second part of three: the second connection's.
            try other.query("DELETE FROM device WHERE id BETWEEN 10001 AND 10100")
            return try reader.deviceTable(pool: nil, properties: [], date: { "\($0)" }) { id, _ in id }.rows.count
        }
        XCTAssertEqual(rows, 30_000)
        XCTAssertEqual(try DeviceTable.read(backend, pool: nil, properties: [], date: { "\($0)" }) { id, _ in id }.rows.count, 29_900)
    }
}
