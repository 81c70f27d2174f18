import Foundation
import Store

/// A run's parsed rows (`P` on a run, or in a run's results): one table across its results
/// (`ParsedRows.table`: `device`, `service` when several services parsed, then the template's
/// fields). Its columns come with the data; `x` exports the rows shown as CSV or JSON.
enum ParsedTable {
    static let descriptor = TableDescriptor(
        kind: .parsed, title: "parsed rows", noun: "parsed row",
        columns: [], numericFields: [],
        load: { load in
            guard case .run(let id)? = load.scope else {
                return TableData(kind: .parsed, fields: [], searchable: [], rows: [])
            }
            let t = try load.store.parsedRows(run: id)
            // With no rows, no columns either (the table says there is nothing parsed).
            let columns = t.rows.isEmpty ? [] : t.columns
            let rows = t.rows.enumerated().map { TableRow(id: String($0.offset + 1), values: $0.element) }
            return TableData(kind: .parsed, fields: columns, searchable: columns, rows: rows)
        },
        browse: [TableAction(.ssh, "ssh"), TableAction(.sshAs, nil), TableAction(.export, "export")],
        device: { row, table in
            let d = table.value(row, "device")
            return d.isEmpty ? nil : d
        },
        emptyText: { scope in
            if case .run(let id)? = scope {
                return "run \(id) has no parsed rows (its services do not parse their output: \"parse\": \"textfsm\")"
            }
            return "no parsed rows"
        },
        dynamicColumns: true)

    /// The columns of loaded data: one per field, as wide as its title or values (within bounds).
    static func columns(for data: TableData) -> [DeviceProperties.Column] {
        data.fields.enumerated().map { i, field in
            var width = TextWidth.of(field)
            for row in data.rows.prefix(500) where i < row.values.count { width = max(width, TextWidth.of(row.values[i])) }
            return DeviceProperties.Column(property: field, title: field.replacingOccurrences(of: "_", with: " ").capitalized,
                                           width: min(max(width, 4), 40))
        }
    }

    /// The rows shown (marked ones only, when some are), in view order, as CSV or JSON.
    static func export(_ state: TableState, json: Bool) -> String {
        guard let data = state.data else { return "" }
        var rows = state.visible.map { data.rows[Int($0)] }
        if !state.marked.isEmpty { rows = rows.filter { state.marked.contains($0.id) } }
        if json {
            let objects: [[String: String]] = rows.map { r in
                Dictionary(zip(data.fields, r.values).map { ($0, $1) }, uniquingKeysWith: { a, _ in a })
            }
            // Keys in the table's order: written by hand rather than by JSONSerialization, which sorts or shuffles.
            var out = "[\n"
            for (n, o) in objects.enumerated() {
                out += "  {" + data.fields.map { "\(jsonString($0)): \(jsonString(o[$0] ?? ""))" }.joined(separator: ", ") + "}"
                out += n == objects.count - 1 ? "\n" : ",\n"
            }
            return out + "]\n"
        }
        var out = data.fields.map(csvField).joined(separator: ",") + "\n"
        for r in rows { out += r.values.map(csvField).joined(separator: ",") + "\n" }
        return out
    }

    static func csvField(_ s: String) -> String {
        // A leading =, +, -, @ would be a formula in a spreadsheet: quoted with a ' first.
        var v = s
        if let f = v.first, "=+-@".contains(f), Double(v) == nil { v = "'" + v }
        if v.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) || v != s {
            return "\"" + v.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return v
    }

    static func jsonString(_ s: String) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        let data = (try? encoder.encode(s)) ?? Data("\"\"".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
