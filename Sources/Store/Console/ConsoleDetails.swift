import Foundation

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
        try read { r in
            let s = try Self.service(r, name)
            var targets: [String]?
            var targetsError: String?
            do { targets = try RunTargets.resolve(r, service: s, devices: [], pools: [], filter: "") } catch {
                targetsError = AppDatabase.describe(error)
            }
            let all = try r.services(workflows: false) + r.services(workflows: true)
            let kinds = Self.kinds(all)
            var members: [(name: String, kind: String, isStart: Bool)] = []
            var workflows: [String] = []
            if let id = s.id {
                members = try r.workflowNodes(workflowId: id).map { n in
                    (name: kinds[n.serviceId]?.0 ?? "#\(n.serviceId)", kind: kinds[n.serviceId]?.1 ?? "?", isStart: n.isStart)
                }.sorted { a, b in a.isStart != b.isStart ? a.isStart : a.name.utf8.lexicographicallyPrecedes(b.name.utf8) }
                let counts = try r.workflowNodeCounts()
                for w in all where w.id.map({ counts[$0] != nil }) ?? false {
                    if try r.workflowNodes(workflowId: w.id!).contains(where: { $0.serviceId == id }) { workflows.append(w.name) }
                }
                workflows = Array(Set(workflows)).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            }
            let tasks = try r.tasks().filter { $0.serviceId != nil && $0.serviceId == s.id }.map(\.name)
                .sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            let runs = try Self.runBriefs(r.recentRuns(serviceId: s.id ?? -1, taskId: nil, limit: runs))
            return ServiceDetail(service: s, targets: targets, targetsError: targetsError,
                                 needsDevices: try RunTargets.needsDevices(r, service: s), members: members,
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
        try read { r in
            guard let c = try r.credential(named: name) else {
                throw StoreError.notFound("no credential named '\(name)'")
            }
            let pools = try c.pools.map { p in (name: p, size: try r.pool(named: p)?.memberCount) }
            let services = try r.services(workflows: false) + r.services(workflows: true)
            return CredentialDetail(credential: CredentialSummary(c), pools: pools,
                                    services: services.filter { $0.credential == name }.map(\.name).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
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
        try read { r in
            guard let p = try r.pool(named: name), let id = p.id else { throw StoreError.notFound("no pool named '\(name)'") }
            let members = Array(try r.poolDeviceNames(named: name).prefix(limit))
            let credentials = try r.credentials().filter { $0.pools.contains(name) }.map(\.name)
            let services = (try r.services(workflows: false) + r.services(workflows: true)).filter { $0.pools.contains(name) }.map(\.name)
                .sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            let tasks = try r.tasks().filter { $0.pools.contains(name) }.map(\.name)
            return PoolDetail(pool: p, manual: try r.manualDeviceNames(poolId: id), members: members,
                              credentials: credentials, services: services, tasks: tasks)
        }
    }

    public struct TaskDetail: Sendable {
        public var task: ScheduledTask
        public var serviceName: String
        public var lastRuns: [RunBrief]
    }

    public func taskDetail(_ name: String, runs: Int = 5) throws -> TaskDetail {
        try read { r in
            guard let t = try r.task(named: name) else {
                throw StoreError.notFound("no task named '\(name)'")
            }
            let service = try t.serviceId.flatMap { try r.service(id: $0)?.name } ?? ""
            return TaskDetail(task: t, serviceName: service, lastRuns: Self.runBriefs(try r.recentRuns(serviceId: nil, taskId: t.id ?? -1, limit: runs)))
        }
    }

    static func runBriefs(_ runs: [Run]) -> [RunBrief] {
        runs.map { r in
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
        public struct ResultBrief: Sendable, Equatable, Codable {
            public var id: Int64
            public var runId: Int64
            public var serviceName: String
            public var success: Bool
            public var runStatus: String
            public var durationMs: Int
            public var createdAt: Date?
            public init(id: Int64, runId: Int64, serviceName: String, success: Bool, runStatus: String, durationMs: Int, createdAt: Date?) {
                self.id = id; self.runId = runId; self.serviceName = serviceName; self.success = success
                self.runStatus = runStatus; self.durationMs = durationMs; self.createdAt = createdAt
            }
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
        var x: DeviceXray = try read { r in
            guard var device = try r.device(named: name), let id = device.id else {
                throw StoreError.notFound("no device named '\(name)'")
            }
            // Custom properties may hold sealed private properties: the Xray never shows them.
            let stored = device
            device.properties = [:]
            let poolNames = try r.poolNames(deviceId: id)
            let manual = try r.manualPoolIds(deviceId: id)
            let pools = try poolNames.compactMap { try r.pool(named: $0) }.map { p in
                DeviceXray.PoolMembershipInfo(name: p.name, criteria: p.activeCriteria, manual: p.id.map { manual.contains($0) } ?? false,
                                              size: p.memberCount)
            }
            let links = try r.links().filter { $0.source == device.name || $0.destination == device.name }.map { l in
                DeviceXray.Neighbour(link: l.name, neighbour: l.source == device.name ? l.destination : l.source,
                                     outgoing: l.source == device.name, description: l.description)
            }.sorted { a, b in a.neighbour != b.neighbour ? a.neighbour.utf8.lexicographicallyPrecedes(b.neighbour.utf8)
                                                       : a.link.utf8.lexicographicallyPrecedes(b.link.utf8) }
            // The engine's own rule (Inventory.credential is this choice's credential).
            let choice = try Inventory.credentialChoice(r, for: device)
            let credential = DeviceXray.ChosenCredential(credential: choice.credential.map(CredentialSummary.init),
                                                         reason: choice.reason, candidates: choice.candidates)
            let inPools = Set(poolNames)
            let known = try r.devicePropertyNames()
            func how(devices: [String], pools: [String], filter: String) -> [String] {
                var out: [String] = []
                if devices.contains(device.name) { out.append("device list") }
                out += pools.filter { inPools.contains($0) }.map { "pool \($0)" }
                let f = filter.trimmingCharacters(in: .whitespaces)
                if !f.isEmpty, let expression = try? FilterExpression.parse(f),
                   (try? Inventory.checkFilterFields(expression, knownProperties: known)) != nil,
                   expression.matches(value: { stored.value(of: $0) }, searchable: Inventory.deviceSearchFields) {
                    // The filter as the run resolves it, evaluated on this device.
                    out.append("filter '\(f)'")
                }
                return out
            }
            var services: [DeviceXray.Targeting] = []
            var serviceHow: [Int64: [String]] = [:]
            for s in (try r.services(workflows: false) + r.services(workflows: true)).sorted(by: { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }) {
                let h = how(devices: s.devices, pools: s.pools, filter: s.targetFilter)
                if let sid = s.id { serviceHow[sid] = h }
                guard !h.isEmpty else { continue }
                services.append(.init(name: s.name, kind: s.kind.rawValue, how: h,
                                      note: s.credential.isEmpty ? "" : "logs in with credential \(s.credential) (named by the service)"))
            }
            let serviceNames = try r.serviceNames()
            var tasks: [DeviceXray.Targeting] = []
            for t in try r.tasks() {
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
            let results = try r.deviceResultBriefs(deviceId: id, limit: resultLimit)
            return DeviceXray(device: device, pools: pools, links: links, credential: credential, services: services, tasks: tasks,
                              results: results, snapshots: [], sessions: [])
        }
        x.snapshots = Array(try snapshots(device: name).prefix(snapshotLimit))
        x.sessions = Array(try sessions(device: name).prefix(sessionLimit))
        return x
    }
}
