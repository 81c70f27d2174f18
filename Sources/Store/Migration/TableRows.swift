import Crypto
import Foundation

/// One cell of a table as `db migrate` carries it between SQLite and PostgreSQL: a backend-neutral
/// value, normalised for its column's kind so that both sides compute the same checksum.
public enum MigrationValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob(Data)
}

/// What a column holds, beyond SQLite's storage classes: PostgreSQL's schema says which text columns
/// are JSON and times, and which integers are booleans (SQLite's schema declares them as text and
/// 0/1, and GRDB stores a Date as "YYYY-MM-DD HH:MM:SS.SSS" UTC text).
public enum MigrationColumnKind: String, Sendable {
    case integer, real, boolean, text, json, time, blob
}

public struct MigrationColumn: Sendable, Equatable {
    public var name: String
    public var kind: MigrationColumnKind
    public init(name: String, kind: MigrationColumnKind) { self.name = name; self.kind = kind }
}

/// A table's shape: its columns and its primary key (the order rows are checksummed in).
public struct MigrationTable: Sendable {
    public var name: String
    public var columns: [MigrationColumn]
    public var primaryKey: [String]
    public init(name: String, columns: [MigrationColumn], primaryKey: [String]) {
        self.name = name; self.columns = columns; self.primaryKey = primaryKey
    }
}

/// Rows read from one side, with their count and checksum.
public struct MigrationTableDigest: Sendable, Equatable {
    public var rows: Int
    public var sha256: String
    public init(rows: Int, sha256: String) { self.rows = rows; self.sha256 = sha256 }
}

