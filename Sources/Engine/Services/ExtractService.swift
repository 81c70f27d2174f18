import Foundation
import Store

/// `extract`: variables for later services, from the previous service's output (`source:
/// previous`, the default) or a payload variable (`source: NAME`). With `regex`, each named group
/// `(?<name>...)` of the first match becomes a variable (or, without named groups, the first
/// group or the whole match goes to `variable`); with `json_path` (`a.b[0].c`), the value found
/// goes to `variable`. No match fails the service.
struct ExtractService: ServiceKindRunner {
    func run(_ context: ServiceContext) async throws -> ServiceOutcome {
        let parameters = Parameters(context)
        if let field = parameters.string("field") {
            return try Self.extractField(field, context, parameters)
        }
        let text = try Self.source(context, parameters)
        var found: [String: JSONValue] = [:]
        if let pattern = parameters.string("regex") {
            let regex: NSRegularExpression
            do { regex = try RegexCache.regex(pattern) } catch {
                throw parameters.fail("regex '\(pattern)' does not compile")
            }
            guard let match = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) else {
                return ServiceOutcome(success: false, output: "no match for regex \(ResultValidation.quoted(pattern))\n")
            }
            let names = ServiceValidation.namedGroups(in: pattern)
            if names.isEmpty {
                guard let variable = parameters.string("variable") else { throw parameters.fail("regex has no named group and no variable is given") }
                let range = match.numberOfRanges > 1 ? match.range(at: 1) : match.range
                found[variable] = .string(Range(range, in: text).map { String(text[$0]) } ?? "")
            } else {
                for name in names {
                    let range = match.range(withName: name)
                    // A group that took no part in the match is an empty string: the variable exists.
                    found[name] = .string(range.location == NSNotFound ? "" : (Range(range, in: text).map { String(text[$0]) } ?? ""))
                }
            }
        } else if let path = parameters.string("json_path") {
            guard let variable = parameters.string("variable") else { throw parameters.fail("json_path needs a variable") }
            let steps: [JSONPathSyntax.Step]
            do { steps = try JSONPathSyntax.parse(path) } catch let e as StoreError { throw parameters.fail("json_path '\(path)': \(e.message)") }
            let document: JSONValue
            do { document = try ResultConversion.parse(text) } catch {
                return ServiceOutcome(success: false, output: "json_path \(path): \(error)\n")
            }
            guard let value = Self.follow(steps, in: document) else {
                return ServiceOutcome(success: false, output: "json_path \(path) matches nothing\n")
            }
            found[variable] = value
        } else {
            throw parameters.fail("needs regex or json_path")
        }
        let output = found.keys.sorted().map { "\($0) = \(found[$0]!.description)\n" }.joined()
        return ServiceOutcome(success: true, output: output, payload: found)
    }

    /// `field`: the field of a parsed row (the first matching `where`, or the one at index `row`)
    /// goes to `variable` (default: the field's name).
    static func extractField(_ field: String, _ context: ServiceContext, _ parameters: Parameters) throws -> ServiceOutcome {
        var rows = try Self.rows(context, parameters)
        if let filter = parameters.string("where") {
            let expression: FilterExpression
            do { expression = try FilterExpression.parse(filter) } catch let e as StoreError { throw parameters.fail("where '\(filter)': \(e.message)") }
            rows = rows.filter { OutputParser.matches($0, expression) }
        }
        let index = parameters.int("row") ?? 0
        guard rows.indices.contains(index) else {
            return ServiceOutcome(success: false, output: "no row \(index) \(parameters.string("where").map { "where \($0) " } ?? "")to take \(field) from (\(rows.count) rows)\n")
        }
        guard let value = rows[index][field.lowercased()] else {
            let known = rows[index].keys.sorted().joined(separator: ", ")
            return ServiceOutcome(success: false, output: "the rows have no field \(field) (fields: \(known))\n")
        }
        let variable = parameters.string("variable") ?? field.lowercased()
        return ServiceOutcome(success: true, output: "\(variable) = \(value.description)\n", payload: [variable: value])
    }

    /// Parsed rows: the payload's `rows` (set by the last service that parsed its output on this
    /// device), or the payload variable `source` names.
    static func rows(_ context: ServiceContext, _ parameters: Parameters) throws -> [[String: JSONValue]] {
        let source = parameters.string("source").flatMap { $0 == "previous" ? nil : $0 } ?? "rows"
        guard let value = context.payload[source] else {
            throw ServiceError("service '\(context.service.name)': no parsed rows in the payload ('\(source)'): an earlier cli service needs parse: textfsm")
        }
        guard let items = value.arrayValue else {
            throw ServiceError("service '\(context.service.name)': payload variable '\(source)' is not a list of rows")
        }
        return items.compactMap(\.objectValue)
    }

    static func source(_ context: ServiceContext, _ parameters: Parameters) throws -> String {
        let source = parameters.string("source") ?? "previous"
        if source == "previous" {
            guard let previous = context.previousOutput else {
                throw ServiceError("service '\(context.service.name)': there is no previous output to read (source: previous)")
            }
            return previous
        }
        guard let value = context.payload[source] else {
            throw ServiceError("service '\(context.service.name)': the payload has no variable '\(source)'")
        }
        return value.description
    }

    static func follow(_ steps: [JSONPathSyntax.Step], in value: JSONValue) -> JSONValue? {
        var current = value
        for step in steps {
            switch (step, current) {
            case (.key(let k), .object(let o)):
                guard let next = o[k] else { return nil }
                current = next
            case (.index(let i), .array(let a)):
                guard a.indices.contains(i) else { return nil }
                current = a[i]
            default:
                return nil
            }
        }
        return current
    }
}
