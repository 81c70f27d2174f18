import Foundation
import GRDB
import GRDBSQLite
import CLinux
#if canImport(Glibc)
import Glibc
#endif

/// Searches the latest configuration of every device (eNMS's configuration search with "lines of
/// context"). Built for 10,000 devices: the text is matched straight off SQLite's buffers (no
/// Swift strings for configurations without a match) with glibc's POSIX regex engine, one
/// `regexec` per match over a whole configuration (`REG_NEWLINE`, `REG_STARTEND`) rather than one
/// per line.
///
/// The syntax is POSIX extended regular expressions with GNU's extensions (`\w`, `\s`, `\b`,
/// `\<`, `\>`), plus `\d`/`\D` (rewritten to `[0-9]`/`[^0-9]`) and a leading `(?i)`; lookarounds,
/// lazy quantifiers and back-references of other engines are refused as regex errors.
public enum ConfigSearch {
    public struct Line: Sendable, Equatable {
        public var number: Int
        public var text: String
        public var isMatch: Bool
    }

    /// One run of adjacent lines of one device: matches and their context.
    public struct Group: Sendable, Equatable {
        public var device: String
        public var lines: [Line]
    }

    public struct Result: Sendable {
        public var groups: [Group]
        public var devicesSearched: Int
        public var devicesMatched: Int
        public var matches: Int
        /// Nothing searched yet (a backend starts here and `add`s each device).
        public static var empty: Result { Result(groups: [], devicesSearched: 0, devicesMatched: 0, matches: 0) }
    }

    public struct RegexError: Error, CustomStringConvertible {
        public var description: String
    }

    /// A compiled pattern (glibc `regex_t`).
    public final class Pattern: @unchecked Sendable {
        var regex = regex_t()
        public let source: String
        /// A literal every match contains (the longest run of plain characters outside groups),
        /// found with `memmem` first: `regexec` then runs on the lines that hold it only.
        public let literal: [UInt8]?

        public init(_ pattern: String, ignoreCase: Bool = false) throws {
            var text = pattern
            var flags = REG_EXTENDED | REG_NEWLINE
            if text.hasPrefix("(?i)") { text.removeFirst(4); flags |= REG_ICASE }
            if ignoreCase { flags |= REG_ICASE }
            if let problem = Self.unsupported(text) { throw RegexError(description: "invalid regular expression '\(pattern)': \(problem)") }
            source = pattern
            literal = flags & REG_ICASE == 0 ? Self.requiredLiteral(text) : nil
            let rc = regcomp(&regex, Self.translate(text), flags)
            if rc != 0 {
                var buffer = [CChar](repeating: 0, count: 256)
                regerror(rc, &regex, &buffer, buffer.count)
                throw RegexError(description: "invalid regular expression '\(pattern)': \(String(cString: buffer))")
            }
        }

        deinit { regfree(&regex) }

        /// Constructs other engines have and POSIX does not: named here instead of failing obscurely.
        static func unsupported(_ p: String) -> String? {
            if p.isEmpty { return "empty pattern" }
            for (token, name) in [("(?=", "lookahead"), ("(?!", "negative lookahead"), ("(?<=", "lookbehind"), ("(?<!", "negative lookbehind"),
                                  ("(?P<", "named group"), ("(?<", "named group"), ("(?:", "non-capturing group"), ("*?", "lazy quantifier"),
                                  ("+?", "lazy quantifier"), ("??", "lazy quantifier")] where p.contains(token) {
                return "\(name) \(token) is not supported (POSIX extended syntax)"
            }
            return nil
        }

