import Foundation
import GRDB

/// What an import did, for the summary line.
public struct ImportReport: Sendable, Equatable {
    public var created: [String: Int] = [:]
    public var updated: [String: Int] = [:]
    public var warnings: [String: Int] = [:]

    public init() {}

    mutating func count(_ kind: String, created isNew: Bool) {
        if isNew { created[kind, default: 0] += 1 } else { updated[kind, default: 0] += 1 }
    }

    public var summary: String {
        let kinds = ["device", "link", "pool", "credential", "service", "workflow", "edge", "task"]
        var parts: [String] = []
        for k in kinds {
            let c = created[k] ?? 0, u = updated[k] ?? 0
            if c + u > 0 { parts.append("\(k)s: \(c) new, \(u) updated") }
        }
        return parts.isEmpty ? "nothing imported" : parts.joined(separator: "; ")
    }
}

/// Applies an `InventoryDocument` to the database in one transaction: either everything lands, or,
/// on the first bad record, nothing does. Re-importing the same document changes nothing (upsert by name).
public struct InventoryWriter {
    public let database: AppDatabase
    public let secrets: SecretBox

    public init(database: AppDatabase, secrets: SecretBox) {
        self.database = database
        self.secrets = secrets
    }

    @discardableResult
    public func apply(_ doc: InventoryDocument) throws -> ImportReport {
        var report = ImportReport()
        report.warnings = doc.warnings
        do {
            try database.writer.write { db in
                try apply(doc, db, &report)
            }
        } catch let e as StoreError {
            throw e
        } catch {
            throw StoreError(.importFile, "import failed, nothing was changed: \(AppDatabase.describe(error))")
        }
        return report
    }

