import Foundation
import Store

/// `:pools`; Enter shows the pool's devices (as before), `d` describes the pool.
enum PoolsTable {
    static let rows = RowBuilder<Pool>(id: \.name, fields: [
        TableField("id", numeric: true) { String($0.id ?? 0) },
        TableField("name") { $0.name },
        TableField("description") { $0.description },
        TableField("criteria") { criteriaText($0.criteria) },
        TableField("member_count", numeric: true) { String($0.memberCount) },
    ])

    static let descriptor = TableDescriptor(
        kind: .pools, title: "pools", noun: "pool", aliases: ["pool", "pools"], helpWords: ["pools"],
        numericFields: rows.numeric,
        load: { load in rows.table(.pools, try load.store.pools(), load) },
        open: .push { row, _ in (.table(.devices, .pool(row.id)), "pool \(row.id)") },
        browse: [TableAction(.describe, "describe")],
        deletes: .pool)

    static func criteriaText(_ criteria: [PoolCriterion]) -> String {
        criteria.filter(\.isActive).map { c in
            let op: String
            switch c.match {
            case .inclusion: op = c.invert ? " not contains " : " contains "
            case .equality: op = c.invert ? "!=" : "="
            case .regex: op = c.invert ? "!~" : "~"
            case .empty: return c.property + (c.invert ? " not empty" : " empty")
            }
            return c.property + op + c.value
        }.joined(separator: ", ")
    }
}
