import Foundation
import GRDB

/// Reads and writes of inventory records that keep derived state (pool membership) current.
/// Functions taking a `Database` run inside the caller's transaction, so an import can batch them.
public enum Inventory {
    // MARK: devices

    /// SQL expressions for the device fields a filter may name.
    static func deviceColumn(_ field: String) -> String? {
        switch field {
        case "name", "address", "port", "platform", "vendor", "model", "os_version", "category", "location",
             "description", "jump", "last_run_status", "last_backup_status", "id":
            return "device.\(field)"
        case "ip_address": return "device.address"
        case "operating_system": return "device.platform"
        default:
            guard field.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else { return nil }
            return "json_extract(device.properties, '$.\"\(field)\"')"
        }
    }

    static let deviceSearchColumns = ["device.name", "device.address", "device.platform", "device.vendor",
                                      "device.model", "device.category", "device.location", "device.description"]

    /// Devices matching a filter expression, by name.
    public static func devices(_ db: Database, filter: FilterExpression = FilterExpression(terms: []),
                               knownProperties: Set<String>? = nil) throws -> [Device] {
        try checkFilterFields(filter, knownProperties: knownProperties)
        let (cond, args) = try filter.sql(column: deviceColumn, searchable: deviceSearchColumns)
        return try Device.fetchAll(db, sql: "SELECT * FROM device WHERE \(cond) ORDER BY name", arguments: args)
    }

    /// With `knownProperties` (custom property names), a filter naming an unknown field is refused
    /// instead of matching nothing (every backend).
    public static func checkFilterFields(_ filter: FilterExpression, knownProperties: Set<String>?) throws {
        guard let known = knownProperties else { return }
        for f in filter.fields where !Device.builtinFields.contains(f) && !["ip_address", "operating_system", "id"].contains(f) && !known.contains(f) {
            throw StoreError.invalid("filter: unknown device field '\(f)' (fields: \((Device.builtinFields + known.sorted()).joined(separator: ", ")))")
        }
    }

    /// The fields a bare filter word is looked for in, as `Device.value(of:)` names them: the
    /// columns of `deviceSearchColumns`, for a backend that evaluates filters in Swift.
    public static let deviceSearchFields = ["name", "address", "platform", "vendor", "model", "category", "location", "description"]

    /// Custom property names in use on devices, plus those declared.
    public static func devicePropertyNames(_ db: Database) throws -> Set<String> {
        Set(try String.fetchAll(db, sql: "SELECT DISTINCT key FROM device, json_each(device.properties)"))
    }

    public static func device(_ db: Database, named name: String) throws -> Device? {
        // Cached statements: runs and `exec` resolve hundreds of devices, and parsing the SQL anew
        // for each was a fifth of `exec`'s CPU over 200 devices.
        try Device.fetchOne(db.cachedStatement(sql: "SELECT * FROM device WHERE name = ?"), arguments: [name])
    }

    public static func device(_ db: Database, id: Int64) throws -> Device? {
        try Device.fetchOne(db.cachedStatement(sql: "SELECT * FROM device WHERE id = ?"), arguments: [id])
    }

    /// Inserts or updates a device by name. With `updateMembership` false the caller recomputes pools later.
    @discardableResult
    public static func upsert(_ db: Database, device: Device, updateMembership: Bool = true) throws -> Device {
        var d = device
        d.platform = normalizedPlatform(d.platform)
        try validate(d)
        if let existing = try Int64.fetchOne(db, sql: "SELECT id FROM device WHERE name = ?", arguments: [device.name]) {
            d.id = existing
            try d.update(db)
        } else {
            d.id = nil
            try d.insert(db)
        }
        if updateMembership { try PoolMembership.deviceChanged(db, d) }
        return d
    }

    /// A platform name as stored: trimmed and lower-cased, `autodetect` when empty. Aliases (`ios`,
    /// `cisco.ios.ios`, `eos`…) are kept as given; the engine's platform catalog maps them. This is the
    /// one place a store-side alias table would go.
    public static func normalizedPlatform(_ name: String) -> String {
        let p = name.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        return p.isEmpty ? InventoryDocument.defaultPlatform : p
    }

