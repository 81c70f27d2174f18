import CLibSSH2
import Glibc

/// A libssh2 channel. Thread confinement: like its session, touched only on the session's loop
/// thread (inside `SessionDriver.perform` attempts); the reference itself travels between tasks.
final class ChannelHandle: @unchecked Sendable {
    let raw: OpaquePointer
    var freed = false

    init(_ raw: OpaquePointer) { self.raw = raw }
}

/// What a read on a channel returned.
enum ChannelRead: Sendable {
    case data([UInt8])
    case eof
}

/// Channel operations as async calls. Each `perform` attempt is one non-blocking libssh2 call,
/// retried on EAGAIN by the loop.
extension SessionDriver {
    func timeoutError(_ phase: SSHError.Phase, _ seconds: Double, _ detail: String) -> @Sendable () -> SSHError {
        let (host, port) = (host, port)
        return { .timeout(host: host, port: port, phase: phase, seconds: seconds, detail: detail) }
    }

    /// Opens a "session" channel (for exec or a shell).
    func openSessionChannel(deadline: UInt64, seconds: Double, purpose: String) async throws -> ChannelHandle {
        try await perform(deadline: deadline, timeout: timeoutError(.channel, seconds, purpose)) { driver -> Attempt<ChannelHandle> in
            if let channel = libssh2_channel_open_ex(driver.session, "session", 7, LibSSH2.channelWindow, LibSSH2.channelPacket, nil, 0) {
                return .done(ChannelHandle(channel))
            }
            let code = libssh2_session_last_errno(driver.session)
            if code == LIBSSH2_ERROR_EAGAIN { return .wouldBlock }
            if code == LIBSSH2_ERROR_CHANNEL_FAILURE || code == LIBSSH2_ERROR_CHANNEL_REQUEST_DENIED {
                throw SSHError.channelRefused(host: driver.host, port: driver.port, purpose: purpose, message: LibSSH2.lastError(driver.session).message)
            }
            throw driver.error(code, during: "opening a channel for \(purpose)")
        }
    }

    /// `exec`, `shell` or `subsystem` on a session channel.
    func startProcess(_ channel: ChannelHandle, request: String, message: String?, deadline: UInt64, seconds: Double, detail: String) async throws {
        try await perform(deadline: deadline, timeout: timeoutError(.command, seconds, detail)) { driver -> Attempt<Void> in
            let rc: Int32
            if let message {
                rc = libssh2_channel_process_startup(channel.raw, request, UInt32(request.utf8.count), message, UInt32(message.utf8.count))
            } else {
                rc = libssh2_channel_process_startup(channel.raw, request, UInt32(request.utf8.count), nil, 0)
            }
            if rc == LIBSSH2_ERROR_EAGAIN { return .wouldBlock }
            if rc == LIBSSH2_ERROR_CHANNEL_REQUEST_DENIED {
                throw SSHError.channelRefused(host: driver.host, port: driver.port, purpose: "\(request) (\(detail))", message: LibSSH2.lastError(driver.session).message)
            }
            if rc != 0 { throw driver.error(rc, during: "starting \(request) (\(detail))") }
            return .done(())
        }
    }

    func requestPTY(_ channel: ChannelHandle, terminal: String, columns: Int, rows: Int, deadline: UInt64, seconds: Double) async throws {
        try await perform(deadline: deadline, timeout: timeoutError(.channel, seconds, "terminal request")) { driver -> Attempt<Void> in
            let rc = libssh2_channel_request_pty_ex(channel.raw, terminal, UInt32(terminal.utf8.count), nil, 0,
                                                    Int32(columns), Int32(rows), 0, 0)
            if rc == LIBSSH2_ERROR_EAGAIN { return .wouldBlock }
            if rc != 0 {
                throw SSHError.channelRefused(host: driver.host, port: driver.port, purpose: "a terminal (pty)", message: LibSSH2.lastError(driver.session).message)
            }
            return .done(())
        }
    }

