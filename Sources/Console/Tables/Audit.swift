import Foundation
import Store

/// `:audit`: the security log (`SecurityLog`), newest first. It reads the log file, not the
/// database, so its periodic refresh always reads.
enum AuditTable {
    typealias C = DeviceProperties.Column

    static let rows = RowBuilder<SecurityLogEntries.Entry>(id: { _ in "" }, fields: [
        TableField("time") { $0.time },
        TableField("user") { $0.user },
        TableField("action") { $0.action },
        TableField("targets") { $0.targets },
        TableField("outcome") { $0.outcome },
        TableField("detail") { $0.detail },
    ])

    static let descriptor = TableDescriptor(
        kind: .audit, title: "security log", noun: "security event", aliases: ["audit", "security"], helpWords: ["audit"],
        columns: [
            C(property: "time", title: "Time", width: 24),
            C(property: "user", title: "User", width: 10),
            C(property: "action", title: "Action", width: 18),
            C(property: "targets", title: "Targets", width: 24),
            C(property: "outcome", title: "Outcome", width: 9),
            C(property: "detail", title: "Detail", width: 30),
        ],
        numericFields: [],
        load: { load in
            let entries = SecurityLogEntries.read(path: SecurityLog.configuration.path)
            // Identity: the position from the oldest entry read, so a new line does not move the cursor's row.
            let table = rows.table(.audit, entries, load, searchable: ["user", "action", "targets", "outcome", "detail"])
            let n = table.rows.count
            let data = TableData(kind: .audit, fields: table.fields, searchable: ["user", "action", "targets", "outcome", "detail"],
                                 rows: table.rows.enumerated().map { TableRow(id: String(n - $0.offset), values: $0.element.values) })
            return data
        },
        emptyText: { _ in "the security log is empty (\(SecurityLog.configuration.path))" },
        stamped: false)
}
