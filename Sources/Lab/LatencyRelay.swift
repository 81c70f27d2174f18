import Foundation

/// A TCP relay that delays every chunk by a fixed time in each direction: these machines have no
/// netem, and real devices are far away — round trips, not crypto, decide an automation run's time.
/// One thread, one `poll` loop over every listening and connected socket.
public final class LatencyRelay {
    public struct Route: Codable, Sendable {
        public var listenPort: Int
        public var targetPort: Int
    }

    public struct Config: Codable, Sendable {
        public var latencyMs: Int
        public var routes: [Route]
    }

    /// One direction of one connection: bytes read, waiting for their delivery time.
    final class Direction {
        var queue: [(due: UInt64, data: [UInt8])] = []
        var pending: [UInt8] = []   // due, partly written
        var readClosed = false
        var shutdownSent = false
    }

    final class Connection {
        let client: Int32
        let upstream: Int32
        let toUpstream = Direction()
        let toClient = Direction()
        init(client: Int32, upstream: Int32) { self.client = client; self.upstream = upstream }
        var finished: Bool {
            toUpstream.readClosed && toClient.readClosed && toUpstream.queue.isEmpty && toClient.queue.isEmpty
                && toUpstream.pending.isEmpty && toClient.pending.isEmpty
        }
    }

    let config: Config
    var listeners: [(fd: Int32, target: Int)] = []
    var connections: [Connection] = []

    public init(config: Config) { self.config = config }

    static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000 + UInt64(ts.tv_nsec) / 1000
    }

    /// Binds every route and runs until killed.
    public func run() throws -> Never {
        signal(SIGPIPE, SIG_IGN)
        for r in config.routes {
            listeners.append((try LatencyRelay.listen(port: r.listenPort), r.targetPort))
        }
        let delay = UInt64(config.latencyMs) * 1000
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            var fds: [pollfd] = listeners.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
            var owners: [(Connection, Bool)] = []  // (connection, isClientSide)
            let now = LatencyRelay.now()
            var nextDue: UInt64 = .max
            for c in connections {
                for (fd, readDir, writeDir, isClient) in [(c.client, c.toUpstream, c.toClient, true), (c.upstream, c.toClient, c.toUpstream, false)] {
                    var events: Int16 = 0
                    if !readDir.readClosed { events |= Int16(POLLIN) }
                    if !writeDir.pending.isEmpty { events |= Int16(POLLOUT) }
                    if let first = writeDir.queue.first {
                        if first.due <= now { events |= Int16(POLLOUT) } else { nextDue = min(nextDue, first.due) }
                    }
                    fds.append(pollfd(fd: fd, events: events, revents: 0))
                    owners.append((c, isClient))
                }
            }
            let timeout: Int32 = nextDue == .max ? 1000 : Int32(min(1000, (nextDue - min(nextDue, now) + 999) / 1000))
            let n = poll(&fds, nfds_t(fds.count), timeout)
            if n < 0 && errno != EINTR { throw LabError("relay poll failed: \(String(cString: strerror(errno)))") }
            // New connections.
            for (i, l) in listeners.enumerated() where fds[i].revents & Int16(POLLIN) != 0 {
                let client = accept(l.fd, nil, nil)
                if client < 0 { continue }
                guard let upstream = try? LatencyRelay.connect(port: l.target) else { close(client); continue }
                LatencyRelay.setNonBlocking(client); LatencyRelay.setNonBlocking(upstream)
                var one: Int32 = 1
                setsockopt(client, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                setsockopt(upstream, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                connections.append(Connection(client: client, upstream: upstream))
            }
            let stamp = LatencyRelay.now()
            for (k, (c, isClient)) in owners.enumerated() {
                let pfd = fds[listeners.count + k]
                let fd = isClient ? c.client : c.upstream
                let readDir = isClient ? c.toUpstream : c.toClient
                let writeDir = isClient ? c.toClient : c.toUpstream
                if pfd.revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 && !readDir.readClosed {
                    let got = read(fd, &buffer, buffer.count)
                    if got > 0 {
                        readDir.queue.append((stamp + delay, Array(buffer[0..<got])))
                    } else if got == 0 || (errno != EAGAIN && errno != EINTR) {
                        readDir.readClosed = true
                    }
                }
                // Move what is due into pending, then write as much as the socket takes.
                while let first = writeDir.queue.first, first.due <= stamp {
                    writeDir.pending += first.data
                    writeDir.queue.removeFirst()
                }
                if !writeDir.pending.isEmpty {
                    let w = writeDir.pending.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                    if w > 0 { writeDir.pending.removeFirst(w) }
                    else if w < 0 && errno != EAGAIN && errno != EINTR { writeDir.pending.removeAll(); writeDir.queue.removeAll(); readDir.readClosed = true }
                }
                // Half-close once the other side finished and everything it sent was delivered.
                let other = isClient ? c.toClient : c.toUpstream
                if other.readClosed && other.queue.isEmpty && other.pending.isEmpty && !other.shutdownSent {
                    shutdown(fd, Int32(SHUT_WR))
                    other.shutdownSent = true
                }
            }
            connections.removeAll { c in
                if c.finished { close(c.client); close(c.upstream); return true }
                return false
            }
        }
    }

    static func setNonBlocking(_ fd: Int32) {
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    }

    static func loopback(_ port: Int) -> sockaddr_in {
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        return addr
    }

    static func listen(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = loopback(port)
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if rc != 0 || Glibc.listen(fd, 1024) != 0 {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw LabError("relay cannot listen on 127.0.0.1:\(port): \(reason)")
        }
        setNonBlocking(fd)
        return fd
    }

    static func connect(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = loopback(port)
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if rc != 0 { close(fd); throw LabError("relay cannot reach 127.0.0.1:\(port)") }
        return fd
    }
}
