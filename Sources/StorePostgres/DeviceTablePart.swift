import Foundation
import Store

/// One part of the device table as PostgreSQL sends it (`PostgresExecutor.deviceTable`): a text of
/// records (0x1e) of fields (0x1f), in name order, split into the values the table shows.
struct DeviceTablePart {
    /// Each device's values in `DeviceTable.fields` order, in name order (the name is field 1).
    var values: [[String]] = []
    /// The devices with custom properties: index into `values`, ascending.
    var custom: [(row: Int, properties: [String: JSONValue])] = []
    /// Every custom property name seen.
    var keys: Set<String> = []

    /// Nil when the text does not hold exactly `devices` records of every field each: a value held
    /// a separator, and the split cannot be trusted.
    init?(text: String, devices: Int, wanted: MemberSet?, date: (Date) -> String) {
        let kinds = DeviceTable.columns.map(\.kind)
        var text = text
        var records = 0
        var whole = true
        var values: [[String]] = [], custom: [(row: Int, properties: [String: JSONValue])] = [], keys: Set<String> = []
        values.reserveCapacity(devices)
        text.withUTF8 { buf in
            let n = buf.count
            var i = 0
            var row: [String] = []
            row.reserveCapacity(kinds.count + 1)
            var start = 0
            func finishRow() {
                defer { row.removeAll(keepingCapacity: true) }
                records += 1
                guard row.count == kinds.count + 1 else { whole = false; return }
                if let wanted, let id = Int64(row[0]), !wanted.contains(id) { return }
                var v = Array(row.prefix(kinds.count))
                for (k, kind) in kinds.enumerated() where kind == .date && !v[k].isEmpty {
                    v[k] = Double(v[k]).map { date(Date(timeIntervalSince1970: $0)) } ?? ""
                }
                if !row[kinds.count].isEmpty, let props = DeviceTable.customProperties(json: row[kinds.count]) {
                    keys.formUnion(props.keys)
                    custom.append((values.count, props))
                }
                values.append(v)
            }
            while i <= n && whole {
                let b: UInt8 = i < n ? buf[i] : 0x1e
                if b == 0x1f || b == 0x1e {
                    row.append(String(decoding: UnsafeBufferPointer(rebasing: buf[start..<i]), as: UTF8.self))
                    start = i + 1
                    if b == 0x1e { finishRow() }
                }
                i += 1
            }
        }
        guard whole && records == devices else { return nil }
        self.values = values; self.custom = custom; self.keys = keys
    }

    /// The parts' rows in one name order (byte order, as PostgreSQL's `COLLATE "C"` and SQLite sort),
    /// with the custom properties' indexes following their rows.
    static func merge(_ parts: [DeviceTablePart]) -> (values: [[String]], custom: [(row: Int, properties: [String: JSONValue])]) {
        if parts.count == 1 { return (parts[0].values, parts[0].custom) }
        var values: [[String]] = []
        values.reserveCapacity(parts.reduce(0) { $0 + $1.values.count })
        var custom: [(row: Int, properties: [String: JSONValue])] = []
        var next = [Int](repeating: 0, count: parts.count)
        var nextCustom = [Int](repeating: 0, count: parts.count)
        while true {
            var best = -1
            for p in parts.indices where next[p] < parts[p].values.count {
                if best < 0 || parts[p].values[next[p]][1].utf8.lexicographicallyPrecedes(parts[best].values[next[best]][1].utf8) { best = p }
            }
            if best < 0 { break }
            let row = next[best]
            if nextCustom[best] < parts[best].custom.count, parts[best].custom[nextCustom[best]].row == row {
                custom.append((values.count, parts[best].custom[nextCustom[best]].properties))
                nextCustom[best] += 1
            }
            values.append(parts[best].values[row])
            next[best] += 1
        }
        return (values, custom)
    }
}
