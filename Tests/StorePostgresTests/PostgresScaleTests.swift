import Crypto
import Foundation
import Store
import StorePostgres
import PostgresTestSupport
import XCTest

/// The console's scale on PostgreSQL: 80,000 devices listed, filtered and pooled without a query
/// per row (`json_agg` lists, one pass over the devices for a pool).
final class PostgresScaleTests: XCTestCase {
    func testEightyThousandDevicesListAndPoolInSeconds() throws {
        let server = try PostgresTestServer.require()
        let db = try server.createDatabase()
        let backend = try PostgresBackend(url: try PostgresURL(parsing: server.socketURL(db), source: "test"), environment: [:])
        _ = try server.psql(db, """
            INSERT INTO device (name, address, platform, vendor, properties)
            SELECT 'dev-' || lpad(i::text, 5, '0'), '10.' || (i / 65536) || '.' || (i / 256 % 256) || '.' || (i % 256),
                   'cisco_ios', CASE WHEN i % 2 = 0 THEN 'cisco' ELSE 'juniper' END, jsonb_build_object('site', 'site' || (i % 10))
            FROM generate_series(1, 80000) i
            """)
        var started = Date()
        let all = try backend.query { try $0.devices(filter: FilterExpression(terms: [])) }
        let listed = Date().timeIntervalSince(started)
        XCTAssertEqual(all.count, 80_000)
        XCTAssertEqual(all.first?.name, "dev-00001")
        XCTAssertEqual(all.first?.properties["site"], .string("site1"))
        started = Date()
        let filtered = try backend.query { try $0.devices(filter: try FilterExpression.parse("vendor=cisco site~^site[12]$")) }
        XCTAssertEqual(filtered.count, 8_000)
        let filterTime = Date().timeIntervalSince(started)
        started = Date()
        try backend.transaction { tx in
            try tx.upsert(pool: Pool(name: "cisco", criteria: [PoolCriterion(property: "vendor", value: "cisco", match: .equality)]))
        }
        let pooled = Date().timeIntervalSince(started)
        started = Date()
        let names = try backend.query { try $0.poolDeviceNames(named: "cisco") }
        let poolList = Date().timeIntervalSince(started)
        XCTAssertEqual(names.count, 40_000)
        XCTAssertEqual(try backend.query { try $0.pool(named: "cisco")?.memberCount }, 40_000)
        print("80,000 devices: list \(listed) s, filter \(filterTime) s, new pool \(pooled) s, pool names \(poolList) s")
        // Generous bounds for a shared debug machine; a query per row would take minutes.
        XCTAssertLessThan(listed, 20)
        XCTAssertLessThan(pooled, 30)
        XCTAssertLessThan(poolList, 10)
    }

    /// An import of 3,000 devices with pools lands in one transaction on PostgreSQL, pools computed once.
    func testThreeThousandDevicesImport() throws {
        let server = try PostgresTestServer.require()
        let db = try server.createDatabase()
        let backend = try PostgresBackend(url: try PostgresURL(parsing: server.socketURL(db), source: "test"), environment: [:])
        var doc = InventoryDocument()
        for i in 0..<3_000 {
            doc.devices.append(.init(Device(name: String(format: "imp-%05d", i), address: "10.1.\(i / 256).\(i % 256)",
                                            vendor: i % 2 == 0 ? "cisco" : "juniper"), at: SourceLocation(file: "gen")))
        }
        doc.pools.append(.init(Pool(name: "cisco", criteria: [PoolCriterion(property: "vendor", value: "cisco", match: .equality)]),
                               manualDevices: nil, at: SourceLocation(file: "gen")))
        let started = Date()
        let report = try backend.importInventory(doc, secrets: SecretBox(key: .init(data: Data(repeating: 1, count: 32))))
        let took = Date().timeIntervalSince(started)
        print("3,000 devices imported into PostgreSQL in \(took) s")
        XCTAssertEqual(report.created["device"], 3_000)
        XCTAssertEqual(try backend.query { try $0.pool(named: "cisco")?.memberCount }, 1_500)
        XCTAssertLessThan(took, 60)
    }
}
