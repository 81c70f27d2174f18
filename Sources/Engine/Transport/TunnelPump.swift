import CLibSSH2
import Glibc

/// Carries the direct-tcpip channels of a jump session to the socket pairs their target sessions
/// use: each target's libssh2 session reads and writes one end of a `socketpair`, and this
/// operation, running on the jump session's loop thread, moves bytes between the other end and
/// the channel. One authenticated jump session thus carries every target behind it.
///
/// Thread confinement: a loop operation of the jump session's driver; only its loop thread
/// touches it.
final class TunnelPump: LoopOperation, @unchecked Sendable {
    final class Tunnel {
        let channel: OpaquePointer
        /// Our end of the socket pair.
        let fd: Int32
        let label: String
        /// Channel → target, and target → channel, bytes not yet delivered.
        var toLocal = ByteQueue()
        var toRemote = ByteQueue()
        var remoteEOF = false
        var localEOF = false
        var localShutDown = false
        var eofSent = false
        var finished = false

        init(channel: OpaquePointer, fd: Int32, label: String) {
            self.channel = channel
            self.fd = fd
            self.label = label
        }
    }

    /// A libssh2 call that returned EAGAIN with its packet half sent: it must be repeated, before
    /// any other call on the session, until it completes.
    private enum Pending {
        case writeChannel(Tunnel)
        case sendEOF(Tunnel)
        case free(Tunnel)
        case read(Tunnel)
    }

    private(set) var tunnels: [Tunnel] = []
    private var scratch = [UInt8](repeating: 0, count: 65_536)
    private var pending: Pending?
    private static let bufferLimit = 1 << 20
    /// Called when the last tunnel is gone and the operation finishes.
    private let onIdle: () -> Void

    init(onIdle: @escaping () -> Void) {
        self.onIdle = onIdle
        super.init(deadline: nil)
    }

    func add(_ tunnel: Tunnel) { tunnels.append(tunnel) }

    override func addPollDescriptors(_ descriptors: inout [pollfd]) {
        for tunnel in tunnels where !tunnel.finished {
            var events: Int16 = 0
            if !tunnel.localEOF && tunnel.toRemote.count < Self.bufferLimit { events |= Int16(POLLIN) }
            if !tunnel.toLocal.isEmpty { events |= Int16(POLLOUT) }
            // Nothing wanted (the target closed; the channel is closing): leave the descriptor
            // out, or its POLLHUP would wake the loop again and again until the device's close.
            guard events != 0 else { continue }
            descriptors.append(pollfd(fd: tunnel.fd, events: events, revents: 0))
        }
    }

    override func step(_ driver: SessionDriver) -> StepOutcome {
        var moved = false
        if let pending {
            self.pending = nil
            let tunnel: Tunnel
            switch pending {
            case .writeChannel(let t), .sendEOF(let t), .free(let t), .read(let t): tunnel = t
            }
            moved = pump(tunnel, driver, resuming: pending) || moved
            if self.pending != nil { return moved ? .progressed : .blocked }
        }
        for tunnel in tunnels where !tunnel.finished {
            moved = pump(tunnel, driver, resuming: nil) || moved
            if pending != nil { return moved ? .progressed : .blocked }
        }
        tunnels.removeAll { $0.finished }
        if tunnels.isEmpty {
            onIdle()
            return .finished
        }
        return moved ? .progressed : .blocked
    }

    /// The jump session is gone: the targets see their sockets close.
    override func fail(_ error: any Error) {
        for tunnel in tunnels where !tunnel.finished {
            close(tunnel.fd)
            tunnel.finished = true
        }
        tunnels.removeAll()
        onIdle()
    }

    override func timeoutError() -> any Error { SSHError.closed(host: "", port: 0) }

    private func halfSent(_ driver: SessionDriver) -> Bool {
        libssh2_session_block_directions(driver.session) & LIBSSH2_SESSION_BLOCK_OUTBOUND != 0
    }

