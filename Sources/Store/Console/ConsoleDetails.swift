import Foundation
import GRDB

/// What the console's Describe (`d`) and Xray (`x`) views read: one record with what relates to
/// it, as plain values. Nothing here carries a secret, sealed or not: credentials are reduced to
/// their metadata (`CredentialSummary`) before they leave the store, and a device's custom
/// properties (which may hold sealed eNMS private properties) are not read at all.
extension ConsoleStore {
    /// A run, as the detail views list them.
    public struct RunBrief: Sendable, Equatable {
        public var id: Int64
        public var serviceName: String
        public var status: String
        public var trigger: String
        public var user: String
        public var createdAt: Date?
        public var startedAt: Date?
        public var endedAt: Date?
        public var done: Int, total: Int, failed: Int
        public var reason: String
    }

    /// A credential without its secret, key material or enable secret: only whether they are set.
    public struct CredentialSummary: Sendable, Equatable {
        public var name: String
        public var description: String
        public var username: String
        public var secretKind: String
        public var keyFile: String
        public var role: String
        public var priority: Int
        public var pools: [String]
        public var hasSecret: Bool
        public var hasEnableSecret: Bool

        init(_ c: Credential) {
            name = c.name; description = c.description; username = c.username; secretKind = c.secretKind.rawValue
            keyFile = c.keyFile; role = c.role.rawValue; priority = c.priority; pools = c.pools
            hasSecret = !c.secret.isEmpty; hasEnableSecret = !c.enableSecret.isEmpty
        }
    }

    // MARK: describe

    public struct ServiceDetail: Sendable {
        public var service: Service
        /// The devices the service's own targets resolve to (nil: it has none; it runs once).
        public var targets: [String]?
        /// Why the targets do not resolve (a pool or device that no longer exists, a bad filter).
        public var targetsError: String?
        /// Whether it can only run on devices (`RunTargets.needsDevices`): without targets of its
        /// own, a launch must give some.
        public var needsDevices: Bool
        /// For a workflow: its services, start first.
        public var members: [(name: String, kind: String, isStart: Bool)]
        /// Workflows this service is a node of.
        public var workflows: [String]
        /// Tasks that run it.
        public var tasks: [String]
        public var lastRuns: [RunBrief]
    }

    public func serviceDetail(_ name: String, runs: Int = 5) throws -> ServiceDetail {
        try database.writer.read { db in
            let s = try Self.service(db, name)
            var targets: [String]?
            var targetsError: String?
            do { targets = try RunTargets.resolve(db, service: s, devices: [], pools: [], filter: "") } catch {
                targetsError = AppDatabase.describe(error)
            }
            let members = try Row.fetchAll(db, sql: """
                SELECT s.name, s.kind, n.is_start FROM workflow_node n JOIN service s ON s.id = n.service_id
                WHERE n.workflow_id = ? ORDER BY n.is_start DESC, s.name
                """, arguments: [s.id]).map { (name: $0["name"] as String, kind: $0["kind"] as String, isStart: $0["is_start"] as Bool) }
            let workflows = try String.fetchAll(db, sql: """
                SELECT DISTINCT w.name FROM workflow_node n JOIN service w ON w.id = n.workflow_id WHERE n.service_id = ? ORDER BY w.name
                """, arguments: [s.id])
            let tasks = try String.fetchAll(db, sql: "SELECT name FROM task WHERE service_id = ? ORDER BY name", arguments: [s.id])
            let runs = try Self.runBriefs(db, where: "service_id = ?", [s.id], limit: runs)
            return ServiceDetail(service: s, targets: targets, targetsError: targetsError,
                                 needsDevices: try RunTargets.needsDevices(db, service: s), members: members,
                                 workflows: workflows, tasks: tasks, lastRuns: runs)
        }
    }

    public struct CredentialDetail: Sendable {
        public var credential: CredentialSummary
        /// Its pools with their sizes (nil: the pool no longer exists).
        public var pools: [(name: String, size: Int?)]
        /// Services that name it (they use it whatever the priorities say).
        public var services: [String]
    }

    public func credentialDetail(_ name: String) throws -> CredentialDetail {
        try database.writer.read { db in
            guard let c = try Credential.fetchOne(db, sql: "SELECT * FROM credential WHERE name = ?", arguments: [name]) else {
                throw StoreError.notFound("no credential named '\(name)'")
            }
            let pools = try c.pools.map { p in (name: p, size: try Int.fetchOne(db, sql: "SELECT member_count FROM pool WHERE name = ?", arguments: [p])) }
            let services = try String.fetchAll(db, sql: "SELECT name FROM service WHERE credential = ? ORDER BY name", arguments: [name])
            return CredentialDetail(credential: CredentialSummary(c), pools: pools, services: services)
        }
    }

