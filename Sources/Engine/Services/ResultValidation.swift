import Foundation
import Store

/// Checks a result against a service's `validation`: `{"kind": "contains"|"regex"|"json",
/// "value": ..., "negate": bool}`. `json` parses the output and requires every key and value of
/// the expected object in it (nested objects compared the same way, recursively). `negate`
/// inverts the outcome. Rules that cannot be applied (unknown kind, bad regex, output that is
/// not JSON) fail with a message saying so; negation does not turn those into successes.
public enum ResultValidation {
    public static func check(_ output: String, rules: [String: JSONValue]) -> (ok: Bool, message: String) {
        if rules.isEmpty { return (true, "no validation") }
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