    /// The terminal and shell requests of a CLI session, pipelined: both go out before either
    /// reply is awaited, which saves a round trip per login (SSH answers a channel's requests in
    /// order, and libssh2 keeps a separate state for each kind of request). The terminal request is
    /// always polled first, so it takes the first reply.
    func requestPTYAndShell(_ channel: ChannelHandle, terminal: String, columns: Int, rows: Int, deadline: UInt64, seconds: Double) async throws {
        var terminalDone = false
        var shellDone = false
        try await perform(deadline: deadline, timeout: timeoutError(.channel, seconds, "terminal and shell requests")) { driver -> Attempt<Void> in
            if !terminalDone {
                let rc = libssh2_channel_request_pty_ex(channel.raw, terminal, UInt32(terminal.utf8.count), nil, 0,
                                                        Int32(columns), Int32(rows), 0, 0)
                if rc == 0 {
                    terminalDone = true
                } else if rc != LIBSSH2_ERROR_EAGAIN {
                    throw SSHError.channelRefused(host: driver.host, port: driver.port, purpose: "a terminal (pty)", message: LibSSH2.lastError(driver.session).message)
                }
            }
            if !shellDone {
                // A packet still being written makes libssh2 answer EAGAIN here without sending: fine.
                let rc = libssh2_channel_process_startup(channel.raw, "shell", 5, nil, 0)
                if rc == 0 {
                    shellDone = true
                } else if rc == LIBSSH2_ERROR_CHANNEL_REQUEST_DENIED {
                    throw SSHError.channelRefused(host: driver.host, port: driver.port, purpose: "shell (shell)", message: LibSSH2.lastError(driver.session).message)
                } else if rc != LIBSSH2_ERROR_EAGAIN {
                    throw driver.error(rc, during: "starting shell (shell)")
                }
            }
            return terminalDone && shellDone ? .done(()) : .wouldBlock
        }
    }

    func resizePTY(_ channel: ChannelHandle, columns: Int, rows: Int, deadline: UInt64, seconds: Double) async throws {
        try await perform(deadline: deadline, timeout: timeoutError(.command, seconds, "window change")) { driver -> Attempt<Void> in
            let rc = libssh2_channel_request_pty_size_ex(channel.raw, Int32(columns), Int32(rows), 0, 0)
            if rc == LIBSSH2_ERROR_EAGAIN { return .wouldBlock }
            if rc != 0 { throw driver.error(rc, during: "window change") }
            return .done(())
        }
    }

    /// Writes every byte (libssh2 may take them in several calls, each bounded by the window).
    func write(_ channel: ChannelHandle, _ bytes: [UInt8], deadline: UInt64?, seconds: Double, detail: String) async throws {
        guard !bytes.isEmpty else { return }
        let progress = WriteProgress()
        try await perform(deadline: deadline, timeout: timeoutError(.command, seconds, detail)) { driver -> Attempt<Void> in
            var moved = false
            while progress.offset < bytes.count {
                let n = bytes.withUnsafeBytes { raw in
                    libssh2_channel_write_ex(channel.raw, 0, raw.baseAddress!.advanced(by: progress.offset).assumingMemoryBound(to: CChar.self),
                                             raw.count - progress.offset)
                }
                if n == Int(LIBSSH2_ERROR_EAGAIN) { return moved ? .progressed : .wouldBlock }
                if n < 0 {
                    throw driver.error(Int32(n), during: "sending (\(detail))")
                }
                progress.offset += n
                moved = true
            }
            return .done(())
        }
    }

    /// Waits for data (stdout and stderr merged) or EOF, then returns what is available, at most
    /// `limit` bytes.
    func read(_ channel: ChannelHandle, limit: Int, deadline: UInt64?, phase: SSHError.Phase, seconds: Double,
              detail: String, bytesSoFar: Int) async throws -> ChannelRead {
        try await perform(deadline: deadline, timeout: timeoutError(phase, seconds, detail)) { driver -> Attempt<ChannelRead> in
            let buffers = ReadBuffers(separateStderr: false)
            let eof = try driver.drain(channel, into: buffers, limit: limit, detail: detail, bytesSoFar: bytesSoFar)
            if !buffers.output.isEmpty { return .done(.data(buffers.output)) }
            if eof { return .done(.eof) }
            return .wouldBlock
        }
    }

