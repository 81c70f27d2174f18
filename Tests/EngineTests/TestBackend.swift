import Foundation
import GRDB
import PostgresTestSupport
import Store
import StorePostgres

/// The store backend an engine test runs on (issue #14): one test body, run once per backend by a
/// thin test per backend, as BackendParityCLITests does with the CLI.
enum BackendKind: String, CaseIterable, Sendable {
    case sqlite, postgres
}

/// A fresh, empty store of one backend: a SQLite file in a temporary directory, or a new database on
/// the tests' throwaway PostgreSQL server. What the engine gets is `backend`, the backend-neutral
/// API; `execute`/`int`/`strings` are for the few checks and set-ups a test does in SQL of its own
/// (`?` placeholders, rewritten to `$n` for PostgreSQL).
final class TestStore: @unchecked Sendable {
    enum Value: Sendable {
        case text(String), int(Int), date(Date), null
    }

    let kind: BackendKind
    let backend: any StoreBackend
    let directory: String
    /// SQLite: the file. PostgreSQL: the database's socket URL.
    let location: String
    private let sqlite: AppDatabase?
    private let postgres: PGConnection?

    init(_ kind: BackendKind, prefix: String = "engine") throws {
        self.kind = kind
        directory = NSTemporaryDirectory() + "switchboard-\(prefix)-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        switch kind {
        case .sqlite:
            let database = try AppDatabase(path: directory + "/switchboard.db")
            location = database.path
            sqlite = database
            postgres = nil
            backend = database
        case .postgres:
            let server = try PostgresTestServer.require()
            location = server.socketURL(try server.createDatabase(prefix))
            let url = try PostgresURL(parsing: location, source: "test")
            backend = try PostgresBackend(url: url, environment: [:])
            postgres = try PGConnection.connect(url, environment: [:])
            sqlite = nil
        }
    }

    /// Another backend object on the same database, as another process would open it.
    func reopen() throws -> any StoreBackend {
        switch kind {
        case .sqlite: return try AppDatabase(path: location)
        case .postgres: return try PostgresBackend(url: try PostgresURL(parsing: location, source: "test"), environment: [:])
        }
    }

    deinit {
        postgres?.close()
        try? FileManager.default.removeItem(atPath: directory)
    }

    func execute(_ sql: String, _ arguments: [Value] = []) throws {
        if let sqlite {
            try sqlite.writer.write { db in try db.execute(sql: sql, arguments: StatementArguments(arguments.map(\.sqlite))) }
        } else {
            _ = try postgres!.query(Self.numbered(sql), arguments.map(\.postgres))
        }
    }

    func int(_ sql: String, _ arguments: [Value] = []) throws -> Int {
        if let sqlite {
            return try sqlite.writer.read { db in try Int.fetchOne(db, sql: sql, arguments: StatementArguments(arguments.map(\.sqlite))) ?? 0 }
        }
        guard let row = try postgres!.query(Self.numbered(sql), arguments.map(\.postgres)).first else { return 0 }
        return try row.value(0, as: Int.self)
    }

    func strings(_ sql: String, _ arguments: [Value] = []) throws -> [String] {
        if let sqlite {
            return try sqlite.writer.read { db in try String.fetchAll(db, sql: sql, arguments: StatementArguments(arguments.map(\.sqlite))) }
        }
        return try postgres!.query(Self.numbered(sql), arguments.map(\.postgres)).map { try $0.value(0, as: String.self) }
    }

    /// `?` → `$1`, `$2`, … (the tests' SQL has no `?` inside literals).
    static func numbered(_ sql: String) -> String {
        var n = 0
        return sql.map { c -> String in
            guard c == "?" else { return String(c) }
            n += 1
            return "$\(n)"
        }.joined()
    }
}

extension TestStore.Value {
    var sqlite: (any DatabaseValueConvertible)? {
        switch self {
        case .text(let v): return v
        case .int(let v): return v
        case .date(let v): return v
        case .null: return nil
        }
    }

    var postgres: PGValue {
        switch self {
        case .text(let v): return .text(v)
        case .int(let v): return .int(v)
        case .date(let v): return .date(v)
        case .null: return .null
        }
    }
}
