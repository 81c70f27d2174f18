import Foundation
import Store
import StorePostgres
import PostgresTestSupport
import XCTest

/// The PostgreSQL backend against a real server (a throwaway cluster, see PostgresTestServer):
/// connecting over the socket (peer) and TCP (scram), migrations, the refusal rule, kept error kinds.
final class PostgresStoreTests: XCTestCase {
    func url(_ text: String) throws -> PostgresURL { try PostgresURL(parsing: text, source: "--db") }

    func testANewDatabaseIsMigratedOnceAndReopensUnchanged() throws {
        let server = try PostgresTestServer.require()
        let db = try server.createDatabase()
        let first = try PostgresStore(url: try url(server.socketURL(db)), environment: [:])
        let info = Dictionary(try first.info(), uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(info["backend"], "postgresql")
        XCTAssertTrue(info["server version"]?.hasPrefix("1") ?? false, "\(info)")
        XCTAssertEqual(info["schema version"], String(PostgresStore.schemaVersion))
        XCTAssertEqual(info["migrations"], "v1-initial, v2-result-rows, v3-snapshot-git-commit, v4-run-engine-and-due-time, v5-engine-registry, v6-run-units, v7-engine-regions, v8-result-engine, v9-engine-draining")
        XCTAssertEqual(info["devices"], "0")
        XCTAssertEqual(info["tls"], "no (Unix socket)")
        first.connection.close()
        _ = try PostgresStore(url: try url(server.socketURL(db)), environment: [:])
        XCTAssertEqual(try server.psql(db, "SELECT count(*) FROM switchboard_migrations"), String(PostgresStore.schemaVersion))
        XCTAssertEqual(try server.psql(db, "SELECT data_type FROM information_schema.columns WHERE table_name = 'device' AND column_name = 'properties'"), "jsonb")
        XCTAssertEqual(try server.psql(db, "SELECT data_type FROM information_schema.columns WHERE table_name = 'run' AND column_name = 'created_at'"), "timestamp with time zone")
    }

    /// The URL's `application_name` is what the server shows for the connection (it used to be parsed
    /// and dropped).
    func testTheURLsApplicationNameReachesTheServer() throws {
        let server = try PostgresTestServer.require()
        let db = try server.createDatabase()
        let store = try PostgresStore(url: try url(server.socketURL(db) + "&application_name=noc-jump1&connect_timeout=5"), environment: [:])
        XCTAssertEqual(try store.connection.query("SELECT current_setting('application_name')").first?.value(0, as: String.self), "noc-jump1")
    }

    func testTwoProcessesOpeningANewDatabaseAtOnceMigrateItOnce() throws {
        let server = try PostgresTestServer.require()
        let db = try server.createDatabase()
        let u = try url(server.socketURL(db))
        let errors = NSLock()
        nonisolated(unsafe) var failures: [String] = []
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            do { _ = try PostgresStore(url: u, environment: [:]) } catch {
                errors.lock(); failures.append("\(error)"); errors.unlock()
            }
        }
        XCTAssertEqual(failures, [])
        XCTAssertEqual(try server.psql(db, "SELECT count(*) FROM switchboard_migrations"), String(PostgresStore.schemaVersion))
    }

