import Foundation
import Synchronization

/// The console's `:pulse` dashboard, read as plain values: every figure is aggregated by SQLite
/// (counts and averages per group), so a read costs a few scans however many runs, results and
/// devices there are, and nothing is loaded row by row.
extension ConsoleStore {
    /// Everything `:pulse` shows.
    public struct Pulse: Sendable, Equatable {
        /// Finished runs per bucket, oldest first: the bucket `i` starts at `firstBucket + i * bucketSeconds`.
        public var bucketSeconds: Int
        public var firstBucket: Date
        public var succeeded: [Int]
        public var failed: [Int]
        /// Devices by last-run status ("" for never run) and by reachability.
        public var devices: Int
        public var lastRun: [Count]
        public var reachable: Int
        public var unreachable: Int
        public var reachabilityUnknown: Int
        /// The engine's queue and what it is running.
        public var queued: Int
        public var running: [RunningRun]
        /// The slowest devices over the results of the runs created since `slowestSince`.
        public var slowestSince: Date
        public var slowestWindow: TimeInterval
        public var slowest: [DeviceTiming]
        /// Backups of the day that starts at `day`: versions stored (a snapshot is stored only when
        /// the configuration changed), the devices they belong to, the newest first, and the devices
        /// backed up (or failing to) that day.
        public var day: Date
        public var changedVersions: Int
        public var changedDevices: [String]
        public var changedDeviceCount: Int
        public var backedUp: Int
        public var backupsFailed: Int

        public struct Count: Sendable, Equatable {
            public var name: String
            public var count: Int
            public init(name: String, count: Int) { self.name = name; self.count = count }
        }

        public struct RunningRun: Sendable, Equatable {
            public var id: Int64
            public var service: String
            public var done: Int, total: Int, failed: Int
            public var startedAt: Date?
            /// Device operations in flight: started (the engine's `started` log line, flushed with
            /// the journal) and not yet finished (no result). Retries do not start a unit again.
            public var inFlight: Int = 0
            public init(id: Int64, service: String, done: Int, total: Int, failed: Int, startedAt: Date?, inFlight: Int) {
                self.id = id; self.service = service; self.done = done; self.total = total; self.failed = failed
                self.startedAt = startedAt; self.inFlight = inFlight
            }
        }

        public struct DeviceTiming: Sendable, Equatable {
            public var device: String
            public var averageMs: Int
            public var maxMs: Int
            public var operations: Int
            public init(device: String, averageMs: Int, maxMs: Int, operations: Int) {
                self.device = device; self.averageMs = averageMs; self.maxMs = maxMs; self.operations = operations
            }
        }

        /// Finished runs ending in one bucket (`bucket`: its index from the first).
        public struct BucketCount: Sendable {
            public var bucket: Int, succeeded: Int, failed: Int
            public init(bucket: Int, succeeded: Int, failed: Int) { self.bucket = bucket; self.succeeded = succeeded; self.failed = failed }
        }
        /// Devices of one (last-run status, reachability) group, with that day's backups among them.
        public struct DeviceGroup: Sendable {
            public var status: String, reachable: Bool?, count: Int, backedUp: Int, backupsFailed: Int
            public init(status: String, reachable: Bool?, count: Int, backedUp: Int, backupsFailed: Int) {
                self.status = status; self.reachable = reachable; self.count = count; self.backedUp = backedUp; self.backupsFailed = backupsFailed
            }
        }

        /// The pulse from a backend's aggregates: one definition of how they add up, for every backend.
        public static func assemble(_ shape: PulseShape, buckets rows: [BucketCount], devices groups: [DeviceGroup], queued: Int,
                                    running: [RunningRun], slowest: [DeviceTiming], changedVersions: Int,
                                    changedDevices: [String], changedDeviceCount: Int) -> Pulse {
            var succeeded = [Int](repeating: 0, count: shape.buckets)
            var failed = [Int](repeating: 0, count: shape.buckets)
            for r in rows where r.bucket >= 0 && r.bucket < shape.buckets { succeeded[r.bucket] = r.succeeded; failed[r.bucket] = r.failed }
            var byStatus: [String: Int] = [:]
            var devices = 0, reachable = 0, unreachable = 0, unknown = 0, backedUp = 0, backupsFailed = 0
            for g in groups {
                devices += g.count
                byStatus[g.status, default: 0] += g.count
                switch g.reachable {
                case true?: reachable += g.count
                case false?: unreachable += g.count
                case nil: unknown += g.count
                }
                backedUp += g.backedUp
                backupsFailed += g.backupsFailed
            }
            let lastRun = byStatus.map { Count(name: $0.key, count: $0.value) }
                .sorted { $0.count != $1.count ? $0.count > $1.count : $0.name < $1.name }
            return Pulse(bucketSeconds: shape.bucketSeconds, firstBucket: shape.firstDate, succeeded: succeeded, failed: failed,
                         devices: devices, lastRun: lastRun, reachable: reachable, unreachable: unreachable,
                         reachabilityUnknown: unknown, queued: queued, running: running, slowestSince: shape.since,
                         slowestWindow: shape.slowestWindow, slowest: slowest, day: shape.day, changedVersions: changedVersions,
                         changedDevices: changedDevices, changedDeviceCount: changedDeviceCount,
                         backedUp: backedUp, backupsFailed: backupsFailed)
        }
    }

    /// Pulse reads performed by this process (tests check that an idle pulse reads nothing).
    public static let pulseReads = Atomic<Int>(0)

    /// Reads the pulse in one read transaction.
    /// - Parameters:
    ///   - now: the end of the run histogram.
    ///   - day: the start of the local day the backup figures are for.
    ///   - buckets, bucketSeconds: the histogram's shape (96 quarters of an hour: 24 hours); buckets
    ///     are aligned on multiples of `bucketSeconds` since the epoch, so a later view can shift
    ///     them without reading again.
    ///   - slowestWindow: how far back the slowest devices are looked for, in seconds.
    public func pulse(now: Date, day: Date, buckets: Int = 96, bucketSeconds: Int = 900,
                      slowestWindow: TimeInterval = 86_400, slowestLimit: Int = 20, changedLimit: Int = 8) throws -> Pulse {
        Self.pulseReads.add(1, ordering: .relaxed)
        let shape = PulseShape(now: now, day: day, buckets: buckets, bucketSeconds: bucketSeconds, slowestWindow: slowestWindow,
                               slowestLimit: slowestLimit, changedLimit: changedLimit)
        return try read { try $0.pulse(shape) }
    }

    /// What a pulse read covers: its histogram's buckets, its windows and limits.
    public struct PulseShape: Sendable {
        public var now: Date, day: Date
        public var buckets: Int, bucketSeconds: Int
        public var slowestWindow: TimeInterval
        public var slowestLimit: Int, changedLimit: Int
        /// The first bucket's start, in seconds since the epoch (buckets aligned on multiples of `bucketSeconds`).
        public var first: Int {
            let nowSeconds = Int(now.timeIntervalSince1970.rounded(.down))
            let lastBucket = nowSeconds - ((nowSeconds % bucketSeconds) + bucketSeconds) % bucketSeconds
            return lastBucket - (buckets - 1) * bucketSeconds
        }
        public var firstDate: Date { Date(timeIntervalSince1970: TimeInterval(first)) }
        public var since: Date { now.addingTimeInterval(-slowestWindow) }
    }
}