    public static func validate(_ d: Device) throws {
        if d.name.trimmingCharacters(in: .whitespaces).isEmpty { throw StoreError.invalid("device: name is empty") }
        // Commas are allowed (eNMS has "Router behind Gateway 1, 2 and 3"); such a device cannot be
        // named in a jump chain, which is comma separated.
        if d.name.contains(where: { $0.isNewline || $0.asciiValue.map { $0 < 0x20 || $0 == 0x7f } == true }) {
            throw StoreError.invalid("device \(d.name): name may not contain control characters or newlines")
        }
        if !(1...65535).contains(d.port) { throw StoreError.invalid("device \(d.name): port \(d.port) is not in 1...65535") }
    }

    public static func deleteDevice(_ db: Database, named name: String) throws {
        guard let id = try Int64.fetchOne(db, sql: "SELECT id FROM device WHERE name = ?", arguments: [name]) else {
            throw StoreError.notFound("no device named '\(name)'")
        }
        try PoolMembership.deviceDeleted(db, id: id)
        try db.execute(sql: "DELETE FROM device WHERE id = ?", arguments: [id])
    }

    // MARK: links

    public static func links(_ db: Database) throws -> [LinkView] {
        try LinkView.fetchAll(db, sql: """
            SELECT link.id, link.name, s.name AS source, d.name AS destination, link.description, link.properties
            FROM link JOIN device s ON s.id = link.source_id JOIN device d ON d.id = link.destination_id
            ORDER BY link.name
            """)
    }

    @discardableResult
    public static func upsertLink(_ db: Database, name: String, source: String, destination: String,
                                  description: String = "", properties: [String: JSONValue] = [:]) throws -> Link {
        guard let s = try Int64.fetchOne(db, sql: "SELECT id FROM device WHERE name = ?", arguments: [source]) else {
            throw StoreError.invalid("link \(name): source device '\(source)' does not exist")
        }
        guard let d = try Int64.fetchOne(db, sql: "SELECT id FROM device WHERE name = ?", arguments: [destination]) else {
            throw StoreError.invalid("link \(name): destination device '\(destination)' does not exist")
        }
        var link = Link(name: name, sourceId: s, destinationId: d, description: description, properties: properties)
        if let existing = try Int64.fetchOne(db, sql: "SELECT id FROM link WHERE name = ?", arguments: [name]) {
            link.id = existing
            try link.update(db)
        } else {
            try link.insert(db)
        }
        return link
    }

    // MARK: pools

    public static func pools(_ db: Database) throws -> [Pool] {
        try Pool.fetchAll(db, sql: "SELECT * FROM pool ORDER BY name")
    }

    public static func pool(_ db: Database, named name: String) throws -> Pool? {
        try Pool.fetchOne(db, sql: "SELECT * FROM pool WHERE name = ?", arguments: [name])
    }

    /// Inserts or updates a pool by name; `manualDevices` (names), when given, replaces the manual members.
    @discardableResult
    public static func upsert(_ db: Database, pool: Pool, manualDevices: [String]? = nil,
                              updateMembership: Bool = true) throws -> Pool {
        var p = pool
        if p.name.trimmingCharacters(in: .whitespaces).isEmpty { throw StoreError.invalid("pool: name is empty") }
        p.criteriaKey = Pool.canonicalKey(p.criteria)
        try PoolMembership.validate(p)
        if let existing = try Int64.fetchOne(db, sql: "SELECT id FROM pool WHERE name = ?", arguments: [p.name]) {
            p.id = existing
            p.memberCount = try Int.fetchOne(db, sql: "SELECT member_count FROM pool WHERE id = ?", arguments: [existing]) ?? 0
            try p.update(db)
        } else {
            p.id = nil
            try p.insert(db)
        }
        if let manualDevices {
            try db.execute(sql: "DELETE FROM pool_manual WHERE pool_id = ?", arguments: [p.id!])
            for name in manualDevices {
                guard let did = try Int64.fetchOne(db, sql: "SELECT id FROM device WHERE name = ?", arguments: [name]) else {
                    throw StoreError.invalid("pool \(p.name): device '\(name)' does not exist")
                }
                try db.execute(sql: "INSERT OR IGNORE INTO pool_manual(pool_id, device_id) VALUES (?, ?)", arguments: [p.id!, did])
            }
        }
        if updateMembership {
            try PoolMembership.poolChanged(db, p)
            p.memberCount = try Int.fetchOne(db, sql: "SELECT member_count FROM pool WHERE id = ?", arguments: [p.id!]) ?? 0
        }
        return p
    }

