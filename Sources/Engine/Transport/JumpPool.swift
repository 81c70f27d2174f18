import Synchronization

/// Shared, reference-counted jump sessions: one authenticated session per jump host (per chain
/// prefix, host, port and user) carries the tunnels of every target behind it, instead of one login
/// per target. Concurrent connects through the same jump host wait for the same login.
final class JumpPool: Sendable {
    private struct Entry {
        var references: Int
        let id: UInt64
        let login: Task<SSHConnection, any Error>
    }
    private struct State {
        var entries: [String: Entry] = [:]
        var nextID: UInt64 = 0
    }
    private let state = Mutex(State())

    /// The key of a chain: every hop up to and including the last, which is the one leased.
    static func key(_ chain: [SSHEndpoint]) -> String {
        chain.map { "\($0.username)@\(SSHError.address($0.host, $0.port))" }.joined(separator: " -> ")
    }

    /// A lease on the session to `chain.last`, logging in (through the rest of the chain) if no
    /// one has yet. `login` makes the connection; it runs once per key while leases are held.
    func acquire(_ chain: [SSHEndpoint],
                 login: @escaping @Sendable ([SSHEndpoint]) async throws -> SSHConnection) async throws -> JumpLease {
        let key = JumpPool.key(chain)
        while true {
            let (task, id) = state.withLock { state -> (Task<SSHConnection, any Error>, UInt64) in
                if var entry = state.entries[key] {
                    entry.references += 1
                    state.entries[key] = entry
                    return (entry.login, entry.id)
                }
                state.nextID += 1
                let task = Task { try await login(chain) }
                state.entries[key] = Entry(references: 1, id: state.nextID, login: task)
                return (task, state.nextID)
            }
            let connection: SSHConnection
            do {
                connection = try await task.value
            } catch {
                // A failed login is forgotten at once, so the next connect tries again.
                forget(key: key, id: id)
                throw error
            }
            if connection.isClosed {
                // The shared session died (peer gone, keepalive failed): log in afresh. Holders of
                // the dead one release into nothing (their id no longer matches).
                forget(key: key, id: id)
                continue
            }
            return JumpLease(pool: self, key: key, id: id, connection: connection)
        }
    }

    private func forget(key: String, id: UInt64) {
        state.withLock { state in
            if state.entries[key]?.id == id { state.entries[key] = nil }
        }
    }

    /// Drops one reference; the last one closes the jump session.
    func release(key: String, id: UInt64) async {
        let last = state.withLock { state -> Task<SSHConnection, any Error>? in
            guard var entry = state.entries[key], entry.id == id else { return nil }
            entry.references -= 1
            if entry.references > 0 {
                state.entries[key] = entry
                return nil
            }
            state.entries[key] = nil
            return entry.login
        }
        if let last, let connection = try? await last.value { await connection.close() }
    }

    /// Forgets every entry (the transport shut down: their sessions are gone with the loops).
    func removeAll() {
        state.withLock { $0.entries.removeAll() }
    }

    /// How many jump sessions are open or opening (for tests and diagnostics).
    var count: Int { state.withLock { $0.entries.count } }
}

/// One holder's claim on a shared jump session; `release` exactly once (later calls do nothing).
final class JumpLease: Sendable {
    let connection: SSHConnection
    private let pool: JumpPool
    private let key: String
    private let id: UInt64
    private let released = Atomic<Bool>(false)

    init(pool: JumpPool, key: String, id: UInt64, connection: SSHConnection) {
        self.pool = pool
        self.key = key
        self.id = id
        self.connection = connection
    }

    func release() async {
        guard !released.exchange(true, ordering: .acquiringAndReleasing) else { return }
        await pool.release(key: key, id: id)
    }
}
