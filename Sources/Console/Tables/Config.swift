import Foundation
import Store

/// `:config` and a device's configuration history (`c`): snapshots, newest first. Enter shows
/// one, `d` its diff with the previous one (with two marked rows: their devices' latest
/// configurations compared). In `:config`, `/` searches every device's latest configuration.
enum ConfigTable {
    static let rows = RowBuilder<ConsoleStore.SnapshotSummary>(id: { String($0.id) }, fields: [
        TableField("id", numeric: true) { String($0.id) },
        TableField("device_id", numeric: true) { String($0.deviceId) },
        TableField("device_name") { $0.deviceName },
        TableField("created_at") { Formats.date($0.createdAt) },
        TableField("run_id", numeric: true) { TableText.optional($0.runId) },
        TableField("sha256") { $0.sha256 },
        TableField("size", numeric: true) { String($0.size) },
        TableField("git_commit") { $0.gitCommit.map { String($0.prefix(10)) } ?? "" },
    ])

    static let descriptor = TableDescriptor(
        kind: .config, title: "configuration history", noun: "configuration",
        aliases: ["config", "configs", "configuration"], helpWords: ["config"],
        numericFields: rows.numeric,
        load: { load in
            var device: String?
            if case .device(let name)? = load.scope { device = name }
            return rows.table(.config, try load.store.snapshots(device: device), load)
        },
        open: .push { row, _ in Int64(row.id).map { (.document(.config($0)), "version \(row.id)") } },
        browse: [TableAction(.ssh, "ssh"), TableAction(.sshAs, nil), TableAction(.diff, "diff")],
        device: { row, table in SessionsTable.deviceName(row, table) })
}
