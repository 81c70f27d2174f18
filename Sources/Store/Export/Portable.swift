import Foundation

// Records as they travel in files: relations by name, not by row id. Used by the JSON export and import.

public struct PortableDevice: Codable, Sendable {
    public var name, address: String
    public var port: Int
    public var platform, vendor, model, osVersion, category, location, description, jump: String
    public var properties: [String: JSONValue]

    init(_ d: Device) {
        name = d.name; address = d.address; port = d.port; platform = d.platform; vendor = d.vendor
        model = d.model; osVersion = d.osVersion; category = d.category; location = d.location
        description = d.description; jump = d.jump; properties = d.properties
    }
}

public struct PortableLink: Codable, Sendable {
    public var name, source, destination, description: String
    public var properties: [String: JSONValue]
}

public struct PortablePool: Codable, Sendable {
    public var name: String
    public var description: String?
    public var criteria: [PoolCriterion]?
    public var manualDevices: [String]?

    func entry(_ at: SourceLocation) -> InventoryDocument.PoolEntry {
        .init(Pool(name: name, description: description ?? "", criteria: criteria ?? []), manualDevices: manualDevices ?? [], at: at)
    }
}

public struct PortableService: Codable, Sendable {
    public var name: String
    public var kind: Service.Kind
    public var description: String?
    public var parameters: [String: JSONValue]?
    public var devices: [String]?
    public var pools: [String]?
    public var targetFilter: String?
    public var runMethod: Service.RunMethod?
    public var maxProcesses: Int?
    public var retries: Int?
    public var retryDelay: Double?
    public var timeout: Double?
    public var credential: String?
    public var conversion: String?
    public var validation: [String: JSONValue]?
    public var traversal: String?
    public var maxNodeRuns: Int?
    /// For workflows: member services and the start node, by name.
    public var members: [String]?
    public var start: String?

    init(_ s: Service, members: [String]?, start: String?) {
        name = s.name; kind = s.kind; description = s.description; parameters = s.parameters; devices = s.devices
        pools = s.pools; targetFilter = s.targetFilter; runMethod = s.runMethod; maxProcesses = s.maxProcesses
        retries = s.retries; retryDelay = s.retryDelay; timeout = s.timeout; credential = s.credential
        conversion = s.conversion; validation = s.validation; traversal = s.traversal; maxNodeRuns = s.maxNodeRuns
        self.members = members; self.start = start
    }

    var service: Service {
        var s = Service(name: name, kind: kind, description: description ?? "", parameters: parameters ?? [:],
                        devices: devices ?? [], pools: pools ?? [])
        if let v = targetFilter { s.targetFilter = v }
        if let v = runMethod { s.runMethod = v }
        if let v = maxProcesses { s.maxProcesses = v }
        if let v = retries { s.retries = v }
        if let v = retryDelay { s.retryDelay = v }
        if let v = timeout { s.timeout = v }
        if let v = credential { s.credential = v }
        if let v = conversion { s.conversion = v }
        if let v = validation { s.validation = v }
        if let v = traversal { s.traversal = v }
        if let v = maxNodeRuns { s.maxNodeRuns = v }
        return s
    }

    func entry(_ at: SourceLocation) -> InventoryDocument.ServiceEntry {
        .init(service, members: members ?? [], start: start, at: at)
    }
}

public struct PortableEdge: Codable, Sendable {
    public var name, workflow, source, destination: String
    public var subtype: WorkflowEdge.Subtype

    func entry(_ at: SourceLocation) -> InventoryDocument.EdgeEntry {
        .init(name: name, workflow: workflow, source: source, destination: destination, subtype: subtype, at: at)
    }
}

public struct PortableTask: Codable, Sendable {
    public var name: String
    public var description: String?
    public var service: String?
    public var scheduleKind: ScheduledTask.ScheduleKind
    public var intervalSeconds: Int?
    public var cron: String?
    public var startDate: Date?
    public var endDate: Date?
    public var active: Bool?
    public var devices: [String]?
    public var pools: [String]?
    public var payload: [String: JSONValue]?
    /// When and where the task's runs notify (`{when, channels}`, as a service's `notify`); kept in
    /// the payload, which every run the task fires receives as its parameters (a run's `notify` wins
    /// over its service's).
    public var notify: JSONValue?
    public var timezone: String?
    public var misfirePolicy: ScheduledTask.MisfirePolicy?
    public var misfireGraceSeconds: Int?
    public var maxInstances: Int?

    init(_ t: ScheduledTask, service: String?) {
        name = t.name; description = t.description; self.service = service; scheduleKind = t.scheduleKind
        intervalSeconds = t.intervalSeconds; cron = t.cron; startDate = t.startDate; endDate = t.endDate
        active = t.active; devices = t.devices; pools = t.pools; timezone = t.timezone
        var rest = t.payload
        notify = rest.removeValue(forKey: "notify")
        payload = rest
        misfirePolicy = t.misfirePolicy; misfireGraceSeconds = t.misfireGraceSeconds; maxInstances = t.maxInstances
    }

    func entry(_ at: SourceLocation) throws -> InventoryDocument.TaskEntry {
        var t = ScheduledTask(name: name, serviceId: nil, scheduleKind: scheduleKind)
        t.description = description ?? ""; t.intervalSeconds = intervalSeconds; t.cron = cron ?? ""
        t.startDate = startDate; t.endDate = endDate; t.active = active ?? false; t.devices = devices ?? []
        t.pools = pools ?? []; t.payload = payload ?? [:]; t.timezone = timezone ?? ""
        if let notify, !notify.isNull {
            if let old = t.payload["notify"], !old.isNull, old != notify {
                throw importError(at, "task '\(name)': notify is given twice (as a field and in payload)")
            }
            t.payload["notify"] = notify
        }
        if let value = t.payload["notify"], !value.isNull {
            do { _ = try NotifySpec.parse(value) } catch let e as StoreError {
                throw importError(at, "task '\(name)': field notify: \(e.message)")
            }
        }
        if let v = misfirePolicy { t.misfirePolicy = v }
        if let v = misfireGraceSeconds { t.misfireGraceSeconds = v }
        if let v = maxInstances { t.maxInstances = v }
        return .init(t, service: service, at: at)
    }
}

public struct PortableCredential: Codable, Sendable {
    public var name: String
    public var description: String?
    public var username: String
    public var secretKind: Credential.SecretKind?
    /// Clear text, or sealed (`sb1:`) under the database's key.
    public var secret: String?
    public var keyFile: String?
    public var enableSecret: String?
    public var role: Credential.Role?
    public var priority: Int?
    public var pools: [String]?

    init(_ c: Credential) {
        name = c.name; description = c.description; username = c.username; secretKind = c.secretKind
        secret = c.secret; keyFile = c.keyFile; enableSecret = c.enableSecret; role = c.role
        priority = c.priority; pools = c.pools
    }

    var credential: Credential {
        Credential(name: name, description: description ?? "", username: username,
                   secretKind: secretKind ?? (keyFile.map { !$0.isEmpty } == true ? .keyFile : .password),
                   secret: secret ?? "", keyFile: keyFile ?? "", enableSecret: enableSecret ?? "",
                   role: role ?? .readWrite, priority: priority ?? 1, pools: pools ?? [])
    }
}
