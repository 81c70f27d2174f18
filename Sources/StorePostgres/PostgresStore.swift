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

    public init(url: PostgresURL, environment: [String: String] = ProcessInfo.processInfo.environment,
                home: String = NSHomeDirectory(), migrate: Bool = true) throws {
        self.url = url
        connection = try PGConnection.connect(url, environment: environment, home: home)
        try refuseForeignOrNewer()
        if migrate { try self.migrate() }
    }

    var place: String { "PostgreSQL database \(url.database) at \(url.host.map { "\($0):\(url.port)" } ?? "socket \(url.socketPath ?? "")")" }

    /// The migrations already applied, in order; nil when the database has no switchboard schema.
    func appliedMigrations() throws -> [String]? {
        let exists = try connection.query("SELECT to_regclass('switchboard_migrations') IS NOT NULL").first?.value(0, as: Bool.self) ?? false
        if !exists { return nil }
        return try connection.query("SELECT id FROM switchboard_migrations ORDER BY applied_at, id").map { try $0.value(0, as: String.self) }
    }

    /// A database with tables but no switchboard schema, or with migrations this build does not know,
    /// is refused before anything is written to it.
    func refuseForeignOrNewer() throws {
        let known = Set(PostgresSchema.migrations.map(\.id))
        if let applied = try appliedMigrations() {
            let unknown = applied.filter { !known.contains($0) }
            if !unknown.isEmpty {
                throw StoreError(.database, "\(place) was written by a newer switchboard (schema migrations \(unknown.joined(separator: ", ")) are unknown to this version); it was not changed. Upgrade switchboard to use it.")
            }
        } else {
            let tables = try connection.query("""
                SELECT table_name FROM information_schema.tables
                WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name LIMIT 5
                """).map { try $0.value(0, as: String.self) }
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
    public func info() throws -> [(String, String)] {
        var rows: [(String, String)] = [("backend", "postgresql"), ("url", url.description)]
        let server = try connection.query("SHOW server_version").first?.value(0, as: String.self) ?? "?"
        rows.append(("server version", server))
        let tls = try connection.query("SELECT COALESCE((SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()), false)")
            .first?.value(0, as: Bool.self) ?? false
        rows.append(("tls", url.host == nil ? "no (Unix socket)" : tls ? "yes" : "no"))
        let version = try connection.query("SELECT value FROM meta WHERE key = 'schema_version'").first?.value(0, as: String.self) ?? "?"
        rows.append(("schema version", version))
        rows.append(("migrations", (try appliedMigrations() ?? []).joined(separator: ", ")))
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
