import Foundation
import GRDB

/// The console's reports beyond the inventory tables: a run's parsed rows, the security log.
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

/// The security log (`SecurityLog`) read back: one entry per line, newest first.
public enum SecurityLogEntries {
    public struct Entry: Sendable, Equatable {
        public var time: String
        public var user: String
        public var action: String
        public var targets: String
        public var outcome: String
        public var detail: String
    }

    /// Reads the log (and its newest rotated file when the current one is short), newest first,
    /// at most `limit` entries. A missing file is no entries.
    public static func read(path: String, limit: Int = 20_000) -> [Entry] {
        var entries: [Entry] = []
        for file in [path, path + ".1"] {
            guard entries.count < limit, let data = FileManager.default.contents(atPath: file) else { continue }
            let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: true)
            for line in lines.reversed() {
                if entries.count >= limit { break }
                entries.append(parse(String(line)))
            }
        }
        return entries
    }

    /// `TIME key=value key="quoted \"value\"" …` (the format `SecurityLog.format` writes).
    public static func parse(_ line: String) -> Entry {
        var fields: [String: String] = [:]
        let scalars = Array(line.unicodeScalars)
        var i = 0
        func skipSpaces() { while i < scalars.count && scalars[i] == " " { i += 1 } }
        var time = ""
        while i < scalars.count && scalars[i] != " " { time.unicodeScalars.append(scalars[i]); i += 1 }
        while i < scalars.count {
            skipSpaces()
            var key = ""
            while i < scalars.count && scalars[i] != "=" && scalars[i] != " " { key.unicodeScalars.append(scalars[i]); i += 1 }
            guard i < scalars.count, scalars[i] == "=" else { continue }
            i += 1
            var value = ""
            if i < scalars.count && scalars[i] == "\"" {
                i += 1
                while i < scalars.count && scalars[i] != "\"" {
                    if scalars[i] == "\\" && i + 1 < scalars.count {
                        i += 1
                        switch scalars[i] {
                        case "n": value += "\n"
                        case "r": value += "\r"
                        case "t": value += "\t"
                        case "x" where i + 2 < scalars.count:
                            let hex = String(String.UnicodeScalarView(scalars[(i + 1)...(i + 2)]))
                            if let v = UInt32(hex, radix: 16), let s = Unicode.Scalar(v) { value.unicodeScalars.append(s) }
                            i += 2
                        default: value.unicodeScalars.append(scalars[i])
                        }
                    } else {
                        value.unicodeScalars.append(scalars[i])
                    }
                    i += 1
                }
                i += 1
            } else {
                while i < scalars.count && scalars[i] != " " { value.unicodeScalars.append(scalars[i]); i += 1 }
            }
            fields[key] = value
        }
        return Entry(time: time, user: fields["user"] ?? "", action: fields["action"] ?? "", targets: fields["targets"] ?? "",
                     outcome: fields["outcome"] ?? "", detail: fields["detail"] ?? "")
    }
}
