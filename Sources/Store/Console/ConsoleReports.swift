import Foundation
import GRDB

/// The console's reports beyond the inventory tables: a run's parsed rows.
extension ConsoleStore {
    // MARK: parsed rows

    /// A run's parsed rows as one table (`ParsedRows.table`): the columns (`device`, `service`
    /// when several services parsed, then the template's fields) and each row's values as text.
    public struct ParsedTable: Sendable, Equatable {
        public var columns: [String]
        public var rows: [[String]]
    }

    public func parsedRows(run: Int64) throws -> ParsedTable {
        let results = try database.writer.read { db in
            try RunResult.filter(Column("run_id") == run).order(Column("id")).fetchAll(db)
        }
        let (columns, rows) = ParsedRows.table(results)
        return ParsedTable(columns: columns, rows: rows.map { r in columns.map { ParsedRows.text(r[$0]) } })
    }
}