    public struct PoolDetail: Sendable {
        public var pool: Pool
        /// Members added by hand.
        public var manual: [String]
        /// The first members, by name (the pool's size is `pool.memberCount`).
        public var members: [String]
        /// Credentials scoped to it, services and tasks targeting it.
        public var credentials: [String]
        public var services: [String]
        public var tasks: [String]
    }

    public func poolDetail(_ name: String, members limit: Int = 50) throws -> PoolDetail {
        try database.writer.read { db in
            guard let p = try Inventory.pool(db, named: name), let id = p.id else { throw StoreError.notFound("no pool named '\(name)'") }
            let members = Array(try Inventory.poolDeviceNames(db, named: name).prefix(limit))
            let credentials = try Inventory.credentials(db).filter { $0.pools.contains(name) }.map(\.name)
            let services = try Service.fetchAll(db, sql: "SELECT * FROM service ORDER BY name").filter { $0.pools.contains(name) }.map(\.name)
            let tasks = try Inventory.tasks(db).filter { $0.pools.contains(name) }.map(\.name)
            return PoolDetail(pool: p, manual: try Inventory.manualDeviceNames(db, poolId: id), members: members,
                              credentials: credentials, services: services, tasks: tasks)
        }
    }

    public struct TaskDetail: Sendable {
        public var task: ScheduledTask
        public var serviceName: String
        public var lastRuns: [RunBrief]
    }

    public func taskDetail(_ name: String, runs: Int = 5) throws -> TaskDetail {
        try database.writer.read { db in
            guard let t = try ScheduledTask.fetchOne(db, sql: "SELECT * FROM task WHERE name = ?", arguments: [name]) else {
                throw StoreError.notFound("no task named '\(name)'")
            }
            let service = try t.serviceId.flatMap { try String.fetchOne(db, sql: "SELECT name FROM service WHERE id = ?", arguments: [$0]) } ?? ""
            return TaskDetail(task: t, serviceName: service, lastRuns: try Self.runBriefs(db, where: "task_id = ?", [t.id], limit: runs))
        }
    }

    static func runBriefs(_ db: Database, where condition: String, _ arguments: StatementArguments, limit: Int) throws -> [RunBrief] {
        try Run.fetchAll(db, sql: "SELECT * FROM run WHERE \(condition) ORDER BY id DESC LIMIT \(max(0, limit))", arguments: arguments).map { r in
            RunBrief(id: r.id ?? 0, serviceName: r.serviceName, status: r.status.rawValue, trigger: r.trigger.rawValue, user: r.user,
                     createdAt: r.createdAt, startedAt: r.startedAt, endedAt: r.endedAt, done: r.progressDone,
                     total: r.progressTotal, failed: r.progressFailed, reason: r.reason)
        }
    }

    // MARK: xray

    /// Everything that relates to one device.
    public struct DeviceXray: Sendable {
        public struct PoolMembershipInfo: Sendable, Equatable {
            public var name: String
            public var criteria: [PoolCriterion]
            /// Added by hand (besides, or instead of, matching the criteria).
            public var manual: Bool
            public var size: Int
        }
        public struct Neighbour: Sendable, Equatable {
            public var link: String
            public var neighbour: String
            /// True when the device is the link's source.
            public var outgoing: Bool
            public var description: String
        }
        public struct ChosenCredential: Sendable {
            public var credential: CredentialSummary?
            public var reason: String
            public var candidates: [CredentialChoice.Candidate]
        }
        public struct Targeting: Sendable, Equatable {
            public var name: String
            public var kind: String
            /// How it reaches the device: `device list`, `pool core`, `filter 'platform=…'`, or
            /// `service's targets` for a task without targets of its own.
            public var how: [String]
            /// A service's named credential (it then logs in with that one); a task's service.
            public var note: String
            public var active: Bool?
            public var nextFire: Date?
        }
        public struct ResultBrief: Sendable, Equatable {
            public var id: Int64
            public var runId: Int64
            public var serviceName: String
            public var success: Bool
            public var runStatus: String
            public var durationMs: Int
            public var createdAt: Date?
        }

        public var device: Device
        public var pools: [PoolMembershipInfo]
        public var links: [Neighbour]
        public var credential: ChosenCredential
        public var services: [Targeting]
        public var tasks: [Targeting]
        public var results: [ResultBrief]
        public var snapshots: [SnapshotSummary]
        public var sessions: [SessionSummary]
    }

