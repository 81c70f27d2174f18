import Foundation
import Store

/// `switchboard db migrate`: copies a whole store between SQLite and PostgreSQL, table by table,
/// into an empty database, then reads both sides back and compares each table's row count and
/// checksum. PostgreSQL's catalogue gives the tables' shapes (it knows which text is JSON, which
/// integer a boolean); both directions use it.
public enum StoreMigration {
    public struct TableResult: Sendable {
        public var table: String
        public var source: MigrationTableDigest
        public var target: MigrationTableDigest
        public var ok: Bool { source == target }
    }

    public struct Report: Sendable {
        public var from: DatabaseLocation
        public var to: DatabaseLocation
        public var tables: [TableResult]
        /// What the connection had to say (an ignored password file).
        public var warnings: [String]
        public var ok: Bool { tables.allSatisfy(\.ok) }
    }

    /// Copies `from` into `to`, which must be empty (it gets this build's schema first). One side
    /// must be SQLite and the other PostgreSQL.
    public static func run(from: DatabaseLocation, to: DatabaseLocation,
                           environment: [String: String] = ProcessInfo.processInfo.environment,
                           home: String = NSHomeDirectory()) throws -> Report {
        let sqlitePath: String, pgURL: PostgresURL, toPostgres: Bool
        switch (from, to) {
        case (.sqlite(let path), .postgres(let url)): sqlitePath = path; pgURL = url; toPostgres = true
        case (.postgres(let url), .sqlite(let path)): sqlitePath = path; pgURL = url; toPostgres = false
        default:
            throw StoreError.invalid("db migrate copies between SQLite and PostgreSQL: one of --from and --to must be a postgres:// URL and the other a file (got \(from.backendName) → \(to.backendName))")
        }
        if toPostgres && !FileManager.default.fileExists(atPath: sqlitePath) {
            throw StoreError(.notFound, "no SQLite database at \(sqlitePath)")
        }
        // The source first: a newer or foreign source is refused before the target is touched.
        let pg: PostgresStore
        let sqlite: AppDatabase
        if toPostgres {
            sqlite = try AppDatabase(path: sqlitePath)
            pg = try PostgresStore(url: pgURL, environment: environment, home: home)
        } else {
            pg = try PostgresStore(url: pgURL, environment: environment, home: home)
            sqlite = try AppDatabase(path: sqlitePath)
        }
        defer { pg.connection.close() }
        let sqlitePlace = "SQLite database \(sqlitePath)"

        let tables = try pg.migrationTables()
        for table in tables {
            let names = try wrap(sqlitePlace) { try sqlite.migrationColumnNames(table: table.name) }
            if Set(names) != Set(table.columns.map(\.name)) {
                throw StoreError(.database, "table \(table.name) has columns \(names.joined(separator: ", ")) in \(sqlitePlace) but \(table.columns.map(\.name).joined(separator: ", ")) in \(pg.place): the two schemas differ")
            }
        }

        let targetRows = toPostgres ? try pg.migrationRowCount()
            : try wrap(sqlitePlace) { try sqlite.migrationRowCount(tables: tables.map(\.name)) }
        if targetRows > 0 {
            let place = toPostgres ? pg.place : sqlitePlace
            throw StoreError(.conflict, "\(place) is not empty (\(targetRows) rows): db migrate copies into an empty database only; it was not changed")
        }

        // One table at a time: read from the source (and checksummed), written, let go.
        var sourceDigests: [String: MigrationTableDigest] = [:]
        func sourceRows(_ table: MigrationTable) throws -> [[MigrationValue]] {
            let rows = toPostgres ? try wrap(sqlitePlace) { try sqlite.migrationRows(table) } : try pg.migrationRows(table)
            sourceDigests[table.name] = MigrationRows.digest(rows, table: table)
            return rows
        }
        if toPostgres {
            try pg.migrationWrite(tables, rows: sourceRows)
        } else {
            try wrap(sqlitePlace) { try sqlite.migrationWrite(tables, rows: sourceRows) }
        }
        // Then the target, read back afresh, table by table.
        var results: [TableResult] = []
        for table in tables {
            let rows = toPostgres ? try pg.migrationRows(table) : try wrap(sqlitePlace) { try sqlite.migrationRows(table) }
            results.append(TableResult(table: table.name, source: sourceDigests[table.name] ?? MigrationTableDigest(rows: -1, sha256: ""),
                                       target: MigrationRows.digest(rows, table: table)))
        }
        return Report(from: from, to: to, tables: results, warnings: pg.connection.warnings)
    }

    /// GRDB's errors as the store's, naming the database.
    static func wrap<T>(_ place: String, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as StoreError { throw e } catch {
            throw StoreError(.database, "\(place): \(StoreError.describe(error))")
        }
    }
}
