import Foundation
import GRDB
import PostgresTestSupport
import Store
import StorePostgres

/// A CLI test on either backend (issue #14): SQLite's default file, or a new database of the test
/// server given through SWITCHBOARD_DB. The test body is one; a test per backend calls it.
extension CLI {
    /// A CLI on a fresh database of `backend`.
    static func on(_ backend: ParityBackend) throws -> CLI {
        var cli = try CLI()
        if backend == .postgres {
            let server = try PostgresTestServer.require()
            cli.environment["SWITCHBOARD_DB"] = server.socketURL(try server.createDatabase("cli"))
        }
        return cli
    }

    /// The CLI's database through the backend-neutral API.
    func backend() throws -> any StoreBackend {
        if let url = environment["SWITCHBOARD_DB"], url.hasPrefix("postgres") {
            return try PostgresBackend(url: try PostgresURL(parsing: url, source: "test"), environment: [:])
        }
        return try AppDatabase(path: databasePath)
    }

    /// The first column of a query's rows, a text column (`CAST(… AS TEXT)` works on both), on
    /// either backend; no placeholders.
    func strings(_ sql: String) throws -> [String] {
        if let url = environment["SWITCHBOARD_DB"], url.hasPrefix("postgres") {
            let c = try PGConnection.connect(try PostgresURL(parsing: url, source: "test"), environment: [:])
            defer { c.close() }
            return try c.query(sql).map { try $0.value(0, as: String.self) }
        }
        return try DatabaseQueue(path: databasePath).read { db in try String.fetchAll(db, sql: sql) }
    }
}
