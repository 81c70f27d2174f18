import Foundation

/// Checks a service's fields and kind-specific parameters on save, with errors that name the
/// service and the field.
///
/// Required parameters (`commands`, `lines`, `url`, `command`, `seconds`…) must be present. An
/// explicitly empty `commands`/`lines` list is accepted: eNMS exports placeholder services that
/// way (its `model_scalability` set has hundreds) and they must import; running one fails with a
/// clear error instead.
public enum ServiceValidation {
    /// The parameters each kind understands. `payload` (initial payload variables, from eNMS) and
    /// `notify` (a run notification, `NotifySpec`) are accepted on every kind.
    public static let knownParameters: [Service.Kind: [String]] = [
        .cli: ["commands", "mode", "enable_mode", "enable", "parse", "template"],
        .config: ["lines", "dry_run", "save", "enable_mode"],
        .backup: ["mode", "command", "enable_mode"],
        .ping: ["count", "timeout", "address"],
        .tcp: ["port", "timeout", "address"],
        .rest: ["method", "url", "headers", "body", "expected_status", "timeout"],
        .extract: ["regex", "json_path", "field", "where", "row", "source", "variable"],
        .validate: ["source"],
        .unix: ["command"],
        .wait: ["seconds"],
        .workflow: [],
    ]

