import CLibSSH2
import Glibc
import Synchronization

/// An authenticated SSH session to one device. Several commands, CLI sessions and interactive
/// sessions can share it, concurrently (each on its own channel).
///
/// All libssh2 work happens on the session's I/O loop thread; the methods here only wait for it.
/// Close it with `close()`; dropping the last reference closes it too, without waiting.
public final class SSHConnection: Sendable {
    public let host: String
    public let port: Int
    public let username: String
    /// The device name given in the endpoint, if any.
    public let deviceName: String?
    /// The host key the server proved it holds (and that known_hosts accepted).
    public let hostKey: SSHHostKey
    /// The method that logged in: `publickey`, `password`, `keyboard-interactive`,
    /// `publickey (agent)`, `publickey (inline key)`, or `none`.
    public let authenticationMethod: String
    public let commandTimeout: Duration

    let driver: SessionDriver
    private struct State {
        var closed = false
        /// The jump session this one is tunnelled through, released when this one closes.
        var lease: JumpLease?
    }
    private let state: Mutex<State>

    init(driver: SessionDriver, endpoint: SSHEndpoint, hostKey: SSHHostKey, authenticationMethod: String,
         commandTimeout: Duration, lease: JumpLease?) {
        self.driver = driver
        self.host = endpoint.host
        self.port = endpoint.port
        self.username = endpoint.username
        self.deviceName = endpoint.name
        self.hostKey = hostKey
        self.authenticationMethod = authenticationMethod
        self.commandTimeout = commandTimeout
        self.state = Mutex(State(closed: false, lease: lease))
    }

    deinit {
        let lease = state.withLock { state -> JumpLease?? in
            guard !state.closed else { return nil }
            state.closed = true
            return .some(state.lease)
        }
        guard let lease else { return }
        driver.closeSoon()
        if let lease { Task { await lease.release() } }
    }

    /// True once `close()` was called, or the session died (peer gone, keepalive failed, transport
    /// shut down).
    public var isClosed: Bool { state.withLock { $0.closed } || !driver.isAlive }

    /// Disconnects (SSH_MSG_DISCONNECT, at most two seconds), frees the session, closes the socket,
    /// and releases the jump session this one went through.
    public func close() async {
        let lease = state.withLock { state -> JumpLease?? in
            guard !state.closed else { return nil }
            state.closed = true
            defer { state.lease = nil }
            return .some(state.lease)
        }
        guard let lease else { return }
        await driver.close()
        await lease?.release()
    }

    // MARK: exec

    /// Runs `command` on an exec channel (no PTY): stdout, stderr and exit status. `timeout`
    /// (default: the transport's command timeout) covers the whole command.
    public func exec(_ command: String, timeout: Duration? = nil) async throws -> SSHExecResult {
        let limit = timeout ?? commandTimeout
        let seconds = limit.seconds
        let deadline = Monotonic.deadline(after: limit)
        let driver = self.driver
        let channel = try await driver.openSessionChannel(deadline: deadline, seconds: seconds, purpose: "exec (\(command))")
        do {
            try await driver.startProcess(channel, request: "exec", message: command, deadline: deadline, seconds: seconds, detail: command)
            let buffers = ReadBuffers(separateStderr: true)
            try await driver.perform(deadline: deadline, timeout: driver.timeoutError(.command, seconds, command)) { driver -> Attempt<Void> in
                let before = buffers.total
                // At most 1 MB per step, so other sessions on this thread get their turn.
                if try driver.drain(channel, into: buffers, limit: before + (1 << 20), detail: command, bytesSoFar: 0) {
                    return .done(())
                }
                return buffers.total > before ? .progressed : .wouldBlock
            }
            let (status, signal) = try await driver.waitClosed(channel, deadline: deadline, seconds: seconds, detail: command)
            await driver.free(channel)
            return SSHExecResult(stdout: buffers.output, stderr: buffers.errorOutput, exitStatus: status, exitSignal: signal)
        } catch {
            driver.freeSoon(channel)
            throw error
        }
    }

