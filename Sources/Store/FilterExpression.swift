import Foundation
import GRDB

/// The filter language shared by the CLI's `--filter` and the console's `/`:
/// space-separated terms, all of which must hold (AND):
/// - `text`: the text appears (case-insensitively) in any column;
/// - `field=value`: the field equals the value (case-insensitively); `field!=value` negated;
/// - `field~regex`: the field matches the regular expression (search semantics); `field!~regex` negated;
/// - `!term`: any term negated. Values with spaces are quoted: `location="New York"`.
public struct FilterExpression: Equatable, Sendable {
    public enum Op: String, Sendable { case contains, equals, regex }
    public struct Term: Equatable, Sendable {
        public var field: String?
        public var op: Op
        public var value: String
        public var negated: Bool
    }

    public var terms: [Term]
    public var isEmpty: Bool { terms.isEmpty }

    public init(terms: [Term]) { self.terms = terms }

    /// Parses an expression; errors name the offending term.
    public static func parse(_ text: String) throws -> FilterExpression {
        var terms: [Term] = []
        for raw in try tokenize(text) {
            var token = raw
            var negated = false
            while token.hasPrefix("!") { negated.toggle(); token.removeFirst() }
            if token.isEmpty { throw StoreError.invalid("filter: '\(raw)' negates nothing") }
            if let r = token.range(of: "!=") ?? token.range(of: "!~"), isFieldName(token[..<r.lowerBound]) {
                let field = String(token[..<r.lowerBound])
                let op: Op = token[r].hasSuffix("=") ? .equals : .regex
                terms.append(try term(field, op, String(token[r.upperBound...]), !negated, raw))
            } else if let i = token.firstIndex(where: { $0 == "=" || $0 == "~" }), isFieldName(token[..<i]) {
                let field = String(token[..<i])
                let op: Op = token[i] == "=" ? .equals : .regex
                terms.append(try term(field, op, String(token[token.index(after: i)...]), negated, raw))
            } else {
                terms.append(Term(field: nil, op: .contains, value: token, negated: negated))
            }
        }
        return FilterExpression(terms: terms)
    }

    private static func term(_ field: String, _ op: Op, _ value: String, _ negated: Bool, _ raw: String) throws -> Term {
        if op == .regex {
            do { _ = try PatternCache.shared.regex(value) }
            catch { throw StoreError.invalid("filter: invalid regular expression in '\(raw)'") }
        }
        return Term(field: field, op: op, value: value, negated: negated)
    }

    private static func isFieldName(_ s: Substring) -> Bool {
        !s.isEmpty && s.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." || $0 == "-" }
    }

    /// Splits on white space, keeping quoted runs (`"…"` or `'…'`) together and removing the quotes.
    static func tokenize(_ text: String) throws -> [String] {
        var tokens: [String] = []
        var current = ""
        var quote: Character?
        var inToken = false
        for ch in text {
            if let q = quote {
                if ch == q { quote = nil } else { current.append(ch) }
            } else if ch == "\"" || ch == "'" {
                quote = ch; inToken = true
            } else if ch.isWhitespace {
                if inToken { tokens.append(current); current = ""; inToken = false }
            } else {
                current.append(ch); inToken = true
            }
        }
        if quote != nil { throw StoreError.invalid("filter: unterminated quote in '\(text)'") }
        if inToken { tokens.append(current) }
        return tokens
    }

    /// The fields the expression names.
    public var fields: [String] { terms.compactMap(\.field) }

    /// Evaluates the expression on a record. `value` returns a field's text; `searchable` are the
    /// fields a bare substring is looked for in.
    public func matches(value: (String) -> String?, searchable: [String]) -> Bool {
        for t in terms {
            let hit: Bool
            switch (t.field, t.op) {
            case (nil, _):
                hit = searchable.contains { (value($0) ?? "").range(of: t.value, options: .caseInsensitive) != nil }
            case (let f?, .equals):
                hit = (value(f) ?? "").caseInsensitiveCompare(t.value) == .orderedSame
            case (let f?, .regex):
                hit = (try? PatternCache.shared.regex(t.value).matches(value(f) ?? "")) ?? false
            case (_?, .contains):
                hit = false
            }
            if hit == t.negated { return false }
        }
        return true
    }

    /// Translates the expression into an SQL condition. `column` maps a field to an SQL expression
    /// (nil: unknown field); `searchable` lists the SQL expressions a bare substring is looked for in.
    public func sql(column: (String) -> String?, searchable: [String]) throws -> (String, StatementArguments) {
        var parts: [String] = []
        var args: [DatabaseValueConvertible] = []
        for t in terms {
            var cond: String
            switch (t.field, t.op) {
            case (nil, _):
                cond = "(" + searchable.map { "instr(lower(\($0)), lower(?)) > 0" }.joined(separator: " OR ") + ")"
                args.append(contentsOf: searchable.map { _ in t.value as DatabaseValueConvertible })
            case (let f?, .equals):
                guard let c = column(f) else { throw StoreError.invalid("filter: unknown field '\(f)'") }
                cond = "lower(COALESCE(\(c), '')) = lower(?)"
                args.append(t.value)
            case (let f?, .regex):
                guard let c = column(f) else { throw StoreError.invalid("filter: unknown field '\(f)'") }
                cond = "regexp(?, COALESCE(\(c), ''))"
                args.append(t.value)
            case (_?, .contains):
                cond = "0"
            }
            if t.negated { cond = "NOT " + cond }
            parts.append(cond)
        }
        return (parts.isEmpty ? "1" : parts.joined(separator: " AND "), StatementArguments(args))
    }
}
