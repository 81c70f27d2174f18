import Foundation
import Yams

/// Reads YAML into plain values, keeping each record's line for error messages.
/// Tags are honoured the way eNMS's exporter writes them (`"port": !!int "22"`); tags Python adds
/// (`!!python/tuple`) are read as plain sequences.
enum YAMLRecords {
    struct Record {
        var line: Int
        var fields: [String: JSONValue]
    }

    static func compose(_ text: String, file: String) throws -> Node? {
        do {
            // The basic resolver leaves plain scalars as text; `value(_:)` types them itself, without
            // the regular expressions Yams's default resolver runs on every scalar.
            return try Yams.compose(yaml: text, .basic)
        } catch let error as YamlError {
            throw importError(SourceLocation(file: file, line: line(of: error)), "YAML syntax error: \(summary(of: error))")
        } catch {
            throw importError(SourceLocation(file: file), "cannot read YAML: \(error)")
        }
    }

    /// A top-level sequence of mappings; anything else is an error naming the line.
    static func records(_ text: String, file: String) throws -> [Record] {
        guard let root = try compose(text, file: file) else { return [] }
        guard case .sequence(let seq) = root else {
            throw importError(SourceLocation(file: file, line: root.mark?.line), "expected a list of records at the top level")
        }
        var out: [Record] = []
        out.reserveCapacity(seq.count)
        for item in seq {
            guard case .mapping(let map) = item else {
                throw importError(SourceLocation(file: file, line: item.mark?.line), "expected a record (a mapping of fields)")
            }
            var fields: [String: JSONValue] = [:]
            for (k, v) in map {
                guard case .scalar(let key) = k else { continue }
                fields[key.string] = value(v)
            }
            out.append(Record(line: item.mark?.line ?? 0, fields: fields))
        }
        return out
    }

    static func value(_ node: Node) -> JSONValue {
        switch node {
        case .scalar(let s):
            let tag = node.tag.rawValue
            switch tag {
            case "tag:yaml.org,2002:int":
                if let i = Int(s.string) { return .int(i) }
                if let i = Int(s.string.replacingOccurrences(of: "_", with: "")) { return .int(i) }
                return .string(s.string)
            case "tag:yaml.org,2002:float":
                if let d = Double(s.string) { return .double(d) }
                return .string(s.string)
            case "tag:yaml.org,2002:bool":
                switch s.string.lowercased() {
                case "true", "yes", "on", "y": return .bool(true)
                case "false", "no", "off", "n": return .bool(false)
                default: return .string(s.string)
                }
            case "tag:yaml.org,2002:null":
                return .null
            case "tag:yaml.org,2002:str" where s.style == .plain:
                return plain(s.string)
            default:
                return .string(s.string)
            }
        case .sequence(let seq):
            return .array(seq.map(value))
        case .mapping(let map):
            var o: [String: JSONValue] = [:]
            for (k, v) in map {
                if case .scalar(let key) = k { o[key.string] = value(v) }
            }
            return .object(o)
        case .alias:
            return .null
        }
    }

    /// YAML 1.1 core-schema typing of an unquoted scalar (what PyYAML, and so eNMS, writes and reads).
    static func plain(_ text: String) -> JSONValue {
        guard let first = text.utf8.first else { return .null }
        switch first {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."):
            if let i = Int(text) { return .int(i) }
            if text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }), let d = Double(text), !text.hasPrefix("."), d.isFinite { return .double(d) }
            switch text.lowercased() {
            case ".inf", "+.inf": return .double(.infinity)
            case "-.inf": return .double(-.infinity)
            case ".nan": return .double(.nan)
            default: return .string(text)
            }
        case UInt8(ascii: "~"):
            return text == "~" ? .null : .string(text)
        case UInt8(ascii: "n"), UInt8(ascii: "N"):
            if text == "null" || text == "Null" || text == "NULL" { return .null }
            if ["no", "No", "NO"].contains(text) { return .bool(false) }
            return .string(text)
        case UInt8(ascii: "t"), UInt8(ascii: "T"), UInt8(ascii: "f"), UInt8(ascii: "F"), UInt8(ascii: "y"), UInt8(ascii: "Y"), UInt8(ascii: "o"), UInt8(ascii: "O"):
            // PyYAML's booleans (YAML 1.1 without y/n).
            switch text {
            case "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON": return .bool(true)
            case "false", "False", "FALSE", "off", "Off", "OFF": return .bool(false)
            default: return .string(text)
            }
        default:
            return .string(text)
        }
    }

    static func line(of error: YamlError) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
            return mark.line
        default:
            return nil
        }
    }

    static func summary(of error: YamlError) -> String {
        switch error {
        case .scanner(let ctx, let problem, _, _), .parser(let ctx, let problem, _, _), .composer(let ctx, let problem, _, _):
            if let ctx { return "\(problem) (\(ctx.text))" }
            return problem
        default:
            return String(describing: error).components(separatedBy: "\n").first ?? "\(error)"
        }
    }
}
