import CLibSSH2
import Glibc
import Logging
import Store
import Synchronization

/// The SSH layer of the engine and the console: connects to devices (directly or through jump
/// hosts), checks host keys against known_hosts, authenticates, and hands out `SSHConnection`s.
///
/// Threading model: a fixed number of I/O loop threads (`configuration.ioThreads`) own all
/// sessions, spread round-robin. Each session is non-blocking and touched by its loop thread
/// only; async callers submit operations to that thread and await them. Call `shutdown()` when
/// done: it closes every session and joins the threads.
public final class SSHTransport: Sendable {
    public let configuration: SSHTransportConfiguration
    let loops: IOLoopGroup
    let jumps = JumpPool()
    private let stopped = Atomic<Bool>(false)

    public init(configuration: SSHTransportConfiguration = SSHTransportConfiguration()) throws {
        LibSSH2.ensureInitialized()
        self.configuration = configuration
        self.loops = try IOLoopGroup(threads: configuration.ioThreads)
    }

    deinit { shutdown() }

    /// Closes every session (pending operations fail with `.closed`), frees them, closes their
    /// sockets and joins the loop threads. Blocks briefly; later calls do nothing.
    public func shutdown() {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        loops.stopAndJoin()
        jumps.removeAll()
    }

    /// Jump sessions currently open or opening.
    public var openJumpSessions: Int { jumps.count }

    // MARK: connecting

    public func connect(_ endpoint: SSHEndpoint) async throws -> SSHConnection {
        try await connect(SSHTarget(endpoint))
    }

    /// Connects to the target, through its jump chain if it has one: every hop's host key is
    /// checked, and a jump host's session is shared by all the targets behind it.
    public func connect(_ target: SSHTarget) async throws -> SSHConnection {
        try checkRunning(target.endpoint)
        guard !target.jumps.isEmpty else { return try await login(target.endpoint, via: nil) }
        let lease = try await jumps.acquire(target.jumps, login: { [self] chain in try await self.loginHop(chain) })
        do {
            return try await login(target.endpoint, via: lease)
        } catch {
            await lease.release()
            throw error
        }
    }

    /// The host key `target` offers, without authenticating to it (jump hosts on the way are
    /// checked and logged in to as usual). For `switchboard trust`.
    public func fetchHostKey(_ target: SSHTarget) async throws -> SSHHostKey {
        try checkRunning(target.endpoint)
        var lease: JumpLease?
        if !target.jumps.isEmpty {
            lease = try await jumps.acquire(target.jumps, login: { [self] chain in try await self.loginHop(chain) })
        }
        do {
            let (driver, key) = try await handshake(target.endpoint, via: lease)
            await driver.close(grace: .milliseconds(500))
            await lease?.release()
            return key
        } catch {
            await lease?.release()
            throw error
        }
    }

    /// Records `key` for `host:port` in the writable known_hosts file.
    public func trust(_ key: SSHHostKey, host: String, port: Int) throws {
        try configuration.knownHosts.record(host: host, port: port, key: key)
        configuration.logger.notice("trusted a host key", metadata: ["host": "\(SSHError.address(host, port))", "key": "\(key)"])
    }

    private func checkRunning(_ endpoint: SSHEndpoint) throws {
        if stopped.load(ordering: .acquiring) { throw SSHError.closed(host: endpoint.host, port: endpoint.port) }
    }

    /// Logs in to the last hop of `chain`, through the hops before it.
    private func loginHop(_ chain: [SSHEndpoint]) async throws -> SSHConnection {
        let hop = chain[chain.count - 1]
        guard chain.count > 1 else { return try await login(hop, via: nil) }
        let upstream = try await jumps.acquire(Array(chain.dropLast()), login: { [self] chain in try await self.loginHop(chain) })
        do {
            return try await login(hop, via: upstream)
        } catch {
            await upstream.release()
            throw error
        }
    }

    /// Handshake, host key check, authentication. The connection owns `lease` on success.
    private func login(_ endpoint: SSHEndpoint, via lease: JumpLease?) async throws -> SSHConnection {
        let (driver, key) = try await handshake(endpoint, via: lease)
        do {
            try verify(key, for: endpoint)
            let authenticator = Authenticator(driver: driver, endpoint: endpoint,
                                              deadline: Monotonic.deadline(after: configuration.authenticationTimeout),
                                              timeoutSeconds: configuration.authenticationTimeout.seconds)
            let method = try await authenticator.authenticate()
            configuration.logger.debug("logged in", metadata: ["target": "\(endpoint)", "method": "\(method)", "hostkey": "\(key)"])
            let keepalive = configuration.keepaliveInterval
            if keepalive > 0 { driver.loop.submit { driver.enableKeepalive(seconds: keepalive) } }
            return SSHConnection(driver: driver, endpoint: endpoint, hostKey: key, authenticationMethod: method,
                                 commandTimeout: configuration.commandTimeout, lease: lease)
        } catch {
            await driver.abort()
            throw error
        }
    }

    /// Strict: only known keys. accept-new: unknown keys are recorded. Changed keys: never.
    func verify(_ key: SSHHostKey, for endpoint: SSHEndpoint) throws {
        let knownHosts = configuration.knownHosts
        switch knownHosts.check(host: endpoint.host, port: endpoint.port, key: key) {
        case .known:
            return
        case let .changed(file, line):
            let error = SSHError.changedHostKey(host: endpoint.host, port: endpoint.port, keyType: key.type.rawValue,
                                                fingerprint: key.fingerprint, knownHostsFile: file, line: line, device: endpoint.name)
            configuration.logger.critical("\(error)")
            throw error
        case .unknown:
            if configuration.hostKeyPolicy == .acceptNew && knownHosts.writableFile != nil {
                try knownHosts.record(host: endpoint.host, port: endpoint.port, key: key)
                configuration.logger.notice("recorded a new host key (accept-new)", metadata: [
                    "host": "\(SSHError.address(endpoint.host, endpoint.port))", "key": "\(key)",
                    "file": "\(knownHosts.writableFile ?? "")"])
                return
            }
            throw SSHError.unknownHostKey(host: endpoint.host, port: endpoint.port, keyType: key.type.rawValue,
                                          fingerprint: key.fingerprint, device: endpoint.name)
        }
    }