        /// The longest literal (3 bytes or more) that every match must contain, or nil: runs of
        /// plain or escaped characters at group depth 0, cut before an optional character; none when
        /// the pattern has an alternation.
        static func requiredLiteral(_ p: String) -> [UInt8]? {
            let chars = Array(p.unicodeScalars)
            if chars.contains("|") { return nil }
            var best: [UInt8] = [], run: [UInt8] = []
            var lastLength = 0  // bytes of the last character added to `run`
            var depth = 0, i = 0
            func end() { if run.count > best.count { best = run }; run = [] ; lastLength = 0 }
            func add(_ c: Unicode.Scalar) {
                let bytes = Array(String(c).utf8)
                if depth == 0 { run += bytes; lastLength = bytes.count } else { end() }
            }
            while i < chars.count {
                let c = chars[i]
                switch c {
                case "\\":
                    guard i + 1 < chars.count else { end(); i += 1; continue }
                    let n = chars[i + 1]
                    if ".[]()*+?{}|^$\\/-".unicodeScalars.contains(n) { add(n) } else { end() }
                    i += 2
                    continue
                case "*", "?":
                    run.removeLast(min(lastLength, run.count)); end()
                case "{":
                    run.removeLast(min(lastLength, run.count)); end()
                    while i < chars.count && chars[i] != "}" { i += 1 }
                case "+":
                    end()
                case "(":
                    end(); depth += 1
                case ")":
                    end(); depth = max(0, depth - 1)
                case "[":
                    end()
                    i += 1
                    if i < chars.count && chars[i] == "^" { i += 1 }
                    if i < chars.count && chars[i] == "]" { i += 1 }
                    while i < chars.count && chars[i] != "]" { i += 1 }
                case ".", "^", "$":
                    end()
                default:
                    add(c)
                }
                i += 1
            }
            end()
            return best.count >= 3 ? best : nil
        }

        /// `\d` → `[0-9]`, `\D` → `[^0-9]` outside bracket expressions.
        static func translate(_ p: String) -> String {
            var out = ""
            var chars = Array(p)
            var i = 0
            var inBracket = false
            while i < chars.count {
                let c = chars[i]
                if c == "\\" && i + 1 < chars.count && !inBracket {
                    let n = chars[i + 1]
                    if n == "d" { out += "[0-9]"; i += 2; continue }
                    if n == "D" { out += "[^0-9]"; i += 2; continue }
                    out.append(c); out.append(n); i += 2; continue
                }
                if c == "[" && !inBracket {
                    inBracket = true
                    out.append(c); i += 1
                    if i < chars.count && chars[i] == "^" { out.append("^"); i += 1 }
                    if i < chars.count && chars[i] == "]" { out.append("]"); i += 1 }
                    continue
                }
                if c == "]" && inBracket { inBracket = false }
                out.append(c); i += 1
            }
            chars.removeAll()
            return out
        }

        /// Offsets (from `base`) of every match's start, scanning `count` bytes.
        func matchStarts(_ base: UnsafePointer<CChar>, count: Int) -> [Int] {
            if let literal { return literalMatchStarts(base, count: count, literal: literal) }
            var starts: [Int] = []
            var offset = 0
            var m = regmatch_t()
            while offset <= count {
                m.rm_so = regoff_t(offset)
                m.rm_eo = regoff_t(count)
                let flags = REG_STARTEND | (offset > 0 && base[offset - 1] != 10 ? REG_NOTBOL : 0)
                if regexec(&regex, base, 1, &m, flags) != 0 { break }
                let start = Int(m.rm_so)
                starts.append(start)
                // Next search from the line after the match's start: one hit per line is enough.
                var next = start
                while next < count && base[next] != 10 { next += 1 }
                offset = next + 1
            }
            return starts
        }

        /// The same, finding the literal with `memmem` and running the regex on its lines only.
        func literalMatchStarts(_ base: UnsafePointer<CChar>, count: Int, literal: [UInt8]) -> [Int] {
            var starts: [Int] = []
            var offset = 0
            var m = regmatch_t()
            literal.withUnsafeBytes { needle in
                while offset < count {
                    guard let hit = memmem(base + offset, count - offset, needle.baseAddress, needle.count) else { break }
                    let at = UnsafeRawPointer(hit).assumingMemoryBound(to: CChar.self) - base
                    var lineStart = at
                    while lineStart > 0 && base[lineStart - 1] != 10 { lineStart -= 1 }
                    var lineEnd = at
                    while lineEnd < count && base[lineEnd] != 10 { lineEnd += 1 }
                    m.rm_so = regoff_t(lineStart)
                    m.rm_eo = regoff_t(lineEnd)
                    if regexec(&regex, base, 1, &m, REG_STARTEND) == 0 { starts.append(Int(m.rm_so)) }
                    offset = lineEnd + 1
                }
            }
            return starts
        }

        /// Whether one line matches (for tests and small inputs).
        public func matches(_ line: String) -> Bool {
            line.withCString { regexec(&regex, $0, 0, nil, 0) == 0 }
        }
    }