    public func deviceXray(_ name: String, results resultLimit: Int = 10, snapshots snapshotLimit: Int = 5,
                           sessions sessionLimit: Int = 5) throws -> DeviceXray {
        var x: DeviceXray = try database.writer.read { db in
            guard var device = try Inventory.device(db, named: name), let id = device.id else {
                throw StoreError.notFound("no device named '\(name)'")
            }
            // Custom properties may hold sealed private properties: the Xray never shows them.
            device.properties = [:]
            let poolNames = try PoolMembership.poolNames(db, deviceId: id)
            let manual = Set(try Int64.fetchAll(db, sql: "SELECT pool_id FROM pool_manual WHERE device_id = ?", arguments: [id]))
            let pools = try poolNames.compactMap { try Inventory.pool(db, named: $0) }.map { p in
                DeviceXray.PoolMembershipInfo(name: p.name, criteria: p.activeCriteria, manual: p.id.map { manual.contains($0) } ?? false,
                                              size: p.memberCount)
            }
            let links = try Row.fetchAll(db, sql: """
                SELECT link.name, link.description, link.source_id = ? AS outgoing,
                       CASE WHEN link.source_id = ? THEN d.name ELSE s.name END AS neighbour
                FROM link JOIN device s ON s.id = link.source_id JOIN device d ON d.id = link.destination_id
                WHERE link.source_id = ? OR link.destination_id = ? ORDER BY neighbour, link.name
                """, arguments: [id, id, id, id]).map { r in
                DeviceXray.Neighbour(link: r["name"], neighbour: r["neighbour"], outgoing: r["outgoing"], description: r["description"])
            }
            // The engine's own rule (Inventory.credential is this choice's credential).
            let choice = try Inventory.credentialChoice(db, for: device)
            let credential = DeviceXray.ChosenCredential(credential: choice.credential.map(CredentialSummary.init),
                                                         reason: choice.reason, candidates: choice.candidates)
            let inPools = Set(poolNames)
            let known = try Inventory.devicePropertyNames(db)
            func how(devices: [String], pools: [String], filter: String) -> [String] {
                var out: [String] = []
                if devices.contains(device.name) { out.append("device list") }
                out += pools.filter { inPools.contains($0) }.map { "pool \($0)" }
                let f = filter.trimmingCharacters(in: .whitespaces)
                if !f.isEmpty, var expression = try? FilterExpression.parse(f) {
                    // The filter as the run resolves it, narrowed to this device.
                    expression.terms.append(.init(field: "name", op: .equals, value: device.name, negated: false))
                    if let hit = try? Inventory.devices(db, filter: expression, knownProperties: known), !hit.isEmpty {
                        out.append("filter '\(f)'")
                    }
                }
                return out
            }
            var services: [DeviceXray.Targeting] = []
            var serviceHow: [Int64: [String]] = [:]
            for s in try Service.fetchAll(db, sql: "SELECT * FROM service ORDER BY name") {
                let h = how(devices: s.devices, pools: s.pools, filter: s.targetFilter)
                if let sid = s.id { serviceHow[sid] = h }
                guard !h.isEmpty else { continue }
                services.append(.init(name: s.name, kind: s.kind.rawValue, how: h,
                                      note: s.credential.isEmpty ? "" : "logs in with credential \(s.credential) (named by the service)"))
            }
            let serviceNames = try Self.serviceNames(db)
            var tasks: [DeviceXray.Targeting] = []
            for t in try Inventory.tasks(db) {
                var h = how(devices: t.devices, pools: t.pools, filter: "")
                // A task without targets of its own runs on its service's (targets given at launch replace them).
                if t.devices.isEmpty && t.pools.isEmpty, let sid = t.serviceId, !(serviceHow[sid] ?? []).isEmpty {
                    h = (serviceHow[sid] ?? []).map { "service's targets: \($0)" }
                }
                guard !h.isEmpty else { continue }
                let service = t.serviceId.flatMap { serviceNames[$0] } ?? ""
                tasks.append(.init(name: t.name, kind: t.scheduleKind.rawValue, how: h, note: service.isEmpty ? "no service" : "runs \(service)",
                                   active: t.active, nextFire: t.nextFire))
            }
            let results = try Row.fetchAll(db, sql: """
                SELECT r.id, r.run_id, r.service_name, r.success, r.duration_ms, r.created_at, COALESCE(run.status, '') AS run_status
                FROM result r LEFT JOIN run ON run.id = r.run_id WHERE r.device_id = ? ORDER BY r.id DESC LIMIT ?
                """, arguments: [id, resultLimit]).map { r in
                DeviceXray.ResultBrief(id: r["id"], runId: r["run_id"], serviceName: r["service_name"], success: r["success"],
                                       runStatus: r["run_status"], durationMs: r["duration_ms"], createdAt: r["created_at"])
            }
            return DeviceXray(device: device, pools: pools, links: links, credential: credential, services: services, tasks: tasks,
                              results: results, snapshots: [], sessions: [])
        }
        x.snapshots = Array(try snapshots(device: name).prefix(snapshotLimit))
        x.sessions = Array(try sessions(device: name).prefix(sessionLimit))
        return x
    }
}
