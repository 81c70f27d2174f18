import Foundation
import PostgresNIO
import Store

/// Several engines on one PostgreSQL database: each registers itself in the `engine` table and
/// heartbeats with the database's clock; whichever is active claims runs (`FOR UPDATE SKIP LOCKED`)
/// and any of them interrupts the runs of an engine that stopped heartbeating.
extension PostgresBackend {
    static let stopChannel = "switchboard_stop"

    /// Registers an engine: a row stamped with the database's `now()`. Never refuses.
    public func acquireEngineLock(_ identity: EngineIdentity) throws -> (any StoreEngineLock)? {
        let id = try register(identity)
        return PostgresEngineRegistration(backend: self, identity: identity, id: id)
    }

    func register(_ identity: EngineIdentity) throws -> Int64 {
        try withConnection { c in
            let pools = try Self.json(identity.pools)
            // A region is recorded from the start (`restricted`): until the engine records its
            // devices it claims no unit that has one, never one outside its region.
            guard let id = try c.query("""
                INSERT INTO engine (host, pid, version, capacity, pools, filter, restricted, started_at, heartbeat_at)
                VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, now(), now()) RETURNING id
                """, [.text(identity.host), .int(Int(identity.pid)), .text(identity.version), .int(identity.capacity), .text(pools),
                      .text(identity.filter), .bool(identity.isRestricted)])
                .first?.value(0, as: Int64.self) else { throw StoreError(.database, "the engine's registration returned no id") }
            return id
        }
    }

    /// An active engine's pid, one of this host first: what `switchboard run` asks before starting one.
    public func engineLockHolder() -> Int32? {
        guard let engines = try? engines(engineThresholds) else { return nil }
        let active = engines.filter { $0.state == .active }
        return (active.first { $0.host == EngineIdentity.thisHost } ?? active.first)?.pid
    }

    /// In flight: the units an engine holds, plus the runs it executes whole (a run spread over
    /// units is its units', whichever engine spread it).
    public func engines(_ thresholds: EngineThresholds) throws -> [EngineEntry] {
        try withConnection { c in
            try c.query("""
                SELECT e.id, e.host, e.pid::bigint, e.version, e.capacity::bigint, e.pools::text, e.started_at::text,
                       extract(epoch FROM now() - e.heartbeat_at)::float8,
                       ((SELECT count(*) FROM run_unit u WHERE u.status = 'claimed' AND u.engine_id = e.id)
                        + (SELECT count(*) FROM run r WHERE r.status = 'running' AND r.engine_id = e.id
                             AND NOT EXISTS (SELECT 1 FROM run_unit u WHERE u.run_id = r.id)))::bigint,
                       e.filter, e.restricted,
                       (SELECT count(*) FROM engine_device ed WHERE ed.engine_id = e.id)::bigint, e.draining
                FROM engine e ORDER BY e.id
                """).map { row in
                let age = max(0, try row.value(7, as: Double.self))
                let pools = (try? JSONDecoder().decode([String].self, from: Data(try row.value(5, as: String.self).utf8))) ?? []
                return EngineEntry(id: try row.value(0, as: Int64.self), host: try row.value(1, as: String.self),
                                   pid: Int32(truncatingIfNeeded: try row.value(2, as: Int64.self)),
                                   version: try row.value(3, as: String.self), capacity: Int(try row.value(4, as: Int64.self)),
                                   pools: pools, startedAt: PGRecords.parseTimestamp(try row.value(6, as: String.self)),
                                   heartbeatAgeSeconds: age, state: EngineEntry.state(age: age, thresholds),
                                   inFlight: Int(try row.value(8, as: Int64.self)), filter: try row.value(9, as: String.self),
                                   servedDevices: try row.value(10, as: Bool.self) ? Int(try row.value(11, as: Int64.self)) : nil,
                                   draining: try row.value(12, as: Bool.self))
            }
        }
    }

    /// Engines past the drop threshold are deleted (any engine's housekeeping does it).
    public func removeDroppedEngines(_ thresholds: EngineThresholds) throws -> [EngineEntry] {
        try withConnection { c in
            try c.query("""
                DELETE FROM engine WHERE heartbeat_at <= now() - make_interval(secs => $1)
                RETURNING id, host, pid::bigint, version, capacity::bigint, extract(epoch FROM now() - heartbeat_at)::float8
                """, [.double(thresholds.drop)]).map { row in
                EngineEntry(id: try row.value(0, as: Int64.self), host: try row.value(1, as: String.self),
                            pid: Int32(truncatingIfNeeded: try row.value(2, as: Int64.self)), version: try row.value(3, as: String.self),
                            capacity: Int(try row.value(4, as: Int64.self)), pools: [], startedAt: nil,
                            heartbeatAgeSeconds: try row.value(5, as: Double.self), state: .dropped, inFlight: 0)
            }
        }
    }

    /// LISTEN on the stop channel: `requestStop` notifies it (at commit) with the run's id.
    public func stopWaiter() -> (any StoreChangeWaiting)? {
        guard let c = try? connect() else { return nil }
        return try? PostgresChangeWaiter(connection: c, channel: Self.stopChannel)
    }
}

/// An engine's registration: its row in `engine`, kept by heartbeats, deleted on release.
final class PostgresEngineRegistration: StoreEngineLock, @unchecked Sendable {
    let backend: PostgresBackend
    let identity: EngineIdentity
    private let lock = NSLock()
    private var id: Int64
    private var released = false

    init(backend: PostgresBackend, identity: EngineIdentity, id: Int64) {
        self.backend = backend; self.identity = identity; self.id = id
    }

    var engineId: Int64? { lock.withLock { id } }

    /// `heartbeat_at = now()`: the database's clock, never this host's. A registration another
    /// engine dropped meanwhile is made again, under a new id (the runs of the old one are not this
    /// engine's any more), and the answer is false.
    func heartbeat() throws -> Bool {
        let id = lock.withLock { self.id }
        let alive = try backend.withConnection { c in
            !(try c.query("UPDATE engine SET heartbeat_at = now() WHERE id = $1 RETURNING id", [.int(Int(id))]).isEmpty)
        }
        if alive || lock.withLock({ released }) { return true }
        let new = try backend.register(identity)
        lock.withLock { self.id = new }
        return false
    }

    func release() {
        let id: Int64? = lock.withLock {
            if released { return nil }
            released = true
            return self.id
        }
        guard let id else { return }
        _ = try? backend.withConnection { c in try c.query("DELETE FROM engine WHERE id = $1", [.int(Int(id))]) }
    }
}
