import Foundation
import GRDB

/// `db migrate`'s SQLite side: every row of a table as typed values, and a whole database written
/// in one transaction. Generic over the tables: the column list and kinds come from the caller
/// (PostgreSQL's schema knows which text is JSON and which integer a boolean).
extension AppDatabase {
    /// The columns SQLite has for `table`, in order.
    public func migrationColumnNames(table: String) throws -> [String] {
        try writer.read { db in try db.columns(in: table).map(\.name) }
    }

    /// Every row of `table`, each value normalised for its column's kind.
    public func migrationRows(_ table: MigrationTable) throws -> [[MigrationValue]] {
        let sql = "SELECT \(table.columns.map { AppDatabase.quote($0.name) }.joined(separator: ", ")) FROM \(AppDatabase.quote(table.name))"
        return try writer.read { db in
            var rows: [[MigrationValue]] = []
            let cursor = try Row.fetchCursor(db, sql: sql)
            while let row = try cursor.next() {
                var values: [MigrationValue] = []
                values.reserveCapacity(table.columns.count)
                for (i, column) in table.columns.enumerated() {
                    let raw: MigrationValue
                    switch (row[i] as DatabaseValue).storage {
                    case .null: raw = .null
                    case .int64(let v): raw = .integer(v)
                    case .double(let v): raw = .real(v)
                    case .string(let v): raw = .text(v)
                    case .blob(let v): raw = .blob(v)
                    }
                    values.append(try MigrationRows.normalise(raw, kind: column.kind, table: table.name, column: column.name))
                }
                rows.append(values)
            }
            return rows
        }
    }

    /// Rows in the tables other than `meta`: a migration target must have none.
    public func migrationRowCount(tables: [String]) throws -> Int {
        try writer.read { db in
            try tables.filter { $0 != "meta" }.reduce(0) { sum, t in
                sum + (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(AppDatabase.quote(t))") ?? 0)
            }
        }
    }

    /// Writes every table's rows in one transaction, parents first (the order given), asking `rows`
    /// for one table at a time (so only one table is held in memory); `meta` rows replace the
    /// target's. AUTOINCREMENT keys need no fixing up: SQLite's sequence follows the largest id inserted.
    public func migrationWrite(_ tables: [MigrationTable], rows: (MigrationTable) throws -> [[MigrationValue]]) throws {
        try writer.write { db in
            for table in tables {
                let rows = try rows(table)
                let columns = table.columns.map { AppDatabase.quote($0.name) }.joined(separator: ", ")
                let marks = Array(repeating: "?", count: table.columns.count).joined(separator: ", ")
                let verb = table.name == "meta" ? "INSERT OR REPLACE" : "INSERT"
                let statement = try db.makeStatement(sql: "\(verb) INTO \(AppDatabase.quote(table.name)) (\(columns)) VALUES (\(marks))")
                for row in rows {
                    let values: [DatabaseValue] = row.map { v in
                        switch v {
                        case .null: return .null
                        case .integer(let n): return n.databaseValue
                        case .real(let d): return d.databaseValue
                        case .text(let s): return s.databaseValue
                        case .blob(let d): return d.databaseValue
                        }
                    }
                    try statement.execute(arguments: StatementArguments(values.map { $0 as (any DatabaseValueConvertible)? }))
                }
            }
        }
    }

    static func quote(_ identifier: String) -> String { "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
}
