import Foundation

/// Reads an eNMS migration folder (`device.yaml`, `link.yaml`, `pool.yaml`, `credential.yaml`,
/// `service.yaml`, `workflow_edge.yaml`, `task.yaml`), in any of the YAML styles eNMS has written:
/// plain block/flow style, and the tagged all-quoted style (`"port": !!int "22"`).
/// Records refer to each other by name, as in eNMS.
public enum EnmsParser {
    /// The files this importer reads, in dependency order.
    public static let modelFiles = ["device.yaml", "link.yaml", "pool.yaml", "credential.yaml", "service.yaml",
                                    "workflow_edge.yaml", "task.yaml"]

    /// eNMS service types and the kind each becomes here.
    public static let serviceKinds: [String: Service.Kind] = [
        "netmiko_commands_service": .cli, "scrapli_service": .cli,
        // eNMS before 2020: one command plus content validation.
        "netmiko_validation_service": .cli,
        "netmiko_configuration_service": .config,
        "netmiko_backup_service": .backup, "napalm_backup_service": .backup, "scrapli_backup_service": .backup,
        "ping_service": .ping, "rest_call_service": .rest, "data_validation_service": .validate,
        "unix_command_service": .unix, "workflow": .workflow,
    ]

    /// eNMS's start and end nodes. Kept as no-op services so workflow edges keep their shape.
    static let startService = "[Shared] Start"
    static let endService = "[Shared] End"

    public static func looksLikeEnmsFolder(_ path: String) -> Bool {
        modelFiles.contains { FileManager.default.fileExists(atPath: (path as NSString).appendingPathComponent($0)) }
    }

