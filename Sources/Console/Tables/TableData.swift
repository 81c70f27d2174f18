import Foundation
import Store

/// One row: its identity (the record's name, or id for runs, results, sessions and snapshots) and
/// its field values as text, in the order of `TableData.fields`.
public struct TableRow: Sendable, Equatable {
    public var id: String
    public var values: [String]
    public init(id: String, values: [String]) { self.id = id; self.values = values }
}

/// A loaded table: plain rows of text, built on a background thread, read by the view.
/// Designed for 80,000 rows: a compact lower-cased search text per row for the filter, and no
/// per-frame work beyond the visible window.
public struct TableData: Sendable, Equatable {
    public var kind: TableKind
    /// Every field a filter may name (columns, custom properties), in value order.
    public private(set) var fields: [String]
    public private(set) var fieldIndex: [String: Int]
    public private(set) var rows: [TableRow]
    /// Fields a bare filter term searches.
    public private(set) var searchable: [Int]
    /// The search text and the digest (`TableSearchIndex`): built off the thread that made the table,
    /// and waited for only by what needs it (a filter term, a comparison with another table).
    private let index: TableSearchIndex
    /// A digest of every row, computed off the input thread: a refresh that brings back the same
    /// rows is recognised without comparing 80,000 rows on the main thread.
    public var digest: Int { index.built.digest }

    public init(kind: TableKind, fields: [String], aliases: [String: String] = [:], searchable: [String],
                rows: [TableRow]) {
        self.kind = kind
        self.fields = fields
        var positions: [String: Int] = [:]
        for (i, f) in fields.enumerated() where positions[f] == nil { positions[f] = i }
        for (alias, target) in aliases { if let i = positions[target] { positions[alias] = i } }
        fieldIndex = positions
        self.rows = rows
        let searchable = searchable.compactMap { positions[$0] }
        self.searchable = searchable
        // A large table's index (a third of the load at 80,000 rows) is built in the background:
        // the first frame needs only the rows and their order, so it is drawn meanwhile; a filter
        // or a refresh that compares tables waits for it (`TableSearchIndex.built`).
        self.index = TableSearchIndex(background: rows.count >= 20_000) { TableData.build(rows, fields: fields, searchable: searchable) }
    }

    /// Waits until the search text and digest are built (a load that will be compared on the input
    /// thread calls this first, so that the comparison there does not wait).
    public func waitForIndex() { _ = index.built }

    /// The search text and the digest of `rows`, in two halves at once when large.
    private static func build(_ rows: [TableRow], fields: [String], searchable: [Int]) -> TableSearchIndex.Built {
        let parts = rows.count >= 20_000 ? 2 : 1
        let chunk = (rows.count + parts - 1) / max(1, parts)
        // Each iteration writes only its own slot of this buffer (no shared Swift array, so no
        // exclusivity conflict between the threads).
        let slots = Slots(UnsafeMutableBufferPointer<(hay: [UInt8], offsets: [Int32], digest: Int)>.allocate(capacity: parts))
        slots.buffer.initialize(repeating: ([], [], 0))
        defer { slots.buffer.deinitialize(); slots.buffer.deallocate() }
        DispatchQueue.concurrentPerform(iterations: parts) { part in
            let range = (part * chunk)..<min(rows.count, (part + 1) * chunk)
            slots.buffer[part] = TableData.index(rows[range], searchable: searchable)
        }
        let built = Array(slots.buffer)
        var hay: [UInt8] = []
        var offs: [Int32] = [0]
        hay.reserveCapacity(built.reduce(0) { $0 + $1.hay.count })
        offs.reserveCapacity(rows.count + 1)
        var hasher = Hasher()
        hasher.combine(fields)
        for p in built {
            let base = Int32(hay.count)
            hay.append(contentsOf: p.hay)
            offs.append(contentsOf: p.offsets.map { $0 + base })
            hasher.combine(p.digest)
        }
        return TableSearchIndex.Built(haystack: hay, offsets: offs, digest: hasher.finalize())
    }