    public static func deletePool(_ db: Database, named name: String) throws {
        guard try Int64.fetchOne(db, sql: "SELECT id FROM pool WHERE name = ?", arguments: [name]) != nil else {
            throw StoreError.notFound("no pool named '\(name)'")
        }
        try db.execute(sql: "DELETE FROM pool WHERE name = ?", arguments: [name])
        try PoolMembership.dropUnusedSets(db)
    }

    /// The devices of a pool, by name.
    public static func poolDevices(_ db: Database, named name: String) throws -> [Device] {
        guard let id = try Int64.fetchOne(db, sql: "SELECT id FROM pool WHERE name = ?", arguments: [name]) else {
            throw StoreError.notFound("no pool named '\(name)'")
        }
        let ids = try PoolMembership.memberIds(db, poolId: id)
        if ids.isEmpty { return [] }
        // The member set is sorted by id; walk the device table once rather than binding 80,000 parameters.
        let wanted = MemberSet(ids)
        var out: [Device] = []
        out.reserveCapacity(ids.count)
        let cursor = try Device.fetchCursor(db, sql: "SELECT * FROM device ORDER BY name")
        while let d = try cursor.next() {
            if wanted.contains(d.id!) { out.append(d) }
        }
        return out
    }

    /// The names of a pool's devices, sorted: the listing the CLI and console show, without decoding
    /// whole device records (80,000 of them for a `.*` pool).
    public static func poolDeviceNames(_ db: Database, named name: String) throws -> [String] {
        guard let id = try Int64.fetchOne(db, sql: "SELECT id FROM pool WHERE name = ?", arguments: [name]) else {
            throw StoreError.notFound("no pool named '\(name)'")
        }
        let wanted = MemberSet(try PoolMembership.memberIds(db, poolId: id))
        if wanted.count == 0 { return [] }
        var out: [String] = []
        out.reserveCapacity(wanted.count)
        let rows = try Row.fetchCursor(db, sql: "SELECT id, name FROM device ORDER BY name")
        while let row = try rows.next() {
            if wanted.contains(row[0]) { out.append(row[1]) }
        }
        return out
    }

    public static func manualDeviceNames(_ db: Database, poolId: Int64) throws -> [String] {
        try String.fetchAll(db, sql: "SELECT device.name FROM pool_manual JOIN device ON device.id = pool_manual.device_id WHERE pool_id = ? ORDER BY device.name", arguments: [poolId])
    }

    // MARK: credentials

    public static func credentials(_ db: Database) throws -> [Credential] {
        try Credential.fetchAll(db.cachedStatement(sql: "SELECT * FROM credential ORDER BY priority DESC, name"))
    }

    @discardableResult
    public static func upsert(_ db: Database, credential: Credential) throws -> Credential {
        var c = credential
        try validate(credential: c)
        for p in c.pools {
            if try Int64.fetchOne(db, sql: "SELECT id FROM pool WHERE name = ?", arguments: [p]) != nil { continue }
            throw StoreError.invalid("credential \(c.name): pool '\(p)' does not exist")
        }
        if let existing = try Int64.fetchOne(db, sql: "SELECT id FROM credential WHERE name = ?", arguments: [c.name]) {
            c.id = existing
            try c.update(db)
        } else {
            c.id = nil
            try c.insert(db)
        }
        return c
    }

    /// A credential as every backend stores it: named, its secrets sealed client-side (`SecretBox`)
    /// before they reach any database.
    public static func validate(credential c: Credential) throws {
        if c.name.isEmpty { throw StoreError.invalid("credential: name is empty") }
        if !c.secret.isEmpty && !SecretBox.isEncrypted(c.secret) { throw StoreError(.encryption, "credential \(c.name): secret must be encrypted before it is stored") }
        if !c.enableSecret.isEmpty && !SecretBox.isEncrypted(c.enableSecret) { throw StoreError(.encryption, "credential \(c.name): enable secret must be encrypted before it is stored") }
    }

    /// The credential for a device: the highest-priority one whose scope contains it (an empty scope
    /// contains every device); ties go to the name first in alphabetical order, so the choice is stable.
    /// With `role`, only credentials of that role are considered.
    /// The rule and its reasons are `credentialChoice` (CredentialChoice.swift): the console's Xray
    /// explains this very choice.
    public static func credential(_ db: Database, for device: Device, role: Credential.Role? = nil) throws -> Credential? {
        try credentialChoice(db, for: device, role: role).credential
    }

    // MARK: services and workflows

