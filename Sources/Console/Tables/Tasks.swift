import Foundation
import Store

/// `:tasks`; Enter (or `d`) describes a task (schedule, next fires, last runs); `a` enables or disables the task by the scheduler's rule (`TaskActivating`).
enum TasksTable {
    static let rows = RowBuilder<ConsoleStore.TaskListing>(id: \.task.name, fields: [
        TableField("id", numeric: true) { String($0.task.id ?? 0) },
        TableField("name") { $0.task.name },
        TableField("description") { $0.task.description },
        TableField("service") { $0.serviceName },
        TableField("schedule_kind") { $0.task.scheduleKind.rawValue },
        TableField("schedule") { l in
            Formats.schedule(kind: l.task.scheduleKind.rawValue, interval: l.task.intervalSeconds, cron: l.task.cron, start: l.task.startDate)
        },
        TableField("interval_seconds", numeric: true) { TableText.optional($0.task.intervalSeconds) },
        TableField("cron") { $0.task.cron },
        TableField("start_date") { Formats.date($0.task.startDate) },
        TableField("end_date") { Formats.date($0.task.endDate) },
        TableField("active") { $0.task.active ? "yes" : "no" },
        TableField("devices") { TableText.list($0.task.devices) },
        TableField("pools") { TableText.list($0.task.pools) },
        TableField("timezone") { $0.task.timezone },
        TableField("misfire_policy") { $0.task.misfirePolicy.rawValue },
        TableField("misfire_grace_seconds", numeric: true) { String($0.task.misfireGraceSeconds) },
        TableField("max_instances", numeric: true) { String($0.task.maxInstances) },
        // As `switchboard task list`: in the task's zone, and no next fire for an inactive task (the
        // store may keep the time it had, but nothing will fire then).
        TableField("next_fire") { $0.task.active ? Formats.zoned($0.task.nextFire, zone: $0.task.timezone) : "" },
        TableField("last_fire") { Formats.zoned($0.task.lastFire, zone: $0.task.timezone) },
        TableField("last_run_id", numeric: true) { TableText.optional($0.task.lastRunId) },
        TableField("last_run_status") { $0.task.lastRunStatus ?? "" },
    ])

    static let descriptor = TableDescriptor(
        kind: .tasks, title: "tasks", noun: "task", aliases: ["task", "tasks"], helpWords: ["tasks"],
        numericFields: rows.numeric,
        load: { load in rows.table(.tasks, try load.store.tasks(), load) },
        open: .push { row, _ in (.document(.describe(.tasks, row.id)), "task \(row.id)") },
        browse: [TableAction(.describe, nil)],
        change: [TableAction(.toggleActive, "activate")],
        deletes: .task)
}
