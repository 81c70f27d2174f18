import Foundation

/// A parsed value: a string, or (a `List` value) a list of strings; a `List` value whose regex has
/// nested named groups holds dictionaries, and a list item may be null (a group that took no part),
/// as in Python's textfsm.
public indirect enum TextFSMValue: Hashable, Sendable, CustomStringConvertible {
    case string(String)
    case list([TextFSMValue])
    case dict([String: TextFSMValue])
    case null

    public var string: String? { if case .string(let s) = self { return s }; return nil }

    /// Python's truth value (`if value:`): a non-empty string or list.
    var truthy: Bool {
        switch self {
        case .string(let s): return !s.isEmpty
        case .list(let l): return !l.isEmpty
        case .dict(let d): return !d.isEmpty
        case .null: return false
        }
    }

    /// The JSON text of the value (keys sorted).
    public var json: String {
        switch self {
        case .string(let s): return TextFSMValue.quote(s)
        case .null: return "null"
        case .list(let l): return "[" + l.map(\.json).joined(separator: ", ") + "]"
        case .dict(let d): return "{" + d.keys.sorted().map { TextFSMValue.quote($0) + ": " + d[$0]!.json }.joined(separator: ", ") + "}"
        }
    }

    /// A table cell: the string, or the list's items joined with ", ".
    public var description: String {
        switch self {
        case .string(let s): return s
        case .null: return ""
        case .list(let l): return l.map { if case .string(let s) = $0 { return s }; return $0.json }.joined(separator: ", ")
        case .dict: return json
        }
    }

    /// Python's `str()` of the value as a list item, which is what CliTable stores.
    var pythonStr: String {
        switch self {
        case .string(let s): return s
        case .null: return "None"
        case .list(let l): return "[" + l.map(\.pythonRepr).joined(separator: ", ") + "]"
        case .dict(let d): return "{" + d.map { TextFSMValue.pyQuote($0.key) + ": " + $0.value.pythonRepr }.joined(separator: ", ") + "}"
        }
    }
    var pythonRepr: String {
        if case .string(let s) = self { return TextFSMValue.pyQuote(s) }
        return pythonStr
    }

    static func pyQuote(_ s: String) -> String {
        let q: Character = s.contains("'") && !s.contains("\"") ? "\"" : "'"
        var out = String(q)
        for c in s.unicodeScalars {
            switch c {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if Character(c) == q { out += "\\" + String(q) }
                else if c.value < 0x20 || c.value == 0x7F { out += String(format: "\\x%02x", c.value) }
                else { out.unicodeScalars.append(c) }
            }
        }
        return out + String(q)
    }

    public static func quote(_ s: String) -> String {
        if s.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != 0x22 && $0 != 0x5C }) { return "\"" + s + "\"" }
        var out = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if c.value < 0x20 || c.value > 0x7E { 
                    if c.value > 0xFFFF {
                        let v = c.value - 0x10000
                        out += String(format: "\\u%04x\\u%04x", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF))
                    } else { out += String(format: "\\u%04x", c.value) }
                } else { out.unicodeScalars.append(c) }
            }
        }
        return out + "\""
    }
}

/// The rows a template produced: the header (the Value names, in order) and one row per record.
public struct TextFSMResult: Hashable, Sendable {
    public var header: [String]
    public var rows: [[TextFSMValue]]

    public init(header: [String], rows: [[TextFSMValue]]) { self.header = header; self.rows = rows }

    /// The rows as dictionaries with lower-case keys (ntc-templates' convention).
    public var dictionaries: [[String: TextFSMValue]] {
        let keys = header.map { $0.lowercased() }
        return rows.map { Dictionary(zip(keys, $0), uniquingKeysWith: { a, _ in a }) }
    }

    /// A JSON array of objects with lower-case keys, in header order, one object per line.
    public var json: String {
        let keys = header.map { TextFSMValue.quote($0.lowercased()) + ": " }
        if rows.isEmpty { return "[]" }
        var out = "[\n"
        out.reserveCapacity(rows.count * keys.count * 24)
        for (r, row) in rows.enumerated() {
            out += r == 0 ? "  {" : ",\n  {"
            for (k, v) in row.enumerated() where k < keys.count {
                if k > 0 { out += ", " }
                out += keys[k]
                if case .string(let s) = v { out += TextFSMValue.quote(s) } else { out += v.json }
            }
            out += "}"
        }
        return out + "\n]"
    }

    /// An aligned table: the header, then one line per row.
    public var table: String {
        let cells = [header] + rows.map { $0.map(\.description) }
        var widths = [Int](repeating: 0, count: header.count)
        for r in cells { for (k, c) in r.enumerated() where k < widths.count { widths[k] = max(widths[k], c.count) } }
        return cells.map { r in
            r.enumerated().map { k, c in k == r.count - 1 ? c : c.padding(toLength: widths[k], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }.joined(separator: "\n")
    }
}
