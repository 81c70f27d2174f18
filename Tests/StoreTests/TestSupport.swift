import Crypto
import Foundation
import GRDB
import XCTest
@testable import Store

/// A fresh directory and database file per test; removed afterwards.
final class TempStore {
    let dir: String
    let database: AppDatabase
    let secrets: SecretBox

    init() throws {
        dir = NSTemporaryDirectory() + "switchboard-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        database = try AppDatabase(path: dir + "/data/switchboard.db")
        secrets = SecretBox(key: SymmetricKey(data: Data(repeating: 7, count: 32)))
    }

    deinit { try? FileManager.default.removeItem(atPath: dir) }

    func write(_ name: String, _ text: String) throws -> String {
        let path = (dir as NSString).appendingPathComponent(name)
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @discardableResult
    func importFiles(_ paths: [String], format: Importer.Format? = nil) throws -> ImportReport {
        try InventoryWriter(database: database, secrets: secrets).apply(Importer.read(paths: paths, format: format))
    }

    func device(_ name: String, platform: String = "cisco_ios", location: String = "", properties: [String: JSONValue] = [:]) throws -> Device {
        try database.writer.write { db in
            try Inventory.upsert(db, device: Device(name: name, address: "192.0.2.1", platform: platform, location: location, properties: properties))
        }
    }

    func pool(_ name: String, _ criteria: [PoolCriterion], manual: [String]? = nil) throws -> Pool {
        try database.writer.write { db in try Inventory.upsert(db, pool: Pool(name: name, criteria: criteria), manualDevices: manual) }
    }

    func members(_ pool: String) throws -> [String] {
        try database.writer.read { db in try Inventory.poolDevices(db, named: pool).map(\.name) }
    }

    func count(_ pool: String) throws -> Int {
        try database.writer.read { db in try Inventory.pool(db, named: pool)!.memberCount }
    }

    /// A digest of every table's content, to prove a failed import changed nothing.
    func contentDigest() throws -> String {
        try database.writer.read { db in
            var text = ""
            for table in ["device", "link", "pool", "pool_manual", "member_set", "credential", "service", "workflow_node", "workflow_edge", "task"] {
                for row in try Row.fetchAll(db, sql: "SELECT * FROM \(table) ORDER BY 1") { text += "\(table): \(row)\n" }
            }
            return SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
        }
    }
}

/// The repository's root, for fixtures shipped in `setup/`.
let repositoryRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()
