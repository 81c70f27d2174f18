import CSV
import Foundation
import Yams

/// Writes the database's inventory and automation to files that import back to the same content.
/// Secrets leave the database sealed under the same key unless `revealSecrets` is set.
public struct Exporter {
    public enum Format: String, CaseIterable, Sendable { case enms, json, csv }

    /// Any backend: the export reads through the neutral API only.
    public let database: any StoreBackend
    public let secrets: SecretBox
    public var revealSecrets = false

    public init(database: any StoreBackend, secrets: SecretBox, revealSecrets: Bool = false) {
        self.database = database; self.secrets = secrets; self.revealSecrets = revealSecrets
    }

    /// Everything in portable form, read in one transaction so the export is consistent.
    struct Snapshot {
        var devices: [Device] = []
        var links: [LinkView] = []
        var pools: [(Pool, [String])] = []
        var credentials: [Credential] = []
        var services: [(Service, [String], String?)] = []
        var edges: [PortableEdge] = []
        var tasks: [(ScheduledTask, String?)] = []
    }

    func snapshot() throws -> Snapshot {
        try database.query { r in
            var s = Snapshot()
            s.devices = try r.devices(filter: FilterExpression(terms: []))
            s.links = try r.links()
            s.pools = try r.pools().map { ($0, try r.manualDeviceNames(poolId: $0.id!)) }
            s.credentials = try r.credentials().sorted { $0.name < $1.name }
            let names = try r.serviceNames()
            // Services by name, then workflows by name (their members exist when they import).
            for svc in try r.services(workflows: false) + r.services(workflows: true) {
                if svc.kind == .workflow {
                    let nodes = try r.workflowNodes(workflowId: svc.id!)
                    let start = nodes.first(where: \.isStart).flatMap { names[$0.serviceId] }
                    s.services.append((svc, nodes.compactMap { names[$0.serviceId] }, start))
                    for e in try r.workflowEdges(workflowId: svc.id!) {
                        s.edges.append(PortableEdge(name: e.name, workflow: svc.name, source: names[e.sourceId] ?? "",
                                                    destination: names[e.destinationId] ?? "", subtype: e.subtype))
                    }
                } else {
                    s.services.append((svc, [], nil))
                }
            }
            s.tasks = try r.tasks().map { ($0, $0.serviceId.flatMap { names[$0] }) }
            return s
        }
    }

    /// Writes the export into `directory` (created if needed) and returns the files written.
    @discardableResult
    public func export(format: Format, to directory: String) throws -> [String] {
        do {
            let files = try exportFiles(format: format, to: directory)
            SecurityLog.record(revealSecrets ? "export.reveal_secrets" : "export", targets: directory,
                               detail: "format \(format.rawValue), \(files.count) file\(files.count == 1 ? "" : "s")")
            return files
        } catch {
            SecurityLog.record(revealSecrets ? "export.reveal_secrets" : "export", targets: directory, outcome: "failure", detail: "\(error)")
            throw error
        }
    }

    private func exportFiles(format: Format, to directory: String) throws -> [String] {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let snap = try snapshot()
        var credentials = snap.credentials
        if revealSecrets {
            for i in credentials.indices {
                credentials[i].secret = try secrets.open(credentials[i].secret)
                credentials[i].enableSecret = try secrets.open(credentials[i].enableSecret)
            }
        }
        switch format {
        case .json: return [try writeJSON(snap, credentials, directory)]
        case .csv: return try writeCSV(snap, directory)
        case .enms: return try writeEnms(snap, credentials, directory)
        }
    }

    func path(_ dir: String, _ name: String) -> String { (dir as NSString).appendingPathComponent(name) }

