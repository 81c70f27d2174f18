import Foundation
import GRDB
import GRDBSQLite

/// The device table as the console shows it: every device (or a pool's) as text values, read
/// column by column straight off one SQLite statement. No `Device` records and no `Row`
/// subscripts: at 80,000 devices those were most of the console's start time (bench/console:
/// first frame ≤ 300 ms).
public enum DeviceTable {
    enum Kind { case text, integer, date, yesNo }

    /// The built-in fields, each read as the column of the same name: the one list both the query
    /// and the values follow.
    static let columns: [(name: String, kind: Kind)] = [
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
    /// name and its values in `fields` order.
    public static func read<Row>(_ database: AppDatabase, pool: String?, properties: [String],
                                 date: (Date) -> String,
                                 make: (_ id: String, _ values: [String]) -> Row) throws -> (fields: [String], rows: [Row]) {
        try database.writer.read { db in
            var wanted: MemberSet?
            if let pool {
                guard let id = try Int64.fetchOne(db, sql: "SELECT id FROM pool WHERE name = ?", arguments: [pool]) else {
                    throw StoreError.notFound("no pool named '\(pool)'")
                }
                wanted = MemberSet(try PoolMembership.memberIds(db, poolId: id))
            }
            let statement = try db.makeStatement(sql: "SELECT " + fields.joined(separator: ", ") + ", properties FROM device ORDER BY name")
            let cursor = try GRDB.Row.fetchCursor(statement)
            let raw = statement.sqliteStatement
            func text(_ i: Int32) -> String {
                guard let p = sqlite3_column_text(raw, i) else { return "" }
                return String(decoding: UnsafeBufferPointer(start: p, count: Int(sqlite3_column_bytes(raw, i))), as: UTF8.self)
            }
            let kinds = columns.map(\.kind)
            let propertiesColumn = Int32(kinds.count)
            var values: [[String]] = []
            var ids: [String] = []
            values.reserveCapacity(wanted?.count ?? 1024)
            var custom: [(row: Int, properties: [String: JSONValue])] = []
            var keys = Set(properties)
            while try cursor.next() != nil {
                if let wanted, !wanted.contains(sqlite3_column_int64(raw, 0)) { continue }
                var v: [String] = []
                v.reserveCapacity(kinds.count)
                for (i, kind) in kinds.enumerated() {
                    let c = Int32(i)
                    switch kind {
                    case .text: v.append(text(c))
                    case .integer: v.append(String(sqlite3_column_int64(raw, c)))
                    case .date:
                        if sqlite3_column_type(raw, c) == SQLITE_NULL { v.append("") }
                        else { v.append(Date.fromDatabaseValue(DatabaseValue(sqliteStatement: raw, index: c)).map(date) ?? "") }
                    case .yesNo:
                        v.append(sqlite3_column_type(raw, c) == SQLITE_NULL ? "" : (sqlite3_column_int64(raw, c) != 0 ? "yes" : "no"))
                    }
                }
                if sqlite3_column_bytes(raw, propertiesColumn) > 2 {
                    let json = text(propertiesColumn)
                    if let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any], !object.isEmpty {
                        let props = object.mapValues { JSONValue(any: $0) }
                        keys.formUnion(props.keys)
                        custom.append((values.count, props))
                    }
                }
                ids.append(v[1])
                values.append(v)
            }
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
    }
}
