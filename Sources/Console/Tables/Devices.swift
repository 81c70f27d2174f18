import Foundation
import Store

/// `:dev`: every device, or a pool's. Read straight off the statement by the store
/// (`DeviceTable`): 80,000 devices in the first frame.
enum DevicesTable {
    static let descriptor = TableDescriptor(
        kind: .devices, title: "devices", noun: "device",
        aliases: ["dev", "devs", "device", "devices"], helpWords: ["dev", "devices"],
        numericFields: ["id", "port"],
        load: { load in
            var pool: String?
            if case .pool(let name)? = load.scope { pool = name }
            let (fields, rows) = try DeviceTable.read(load.store.backend, pool: pool,
                                                      properties: load.properties.properties.map(\.name),
                                                      date: { Formats.date($0) },
                                                      make: { TableRow(id: $0, values: $1) })
            return TableData(kind: .devices, fields: fields, aliases: DeviceTable.aliases,
                             searchable: ["name", "address", "platform", "vendor", "model", "category", "location", "description"],
                             rows: rows)
        },
        open: .push { row, _ in (.table(.results, .device(row.id)), "\(row.id) results") },
        browse: [TableAction(.xray, "xray"), TableAction(.configHistory, "configs"), TableAction(.sessions, "sessions"),
                 TableAction(.ssh, "ssh"), TableAction(.sshAs, nil)],
        change: [],
        device: { row, _ in row.id },
        deletes: .device)
}
