import Foundation
import Store

/// A run's results (Enter on a run's log) or a device's (Enter on a device); `:results` lists all.
/// Its columns are the console's own. Enter shows the output. A run spread over several engines
/// tags each device with the engine that did it.
enum ResultsTable {
    typealias C = DeviceProperties.Column

    static let rows = RowBuilder<ConsoleStore.ResultSummary>(id: { String($0.id) }, fields: [
        TableField("id", numeric: true) { String($0.id) },
        TableField("run_id", numeric: true) { String($0.runId) },
        TableField("service_name") { $0.serviceName },
        TableField("device_name") { $0.deviceName },
        // The Device column: the device, tagged with the engine that did it when its run spread
        // over several engines (`device_name` stays the bare name the actions use).
        TableField("device") { $0.engine.isEmpty ? $0.deviceName : "\($0.deviceName) @\($0.engine)" },
        TableField("engine") { $0.engine },
        TableField("status") { $0.success ? "success" : "failed" },
        TableField("duration") { Formats.duration(seconds: Double($0.durationMs) / 1000) },
        TableField("duration_ms", numeric: true) { String($0.durationMs) },
        TableField("attempts", numeric: true) { String($0.attempts) },
        TableField("created_at") { Formats.date($0.createdAt) },
    ])

    static let descriptor = TableDescriptor(
        kind: .results, title: "results", noun: "result", aliases: ["result", "results"],
        columns: [
            C(property: "id", title: "Result", width: 7),
            C(property: "device", title: "Device", width: 20),
            C(property: "service_name", title: "Service", width: 24),
            C(property: "status", title: "Status", width: 9),
            C(property: "duration", title: "Duration", width: 9),
            C(property: "attempts", title: "Tries", width: 5),
            C(property: "created_at", title: "Time", width: 19),
            C(property: "run_id", title: "Run", width: 6, visible: false),
        ],
        numericFields: rows.numeric,
        load: { load in
            var run: Int64?, device: String?
            switch load.scope {
            case .run(let id)?: run = id
            case .device(let name)?: device = name
            default: break
            }
            return rows.table(.results, try load.store.results(run: run, device: device), load,
                              searchable: ["device_name", "service_name", "status", "engine"])
        },
        open: .push { row, table in
            guard let n = Int64(row.id) else { return nil }
            let device = table.value(row, "device_name")
            return (.document(.resultOutput(n)), device.isEmpty ? "output" : "\(device) output")
        },
        browse: [TableAction(.ssh, "ssh"), TableAction(.sshAs, nil),
                 TableAction(.runLog, "log", when: { if case .table(.results, .run?) = $0 { return true }; return false }),
                 TableAction(.parsed, "parsed", when: { if case .table(.results, .run?) = $0 { return true }; return false })],
        device: { row, table in SessionsTable.deviceName(row, table) })
}