    /// Files holding secrets are created 0600: even sealed, they are nobody else's business.
    func write(_ data: Data, to path: String, secret: Bool = false) throws {
        do {
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
            if secret { try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path) }
        } catch {
            throw StoreError(.invalid, "cannot write \(path): \(error.localizedDescription)")
        }
    }

    // MARK: JSON

    struct JSONDocument: Encodable {
        var format = "switchboard-inventory"
        var version = 1
        var devices: [PortableDevice]
        var links: [PortableLink]
        var pools: [PortablePool]
        var credentials: [PortableCredential]
        var services: [PortableService]
        var workflowEdges: [PortableEdge]
        var tasks: [PortableTask]
    }

    func writeJSON(_ s: Snapshot, _ credentials: [Credential], _ dir: String) throws -> String {
        let doc = JSONDocument(
            devices: s.devices.map(PortableDevice.init),
            links: s.links.map { PortableLink(name: $0.name, source: $0.source, destination: $0.destination, description: $0.description, properties: $0.properties) },
            pools: s.pools.map { PortablePool(name: $0.0.name, description: $0.0.description, criteria: $0.0.activeCriteria, manualDevices: $0.1) },
            credentials: credentials.map(PortableCredential.init),
            services: s.services.map { PortableService($0.0, members: $0.0.kind == .workflow ? $0.1 : nil, start: $0.2) },
            workflowEdges: s.edges,
            tasks: s.tasks.map { PortableTask($0.0, service: $0.1) })
        let encoder = JSONEncoder.pretty
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let file = path(dir, "switchboard.json")
        try write(try encoder.encode(doc), to: file, secret: true)
        return file
    }

    // MARK: CSV (devices and links: what a spreadsheet holds)

    func writeCSV(_ s: Snapshot, _ dir: String) throws -> [String] {
        let custom = Array(Set(s.devices.flatMap { $0.properties.keys })).sorted()
        let columns = ["name", "address", "port", "platform", "vendor", "model", "os_version", "category",
                       "location", "description", "jump"] + custom
        let devicesFile = path(dir, "devices.csv")
        try write(try csv(columns, s.devices.map { d in columns.map { d.value(of: $0) ?? "" } }), to: devicesFile)
        let linkCustom = Array(Set(s.links.flatMap { $0.properties.keys })).sorted()
        let linkColumns = ["name", "source", "destination", "description"] + linkCustom
        let linksFile = path(dir, "links.csv")
        try write(try csv(linkColumns, s.links.map { l in
            [l.name, l.source, l.destination, l.description] + linkCustom.map { l.properties[$0]?.description ?? "" }
        }), to: linksFile)
        return [devicesFile, linksFile]
    }

    func csv(_ header: [String], _ rows: [[String]]) throws -> Data {
        let stream = OutputStream(toMemory: ())
        let writer = try CSVWriter(stream: stream)
        try writer.write(row: header)
        for row in rows { try writer.write(row: row) }
        writer.stream.close()
        return stream.property(forKey: .dataWrittenToMemoryStreamKey) as? Data ?? Data()
    }

    // MARK: eNMS migration YAML

    static let enmsTypes: [Service.Kind: String] = [
        .cli: "netmiko_commands_service", .config: "netmiko_configuration_service", .backup: "netmiko_backup_service",
        .ping: "ping_service", .rest: "rest_call_service", .validate: "data_validation_service",
        .unix: "unix_command_service", .workflow: "workflow",
    ]

    func writeEnms(_ s: Snapshot, _ credentials: [Credential], _ dir: String) throws -> [String] {
        var files: [String] = []
        func dump(_ name: String, _ records: [[String: Any]], secret: Bool = false) throws {
            let text = records.isEmpty ? "[]\n" : try Yams.dump(object: records, allowUnicode: true, sortKeys: true)
            let file = path(dir, name)
            try write(Data(text.utf8), to: file, secret: secret)
            files.append(file)
        }
        try dump("device.yaml", s.devices.map { d in
            var r: [String: Any] = ["name": d.name, "ip_address": d.address, "port": d.port, "netmiko_driver": d.platform,
                                    "os_version": d.osVersion, "vendor": d.vendor, "model": d.model, "location": d.location,
                                    "description": d.description, "subtype": d.category, "jump": d.jump, "type": "device"]
            for (k, v) in d.properties where r[k] == nil { r[k] = v.plain }
            return r
        })
        try dump("link.yaml", s.links.map { l in
            var r: [String: Any] = ["name": l.name, "source": l.source, "destination": l.destination,
                                    "description": l.description, "type": "link"]
            for (k, v) in l.properties where r[k] == nil { r[k] = v.plain }
            return r
        })
        try dump("pool.yaml", s.pools.map { p, manual in
            var r: [String: Any] = ["name": p.name, "description": p.description, "type": "pool",
                                    "manually_defined": p.activeCriteria.isEmpty]
            for c in p.activeCriteria {
                r["device_\(c.property)"] = c.value
                r["device_\(c.property)_match"] = c.match.rawValue
                r["device_\(c.property)_invert"] = c.invert
            }
            if p.activeCriteria.isEmpty { r["devices"] = manual } else if !manual.isEmpty { r["manual_devices"] = manual }
            return r
        })
        try dump("credential.yaml", credentials.map { c in
            // eNMS carries private properties base64-encoded; sealed ones stay as they are.
            func out(_ v: String) -> String { revealSecrets && !v.isEmpty ? Data(v.utf8).base64EncodedString() : v }
            var r: [String: Any] = ["name": c.name, "description": c.description, "username": c.username,
                                    "role": c.role.rawValue, "priority": c.priority, "device_pools": c.pools,
                                    "enable_password": out(c.enableSecret), "type": "credential"]
            switch c.secretKind {
            case .password: r["subtype"] = "password"; r["password"] = out(c.secret)
            case .key: r["subtype"] = "key"; r["private_key"] = out(c.secret)
            case .keyFile: r["subtype"] = "key_file"; r["key_file"] = c.keyFile; r["password"] = out(c.secret)
            }
            return r
        }, secret: true)
        try dump("service.yaml", try s.services.map { svc, members, start in
            var r: [String: Any] = ["name": svc.name, "description": svc.description,
                                    "type": Exporter.enmsTypes[svc.kind] ?? "switchboard_\(svc.kind.rawValue)_service",
                                    "target_devices": svc.devices, "target_pools": svc.pools]
            if svc.kind == .workflow { r["services"] = members }
            // What eNMS has no field for travels whole under `switchboard`, so the round trip is exact.
            let portable = PortableService(svc, members: nil, start: start)
            let encoder = JSONEncoder.sorted
            encoder.keyEncodingStrategy = .convertToSnakeCase
            r["switchboard"] = JSONValue(any: try JSONSerialization.jsonObject(with: encoder.encode(portable))).plain
            return r
        })
        try dump("workflow_edge.yaml", s.edges.map { e in
            ["name": e.name, "workflow": e.workflow, "source": e.source, "destination": e.destination,
             "subtype": e.subtype.rawValue, "type": "workflow_edge"] as [String: Any]
        })
        try dump("task.yaml", try s.tasks.map { t, service in
            var r: [String: Any] = ["name": t.name, "description": t.description, "is_active": t.active,
                                    "devices": t.devices, "pools": t.pools, "type": "task",
                                    "scheduling_mode": t.scheduleKind == .cron ? "crontab" : "standard",
                                    "crontab_expression": t.cron, "frequency": t.intervalSeconds ?? 0,
                                    "frequency_unit": "seconds"]
            if let service { r["service"] = service }
            let encoder = JSONEncoder.sorted
            encoder.keyEncodingStrategy = .convertToSnakeCase
            r["switchboard"] = JSONValue(any: try JSONSerialization.jsonObject(with: encoder.encode(PortableTask(t, service: service)))).plain
            return r
        })
        return files
    }
}

extension JSONValue {
    /// The value as plain Foundation objects, for YAML emission.
    var plain: Any {
        switch self {
        case .string(let s): return s
        case .int(let i): return i
        case .double(let d): return d
        case .bool(let b): return b
        case .array(let a): return a.map(\.plain)
        case .object(let o): return o.mapValues(\.plain)
        case .null: return NSNull()
        }
    }
}
