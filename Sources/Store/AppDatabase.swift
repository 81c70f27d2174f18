import Foundation
import GRDB

/// The one SQLite file shared by the console, the engine and CLI commands.
/// A `DatabasePool` in WAL mode: readers never block the writer, and each process opens its own pool.
public final class AppDatabase: Sendable {
    public let path: String
    public let writer: DatabasePool

    /// The schema version this build writes, stored in `meta` for `db info`.
    public static let schemaVersion = Schema.migrator.migrations.count

    /// Opens (creating if needed, 0600 in a 0700 directory) and migrates the database at `path`.
    /// A database written by a newer switchboard is refused and left untouched.
    public init(path: String, readonly: Bool = false) throws {
        self.path = path
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty { try Paths.ensurePrivateDirectory(dir) }
        if !FileManager.default.fileExists(atPath: path) {
            if readonly { throw StoreError(.database, "no database at \(path)") }
            let fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
            if fd < 0 { throw StoreError(.database, "cannot create \(path): \(String(cString: strerror(errno)))") }
            close(fd)
        }
        try AppDatabase.refuseForeignOrNewer(path)
        var config = Configuration()
        config.busyMode = .timeout(15)
        config.foreignKeysEnabled = true
        config.label = "switchboard"
        config.prepareDatabase { db in
            RegexFunction.register(in: db)
        }
        do {
            writer = try DatabasePool(path: path, configuration: config)
        } catch {
            throw StoreError(.database, "cannot open database \(path): \(AppDatabase.describe(error))")
        }
        let migrator = Schema.migrator
        if !readonly {
            do {
                try migrator.migrate(writer)
                try writer.write { db in
                    try db.execute(sql: "INSERT OR REPLACE INTO meta(key, value) VALUES ('schema_version', ?)", arguments: [AppDatabase.schemaVersion])
                }
            } catch let error as StoreError {
                throw error
            } catch {
                throw StoreError(.database, "cannot migrate \(path): \(AppDatabase.describe(error))")
            }
        }
    }

    /// A read for async code; use it instead of GRDB's `try await writer.read`.
    ///
    /// GRDB's async `read` takes a reader connection from the pool, resumes on Swift's cooperative
    /// thread pool (one thread per core) and gives the reader back only once it runs there again.
    /// Synchronous `writer.read` calls made from async code (claiming runs, choosing a credential, the
    /// scheduler) block a cooperative thread until a reader is free. With enough of both at once —
    /// an engine running 50 devices on 2 cores — every reader is held by an async read waiting for a
    /// cooperative thread and every cooperative thread waits for a reader: the process hangs for good.
    /// Here the block runs, and the reader goes back, on GRDB's own dispatch queues; only the value
    /// crosses to the caller, so a reader is never held while waiting for a cooperative thread.
    public func read<T: Sendable>(_ value: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            writer.asyncRead { db in
                continuation.resume(with: Result { try value(db.get()) })
            }
        }
    }

    /// Looks through a read-only connection, before anything opens the file for writing: a file that is
    /// not switchboard's, or comes from a newer version, stays byte for byte as it was.
    static func refuseForeignOrNewer(_ path: String) throws {
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        if size == 0 { return }
        var config = Configuration()
        config.readonly = true
        config.busyMode = .timeout(15)
        let queue: DatabaseQueue
        do { queue = try DatabaseQueue(path: path, configuration: config) }
        catch { throw StoreError(.database, "cannot open database \(path): \(AppDatabase.describe(error))") }
        defer { try? queue.close() }
        let migrator = Schema.migrator
        do {
            try queue.read { db in try check(db, path, migrator) }
        } catch let e as StoreError {
            throw e
        } catch {
            throw StoreError(.database, "\(path) is not a readable SQLite database: \(AppDatabase.describe(error))")
        }
    }

    static func check(_ db: Database, _ path: String, _ migrator: DatabaseMigrator) throws {
        if try migrator.hasBeenSuperseded(db) {
                let applied = try migrator.appliedIdentifiers(db)
                let known = Set(migrator.migrations)
                let unknown = applied.subtracting(known).sorted().joined(separator: ", ")
                throw StoreError(.database, "\(path) was written by a newer switchboard (schema migrations \(unknown) are unknown to this version); it was not changed. Upgrade switchboard to use it.")
            }
            let tables = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
            if !tables.isEmpty && !tables.contains("grdb_migrations") {
                throw StoreError(.database, "\(path) is an SQLite file but not a switchboard database (tables: \(tables.prefix(5).joined(separator: ", "))); it was not changed")
            }
    }

    /// An error as one line an engineer can read.
    public static func describe(_ error: Error) -> String {
        if let e = error as? DatabaseError {
            return e.message ?? e.description
        }
        if let e = error as? StoreError { return e.message }
        return String(describing: error)
    }

    /// A summary for `switchboard db info`.
    public func info() throws -> [(String, String)] {
        try writer.read { db in
            var rows: [(String, String)] = [("path", path)]
            let version = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'schema_version'") ?? "?"
            rows.append(("schema version", version))
            let applied = try Schema.migrator.appliedIdentifiers(db).sorted().joined(separator: ", ")
            rows.append(("migrations", applied))
            let mode = try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "?"
            rows.append(("journal mode", mode))
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
            rows.append(("size", ByteCountFormatter.string(fromByteCount: Int64(size), countStyle: .file)))
            for table in ["device", "link", "pool", "credential", "service", "run", "result", "run_log", "task", "session", "config_snapshot", "changelog"] {
                let n = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table)") ?? 0
                rows.append((table == "run_log" ? "log lines" : table + "s", String(n)))
            }
            let workflows = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM service WHERE kind = 'workflow'") ?? 0
            rows.append(("workflows", String(workflows)))
            return rows
        }
    }
}