    /// Reads stdout then stderr until EAGAIN, EOF, or `buffers` holds `limit` bytes; true at EOF.
    /// Loop thread only.
    func drain(_ channel: ChannelHandle, into buffers: ReadBuffers, limit: Int, detail: String, bytesSoFar: Int) throws -> Bool {
        var streamEOF = [false, false]
        for stream: Int32 in [0, 1] {
            while buffers.total < limit {
                let n = buffers.chunk.withUnsafeMutableBytes { raw in
                    libssh2_channel_read_ex(channel.raw, stream, raw.baseAddress!.assumingMemoryBound(to: CChar.self), raw.count)
                }
                if n > 0 {
                    buffers.append(stream: stream, count: n)
                    continue
                }
                if n == 0 {
                    streamEOF[Int(stream)] = true
                    break
                }
                if n == Int(LIBSSH2_ERROR_EAGAIN) { break }
                throw error(Int32(n), during: "reading (\(detail))", bytesReceived: bytesSoFar + buffers.total)
            }
        }
        return streamEOF[0] && streamEOF[1]
    }

    /// After EOF: waits for the remote close (exit status and signal arrive before it).
    func waitClosed(_ channel: ChannelHandle, deadline: UInt64?, seconds: Double, detail: String) async throws -> (status: Int32, signal: String?) {
        try await perform(deadline: deadline, timeout: timeoutError(.command, seconds, detail)) { driver -> Attempt<(status: Int32, signal: String?)> in
            let rc = libssh2_channel_wait_closed(channel.raw)
            if rc == LIBSSH2_ERROR_EAGAIN { return .wouldBlock }
            // Errors here (the connection dropped right after EOF) still leave the status we got.
            return .done(driver.exitStatus(channel))
        }
    }

    func exitStatus(_ channel: ChannelHandle) -> (status: Int32, signal: String?) {
        let status = libssh2_channel_get_exit_status(channel.raw)
        var signal: UnsafeMutablePointer<CChar>?
        var length = 0
        _ = libssh2_channel_get_exit_signal(channel.raw, &signal, &length, nil, nil, nil, nil)
        var name: String?
        if let signal {
            name = String(cString: signal)
            libssh2_free(session, signal)
        }
        return (status, name)
    }

    /// Frees a channel (sending CLOSE if needed), waiting at most two seconds; after that the
    /// session's own free takes care of it.
    func free(_ channel: ChannelHandle) async {
        let deadline = Monotonic.deadline(after: .seconds(2))
        _ = try? await perform(deadline: deadline, timeout: timeoutError(.command, 2, "closing a channel")) { _ -> Attempt<Void> in
            if channel.freed { return .done(()) }
            let rc = libssh2_channel_free(channel.raw)
            if rc == LIBSSH2_ERROR_EAGAIN { return .wouldBlock }
            channel.freed = true
            return .done(())
        }
    }
}

extension SessionDriver {
    /// Frees a channel in the background: after a timeout the caller gets its error at once
    /// instead of waiting for a device that is still busy to acknowledge the close.
    func freeSoon(_ channel: ChannelHandle) {
        let operation = AttemptOperation<Void>(deadline: Monotonic.deadline(after: .seconds(10)),
                                               timeoutError: { CancellationError() }) { _ -> Attempt<Void> in
            if channel.freed { return .done(()) }
            let rc = libssh2_channel_free(channel.raw)
            if rc == LIBSSH2_ERROR_EAGAIN { return .wouldBlock }
            channel.freed = true
            return .done(())
        }
        loop.submit { self.add(operation) }
    }
}

/// How far a write got; loop thread only.
private final class WriteProgress: @unchecked Sendable {
    var offset = 0
}

/// Output collected by reads; loop thread only.
final class ReadBuffers: @unchecked Sendable {
    var output: [UInt8] = []
    var errorOutput: [UInt8] = []
    let separateStderr: Bool
    /// Scratch space for libssh2 to read into.
    var chunk = [UInt8](repeating: 0, count: 65_536)

    init(separateStderr: Bool) { self.separateStderr = separateStderr }

    var total: Int { output.count + errorOutput.count }

    func append(stream: Int32, count: Int) {
        if stream == 1 && separateStderr {
            errorOutput.append(contentsOf: chunk[0..<count])
        } else {
            output.append(contentsOf: chunk[0..<count])
        }
    }
}