    func testPasswordOverTCPAndErrorsThatNameTheTargetButNeverThePassword() throws {
        let server = try PostgresTestServer.require()
        let db = try server.createDatabase()
        let u = try url(server.tcpURL(db))
        let store = try PostgresStore(url: u, environment: ["PGPASSWORD": server.password])
        XCTAssertEqual(Dictionary(try store.info(), uniquingKeysWith: { a, _ in a })["tls"], "no")

        let wrong = "Wr0ng-" + server.password.prefix(4)
        XCTAssertThrowsError(try PostgresStore(url: u, environment: ["PGPASSWORD": wrong])) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("127.0.0.1:\(server.port), database \(db), user \(server.passwordUser)"), text)
            XCTAssertTrue(text.contains("password authentication failed"), text)
            XCTAssertFalse(text.contains(wrong), text)
        }
        XCTAssertThrowsError(try PostgresStore(url: u, environment: ["PGPASSFILE": "/nonexistent"], home: "/nonexistent")) { error in
            XCTAssertTrue("\(error)".contains("set PGPASSWORD or add a line to ~/.pgpass"), "\(error)")
        }
        // Nothing listens: the error says where it tried.
        let dead = try url("postgres://\(server.passwordUser)@127.0.0.1:1/\(db)?sslmode=disable")
        XCTAssertThrowsError(try PostgresStore(url: dead, environment: ["PGPASSWORD": server.password])) { error in
            XCTAssertTrue("\(error)".contains("cannot connect to PostgreSQL at 127.0.0.1:1, database \(db)"), "\(error)")
        }
    }

    /// TLS when the URL asks for it, verified as libpq verifies: `require` encrypts, `verify-full`
    /// also checks the chain (PGSSLROOTCERT) and the host name, and refuses a server it cannot verify.
    func testTLSIsUsedWhenTheURLAsksAndVerifiedWithVerifyFull() throws {
        let server = try PostgresTestServer.require()
        let db = try server.createDatabase()
        func tls(_ sslmode: String, host: String = "127.0.0.1", root: String? = nil) throws -> String? {
            var env = ["PGPASSWORD": server.password]
            if let root { env["PGSSLROOTCERT"] = root }
            let u = try url("postgres://\(server.passwordUser)@\(host):\(server.port)/\(db)?sslmode=\(sslmode)")
            let store = try PostgresStore(url: u, environment: env, home: "/nonexistent")
            return Dictionary(try store.info(), uniquingKeysWith: { a, _ in a })["tls"]
        }
        XCTAssertEqual(try tls("disable"), "no")
        XCTAssertEqual(try tls("require"), "yes")
        XCTAssertEqual(try tls("prefer"), "yes", "prefer takes TLS when the server offers it")
        XCTAssertEqual(try tls("verify-full", root: server.caFile), "yes")
        XCTAssertEqual(try tls("verify-full", host: "localhost", root: server.caFile), "yes")
        XCTAssertThrowsError(try tls("verify-full", root: "/nonexistent/root.crt"), "the system's trust store does not know the test CA") { error in
            XCTAssertTrue("\(error)".contains("cannot connect to PostgreSQL at 127.0.0.1:\(server.port)"), "\(error)")
        }
    }

    func testADatabaseFromANewerVersionOrAnotherApplicationIsRefusedUntouched() throws {
        let server = try PostgresTestServer.require()
        let db = try server.createDatabase()
        _ = try PostgresStore(url: try url(server.socketURL(db)), environment: [:])
        _ = try server.psql(db, "INSERT INTO switchboard_migrations (id) VALUES ('v99-future'); UPDATE meta SET value = '99'")
        XCTAssertThrowsError(try PostgresStore(url: try url(server.socketURL(db)), environment: [:])) { error in
            XCTAssertTrue("\(error)".contains("was written by a newer switchboard (schema migrations v99-future are unknown"), "\(error)")
            XCTAssertTrue("\(error)".contains("it was not changed"), "\(error)")
        }
        XCTAssertEqual(try server.psql(db, "SELECT value FROM meta WHERE key = 'schema_version'"), "99", "untouched")

        let foreign = try server.createDatabase("other")
        _ = try server.psql(foreign, "CREATE TABLE invoices (id int)")
        XCTAssertThrowsError(try PostgresStore(url: try url(server.socketURL(foreign)), environment: [:])) { error in
            XCTAssertTrue("\(error)".contains("is not a switchboard database (tables: invoices)"), "\(error)")
        }
        XCTAssertEqual(try server.psql(foreign, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"), "1")
    }

    func testAUniqueViolationIsAConflictNotAString() throws {
        let server = try PostgresTestServer.require()
        let db = try server.createDatabase()
        let store = try PostgresStore(url: try url(server.socketURL(db)), environment: [:])
        try store.connection.query("INSERT INTO device (name) VALUES ($1)", [.text("par-core1")])
        XCTAssertThrowsError(try store.connection.query("INSERT INTO device (name) VALUES ($1)", [.text("par-core1")])) { error in
            XCTAssertEqual((error as? StoreError)?.kind, .conflict, "\(error)")
        }
        // A failed statement inside a transaction rolls the whole transaction back.
        XCTAssertThrowsError(try store.connection.transaction {
            try store.connection.query("INSERT INTO device (name) VALUES ($1)", [.text("par-core2")])
            try store.connection.query("INSERT INTO device (name) VALUES ($1)", [.text("par-core1")])
        })
        XCTAssertEqual(try server.psql(db, "SELECT string_agg(name, ',') FROM device"), "par-core1")
    }
}