public enum MigrationRows {
    /// The value as the column's kind holds it: the one form both backends read back, so a checksum
    /// over it is the same on both sides. JSON loses its whitespace and key order (PostgreSQL's jsonb
    /// keeps neither), times are "YYYY-MM-DD HH:MM:SS.SSS" UTC (GRDB's form, milliseconds).
    public static func normalise(_ value: MigrationValue, kind: MigrationColumnKind, table: String, column: String) throws -> MigrationValue {
        func bad(_ why: String) -> StoreError { StoreError(.database, "\(table).\(column): \(why)") }
        if value == .null { return .null }
        switch kind {
        case .integer, .boolean:
            var n: Int64
            switch value {
            case .integer(let v): n = v
            case .real(let v) where v.rounded() == v && abs(v) < 9.2e18: n = Int64(v)
            case .text(let s):
                if let v = Int64(s) { n = v } else if s == "true" || s == "t" { n = 1 } else if s == "false" || s == "f" { n = 0 } else { throw bad("'\(shown(s))' is not an integer") }
            default: throw bad("not an integer")
            }
            if kind == .boolean { n = n == 0 ? 0 : 1 }
            return .integer(n)
        case .real:
            switch value {
            case .integer(let v): return .real(Double(v))
            case .real: return value
            case .text(let s): if let v = Double(s) { return .real(v) }; throw bad("'\(shown(s))' is not a number")
            default: throw bad("not a number")
            }
        case .text:
            switch value {
            case .text: return value
            case .integer(let v): return .text(String(v))
            case .real(let v): return .text(String(v))
            case .blob(let d): return .text(String(decoding: d, as: UTF8.self))
            case .null: return .null
            }
        case .json:
            guard case .text(let s) = try normalise(value, kind: .text, table: table, column: column) else { return .null }
            guard let object = try? JSONSerialization.jsonObject(with: Data(s.utf8), options: [.fragmentsAllowed]),
                  let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes, .fragmentsAllowed])
            else { throw bad("'\(shown(s))' is not JSON") }
            return .text(String(decoding: data, as: UTF8.self))
        case .time:
            switch value {
            case .text(let s):
                guard let t = canonicalTime(s) else { throw bad("'\(shown(s))' is not a time") }
                return .text(t)
            case .integer(let v): return .text(format(Date(timeIntervalSince1970: TimeInterval(v))))
            case .real(let v): return .text(format(Date(timeIntervalSince1970: v)))
            default: throw bad("not a time")
            }
        case .blob:
            switch value {
            case .blob: return value
            case .text(let s): return .blob(Data(s.utf8))
            default: throw bad("not bytes")
            }
        }
    }

    /// A bad value for an error message: its start, control characters replaced (the text may
    /// have come from a device, and errors reach a terminal).
    static func shown(_ s: String) -> String {
        String(String.UnicodeScalarView(s.unicodeScalars.prefix(40).map { $0.properties.generalCategory == .control ? "?" : $0 }))
    }

    /// "YYYY-MM-DD[ T]HH:MM[:SS[.fff…]][Z|+00[:00]]" (or a date alone) as "YYYY-MM-DD HH:MM:SS.SSS";
    /// fractions past the millisecond are cut, as GRDB and PostgreSQL's `MS` do.
    static func canonicalTime(_ text: String) -> String? {
        var t = Substring(text.trimmingCharacters(in: .whitespaces))
        for zone in ["Z", "+00:00", "+0000", "+00"] where t.hasSuffix(zone) { t = t.dropLast(zone.count); break }
        let date = t.prefix(10)
        guard date.count == 10, date.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "-") }), date.filter({ $0 == "-" }).count == 2 else { return nil }
        var rest = t.dropFirst(10)
        if rest.isEmpty { return "\(date) 00:00:00.000" }
        guard rest.first == " " || rest.first == "T" else { return nil }
        rest = rest.dropFirst()
        let main = rest.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let hms = main[0].split(separator: ":", omittingEmptySubsequences: false)
        guard (2...3).contains(hms.count), hms.allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isNumber) }) else { return nil }
        var fraction = main.count > 1 ? String(main[1]) : ""
        guard fraction.allSatisfy(\.isNumber) else { return nil }
        fraction = String((fraction + "000").prefix(3))
        return "\(date) \(hms[0]):\(hms[1]):\(hms.count == 3 ? hms[2] : "00").\(fraction)"
    }

    static func format(_ date: Date) -> String {
        let ms = Int64((date.timeIntervalSince1970 * 1000).rounded())
        var seconds = ms / 1000
        var millis = ms % 1000
        if millis < 0 { millis += 1000; seconds -= 1 }
        var tm = tm()
        var t = time_t(seconds)
        gmtime_r(&t, &tm)
        return String(format: "%04d-%02d-%02d %02d:%02d:%02d.%03d", Int(tm.tm_year) + 1900, Int(tm.tm_mon) + 1, Int(tm.tm_mday),
                      Int(tm.tm_hour), Int(tm.tm_min), Int(tm.tm_sec), Int(millis))
    }

    /// Count and SHA-256 over the rows in primary-key order, each value in a canonical text form
    /// (kind-tagged and length-prefixed, so no two different rows write the same bytes).
    public static func digest(_ rows: [[MigrationValue]], table: MigrationTable) -> MigrationTableDigest {
        let keyIndexes = table.primaryKey.compactMap { k in table.columns.firstIndex { $0.name == k } }
        let order = keyIndexes.isEmpty ? Array(table.columns.indices) : keyIndexes
        let sorted = rows.sorted { a, b in
            for i in order where a[i] != b[i] { return less(a[i], b[i]) }
            return false
        }
        var hash = SHA256()
        for row in sorted {
            var line = ""
            for value in row {
                switch value {
                case .null: line += "N;"
                case .integer(let v): line += "I\(v);"
                case .real(let v): line += "R\(v);"
                case .text(let s): line += "T\(s.utf8.count):\(s);"
                case .blob(let d): line += "B\(d.count):\(d.base64EncodedString());"
                }
            }
            hash.update(data: Data((line + "\n").utf8))
        }
        return MigrationTableDigest(rows: rows.count, sha256: hash.finalize().map { String(format: "%02x", $0) }.joined())
    }

    /// NULL first, then numbers, texts (by their UTF-8 bytes: no collation), bytes.
    static func less(_ a: MigrationValue, _ b: MigrationValue) -> Bool {
        func rank(_ v: MigrationValue) -> Int {
            switch v { case .null: 0; case .integer, .real: 1; case .text: 2; case .blob: 3 }
        }
        switch (a, b) {
        case (.integer(let x), .integer(let y)): return x < y
        case (.real(let x), .real(let y)): return x < y
        case (.integer(let x), .real(let y)): return Double(x) < y
        case (.real(let x), .integer(let y)): return x < Double(y)
        case (.text(let x), .text(let y)): return Array(x.utf8).lexicographicallyPrecedes(Array(y.utf8))
        case (.blob(let x), .blob(let y)): return Array(x).lexicographicallyPrecedes(Array(y))
        default: return rank(a) < rank(b)
        }
    }
}
