import Foundation
import Store

/// `:engines`: the engines serving the database, as `switchboard engines` lists them. On PostgreSQL
/// every registered engine with its state by the database's clock (`active`, `lost` without a
/// heartbeat for `engine.active_threshold_s`, `dropped` after `engine.drop_threshold_s`); on SQLite
/// the one engine holding the file lock, or none.
enum EnginesTable {
    static let rows = RowBuilder<EngineEntry>(id: { e in e.id.map(String.init) ?? "pid \(e.pid)" }, fields: [
        TableField("id", numeric: true) { $0.id.map(String.init) ?? "" },
        TableField("host") { $0.host },
        TableField("pid", numeric: true) { String($0.pid) },
        TableField("version") { $0.version },
        TableField("state") { $0.state.rawValue },
        TableField("heartbeat") { e in e.heartbeatAgeSeconds.map(heartbeatAge) ?? "" },
        TableField("in_flight", numeric: true) { String($0.inFlight) },
        TableField("capacity", numeric: true) { String($0.capacity) },
        TableField("pools") { TableText.list($0.pools) },
        TableField("started_at") { Formats.date($0.startedAt) },
    ])

    static let descriptor = TableDescriptor(
        kind: .engines, title: "engines", noun: "engine", aliases: ["engine", "engines"], helpWords: ["engines"],
        numericFields: rows.numeric,
        load: { load in rows.table(.engines, try load.store.engines(), load) },
        emptyText: { _ in "no engine serves this database (start one: switchboard engine)" },
        // Heartbeats age between writes: every refresh reads.
        stamped: false)

    /// A heartbeat's age as `switchboard engines` shows it: "0.4 s ago", "12 s ago", "3 min ago".
    static func heartbeatAge(_ seconds: Double) -> String {
        if seconds < 10 { return String(format: "%.1f s ago", seconds) }
        if seconds < 120 { return "\(Int(seconds)) s ago" }
        return "\(Int(seconds / 60)) min ago"
    }
}
