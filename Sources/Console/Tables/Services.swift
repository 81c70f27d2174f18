import Foundation
import Store

/// `:svc` and `:wf`: services and workflows are one record kind, two tables. `r` opens the launch
/// dialog; Enter describes a service (`d` too) and shows a workflow's graph (`d` describes it).
enum ServicesTable {
    static let rows = RowBuilder<Service>(id: \.name, fields: [
        TableField("id", numeric: true) { String($0.id ?? 0) },
        TableField("name") { $0.name },
        TableField("kind") { $0.kind.rawValue },
        TableField("description") { $0.description },
        TableField("devices") { TableText.list($0.devices) },
        TableField("pools") { TableText.list($0.pools) },
        TableField("target_filter") { $0.targetFilter },
        TableField("run_method") { $0.runMethod.rawValue },
        TableField("max_processes", numeric: true) { String($0.maxProcesses) },
        TableField("retries", numeric: true) { String($0.retries) },
        TableField("retry_delay", numeric: true) { TableText.number($0.retryDelay) },
        TableField("timeout", numeric: true) { TableText.number($0.timeout) },
        TableField("credential") { $0.credential },
        TableField("conversion") { $0.conversion },
        TableField("created_at") { Formats.date($0.createdAt) },
        TableField("updated_at") { Formats.date($0.updatedAt) },
        TableField("traversal") { $0.traversal },
        TableField("max_node_runs", numeric: true) { String($0.maxNodeRuns) },
    ])

    static let services = TableDescriptor(
        kind: .services, title: "services", noun: "service",
        aliases: ["svc", "service", "services"], helpWords: ["services", "svc"],
        numericFields: rows.numeric,
        load: { load in rows.table(.services, try load.store.services(workflows: false), load) },
        open: .push { row, _ in (.document(.describe(.services, row.id)), "service \(row.id)") },
        browse: [TableAction(.describe, nil)],
        change: [TableAction(.runService, "run")],
        deletes: .service)

    static let workflows = TableDescriptor(
        kind: .workflows, title: "workflows", noun: "workflow",
        aliases: ["wf", "workflow", "workflows"], helpWords: ["workflows", "wf"],
        numericFields: rows.numeric,
        load: { load in rows.table(.workflows, try load.store.services(workflows: true), load) },
        open: .push { row, _ in (.workflow(row.id), "workflow \(row.id)") },
        browse: [TableAction(.describe, "describe")],
        change: [TableAction(.runService, "run")],
        deletes: .service)
}
