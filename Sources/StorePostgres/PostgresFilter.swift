import Foundation
import Store

/// A device filter (`FilterExpression`) as a PostgreSQL condition, so the server returns the few
/// devices a filter keeps instead of all of them.
///
/// The filter's meaning is the Swift evaluator's (`FilterExpression.matches` over
/// `Device.value(of:)`, with Foundation's case-insensitive comparison and the ICU/fast-path regexes
/// of `Pattern`). PostgreSQL agrees with it exactly only on *plain* text: printable ASCII and tab
/// (no newline, whose handling by `.` and `$` differs between ICU and PostgreSQL; nothing that
/// Unicode case folding or canonical equivalence could make equal to ASCII). So each term compiles
/// to "the field is not plain, OR the exact test": a row the condition drops is one the Swift
/// evaluator drops too, and the rows that come back are evaluated in Swift again. A term whose
/// value (or regular expression) is outside what both sides read alike compiles to nothing and is
/// left to Swift alone:
/// - `field=value`, bare words: the value must be plain; compared with `lower()` under `COLLATE "C"`
///   (ASCII case folding only, whatever the database's locale);
/// - `field~re`: `re` must be in the common subset of ICU and PostgreSQL's ARE (`compilableRegex`);
/// - custom properties: decided in SQL only where the property is absent or a JSON string (what
///   `JSONValue.description` renders verbatim); numbers, booleans, null and objects go to Swift.
enum PostgresFilter {
    struct Condition {
        var sql: String
        var values: [PGValue]
    }

    /// The condition (`TRUE` when no term compiles) and its parameters, numbered from `$1`.
    static func condition(_ filter: FilterExpression) -> Condition {
        var values: [PGValue] = []
        func bind(_ v: PGValue) -> String { values.append(v); return "$\(values.count)" }
        var parts: [String] = []
        for term in filter.terms {
            if let sql = compile(term, bind) { parts.append(sql) }
        }
        return Condition(sql: parts.isEmpty ? "TRUE" : parts.joined(separator: " AND "), values: values)
    }

    /// A field's text as `Device.value(of:)` gives it, with the condition under which the SQL text
    /// is that value (custom properties: absent or a string).
    struct Field {
        var text: String
        var decided: String?
    }

    static func field(_ name: String, _ bind: (PGValue) -> String) -> Field {
        switch name {
        case "name", "address", "platform", "vendor", "model", "os_version", "category", "location", "description", "jump":
            return Field(text: "device.\(name)")
        case "ip_address": return Field(text: "device.address")
        case "operating_system": return Field(text: "device.platform")
        case "last_run_status", "last_backup_status": return Field(text: "COALESCE(device.\(name), '')")
        case "port": return Field(text: "device.port::text")
        case "id": return Field(text: "device.id::text")
        default:
            let key = bind(.text(name))
            return Field(text: "COALESCE(device.properties->>\(key), '')",
                         decided: "(device.properties->\(key) IS NULL OR jsonb_typeof(device.properties->\(key)) = 'string')")
        }
    }

    /// Text whose every character is printable ASCII or a tab.
    static func isPlain(_ s: String) -> Bool {
        s.utf8.allSatisfy { ($0 >= 0x20 && $0 < 0x7f) || $0 == 0x09 }
    }

    /// The SQL test that a text expression is plain (the same set as `isPlain`).
    static func plain(_ text: String) -> String { "((\(text)) COLLATE \"C\" !~ '[^\t -~]')" }

    static func compile(_ t: FilterExpression.Term, _ bind: (PGValue) -> String) -> String? {
        switch (t.field, t.op) {
        case (nil, _):
            // Any searchable column contains the word, case-insensitively.
            guard !t.value.isEmpty, isPlain(t.value) else { return nil }
            let word = bind(.text(t.value.lowercased()))
            let columns = Inventory.deviceSearchFields.map { field($0, bind).text }
            if t.negated {
                return "(" + columns.map { "(NOT \(plain($0)) OR strpos(lower(\($0) COLLATE \"C\"), \(word)) = 0)" }.joined(separator: " AND ") + ")"
            }
            return "(" + columns.map { "(NOT \(plain($0)) OR strpos(lower(\($0) COLLATE \"C\"), \(word)) > 0)" }.joined(separator: " OR ") + ")"
        case (let name?, .equals):
            guard isPlain(t.value) else { return nil }
            let f = field(name, bind)
            let test = "lower(\(f.text) COLLATE \"C\") = \(bind(.text(t.value.lowercased())))"
            return decide(f, t.negated ? "NOT (\(test))" : test)
        case (let name?, .regex):
            guard compilableRegex(t.value) else { return nil }
            let f = field(name, bind)
            let test = "(\(f.text) COLLATE \"C\") ~ \(bind(.text(t.value)))"
            return decide(f, t.negated ? "NOT (\(test))" : test)
        case (_?, .contains):
            return nil
        }
    }

    /// Rows where the SQL cannot decide pass; the others must pass `test`.
    static func decide(_ f: Field, _ test: String) -> String {
        var undecided = "NOT \(plain(f.text))"
        if let d = f.decided { undecided = "NOT \(d) OR " + undecided }
        return "(\(undecided) OR \(test))"
    }

