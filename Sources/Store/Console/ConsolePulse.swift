import Foundation
import GRDB
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
        }

        public struct DeviceTiming: Sendable, Equatable {
            public var device: String
            public var averageMs: Int
            public var maxMs: Int
            public var operations: Int
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
        let nowSeconds = Int(now.timeIntervalSince1970.rounded(.down))
        let lastBucket = nowSeconds - ((nowSeconds % bucketSeconds) + bucketSeconds) % bucketSeconds
        let first = lastBucket - (buckets - 1) * bucketSeconds
        let firstDate = Date(timeIntervalSince1970: TimeInterval(first))
        let since = now.addingTimeInterval(-slowestWindow)
        return try database.writer.read { db in
            var succeeded = [Int](repeating: 0, count: buckets)
            var failed = [Int](repeating: 0, count: buckets)
            // Finished runs by the quarter they ended in: completed is a success, the rest failures.
            for r in try Row.fetchAll(db, sql: """
                SELECT (CAST(strftime('%s', ended_at) AS INTEGER) - ?) / ? AS bucket,
                       SUM(status = 'completed') AS ok, SUM(status <> 'completed') AS bad
                FROM run WHERE ended_at >= ? AND status IN ('completed', 'failed', 'aborted', 'interrupted')
                GROUP BY bucket
                """, arguments: [first, bucketSeconds, firstDate]) {
                let b: Int = r["bucket"]
                guard b >= 0, b < buckets else { continue }
                succeeded[b] = r["ok"]; failed[b] = r["bad"]
            }

            // One scan of the devices for status, reachability and today's backups.
            var byStatus: [String: Int] = [:]
            var devices = 0, reachable = 0, unreachable = 0, unknown = 0, backedUp = 0, backupsFailed = 0
            for r in try Row.fetchAll(db, sql: """
                SELECT COALESCE(last_run_status, '') AS status, reachable, COUNT(*) AS n,
                       COALESCE(SUM(last_backup_time >= ?), 0) AS backed_up,
                       COALESCE(SUM(last_backup_time >= ? AND last_backup_status = 'failure'), 0) AS backup_failed
                FROM device GROUP BY 1, 2
                """, arguments: [day, day]) {
                let n: Int = r["n"]
                devices += n
                byStatus[r["status"], default: 0] += n
                switch r["reachable"] as Bool? {
                case true?: reachable += n
                case false?: unreachable += n
                case nil: unknown += n
                }
                backedUp += r["backed_up"] as Int
                backupsFailed += r["backup_failed"] as Int
            }
            let lastRun = byStatus.map { Pulse.Count(name: $0.key, count: $0.value) }
                .sorted { $0.count != $1.count ? $0.count > $1.count : $0.name < $1.name }

            let queued = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM run WHERE status = 'queued'") ?? 0
            let running = try Row.fetchAll(db, sql: """
                SELECT id, service_name, progress_done, progress_total, progress_failed, started_at,
                       (SELECT COUNT(*) FROM run_log l WHERE l.run_id = run.id AND l.message = ?) AS started_units,
                       (SELECT COUNT(*) FROM result r WHERE r.run_id = run.id) AS finished_units
                FROM run WHERE status = 'running' ORDER BY id
                """, arguments: [RunLogLine.unitStarted]).map { r in
                Pulse.RunningRun(id: r["id"], service: r["service_name"], done: r["progress_done"], total: r["progress_total"],
                                 failed: r["progress_failed"], startedAt: r["started_at"],
                                 inFlight: max(0, (r["started_units"] as Int) - (r["finished_units"] as Int)))
            }

            // Results are found through their runs (indexed by run), so only the window's are read.
            let slowest = try Row.fetchAll(db, sql: """
                SELECT device_name, CAST(ROUND(AVG(duration_ms)) AS INTEGER) AS average, MAX(duration_ms) AS longest,
                       COUNT(*) AS n
                FROM result WHERE run_id IN (SELECT id FROM run WHERE created_at >= ?) AND device_name <> ''
                GROUP BY device_name ORDER BY average DESC, device_name LIMIT ?
                """, arguments: [since, slowestLimit]).map { r in
                Pulse.DeviceTiming(device: r["device_name"], averageMs: r["average"], maxMs: r["longest"], operations: r["n"])
            }

            // The snapshot index (device_id, created_at) covers this count: no configuration is read.
            let changed = try Row.fetchOne(db, sql: """
                SELECT COUNT(*) AS versions, COUNT(DISTINCT device_id) AS devices FROM config_snapshot WHERE created_at >= ?
                """, arguments: [day])
            let changedDevices = try String.fetchAll(db, sql: """
                SELECT d.name FROM config_snapshot c JOIN device d ON d.id = c.device_id WHERE c.created_at >= ?
                GROUP BY d.name ORDER BY MAX(c.created_at) DESC, d.name LIMIT ?
                """, arguments: [day, changedLimit])

            return Pulse(bucketSeconds: bucketSeconds, firstBucket: firstDate, succeeded: succeeded, failed: failed,
                         devices: devices, lastRun: lastRun, reachable: reachable, unreachable: unreachable,
                         reachabilityUnknown: unknown, queued: queued, running: running, slowestSince: since,
                         slowestWindow: slowestWindow,
                         slowest: slowest, day: day, changedVersions: changed?["versions"] ?? 0,
                         changedDevices: changedDevices, changedDeviceCount: changed?["devices"] ?? 0,
                         backedUp: backedUp, backupsFailed: backupsFailed)
        }
    }
}
