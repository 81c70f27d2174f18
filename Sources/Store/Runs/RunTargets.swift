import Foundation
import GRDB

/// What a launch would run on, decided before anything is queued: the devices the targets resolve
/// to (the launch's own targets, else the service's, as the engine resolves them when the run
/// starts), whether the service needs devices at all, and whether it changes them.
public enum RunTargets {
    /// The device names the targets resolve to, sorted; nil when there are no targets at all (the
    /// engine then runs the service once, without a device).
    public static func resolve(_ db: any StoreReader, service: Service, devices: [String], pools: [String],
                               filter: String) throws -> [String]? {
        var (d, p, f) = (devices, pools, filter.trimmingCharacters(in: .whitespaces))
        if d.isEmpty && p.isEmpty && f.isEmpty { (d, p, f) = (service.devices, service.pools, service.targetFilter) }
        if d.isEmpty && p.isEmpty && f.isEmpty { return nil }
        var names = Set<String>()
        for name in d {
            guard let device = try db.device(named: name) else { throw StoreError.notFound("no device named '\(name)'") }
            names.insert(device.name)
        }
        for pool in p {
            guard try db.pool(named: pool) != nil else { throw StoreError.notFound("no pool named '\(pool)'") }
            for device in try db.poolDevices(named: pool) { names.insert(device.name) }
        }
        if !f.isEmpty {
            let expression: FilterExpression
            do { expression = try FilterExpression.parse(f) } catch { throw StoreError.invalid("filter '\(f)': \(error)") }
            for device in try db.devices(filter: expression, knownProperties: try db.devicePropertyNames()) {
                names.insert(device.name)
            }
        }
        return names.sorted()
    }

    /// Whether the service can only run on a device: the kinds that talk to one (cli, config,
    /// backup), ping and tcp without an `address`, and any service whose parameters use
    /// `{{device.…}}`; a workflow when one of its services does. A `once` service never does.
    public static func needsDevices(_ db: any StoreReader, service: Service) throws -> Bool {
        var seen = Set<Int64>()
        return try needsDevices(db, service, &seen)
    }

    private static func needsDevices(_ db: any StoreReader, _ service: Service, _ seen: inout Set<Int64>) throws -> Bool {
        if service.runMethod == .once { return false }
        switch service.kind {
        case .cli, .config, .backup: return true
        case .ping, .tcp: if service.parameters["address"]?.stringValue == nil { return true }
        case .workflow:
            guard let id = service.id, seen.insert(id).inserted else { return false }
            return try members(db, of: id).contains { try needsDevices(db, $0, &seen) }
        default: break
        }
        return usesDevice(.object(service.parameters))
    }

    /// Whether the service changes what it runs on, as launched: `config` unless in dry run (the
    /// launch's `dry_run` parameter, else the service's), `unix`, `rest` with a method other than
    /// GET or HEAD, and a workflow holding any of these.
    public static func changesDevices(_ db: any StoreReader, service: Service, dryRun: Bool?) throws -> Bool {
        var seen = Set<Int64>()
        return try changes(db, service, dryRun: dryRun, &seen)
    }

    private static func changes(_ db: any StoreReader, _ service: Service, dryRun: Bool?, _ seen: inout Set<Int64>) throws -> Bool {
        switch service.kind {
        case .config: return !(dryRun ?? service.parameters["dry_run"]?.boolValue ?? false)
        case .unix: return true
        case .rest: return !["GET", "HEAD"].contains((service.parameters["method"]?.stringValue ?? "GET").uppercased())
        case .workflow:
            guard let id = service.id, seen.insert(id).inserted else { return false }
            return try members(db, of: id).contains { try changes(db, $0, dryRun: dryRun, &seen) }
        default: return false
        }
    }

    /// The service's dry run as saved: nil when it means nothing (no `config` service in it); for a
    /// workflow, true only when every `config` service in it is a dry run.
    public static func dryRunDefault(_ db: any StoreReader, service: Service) throws -> Bool? {
        var seen = Set<Int64>()
        var found: [Bool] = []
        func walk(_ s: Service) throws {
            if s.kind == .config { found.append(s.parameters["dry_run"]?.boolValue ?? false) }
            guard s.kind == .workflow, let id = s.id, seen.insert(id).inserted else { return }
            for m in try members(db, of: id) { try walk(m) }
        }
        try walk(service)
        return found.isEmpty ? nil : found.allSatisfy { $0 }
    }

    /// A workflow's services (itself left out), through the neutral reads so both backends share this logic.
    static func members(_ db: any StoreReader, of workflow: Int64) throws -> [Service] {
        try db.workflowNodes(workflowId: workflow).compactMap { node in
            node.serviceId == workflow ? nil : try db.service(id: node.serviceId)
        }
    }

    private static func usesDevice(_ value: JSONValue) -> Bool {
        switch value {
        case .string(let s): return s.range(of: #"\{\{\s*device\."#, options: .regularExpression) != nil
        case .array(let a): return a.contains(where: usesDevice)
        case .object(let o): return o.values.contains(where: usesDevice)
        default: return false
        }
    }

    /// Refuses a launch that would queue a run with nothing to run on: the service needs devices and
    /// the targets are missing or match none. Returns the resolved device names (nil: runs once).
    @discardableResult
    public static func check(_ db: any StoreReader, service: Service, devices: [String], pools: [String],
                             filter: String) throws -> [String]? {
        let names = try resolve(db, service: service, devices: devices, pools: pools, filter: filter)
        guard try needsDevices(db, service: service), names?.isEmpty ?? true else { return names }
        let what = "'\(service.name)' (\(service.kind.rawValue)) runs on devices"
        guard names != nil else {
            throw StoreError(.noTargets, "\(what), and neither the launch nor the \(service.kind == .workflow ? "workflow" : "service") names any: give devices, pools or a filter")
        }
        var given: [String] = []
        let launched = !(devices.isEmpty && pools.isEmpty && filter.trimmingCharacters(in: .whitespaces).isEmpty)
        let (d, p, f) = launched ? (devices, pools, filter) : (service.devices, service.pools, service.targetFilter)
        if !d.isEmpty { given.append("devices \(d.joined(separator: ", "))") }
        if !p.isEmpty { given.append("pool\(p.count == 1 ? "" : "s") \(p.joined(separator: ", "))") }
        if !f.isEmpty { given.append("filter \(f)") }
        throw StoreError(.noTargets, "\(what), and its targets (\(launched ? "" : "its own: ")\(given.joined(separator: "; "))) match no device")
    }

    // The SQLite console's entry points, on a GRDB connection.
    public static func resolve(_ db: Database, service: Service, devices: [String], pools: [String], filter: String) throws -> [String]? {
        try resolve(SQLiteExecutor(db: db) as any StoreReader, service: service, devices: devices, pools: pools, filter: filter)
    }
    public static func needsDevices(_ db: Database, service: Service) throws -> Bool {
        try needsDevices(SQLiteExecutor(db: db) as any StoreReader, service: service)
    }
    public static func changesDevices(_ db: Database, service: Service, dryRun: Bool?) throws -> Bool {
        try changesDevices(SQLiteExecutor(db: db) as any StoreReader, service: service, dryRun: dryRun)
    }
    public static func dryRunDefault(_ db: Database, service: Service) throws -> Bool? {
        try dryRunDefault(SQLiteExecutor(db: db) as any StoreReader, service: service)
    }
    @discardableResult
    public static func check(_ db: Database, service: Service, devices: [String], pools: [String], filter: String) throws -> [String]? {
        try check(SQLiteExecutor(db: db) as any StoreReader, service: service, devices: devices, pools: pools, filter: filter)
    }
}
