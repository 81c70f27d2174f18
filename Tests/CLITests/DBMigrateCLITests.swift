import Foundation
import Lab
import PostgresTestSupport
import Store
import StorePostgres
import XCTest

/// `switchboard db migrate` and `db info` on PostgreSQL (issue #14), through the real binary, against
/// a throwaway PostgreSQL cluster (PostgresTestServer) and the example network in the device lab.
final class DBMigrateCLITests: XCTestCase {
    /// Every table of two databases, as `db migrate` normalises their values (JSON without whitespace
    /// or key order, times to the millisecond): what must be identical after a round trip.
    func tableRows(_ path: String, shapes: [MigrationTable]) throws -> [String: [[MigrationValue]]] {
        let db = try AppDatabase(path: path, readonly: true)
        var out: [String: [[MigrationValue]]] = [:]
        for table in shapes {
            let rows = try db.migrationRows(table)
            let key = table.primaryKey.compactMap { k in table.columns.firstIndex { $0.name == k } }
            out[table.name] = rows.sorted { a, b in
                for i in key where a[i] != b[i] { return "\(a[i])" < "\(b[i])" }
                return false
            }
        }
        return out
    }

    func testTheExampleNetworkGoesToPostgreSQLAndBackIdenticalAndItsDumpHoldsNoSecret() throws {
        let server = try PostgresTestServer.require()
        var cli = try CLI()
        cli.environment.removeValue(forKey: "SSH_AUTH_SOCK")
        let demo = try cli.run(["demo", "--no-console", "--base-port", String(LabPorts.freeBasePort(devices: 20))])
        defer {
            _ = try? cli.run(["engine", "--stop"])
            _ = try? cli.run(["lab", "down"])
        }
        XCTAssertEqual(demo.status, 0, demo.stderr)
        // Run history (results, log lines), configuration snapshots, a session recording.
        let run = try cli.run(["run", "show version", "--follow"])
        XCTAssertEqual(run.status, 0, run.stdout + run.stderr)
        let backup = try cli.run(["run", "backup configuration", "--follow"])
        XCTAssertEqual(backup.status, 0, backup.stdout + backup.stderr)
        do {
            let store = ConsoleStore(database: try AppDatabase(path: cli.databasePath))
            var session = SessionRecord(deviceId: nil, deviceName: "par-acc1", user: "tester")
            session = try store.insertSession(session)
            session.endedAt = Date(); session.bytesIn = 1234; session.transcript = "par-acc1#show clock\r\n*10:00:00.123 UTC\r\n"
            session.endReason = "closed"
            try store.updateSession(session)
        }

        let pgDatabase = try server.createDatabase("mig")
        let url = server.socketURL(pgDatabase)
        let there = try cli.run(["db", "migrate", "--to", url])
        XCTAssertEqual(there.status, 0, there.stdout + there.stderr)
        for table in ["device", "credential", "run", "result", "run_log", "config_snapshot", "session", "changelog"] {
            let line = there.stdout.split(separator: "\n").first { $0.hasPrefix(table + " ") }.map(String.init) ?? ""
            XCTAssertTrue(line.contains(" ok "), "\(table): \(there.stdout)")
        }
        XCTAssertTrue(there.stdout.contains("counts and checksums match"), there.stdout)

        // The copy is what db info shows, and the sequences continue after the copied ids.
        let info = try cli.run(["db", "info", "--db", url])
        XCTAssertEqual(info.status, 0, info.stderr)
        XCTAssertTrue(info.stdout.contains("backend         postgresql") || info.stdout.contains("postgresql"), info.stdout)
        XCTAssertTrue(info.stdout.contains("server version"), info.stdout)
        let maxId = try server.psql(pgDatabase, "SELECT max(id) FROM changelog")
        let nextId = try server.psql(pgDatabase, #"INSERT INTO changelog (time, "user", severity, content) VALUES (now(), 't', 'info', 'x') RETURNING id"#)
        XCTAssertEqual(Int(nextId.split(separator: "\n").first ?? ""), (Int(maxId) ?? -1) + 1, "\(maxId) → \(nextId)")
        _ = try server.psql(pgDatabase, "DELETE FROM changelog WHERE id = \(nextId.split(separator: "\n").first ?? "0")")
        XCTAssertGreaterThan(Int(try server.psql(pgDatabase, "SELECT count(*) FROM run_log")) ?? 0, 0)
        XCTAssertGreaterThan(Int(try server.psql(pgDatabase, "SELECT count(*) FROM config_snapshot")) ?? 0, 0)

        // The pg_dump secret search: no example or lab secret in clear anywhere in the database.
        let dumpPath = cli.dir + "/dump.sql"
        let dump = Process()
        dump.executableURL = URL(fileURLWithPath: server.binDirectory + "/pg_dump")
        dump.arguments = ["-h", server.socketDirectory, "-p", String(server.port), "-f", dumpPath, pgDatabase]
        try dump.run(); dump.waitUntilExit()
        XCTAssertEqual(dump.terminationStatus, 0)
        let dumped = try String(contentsOfFile: dumpPath, encoding: .utf8)
        var secrets = ["switchboard-lab", "viewer-lab", "junos-lab", "enable-lab", LabManager.enableSecret]
        if let password = LabManager(directory: Paths(environment: cli.environment).labDirectory).status()?.password { secrets.append(password) }
        for secret in secrets { XCTAssertFalse(dumped.contains(secret), "'\(secret)' is in clear in the dump") }
        // Positive control: the search would see the credentials' sealed values, which are there.
        let sealed = try server.psql(pgDatabase, "SELECT secret FROM credential WHERE secret <> '' ORDER BY id").split(separator: "\n")
        XCTAssertGreaterThanOrEqual(sealed.count, 3)
        for value in sealed {
            XCTAssertTrue(value.hasPrefix("sb1:"), String(value))
            XCTAssertTrue(dumped.contains(String(value)), "the sealed secret is not in the dump: the search is blind")
        }
        XCTAssertTrue(dumped.contains("par-acc1#show clock"), "the dump holds the session recording")

        // And back, into a new SQLite file: every table's rows identical to the original's.
        let back = cli.dir + "/back/switchboard.db"
        let home = try cli.run(["db", "migrate", "--from", url, "--to", back])
        XCTAssertEqual(home.status, 0, home.stdout + home.stderr)
        XCTAssertTrue(home.stdout.contains("counts and checksums match"), home.stdout)
        let store = try PostgresStore(url: try PostgresURL(parsing: url, source: "test"), environment: [:])
        let shapes = try store.migrationTables()
        store.connection.close()
        let original = try tableRows(cli.databasePath, shapes: shapes)
        let copied = try tableRows(back, shapes: shapes)
        for table in shapes {
            XCTAssertEqual(copied[table.name]?.count, original[table.name]?.count, table.name)
            XCTAssertTrue(copied[table.name] == original[table.name], "\(table.name) differs after the round trip")
        }
        XCTAssertEqual(original["session"]?.count, 1)
        // The copy works as a database: the CLI reads it.
        let runs = try cli.run(["runs", "--db", back])
        XCTAssertEqual(runs.status, 0, runs.stderr)
        XCTAssertTrue(runs.stdout.contains("backup configuration"), runs.stdout)
    }

    func testANonEmptyTargetIsRefusedAndLeftUntouched() throws {
        let server = try PostgresTestServer.require()
        let cli = try CLI()
        XCTAssertEqual(try cli.run(["demo", "--no-console", "--no-lab"]).status, 0)
        let pgDatabase = try server.createDatabase("full")
        let url = server.socketURL(pgDatabase)
        XCTAssertEqual(try cli.run(["db", "migrate", "--to", url]).status, 0)
        let devices = try server.psql(pgDatabase, "SELECT count(*), max(id) FROM device")
        _ = try server.psql(pgDatabase, "UPDATE device SET description = 'changed on the server' WHERE id = (SELECT min(id) FROM device)")

        let again = try cli.run(["db", "migrate", "--to", url])
        XCTAssertEqual(again.status, 1, again.stdout)
        XCTAssertTrue(again.stderr.contains("is not empty") && again.stderr.contains(pgDatabase), again.stderr)
        XCTAssertEqual(try server.psql(pgDatabase, "SELECT count(*), max(id) FROM device"), devices)
        XCTAssertEqual(try server.psql(pgDatabase, "SELECT count(*) FROM device WHERE description = 'changed on the server'"), "1")

        // The other way: the SQLite file that has the example is not overwritten by the server's copy.
        let before = try cli.run(["list", "devices", "--json"]).stdout
        let refused = try cli.run(["db", "migrate", "--from", url, "--to", cli.databasePath])
        XCTAssertEqual(refused.status, 1, refused.stdout)
        XCTAssertTrue(refused.stderr.contains("is not empty") && refused.stderr.contains(cli.databasePath), refused.stderr)
        XCTAssertEqual(try cli.run(["list", "devices", "--json"]).stdout, before)
        XCTAssertFalse(before.contains("changed on the server"))

        // Without --from, the configured database is the source: here the server, by SWITCHBOARD_DB.
        var configured = cli
        configured.environment["SWITCHBOARD_DB"] = url
        let fresh = cli.dir + "/fresh.db"
        let out = try configured.run(["db", "migrate", "--to", fresh])
        XCTAssertEqual(out.status, 0, out.stdout + out.stderr)
        XCTAssertTrue(out.stdout.contains("copying postgresql"), out.stdout)
        XCTAssertTrue(try cli.run(["list", "devices", "--json", "--db", fresh]).stdout.contains("changed on the server"))
    }

    func testBadURLsWrongPasswordsAndUnreachableServersFailClearlyWithoutThePassword() throws {
        let server = try PostgresTestServer.require()
        var cli = try CLI()
        let pgDatabase = try server.createDatabase("auth")

        // A password in the URL is refused, and not repeated.
        let inURL = try cli.run(["db", "info", "--db", "postgres://\(server.passwordUser):hunter2-in-url@127.0.0.1:\(server.port)/\(pgDatabase)"])
        XCTAssertEqual(inURL.status, 1)
        XCTAssertTrue(inURL.stderr.contains("--db") && inURL.stderr.contains("PGPASSWORD"), inURL.stderr)
        XCTAssertFalse((inURL.stdout + inURL.stderr).contains("hunter2-in-url"))
        let migrateInURL = try cli.run(["db", "migrate", "--from", cli.databasePath, "--to", "postgresql://u:hunter2-in-url@h/db"])
        XCTAssertEqual(migrateInURL.status, 1)
        XCTAssertTrue(migrateInURL.stderr.contains("--to"), migrateInURL.stderr)
        XCTAssertFalse((migrateInURL.stdout + migrateInURL.stderr).contains("hunter2-in-url"))

        // Between two files, or from a database to itself: refused before anything is opened.
        let files = try cli.run(["db", "migrate", "--from", cli.dir + "/a.db", "--to", cli.dir + "/b.db"])
        XCTAssertEqual(files.status, 1)
        XCTAssertTrue(files.stderr.contains("one of --from and --to must be a postgres:// URL"), files.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: cli.dir + "/b.db"))
        let same = try cli.run(["db", "migrate", "--from", server.socketURL(pgDatabase), "--to", server.socketURL(pgDatabase)])
        XCTAssertEqual(same.status, 2)
        XCTAssertTrue(same.stderr.contains("the same database"), same.stderr)

        // A malformed URL names where it came from: the environment, the setting.
        cli.environment["SWITCHBOARD_DB"] = "postgres:/nohost"
        let fromEnv = try cli.run(["db", "info"])
        XCTAssertEqual(fromEnv.status, 1)
        XCTAssertTrue(fromEnv.stderr.contains("SWITCHBOARD_DB") && fromEnv.stderr.contains("not a PostgreSQL URL"), fromEnv.stderr)
        cli.environment.removeValue(forKey: "SWITCHBOARD_DB")
        _ = try cli.write("config/switchboard/settings.json", #"{"database": {"url": "mysql://db.example.net/switchboard"}}"#)
        let fromSetting = try cli.run(["db", "info"])
        XCTAssertEqual(fromSetting.status, 1)
        XCTAssertTrue(fromSetting.stderr.contains("database.url"), fromSetting.stderr)
        // A good URL in the setting is used: db info and list on the server; the console opens it too
        // (and, without a terminal here, says it needs one).
        _ = try cli.write("config/switchboard/settings.json", #"{"database": {"url": "\#(server.socketURL(pgDatabase))"}}"#)
        let viaSetting = try cli.run(["db", "info"])
        XCTAssertEqual(viaSetting.status, 0, viaSetting.stderr)
        XCTAssertTrue(viaSetting.stdout.contains("postgresql"), viaSetting.stdout)
        let list = try cli.run(["list", "devices"])
        XCTAssertEqual(list.status, 0, list.stderr)
        let console = try cli.run(["console"])
        XCTAssertEqual(console.status, 1)
        XCTAssertTrue(console.stderr.contains("the console needs a terminal"), console.stderr)
        XCTAssertFalse(console.stderr.contains("PostgreSQL"), console.stderr)
        try FileManager.default.removeItem(atPath: cli.dir + "/config/switchboard/settings.json")

        // A wrong password: exit 1, the message names host, port, database and user, never the password.
        // (A database of its own: tables the socket user created are not the password user's.)
        let tcpDatabase = try server.createDatabase("tcp")
        let tcp = server.tcpURL(tcpDatabase)
        cli.environment["PGPASSWORD"] = "wrong-password-42"
        let wrong = try cli.run(["db", "info", "--db", tcp])
        XCTAssertEqual(wrong.status, 1, wrong.stdout)
        XCTAssertTrue(wrong.stderr.contains("127.0.0.1:\(server.port), database \(tcpDatabase), user \(server.passwordUser)"), wrong.stderr)
        XCTAssertFalse((wrong.stdout + wrong.stderr).contains("wrong-password-42"))
        // The right one works, and is not printed either.
        cli.environment["PGPASSWORD"] = server.password
        let right = try cli.run(["db", "info", "--db", tcp])
        XCTAssertEqual(right.status, 0, right.stderr)
        XCTAssertTrue(right.stdout.contains("server version") && right.stdout.contains("schema version"), right.stdout)
        XCTAssertFalse((right.stdout + right.stderr).contains(server.password))
        cli.environment.removeValue(forKey: "PGPASSWORD")

        // Nothing listening.
        let closed = LabPorts.freeBasePort(devices: 1)
        let unreachable = try cli.run(["db", "info", "--db", "postgres://nobody@127.0.0.1:\(closed)/nothing?sslmode=disable"])
        XCTAssertEqual(unreachable.status, 1, unreachable.stdout)
        XCTAssertTrue(unreachable.stderr.contains("127.0.0.1:\(closed), database nothing, user nobody"), unreachable.stderr)
    }

    /// The other ways a URL goes wrong (issue #14): an unknown host, a database that does not exist
    /// (over TCP with the right password, and over the socket), an sslmode that is not one, a port
    /// that is not a number, a scheme that is not PostgreSQL's. Each: exit 1, a message that names
    /// what it tried (host, port, database, user), never the password; for `db info` and for an
    /// ordinary command alike.
    func testUnknownHostsMissingDatabasesBadSSLModesAndMalformedURLsFailClearly() throws {
        let server = try PostgresTestServer.require()
        var cli = try CLI()
        let secret = "Pw-never-printed-" + UUID().uuidString.prefix(6)
        cli.environment["PGPASSWORD"] = secret
        func failure(_ url: String, _ expected: [String], _ line: UInt = #line) throws {
            for command in [["db", "info"], ["list", "devices"]] {
                let result = try cli.run(command + ["--db", url])
                XCTAssertEqual(result.status, 1, "\(command) \(url): \(result.stdout)\(result.stderr)", line: line)
                for text in expected {
                    XCTAssertTrue(result.stderr.contains(text), "\(command) \(url): '\(text)' not in: \(result.stderr)", line: line)
                }
                XCTAssertFalse((result.stdout + result.stderr).contains(secret), "the password was printed: \(result.stderr)", line: line)
                XCTAssertFalse(result.stderr.contains("Fatal error") || result.stderr.contains("PSQLError("), result.stderr, line: line)
            }
        }
        // A host name that does not resolve (.invalid never does).
        try failure("postgres://sbuser@no-such-host.invalid:5432/inventory?sslmode=disable",
                    ["no-such-host.invalid:5432, database inventory, user sbuser"])
        // A port nothing listens on.
        let closed = LabPorts.freeBasePort(devices: 1)
        try failure("postgres://sbuser@127.0.0.1:\(closed)/inventory?sslmode=disable",
                    ["127.0.0.1:\(closed), database inventory, user sbuser"])
        // A database that does not exist: over TCP with the right password, and over the socket.
        cli.environment["PGPASSWORD"] = server.password
        try failure(server.tcpURL("no_such_database"),
                    ["127.0.0.1:\(server.port), database no_such_database, user \(server.passwordUser)", "does not exist"])
        cli.environment["PGPASSWORD"] = secret
        try failure(server.socketURL("no_such_database"), ["database no_such_database", "does not exist"])
        // A wrong password over TCP (scram-sha-256), for an ordinary command too.
        try failure(server.tcpURL(try server.createDatabase("auth")),
                    ["127.0.0.1:\(server.port)", "user \(server.passwordUser)", "password authentication failed"])
        // An sslmode that is not one, a port that is not a number, a scheme that is not PostgreSQL's.
        try failure("postgres://sbuser@127.0.0.1:\(server.port)/inventory?sslmode=sometimes", ["--db", "sslmode", "sometimes"])
        try failure("postgres://sbuser@127.0.0.1:port/inventory", ["--db", "port"])
        try failure("postgres://sbuser@[::1/inventory", ["--db"])
    }

    func testADatabaseWrittenByANewerSwitchboardIsRefusedUntouched() throws {
        let server = try PostgresTestServer.require()
        let cli = try CLI()
        let pgDatabase = try server.createDatabase("newer")
        let url = server.socketURL(pgDatabase)
        XCTAssertEqual(try cli.run(["db", "info", "--db", url]).status, 0)
        _ = try server.psql(pgDatabase, "INSERT INTO switchboard_migrations (id) VALUES ('v99-from-the-future')")
        let before = try server.psql(pgDatabase, "SELECT string_agg(id, ',' ORDER BY id) FROM switchboard_migrations")

        let info = try cli.run(["db", "info", "--db", url])
        XCTAssertEqual(info.status, 1, info.stdout)
        XCTAssertTrue(info.stderr.contains("newer switchboard") && info.stderr.contains("v99-from-the-future"), info.stderr)
        XCTAssertEqual(try cli.run(["demo", "--no-console", "--no-lab"]).status, 0)
        let migrate = try cli.run(["db", "migrate", "--to", url])
        XCTAssertEqual(migrate.status, 1, migrate.stdout)
        XCTAssertTrue(migrate.stderr.contains("newer switchboard"), migrate.stderr)
        XCTAssertEqual(try server.psql(pgDatabase, "SELECT string_agg(id, ',' ORDER BY id) FROM switchboard_migrations"), before)
        XCTAssertEqual(try server.psql(pgDatabase, "SELECT count(*) FROM device"), "0")
    }
}
