import Foundation
import Store

/// `:links`.
enum LinksTable {
    static let rows = RowBuilder<LinkView>(id: \.name, fields: [
        TableField("id", numeric: true) { String($0.id) },
        TableField("name") { $0.name },
        TableField("source") { $0.source },
        TableField("destination") { $0.destination },
        TableField("description") { $0.description },
    ])

    static let descriptor = TableDescriptor(
        kind: .links, title: "links", noun: "link", aliases: ["link", "links"], helpWords: ["links"],
        numericFields: rows.numeric,
        load: { load in rows.table(.links, try load.store.links(), load) },
        deletes: .link)
}
