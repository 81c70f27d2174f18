import Foundation

/// The device table as the console shows it: every device (or a pool's) as text values, read
/// column by column straight off one SQLite statement. No `Device` records and no `Row`
/// subscripts: at 80,000 devices those were most of the console's start time (bench/console:
/// first frame ≤ 300 ms).
public enum DeviceTable {
    public enum Kind: Sendable { case text, integer, date, yesNo }

    /// The built-in fields, each read as the column of the same name: the one list both the query
    /// and the values follow.
    public static let columns: [(name: String, kind: Kind)] = [
        ("id", .integer), ("name", .text), ("address", .text), ("port", .integer), ("platform", .text),
        ("vendor", .text), ("model", .text), ("os_version", .text), ("category", .text), ("location", .text),
        ("description", .text), ("jump", .text), ("last_run_status", .text), ("last_run_time", .date),
        ("last_backup_status", .text), ("last_backup_time", .date), ("reachable", .yesNo),
        ("last_reachability_time", .date),
    ]

    /// The built-in fields, in value order; custom properties follow them, sorted.
    public static let fields: [String] = columns.map(\.name)

    /// Aliases a filter may use for a built-in field.
    public static let aliases = ["ip_address": "address", "operating_system": "platform"]

    /// Reads the devices, ordered by name, of the pool (nil: all). `properties` are the custom
    /// properties always present as fields (declared in properties.json); others appear when a
    /// device has them. `date` formats the date fields; `make` builds one row from the device's
    /// name and its values in `fields` order. Each backend reads them its own compact way
    /// (`ConsoleStoreReader.deviceTable`): SQLite column by column off one statement, PostgreSQL
    /// as one text value.
    public static func read<Row>(_ backend: any StoreBackend, pool: String?, properties: [String],
                                 date: (Date) -> String,
                                 make: (_ id: String, _ values: [String]) -> Row) throws -> (fields: [String], rows: [Row]) {
        try backend.query { r in try r.deviceTable(pool: pool, properties: properties, date: date, make: make) }
    }

    /// The rows with their custom properties as trailing fields: `custom` holds the rows that have
    /// some (index into `values`), `keys` every property name seen (and the declared ones).
    public static func assemble<Row>(values: [[String]], ids: [String], custom: [(row: Int, properties: [String: JSONValue])],
                                     keys: Set<String>, make: (_ id: String, _ values: [String]) -> Row) -> (fields: [String], rows: [Row]) {
        var values = values
        let extra = keys.subtracting(fields).sorted()
        if !extra.isEmpty {
            for i in values.indices { values[i].append(contentsOf: repeatElement("", count: extra.count)) }
            let base = fields.count
            for (i, props) in custom {
                for (k, p) in extra.enumerated() { if let v = props[p] { values[i][base + k] = v.description } }
            }
        }
        var rows: [Row] = []
        rows.reserveCapacity(values.count)
        for i in values.indices { rows.append(make(ids[i], values[i])) }
        return (fields + extra, rows)
    }

    /// A device's custom properties as stored (a JSON object), nil when it has none.
    public static func customProperties(json: String) -> [String: JSONValue]? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any], !object.isEmpty else { return nil }
        return object.mapValues { JSONValue(any: $0) }
    }
}
