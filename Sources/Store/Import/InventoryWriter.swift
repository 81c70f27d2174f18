import Foundation

/// What an import did, for the summary line.
public struct ImportReport: Sendable, Equatable {
    public var created: [String: Int] = [:]
    public var updated: [String: Int] = [:]
    public var warnings: [String: Int] = [:]
    /// Records skipped for references that do not resolve, in file order.
    public var skipped: [ImportSkip] = []
    /// Credentials this import created or changed (`name (created)`), for the security log.
    public var credentialChanges: [String] = []

    public init() {}

    mutating func count(_ kind: String, created isNew: Bool) {
        if isNew { created[kind, default: 0] += 1 } else { updated[kind, default: 0] += 1 }
    }

    /// Whole records left out, by kind ("link" → 28).
    public var skippedRecords: [String: Int] {
        var out: [String: Int] = [:]
        for s in skipped { if let k = s.kind { out[k, default: 0] += 1 } }
        return out
    }

    /// Skipped entries by category, in the order categories first appear.
    public var skippedByCategory: [(category: String, messages: [String])] {
        var order: [String] = [], messages: [String: [String]] = [:]
        for s in skipped {
            if messages[s.category] == nil { order.append(s.category) }
            messages[s.category, default: []].append(s.message)
        }
        return order.map { ($0, messages[$0]!) }
    }

    public var summary: String {
        let kinds = ["device", "link", "pool", "credential", "service", "workflow", "edge", "task"]
        let skippedRecords = self.skippedRecords
        var parts: [String] = []
        for k in kinds {
            let c = created[k] ?? 0, u = updated[k] ?? 0, s = skippedRecords[k] ?? 0
            if c + u + s > 0 { parts.append("\(k)s: \(c) new, \(u) updated" + (s > 0 ? ", \(s) skipped" : "")) }
        }
        return parts.isEmpty ? "nothing imported" : parts.joined(separator: "; ")
    }

    /// The warning lines to show, without the `warning: ` prefix: counted warnings (`message (n×)`),
    /// then each kind of skipped record with its first `examples` entries named and the rest counted
    /// (`… and 1,234 more links skipped: source or destination device missing`).
    public func warningLines(examples: Int = 3) -> [String] {
        var lines = warnings.sorted { $0.key < $1.key }.map { "\($0.key) (\($0.value)×)" }
        for (category, messages) in skippedByCategory {
            lines += messages.prefix(examples)
            if messages.count > examples {
                lines.append("… and \(Self.grouped(messages.count - examples)) more \(category)")
            }
        }
        return lines
    }

    /// 1234567 → "1,234,567", whatever the locale.
    static func grouped(_ n: Int) -> String {
        let digits = String(n)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return out
    }
}

/// Applies an `InventoryDocument` to the database in one transaction: either everything lands, or,
/// on the first bad record, nothing does. Re-importing the same document changes nothing (upsert by name).
public struct InventoryWriter {
    /// Any backend: the import writes through the neutral API only, in one transaction.
    public let database: any StoreBackend
    public let secrets: SecretBox

    public init(database: any StoreBackend, secrets: SecretBox) {
        self.database = database
        self.secrets = secrets
    }

    @discardableResult
    public func apply(_ doc: InventoryDocument) throws -> ImportReport {
        var report = ImportReport()
        report.warnings = doc.warnings
        report.skipped = doc.skipped
        do {
            report = try database.transaction { tx in
                var inner = report
                try apply(doc, tx, &inner)
                return inner
            }
        } catch let e as StoreError {
            SecurityLog.record("import", targets: database.location, outcome: "failure", detail: e.message)
            throw e
        } catch {
            SecurityLog.record("import", targets: database.location, outcome: "failure", detail: AppDatabase.describe(error))
            throw StoreError(.importFile, "import failed, nothing was changed: \(AppDatabase.describe(error))")
        }
        SecurityLog.record("import", targets: database.location, detail: report.summary)
        if !report.credentialChanges.isEmpty {
            SecurityLog.record("credential.change", targets: report.credentialChanges.joined(separator: ", "), detail: "by import")
        }
        return report
    }

