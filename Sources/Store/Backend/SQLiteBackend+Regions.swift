import Foundation
import GRDB

/// Regions on SQLite: its one engine registers nowhere and the CLI refuses `--pools`/`--filter`
/// here, so in use nothing is recorded. The claim SQL is the one PostgreSQL runs, so recording a
/// region writes the rows it reads (an `engine` row included): the conformance suite checks the
/// shared claim on both backends.
extension AppDatabase {
    public func recordEngineRegion(engineId: Int64, pools: [String], filter: String, devices: Set<Int64>) throws {
        let poolsJSON = String(decoding: try JSONEncoder().encode(pools), as: UTF8.self)
        try Self.mappingErrors {
            try writer.write { db in
                try db.execute(sql: """
                    INSERT INTO engine (id, host, pid, pools, filter, restricted, started_at, heartbeat_at)
                    VALUES (?, '', 0, ?, ?, ?, \(Self.nowSQL), \(Self.nowSQL))
                    ON CONFLICT(id) DO UPDATE SET pools = excluded.pools, filter = excluded.filter, restricted = excluded.restricted
                    """, arguments: [engineId, poolsJSON, filter, !pools.isEmpty || !filter.isEmpty])
                let old = Set(try Int64.fetchAll(db, sql: "SELECT device_id FROM engine_device WHERE engine_id = ?", arguments: [engineId]))
                for gone in old.subtracting(devices) {
                    try db.execute(sql: "DELETE FROM engine_device WHERE engine_id = ? AND device_id = ?", arguments: [engineId, gone])
                }
                for new in devices.subtracting(old) {
                    try db.execute(sql: "INSERT INTO engine_device (engine_id, device_id) VALUES (?, ?)", arguments: [engineId, new])
                }
            }
        }
    }

    /// One engine serves every device: nothing waits for a region.
    public func unservedUnits(_ thresholds: EngineThresholds) throws -> UnservedUnits { UnservedUnits() }
}
