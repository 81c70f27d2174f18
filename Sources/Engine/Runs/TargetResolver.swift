import Foundation
import Store

/// Resolves a run's targets when it starts: the run's own targets (from the launch) when it has any,
/// else the service's; the union of named devices, pool members and filter matches, sorted by name.
/// `nil` means the service has no targets at all and runs once, without a device.
public enum TargetResolver {
    public struct Targets: Sendable {
        public var devices: [String]
        public var pools: [String]
        public var filter: String
        public var isEmpty: Bool { devices.isEmpty && pools.isEmpty && filter.isEmpty }
    }

    public static func targets(of run: Run, service: Service) -> Targets {
        let fromRun = Targets(devices: run.targets["devices"]?.arrayValue?.compactMap(\.stringValue) ?? [],
                              pools: run.targets["pools"]?.arrayValue?.compactMap(\.stringValue) ?? [],
                              filter: run.targets["filter"]?.stringValue ?? "")
        if !fromRun.isEmpty { return fromRun }
        return Targets(devices: service.devices, pools: service.pools, filter: service.targetFilter)
    }

    public static func devices(_ store: any StoreReader, _ targets: Targets) throws -> [Device]? {
        if targets.isEmpty { return nil }
        var byName: [String: Device] = [:]
        for name in targets.devices {
            guard let d = try store.device(named: name) else { throw StoreError.notFound("target device '\(name)' does not exist") }
            byName[d.name] = d
        }
        for pool in targets.pools {
            for d in try store.poolDevices(named: pool) { byName[d.name] = d }
        }
        if !targets.filter.isEmpty {
            let expression: FilterExpression
            do { expression = try FilterExpression.parse(targets.filter) }
            catch { throw StoreError.invalid("target filter '\(targets.filter)': \(error)") }
            for d in try store.devices(filter: expression, knownProperties: try store.devicePropertyNames()) {
                byName[d.name] = d
            }
        }
        return byName.values.sorted { $0.name < $1.name }
    }
}