    /// The lower-cased search text of some rows (end offsets relative to its start) and their digest.
    private static func index(_ rows: ArraySlice<TableRow>, searchable: [Int]) -> (hay: [UInt8], offsets: [Int32], digest: Int) {
        var hay: [UInt8] = []
        var offs: [Int32] = []
        hay.reserveCapacity(rows.count * 48)
        offs.reserveCapacity(rows.count)
        var hasher = Hasher()
        for row in rows {
            hasher.combine(row.id)
            hasher.combine(row.values)
            for i in searchable {
                let v = row.values[i]
                if Sanitizer.isPlainASCII(v) {
                    for b in v.utf8 { hay.append(b >= 65 && b <= 90 ? b + 32 : b) }
                } else {
                    hay.append(contentsOf: v.lowercased().utf8)
                }
                hay.append(1)
            }
            offs.append(Int32(hay.count))
        }
        return (hay, offs, hasher.finalize())
    }

    public var count: Int { rows.count }

    /// The value of a field of a row, "" for an unknown field.
    public func value(_ row: Int, _ field: String) -> String {
        guard let i = fieldIndex[field], i < rows[row].values.count else { return "" }
        return rows[row].values[i]
    }

    /// The search text, once built (waits for it).
    var searchIndex: TableSearchIndex.Built { index.built }

    /// Whether the lower-cased search text of a row contains `needle` (lower-cased UTF-8).
    func searchText(_ row: Int, contains needle: [UInt8]) -> Bool { searchIndex.contains(row, needle) }

    public static func == (a: TableData, b: TableData) -> Bool {
        a.kind == b.kind && a.rows.count == b.rows.count && a.fields == b.fields && a.digest == b.digest
    }
}

/// A table's lower-cased searchable values (fields separated by 0x01, rows by offsets) and the digest
/// of its rows: built at once, or on a thread of its own for a large table, and waited for by the
/// first reader that needs it.
final class TableSearchIndex: @unchecked Sendable {
    struct Built: Sendable {
        var haystack: [UInt8]
        var offsets: [Int32]
        var digest: Int

        /// Whether the search text of `row` contains `needle` (lower-cased UTF-8).
        func contains(_ row: Int, _ needle: [UInt8]) -> Bool {
            if needle.isEmpty { return true }
            let start = Int(offsets[row]), end = Int(offsets[row + 1])
            let n = needle.count
            if end - start < n { return false }
            let first = needle[0]
            return haystack.withUnsafeBufferPointer { h in
                needle.withUnsafeBufferPointer { nd in
                    var i = start
                    let last = end - n
                    while i <= last {
                        if h[i] == first {
                            var j = 1
                            while j < n && h[i + j] == nd[j] { j += 1 }
                            if j == n { return true }
                        }
                        i += 1
                    }
                    return false
                }
            }
        }
    }

    private let condition = NSCondition()
    private var value: Built?

    init(background: Bool, build: @escaping @Sendable () -> Built) {
        if background {
            DispatchQueue.global(qos: .userInitiated).async { [self] in
                let built = build()
                condition.lock(); value = built; condition.broadcast(); condition.unlock()
            }
        } else {
            value = build()
        }
    }

    /// The index; waits while it is being built.
    var built: Built {
        condition.lock(); defer { condition.unlock() }
        while value == nil { condition.wait() }
        return value!
    }
}

/// A filter expression compiled against one table's fields.
public struct CompiledFilter: @unchecked Sendable {
    enum Term {
        case contains([UInt8], negated: Bool)
        case equals(Int, String, negated: Bool)
        case regex(Int, Pattern, negated: Bool)
    }
    let terms: [Term]
    public let expression: FilterExpression

    /// Compiles; an unknown field is an error naming it and the known ones, as on the CLI.
    public init(_ expression: FilterExpression, for data: TableData) throws {
        self.expression = expression
        var out: [Term] = []
        for t in expression.terms {
            switch (t.field, t.op) {
            case (nil, _), (_, .contains):
                out.append(.contains(Array(t.value.lowercased().utf8), negated: t.negated))
            case (let f?, .equals):
                guard let i = data.fieldIndex[f] else { throw CompiledFilter.unknown(f, data) }
                out.append(.equals(i, t.value.lowercased(), negated: t.negated))
            case (let f?, .regex):
                guard let i = data.fieldIndex[f] else { throw CompiledFilter.unknown(f, data) }
                out.append(.regex(i, try Pattern(t.value), negated: t.negated))
            }
        }
        terms = out
    }