    func apply(_ doc: InventoryDocument, _ db: Database, _ report: inout ImportReport) throws {
        func wrap<T>(_ at: SourceLocation, _ body: () throws -> T) throws -> T {
            do { return try body() }
            catch let e as StoreError where e.kind == .importFile { throw e }
            catch let e as StoreError { throw importError(at, e.message) }
            catch { throw importError(at, AppDatabase.describe(error)) }
        }

        // Devices: upsert by name, keeping what runs recorded (status fields) and merging custom properties.
        var seenDevices = Set<String>()
        let existingDevices = try Dictionary(uniqueKeysWithValues: Row.fetchAll(db, sql: "SELECT id, name FROM device").map { ($0["name"] as String, $0["id"] as Int64) })
        for entry in doc.devices {
            try wrap(entry.at) {
                if !seenDevices.insert(entry.device.name).inserted {
                    throw importError(entry.at, "device '\(entry.device.name)' appears twice in this import")
                }
                try Inventory.validate(entry.device)
                var d = entry.device
                if let id = existingDevices[d.name], let old = try Inventory.device(db, id: id) {
                    d.id = id
                    d.lastRunStatus = old.lastRunStatus; d.lastRunTime = old.lastRunTime
                    d.lastBackupStatus = old.lastBackupStatus; d.lastBackupTime = old.lastBackupTime
                    if d.reachable == nil { d.reachable = old.reachable }
                    d.lastReachabilityTime = old.lastReachabilityTime
                    d.properties = old.properties.merging(d.properties) { _, new in new }
                    if d != old { try d.update(db) }
                    report.count("device", created: false)
                } else {
                    d.id = nil
                    try d.insert(db)
                    report.count("device", created: true)
                }
            }
        }

        for entry in doc.links {
            try wrap(entry.at) {
                let isNew = try Int64.fetchOne(db, sql: "SELECT id FROM link WHERE name = ?", arguments: [entry.name]) == nil
                try Inventory.upsertLink(db, name: entry.name, source: entry.source, destination: entry.destination,
                                         description: entry.description, properties: entry.properties)
                report.count("link", created: isNew)
            }
        }

        for entry in doc.pools {
            try wrap(entry.at) {
                let isNew = try Inventory.pool(db, named: entry.pool.name) == nil
                try Inventory.upsert(db, pool: entry.pool, manualDevices: entry.manualDevices, updateMembership: false)
                report.count("pool", created: isNew)
            }
        }
        // One pass over the devices for every distinct criteria set, instead of one per device or pool.
        if !doc.devices.isEmpty || !doc.pools.isEmpty {
            try PoolMembership.recomputeAll(db)
        }

        for entry in doc.credentials {
            try wrap(entry.at) {
                var c = entry.credential
                let old = try Credential.fetchOne(db, sql: "SELECT * FROM credential WHERE name = ?", arguments: [c.name])
                c.secret = try seal(c.secret, previous: old?.secret, entry.at, "secret")
                c.enableSecret = try seal(c.enableSecret, previous: old?.enableSecret, entry.at, "enable secret")
                let isNew = old == nil
                try Inventory.upsert(db, credential: c)
                report.count("credential", created: isNew)
            }
        }

        // Services first, then workflow membership, so members may appear after their workflow.
        var serviceIds: [String: Int64] = [:]
        for entry in doc.services {
            try wrap(entry.at) {
                try ServiceValidation.validate(entry.service)
                let isNew = try Inventory.service(db, named: entry.service.name) == nil
                let s = try Inventory.upsert(db, service: entry.service)
                serviceIds[s.name] = s.id
                report.count(s.kind == .workflow ? "workflow" : "service", created: isNew)
            }
        }
        func serviceId(_ name: String, _ at: SourceLocation, _ role: String) throws -> Int64 {
            if let id = serviceIds[name] { return id }
            if let id = try Int64.fetchOne(db, sql: "SELECT id FROM service WHERE name = ?", arguments: [name]) {
                serviceIds[name] = id
                return id
            }
            throw importError(at, "\(role) '\(name)' is not a known service")
        }
        for entry in doc.services where entry.service.kind == .workflow {
            try wrap(entry.at) {
                let wid = try serviceId(entry.service.name, entry.at, "workflow")
                for member in entry.members {
                    let sid = try serviceId(member, entry.at, "workflow member")
                    if sid == wid { throw importError(entry.at, "workflow '\(entry.service.name)' contains itself") }
                    try Inventory.addNode(db, workflowId: wid, serviceId: sid, isStart: member == entry.start)
                }
            }
        }
        for entry in doc.edges {
            try wrap(entry.at) {
                let wid = try serviceId(entry.workflow, entry.at, "workflow")
                let edge = WorkflowEdge(name: entry.name, workflowId: wid,
                                        sourceId: try serviceId(entry.source, entry.at, "edge source"),
                                        destinationId: try serviceId(entry.destination, entry.at, "edge destination"),
                                        subtype: entry.subtype)
                let isNew = try Int64.fetchOne(db, sql: "SELECT id FROM workflow_edge WHERE workflow_id = ? AND name = ?", arguments: [wid, entry.name]) == nil
                try Inventory.upsertEdge(db, edge)
                report.count("edge", created: isNew)
            }
        }
        // The graphs are checked once complete: unreachable nodes, cycles without a way out.
        for entry in doc.services where entry.service.kind == .workflow {
            try wrap(entry.at) {
                do { try WorkflowValidation.check(db, workflowId: try serviceId(entry.service.name, entry.at, "workflow")) }
                catch let incomplete as WorkflowValidation.NoStartNode { report.warnings[incomplete.description, default: 0] += 1 }
            }
        }

        for entry in doc.tasks {
            try wrap(entry.at) {
                var t = entry.task
                t.serviceId = try entry.service.map { try serviceId($0, entry.at, "task service") }
                if t.serviceId == nil { t.active = false }
                if let existing = try ScheduledTask.fetchOne(db, sql: "SELECT * FROM task WHERE name = ?", arguments: [t.name]) {
                    // Keep what the scheduler recorded.
                    t.nextFire = existing.nextFire; t.lastFire = existing.lastFire
                    t.lastRunId = existing.lastRunId; t.lastRunStatus = existing.lastRunStatus
                    report.count("task", created: false)
                } else {
                    report.count("task", created: true)
                }
                try Inventory.upsert(db, task: t)
            }
        }
    }

    /// Plaintext is sealed; text already sealed must open under our key (else it came from another database).
    /// An unchanged secret keeps its stored ciphertext (sealing uses a fresh nonce), so re-imports change nothing.
    func seal(_ value: String, previous: String?, _ at: SourceLocation, _ what: String) throws -> String {
        if value.isEmpty { return "" }
        if let previous, !previous.isEmpty, !SecretBox.isEncrypted(value), (try? secrets.open(previous)) == value {
            return previous
        }
        if SecretBox.isEncrypted(value) {
            do { _ = try secrets.open(value) }
            catch { throw importError(at, "\(what) is encrypted under another key; export it again with --reveal-secrets, or set SWITCHBOARD_KEY to that database's key") }
            return value
        }
        return try secrets.seal(value)
    }
}