    /// Moves what can move for one tunnel; true if anything did. Sets `pending` and returns early
    /// when a libssh2 call left a packet half sent.
    private func pump(_ t: Tunnel, _ driver: SessionDriver, resuming: Pending?) -> Bool {
        var moved = false
        switch resuming {
        case .free?:
            return finish(t, driver)
        case .sendEOF?:
            guard sendEOF(t, driver) else { return false }
            moved = true
        case .writeChannel?:
            moved = writeChannel(t, driver)
            if pending != nil { return moved }
        case .read?, nil:
            break  // reading comes first anyway
        }

        // channel → target
        while !t.remoteEOF && t.toLocal.count < Self.bufferLimit {
            let n = scratch.withUnsafeMutableBytes { raw in
                libssh2_channel_read_ex(t.channel, 0, raw.baseAddress!.assumingMemoryBound(to: CChar.self), raw.count)
            }
            if n > 0 {
                t.toLocal.append(scratch[0..<n])
                moved = true
            } else if n == 0 {
                t.remoteEOF = true
            } else if n == Int(LIBSSH2_ERROR_EAGAIN) {
                if halfSent(driver) {  // a window adjustment is half sent
                    pending = .read(t)
                    return moved
                }
                break
            } else {
                // The channel broke (jump host lost the target): the target sees its socket close.
                t.remoteEOF = true
                t.toLocal.removeAll()
                t.localEOF = true
                t.toRemote.removeAll()
                t.eofSent = true
                break
            }
        }
        while !t.toLocal.isEmpty {
            let n = t.toLocal.withBytes { send(t.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n > 0 {
                t.toLocal.consume(n)
                moved = true
            } else if n < 0 && (errno == EAGAIN || errno == EINTR) {
                break
            } else {
                // The target closed its end: nothing more to deliver.
                t.toLocal.removeAll()
                t.localEOF = true
                break
            }
        }
        if t.remoteEOF && t.toLocal.isEmpty && !t.localShutDown {
            shutdown(t.fd, Int32(SHUT_WR))
            t.localShutDown = true
            moved = true
        }

        // target → channel
        while !t.localEOF && t.toRemote.count < Self.bufferLimit {
            let n = scratch.withUnsafeMutableBytes { recv(t.fd, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                t.toRemote.append(scratch[0..<n])
                moved = true
            } else if n == 0 {
                t.localEOF = true
                moved = true
            } else if errno == EAGAIN || errno == EINTR {
                break
            } else {
                t.localEOF = true
                t.toRemote.removeAll()
            }
        }
        moved = writeChannel(t, driver) || moved
        if pending != nil { return moved }
        if t.localEOF && t.toRemote.isEmpty && !t.eofSent {
            guard sendEOF(t, driver) else { return moved }
            moved = true
        }
        // The target session is gone once its end closed; no need to wait for the device.
        if t.localEOF && t.eofSent && t.toRemote.isEmpty {
            return finish(t, driver) || moved
        }
        return moved
    }

    /// Sends what the target wrote; stops when the window or the socket is full.
    private func writeChannel(_ t: Tunnel, _ driver: SessionDriver) -> Bool {
        var moved = false
        while !t.toRemote.isEmpty && !t.eofSent {
            let n = t.toRemote.withBytes { raw in
                libssh2_channel_write_ex(t.channel, 0, raw.baseAddress!.assumingMemoryBound(to: CChar.self), raw.count)
            }
            if n > 0 {
                t.toRemote.consume(n)
                moved = true
            } else if n == Int(LIBSSH2_ERROR_EAGAIN) || n == 0 {
                if halfSent(driver) { pending = .writeChannel(t) }
                return moved
            } else {
                t.toRemote.removeAll()
                t.eofSent = true
                t.remoteEOF = true
            }
        }
        return moved
    }

    private func sendEOF(_ t: Tunnel, _ driver: SessionDriver) -> Bool {
        let rc = libssh2_channel_send_eof(t.channel)
        if rc == LIBSSH2_ERROR_EAGAIN {
            if halfSent(driver) { pending = .sendEOF(t) }
            return false
        }
        t.eofSent = true
        return true
    }

    /// Frees the channel and closes our end of the pair.
    private func finish(_ t: Tunnel, _ driver: SessionDriver) -> Bool {
        let rc = libssh2_channel_free(t.channel)
        if rc == LIBSSH2_ERROR_EAGAIN {
            if halfSent(driver) { pending = .free(t) }
            return false
        }
        close(t.fd)
        t.finished = true
        return true
    }
}

/// A FIFO of bytes with cheap consumption from the front.
struct ByteQueue {
    private var storage: [UInt8] = []
    private var head = 0

    var count: Int { storage.count - head }
    var isEmpty: Bool { count == 0 }

    mutating func append(_ bytes: ArraySlice<UInt8>) {
        if head > 0 && head >= storage.count / 2 {
            storage.removeFirst(head)
            head = 0
        }
        storage.append(contentsOf: bytes)
    }

    mutating func consume(_ n: Int) {
        head += n
        if head == storage.count {
            storage.removeAll(keepingCapacity: true)
            head = 0
        }
    }

    mutating func removeAll() {
        storage.removeAll()
        head = 0
    }

    func withBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        storage.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[head...])) }
    }
}