    // MARK: shells

    /// A shell channel with a PTY, for `CLISession` and `InteractiveSession`.
    func openShellChannel(terminal: String, columns: Int, rows: Int, timeout: Duration) async throws -> ChannelHandle {
        let seconds = timeout.seconds
        let deadline = Monotonic.deadline(after: timeout)
        let channel = try await driver.openSessionChannel(deadline: deadline, seconds: seconds, purpose: "a shell")
        do {
            try await driver.requestPTYAndShell(channel, terminal: terminal, columns: columns, rows: rows, deadline: deadline, seconds: seconds)
            return channel
        } catch {
            await driver.free(channel)
            throw error
        }
    }

    /// A prompt-driven CLI session for `platform`: opens a shell with a wide PTY, finds the
    /// prompt, and (by default) turns paging off with the platform's commands.
    public func openCLI(platform: PlatformDefinition, timeout: Duration? = nil, disablePaging: Bool = true) async throws -> CLISession {
        let limit = timeout ?? commandTimeout
        // Wide, so long commands and lines never wrap (the echo must come back in one piece).
        let channel = try await openShellChannel(terminal: "vt100", columns: 511, rows: 24, timeout: limit)
        let session = CLISession(connection: self, channel: channel, platform: platform, commandTimeout: limit)
        do {
            _ = try await session.findPrompt(timeout: limit)
            // Paging goes off with the first command (typed ahead of it): one round trip fewer.
            if disablePaging { await session.deferPaging() }
        } catch {
            await session.close()
            throw error
        }
        return session
    }

    /// A raw interactive terminal session (the console's): bytes in, bytes out, resize.
    public func openInteractive(terminal: String = "xterm-256color", columns: Int = 80, rows: Int = 24,
                                timeout: Duration? = nil) async throws -> InteractiveSession {
        let channel = try await openShellChannel(terminal: terminal, columns: columns, rows: rows, timeout: timeout ?? commandTimeout)
        return InteractiveSession(connection: self, channel: channel)
    }

    // MARK: tunnels (this connection as a jump host)

    /// Opens a direct-tcpip channel to `host:port` and returns one end of a socket pair bridged to
    /// it: the caller's libssh2 session uses it as its socket.
    func openTunnel(to targetHost: String, port targetPort: Int, timeout: Duration) async throws -> Int32 {
        let seconds = timeout.seconds
        let purpose = "a tunnel to \(SSHError.address(targetHost, targetPort))"
        return try await driver.perform(deadline: Monotonic.deadline(after: timeout),
                                        timeout: driver.timeoutError(.channel, seconds, purpose)) { driver -> Attempt<Int32> in
            guard let channel = libssh2_channel_direct_tcpip_ex(driver.session, targetHost, Int32(targetPort), "127.0.0.1", 22) else {
                let code = libssh2_session_last_errno(driver.session)
                if code == LIBSSH2_ERROR_EAGAIN { return .wouldBlock }
                if code == LIBSSH2_ERROR_CHANNEL_FAILURE || code == LIBSSH2_ERROR_CHANNEL_REQUEST_DENIED {
                    throw SSHError.channelRefused(host: driver.host, port: driver.port, purpose: purpose, message: LibSSH2.lastError(driver.session).message)
                }
                throw driver.error(code, during: "opening \(purpose)")
            }
            let pair: (Int32, Int32)
            do { pair = try SocketConnector.socketPair() } catch {
                _ = libssh2_channel_free(channel)
                throw error
            }
            let pump: TunnelPump
            if let existing = driver.tunnelPump {
                pump = existing
            } else {
                pump = TunnelPump(onIdle: { [unowned driver] in driver.tunnelPump = nil })
                driver.tunnelPump = pump
                driver.add(pump)
            }
            pump.add(TunnelPump.Tunnel(channel: channel, fd: pair.0, label: purpose))
            driver.needsService = true
            return .done(pair.1)
        }
    }
}