    static func unknown(_ field: String, _ data: TableData) -> StoreError {
        StoreError.invalid("filter: unknown \(data.kind.noun) field '\(Sanitizer.inert(field))' (fields: \(data.fields.joined(separator: ", ")))")
    }

    public func matches(_ data: TableData, _ row: Int) -> Bool {
        matches(data, row, index: needsIndex ? data.searchIndex : nil)
    }

    /// Whether a term searches the search text (only then is the table's index waited for).
    var needsIndex: Bool {
        terms.contains { if case .contains = $0 { return true } else { return false } }
    }

    /// `matches`, with the table's search text already in hand (`index`: nil when no term needs it).
    func matches(_ data: TableData, _ row: Int, index: TableSearchIndex.Built?) -> Bool {
        for t in terms {
            let hit: Bool, negated: Bool
            switch t {
            case .contains(let needle, let n):
                hit = index!.contains(row, needle); negated = n
            case .equals(let i, let v, let n):
                let value = data.rows[row].values[i]
                hit = value.lowercased() == v
                negated = n
            case .regex(let i, let p, let n):
                hit = p.matches(data.rows[row].values[i]); negated = n
            }
            if hit == negated { return false }
        }
        return true
    }

    /// Whether every row `next` keeps is also kept by `self`, so `next` need only look at the
    /// rows `self` kept: the filter is being typed one more character at a time.
    public func isRefined(by next: FilterExpression) -> Bool {
        let old = expression.terms, new = next.terms
        if old.isEmpty { return true }
        guard new.count >= old.count else { return false }
        for i in 0..<(old.count - 1) where old[i] != new[i] { return false }
        let a = old[old.count - 1], b = new[old.count - 1]
        if a == b { return true }
        return a.field == nil && b.field == nil && !a.negated && !b.negated
            && b.value.lowercased().contains(a.value.lowercased())
    }
}

/// How a table is ordered.
public struct SortOrder: Sendable, Equatable, Hashable {
    public var field: String
    public var ascending: Bool
    public init(field: String, ascending: Bool = true) { self.field = field; self.ascending = ascending }
}

extension TableData {
    /// Row indexes in sort order (ties broken by identity, so the order is stable across refreshes).
    public func sortedOrder(_ sort: SortOrder?) -> [Int32] {
        var order = (0..<Int32(rows.count)).map { $0 }
        guard let sort, let fi = fieldIndex[sort.field] else { return order }
        if kind.descriptor.numericFields.contains(sort.field) || fieldLooksNumeric(fi) {
            let keys = rows.map { Double($0.values[fi].prefix { $0 != " " && $0 != "/" }) ?? -Double.infinity }
            order.sort { a, b in
                let ka = keys[Int(a)], kb = keys[Int(b)]
                if ka != kb { return sort.ascending ? ka < kb : ka > kb }
                return rows[Int(a)].id < rows[Int(b)].id
            }
        } else {
            // Compare lower-cased UTF-8, precomputed once: much cheaper than String comparison.
            let keys: [[UInt8]] = rows.map { Array($0.values[fi].lowercased().utf8) }
            order.sort { a, b in
                let ka = keys[Int(a)], kb = keys[Int(b)]
                if ka != kb {
                    let less = ka.lexicographicallyPrecedes(kb)
                    return sort.ascending ? less : !less
                }
                return rows[Int(a)].id < rows[Int(b)].id
            }
        }
        return order
    }

    private func fieldLooksNumeric(_ fi: Int) -> Bool {
        // Custom integer properties: numeric when every non-empty value of the first rows is.
        var seen = 0
        for row in rows.prefix(200) where !row.values[fi].isEmpty {
            if Double(row.values[fi]) == nil { return false }
            seen += 1
        }
        return seen > 0
    }

    /// The rows of `order` that the filter keeps.
    public func filtered(_ order: [Int32], by filter: CompiledFilter?) -> [Int32] {
        guard let filter, !filter.expression.isEmpty else { return order }
        let index = filter.needsIndex ? searchIndex : nil
        return order.filter { filter.matches(self, Int($0), index: index) }
    }
}

/// The buffer `concurrentPerform` iterations write into, each at its own index.
private struct Slots<T>: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<T>
    init(_ buffer: UnsafeMutableBufferPointer<T>) { self.buffer = buffer }
}
