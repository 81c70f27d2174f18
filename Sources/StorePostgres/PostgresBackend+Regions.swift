import Foundation
import PostgresNIO
import Store

/// Regions (several engines): an engine's devices in `engine_device`, which the shared claim SQL
/// (`RunUnitClaimSQL`) reads, and the units no active engine serves, which `runs` explains.
extension PostgresBackend {
    public func recordEngineRegion(engineId: Int64, pools: [String], filter: String, devices: Set<Int64>) throws {
        let ids = try Self.json(devices.sorted())
        try withConnection { c in
            try inTransaction(c) { tx in
                // A registration another engine dropped is gone: its region with it (the engine
                // registers again and records its region under the new id).
                guard try !tx.write("""
                    UPDATE engine SET pools = $2::jsonb, filter = $3, restricted = $4 WHERE id = $1 RETURNING id
                    """, [.int(Int(engineId)), .text(try Self.json(pools)), .text(filter), .bool(!pools.isEmpty || !filter.isEmpty)]).isEmpty
                else { return }
                // Only the difference is written: a region of thousands of devices that did not
                // change costs two statements that touch no row.
                try tx.write("""
                    DELETE FROM engine_device WHERE engine_id = $1
                      AND device_id NOT IN (SELECT value::bigint FROM jsonb_array_elements_text($2::jsonb))
                    """, [.int(Int(engineId)), .text(ids)])
                try tx.write("""
                    INSERT INTO engine_device (engine_id, device_id)
                    SELECT $1, value::bigint FROM jsonb_array_elements_text($2::jsonb) ON CONFLICT DO NOTHING
                    """, [.int(Int(engineId)), .text(ids)])
            }
        }
    }

    public func unservedUnits(_ thresholds: EngineThresholds) throws -> UnservedUnits {
        try withConnection { c in
            // Over queued units only (a partial index); an active engine without a region serves
            // every unit, so with one of those this returns nothing. A draining engine serves nothing.
            let rows = try c.query("""
                WITH active AS (
                    SELECT id, restricted, filter FROM engine WHERE heartbeat_at > now() - make_interval(secs => $1) AND NOT draining
                )
                SELECT u.run_id, u.device_id, min(u.device_name),
                       (SELECT count(*) FROM active)::bigint, COALESCE((SELECT bool_or(restricted AND filter <> '') FROM active), false)
                FROM run_unit u JOIN run r ON r.id = u.run_id
                WHERE u.status = 'queued' AND r.status = 'running' AND NOT r.stop_requested AND u.device_id IS NOT NULL
                  AND NOT EXISTS (SELECT 1 FROM active e WHERE NOT e.restricted
                                  OR EXISTS (SELECT 1 FROM engine_device ed WHERE ed.engine_id = e.id AND ed.device_id = u.device_id))
                GROUP BY u.run_id, u.device_id ORDER BY u.run_id, min(u.device_name)
                """, [.double(thresholds.active)])
            var out = UnservedUnits()
            for row in rows {
                out.devices.append(UnservedUnits.Device(runId: try row.value(0, as: Int64.self), deviceId: try row.value(1, as: Int64.self),
                                                        deviceName: try row.value(2, as: String.self)))
                out.activeEngines = Int(try row.value(3, as: Int64.self))
                out.filters = try row.value(4, as: Bool.self)
            }
            return out
        }
    }
}
