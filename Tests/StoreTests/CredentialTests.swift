import Crypto
import Foundation
import GRDB
import XCTest
@testable import Store

final class CredentialTests: XCTestCase {
    func testHighestPriorityCredentialWhoseScopeContainsTheDeviceWins() throws {
        let t = try TempStore()
        let paris = try t.device("par-1", location: "Paris")
        let london = try t.device("lon-1", location: "London")
        _ = try t.pool("paris", [PoolCriterion(property: "location", value: "Paris", match: .equality)])
        try t.database.writer.write { db in
            try Inventory.upsert(db, credential: Credential(name: "everyone", username: "a", secret: try t.secrets.seal("x"), priority: 1))
            try Inventory.upsert(db, credential: Credential(name: "paris-admin", username: "b", secret: try t.secrets.seal("y"), priority: 50, pools: ["paris"]))
            try Inventory.upsert(db, credential: Credential(name: "paris-ro", username: "c", secret: try t.secrets.seal("z"), role: .readOnly, priority: 60, pools: ["paris"]))
        }
        try t.database.writer.read { db in
            XCTAssertEqual(try Inventory.credential(db, for: paris)?.name, "paris-ro")
            XCTAssertEqual(try Inventory.credential(db, for: paris, role: .readWrite)?.name, "paris-admin")
            XCTAssertEqual(try Inventory.credential(db, for: london)?.name, "everyone")
        }
    }

    func testCredentialScopeMustNameExistingPools() throws {
        let t = try TempStore()
        XCTAssertThrowsError(try t.database.writer.write { db in
            try Inventory.upsert(db, credential: Credential(name: "c", username: "u", pools: ["nope"]))
        }) { XCTAssertTrue("\($0)".contains("nope")) }
    }

    func testPlaintextSecretsAreRefusedByTheStore() throws {
        let t = try TempStore()
        XCTAssertThrowsError(try t.database.writer.write { db in
            try Inventory.upsert(db, credential: Credential(name: "c", username: "u", secret: "plain"))
        })
    }

    func testSecretBoxRoundTripAndWrongKey() throws {
        let box = SecretBox(key: SymmetricKey(size: .bits256))
        let sealed = try box.seal("s3cret!")
        XCTAssertTrue(sealed.hasPrefix("sb1:"))
        XCTAssertFalse(sealed.contains("s3cret"))
        XCTAssertEqual(try box.open(sealed), "s3cret!")
        XCTAssertNotEqual(try box.seal("s3cret!"), sealed, "a fresh nonce each time")
        let other = SecretBox(key: SymmetricKey(size: .bits256))
        XCTAssertThrowsError(try other.open(sealed)) { XCTAssertFalse("\($0)".contains("s3cret")) }
    }

    func testKeyFileIsCreatedPrivateOnceAndReused() throws {
        let dir = NSTemporaryDirectory() + UUID().uuidString
        let paths = Paths(environment: ["HOME": dir, "XDG_CONFIG_HOME": dir + "/cfg"])
        let a = try SecretBox.load(paths: paths)
        let attrs = try FileManager.default.attributesOfItem(atPath: paths.keyFilePath)
        XCTAssertEqual((attrs[.posixPermissions] as? NSNumber)?.intValue, 0o600)
        let b = try SecretBox.load(paths: paths)
        XCTAssertEqual(try b.open(try a.seal("hello")), "hello")
        let env = try SecretBox.load(paths: Paths(environment: ["HOME": dir, "SWITCHBOARD_KEY": "a passphrase"]))
        XCTAssertThrowsError(try env.open(try a.seal("hello")))
    }

    /// The database file alone reveals no secret: search the raw bytes of the file and its WAL.
    func testRawDatabaseFilesContainNoSecret() throws {
        let t = try TempStore()
        let secrets = ["Hunter2-very-secret", "enable-Sesame-42", "-----BEGIN OPENSSH PRIVATE KEY-----inline"]
        let csv = """
            name,address
            r1,192.0.2.1
            """
        let json = """
            {"devices": [], "credentials": [
              {"name": "pw", "username": "admin", "secret_kind": "password", "secret": "\(secrets[0])", "enable_secret": "\(secrets[1])", "role": "read-write", "priority": 1, "pools": []},
              {"name": "key", "username": "admin", "secret_kind": "key", "secret": "\(secrets[2])", "role": "read-write", "priority": 2, "pools": []}
            ]}
            """
        try t.importFiles([try t.write("d.csv", csv), try t.write("c.json", json)])
        var raw = Data()
        for suffix in ["", "-wal", "-shm"] {
            if let d = FileManager.default.contents(atPath: t.database.path + suffix) { raw.append(d) }
        }
        try t.database.writer.writeWithoutTransaction { try $0.checkpoint(.truncate) }
        if let d = FileManager.default.contents(atPath: t.database.path) { raw.append(d) }
        XCTAssertGreaterThan(raw.count, 4096)
        for s in secrets {
            XCTAssertNil(raw.range(of: Data(s.utf8)), "secret \(s) found in the raw database")
        }
        // And they are still there, behind the key.
        let c = try t.database.writer.read { try Credential.fetchOne($0, sql: "SELECT * FROM credential WHERE name = 'pw'")! }
        XCTAssertEqual(try t.secrets.open(c.secret), secrets[0])
        XCTAssertEqual(try t.secrets.open(c.enableSecret), secrets[1])
    }
}
