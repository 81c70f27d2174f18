import Foundation
import Store

/// Checks a result against a service's `validation`: `{"kind": "contains"|"regex"|"json",
/// "value": ..., "negate": bool}`. `json` parses the output and requires every key and value of
/// the expected object in it (nested objects compared the same way, recursively). `negate`
/// inverts the outcome. Rules that cannot be applied (unknown kind, bad regex, output that is
/// not JSON) fail with a message saying so; negation does not turn those into successes.
public enum ResultValidation {
    /// `rows`: the result's parsed rows, for `kind: rows` (nil when the output was not parsed).
    public static func check(_ output: String, rows: [[String: JSONValue]]? = nil, rules: [String: JSONValue]) -> (ok: Bool, message: String) {
        if rules.isEmpty { return (true, "no validation") }
        if rules["kind"]?.stringValue == "rows" {
            guard let rows else { return (false, "validation: no parsed rows to check (give the service parse: textfsm)") }
            return checkRows(rows, rules: rules)
        }
        let negate = rules["negate"]?.boolValue ?? false
        guard let kind = rules["kind"]?.stringValue else { return (false, "validation: kind is missing (contains, regex or json)") }
        guard let value = rules["value"], !value.isNull else { return (false, "validation: value is missing") }
        let matched: Bool
        let what: String
        switch kind {
        case "contains":
            let needle = value.description
            matched = output.contains(needle)
            what = "contains \(quoted(needle))"
        case "regex":
            let pattern = value.description
            guard let regex = try? RegexCache.regex(pattern, options: [.anchorsMatchLines]) else {
                return (false, "validation: regex \(quoted(pattern)) does not compile")
            }
            matched = regex.firstMatch(in: output, range: NSRange(output.startIndex..., in: output)) != nil
            what = "matches \(quoted(pattern))"
        case "json":
            var expected = value
            if let text = value.stringValue {
                guard let parsed = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) else {
                    return (false, "validation: the expected value is not JSON")
                }
                expected = JSONValue(any: parsed)
            }
            let actual: JSONValue
            do { actual = try ResultConversion.parse(output) } catch {
                return (false, "validation: the result is not JSON (\(error))")
            }
            matched = contains(actual, expected)
            what = "includes \(expected.description)"
        default:
            return (false, "validation: kind '\(kind)' is not contains, regex or json")
        }
        let ok = matched != negate
        let verdict = ok ? "validation passed" : "validation failed"
        return (ok, "\(verdict): the result \(matched ? "" : "does not ")\(matched ? what : what.replacingFirstVerb())\(negate ? " (negated)" : "")")
    }

    /// `{"kind": "rows", "every" | "some" | "none": FILTER}` or `{"count": ">= 3", "where": FILTER}`:
    /// "every interface is up", "some neighbour is 10.0.0.2", "no interface is down", "at least 3
    /// routes". `every` on no rows fails: there is nothing to vouch for.
    public static func checkRows(_ rows: [[String: JSONValue]], rules: [String: JSONValue]) -> (ok: Bool, message: String) {
        let negate = rules["negate"]?.boolValue ?? false
        func filter(_ key: String) -> (FilterExpression, String)? {
            guard let text = rules[key]?.stringValue, let parsed = try? FilterExpression.parse(text) else { return nil }
            return (parsed, text)
        }
        let matched: Bool
        let what: String
        if let (f, text) = filter("every") {
            let failing = rows.filter { !OutputParser.matches($0, f) }.count
            matched = !rows.isEmpty && failing == 0
            what = rows.isEmpty ? "has no rows, so not every row has \(quoted(text))" : "every row has \(quoted(text)) (\(failing) of \(rows.count) do not)"
        } else if let (f, text) = filter("some") {
            let hits = rows.filter { OutputParser.matches($0, f) }.count
            matched = hits > 0
            what = "some row has \(quoted(text)) (\(hits) of \(rows.count))"
        } else if let (f, text) = filter("none") {
            let hits = rows.filter { OutputParser.matches($0, f) }.count
            matched = hits == 0
            what = "no row has \(quoted(text)) (\(hits) of \(rows.count) do)"
        } else if let raw = rules["count"], let count = RowCount(raw) {
            let scope = filter("where").map { f in rows.filter { OutputParser.matches($0, f.0) } } ?? rows
            matched = count.holds(for: scope.count)
            what = "row count \(scope.count) is \(count)"
        } else {
            return (false, "validation: a rows validation needs every, some, none or count (with valid filter expressions)")
        }
        let ok = matched != negate
        return (ok, "\(ok ? "validation passed" : "validation failed"): \(what)\(matched ? "" : ": not so")\(negate ? " (negated)" : "")")
    }

    /// Whether `actual` has everything `expected` has: every key of an expected object, with a
    /// matching value (objects recursively); other values equal (1 and 1.0 are equal).
    public static func contains(_ actual: JSONValue, _ expected: JSONValue) -> Bool {
        switch (actual, expected) {
        case (.object(let a), .object(let e)):
            return e.allSatisfy { key, value in a[key].map { contains($0, value) } ?? false }
        case (.array(let a), .array(let e)):
            return a.count == e.count && zip(a, e).allSatisfy { contains($0, $1) }
        case (.int(let a), .double(let e)): return Double(a) == e
        case (.double(let a), .int(let e)): return a == Double(e)
        default: return actual == expected
        }
    }

    static func quoted(_ text: String) -> String {
        let short = text.count > 80 ? String(text.prefix(77)) + "..." : text
        return "'\(short)'"
    }
}

private extension String {
    /// "contains 'x'" -> "contain 'x'" after "does not".
    func replacingFirstVerb() -> String {
        for (verb, base) in [("contains ", "contain "), ("matches ", "match "), ("includes ", "include ")] where hasPrefix(verb) {
            return base + dropFirst(verb.count)
        }
        return self
    }
}
