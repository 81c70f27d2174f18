import Foundation
import Store
import Synchronization

/// An engine's region (`switchboard engine --pools A,B --filter EXPR`, several engines on
/// PostgreSQL with `engine.unit_queue`): it claims only the units whose device is in one of the
/// pools or matches the filter (either; a unit without a device any engine takes). The devices are
/// resolved here, in Swift, where pool membership and filters have their one meaning, and recorded
/// in the store (`recordEngineRegion`) for the claim SQL and for the other processes (`engines`,
/// the waiting reason of `runs`). Membership changes (a device imported into a pool) reach the
/// record within `refreshSeconds`.
public final class EngineRegion: Sendable {
    public let pools: [String]
    public let filter: String
    let refreshSeconds: Double
    private struct Recorded { var engineId: Int64; var devices: Set<Int64>; var at: Date; var missing: [String] }
    private let recorded = Mutex<Recorded?>(nil)

    public init(pools: [String], filter: String, refreshSeconds: Double = 5) {
        self.pools = pools; self.filter = filter; self.refreshSeconds = refreshSeconds
    }

    public var isEmpty: Bool { pools.isEmpty && filter.isEmpty }

    /// The region's devices now. Strict (at start): an unknown pool or a bad filter throws, naming
    /// it. Not strict (later refreshes): a pool deleted since is left out and reported in `missing`.
    public static func devices(_ store: any StoreReader, pools: [String], filter: String, strict: Bool = true)
        throws -> (devices: Set<Int64>, missing: [String]) {
        var ids = Set<Int64>(), missing: [String] = []
        for pool in pools {
            do {
                for d in try store.poolDevices(named: pool) { if let id = d.id { ids.insert(id) } }
            } catch let e as StoreError where e.kind == .notFound && !strict {
                missing.append(pool)
            } catch let e as StoreError where e.kind == .notFound {
                throw StoreError.invalid("--pools: no pool named '\(pool)'")
            }
        }
        if !filter.isEmpty {
            let expression: FilterExpression
            do { expression = try FilterExpression.parse(filter) } catch let e as StoreError {
                throw StoreError.invalid("--filter '\(filter)': \(e.message)")
            }
            do {
                for d in try store.devices(filter: expression, knownProperties: try store.devicePropertyNames()) {
                    if let id = d.id { ids.insert(id) }
                }
            } catch let e as StoreError where e.kind == .invalid {
                throw StoreError.invalid("--filter '\(filter)': \(e.message)")
            }
        }
        return (ids, missing)
    }

    /// Records the region's devices for `engineId` when `refreshSeconds` have passed since the last
    /// record, or the registration changed (registered again after a drop). Errors are logged; the
    /// last record stands meanwhile.
    func refresh(_ database: any StoreBackend, engineId: Int64, log: (String) -> Void) {
        let due = recorded.withLock { r in r.map { $0.engineId != engineId || Date().timeIntervalSince($0.at) >= refreshSeconds } ?? true }
        guard due else { return }
        do {
            let (devices, missing) = try database.query { store in try Self.devices(store, pools: pools, filter: filter, strict: false) }
            let last = recorded.withLock { $0 }
            if last?.engineId != engineId || last?.devices != devices {
                try database.recordEngineRegion(engineId: engineId, pools: pools, filter: filter, devices: devices)
                if last == nil || last?.engineId != engineId {
                    log("serves \(EngineEntry(id: engineId, host: "", pid: 0, version: "", capacity: 0, pools: pools, startedAt: nil, heartbeatAgeSeconds: nil, state: .active, inFlight: 0, filter: filter, servedDevices: devices.count).serves)")
                } else {
                    log("region now holds \(devices.count) device\(devices.count == 1 ? "" : "s") (was \(last?.devices.count ?? 0))")
                }
            }
            if !missing.isEmpty, missing != last?.missing {
                log("pool\(missing.count == 1 ? "" : "s") \(missing.joined(separator: ", ")) no longer exist\(missing.count == 1 ? "s" : ""): serving the others")
            }
            recorded.withLock { $0 = Recorded(engineId: engineId, devices: devices, at: Date(), missing: missing) }
        } catch {
            log("cannot record this engine's region (the last one recorded stands): \(StoreError.describe(error))")
            recorded.withLock { $0?.at = Date() }
        }
    }
}

extension EngineService {
    /// Keeps this engine's region recorded (see `EngineRegion`); nothing without one.
    func refreshRegion() {
        guard let region, !region.isEmpty, unitQueueOn, let engineId = membership?.engineId else { return }
        region.refresh(database, engineId: engineId, log: log)
    }
}