    public static func parse(folder: String) throws -> InventoryDocument {
        var doc = InventoryDocument()
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: folder, isDirectory: &isDir), isDir.boolValue else {
            throw importError(SourceLocation(file: folder), "not a folder of eNMS migration files")
        }
        let present = Set((try? fm.contentsOfDirectory(atPath: folder)) ?? [])
        var skipped = Set<String>()  // services of kinds switchboard does not have
        for name in present.sorted() where (name.hasSuffix(".yaml") || name.hasSuffix(".yml"))
            && !modelFiles.contains(name) && name != "metadata.yaml" {
            doc.warn("skipped \(name): not a kind of record switchboard keeps")
        }
        if !modelFiles.contains(where: present.contains) {
            throw importError(SourceLocation(file: folder), "no eNMS migration files here (expected some of \(modelFiles.joined(separator: ", ")))")
        }
        for name in modelFiles where present.contains(name) {
            let path = (folder as NSString).appendingPathComponent(name)
            let text: String
            do { text = try String(contentsOfFile: path, encoding: .utf8) }
            catch { throw importError(SourceLocation(file: path), "cannot read: \(error.localizedDescription)") }
            let records = try YAMLRecords.records(text, file: path)
            for r in records {
                let at = SourceLocation(file: path, line: r.line)
                var reader = FieldReader(fields: r.fields, at: at)
                switch name {
                case "device.yaml": if let d = try device(&reader, &doc) { doc.devices.append(d) }
                case "link.yaml": if let l = try link(&reader, &doc) { doc.links.append(l) }
                case "pool.yaml": doc.pools.append(try pool(&reader, &doc))
                case "credential.yaml": doc.credentials.append(try credential(&reader, &doc))
                case "service.yaml":
                    if let s = try service(&reader, &doc) { doc.services.append(s) }
                    else if case .string(let n)? = r.fields["name"] { skipped.insert(n) }
                case "workflow_edge.yaml": if let e = try edge(&reader, &doc) { doc.edges.append(e) }
                case "task.yaml": doc.tasks.append(try task(&reader, &doc))
                default: break
                }
            }
        }
        dropReferences(to: skipped, in: &doc)
        return doc
    }

    // MARK: records

    /// eNMS fields with no meaning here (UI, RBAC, eNMS's own bookkeeping): skipped and counted.
    static let ignoredCommon: Set<String> = [
        "type", "creator", "admin_only", "owners", "access_groups", "last_modified", "last_modified_by", "positions",
        "rbac_read", "rbac_edit", "rbac_run", "rbac_target", "rbac_connect", "rbac_configuration", "groups",
        "user_pools", "id", "persistent_id", "creation_time", "default_uuid", "scoped_name", "shared", "pools_id",
    ]
    static let ignoredDevice: Set<String> = [
        "icon", "napalm_driver", "scrapli_driver", "netconf_driver", "gateways", "down", "configuration",
        "operational_data", "specialized_data", "username", "password", "enable_password",
        "last_status", "last_failure", "last_runtime", "last_update", "last_duration", "pools", "services", "runs",
        "tasks", "sessions", "target_services", "devices", "links", "labels", "path", "device_changelogs",
    ]

    /// A device record; eNMS's network records (maps holding devices, `type: network`) are not devices
    /// and are skipped with a count. Only the fields present change a stored device.
    static func device(_ r: inout FieldReader, _ doc: inout InventoryDocument) throws -> InventoryDocument.DeviceEntry? {
        let name = try r.requiredString("name")
        if r.fields["type"]?.stringValue == "network" {
            doc.warn("device.yaml: skipped network records (eNMS maps of devices, not devices)")
            return nil
        }
        var given = Set<String>()
        for (key, field) in [("ip_address", "address"), ("port", "port"), ("os_version", "os_version"), ("vendor", "vendor"),
                             ("model", "model"), ("location", "location"), ("description", "description"),
                             ("subtype", "category"), ("category", "category"), ("jump", "jump")] where r.fields[key] != nil {
            given.insert(field)
        }
        // eNMS data carries stray white space in addresses ("192.168.56.50\t").
        var d = Device(name: name, address: (r.string("ip_address") ?? "").trimmingCharacters(in: .whitespacesAndNewlines))
        if let port = try r.int("port") { d.port = port }
        // netmiko_driver is eNMS's platform; operating_system is free text, used when it names one.
        let os = r.string("operating_system")
        if let driver = r.string("netmiko_driver"), !driver.trimmingCharacters(in: .whitespaces).isEmpty {
            d.platform = driver
            given.insert("platform")
        } else if let os, let p = platform(forOS: os) {
            d.platform = p
            given.insert("platform")
        }
        d.osVersion = r.string("os_version") ?? ""
        d.vendor = r.string("vendor") ?? ""
        d.model = r.string("model") ?? ""
        d.location = r.string("location") ?? ""
        d.description = r.string("description") ?? ""
        d.category = r.string("subtype") ?? r.string("category") ?? ""
        _ = r.take("category")
        d.jump = r.string("jump") ?? ""
        if let reach = r.take("reachable") { d.reachable = reach.boolValue }
        for key in r.remaining {
            if ignoredCommon.contains(key) || ignoredDevice.contains(key) || key.hasPrefix("last_") {
                doc.warn("device.yaml: skipped field \(key)")
                r.consume(key)
            } else if let v = r.take(key), !v.isNull {
                // Unknown device fields are the user's own data: keep them as custom properties.
                d.properties[key] = v
            }
        }
        return .init(d, at: r.at, given: given)
    }

    static func platform(forOS os: String) -> String? {
        switch os.lowercased().replacingOccurrences(of: "-", with: "").replacingOccurrences(of: " ", with: "") {
        case "ios", "iosxe", "cisco_ios": return "cisco_ios"
        case "nxos", "cisco_nxos": return "cisco_nxos"
        case "eos", "arista_eos": return "arista_eos"
        case "junos", "juniper_junos", "juniper": return "juniper_junos"
        case "linux", "ubuntu", "debian", "centos", "redhat": return "linux"
        default: return nil
        }
    }

    /// A link record; one without a source or destination (eNMS has written such links) is skipped with a note.
    static func link(_ r: inout FieldReader, _ doc: inout InventoryDocument) throws -> InventoryDocument.LinkEntry? {
        let name = try r.requiredString("name")
        let source = r.string("source") ?? r.string("source_name") ?? ""
        let destination = r.string("destination") ?? r.string("destination_name") ?? ""
        _ = r.take("source_name"); _ = r.take("destination_name")
        let missing = [("source", source), ("destination", destination)].filter { $0.1.trimmingCharacters(in: .whitespaces).isEmpty }.map(\.0)
        if !missing.isEmpty {
            doc.skip(r.at, "link '\(name)'", "no \(missing.joined(separator: " or ")) device", category: InventoryWriter.linkCategory, kind: "link")
            return nil
        }
        var entry = InventoryDocument.LinkEntry(name: name, source: source, destination: destination,
                                                description: r.string("description") ?? "", at: r.at)
        for key in r.remaining {
            if ignoredCommon.contains(key) || key.hasSuffix("_id") || key == "pools" {
                doc.warn("link.yaml: skipped field \(key)")
                r.consume(key)
            } else if let v = r.take(key), !v.isNull {
                entry.properties[key] = v
            }
        }
        return entry
    }

    static func pool(_ r: inout FieldReader, _ doc: inout InventoryDocument) throws -> InventoryDocument.PoolEntry {
        let name = try r.requiredString("name")
        var pool = Pool(name: name, description: r.string("description") ?? "")
        let manual = r.take("manually_defined")?.boolValue ?? false
        let members = r.take("devices")?.arrayValue?.compactMap(\.stringValue) ?? []
        // switchboard's own export: manual devices on a pool that also has criteria.
        let extraManual = r.take("manual_devices")?.arrayValue?.compactMap(\.stringValue) ?? []
        let op = r.string("operator")
        if let op, op.lowercased() == "any" {
            throw importError(r.at, "pool '\(name)': operator 'any' (criteria ORed) is not supported; split the pool")
        }
        // eNMS before 4.0 wrote `operator` and no `_invert` keys; such a pool with no device criterion
        // held every device.
        let oldFormat = op != nil
        // `device_number` (and `link_number`, …) are eNMS's stored member counts, not criteria.
        for counter in r.remaining where counter.hasSuffix("_number") && !r.remaining.contains(counter + "_match") {
            r.consume(counter)
        }
        var criteria: [PoolCriterion] = []
        var skippedModels = Set<String>()
        let criterionKeys = r.remaining.filter { key in
            !key.hasSuffix("_match") && !key.hasSuffix("_invert") && key.contains("_")
                && (r.remaining.contains(key + "_match") || r.remaining.contains(key + "_invert") || key.hasPrefix("device_"))
        }
        for key in criterionKeys.sorted() {
            let model = String(key.prefix { $0 != "_" })
            let value = r.take(key)?.description ?? ""
            let matchText = r.string(key + "_match") ?? "inclusion"
            let invert = r.take(key + "_invert")?.boolValue ?? false
            guard model == "device" else {
                if !value.isEmpty || matchText == "empty" { skippedModels.insert(model) }
                continue
            }
            guard let match = MatchType(rawValue: matchText) else {
                throw importError(r.at, "pool '\(name)': \(key)_match '\(matchText)' is not one of inclusion, equality, regex, empty")
            }
            let c = PoolCriterion(property: String(key.dropFirst("device_".count)), value: value, match: match, invert: invert)
            if c.isActive { criteria.append(c) }
        }
        for model in skippedModels.sorted() { doc.warn("pool.yaml: skipped \(model) criteria (pools here hold devices only)") }
        for key in r.remaining {
            let v = r.take(key)
            if key.hasSuffix("_match") || key.hasSuffix("_invert") { continue }
            if !(v?.isNull ?? true) && !["links", "services", "users", "target_services", "tasks", "runs", "credential_devices"].contains(key) || ignoredCommon.contains(key) {
                doc.warn("pool.yaml: skipped field \(key)")
            }
        }
        if oldFormat && criteria.isEmpty && !manual {
            criteria = [PoolCriterion(property: "name", value: ".*", match: .regex)]
        }
        if manual {
            return .init(pool, manualDevices: members, at: r.at)
        }
        pool.criteria = criteria
        pool.criteriaKey = Pool.canonicalKey(criteria)
        // A dynamic pool's `devices` list is eNMS's stale snapshot; membership is recomputed here.
        return .init(pool, manualDevices: extraManual, at: r.at)
    }

    static func credential(_ r: inout FieldReader, _ doc: inout InventoryDocument) throws -> InventoryDocument.CredentialEntry {
        let name = try r.requiredString("name")
        var c = Credential(name: name, description: r.string("description") ?? "", username: r.string("username") ?? "")
        let subtype = r.string("subtype") ?? "password"
        switch subtype {
        case "password":
            c.secretKind = .password
            c.secret = decodeSecret(r.string("password") ?? "")
            _ = r.take("private_key")
        case "key":
            c.secretKind = .key
            c.secret = decodeSecret(r.string("private_key") ?? "")
            _ = r.take("password")
        case "key_file":
            c.secretKind = .keyFile
            c.keyFile = r.string("key_file") ?? ""
            c.secret = decodeSecret(r.string("password") ?? "")
        default:
            throw importError(r.at, "credential '\(name)': subtype '\(subtype)' is not password or key")
        }
        c.enableSecret = decodeSecret(r.string("enable_password") ?? "")
        if let role = r.string("role") {
            guard let parsed = Credential.Role(rawValue: role) else {
                throw importError(r.at, "credential '\(name)': role '\(role)' is not read-only or read-write")
            }
            c.role = parsed
        }
        if let p = try r.int("priority") { c.priority = p }
        c.pools = r.take("device_pools")?.arrayValue?.compactMap(\.stringValue) ?? []
        for key in r.remaining { r.consume(key); doc.warn("credential.yaml: skipped field \(key)") }
        return .init(c, at: r.at)
    }

    /// eNMS exports private properties base64-encoded; our own exports carry them sealed (`sb1:`).
    /// Text that is not valid base64 of UTF-8 is taken as it is.
    static func decodeSecret(_ text: String) -> String {
        if text.isEmpty || SecretBox.isEncrypted(text) { return text }
        if let data = Data(base64Encoded: text), let s = String(data: data, encoding: .utf8),
           !s.isEmpty, s.unicodeScalars.allSatisfy({ $0.value >= 0x20 || $0 == "\n" || $0 == "\r" || $0 == "\t" }) {
            return s
        }
        return text
    }

    static func service(_ r: inout FieldReader, _ doc: inout InventoryDocument) throws -> InventoryDocument.ServiceEntry? {
        let name = try r.requiredString("name")
        if let own = r.take("switchboard")?.objectValue {
            // switchboard's own export: every field travels under `switchboard`.
            let members = r.take("services")?.arrayValue?.compactMap(\.stringValue) ?? []
            var portable = try FlatFileParser.decode(PortableService.self, own, r.at)
            portable.name = name
            return .init(portable.service, members: members, start: portable.start, at: r.at)
        }
        let type = r.string("type") ?? ""
        let kind: Service.Kind
        if name == startService || name == endService {
            kind = .wait
        } else if let k = serviceKinds[type] {
            kind = k
        } else {
            doc.warn("service.yaml: skipped service type \(type.isEmpty ? "(none)" : type)")
            return nil
        }
        var s = Service(name: name, kind: kind, description: r.string("description") ?? "")
        if kind == .wait { s.parameters["seconds"] = .int(0) }
        s.devices = (r.take("target_devices") ?? r.take("devices"))?.arrayValue?.compactMap(\.stringValue) ?? []
        s.pools = (r.take("target_pools") ?? r.take("pools"))?.arrayValue?.compactMap(\.stringValue) ?? []
        if let n = try r.int("number_of_retries") { s.retries = n }
        if let d = r.take("time_between_retries")?.description, let v = Double(d) { s.retryDelay = v }
        if let n = try r.int("max_processes") { s.maxProcesses = max(1, n) }
        if let t = r.take("timeout")?.description, let v = Double(t), v > 0 { s.timeout = v }
        if let m = r.string("run_method") {
            if kind == .workflow {
                // eNMS's per_service_* on a workflow means "service by service over the workflow's targets".
                s.traversal = m == "per_device" ? "device" : "service"
            } else {
                s.runMethod = m == "per_device" ? .perDevice : .once
            }
        }
        if let c = r.string("conversion_method"), ["text", "json"].contains(c) { s.conversion = c }
        if let payload = r.take("initial_payload")?.objectValue, !payload.isEmpty { s.parameters["payload"] = .object(payload) }
        let negate = r.take("negative_logic")?.boolValue ?? false
        let match = r.string("content_match") ?? ""
        let isRegex = r.take("content_match_regex")?.boolValue ?? false
        if !match.isEmpty {
            s.validation = ["kind": .string(isRegex ? "regex" : "contains"), "value": .string(match), "negate": .bool(negate)]
        }
        func lines(_ text: String?) -> JSONValue {
            .array((text ?? "").split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.map(JSONValue.string))
        }
        var members: [String] = []
        switch kind {
        case .cli: s.parameters["commands"] = lines(r.string("commands") ?? r.string("command"))
        case .config: s.parameters["lines"] = lines(r.string("content"))
        case .ping:
            if let n = try r.int("count") { s.parameters["count"] = .int(n) }
        case .rest:
            if let url = r.string("rest_url") { s.parameters["url"] = .string(url) }
            s.parameters["method"] = .string(r.string("call_type") ?? "GET")
            if let p = r.take("payload"), !p.isNull { s.parameters["body"] = .string(p.description) }
            if let h = r.take("headers")?.objectValue { s.parameters["headers"] = .object(h) }
        case .unix:
            if let c = r.string("command") { s.parameters["command"] = .string(c) }
        case .workflow:
            members = r.take("services")?.arrayValue?.compactMap(\.stringValue) ?? []
        default: break
        }
        // eNMS's Netmiko/Scrapli services say whether to enter enable mode (its default: yes).
        if [.cli, .config, .backup].contains(kind), let enable = r.take("enable_mode"), let value = enable.boolValue ?? enable.stringValue.map({ $0.lowercased() == "true" }) {
            s.parameters["enable_mode"] = .bool(value)
        }
        for key in r.remaining { r.consume(key); doc.warn("service.yaml: skipped field \(key)") }
        return .init(s, members: members, start: members.contains(startService) ? startService : nil, at: r.at)
    }

    static func edge(_ r: inout FieldReader, _ doc: inout InventoryDocument) throws -> InventoryDocument.EdgeEntry? {
        let workflow = try r.requiredString("workflow")
        let source = try r.requiredString("source")
        let destination = try r.requiredString("destination")
        let subtypeText = r.string("subtype") ?? "success"
        guard let subtype = WorkflowEdge.Subtype(rawValue: subtypeText) else {
            doc.warn("workflow_edge.yaml: skipped \(subtypeText) edges")
            return nil
        }
        let name = r.string("name") ?? "\(source) → \(destination) (\(subtype.rawValue))"
        for key in r.remaining { r.consume(key) }
        return .init(name: name, workflow: workflow, source: source, destination: destination, subtype: subtype, at: r.at)
    }

    static func task(_ r: inout FieldReader, _ doc: inout InventoryDocument) throws -> InventoryDocument.TaskEntry {
        let name = try r.requiredString("name")
        let service = r.string("service")
        if let own = r.take("switchboard")?.objectValue {
            var portable = try FlatFileParser.decode(PortableTask.self, own, r.at)
            portable.name = name
            return try portable.entry(r.at)
        }
        let mode = r.string("scheduling_mode") ?? "standard"
        let frequency = try r.int("frequency") ?? 0
        let unit = r.string("frequency_unit") ?? "seconds"
        let cron = r.string("crontab_expression") ?? ""
        var t: ScheduledTask
        if mode == "crontab" {
            t = ScheduledTask(name: name, serviceId: nil, scheduleKind: .cron)
            t.cron = cron
        } else if frequency > 0 {
            t = ScheduledTask(name: name, serviceId: nil, scheduleKind: .interval)
            let factor: Int
            switch unit {
            case "seconds": factor = 1
            case "minutes": factor = 60
            case "hours": factor = 3600
            case "days": factor = 86400
            case "weeks": factor = 604800
            default: throw importError(r.at, "task '\(name)': frequency_unit '\(unit)' is not seconds, minutes, hours, days or weeks")
            }
            t.intervalSeconds = frequency * factor
        } else {
            t = ScheduledTask(name: name, serviceId: nil, scheduleKind: .once)
        }
        t.description = r.string("description") ?? ""
        t.startDate = try date(r.string("start_date"), r.at, "start_date")
        t.endDate = try date(r.string("end_date"), r.at, "end_date")
        t.active = r.take("is_active")?.boolValue ?? false
        t.devices = r.take("devices")?.arrayValue?.compactMap(\.stringValue) ?? []
        t.pools = r.take("pools")?.arrayValue?.compactMap(\.stringValue) ?? []
        t.payload = r.take("initial_payload")?.objectValue ?? [:]
        if service == nil || service!.isEmpty { doc.warn("task.yaml: tasks without a service (imported, never fire)") }
        for key in r.remaining { r.consume(key); doc.warn("task.yaml: skipped field \(key)") }
        return .init(t, service: (service?.isEmpty ?? true) ? nil : service, at: r.at)
    }

    /// eNMS writes dates as `dd/mm/yyyy HH:MM:SS` or `yyyy-mm-dd HH:MM:SS(.ffffff)`; ISO 8601 also accepted.
    static func date(_ text: String?, _ at: SourceLocation, _ field: String) throws -> Date? {
        guard let text, !text.isEmpty, text != "Never" else { return nil }
        if let d = DateParsing.parse(text) { return d }
        throw importError(at, "\(field) '\(text)' is not a date (expected dd/mm/yyyy HH:MM:SS or ISO 8601)")
    }

    /// Workflow members, edges and tasks that point at services skipped above lose them, with a count.
    /// (References to services already in the database are left for the writer to resolve.)
    static func dropReferences(to skipped: Set<String>, in doc: inout InventoryDocument) {
        func known(_ name: String) -> Bool { !skipped.contains(name) }
        for i in doc.services.indices where doc.services[i].service.kind == .workflow {
            let before = doc.services[i].members.count
            doc.services[i].members.removeAll { !known($0) }
            let dropped = before - doc.services[i].members.count
            if dropped > 0 { doc.warn("service.yaml: workflow members dropped with their skipped services", count: dropped) }
        }
        for i in doc.tasks.indices {
            if let service = doc.tasks[i].service, !known(service) {
                doc.tasks[i].service = nil
                doc.tasks[i].task.active = false
                doc.warn("task.yaml: tasks whose service was skipped (imported without a service, never fire)")
            }
        }
        let before = doc.edges.count
        doc.edges.removeAll { !known($0.source) || !known($0.destination) }
        if doc.edges.count < before { doc.warn("workflow_edge.yaml: edges dropped with their skipped services", count: before - doc.edges.count) }
    }
}

/// Reads typed fields out of a record, remembering which were used so the rest can be reported.
struct FieldReader {
    var fields: [String: JSONValue]
    let at: SourceLocation

    var remaining: [String] { Array(fields.keys) }

    mutating func take(_ key: String) -> JSONValue? { fields.removeValue(forKey: key) }
    mutating func consume(_ key: String) { fields.removeValue(forKey: key) }

    mutating func string(_ key: String) -> String? {
        guard let v = take(key), !v.isNull else { return nil }
        return v.description
    }

    mutating func requiredString(_ key: String) throws -> String {
        guard let s = string(key), !s.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw importError(at, "record has no \(key)")
        }
        return s
    }

    mutating func int(_ key: String) throws -> Int? {
        guard let v = take(key), !v.isNull else { return nil }
        if let i = v.intValue { return i }
        if case .string(let s) = v, s.isEmpty { return nil }
        throw importError(at, "\(key): '\(v.description)' is not an integer")
    }
}