    /// Whether a regular expression means the same to ICU (`NSRegularExpression`, and `Pattern`'s
    /// literal fast paths, which agree with it) and to PostgreSQL's `~` on plain text, and is valid
    /// for both. Accepted: printable ASCII literals; `.`; `^` and `$`; groups `(…)` and `(?:…)`;
    /// `|`; the quantifiers `*`, `+`, `?` and `{m}`, `{m,}`, `{m,n}` (m, n ≤ 255), each after an
    /// atom and not followed by another (no lazy or possessive forms); bracket expressions of
    /// literals and ranges (optionally negated; no nested `[`, no classes, no `&&`, no escape but
    /// `\\`, `\]`, `\-`, `\^`); the escapes `\d \D \w \W \s \S` and a backslash before punctuation.
    /// Anything else (back-references, look-around, `\b`, which is a backspace to PostgreSQL, named
    /// classes, flags, Unicode) is left to Swift.
    static func compilableRegex(_ re: String) -> Bool {
        guard isPlain(re), !re.contains("\t") else { return false }
        let c = Array(re.utf8)
        var i = 0
        var depth = 0
        // Whether the previous token can take a quantifier (an atom or a closed group).
        var quantifiable = false
        func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
        func isAlnum(_ b: UInt8) -> Bool { isDigit(b) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) }
        while i < c.count {
            let b = c[i]
            switch b {
            case UInt8(ascii: "\\"):
                guard i + 1 < c.count else { return false }
                let e = c[i + 1]
                if isAlnum(e) {
                    guard "dDwWsS".utf8.contains(e) else { return false }
                } else if e == 0x20 {
                    return false
                }
                i += 2; quantifiable = true
            case UInt8(ascii: "["):
                i += 1
                if i < c.count && c[i] == UInt8(ascii: "^") { i += 1 }
                // A `]` first is a literal to PostgreSQL, an empty set error to ICU.
                guard i < c.count, c[i] != UInt8(ascii: "]") else { return false }
                // `[:alpha:]` is a class to ICU, a set of letters to PostgreSQL.
                guard c[i] != UInt8(ascii: ":") else { return false }
                var members = 0
                while i < c.count && c[i] != UInt8(ascii: "]") {
                    var m = c[i]
                    if m == UInt8(ascii: "[") || m == UInt8(ascii: "&") { return false }
                    if m == UInt8(ascii: "\\") {
                        guard i + 1 < c.count, "\\]-^".utf8.contains(c[i + 1]) else { return false }
                        m = c[i + 1]; i += 2
                    } else {
                        i += 1
                    }
                    if i + 1 < c.count && c[i] == UInt8(ascii: "-") && c[i + 1] != UInt8(ascii: "]") {
                        // A range: both ends letters or digits of the same kind, in order (no `--`).
                        let end = c[i + 1]
                        guard isAlnum(m), isAlnum(end), m <= end, isDigit(m) == isDigit(end), (m >= 0x61) == (end >= 0x61) else { return false }
                        i += 2
                    }
                    members += 1
                }
                guard i < c.count, members > 0 else { return false }
                i += 1; quantifiable = true
            case UInt8(ascii: "("):
                if i + 1 < c.count && c[i + 1] == UInt8(ascii: "?") {
                    guard i + 2 < c.count, c[i + 2] == UInt8(ascii: ":") else { return false }
                    i += 3
                } else {
                    i += 1
                }
                depth += 1; quantifiable = false
            case UInt8(ascii: ")"):
                guard depth > 0 else { return false }
                depth -= 1; i += 1; quantifiable = true
            case UInt8(ascii: "|"):
                i += 1; quantifiable = false
            case UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "?"):
                guard quantifiable else { return false }
                i += 1; quantifiable = false
                if i < c.count, "*+?{".utf8.contains(c[i]) { return false }
            case UInt8(ascii: "{"):
                guard quantifiable else { return false }
                var j = i + 1
                var bounds: [Int] = []
                var digits = ""
                while j < c.count && c[j] != UInt8(ascii: "}") {
                    if isDigit(c[j]) { digits.append(Character(UnicodeScalar(c[j]))) }
                    else if c[j] == UInt8(ascii: ",") && bounds.isEmpty && !digits.isEmpty { bounds.append(Int(digits) ?? 999); digits = "" }
                    else { return false }
                    j += 1
                }
                guard j < c.count else { return false }
                if bounds.isEmpty {
                    guard !digits.isEmpty else { return false }
                    bounds.append(Int(digits) ?? 999)
                } else if !digits.isEmpty {
                    bounds.append(Int(digits) ?? 999)
                    guard bounds[0] <= bounds[1] else { return false }
                }
                guard bounds.allSatisfy({ $0 <= 255 }) else { return false }
                i = j + 1; quantifiable = false
                if i < c.count, "*+?{".utf8.contains(c[i]) { return false }
            case UInt8(ascii: "^"), UInt8(ascii: "$"):
                i += 1; quantifiable = false
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                // Literal to ICU outside a set; PostgreSQL agrees for `]` and `}`, but keep it simple.
                return false
            case UInt8(ascii: "#"):
                // A comment only in extended mode, never here; a literal to both.
                i += 1; quantifiable = true
            default:
                i += 1; quantifiable = true
            }
        }
        return depth == 0
    }
}