    // MARK: socket and handshake

    /// A connected socket (TCP, or a tunnel through `lease`), a session on it, and the handshake.
    private func handshake(_ endpoint: SSHEndpoint, via lease: JumpLease?) async throws -> (SessionDriver, SSHHostKey) {
        let limit = configuration.connectTimeout
        let driver: SessionDriver
        if let lease {
            let fd = try await lease.connection.openTunnel(to: endpoint.host, port: endpoint.port, timeout: limit)
            driver = try SessionDriver(loop: loops.pick(), socket: fd, host: endpoint.host, port: endpoint.port)
        } else {
            driver = try await tcpConnect(endpoint)
        }
        let legacy = endpoint.legacyAlgorithms ?? configuration.legacyAlgorithms
        let knownTypes = configuration.knownHosts.knownKeyTypes(host: endpoint.host, port: endpoint.port)
        do {
            let deadline = Monotonic.deadline(after: limit)
            let timeout = driver.timeoutError(.handshake, limit.seconds, lease == nil ? "" : "through \(lease!.connection.host)")
            try await driver.perform(deadline: deadline, timeout: timeout) { driver -> Attempt<Void> in
                if let problem = AlgorithmPreferences.apply(to: driver.session, legacy: legacy, knownKeyTypes: knownTypes) {
                    throw SSHError.protocolError(host: driver.host, port: driver.port, message: problem)
                }
                return .done(())
            }
            let key = try await driver.perform(deadline: deadline, timeout: timeout) { driver -> Attempt<SSHHostKey> in
                let rc = libssh2_session_handshake(driver.session, libssh2_socket_t(driver.socket))
                if rc == LIBSSH2_ERROR_EAGAIN { return .wouldBlock }
                if rc != 0 { throw Self.handshakeError(rc, driver, legacy: legacy) }
                return .done(try Self.hostKey(of: driver))
            }
            return (driver, key)
        } catch {
            await driver.abort()
            throw error
        }
    }

    private static func handshakeError(_ rc: Int32, _ driver: SessionDriver, legacy: Bool) -> SSHError {
        switch rc {
        case LIBSSH2_ERROR_KEX_FAILURE, LIBSSH2_ERROR_METHOD_NONE, LIBSSH2_ERROR_KEY_EXCHANGE_FAILURE:
            let hint = legacy
                ? "the device offers no algorithm this libssh2 (\(EngineInfo.libssh2Version)) supports"
                : "if the device is old, enable legacy algorithms (setting ssh.legacy_algorithms, or the device's own)"
            return .protocolError(host: driver.host, port: driver.port,
                                  message: "no common key exchange, cipher or host key algorithm (\(LibSSH2.lastError(driver.session).message)); \(hint)")
        default:
            return driver.error(rc, during: "the SSH handshake")
        }
    }

    /// The key the server proved it holds, with libssh2's SHA-256 of it.
    private static func hostKey(of driver: SessionDriver) throws -> SSHHostKey {
        var length = 0
        var type: Int32 = 0
        guard let raw = libssh2_session_hostkey(driver.session, &length, &type), length > 0,
              let keyType = SSHHostKeyType(libssh2Type: type) else {
            throw SSHError.protocolError(host: driver.host, port: driver.port, message: "the server's host key is of an unsupported type (\(type))")
        }
        let blob = [UInt8](UnsafeRawBufferPointer(start: raw, count: length))
        guard let hash = libssh2_hostkey_hash(driver.session, LIBSSH2_HOSTKEY_HASH_SHA256) else {
            return SSHHostKey(type: keyType, blob: blob)
        }
        let digest = [UInt8](UnsafeRawBufferPointer(start: hash, count: 32))
        return SSHHostKey(type: keyType, blob: blob, sha256: digest)
    }

    /// Resolves, then connects to each address in turn until one answers.
    private func tcpConnect(_ endpoint: SSHEndpoint) async throws -> SessionDriver {
        let (host, port) = (endpoint.host, endpoint.port)
        let limit = configuration.connectTimeout
        let deadline = Monotonic.deadline(after: limit)
        var lastError = SSHError.unreachable(host: host, port: port, reason: "no address")
        for address in try await SocketConnector.resolve(host: host, port: port) {
            let fd: Int32
            do {
                fd = try SocketConnector.startConnect(address, host: host, port: port)
            } catch let error as SSHError {
                lastError = error
                continue
            }
            let driver = try SessionDriver(loop: loops.pick(), socket: fd, host: host, port: port)
            do {
                try await driver.perform(deadline: deadline, socketEvents: Int16(POLLOUT),
                                         timeout: driver.timeoutError(.connect, limit.seconds, "")) { driver -> Attempt<Void> in
                    try SocketConnector.checkConnected(driver.socket, host: driver.host, port: driver.port).map { .done($0) } ?? .wouldBlock
                }
                return driver
            } catch let error as SSHError {
                await driver.abort()
                guard case .unreachable = error else { throw error }
                lastError = error
            } catch {
                await driver.abort()
                throw error
            }
        }
        throw lastError
    }
}
