import Foundation
import PostgresNIO
import Store

/// The store on a PostgreSQL database: opened from a `postgres://` URL, migrated to this build's
/// schema under an advisory lock, refused untouched when a newer switchboard wrote it.
public final class PostgresStore: @unchecked Sendable {
    public let url: PostgresURL
    public let connection: PGConnection

    /// The schema version this build writes.
    public static var schemaVersion: Int { PostgresSchema.version }

    /// Every table's columns, in order, as the schema stood when this store was opened (after migrating).
    public private(set) var columns: [String: [String]] = [:]

    /// Opens the database: one catalogue query and one read of the applied migrations; the
    /// migration transaction (an advisory lock, a write) only when a migration is missing.
    /// `sessionParameters` are set at connection start-up (no round trip of their own).
    public init(url: PostgresURL, environment: [String: String] = ProcessInfo.processInfo.environment,
                home: String = NSHomeDirectory(), migrate: Bool = true, sessionParameters: [(String, String)] = []) throws {
        self.url = url
        connection = try PGConnection.connect(url, environment: environment, home: home, sessionParameters: sessionParameters)
        StartTrace.mark("pg-open-connected")
        columns = try readCatalogue()
        // The catalogue says whether the migrations table exists: no separate probe.
        let applied = columns["switchboard_migrations"] == nil ? nil : try Self.migrationIds(connection)
        try refuseForeignOrNewer(applied: applied)
        StartTrace.mark("pg-open-schema-checked")
        if migrate && Set(applied ?? []) != Set(PostgresSchema.migrations.map(\.id)) {
            try self.migrate()
            columns = try readCatalogue()
        }
        StartTrace.mark("pg-open-migrated")
    }

    var place: String { "PostgreSQL database \(url.database) at \(url.host.map { "\($0):\(url.port)" } ?? "socket \(url.socketPath ?? "")")" }

    /// The tables of the current schema and their columns in order, from the system catalogue
    /// (information_schema's views cost several times more for the same answer).
    func readCatalogue() throws -> [String: [String]] {
        var columns: [String: [String]] = [:]
        for row in try connection.query("""
            SELECT c.relname::text, a.attname::text FROM pg_catalog.pg_class c
            JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
            WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')
            ORDER BY c.relname, a.attnum
            """) {
            columns[try row.value(0, as: String.self), default: []].append(try row.value(1, as: String.self))
        }
        return columns
    }

    /// The migrations already applied, in order; nil when the database has no switchboard schema.
    func appliedMigrations() throws -> [String]? {
        let exists = try connection.query("SELECT to_regclass('switchboard_migrations') IS NOT NULL").first?.value(0, as: Bool.self) ?? false
        if !exists { return nil }
        return try Self.migrationIds(connection)
    }

    static func migrationIds(_ connection: PGConnection) throws -> [String] {
        try connection.query("SELECT id FROM switchboard_migrations ORDER BY applied_at, id").map { try $0.value(0, as: String.self) }
    }

    /// A database with tables but no switchboard schema, or with migrations this build does not know,
    /// is refused before anything is written to it.
    func refuseForeignOrNewer(applied: [String]?) throws {
        let known = Set(PostgresSchema.migrations.map(\.id))
        if let applied {
            let unknown = applied.filter { !known.contains($0) }
            if !unknown.isEmpty {
                throw StoreError(.database, "\(place) was written by a newer switchboard (schema migrations \(unknown.joined(separator: ", ")) are unknown to this version); it was not changed. Upgrade switchboard to use it.")
            }
        } else {
            let tables = columns.keys.sorted().prefix(5)
            if !tables.isEmpty {
                throw StoreError(.database, "\(place) is not a switchboard database (tables: \(tables.joined(separator: ", "))); it was not changed")
            }
        }
    }

    /// Applies the missing migrations in one transaction, under a transaction-scoped advisory lock.
    func migrate() throws {
        try connection.transaction {
            try connection.query("SELECT pg_advisory_xact_lock($1)", [.int(PostgresSchema.migrationLock)])
            try connection.execute(script: """
                CREATE TABLE IF NOT EXISTS switchboard_migrations (id text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT clock_timestamp())
                """)
            let applied = Set(try appliedMigrations() ?? [])
            for m in PostgresSchema.migrations where !applied.contains(m.id) {
                try connection.execute(script: m.sql)
                try connection.query("INSERT INTO switchboard_migrations (id) VALUES ($1)", [.text(m.id)])
            }
            try connection.query("""
                INSERT INTO meta (key, value) VALUES ('schema_version', $1)
                ON CONFLICT (key) DO UPDATE SET value = excluded.value
                """, [.text(String(PostgresSchema.version))])
        }
    }

    /// A summary for `switchboard db info`: backend, server, schema, sizes and counts.
    public func info() throws -> [(String, String)] { try Self.info(url: url, connection: connection) }

    /// `info` on a connection of the caller's (the backend's pool).
    static func info(url: PostgresURL, connection: PGConnection) throws -> [(String, String)] {
        var rows: [(String, String)] = [("backend", "postgresql"), ("url", url.description)]
        let server = try connection.query("SHOW server_version").first?.value(0, as: String.self) ?? "?"
        rows.append(("server version", server))
        let tls = try connection.query("SELECT COALESCE((SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()), false)")
            .first?.value(0, as: Bool.self) ?? false
        rows.append(("tls", url.host == nil ? "no (Unix socket)" : tls ? "yes" : "no"))
        let version = try connection.query("SELECT value FROM meta WHERE key = 'schema_version'").first?.value(0, as: String.self) ?? "?"
        rows.append(("schema version", version))
        rows.append(("migrations", try migrationIds(connection).joined(separator: ", ")))
        let size = try connection.query("SELECT pg_database_size(current_database())").first?.value(0, as: Int.self) ?? 0
        rows.append(("size", ByteCountFormatter.string(fromByteCount: Int64(size), countStyle: .file)))
        for table in ["device", "link", "pool", "credential", "service", "run", "result", "run_log", "task", "session", "config_snapshot", "changelog"] {
            let n = try connection.query("SELECT count(*) FROM \(table)").first?.value(0, as: Int.self) ?? 0
            rows.append((table == "run_log" ? "log lines" : table + "s", String(n)))
        }
        let workflows = try connection.query("SELECT count(*) FROM service WHERE kind = 'workflow'").first?.value(0, as: Int.self) ?? 0
        rows.append(("workflows", String(workflows)))
        return rows
    }
}
