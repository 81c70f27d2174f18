import Foundation
import Store

/// `:engines`: the engines serving the database, as `switchboard engines` lists them: host, pid,
/// version, state, heartbeat age, units and whole runs in flight, capacity, and what it serves (its region). On SQLite the one engine holding the
/// lock (or none); its state comes from the lock, not the database, so the table reads every time.
enum EnginesTable {
    typealias C = DeviceProperties.Column

    static let rows = RowBuilder<EngineEntry>(id: { "\($0.pid)@\($0.host)" }, fields: [
        TableField("id", numeric: true) { TableText.optional($0.id) },
        TableField("host") { $0.host },
        TableField("pid", numeric: true) { String($0.pid) },
        TableField("version") { $0.version },
        TableField("state") { $0.state.rawValue },
        TableField("heartbeat") { e in e.heartbeatAgeSeconds.map { String(format: "%.1f s ago", $0) } ?? "" },
        TableField("in_flight", numeric: true) { String($0.inFlight) },
        TableField("capacity", numeric: true) { $0.capacity > 0 ? String($0.capacity) : "" },
        TableField("started_at") { Formats.date($0.startedAt) },
        TableField("serves") { $0.serves },
    ])

    static let descriptor = TableDescriptor(
        kind: .engines, title: "engines", noun: "engine", aliases: ["engines", "engine"], helpWords: ["engines"],
        columns: [
            C(property: "id", title: "Id", width: 5),
            C(property: "host", title: "Host", width: 20),
            C(property: "pid", title: "Pid", width: 8),
            C(property: "version", title: "Version", width: 8),
            C(property: "state", title: "State", width: 8),
            C(property: "heartbeat", title: "Heartbeat", width: 12),
            C(property: "in_flight", title: "In flight", width: 9),
            C(property: "capacity", title: "Capacity", width: 8),
            C(property: "started_at", title: "Started", width: 19),
            C(property: "serves", title: "Serves", width: 30),
        ],
        numericFields: rows.numeric,
        load: { load in rows.table(.engines, try load.store.engines(), load, searchable: ["host", "pid", "state", "version", "serves"]) },
        emptyText: { _ in "no engine runs on this database (`switchboard engine`, or a run starts one)" },
        stamped: false)
}
