import Foundation
import Store
import XCTest

/// `--db` / `SWITCHBOARD_DB` / `database.url`: a SQLite path or a PostgreSQL URL, parsed the way
/// libpq reads URLs, with a clear error naming the source and never echoing a password.
final class DatabaseLocationTests: XCTestCase {
    func parse(_ text: String) throws -> PostgresURL {
        guard case .postgres(let url) = try DatabaseLocation.parse(text, source: "--db") else {
            XCTFail("\(text) is not a PostgreSQL URL"); throw StoreError.invalid("")
        }
        return url
    }

    func error(_ text: String) -> String {
        do { _ = try DatabaseLocation.parse(text, source: "--db"); return "no error" } catch { return "\(error)" }
    }

    func testPathsStaySQLite() throws {
        XCTAssertEqual(try DatabaseLocation.parse("/tmp/x.db", source: "--db"), .sqlite(path: "/tmp/x.db"))
        XCTAssertEqual(try DatabaseLocation.parse("relative/dir/sw.db", source: "--db"), .sqlite(path: "relative/dir/sw.db"))
        XCTAssertEqual(try DatabaseLocation.parse("weird:name.db", source: "--db"), .sqlite(path: "weird:name.db"))
    }

    func testTCPURL() throws {
        let url = try parse("postgres://netops@db.example.net:6543/switchboard?sslmode=require")
        XCTAssertEqual(url.user, "netops")
        XCTAssertEqual(url.host, "db.example.net")
        XCTAssertEqual(url.port, 6543)
        XCTAssertEqual(url.database, "switchboard")
        XCTAssertEqual(url.sslMode, .require)
        XCTAssertNil(url.socketPath)
        XCTAssertEqual(url.description, "postgres://netops@db.example.net:6543/switchboard?sslmode=require")
        XCTAssertEqual(url.target, "db.example.net:6543, database switchboard, user netops")
        XCTAssertEqual(try parse("postgresql://u@[::1]:5433/d").host, "::1")
        let options = try parse("postgres://u@h/d?connect_timeout=3&application_name=noc-jump1")
        XCTAssertEqual(options.connectTimeout, 3)
        XCTAssertEqual(options.applicationName, "noc-jump1")
        XCTAssertNil(try parse("postgres://u@h/d").connectTimeout)
        XCTAssertTrue(error("postgres://u@h/d?connect_timeout=soon").contains("connect_timeout 'soon' is not a number of seconds"))
        XCTAssertEqual(try parse("postgresql://u@[::1]:5433/d").port, 5433)
    }

    func testSocketURLUsesTheOSUser() throws {
        let url = try PostgresURL(parsing: "postgres:///inventory", source: "--db", osUser: "alice")
        XCTAssertNil(url.host)
        XCTAssertEqual(url.user, "alice", "peer authentication: the OS user is the database user")
        XCTAssertEqual(url.database, "inventory")
        XCTAssertEqual(url.socketPath, "/var/run/postgresql/.s.PGSQL.5432")
        let dir = try PostgresURL(parsing: "postgres://%2Ftmp%2Fpg:5499/x", source: "--db", osUser: "alice")
        XCTAssertEqual(dir.socketPath, "/tmp/pg/.s.PGSQL.5499")
        let query = try PostgresURL(parsing: "postgres:///x?host=/run/pg&port=5500", source: "--db", osUser: "bob")
        XCTAssertEqual(query.socketPath, "/run/pg/.s.PGSQL.5500")
        XCTAssertEqual(query.description, "postgres://bob@:5500/x?host=/run/pg")
        XCTAssertEqual(try PostgresURL(parsing: "postgres://", source: "--db", osUser: "carol").database, "carol",
                       "no database: the user's name, as libpq does")
    }

    func testPasswordsInTheURLAreRefusedAndNeverEchoed() {
        for text in ["postgres://netops:S3cr3t-pw@db:5432/sb", "postgres://netops@db/sb?password=S3cr3t-pw"] {
            let e = error(text)
            XCTAssertTrue(e.contains("PGPASSWORD or ~/.pgpass"), e)
            XCTAssertFalse(e.contains("S3cr3t-pw"), e)
        }
        XCTAssertEqual(PostgresURL.withoutPassword("postgres://u:pw@h/d"), "postgres://u:****@h/d")
    }

    func testBadURLsNameTheSourceAndTheField() {
        XCTAssertTrue(error("postgres://u@h:99999/d").contains("--db: port '99999' is not 1–65535"), error("postgres://u@h:99999/d"))
        XCTAssertTrue(error("postgres://u@h/d?sslmode=always").contains("sslmode 'always' is not one of disable, allow"))
        XCTAssertTrue(error("postgres://u@h/d?pool=3").contains("parameter 'pool' is not supported"))
        XCTAssertTrue(error("postgres://u@h1,h2/d").contains("several hosts"))
        XCTAssertTrue(error("postgres:///d?sslmode=require").contains("TLS over a Unix socket"))
        XCTAssertTrue(error("postgres:db").contains("is not a PostgreSQL URL"))
        XCTAssertTrue(error("mysql://u@h/d").contains("'mysql://' is not a database this store knows"))
        XCTAssertTrue(error("  ").contains("--db: empty"))
    }

    func testPasswordFromTheEnvironmentThenThePasswordFile() throws {
        let dir = NSTemporaryDirectory() + "pgpass-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let url = try parse("postgres://netops@db.example.net:6543/switchboard")
        let file = dir + "/.pgpass"
        try """
            # host:port:db:user:password
            other:6543:switchboard:netops:wrong
            db.example.net:6543:switchboard:netops:pa\\:ss\\\\word
            *:*:*:*:fallback
            """.write(toFile: file, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
        XCTAssertEqual(PostgresPassword.lookup(for: url, environment: [:], home: dir).password, "pa:ss\\word")
        XCTAssertEqual(PostgresPassword.lookup(for: url, environment: ["PGPASSWORD": "env"], home: dir).password, "env")
        let socket = try PostgresURL(parsing: "postgres:///x", source: "--db", osUser: "alice")
        XCTAssertEqual(PostgresPassword.lookup(for: socket, environment: [:], home: dir).password, "fallback")
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file)
        let loose = PostgresPassword.lookup(for: url, environment: [:], home: dir)
        XCTAssertNil(loose.password, "a password file others can read is ignored, as libpq does")
        XCTAssertEqual(loose.warning, "password file \(file) is ignored: group or others can read it (chmod 0600 \(file))")
        XCTAssertNil(PostgresPassword.lookup(for: url, environment: ["PGPASSFILE": dir + "/none"], home: dir).password)
    }
}
