import Foundation

/// Parsed output (`parse: textfsm`): rows as objects with lower-case keys, and the columns in the
/// template's order (objects do not keep an order; tables should).
public struct ParsedRows: Codable, Sendable, Equatable {
    public var columns: [String]
    public var rows: [[String: JSONValue]]

    public init(columns: [String] = [], rows: [[String: JSONValue]] = []) {
        self.columns = columns
        self.rows = rows
    }

    /// Adds another command's rows; its new columns go after the ones known.
    public mutating func append(_ other: ParsedRows) {
        for column in other.columns where !columns.contains(column) { columns.append(column) }
        rows += other.rows
    }

    /// The JSON stored in a result's `rows` column.
    public var encoded: String {
        String(decoding: (try? JSONEncoder.sorted.encode(self)) ?? Data("{}".utf8), as: UTF8.self)
    }

    public static func decode(_ text: String?) -> ParsedRows? {
        guard let text, let data = text.data(using: .utf8) else { return nil }
        return try? JSONDecoder().decode(ParsedRows.self, from: data)
    }

    /// A row field as text: lists joined with ", ", null as empty.
    public static func text(_ value: JSONValue?) -> String {
        switch value {
        case .string(let s)?: return s
        case .array(let items)?: return items.map { text($0) }.joined(separator: ", ")
        case .null?, nil: return ""
        case let other?: return other.description
        }
    }

    /// One table across the results of a run: a `device` column (and `service` when several services
    /// parsed), then every field in the order first seen; results without rows are left out.
    public static func table(_ results: [RunResult]) -> (columns: [String], rows: [[String: JSONValue]]) {
        let parsed = results.compactMap { r in decode(r.rows).map { (r, $0) } }
        let services = Set(parsed.map(\.0.serviceName))
        var columns = ["device"] + (services.count > 1 ? ["service"] : [])
        var rows: [[String: JSONValue]] = []
        for (result, p) in parsed {
            for column in p.columns where !columns.contains(column) { columns.append(column) }
            for row in p.rows {
                var r = row
                r["device"] = .string(result.deviceName)
                if services.count > 1 { r["service"] = .string(result.serviceName) }
                rows.append(r)
            }
        }
        return (columns, rows)
    }
}
