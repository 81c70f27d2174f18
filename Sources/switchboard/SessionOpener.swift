import Console
import Engine
import Foundation
import Store
#if canImport(Glibc)
import Glibc
#endif

/// The console's and `switchboard ssh`'s sessions, over the engine's transport: the device's
/// target (credential by priority or named, or a typed password; jump chain; host key checked as
/// configured), then a PTY shell.
final class EngineSessionOpener: InteractiveSessionOpener, @unchecked Sendable {
    let database: any StoreBackend
    let settings: Settings
    let paths: Paths
    private let lock = NSLock()
    private var transport: SSHTransport?

    init(database: any StoreBackend, settings: Settings, paths: Paths) {
        self.database = database; self.settings = settings; self.paths = paths
    }

    /// One transport for every session of this process (jump sessions are shared), made on first use.
    private func sharedTransport() throws -> SSHTransport {
        lock.lock()
        defer { lock.unlock() }
        if let transport { return transport }
        let t = try SSHTransport(configuration: SSHTransportConfiguration(settings: settings, paths: paths))
        transport = t
        return t
    }

    func shutdown() {
        lock.lock()
        let t = transport
        transport = nil
        lock.unlock()
        t?.shutdown()
    }

    func open(_ request: SessionRequest) throws(SessionOpenError) -> any TerminalSession {
        var target: SSHTarget
        let transport: SSHTransport
        do {
            let secrets = try SecretBox.load(paths: paths)
            target = try DeviceTargets(database: database, secrets: secrets, settings: settings)
                .target(device: request.device, credential: request.credential)
            transport = try sharedTransport()
        } catch let e as DeviceTargets.ResolveError {
            throw SessionOpenError(e.message)
        } catch let e as StoreError {
            throw SessionOpenError(e.message)
        } catch {
            throw SessionOpenError(EngineSessionOpener.oneLine("\(error)"))
        }
        if let password = request.password {
            // Typed for this session only: it replaces the credential's secret, and is never kept.
            target.endpoint.authentication = [.password(password), .keyboardInteractive(password: password)]
        }
        let outcome = Outcome()
        let semaphore = DispatchSemaphore(value: 0)
        let finalTarget = target
        Task.detached {
            do {
                let connection = try await transport.connect(finalTarget)
                do {
                    let session = try await connection.openInteractive(terminal: request.terminal, columns: request.columns, rows: request.rows)
                    outcome.set(.success((connection, session)))
                } catch {
                    await connection.close()
                    throw error
                }
            } catch {
                outcome.set(.failure(error))
            }
            semaphore.signal()
        }
        semaphore.wait()
        switch outcome.value! {
        case .success(let (connection, session)):
            do {
                return try EngineTerminalSession(connection: connection, session: session)
            } catch {
                Task.detached { await session.close(); await connection.close() }
                throw SessionOpenError("\(error)")
            }
        case .failure(let error):
            throw SessionOpenError(EngineSessionOpener.oneLine("\(error)"))
        }
    }

    static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
    }

    private final class Outcome: @unchecked Sendable {
        private let lock = NSLock()
        private var result: Result<(SSHConnection, InteractiveSession), any Error>?
        func set(_ r: Result<(SSHConnection, InteractiveSession), any Error>) { lock.lock(); result = r; lock.unlock() }
        var value: Result<(SSHConnection, InteractiveSession), any Error>? { lock.lock(); defer { lock.unlock() }; return result }
    }
}

/// An `InteractiveSession` as the console's pump sees it: output buffered and announced on a pipe,
/// keystrokes and resizes sent in order by one task, close without waiting.
final class EngineTerminalSession: TerminalSession, @unchecked Sendable {
    let loginUser: String
    let readableDescriptor: Int32
    private let notifyFD: Int32
    private let lock = NSLock()
    private var pending: [UInt8] = []
    private var end: SessionEnd?
    private var descriptorsClosed = false
    private enum Command { case write([UInt8]), resize(Int, Int), close }
    private let commands: AsyncStream<Command>.Continuation
    private let finished = DispatchSemaphore(value: 0)

    init(connection: SSHConnection, session: InteractiveSession) throws {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw SessionOpenError("cannot create a pipe: \(String(cString: strerror(errno)))") }
        for fd in fds {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        readableDescriptor = fds[0]
        notifyFD = fds[1]
        loginUser = connection.username
        let (stream, continuation) = AsyncStream<Command>.makeStream(bufferingPolicy: .unbounded)
        commands = continuation
        // Output: as it comes.
        Task.detached { [self] in
            var ended: SessionEnd = .lost("the session ended without a reason")
            for await event in session.events {
                switch event {
                case .output(let bytes):
                    self.deliver(bytes, end: nil)
                case .closed(let status, let error):
                    ended = error.map { .lost(EngineSessionOpener.oneLine("\($0)")) } ?? .closed(exitStatus: status)
                }
            }
            self.deliver([], end: ended)
        }
        // Input, resizes and the close, in order.
        let done = finished
        Task.detached {
            for await command in stream {
                switch command {
                case .write(let bytes):
                    // A failed write shows up as the session's end on the output side.
                    try? await session.write(bytes)
                case .resize(let columns, let rows):
                    try? await session.resize(columns: columns, rows: rows)
                case .close:
                    await session.close()
                    await connection.close()
                    done.signal()
                    return
                }
            }
        }
    }

    private func deliver(_ bytes: [UInt8], end: SessionEnd?) {
        lock.lock()
        pending += bytes
        if let end, self.end == nil { self.end = end }
        let fd = descriptorsClosed ? -1 : notifyFD
        lock.unlock()
        if fd >= 0 {
            var b: UInt8 = 1
            _ = write(fd, &b, 1)
        }
    }

    func take() -> (output: [UInt8], end: SessionEnd?) {
        var sink = [UInt8](repeating: 0, count: 256)
        while read(readableDescriptor, &sink, sink.count) > 0 {}
        lock.lock()
        defer { lock.unlock() }
        let out = pending
        pending.removeAll(keepingCapacity: true)
        // The end only once every byte before it was taken.
        return (out, end)
    }

    func send(_ bytes: [UInt8]) { commands.yield(.write(bytes)) }

    func resize(columns: Int, rows: Int) { commands.yield(.resize(columns, rows)) }

    func close() {
        commands.yield(.close)
        commands.finish()
    }

    /// Waits (at most `seconds`) for the close to reach the device, before the process exits.
    func waitClosed(seconds: Double) {
        _ = finished.wait(timeout: .now() + seconds)
    }

    deinit {
        lock.lock()
        descriptorsClosed = true
        lock.unlock()
        Glibc.close(readableDescriptor)
        Glibc.close(notifyFD)
    }
}
