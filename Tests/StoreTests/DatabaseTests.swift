import Foundation
import GRDB
import XCTest
@testable import Store

final class DatabaseTests: XCTestCase {
    func testCreatesPrivateFileInPrivateDirectoryInWALMode() throws {
        let t = try TempStore()
        let attrs = try FileManager.default.attributesOfItem(atPath: t.database.path)
        XCTAssertEqual((attrs[.posixPermissions] as? NSNumber)?.intValue, 0o600)
        let dirAttrs = try FileManager.default.attributesOfItem(atPath: t.dir + "/data")
        XCTAssertEqual((dirAttrs[.posixPermissions] as? NSNumber)?.intValue, 0o700)
        let mode = try t.database.writer.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") }
        XCTAssertEqual(mode, "wal")
    }

    func testRecordsRoundTripThroughTheFile() throws {
        let t = try TempStore()
        var d = Device(name: "r1", address: "192.0.2.10", port: 2222, platform: "arista_eos", vendor: "Arista",
                       location: "Paris", jump: "bastion", properties: ["rack": .string("A1"), "u": .int(4)])
        d = try t.database.writer.write { try Inventory.upsert($0, device: d) }
        // A second connection pool on the same file, as another process would open it.
        let other = try AppDatabase(path: t.database.path)
        let back = try other.writer.read { try Inventory.device($0, named: "r1") }
        XCTAssertEqual(back, d)
        XCTAssertEqual(back?.properties["u"], .int(4))
    }

    func testDatabaseFromNewerVersionIsRefusedAndUntouched() throws {
        let t = try TempStore()
        try t.database.writer.write { db in
            try db.execute(sql: "INSERT INTO grdb_migrations(identifier) VALUES ('v99-from-the-future')")
        }
        try t.database.writer.writeWithoutTransaction { try $0.checkpoint(.truncate) }
        try t.database.writer.close()
        let before = try Data(contentsOf: URL(fileURLWithPath: t.database.path))
        XCTAssertThrowsError(try AppDatabase(path: t.database.path)) { error in
            XCTAssertTrue("\(error)".contains("newer switchboard"), "\(error)")
            XCTAssertTrue("\(error)".contains("v99-from-the-future"), "\(error)")
        }
        let after = try Data(contentsOf: URL(fileURLWithPath: t.database.path))
        XCTAssertEqual(before, after)
    }

    func testForeignSQLiteFileIsRefused() throws {
        let dir = NSTemporaryDirectory() + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/other.db"
        let q = try DatabaseQueue(path: path)
        try q.write { try $0.execute(sql: "CREATE TABLE accounts(id INTEGER)") }
        try q.close()
        XCTAssertThrowsError(try AppDatabase(path: path)) { error in
            XCTAssertTrue("\(error)".contains("not a switchboard database"), "\(error)")
        }
    }

    func testMigrationsAreRecorded() throws {
        let t = try TempStore()
        let info = try t.database.info()
        XCTAssertEqual(info.first { $0.0 == "schema version" }?.1, String(AppDatabase.schemaVersion))
        XCTAssertTrue(info.contains { $0.0 == "migrations" && $0.1.contains("v1-initial") })
    }

    func testDeletingADeviceCascadesToLinksAndManualMembership() throws {
        let t = try TempStore()
        _ = try t.device("a"); _ = try t.device("b")
        try t.database.writer.write { db in
            try Inventory.upsertLink(db, name: "a-b", source: "a", destination: "b")
        }
        _ = try t.pool("hand", [], manual: ["a", "b"])
        XCTAssertEqual(try t.count("hand"), 2)
        try t.database.writer.write { try Inventory.deleteDevice($0, named: "a") }
        XCTAssertEqual(try t.database.writer.read { try Inventory.links($0).count }, 0)
        XCTAssertEqual(try t.members("hand"), ["b"])
        XCTAssertEqual(try t.count("hand"), 1)
    }
}
