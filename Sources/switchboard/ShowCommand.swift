import ArgumentParser
import Foundation
import Store

struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show one device, link, pool, credential, service, workflow, run, task or session.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "device, link, pool, credential, service, workflow, run, task or session.")
    var kind: RecordKind

    @Argument(help: "The record's name (or id, for runs and sessions).")
    var name: String

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        let database = try global.openBackend()
        let detail: [String: JSONValue] = try database.query { store in
            guard let d = try ShowCommand.detail(kind, name, store) else {
                throw CommandFailure(message: "no \(kind.rawValue.dropLast()) named '\(name)'")
            }
            return d
        }
        if json {
            print(String(decoding: try JSONEncoder.pretty.encode(detail), as: UTF8.self))
        } else {
            let width = detail.keys.map(\.count).max() ?? 0
            for key in detail.keys.sorted() {
                let value: String
                switch detail[key]! {
                case .array(let a): value = a.map(\.description).joined(separator: ", ")
                default: value = detail[key]!.description
                }
                print(key.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + TableFormatter.sanitize(value))
            }
        }
    }

    static func detail(_ kind: RecordKind, _ name: String, _ store: any StoreReader) throws -> [String: JSONValue]? {
        switch kind {
        case .devices:
            guard let d = try store.device(named: name) else { return nil }
            var o = deviceJSON(d)
            o["pools"] = .array(try store.poolNames(deviceId: d.id!).map(JSONValue.string))
            o["credential"] = try store.credential(for: d).map { .string($0.name) } ?? .null
            o["links"] = .array(try store.links().filter { $0.source == d.name || $0.destination == d.name }.map { .string($0.name) })
            return o
        case .links:
            guard let l = try store.links().first(where: { $0.name == name }) else { return nil }
            return ["name": .string(l.name), "source": .string(l.source), "destination": .string(l.destination),
                    "description": .string(l.description), "properties": .object(l.properties)]
        case .pools:
            guard let p = try store.pool(named: name) else { return nil }
            return ["name": .string(p.name), "description": .string(p.description),
                    "criteria": .string(ListCommand.describe(p.activeCriteria)),
                    "device_count": .int(p.memberCount),
                    "manual_devices": .array(try store.manualDeviceNames(poolId: p.id!).map(JSONValue.string)),
                    "devices": .array(try store.poolDeviceNames(named: name).map(JSONValue.string))]
        case .credentials:
            guard let c = try store.credential(named: name) else { return nil }
            return ["name": .string(c.name), "description": .string(c.description), "username": .string(c.username),
                    "kind": .string(c.secretKind.rawValue), "key_file": .string(c.keyFile), "role": .string(c.role.rawValue),
                    "priority": .int(c.priority), "pools": .array(c.pools.map(JSONValue.string)),
                    "secret": .string(c.secret.isEmpty ? "(none)" : "(set, encrypted)"),
                    "enable_secret": .string(c.enableSecret.isEmpty ? "(none)" : "(set, encrypted)")]
        case .services, .workflows:
            guard let s = try store.service(named: name) else { return nil }
            var o = serviceJSON(s)
            if s.kind == .workflow {
                let names = try store.serviceNames()
                let nodes = try store.workflowNodes(workflowId: s.id!)
                o["nodes"] = .array(nodes.map { .string((names[$0.serviceId] ?? "?") + ($0.isStart ? " (start)" : "")) })
                o["edges"] = .array(try store.workflowEdges(workflowId: s.id!).map {
                    .string("\(names[$0.sourceId] ?? "?") -\($0.subtype.rawValue)-> \(names[$0.destinationId] ?? "?")")
                })
                o["traversal"] = .string(s.traversal)
            }
            return o
        case .runs:
            guard let id = Int64(name), let r = try store.run(id: id) else { return nil }
            return ["id": .int(Int(id)), "service": .string(r.serviceName), "status": .string(r.status.rawValue),
                    "trigger": .string(r.trigger.rawValue), "user": .string(r.user), "targets": .object(r.targets),
                    "progress": .string("\(r.progressDone)/\(r.progressTotal), \(r.progressFailed) failed"),
                    "started": r.startedAt.map { .string(formatDate($0)) } ?? .null,
                    "ended": r.endedAt.map { .string(formatDate($0)) } ?? .null, "reason": .string(r.reason)]
        case .tasks:
            guard let t = try store.task(named: name) else { return nil }
            let service = try t.serviceId.flatMap { try store.service(id: $0)?.name }
            return ["name": .string(t.name), "description": .string(t.description), "service": service.map(JSONValue.string) ?? .null,
                    "schedule_kind": .string(t.scheduleKind.rawValue), "interval_seconds": t.intervalSeconds.map(JSONValue.int) ?? .null,
                    "cron": .string(t.cron), "active": .bool(t.active),
                    "start": t.startDate.map { .string(formatDate($0)) } ?? .null,
                    "end": t.endDate.map { .string(formatDate($0)) } ?? .null,
                    "devices": .array(t.devices.map(JSONValue.string)), "pools": .array(t.pools.map(JSONValue.string)),
                    "timezone": .string(t.timezone.isEmpty ? TimeZone.current.identifier : t.timezone)]
        case .sessions:
            guard let id = Int64(name), let s = try store.session(id: id) else { return nil }
            return ["id": .int(Int(id)), "device": .string(s.deviceName), "user": .string(s.user),
                    "started": .string(formatDate(s.startedAt)), "ended": s.endedAt.map { .string(formatDate($0)) } ?? .null,
                    "bytes_in": .int(s.bytesIn), "bytes_out": .int(s.bytesOut)]
        }
    }
}
