import CLibSSH2
import Glibc
import Synchronization

/// A libssh2 session, its socket, and the operations in flight on it.
///
/// Thread confinement: the driver is created on the caller's thread (session allocated, nothing
/// sent), then used only on its loop's thread: every libssh2 call on the session happens inside an
/// operation step or a job submitted to `loop`. The `@unchecked Sendable` lets callers hand it to
/// that thread and capture it in the closures that run there; the async entry points
/// (`run`, `perform`, `close`) only submit work.
///
/// libssh2 in non-blocking mode has one rule the driver enforces: once a call returned EAGAIN
/// with a packet half sent (block direction OUTBOUND), the same call must be repeated before
/// anything else sends on the session. That operation becomes the `sendOwner` and is the only one
/// stepped until it moves on.
final class SessionDriver: @unchecked Sendable {
    let loop: IOLoop
    let session: OpaquePointer
    let socket: Int32
    /// For messages: where this session goes.
    let host: String
    let port: Int
    let callbacks = SessionCallbacks()

    // Loop thread only (after creation).
    private var operations: [LoopOperation] = []
    private var sendOwner: LoopOperation?
    var needsService = false
    private var registered = false
    private(set) var isClosed = false
    private var closeError: SSHError?
    private var keepaliveInterval: UInt64 = 0
    private var keepaliveDue: UInt64 = .max
    /// Runs once the session is freed and its socket closed.
    var onTerminate: [() -> Void] = []
    /// The pump of the direct-tcpip tunnels this (jump) session carries, while it has any.
    var tunnelPump: TunnelPump?
    /// Set once the session is freed (closed, failed, or the loop stopped); readable anywhere.
    private let terminated = Atomic<Bool>(false)

    /// False once the session is gone, whoever ended it.
    var isAlive: Bool { !terminated.load(ordering: .acquiring) }

    /// Takes ownership of `socket` (closed when the driver terminates, or on failure here).
    init(loop: IOLoop, socket: Int32, host: String, port: Int) throws {
        LibSSH2.ensureInitialized()
        self.loop = loop
        self.socket = socket
        self.host = host
        self.port = port
        guard let session = libssh2_session_init_ex(nil, nil, nil, callbacks.abstractPointer) else {
            Glibc.close(socket)
            throw SSHError.protocolError(host: host, port: port, message: "libssh2 could not allocate a session")
        }
        self.session = session
        libssh2_session_set_blocking(session, 0)
        SessionCallbacks.install(on: session)
    }

    deinit {
        // Never registered with a loop (failed before the first operation): nobody else has it.
        if !isClosed { release() }
    }

    // MARK: any thread