    public static func validate(_ s: Service) throws {
        func fail(_ m: String) -> StoreError { StoreError.invalid("service '\(s.name)': \(m)") }
        if s.name.trimmingCharacters(in: .whitespaces).isEmpty { throw StoreError.invalid("service: name is empty") }
        if s.maxProcesses < 1 { throw fail("max_processes must be at least 1") }
        if s.retries < 0 || s.retries > 100 { throw fail("retries must be in 0...100") }
        if s.retryDelay < 0 { throw fail("retry_delay must not be negative") }
        if s.timeout <= 0 { throw fail("timeout must be positive") }
        if !["text", "json"].contains(s.conversion) { throw fail("conversion must be text or json") }
        if !["device", "service"].contains(s.traversal) { throw fail("traversal must be device or service") }
        if !s.targetFilter.isEmpty {
            do { _ = try FilterExpression.parse(s.targetFilter) } catch { throw fail("target filter: \(error)") }
        }
        let p = s.parameters
        let known = (knownParameters[s.kind] ?? []) + ["payload", "notify"]
        for key in p.keys.sorted() where !known.contains(key) {
            throw fail("parameter '\(key)' is not one of a \(s.kind.rawValue) service's (\(known.joined(separator: ", ")))")
        }
        if let payload = p["payload"], payload.objectValue == nil { throw fail("payload must be an object") }
        if let notify = p["notify"], !notify.isNull {
            do { _ = try NotifySpec.parse(notify) } catch let e as StoreError { throw fail(e.message) }
        }

        func string(_ key: String, required: Bool = false, template: Bool = false) throws -> String? {
            guard let value = p[key], !value.isNull else {
                if required { throw fail("\(key) is missing") }
                return nil
            }
            guard let text = value.stringValue else { throw fail("\(key) must be a string") }
            if required && text.trimmingCharacters(in: .whitespaces).isEmpty { throw fail("\(key) is empty") }
            if template, let problem = TemplateSyntax.problem(in: text) { throw fail("\(key): \(problem)") }
            return text
        }
        func strings(_ key: String) throws {
            guard let value = p[key] else { throw fail("\(key) is missing (a list of strings)") }
            guard let list = value.arrayValue else { throw fail("\(key) must be a list of strings") }
            for (index, item) in list.enumerated() {
                guard let text = item.stringValue else { throw fail("\(key)[\(index)] must be a string") }
                if let problem = TemplateSyntax.problem(in: text) { throw fail("\(key)[\(index)]: \(problem)") }
            }
        }
        func bool(_ key: String) throws {
            guard let v = p[key], !v.isNull else { return }
            guard case .bool = v else { throw fail("\(key) must be true or false") }
        }
        func number(_ key: String, required: Bool = false, minimum: Double, inclusive: Bool = true) throws {
            guard let v = p[key], !v.isNull else {
                if required { throw fail("\(key) is missing") }
                return
            }
            let d: Double?
            switch v {
            case .int(let i): d = Double(i)
            case .double(let x): d = x
            default: d = nil
            }
            guard let d else { throw fail("\(key) must be a number") }
            if inclusive ? d < minimum : d <= minimum {
                throw fail("\(key) must be \(inclusive ? "at least" : "greater than") \(minimum.formatted())")
            }
        }
        func integer(_ key: String, in range: ClosedRange<Int>) throws {
            guard let v = p[key], !v.isNull else { return }
            guard case .int(let i) = v else { throw fail("\(key) must be a whole number") }
            if !range.contains(i) { throw fail("\(key) must be in \(range.lowerBound)...\(range.upperBound)") }
        }

        switch s.kind {
        case .cli:
            try strings("commands")
            if let mode = try string("mode"), !["cli", "exec"].contains(mode) { throw fail("mode must be cli or exec") }
            try bool("enable")
        case .config:
            try strings("lines")
            try bool("dry_run")
            try bool("save")
        case .backup:
            if let mode = try string("mode"), !["cli", "exec"].contains(mode) { throw fail("mode must be cli or exec") }
            _ = try string("command", template: true)
        case .ping:
            try integer("count", in: 1...1000)
            try number("timeout", minimum: 0, inclusive: false)
            _ = try string("address", template: true)
        case .tcp:
            try integer("port", in: 1...65535)
            try number("timeout", minimum: 0, inclusive: false)
            _ = try string("address", template: true)
        case .rest:
            let url = try string("url", required: true, template: true)!
            if (try? TemplateSyntax.parse(url))?.contains(where: { if case .variable = $0 { return true }; return false }) == false {
                guard let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(), ["http", "https"].contains(scheme),
                      parsed.host != nil else {
                    throw fail("url '\(url)' is not an http(s) URL")
                }
            }
            if let m = try string("method"), !["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"].contains(m.uppercased()) {
                throw fail("method '\(m)' is not an HTTP method")
            }
            if let h = p["headers"], !h.isNull {
                guard let headers = h.objectValue else { throw fail("headers must be an object of strings") }
                for (name, value) in headers.sorted(by: { $0.key < $1.key }) {
                    guard let text = value.stringValue else { throw fail("headers.\(name) must be a string") }
                    if let problem = TemplateSyntax.problem(in: text) { throw fail("headers.\(name): \(problem)") }
                }
            }
            _ = try string("body", template: true)
            if let e = p["expected_status"], !e.isNull {
                let codes: [JSONValue] = e.arrayValue ?? [e]
                if codes.isEmpty { throw fail("expected_status is an empty list") }
                for code in codes {
                    guard case .int(let c) = code, (100...599).contains(c) else {
                        throw fail("expected_status must be an HTTP status (100...599) or a list of them")
                    }
                }
            }
            try number("timeout", minimum: 0, inclusive: false)
        case .extract:
            let regex = try string("regex")
            let path = try string("json_path")
            let field = try string("field")
            let ways = [regex, path, field].compactMap { $0 }.count
            if ways == 0 { throw fail("needs regex, json_path, or field (a field of parsed rows)") }
            if ways > 1 { throw fail("give one of regex, json_path and field") }
            if let field, !isVariableName(field) { throw fail("field '\(field)' is not a field name") }
            if let filter = try string("where") {
                do { _ = try FilterExpression.parse(filter) } catch let e as StoreError { throw fail("where '\(filter)': \(e.message)") }
            }
            try integer("row", in: 0...1_000_000)
            let variable = try string("variable")
            if let variable, !isVariableName(variable) { throw fail("variable '\(variable)' is not a name (letters, digits, _)") }
            if let regex {
                do { _ = try NSRegularExpression(pattern: regex) } catch { throw fail("regex '\(regex)' does not compile") }
                if namedGroups(in: regex).isEmpty && variable == nil {
                    throw fail("regex has no named group (?<name>...) and no variable is given")
                }
            }
            if let path {
                if let problem = JSONPathSyntax.problem(in: path) { throw fail("json_path '\(path)': \(problem)") }
                if variable == nil { throw fail("json_path needs a variable to store the value in") }
            }
            if let source = try string("source"), !(source == "previous" || isVariableName(source)) {
                throw fail("source must be previous or a payload variable name")
            }
        case .validate:
            if s.validation.isEmpty { throw fail("validation is missing (kind contains, regex or json, and a value)") }
            if let source = try string("source"), !(source == "previous" || isVariableName(source)) {
                throw fail("source must be previous or a payload variable name")
            }
        case .unix:
            _ = try string("command", required: true, template: true)
        case .wait:
            try number("seconds", required: true, minimum: 0)
        case .workflow:
            break
        }
        if s.kind == .cli {
            if let parse = try string("parse"), parse != "textfsm" { throw fail("parse must be textfsm") }
            if try string("template") != nil && p["parse"] == nil { throw fail("template needs parse: textfsm") }
        }
        if s.validation["kind"]?.stringValue == "rows" {
            try validateRowRules(s.validation, fail: fail)
        } else if !s.validation.isEmpty {
            guard let kind = s.validation["kind"]?.stringValue else { throw fail("validation.kind is missing (contains, regex, json or rows)") }
            guard ["contains", "regex", "json"].contains(kind) else { throw fail("validation kind '\(kind)' is not contains, regex, json or rows") }
            guard let value = s.validation["value"], !value.isNull else { throw fail("validation.value is missing") }
            for key in s.validation.keys.sorted() where !["kind", "value", "negate"].contains(key) {
                throw fail("validation.\(key) is not a validation field (kind, value, negate)")
            }
            if let negate = s.validation["negate"], negate.boolValue == nil { throw fail("validation.negate must be true or false") }
            switch kind {
            case "regex":
                guard let v = value.stringValue else { throw fail("validation.value must be a regular expression") }
                do { _ = try NSRegularExpression(pattern: v) } catch { throw fail("validation regex '\(v)' does not compile") }
            case "contains":
                guard value.stringValue != nil else { throw fail("validation.value must be a string") }
            default:
                if value.objectValue == nil {
                    guard let text = value.stringValue,
                          (try? JSONSerialization.jsonObject(with: Data(text.utf8))) is [String: Any] else {
                        throw fail("validation.value must be a JSON object (the keys and values expected in the result)")
                    }
                }
            }
        }
    }

