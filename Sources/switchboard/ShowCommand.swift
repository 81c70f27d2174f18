import ArgumentParser
import Foundation
import GRDB
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
        let database = try global.openDatabase()
        let detail: [String: JSONValue] = try database.writer.read { db in
            guard let d = try ShowCommand.detail(kind, name, db) else {
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

    static func detail(_ kind: RecordKind, _ name: String, _ db: Database) throws -> [String: JSONValue]? {
        switch kind {
        case .devices:
            guard let d = try Inventory.device(db, named: name) else { return nil }
            var o = deviceJSON(d)
            o["pools"] = .array(try PoolMembership.poolNames(db, deviceId: d.id!).map(JSONValue.string))
            o["credential"] = try Inventory.credential(db, for: d).map { .string($0.name) } ?? .null
            o["links"] = .array(try Inventory.links(db).filter { $0.source == d.name || $0.destination == d.name }.map { .string($0.name) })
            return o
        case .links:
            guard let l = try Inventory.links(db).first(where: { $0.name == name }) else { return nil }
            return ["name": .string(l.name), "source": .string(l.source), "destination": .string(l.destination),
                    "description": .string(l.description), "properties": .object(l.properties)]
        case .pools:
            guard let p = try Inventory.pool(db, named: name) else { return nil }
            return ["name": .string(p.name), "description": .string(p.description),
                    "criteria": .string(ListCommand.describe(p.activeCriteria)),
                    "device_count": .int(p.memberCount),
                    "manual_devices": .array(try Inventory.manualDeviceNames(db, poolId: p.id!).map(JSONValue.string)),
                    "devices": .array(try Inventory.poolDeviceNames(db, named: name).map(JSONValue.string))]
        case .credentials:
            guard let c = try Credential.fetchOne(db, sql: "SELECT * FROM credential WHERE name = ?", arguments: [name]) else { return nil }
            return ["name": .string(c.name), "description": .string(c.description), "username": .string(c.username),
                    "kind": .string(c.secretKind.rawValue), "key_file": .string(c.keyFile), "role": .string(c.role.rawValue),
                    "priority": .int(c.priority), "pools": .array(c.pools.map(JSONValue.string)),
                    "secret": .string(c.secret.isEmpty ? "(none)" : "(set, encrypted)"),
                    "enable_secret": .string(c.enableSecret.isEmpty ? "(none)" : "(set, encrypted)")]
        case .services, .workflows:
            guard let s = try Inventory.service(db, named: name) else { return nil }
            var o = serviceJSON(s)
            if s.kind == .workflow {
                let names = try Dictionary(uniqueKeysWithValues: Row.fetchAll(db, sql: "SELECT id, name FROM service").map { ($0["id"] as Int64, $0["name"] as String) })
                let nodes = try Inventory.workflowNodes(db, workflowId: s.id!)
                o["nodes"] = .array(nodes.map { .string((names[$0.serviceId] ?? "?") + ($0.isStart ? " (start)" : "")) })
                o["edges"] = .array(try Inventory.workflowEdges(db, workflowId: s.id!).map {
                    .string("\(names[$0.sourceId] ?? "?") -\($0.subtype.rawValue)-> \(names[$0.destinationId] ?? "?")")
                })
                o["traversal"] = .string(s.traversal)
            }
            return o
        case .runs:
            guard let id = Int64(name), let r = try Run.fetchOne(db, key: id) else { return nil }
            return ["id": .int(Int(id)), "service": .string(r.serviceName), "status": .string(r.status.rawValue),
                    "trigger": .string(r.trigger.rawValue), "user": .string(r.user), "targets": .object(r.targets),
                    "progress": .string("\(r.progressDone)/\(r.progressTotal), \(r.progressFailed) failed"),
                    "started": r.startedAt.map { .string(formatDate($0)) } ?? .null,
                    "ended": r.endedAt.map { .string(formatDate($0)) } ?? .null, "reason": .string(r.reason)]
        case .tasks:
            guard let t = try ScheduledTask.fetchOne(db, sql: "SELECT * FROM task WHERE name = ?", arguments: [name]) else { return nil }
            let service = try t.serviceId.flatMap { try String.fetchOne(db, sql: "SELECT name FROM service WHERE id = ?", arguments: [$0]) }
            return ["name": .string(t.name), "description": .string(t.description), "service": service.map(JSONValue.string) ?? .null,
                    "schedule_kind": .string(t.scheduleKind.rawValue), "interval_seconds": t.intervalSeconds.map(JSONValue.int) ?? .null,
                    "cron": .string(t.cron), "active": .bool(t.active),
                    "start": t.startDate.map { .string(formatDate($0)) } ?? .null,
                    "end": t.endDate.map { .string(formatDate($0)) } ?? .null,
                    "devices": .array(t.devices.map(JSONValue.string)), "pools": .array(t.pools.map(JSONValue.string)),
                    "timezone": .string(t.timezone.isEmpty ? TimeZone.current.identifier : t.timezone)]
        case .sessions:
            guard let id = Int64(name), let s = try SessionRecord.fetchOne(db, key: id) else { return nil }
            return ["id": .int(Int(id)), "device": .string(s.deviceName), "user": .string(s.user),
                    "started": .string(formatDate(s.startedAt)), "ended": s.endedAt.map { .string(formatDate($0)) } ?? .null,
                    "bytes_in": .int(s.bytesIn), "bytes_out": .int(s.bytesOut)]
        }
    }
}
