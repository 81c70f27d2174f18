import Foundation
import Store

/// One part of the device table as PostgreSQL sends it (`PostgresExecutor.deviceTable`): a text of
/// records (0x1e) of fields (0x1f), in name order, split into the values the table shows.
struct DeviceTablePart {
    /// Each device's values in `DeviceTable.fields` order then `extra`'s, in name order (the name is field 1).
    var values: [[String]] = []
    /// The devices with custom properties: index into `values`, ascending.
    var custom: [(row: Int, properties: [String: JSONValue])] = []
    /// Every custom property name seen.
    var keys: Set<String> = []

    /// Nil when the text does not hold exactly `devices` records of every field each: a value held
    /// a separator, and the split cannot be trusted. `extra`: custom properties whose values follow
    /// the built-in ones in every row (the declared ones, sorted), so that the rows need no second pass
    /// when no device has others.
    init?(text: String, devices: Int, wanted: MemberSet?, extra: [String] = [], date: (Date) -> String) {
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
                var v: [String] = []
                v.reserveCapacity(kinds.count + extra.count)
                v.append(contentsOf: row.prefix(kinds.count))
                for (k, kind) in kinds.enumerated() where kind == .date && !v[k].isEmpty {
                    v[k] = Double(v[k]).map { date(Date(timeIntervalSince1970: $0)) } ?? ""
                }
                if !row[kinds.count].isEmpty, let props = DeviceTable.customProperties(json: row[kinds.count]) {
                    keys.formUnion(props.keys)
                    custom.append((values.count, props))
                    for p in extra { v.append(props[p]?.description ?? "") }
                } else {
                    v.append(contentsOf: repeatElement("", count: extra.count))
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

    /// The parts' rows in one name order (byte order, as PostgreSQL's `COLLATE "C"` and SQLite sort):
    /// each as its part and its index there. Each part is in name order already: a merge through a
    /// heap of the parts' next rows, names compared with `memcmp` (80,000 rows from 8 parts: a few
    /// milliseconds; a scan of every part per row, comparing `utf8` views, took ~30 ms of the first frame).
    static func mergeOrder(_ parts: [DeviceTablePart]) -> [(part: Int, row: Int)] {
        if parts.count == 1 { return parts[0].values.indices.map { (0, $0) } }
        let names: [[String]] = parts.map { $0.values.map { $0[1] } }
        var order: [(part: Int, row: Int)] = []
        order.reserveCapacity(names.reduce(0) { $0 + $1.count })
        var next = [Int](repeating: 0, count: parts.count)
        var heap = names.indices.filter { !names[$0].isEmpty }
        func less(_ p: Int, _ q: Int) -> Bool {
            let a = names[p][next[p]], b = names[q][next[q]]
            let ordered = bytesPrecede(a, b)
            return ordered || (!bytesPrecede(b, a) && p < q)
        }
        func siftDown(_ start: Int) {
            var i = start
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < heap.count && less(heap[l], heap[m]) { m = l }
                if r < heap.count && less(heap[r], heap[m]) { m = r }
                if m == i { return }
                heap.swapAt(i, m)
                i = m
            }
        }
        for i in stride(from: heap.count / 2 - 1, through: 0, by: -1) { siftDown(i) }
        while let p = heap.first {
            order.append((p, next[p]))
            next[p] += 1
            if next[p] == names[p].count {
                let last = heap.removeLast()
                if heap.isEmpty { break }
                heap[0] = last
            }
            siftDown(0)
        }
        return order
    }

    /// Whether `a` sorts before `b` in byte order (UTF-8, shorter first on a common prefix).
    static func bytesPrecede(_ a: String, _ b: String) -> Bool {
        var a = a, b = b
        return a.withUTF8 { pa in
            b.withUTF8 { pb in
                let n = min(pa.count, pb.count)
                let c = n == 0 ? 0 : memcmp(pa.baseAddress!, pb.baseAddress!, n)
                return c != 0 ? c < 0 : pa.count < pb.count
            }
        }
    }

    /// The built-in values in `order` (without `extra`'s), with the custom properties' indexes following their rows.
    static func merge(_ parts: [DeviceTablePart], order: [(part: Int, row: Int)])
        -> (values: [[String]], custom: [(row: Int, properties: [String: JSONValue])]) {
        var values: [[String]] = []
        values.reserveCapacity(order.count)
        var custom: [(row: Int, properties: [String: JSONValue])] = []
        var nextCustom = [Int](repeating: 0, count: parts.count)
        for (p, row) in order {
            if nextCustom[p] < parts[p].custom.count, parts[p].custom[nextCustom[p]].row == row {
                custom.append((values.count, parts[p].custom[nextCustom[p]].properties))
                nextCustom[p] += 1
            }
            values.append(Array(parts[p].values[row].prefix(DeviceTable.columns.count)))
        }
        return (values, custom)
    }
}
