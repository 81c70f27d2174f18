import Foundation
import Store

/// `/` in `:config`: the lines of every device's latest configuration that match a regular
/// expression (Store's `ConfigSearch`), the matches highlighted. Enter shows the device's latest
/// configuration; `d` with two marked rows compares their devices' latest configurations.
enum ConfigSearchTable {
    typealias C = DeviceProperties.Column

    static let rows = RowBuilder<ConsoleStore.ConfigHit>(id: { "\($0.device):\($0.line)" }, fields: [
        TableField("device") { $0.device },
        TableField("line", numeric: true) { String($0.line) },
        TableField("text") { $0.text },
        TableField("match") { $0.matches.map { "\($0.lowerBound)-\($0.upperBound)" }.joined(separator: ",") },
    ])

    static let descriptor = TableDescriptor(
        kind: .configSearch, title: "configuration search", noun: "line",
        columns: [
            C(property: "device", title: "Device", width: 20),
            C(property: "line", title: "Line", width: 6),
            C(property: "text", title: "Text", width: 60),
        ],
        numericFields: rows.numeric,
        load: { load in
            guard case .search(let regex)? = load.scope else { return rows.table(.configSearch, [], load) }
            let pattern = try ConfigSearch.Pattern(regex)
            return rows.table(.configSearch, try load.store.searchConfigurations(pattern).hits, load,
                              searchable: ["device", "text"])
        },
        open: .push { row, table in
            let device = table.value(row, "device")
            return device.isEmpty ? nil : (.table(.config, .device(device)), "\(device) configuration history")
        },
        browse: [TableAction(.ssh, "ssh"), TableAction(.sshAs, nil), TableAction(.diff, "diff 2 marked")],
        device: { row, table in
            let d = table.value(row, "device")
            return d.isEmpty ? nil : d
        },
        emptyText: { scope in
            if case .search(let r)? = scope { return "no line of a latest configuration matches \(r)" }
            return "no matches"
        },
        highlight: (field: "text", spans: "match"))

    /// `1-3,7-9` → ranges.
    static func spans(_ text: String) -> [Range<Int>] {
        text.split(separator: ",").compactMap { part in
            let ends = part.split(separator: "-")
            guard ends.count == 2, let a = Int(ends[0]), let b = Int(ends[1]), b > a else { return nil }
            return a..<b
        }
    }
}
