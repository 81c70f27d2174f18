import Foundation
import XCTest
@testable import Store

/// `db migrate`'s normal form and checksum: both sides of a faithful copy must agree, and any
/// difference must show.
final class MigrationRowsTests: XCTestCase {
    func n(_ v: MigrationValue, _ kind: MigrationColumnKind) throws -> MigrationValue {
        try MigrationRows.normalise(v, kind: kind, table: "t", column: "c")
    }

    func testTimesTakeGRDBsFormInUTCToTheMillisecond() throws {
        XCTAssertEqual(try n(.text("2026-12-06 03:47:59.123"), .time), .text("2026-12-06 03:47:59.123"))
        XCTAssertEqual(try n(.text("2026-12-06T03:47:59.1234567Z"), .time), .text("2026-12-06 03:47:59.123"))
        XCTAssertEqual(try n(.text("2026-12-06 03:47:59"), .time), .text("2026-12-06 03:47:59.000"))
        XCTAssertEqual(try n(.text("2026-12-06 03:47"), .time), .text("2026-12-06 03:47:00.000"))
        XCTAssertEqual(try n(.text("2026-12-06"), .time), .text("2026-12-06 00:00:00.000"))
        XCTAssertEqual(try n(.real(1_796_528_879.5), .time), .text("2026-12-06 03:47:59.500"))
        XCTAssertThrowsError(try n(.text("yesterday"), .time)) { XCTAssertTrue("\($0)".contains("t.c")) }
    }

    func testJSONLosesWhitespaceAndKeyOrderButNotContent() throws {
        let a = try n(.text(#"{"b": [1, 2.5, "x/y"], "a": {"z": null, "y": true}}"#), .json)
        let b = try n(.text(#"{"a":{"y":true,"z":null},"b":[1,2.5,"x/y"]}"#), .json)
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a, try n(.text(#"{"a":{"y":false,"z":null},"b":[1,2.5,"x/y"]}"#), .json))
        XCTAssertThrowsError(try n(.text("{not json \u{1B}]0;owned\u{07}"), .json)) { error in
            XCTAssertTrue("\(error)".contains("{not json ?]0;owned?"), "\(error)")
            XCTAssertFalse("\(error)".contains("\u{1B}"))
        }
    }

    func testBooleansIntegersAndReals() throws {
        XCTAssertEqual(try n(.integer(5), .boolean), .integer(1))
        XCTAssertEqual(try n(.text("f"), .boolean), .integer(0))
        XCTAssertEqual(try n(.text("42"), .integer), .integer(42))
        XCTAssertEqual(try n(.integer(3), .real), .real(3))
        XCTAssertEqual(try n(.text("0.1"), .real), .real(0.1))
        XCTAssertEqual(try n(.null, .json), .null)
    }

    func testTheDigestIgnoresReadOrderAndSeesEveryChange() {
        let table = MigrationTable(name: "t", columns: [MigrationColumn(name: "id", kind: .integer), MigrationColumn(name: "v", kind: .text)],
                                   primaryKey: ["id"])
        let rows: [[MigrationValue]] = [[.integer(2), .text("b")], [.integer(10), .text("a")], [.integer(1), .null]]
        let digest = MigrationRows.digest(rows, table: table)
        XCTAssertEqual(digest.rows, 3)
        XCTAssertEqual(MigrationRows.digest(rows.reversed(), table: table), digest)
        XCTAssertNotEqual(MigrationRows.digest([[.integer(2), .text("b")], [.integer(10), .text("a")], [.integer(1), .text("")]], table: table), digest)
        // Length-prefixed: moving text across a column boundary changes the checksum.
        let two = MigrationTable(name: "t", columns: [MigrationColumn(name: "a", kind: .text), MigrationColumn(name: "b", kind: .text)], primaryKey: [])
        XCTAssertNotEqual(MigrationRows.digest([[.text("ab"), .text("c")]], table: two), MigrationRows.digest([[.text("a"), .text("bc")]], table: two))
    }

    /// What GRDB writes for a Date reads back in the normal form, so a copy's checksum matches.
    func testASQLiteDatabaseReadsAsTypedNormalisedRows() throws {
        let path = NSTemporaryDirectory() + "migration-rows-\(UUID().uuidString).db"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let db = try AppDatabase(path: path)
        let time = Date(timeIntervalSince1970: 1_796_528_879.5)
        try db.writer.write { d in
            try d.execute(sql: #"INSERT INTO changelog (time, "user", severity, content) VALUES (?, 'u', 'info', 'x')"#, arguments: [time])
            try d.execute(sql: "INSERT INTO device (name, properties, reachable) VALUES ('r1', '{\"b\": 1, \"a\": 2}', 1)")
        }
        let changelog = MigrationTable(name: "changelog", columns: [MigrationColumn(name: "id", kind: .integer), MigrationColumn(name: "time", kind: .time),
                                                                    MigrationColumn(name: "user", kind: .text)], primaryKey: ["id"])
        XCTAssertEqual(try db.migrationRows(changelog), [[.integer(1), .text("2026-12-06 03:47:59.500"), .text("u")]])
        let device = MigrationTable(name: "device", columns: [MigrationColumn(name: "properties", kind: .json), MigrationColumn(name: "reachable", kind: .boolean),
                                                              MigrationColumn(name: "last_run_time", kind: .time)], primaryKey: [])
        XCTAssertEqual(try db.migrationRows(device), [[.text(#"{"a":2,"b":1}"#), .integer(1), .null]])
        XCTAssertEqual(try db.migrationRowCount(tables: ["meta", "device", "changelog"]), 2)
    }
}