    /// `{"kind": "rows", "every" | "some" | "none": FILTER}` or `{"kind": "rows", "count": ">= 3",
    /// "where": FILTER}`, with `negate`: checks on parsed rows, in the filter language of `--filter`.
    static func validateRowRules(_ rules: [String: JSONValue], fail: (String) -> StoreError) throws {
        for key in rules.keys.sorted() where !["kind", "every", "some", "none", "count", "where", "negate"].contains(key) {
            throw fail("validation.\(key) is not a rows validation field (every, some, none, count, where, negate)")
        }
        let quantifiers = ["every", "some", "none", "count"].filter { rules[$0] != nil }
        if quantifiers.count != 1 { throw fail("a rows validation needs exactly one of every, some, none and count") }
        for key in ["every", "some", "none", "where"] {
            guard let value = rules[key] else { continue }
            guard let text = value.stringValue else { throw fail("validation.\(key) must be a filter expression (e.g. status=up)") }
            do { _ = try FilterExpression.parse(text) } catch let e as StoreError { throw fail("validation.\(key) '\(text)': \(e.message)") }
        }
        if let count = rules["count"], RowCount(count) == nil {
            throw fail("validation.count must be a number or a comparison such as \">= 3\" or \"== 0\"")
        }
        if let negate = rules["negate"], negate.boolValue == nil { throw fail("validation.negate must be true or false") }
    }

    static func isVariableName(_ name: String) -> Bool {
        guard let first = name.first, first.isLetter || first == "_" else { return false }
        return name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" }
    }

    /// The named groups `(?<name>...)` of a regular expression, in order.
    public static func namedGroups(in pattern: String) -> [String] {
        var names: [String] = []
        let chars = Array(pattern)
        var i = 0
        var inClass = false
        while i < chars.count {
            let c = chars[i]
            if c == "\\" { i += 2; continue }
            if inClass { if c == "]" { inClass = false }; i += 1; continue }
            if c == "[" { inClass = true; i += 1; continue }
            if c == "(", i + 3 < chars.count, chars[i + 1] == "?", chars[i + 2] == "<", chars[i + 3] != "=", chars[i + 3] != "!" {
                var j = i + 3
                var name = ""
                while j < chars.count, chars[j] != ">" { name.append(chars[j]); j += 1 }
                if !name.isEmpty { names.append(name) }
                i = j
                continue
            }
            i += 1
        }
        return names
    }
}

/// Paths into JSON such as `a.b[0].c` (a leading `$.` is allowed).
public enum JSONPathSyntax {
    public enum Step: Equatable, Sendable {
        case key(String)
        case index(Int)
    }

    public static func parse(_ path: String) throws -> [Step] {
        var text = Substring(path.trimmingCharacters(in: .whitespaces))
        if text.hasPrefix("$") { text = text.dropFirst(); if text.hasPrefix(".") { text = text.dropFirst() } }
        var steps: [Step] = []
        var key = ""
        var i = text.startIndex
        func flushKey() { if !key.isEmpty { steps.append(.key(key)); key = "" } }
        while i < text.endIndex {
            let c = text[i]
            if c == "." {
                if key.isEmpty && (steps.isEmpty || text[text.index(before: i)] != "]") {
                    throw StoreError.invalid("empty name before '.'")
                }
                flushKey()
                i = text.index(after: i)
                if i == text.endIndex { throw StoreError.invalid("ends with '.'") }
            } else if c == "[" {
                flushKey()
                guard let close = text[i...].firstIndex(of: "]") else { throw StoreError.invalid("unclosed '['") }
                let inner = text[text.index(after: i)..<close]
                guard let n = Int(inner), n >= 0 else { throw StoreError.invalid("'[\(inner)]' is not an index (a whole number)") }
                steps.append(.index(n))
                i = text.index(after: close)
                if i < text.endIndex && text[i] != "." && text[i] != "[" { throw StoreError.invalid("expected '.' or '[' after ']'") }
            } else if c == "]" {
                throw StoreError.invalid("']' without '['")
            } else {
                key.append(c)
                i = text.index(after: i)
            }
        }
        flushKey()
        if steps.isEmpty { throw StoreError.invalid("empty path") }
        return steps
    }

    public static func problem(in path: String) -> String? {
        do { _ = try parse(path); return nil } catch let e as StoreError { return e.message } catch { return "\(error)" }
    }
}
