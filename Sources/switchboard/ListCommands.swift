import ArgumentParser
import Foundation
import Store

/// The record kinds `list` and `show` know, with their singular and plural names.
enum RecordKind: String, CaseIterable, ExpressibleByArgument {
    case devices, links, pools, credentials, services, workflows, runs, tasks, sessions

    init?(argument: String) {
        let a = argument.lowercased()
        if let k = RecordKind(rawValue: a) { self = k; return }
        if let k = RecordKind(rawValue: a + "s") { self = k; return }
        switch a {
        case "dev": self = .devices
        case "wf": self = .workflows
        default: return nil
        }
    }
}

/// A listing: column titles and rows of text, plus the same records as JSON objects.
struct Listing {
    var columns: [String]
    var rows: [[String]]
    var json: [[String: JSONValue]]
}

struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List devices, links, pools, credentials, services, workflows, runs, tasks or sessions.",
        discussion: """
            --filter takes space-separated terms, all of which must hold: `text` (in any column), \
            `field=value` (case-insensitive), `field~regex`, `field!=value`, `field!~regex`, and `!term`.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: "devices, links, pools, credentials, services, workflows, runs, tasks or sessions.")
    var kind: RecordKind

    @Option(help: "A filter expression, e.g. 'platform=arista_eos location~^par'.")
    var filter: String?

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        let expression: FilterExpression
        do { expression = try FilterExpression.parse(filter ?? "") }
        catch let e as StoreError { throw CommandFailure.usage(e.message) }
        _ = try global.settings()
        let declared = Set(try DevicePropertiesLoader(paths: global.paths).load().properties.map(\.name))
        let database = try global.openBackend()
        let listing = try database.query { store in try ListCommand.listing(kind, store, expression, declared: declared) }
        if json {
            print(String(decoding: try JSONEncoder.pretty.encode(listing.json), as: UTF8.self))
        } else {
            print(TableFormatter.format(columns: listing.columns, rows: listing.rows), terminator: "")
        }
    }

    static func listing(_ kind: RecordKind, _ store: any StoreReader, _ filter: FilterExpression, declared: Set<String> = []) throws -> Listing {
        switch kind {
        case .devices:
            // Custom properties: those declared in properties.json and those imported devices carry.
            let known = try store.devicePropertyNames().union(declared)
            let devices: [Device]
            do { devices = try store.devices(filter: filter, knownProperties: known) }
            catch let e as StoreError where e.kind == .invalid { throw CommandFailure.usage(e.message) }
            let columns = ["name", "address", "port", "platform", "vendor", "model", "location", "last_run_status"]
            return Listing(columns: columns,
                           rows: devices.map { d in columns.map { d.value(of: $0) ?? "" } },
                           json: devices.map(deviceJSON))
        case .links:
            let links = try store.links()
            let columns = ["name", "source", "destination", "description"]
            return try filtered(links.map { l in
                (["name": l.name, "source": l.source, "destination": l.destination, "description": l.description],
                 ["name": .string(l.name), "source": .string(l.source), "destination": .string(l.destination),
                  "description": .string(l.description), "properties": .object(l.properties)])
            }, columns, filter)
        case .pools:
            let pools = try store.pools()
            let columns = ["name", "devices", "criteria", "description"]
            return try filtered(pools.map { p in
                let criteria = describe(p.activeCriteria)
                return (["name": p.name, "devices": String(p.memberCount), "criteria": criteria, "description": p.description],
                        ["name": .string(p.name), "devices": .int(p.memberCount), "criteria": .string(criteria),
                         "description": .string(p.description)])
            }, columns, filter)
        case .credentials:
            let columns = ["name", "username", "kind", "role", "priority", "pools"]
            // Secrets are never listed: not even their ciphertext.
            return try filtered(try store.credentials().map { c in
                (["name": c.name, "username": c.username, "kind": c.secretKind.rawValue, "role": c.role.rawValue,
                  "priority": String(c.priority), "pools": c.pools.joined(separator: ",")],
                 ["name": .string(c.name), "username": .string(c.username), "kind": .string(c.secretKind.rawValue),
                  "role": .string(c.role.rawValue), "priority": .int(c.priority), "pools": .array(c.pools.map(JSONValue.string)),
                  "key_file": .string(c.keyFile), "has_secret": .bool(!c.secret.isEmpty),
                  "has_enable_secret": .bool(!c.enableSecret.isEmpty)])
            }, columns, filter)
        case .services, .workflows:
            let services = try store.services(workflows: kind == .workflows)
            let columns = kind == .workflows ? ["name", "nodes", "traversal", "description"] : ["name", "kind", "targets", "description"]
            let nodeCounts = try store.workflowNodeCounts()
            return try filtered(services.map { s in
                let targets = (s.devices + s.pools.map { "pool:" + $0 } + (s.targetFilter.isEmpty ? [] : ["filter:" + s.targetFilter])).joined(separator: ",")
                return (["name": s.name, "kind": s.kind.rawValue, "targets": targets, "description": s.description,
                         "nodes": String(nodeCounts[s.id!] ?? 0), "traversal": s.traversal],
                        serviceJSON(s))
            }, columns, filter)
        case .runs:
            let runs = try store.recentRuns(limit: 1000)
            let columns = ["id", "service", "status", "progress", "trigger", "user", "started"]
            return try filtered(runs.map { r in
                (["id": String(r.id!), "service": r.serviceName, "status": r.status.rawValue,
                  "progress": "\(r.progressDone)/\(r.progressTotal)" + (r.progressFailed > 0 ? " (\(r.progressFailed) failed)" : ""),
                  "trigger": r.trigger.rawValue, "user": r.user, "started": r.startedAt.map(formatDate) ?? ""],
                 ["id": .int(Int(r.id!)), "service": .string(r.serviceName), "status": .string(r.status.rawValue),
                  "done": .int(r.progressDone), "total": .int(r.progressTotal), "failed": .int(r.progressFailed),
                  "trigger": .string(r.trigger.rawValue), "user": .string(r.user),
                  "started": r.startedAt.map { .string(formatDate($0)) } ?? .null,
                  "ended": r.endedAt.map { .string(formatDate($0)) } ?? .null])
            }, columns, filter)
        case .tasks:
            let names = try store.serviceNames()
            let columns = ["name", "service", "schedule", "active", "next_fire", "last_run_status"]
            return try filtered(try store.tasks().map { t in
                let schedule: String
                switch t.scheduleKind {
                case .interval: schedule = "every \(t.intervalSeconds ?? 0)s"
                case .cron: schedule = "cron \(t.cron)"
                case .once: schedule = "once" + (t.startDate.map { " at " + formatDate($0) } ?? "")
                }
                let service = t.serviceId.flatMap { names[$0] } ?? ""
                return (["name": t.name, "service": service, "schedule": schedule, "active": t.active ? "yes" : "no",
                         "next_fire": t.nextFire.map(formatDate) ?? "", "last_run_status": t.lastRunStatus ?? ""],
                        ["name": .string(t.name), "service": .string(service), "schedule": .string(schedule),
                         "active": .bool(t.active), "next_fire": t.nextFire.map { .string(formatDate($0)) } ?? .null,
                         "last_run_status": t.lastRunStatus.map(JSONValue.string) ?? .null])
            }, columns, filter)
        case .sessions:
            let sessions = try store.recentSessions(limit: 1000)
            let columns = ["id", "device", "user", "started", "ended", "bytes"]
            return try filtered(sessions.map { s in
                (["id": String(s.id!), "device": s.deviceName, "user": s.user, "started": formatDate(s.startedAt),
                  "ended": s.endedAt.map(formatDate) ?? "", "bytes": String(s.bytesIn + s.bytesOut)],
                 ["id": .int(Int(s.id!)), "device": .string(s.deviceName), "user": .string(s.user),
                  "started": .string(formatDate(s.startedAt)), "bytes_in": .int(s.bytesIn), "bytes_out": .int(s.bytesOut)])
            }, columns, filter)
        }
    }

    /// Filters rows in memory (small tables); unknown fields are a usage error, not an empty result.
    static func filtered(_ items: [([String: String], [String: JSONValue])], _ columns: [String], _ filter: FilterExpression) throws -> Listing {
        let known = Set(items.first?.0.keys.map { $0 } ?? columns)
        for f in filter.fields where !known.contains(f) && !items.isEmpty {
            throw CommandFailure.usage("filter: unknown field '\(f)' (fields: \(known.sorted().joined(separator: ", ")))")
        }
        let kept = items.filter { item in filter.matches(value: { item.0[$0] }, searchable: Array(item.0.keys)) }
        return Listing(columns: columns, rows: kept.map { item in columns.map { item.0[$0] ?? "" } }, json: kept.map(\.1))
    }

    static func describe(_ criteria: [PoolCriterion]) -> String {
        criteria.map { c in
            let op: String
            switch c.match {
            case .inclusion: op = c.invert ? " !contains " : " contains "
            case .equality: op = c.invert ? "!=" : "="
            case .regex: op = c.invert ? "!~" : "~"
            case .empty: return c.invert ? "\(c.property) not empty" : "\(c.property) empty"
            }
            return c.property + op + c.value
        }.joined(separator: " ")
    }
}

func formatDate(_ d: Date) -> String {
    let f = DateFormatter()
    f.locale = Locale(identifier: "en_US_POSIX")
    f.dateFormat = "yyyy-MM-dd HH:mm:ss"
    return f.string(from: d)
}

func deviceJSON(_ d: Device) -> [String: JSONValue] {
    var o: [String: JSONValue] = [:]
    for f in Device.builtinFields { o[f] = .string(d.value(of: f) ?? "") }
    o["port"] = .int(d.port)
    o["properties"] = .object(d.properties)
    o["reachable"] = d.reachable.map(JSONValue.bool) ?? .null
    o["last_run_time"] = d.lastRunTime.map { .string(formatDate($0)) } ?? .null
    o["last_backup_time"] = d.lastBackupTime.map { .string(formatDate($0)) } ?? .null
    return o
}

func serviceJSON(_ s: Service) -> [String: JSONValue] {
    ["name": .string(s.name), "kind": .string(s.kind.rawValue), "description": .string(s.description),
     "parameters": .object(s.parameters), "devices": .array(s.devices.map(JSONValue.string)),
     "pools": .array(s.pools.map(JSONValue.string)), "target_filter": .string(s.targetFilter),
     "run_method": .string(s.runMethod.rawValue), "max_processes": .int(s.maxProcesses), "retries": .int(s.retries),
     "timeout": .double(s.timeout), "credential": .string(s.credential), "validation": .object(s.validation)]
}

/// Aligned text columns, headed by upper-case titles; control characters in values made visible.
enum TableFormatter {
    static func format(columns: [String], rows: [[String]]) -> String {
        let header = columns.map { $0.uppercased() }
        let clean = rows.map { $0.map(sanitize) }
        let counts = clean.map { $0.map(\.count) }
        var widths = header.map(\.count)
        for row in counts { for (i, n) in row.enumerated() { widths[i] = max(widths[i], n) } }
        var out = ""
        out.reserveCapacity((widths.reduce(0, +) + 2 * widths.count) * (rows.count + 1))
        func line(_ cells: [String], _ lengths: [Int]) {
            var text = ""
            for (i, v) in cells.enumerated() {
                text += v
                if i < cells.count - 1 { text += String(repeating: " ", count: widths[i] - lengths[i] + 2) }
            }
            while text.last == " " { text.removeLast() }
            out += text
            out += "\n"
        }
        line(header, header.map(\.count))
        for (row, lengths) in zip(clean, counts) { line(row, lengths) }
        return out
    }

    /// Names from imports are untrusted: an escape sequence must not reach the terminal.
    static func sanitize(_ s: String) -> String {
        var out = ""
        for u in s.unicodeScalars {
            if u.value < 0x20 || u.value == 0x7f || (0x80..<0xa0).contains(u.value) {
                out += String(format: "\\x%02x", u.value)
            } else {
                out.unicodeScalars.append(u)
            }
        }
        return out
    }
}
