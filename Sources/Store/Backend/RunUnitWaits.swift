import Foundation

// Regions (several engines, issue 15): an engine started with `--pools`/`--filter` claims only the
// units of its devices. A unit that no active engine serves stays queued; these types say why, for
// `switchboard runs` and the console's runs view.

/// The queued units of running runs that no active engine serves, by device.
public struct UnservedUnits: Sendable, Equatable {
    public struct Device: Sendable, Equatable {
        public var runId: Int64
        public var deviceId: Int64
        public var deviceName: String
        public init(runId: Int64, deviceId: Int64, deviceName: String) {
            self.runId = runId; self.deviceId = deviceId; self.deviceName = deviceName
        }
    }
    public var devices: [Device]
    /// Active engines (0: every queued unit waits, region or not).
    public var activeEngines: Int
    /// Some active engine's region is a filter: a device's pools alone do not say why it waits.
    public var filters: Bool
    public init(devices: [Device] = [], activeEngines: Int = 0, filters: Bool = false) {
        self.devices = devices; self.activeEngines = activeEngines; self.filters = filters
    }
}

/// Why a running run's units wait: "waiting: no engine serves pool eu-edge".
public enum RunWaiting {
    /// A device a run waits for, with the pools that would name why.
    public struct Waiting: Sendable, Equatable {
        public var device: String
        /// Its pools, narrowed to the run's target pools when it has some among them.
        public var pools: [String]
        public init(device: String, pools: [String]) { self.device = device; self.pools = pools }
    }

    /// The reason text: pools when every waiting device is in one and no active engine's region is a
    /// filter (a filter region is about devices, not pools), else the devices; "no engine is
    /// active" when none is.
    public static func reason(_ waiting: [Waiting], activeEngines: Int, filters: Bool) -> String {
        if activeEngines == 0 { return "waiting: no engine is active" }
        guard !waiting.isEmpty else { return "" }
        var parts: [String] = []
        let byPool = filters ? [] : waiting.filter { !$0.pools.isEmpty }
        let byDevice = filters ? waiting : waiting.filter { $0.pools.isEmpty }
        if !byPool.isEmpty {
            let pools = Set(byPool.flatMap(\.pools)).sorted()
            parts.append("no engine serves pool\(pools.count == 1 ? "" : "s") \(list(pools))")
        }
        if !byDevice.isEmpty {
            let names = Set(byDevice.map(\.device)).sorted()
            parts.append("no engine serves device\(names.count == 1 ? "" : "s") \(list(names))")
        }
        return "waiting: " + parts.joined(separator: "; ")
    }

    /// "a, b, c and 4 more": a run over thousands of devices stays one readable line.
    static func list(_ names: [String], limit: Int = 4) -> String {
        if names.count <= limit { return names.joined(separator: ", ") }
        return names.prefix(limit).joined(separator: ", ") + " and \(names.count - limit) more"
    }

    /// The reason of each running run that has units no active engine serves. Cheap: one query
    /// (over queued units only, nothing when none is queued), then the pools of at most
    /// `devicesPerRun` waiting devices of each such run.
    public static func reasons(_ backend: any StoreBackend, thresholds: EngineThresholds, devicesPerRun: Int = 20) throws -> [Int64: String] {
        let unserved = try backend.unservedUnits(thresholds)
        if unserved.devices.isEmpty { return [:] }
        let byRun = Dictionary(grouping: unserved.devices, by: \.runId)
        return try backend.query { store in
            var out: [Int64: String] = [:]
            for (run, devices) in byRun {
                let targetPools = try self.targetPools(store, run: run)
                let waiting = try devices.prefix(devicesPerRun).map { d -> Waiting in
                    let pools = try store.poolNames(deviceId: d.deviceId)
                    let narrowed = pools.filter(targetPools.contains)
                    return Waiting(device: d.deviceName, pools: narrowed.isEmpty ? pools : narrowed)
                }
                var text = reason(waiting, activeEngines: unserved.activeEngines, filters: unserved.filters)
                if devices.count > devicesPerRun, unserved.activeEngines > 0 { text += " (\(devices.count) devices wait)" }
                out[run] = text
            }
            return out
        }
    }

    /// The pools a run targets (its own, else its service's).
    static func targetPools(_ store: any StoreReader, run id: Int64) throws -> Set<String> {
        guard let run = try store.run(id: id) else { return [] }
        let own = run.targets["pools"]?.arrayValue?.compactMap(\.stringValue) ?? []
        if !own.isEmpty { return Set(own) }
        return Set(try store.service(id: run.serviceId)?.pools ?? [])
    }

    /// `runs` with the waiting reason on each running run that has one (a running run's reason is
    /// otherwise empty). A failure to read it leaves the runs as they are: a listing never fails for it.
    public static func annotate(_ runs: [Run], _ backend: any StoreBackend, thresholds: EngineThresholds) -> [Run] {
        guard runs.contains(where: { $0.status == .running }),
              let reasons = try? reasons(backend, thresholds: thresholds), !reasons.isEmpty else { return runs }
        return runs.map { r in
            guard r.status == .running, let id = r.id, let text = reasons[id] else { return r }
            var r = r
            r.reason = r.reason.isEmpty ? text : r.reason + "; " + text
            return r
        }
    }
}