    public static func services(_ db: Database, workflows: Bool) throws -> [Service] {
        try Service.fetchAll(db, sql: "SELECT * FROM service WHERE kind \(workflows ? "=" : "!=") 'workflow' ORDER BY name")
    }

    public static func service(_ db: Database, named name: String) throws -> Service? {
        try Service.fetchOne(db, sql: "SELECT * FROM service WHERE name = ?", arguments: [name])
    }

    @discardableResult
    public static func upsert(_ db: Database, service: Service) throws -> Service {
        var s = service
        if s.name.isEmpty { throw StoreError.invalid("service: name is empty") }
        if let existing = try Service.fetchOne(db, sql: "SELECT * FROM service WHERE name = ?", arguments: [s.name]) {
            s.id = existing.id
            s.createdAt = existing.createdAt
            s.updatedAt = existing.updatedAt
            // Only a real change moves updated_at: re-importing the same file changes nothing.
            if s != existing {
                s.updatedAt = Date()
                try s.update(db)
            }
        } else {
            s.id = nil
            s.createdAt = Date()
            s.updatedAt = s.createdAt
            try s.insert(db)
        }
        return s
    }

    public static func workflowNodes(_ db: Database, workflowId: Int64) throws -> [WorkflowNode] {
        try WorkflowNode.fetchAll(db, sql: "SELECT * FROM workflow_node WHERE workflow_id = ? ORDER BY id", arguments: [workflowId])
    }

    public static func workflowEdges(_ db: Database, workflowId: Int64) throws -> [WorkflowEdge] {
        try WorkflowEdge.fetchAll(db, sql: "SELECT * FROM workflow_edge WHERE workflow_id = ? ORDER BY id", arguments: [workflowId])
    }

    /// Adds a service to a workflow (once).
    public static func addNode(_ db: Database, workflowId: Int64, serviceId: Int64, isStart: Bool = false) throws {
        try db.execute(sql: "INSERT OR IGNORE INTO workflow_node(workflow_id, service_id, is_start) VALUES (?, ?, ?)",
                       arguments: [workflowId, serviceId, isStart])
        if isStart {
            try db.execute(sql: "UPDATE workflow_node SET is_start = (service_id = ?) WHERE workflow_id = ?", arguments: [serviceId, workflowId])
        }
    }

    @discardableResult
    public static func upsertEdge(_ db: Database, _ edge: WorkflowEdge) throws -> WorkflowEdge {
        var e = edge
        try addNode(db, workflowId: e.workflowId, serviceId: e.sourceId)
        try addNode(db, workflowId: e.workflowId, serviceId: e.destinationId)
        if let existing = try Int64.fetchOne(db, sql: "SELECT id FROM workflow_edge WHERE workflow_id = ? AND name = ?", arguments: [e.workflowId, e.name]) {
            e.id = existing
            try e.update(db)
        } else {
            try e.insert(db)
        }
        return e
    }

    // MARK: tasks

    public static func tasks(_ db: Database) throws -> [ScheduledTask] {
        try ScheduledTask.fetchAll(db, sql: "SELECT * FROM task ORDER BY name")
    }

    @discardableResult
    public static func upsert(_ db: Database, task: ScheduledTask) throws -> ScheduledTask {
        var t = task
        if t.name.isEmpty { throw StoreError.invalid("task: name is empty") }
        if let existing = try Int64.fetchOne(db, sql: "SELECT id FROM task WHERE name = ?", arguments: [t.name]) {
            t.id = existing
            try t.update(db)
        } else {
            t.id = nil
            try t.insert(db)
        }
        return t
    }

    // MARK: audit

    public static func log(_ db: Database, user: String, _ content: String, targetType: String = "", targetName: String = "") throws {
        var entry = ChangelogEntry(user: user, targetType: targetType, targetName: targetName, content: content)
        try entry.insert(db)
        recordChange(entry)
    }

    /// The security log's copy of a change-log entry (every backend, after the insert).
    public static func recordChange(_ entry: ChangelogEntry) {
        let (user, targetType, targetName, content) = (entry.user, entry.targetType, entry.targetName, entry.content)
        // Every change-log entry (task changes, deletions, stops from the console…) is a security event.
        SecurityLog.record("change" + (targetType.isEmpty ? "" : "." + targetType),
                           targets: targetName.isEmpty ? targetType : "\(targetType) '\(targetName)'", detail: content, user: user)
    }
}