    /// New and changed records are written in batches of this many (`StoreTransaction`'s bulk writes).
    static let batchSize = 1000

    func apply(_ doc: InventoryDocument, _ tx: any StoreTransaction, _ report: inout ImportReport) throws {
        func wrap<T>(_ at: SourceLocation, _ body: () throws -> T) throws -> T {
            do { return try body() }
            catch let e as StoreError where e.kind == .importFile { throw e }
            catch let e as StoreError { throw importError(at, e.message) }
            catch { throw importError(at, AppDatabase.describe(error)) }
        }
        /// Writes the pending records in one bulk call inside a savepoint. When it fails, the
        /// savepoint is undone and the records are written again one by one, each in `wrap` with its
        /// location: the error that comes out is the one a record-by-record import gives, for the
        /// same record. Records are queued only after the checks a record-by-record import makes
        /// before writing, and a check failing later flushes what is queued first (`flushing`), so
        /// errors come in file order.
        func flush<Item>(_ pending: inout [(item: Item, at: SourceLocation)], bulk: ([Item]) throws -> Void,
                         single: (Item) throws -> Void) throws {
            if pending.isEmpty { return }
            let batch = pending
            pending.removeAll(keepingCapacity: true)
            do {
                try tx.savepoint { _ in try bulk(batch.map(\.item)) }
            } catch {
                for (item, at) in batch { try wrap(at) { try single(item) } }
            }
        }
        func flushing<T>(_ flushPending: () throws -> Void, _ body: () throws -> T) throws -> T {
            do { return try body() } catch { try flushPending(); throw error }
        }

        // Devices: upsert by name, keeping what runs recorded (status fields) and merging custom properties.
        // Only the fields a record carries change an existing device (a CSV of `name,platform` leaves
        // addresses alone); a new device gets defaults, and platform `autodetect` when it has none.
        var seenDevices = Set<String>()
        var deviceIds = Dictionary(uniqueKeysWithValues: try tx.deviceNames().map { ($0.value, $0.key) })
        // The stored devices this import names, read once rather than one query per record.
        var storedDevices: [Int64: Device] = [:]
        if doc.devices.contains(where: { deviceIds[$0.device.name] != nil }) {
            for d in try tx.devices(filter: FilterExpression(terms: [])) { if let id = d.id { storedDevices[id] = d } }
        }
        var newDevices: [(item: Device, at: SourceLocation)] = []
        func flushDevices() throws {
            try flush(&newDevices, bulk: { batch in
                for d in try tx.upsert(devices: batch) { deviceIds[d.name] = d.id }
            }, single: { d in
                let stored = try tx.upsert(device: d, updateMembership: false)
                deviceIds[stored.name] = stored.id
            })
        }
        for entry in doc.devices {
            try flushing(flushDevices) {
                try wrap(entry.at) {
                    if !seenDevices.insert(entry.device.name).inserted {
                        throw importError(entry.at, "device '\(entry.device.name)' appears twice in this import")
                    }
                    let new = entry.device
                    if let id = deviceIds[new.name], let old = try storedDevices[id] ?? tx.device(id: id) {
                        var d = old
                        if entry.gives("address") { d.address = new.address }
                        if entry.gives("port") { d.port = new.port }
                        if entry.gives("platform") { d.platform = Inventory.normalizedPlatform(new.platform) }
                        if entry.gives("vendor") { d.vendor = new.vendor }
                        if entry.gives("model") { d.model = new.model }
                        if entry.gives("os_version") { d.osVersion = new.osVersion }
                        if entry.gives("category") { d.category = new.category }
                        if entry.gives("location") { d.location = new.location }
                        if entry.gives("description") { d.description = new.description }
                        if entry.gives("jump") { d.jump = new.jump }
                        if let reachable = new.reachable { d.reachable = reachable }
                        d.properties = old.properties.merging(new.properties) { _, new in new }
                        for key in entry.removedProperties { d.properties.removeValue(forKey: key) }
                        try Inventory.validate(d)
                        if d != old { newDevices.append((d, entry.at)) }
                        report.count("device", created: false)
                    } else {
                        var d = new
                        d.id = nil
                        d.platform = entry.gives("platform") ? Inventory.normalizedPlatform(d.platform) : InventoryDocument.defaultPlatform
                        for key in entry.removedProperties { d.properties.removeValue(forKey: key) }
                        try Inventory.validate(d)
                        newDevices.append((d, entry.at))
                        report.count("device", created: true)
                    }
                }
            }
            if newDevices.count >= Self.batchSize { try flushDevices() }
        }
        try flushDevices()

        // A record naming a device, pool or service that exists neither in this import nor in the
        // database is skipped (or loses that reference) with a warning naming it; the rest imports.
        var seenLinks: [String: SourceLocation] = [:]
        let linkNames = doc.links.isEmpty ? [] : Set(try tx.links().map(\.name))
        var pendingLinks: [(item: LinkUpsert, at: SourceLocation)] = []
        func flushLinks() throws {
            try flush(&pendingLinks, bulk: { try tx.upsertLinks($0) }, single: { try tx.upsertLinks([$0]) })
        }
        for entry in doc.links {
            if let first = seenLinks[entry.name] {
                report.skipped.append(skipNote(entry.at, "link '\(entry.name)'", "a link of that name is already at \(first)",
                                               category: "links skipped: name used twice in this import", kind: "link"))
                continue
            }
            let missing = [("source", entry.source), ("destination", entry.destination)].filter { deviceIds[$0.1] == nil }
            if !missing.isEmpty {
                let what = missing.map { "\($0.0) device '\($0.1)'" }.joined(separator: " and ")
                report.skipped.append(skipNote(entry.at, "link '\(entry.name)'", "\(what) \(missing.count == 1 ? "does" : "do") not exist",
                                               category: Self.linkCategory, kind: "link"))
                continue
            }
            seenLinks[entry.name] = entry.at
            pendingLinks.append((LinkUpsert(name: entry.name, source: entry.source, destination: entry.destination,
                                            description: entry.description, properties: entry.properties), entry.at))
            report.count("link", created: !linkNames.contains(entry.name))
            if pendingLinks.count >= Self.batchSize { try flushLinks() }
        }
        try flushLinks()

        var knownPools = doc.pools.isEmpty ? Set<String>() : Set(try tx.pools().map(\.name))
        var pendingPools: [(item: (pool: Pool, manualDevices: [String]?), at: SourceLocation)] = []
        func flushPools() throws {
            try flush(&pendingPools, bulk: { _ = try tx.upsert(pools: $0) },
                      single: { _ = try tx.upsert(pool: $0.pool, manualDevices: $0.manualDevices, updateMembership: false) })
        }
        for entry in doc.pools {
            let manual = entry.manualDevices?.filter { name in
                if deviceIds[name] != nil { return true }
                report.skipped.append(skipNote(entry.at, "pool '\(entry.pool.name)' member '\(name)'", "no such device",
                                               category: "pool members skipped: device missing"))
                return false
            }
            pendingPools.append(((entry.pool, manual), entry.at))
            report.count("pool", created: knownPools.insert(entry.pool.name).inserted)
            if pendingPools.count >= Self.batchSize { try flushPools() }
        }
        try flushPools()
        // One pass over the devices for every distinct criteria set, instead of one per device or pool.
        if !doc.devices.isEmpty || !doc.pools.isEmpty {
            try tx.recomputePoolMembership()
        }
        let poolNames = Set(try tx.pools().map(\.name))

        for entry in doc.credentials {
            var c = entry.credential
            if !c.pools.isEmpty {
                let missing = c.pools.filter { !poolNames.contains($0) }
                c.pools.removeAll { !poolNames.contains($0) }
                if c.pools.isEmpty {
                    // Dropping every pool would widen the credential to all devices: leave it out instead.
                    report.skipped.append(skipNote(entry.at, "credential '\(c.name)'", "none of its pools exist (\(missing.map { "'\($0)'" }.joined(separator: ", ")))",
                                                   category: "credentials skipped: none of their pools exist", kind: "credential"))
                    continue
                }
                for p in missing {
                    report.skipped.append(skipNote(entry.at, "credential '\(c.name)' pool '\(p)'", "no such pool",
                                                   category: "credential pools skipped: pool missing"))
                }
            }
            try wrap(entry.at) {
                let old = try tx.credential(named: c.name)
                c.secret = try seal(c.secret, previous: old?.secret, entry.at, "secret")
                c.enableSecret = try seal(c.enableSecret, previous: old?.enableSecret, entry.at, "enable secret")
                let isNew = old == nil
                let changed = old.map { o -> Bool in var a = o, b = c; a.id = nil; b.id = nil; return a != b } ?? true
                try tx.upsert(credential: c)
                report.count("credential", created: isNew)
                if changed { report.credentialChanges.append("\(c.name) (\(isNew ? "created" : "updated"))") }
            }
        }

        /// Target devices and pools that do not exist are dropped from a service or task, with a note.
        func existingTargets(_ names: [String], _ record: String, _ at: SourceLocation, device: Bool) -> [String] {
            names.filter { name in
                if device ? deviceIds[name] != nil : poolNames.contains(name) { return true }
                report.skipped.append(skipNote(at, "\(record) target \(device ? "device" : "pool") '\(name)'", "no such \(device ? "device" : "pool")",
                                               category: "targets skipped: \(device ? "device" : "pool") missing"))
                return false
            }
        }

        // Services first, then workflow membership, so members may appear after their workflow.
        var knownServices = doc.services.isEmpty ? Set<String>() : Set(try tx.serviceNames().values)
        var pendingServices: [(item: Service, at: SourceLocation)] = []
        func flushServices() throws {
            try flush(&pendingServices, bulk: { _ = try tx.upsert(services: $0) }, single: { _ = try tx.upsert(service: $0) })
        }
        for entry in doc.services {
            try flushing(flushServices) {
                try wrap(entry.at) {
                    var service = entry.service
                    let record = "\(service.kind == .workflow ? "workflow" : "service") '\(service.name)'"
                    service.devices = existingTargets(service.devices, record, entry.at, device: true)
                    service.pools = existingTargets(service.pools, record, entry.at, device: false)
                    try ServiceValidation.validate(service)
                    pendingServices.append((service, entry.at))
                    report.count(service.kind == .workflow ? "workflow" : "service", created: knownServices.insert(service.name).inserted)
                }
            }
            if pendingServices.count >= Self.batchSize { try flushServices() }
        }
        try flushServices()
        // Every service by name, read once: no service is written after this point, so a name
        // missing here names no service.
        let serviceIds: [String: Int64] = doc.services.isEmpty && doc.edges.isEmpty && doc.tasks.isEmpty ? [:]
            : Dictionary(try tx.serviceNames().map { ($0.value, $0.key) }, uniquingKeysWith: { a, _ in a })
        func serviceId(_ name: String) -> Int64? { serviceIds[name] }
        var pendingNodes: [(item: WorkflowNodeAdd, at: SourceLocation)] = []
        func flushNodes() throws {
            try flush(&pendingNodes, bulk: { try tx.addWorkflowNodes($0) }, single: { try tx.addWorkflowNodes([$0]) })
        }
        for entry in doc.services where entry.service.kind == .workflow {
            try flushing(flushNodes) {
                try wrap(entry.at) {
                    guard let wid = serviceId(entry.service.name) else { return }
                    for member in entry.members {
                        guard let sid = serviceId(member) else {
                            report.skipped.append(skipNote(entry.at, "workflow '\(entry.service.name)' member '\(member)'", "no such service",
                                                           category: "workflow members skipped: service missing"))
                            continue
                        }
                        if sid == wid { throw importError(entry.at, "workflow '\(entry.service.name)' contains itself") }
                        pendingNodes.append((WorkflowNodeAdd(workflowId: wid, serviceId: sid, isStart: member == entry.start), entry.at))
                    }
                }
            }
            if pendingNodes.count >= Self.batchSize { try flushNodes() }
        }
        try flushNodes()
        for entry in doc.edges {
            let ends = [("workflow", entry.workflow), ("source", entry.source), ("destination", entry.destination)]
            let ids = ends.map { serviceId($0.1) }
            let missing = zip(ends, ids).filter { $0.1 == nil }.map(\.0)
            if !missing.isEmpty {
                let what = missing.map { "\($0.0) '\($0.1)'" }.joined(separator: " and ")
                report.skipped.append(skipNote(entry.at, "edge '\(entry.name)'", "\(what): no such service",
                                               category: "workflow edges skipped: service missing", kind: "edge"))
                continue
            }
            try wrap(entry.at) {
                let wid = ids[0]!
                let edge = WorkflowEdge(name: entry.name, workflowId: wid, sourceId: ids[1]!, destinationId: ids[2]!, subtype: entry.subtype)
                let isNew = try !tx.workflowEdges(workflowId: wid).contains { $0.name == entry.name }
                try tx.upsert(edge: edge)
                report.count("edge", created: isNew)
            }
        }
        // The graphs are checked once complete: unreachable nodes, cycles without a way out. Nothing
        // is written meanwhile, so each service, node list and edge list is read once.
        let graphs = WorkflowValidation.Reads.cached(tx)
        for entry in doc.services where entry.service.kind == .workflow {
            try wrap(entry.at) {
                guard let wid = serviceId(entry.service.name) else { return }
                do { try WorkflowValidation.check(graphs, workflowId: wid) }
                catch let incomplete as WorkflowValidation.NoStartNode { report.warnings[incomplete.description, default: 0] += 1 }
            }
        }

        // Tasks: the stored ones read once; a name this import already wrote is read back after its write.
        let storedTasks = doc.tasks.isEmpty ? [:] : Dictionary(try tx.tasks().map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var seenTasks = Set<String>()
        var pendingTasks: [(item: ScheduledTask, at: SourceLocation)] = []
        func flushTasks() throws {
            try flush(&pendingTasks, bulk: { _ = try tx.upsert(tasks: $0) }, single: { _ = try tx.upsert(task: $0) })
        }
        for entry in doc.tasks {
            try flushing(flushTasks) {
                try wrap(entry.at) {
                    var t = entry.task
                    let record = "task '\(t.name)'"
                    if let name = entry.service {
                        t.serviceId = serviceId(name)
                        if t.serviceId == nil {
                            report.skipped.append(ImportSkip(category: "tasks imported inactive: service missing",
                                                             message: "\(entry.at): \(record) imported inactive: service '\(name)' does not exist"))
                        }
                    }
                    if t.serviceId == nil { t.active = false }
                    t.devices = existingTargets(t.devices, record, entry.at, device: true)
                    t.pools = existingTargets(t.pools, record, entry.at, device: false)
                    let existing: ScheduledTask?
                    if seenTasks.insert(t.name).inserted {
                        existing = storedTasks[t.name]
                    } else {
                        try flushTasks()
                        existing = try tx.task(named: t.name)
                    }
                    if let existing {
                        // Keep what the scheduler recorded.
                        t.nextFire = existing.nextFire; t.lastFire = existing.lastFire
                        t.lastRunId = existing.lastRunId; t.lastRunStatus = existing.lastRunStatus
                        report.count("task", created: false)
                    } else {
                        report.count("task", created: true)
                    }
                    pendingTasks.append((t, entry.at))
                }
            }
            if pendingTasks.count >= Self.batchSize { try flushTasks() }
        }
        try flushTasks()
    }

    static let linkCategory = "links skipped: source or destination device missing"

    func skipNote(_ at: SourceLocation, _ record: String, _ reason: String, category: String, kind: String? = nil) -> ImportSkip {
        ImportSkip(category: category, message: "\(at): \(record) skipped: \(reason)", kind: kind)
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