    /// Searches the latest snapshot of each device (of `devices`, or all), sorted by device name.
    public static func search(_ db: Database, pattern: Pattern, context: Int = 0, devices: Set<Int64>? = nil,
                              maxGroups: Int = .max) throws -> Result {
        // The newest snapshot of each device: the index on (device_id, created_at) answers the MAX.
        let statement = try db.makeStatement(sql: """
            SELECT d.id, d.name, s.content FROM device d
            JOIN config_snapshot s ON s.id = (SELECT id FROM config_snapshot WHERE device_id = d.id ORDER BY created_at DESC, id DESC LIMIT 1)
            ORDER BY d.name
            """)
        let cursor = try Row.fetchCursor(statement)
        let raw = statement.sqliteStatement
        var result = Result(groups: [], devicesSearched: 0, devicesMatched: 0, matches: 0)
        while try cursor.next() != nil {
            let id = sqlite3_column_int64(raw, 0)
            if let devices, !devices.contains(id) { continue }
            result.devicesSearched += 1
            guard let text = sqlite3_column_text(raw, 2) else { continue }
            let count = Int(sqlite3_column_bytes(raw, 2))
            let base = UnsafeRawPointer(text).assumingMemoryBound(to: CChar.self)
            let starts = pattern.matchStarts(base, count: count)
            if starts.isEmpty { continue }
            let name = String(cString: sqlite3_column_text(raw, 1))
            result.devicesMatched += 1
            result.matches += starts.count
            if result.groups.count < maxGroups {
                result.groups += groups(device: name, base: base, count: count, matchStarts: starts, context: context)
            }
        }
        return result
    }

    /// Adds one device's newest configuration to a search's result: the part every backend shares
    /// (SQLite reads the text in place; PostgreSQL hands over a String).
    public static func add(device name: String, content: String, pattern: Pattern, context: Int,
                           maxGroups: Int = .max, to result: inout Result) {
        result.devicesSearched += 1
        var utf8 = Array(content.utf8CString)
        let count = utf8.count - 1
        utf8.withUnsafeMutableBufferPointer { buffer in
            let base = UnsafePointer(buffer.baseAddress!)
            let starts = pattern.matchStarts(base, count: count)
            if starts.isEmpty { return }
            result.devicesMatched += 1
            result.matches += starts.count
            if result.groups.count < maxGroups {
                result.groups += groups(device: name, base: base, count: count, matchStarts: starts, context: context)
            }
        }
    }

    /// Lines around each match, adjacent or overlapping ranges merged, as `grep -C` does.
    static func groups(device: String, base: UnsafePointer<CChar>, count: Int, matchStarts: [Int], context: Int) -> [Group] {
        // Line starts of the whole configuration (only for configurations that matched).
        var lineStarts = [0]
        for i in 0..<count where base[i] == 10 && i + 1 < count { lineStarts.append(i + 1) }
        func lineIndex(_ offset: Int) -> Int {
            var lo = 0, hi = lineStarts.count - 1
            while lo < hi {
                let mid = (lo + hi + 1) / 2
                if lineStarts[mid] <= offset { lo = mid } else { hi = mid - 1 }
            }
            return lo
        }
        func text(_ index: Int) -> String {
            let start = lineStarts[index]
            var end = index + 1 < lineStarts.count ? lineStarts[index + 1] - 1 : count
            if end > start && base[end - 1] == 10 { end -= 1 }
            if end > start && base[end - 1] == 13 { end -= 1 }
            return String(decoding: UnsafeRawBufferPointer(start: base + start, count: end - start), as: UTF8.self)
        }
        let matched = Set(matchStarts.map(lineIndex))
        var groups: [Group] = []
        var current: [Line] = []
        var lastIncluded = -2
        for index in matched.sorted() {
            let from = max(0, index - context), to = min(lineStarts.count - 1, index + context)
            if from > lastIncluded + 1, !current.isEmpty {
                groups.append(Group(device: device, lines: current))
                current = []
            }
            let first = max(from, lastIncluded + 1)
            if first > to { continue }
            for i in first...to {
                current.append(Line(number: i + 1, text: text(i), isMatch: matched.contains(i)))
            }
            lastIncluded = max(lastIncluded, to)
        }
        if !current.isEmpty { groups.append(Group(device: device, lines: current)) }
        return groups
    }
}