    /// Adds `operation` on the loop thread and waits for it. Task cancellation cancels it.
    func run<T: Sendable>(_ operation: ContinuationOperation<T>) async throws -> T {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                operation.install(continuation)
                if !loop.submit({ self.add(operation) }) {
                    operation.resume(.failure(SSHError.closed(host: host, port: port)))
                }
            }
        } onCancel: {
            operation.requestCancel()
            loop.submit { self.needsService = true }
        }
    }

    /// Runs `attempt` on the loop thread until it is done, throws, or `deadline` passes.
    func perform<T: Sendable>(deadline: UInt64?, socketEvents: Int16? = nil,
                              timeout: @escaping @Sendable () -> SSHError,
                              _ attempt: @escaping (SessionDriver) throws -> Attempt<T>) async throws -> T {
        try await run(AttemptOperation(deadline: deadline, socketEvents: socketEvents, timeoutError: timeout, attempt: attempt))
    }

    /// Sends SSH_MSG_DISCONNECT (waiting at most `grace`), then frees the session and closes the
    /// socket. Pending operations fail with `.closed`.
    func close(grace: Duration = .seconds(2)) async {
        let deadline = Monotonic.deadline(after: grace)
        _ = try? await perform(deadline: deadline, timeout: { .closed(host: self.host, port: self.port) }) { driver -> Attempt<Void> in
            let rc = libssh2_session_disconnect_ex(driver.session, SSH_DISCONNECT_BY_APPLICATION, "switchboard: done", "")
            return rc == LIBSSH2_ERROR_EAGAIN ? .wouldBlock : .done(())
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let accepted = loop.submit {
                self.terminate(nil)
                continuation.resume()
            }
            // The loop already stopped: it terminated every driver it had.
            if !accepted { continuation.resume() }
        }
    }

    /// Frees the session and closes the socket without a goodbye (handshake or verification failed).
    func abort() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let accepted = loop.submit {
                self.terminate(nil)
                continuation.resume()
            }
            if !accepted { continuation.resume() }
        }
    }

    /// Closes without waiting (from a `deinit`): the same as `close`, fire and forget.
    func closeSoon() {
        loop.submit {
            if !self.isClosed {
                _ = libssh2_session_disconnect_ex(self.session, SSH_DISCONNECT_BY_APPLICATION, "switchboard: done", "")
                self.terminate(nil)
            }
        }
    }

    // MARK: loop thread

    func add(_ operation: LoopOperation) {
        if isClosed {
            operation.fail(closeError ?? SSHError.closed(host: host, port: port))
            return
        }
        if !registered {
            registered = true
            loop.register(self)
        }
        operations.append(operation)
        needsService = true
    }

    /// Sends keepalives every `seconds` while the session is otherwise idle; 0 turns them off.
    func enableKeepalive(seconds: Int) {
        guard seconds > 0 else { return }
        libssh2_keepalive_config(session, 1, UInt32(seconds))
        keepaliveInterval = UInt64(seconds) * 1_000_000_000
        keepaliveDue = Monotonic.now() &+ keepaliveInterval
        if !registered {
            registered = true
            loop.register(self)
        }
    }

    /// The earliest deadline or keepalive time.
    var nextWakeup: UInt64 {
        var earliest = keepaliveDue
        for operation in operations { if let deadline = operation.deadline { earliest = min(earliest, deadline) } }
        return earliest
    }

    func addPollDescriptors(_ descriptors: inout [pollfd], _ owners: inout [SessionDriver?]) {
        guard !isClosed, !operations.isEmpty else { return }
        let relevant = sendOwner.map { [$0] } ?? operations
        var events: Int16 = 0
        var explicit = false
        for operation in relevant {
            if let wanted = operation.socketEvents {
                events |= wanted
                explicit = true
            }
        }
        if !explicit {
            let directions = libssh2_session_block_directions(session)
            if directions & LIBSSH2_SESSION_BLOCK_INBOUND != 0 { events |= Int16(POLLIN) }
            if directions & LIBSSH2_SESSION_BLOCK_OUTBOUND != 0 { events |= Int16(POLLOUT) }
            if events == 0 { events = Int16(POLLIN) }
        }
        descriptors.append(pollfd(fd: socket, events: events, revents: 0))
        owners.append(self)
        for operation in relevant {
            let before = descriptors.count
            operation.addPollDescriptors(&descriptors)
            for _ in before..<descriptors.count { owners.append(self) }
        }
    }

    /// Expires and cancels operations, then steps the others until none can move.
    func service(now: UInt64) {
        needsService = false
        guard !isClosed else { return }
        var index = 0
        while index < operations.count {
            let operation = operations[index]
            let expired = operation.deadline.map { now >= $0 } ?? false
            guard operation.isCancelRequested || expired else {
                index += 1
                continue
            }
            operations.remove(at: index)
            operation.fail(operation.isCancelRequested ? CancellationError() : operation.timeoutError())
            if operation === sendOwner {
                // A packet is half sent for an operation that no longer exists: libssh2 cannot send
                // anything else on this session, ever.
                sendOwner = nil
                terminate(.protocolError(host: host, port: port,
                                         message: "an operation was abandoned in the middle of sending a packet; the connection was closed"))
                return
            }
        }

        var passes = 0
        while !operations.isEmpty && !isClosed {
            passes += 1
            if passes > 64 {
                // Still moving: let the other sessions of this thread have a turn first.
                needsService = true
                break
            }
            let receivedBefore = callbacks.bytesReceived
            var moved = false
            for operation in sendOwner.map({ [$0] }) ?? operations {
                guard !isClosed, operations.contains(where: { $0 === operation }) else { continue }
                let outcome = operation.step(self)
                let halfSent = libssh2_session_block_directions(session) & LIBSSH2_SESSION_BLOCK_OUTBOUND != 0
                switch outcome {
                case .finished:
                    operations.removeAll { $0 === operation }
                    if sendOwner === operation { sendOwner = nil }
                    moved = true
                case .progressed:
                    moved = true
                    if halfSent { sendOwner = operation } else if sendOwner === operation { sendOwner = nil }
                case .blocked:
                    if halfSent { sendOwner = operation } else if sendOwner === operation { sendOwner = nil }
                }
                if sendOwner != nil { break }
            }
            if !moved && callbacks.bytesReceived == receivedBefore {
                // The peer is gone and everything that arrived before has been handed over: now
                // let the operations see the end of file (and fail, or finish, with it).
                if callbacks.peerClosed && !callbacks.deliverEOF {
                    callbacks.deliverEOF = true
                    continue
                }
                break
            }
        }
        sendKeepaliveIfDue(now: now)
    }

    private func sendKeepaliveIfDue(now: UInt64) {
        guard keepaliveInterval > 0, !isClosed, sendOwner == nil, now >= keepaliveDue else { return }
        var secondsToNext: Int32 = 0
        let rc = libssh2_keepalive_send(session, &secondsToNext)
        if rc != 0 && rc != LIBSSH2_ERROR_EAGAIN {
            terminate(.disconnected(host: host, port: port, bytesReceived: 0, detail: "while idle (keepalive failed: \(LibSSH2.lastError(session).message))"))
            return
        }
        keepaliveDue = now &+ UInt64(max(secondsToNext, 1)) * 1_000_000_000
    }

    /// Fails every operation with `error` (or `.closed`), frees the session and closes the socket.
    func terminate(_ error: SSHError?) {
        guard !isClosed else { return }
        isClosed = true
        terminated.store(true, ordering: .releasing)
        closeError = error ?? .closed(host: host, port: port)
        let pending = operations
        operations.removeAll()
        sendOwner = nil
        keepaliveInterval = 0
        keepaliveDue = .max
        for operation in pending { operation.fail(closeError!) }
        release()
        if registered { loop.unregister(self) }
        let hooks = onTerminate
        onTerminate.removeAll()
        for hook in hooks { hook() }
    }

    /// Frees the session and closes the socket. Shutting the socket down first makes every send
    /// libssh2 still attempts (channel closes) fail at once instead of returning EAGAIN, so the
    /// non-blocking free completes in one call.
    private func release() {
        isClosed = true
        shutdown(socket, Int32(SHUT_RDWR))
        var tries = 0
        while libssh2_session_free(session) == LIBSSH2_ERROR_EAGAIN && tries < 100 { tries += 1 }
        Glibc.close(socket)
    }

    // MARK: errors

    /// Maps a libssh2 failure during `what` to the closest `SSHError`.
    func error(_ code: Int32, during what: String, bytesReceived: Int = 0) -> SSHError {
        let message = LibSSH2.lastError(session).message
        switch code {
        case LIBSSH2_ERROR_SOCKET_DISCONNECT, LIBSSH2_ERROR_SOCKET_RECV, LIBSSH2_ERROR_SOCKET_SEND,
             LIBSSH2_ERROR_BANNER_RECV, LIBSSH2_ERROR_BANNER_SEND:
            return .disconnected(host: host, port: port, bytesReceived: bytesReceived, detail: "during \(what): \(message)")
        default:
            return .protocolError(host: host, port: port, message: "\(what): \(message) (libssh2 error \(code))")
        }
    }
}
