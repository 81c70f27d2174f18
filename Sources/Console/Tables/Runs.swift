import Foundation
import Store

/// `:runs`, newest first; Enter (or `L`) tails the run's log, `ctrl+k` stops it.
enum RunsTable {
    static let rows = RowBuilder<Run>(id: { String($0.id ?? 0) }, fields: [
        TableField("id", numeric: true) { String($0.id ?? 0) },
        TableField("service_name") { $0.serviceName },
        TableField("trigger") { $0.trigger.rawValue },
        TableField("user") { $0.user },
        TableField("status") { $0.status.rawValue },
        TableField("progress") { progress($0) },
        TableField("progress_done", numeric: true) { String($0.progressDone) },
        TableField("progress_total", numeric: true) { String($0.progressTotal) },
        TableField("progress_failed", numeric: true) { String($0.progressFailed) },
        TableField("created_at") { Formats.date($0.createdAt) },
        TableField("started_at") { Formats.date($0.startedAt) },
        TableField("ended_at") { Formats.date($0.endedAt) },
        TableField("duration") { r, now in Formats.duration(from: r.startedAt, to: r.endedAt, now: now) },
        TableField("engine_pid", numeric: true) { TableText.optional($0.enginePid) },
        TableField("reason") { $0.reason },
        TableField("restart_of", numeric: true) { TableText.optional($0.restartOf) },
        TableField("task_id", numeric: true) { TableText.optional($0.taskId) },
    ])

    static let descriptor = TableDescriptor(
        kind: .runs, title: "runs", noun: "run", aliases: ["run", "runs"], helpWords: ["runs"],
        numericFields: rows.numeric,
        load: { load in rows.table(.runs, try load.store.runs(), load) },
        open: .push { row, _ in Int64(row.id).map { (.runLog($0), "run \(row.id)") } },
        browse: [TableAction(.runLog, "log"), TableAction(.parsed, "parsed")],
        change: [TableAction(.stopRun, "stop")])

    static func progress(_ r: Run) -> String {
        guard r.progressTotal > 0 || r.progressDone > 0 else { return "" }
        var s = "\(r.progressDone)/\(r.progressTotal)"
        if r.progressFailed > 0 { s += " \(r.progressFailed)✗" }
        return s
    }
}
