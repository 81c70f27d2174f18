import Foundation
import Store

/// `:sessions` and a device's (`H`): recorded SSH sessions. Enter replays, `v` shows the transcript.
enum SessionsTable {
    static let rows = RowBuilder<ConsoleStore.SessionSummary>(id: { String($0.id) }, fields: [
        TableField("id", numeric: true) { String($0.id) },
        TableField("device_name") { $0.deviceName },
        TableField("user") { $0.user },
        TableField("started_at") { Formats.date($0.startedAt) },
        TableField("ended_at") { Formats.date($0.endedAt) },
        TableField("duration") { s, now in Formats.duration(from: s.startedAt, to: s.endedAt, now: now) },
        TableField("bytes_in", numeric: true) { String($0.bytesIn) },
        TableField("bytes_out", numeric: true) { String($0.bytesOut) },
        TableField("width", numeric: true) { String($0.width) },
        TableField("height", numeric: true) { String($0.height) },
        TableField("end_reason") { $0.endReason },
    ])

    static let descriptor = TableDescriptor(
        kind: .sessions, title: "sessions", noun: "session", aliases: ["session", "sessions"], helpWords: ["sessions"],
        numericFields: rows.numeric,
        load: { load in
            var device: String?
            if case .device(let name)? = load.scope { device = name }
            return rows.table(.sessions, try load.store.sessions(device: device), load)
        },
        open: .replay,
        browse: [TableAction(.ssh, "ssh"), TableAction(.sshAs, nil), TableAction(.transcript, nil)],
        device: { row, table in deviceName(row, table) })

    /// The `device_name` of a row (results, configurations, sessions): `s` connects to it.
    static func deviceName(_ row: TableRow, _ table: TableState) -> String? {
        let name = table.value(row, "device_name")
        return name.isEmpty ? nil : name
    }
}
