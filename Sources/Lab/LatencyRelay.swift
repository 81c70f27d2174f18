import CLinux
import Foundation

/// A TCP relay that delays every chunk by a fixed time in each direction: these machines have no
/// netem, and real devices are far away — round trips, not crypto, decide an automation run's time.
/// One thread, one `epoll` set over every listening and connected socket. The delay is the same for
/// every chunk, so due times are in arrival order and one FIFO holds every delivery to come; the loop
/// sleeps until the first. (A `poll` over hundreds of listeners at every packet cost the relay more
/// CPU than the client it measured.)
public final class LatencyRelay {
    public struct Route: Codable, Sendable {
        public var listenPort: Int
        public var targetPort: Int
    }

    public struct Config: Codable, Sendable {
        public var latencyMs: Int
        public var routes: [Route]
    }

    /// One direction of one connection: reads from `source`, delivers to `sink` after the delay.
    final class Direction {
        let source: Int32
        let sink: Int32
        var queue: [(due: UInt64, data: [UInt8])] = []
        var queueHead = 0
        var pending: [UInt8] = []   // due, partly written
        var readClosed = false
        var shutdownSent = false
        var waitingToWrite = false
        init(source: Int32, sink: Int32) { self.source = source; self.sink = sink }
        var drained: Bool { queueHead == queue.count && pending.isEmpty }
    }

    final class Connection {
        let client: Int32
        let upstream: Int32
        let toUpstream: Direction
        let toClient: Direction
        var closed = false
        init(client: Int32, upstream: Int32) {
            self.client = client; self.upstream = upstream
            toUpstream = Direction(source: client, sink: upstream)
            toClient = Direction(source: upstream, sink: client)
        }
        var finished: Bool { toUpstream.readClosed && toClient.readClosed && toUpstream.drained && toClient.drained }
    }

    let config: Config
    var listeners: [Int32: Int] = [:]          // listening fd → target port
    var connections: [Int32: Connection] = [:] // either fd of a connection → the connection
    /// Every chunk waiting for its due time, in due order (the delay is constant).
    var deliveries: [(due: UInt64, direction: Direction)] = []
    var deliveriesHead = 0
    var epollFD: Int32 = -1
    /// Connection fds in the epoll set. One with nothing to wait for is taken out: HUP and ERR are
    /// reported whatever the interest, and would wake the loop without end.
    var registered: Set<Int32> = []

    public init(config: Config) { self.config = config }

    static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000 + UInt64(ts.tv_nsec) / 1000
    }

    /// Binds every route and runs until killed.
    public func run() throws -> Never {
        signal(SIGPIPE, SIG_IGN)
        epollFD = epoll_create1(Int32(EPOLL_CLOEXEC))
        if epollFD < 0 { throw LabError("relay: epoll_create1 failed: \(String(cString: strerror(errno)))") }
        for r in config.routes {
            let fd = try LatencyRelay.listen(port: r.listenPort)
            listeners[fd] = r.targetPort
            watch(fd, events: EPOLLIN.rawValue, op: EPOLL_CTL_ADD)
        }
        let delay = UInt64(config.latencyMs) * 1000
        var buffer = [UInt8](repeating: 0, count: 65536)
        var events = [epoll_event](repeating: epoll_event(), count: 256)
        while true {
            let now = LatencyRelay.now()
            var timeout: Int32 = 1000
            if deliveriesHead < deliveries.count {
                let due = deliveries[deliveriesHead].due
                timeout = due <= now ? 0 : Int32(min(1000, (due - now + 999) / 1000))
            }
            let n = epoll_wait(epollFD, &events, Int32(events.count), timeout)
            if n < 0 && errno != EINTR { throw LabError("relay epoll_wait failed: \(String(cString: strerror(errno)))") }
            let stamp = LatencyRelay.now()
            var touched: [Connection] = []
            for i in 0..<max(0, Int(n)) {
                let fd = Int32(truncatingIfNeeded: events[i].data.u64)
                let flags = events[i].events
                if let target = listeners[fd] {
                    accept(from: fd, target: target)
                    continue
                }
                guard let c = connections[fd], !c.closed else { continue }
                let (readDir, writeDir) = fd == c.client ? (c.toUpstream, c.toClient) : (c.toClient, c.toUpstream)
                if flags & (EPOLLIN.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0 && !readDir.readClosed {
                    let got = read(fd, &buffer, buffer.count)
                    if got > 0 {
                        readDir.queue.append((stamp + delay, Array(buffer[0..<got])))
                        deliveries.append((stamp + delay, readDir))
                    } else if got == 0 || (errno != EAGAIN && errno != EINTR) {
                        readDir.readClosed = true
                        updateInterest(c, fd)
                    }
                }
                if flags & EPOLLOUT.rawValue != 0 { flush(writeDir, c) }
                touched.append(c)
            }
            // Deliver what is due, in order.
            while deliveriesHead < deliveries.count, deliveries[deliveriesHead].due <= stamp {
                let direction = deliveries[deliveriesHead].direction
                deliveriesHead += 1
                guard direction.queueHead < direction.queue.count else { continue }
                direction.pending += direction.queue[direction.queueHead].data
                direction.queue[direction.queueHead].data = []
                direction.queueHead += 1
                if direction.queueHead > 64 && direction.queueHead * 2 > direction.queue.count {
                    direction.queue.removeFirst(direction.queueHead); direction.queueHead = 0
                }
                if let c = connections[direction.source] { flush(direction, c); touched.append(c) }
            }
            if deliveriesHead > 4096 && deliveriesHead * 2 > deliveries.count {
                deliveries.removeFirst(deliveriesHead); deliveriesHead = 0
            }
            for c in touched where !c.closed { finishHalves(c) }
        }
    }

    private func watch(_ fd: Int32, events: UInt32, op: Int32) {
        var event = epoll_event()
        event.events = events
        event.data.u64 = UInt64(UInt32(bitPattern: fd))
        _ = epoll_ctl(epollFD, op, fd, &event)
    }

    private func accept(from listener: Int32, target: Int) {
        while true {
            let client = Glibc.accept(listener, nil, nil)
            if client < 0 { return }
            guard let upstream = try? LatencyRelay.connect(port: target) else { close(client); continue }
            LatencyRelay.setNonBlocking(client); LatencyRelay.setNonBlocking(upstream)
            var one: Int32 = 1
            setsockopt(client, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            setsockopt(upstream, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            let c = Connection(client: client, upstream: upstream)
            connections[client] = c
            connections[upstream] = c
            for fd in [client, upstream] {
                watch(fd, events: EPOLLIN.rawValue, op: EPOLL_CTL_ADD)
                registered.insert(fd)
            }
        }
    }

    /// Level-triggered interest: reading until the source closed, writing while a write is stuck.
    private func updateInterest(_ c: Connection, _ fd: Int32) {
        let readDir = fd == c.client ? c.toUpstream : c.toClient
        let writeDir = fd == c.client ? c.toClient : c.toUpstream
        var events: UInt32 = 0
        if !readDir.readClosed { events |= EPOLLIN.rawValue }
        if writeDir.waitingToWrite { events |= EPOLLOUT.rawValue }
        if events == 0 {
            if registered.remove(fd) != nil { _ = epoll_ctl(epollFD, EPOLL_CTL_DEL, fd, nil) }
        } else {
            watch(fd, events: events, op: registered.insert(fd).inserted ? EPOLL_CTL_ADD : EPOLL_CTL_MOD)
        }
    }

    /// Writes as much pending data as the socket takes; waits for EPOLLOUT when it takes less.
    private func flush(_ direction: Direction, _ c: Connection) {
        if !direction.pending.isEmpty {
            let w = direction.pending.withUnsafeBytes { write(direction.sink, $0.baseAddress, $0.count) }
            if w > 0 { direction.pending.removeFirst(w) }
            else if w < 0 && errno != EAGAIN && errno != EINTR {
                // The receiver is gone: drop what it would have got and stop reading for it.
                direction.pending.removeAll(); direction.queue.removeAll(); direction.queueHead = 0
                direction.readClosed = true
                updateInterest(c, direction.source)
            }
        }
        let stuck = !direction.pending.isEmpty
        if stuck != direction.waitingToWrite {
            direction.waitingToWrite = stuck
            updateInterest(c, direction.sink)
        }
    }

    /// Half-closes a side once the other finished and everything it sent was delivered; closes a
    /// connection whose both directions are done.
    private func finishHalves(_ c: Connection) {
        for direction in [c.toUpstream, c.toClient] where direction.readClosed && direction.drained && !direction.shutdownSent {
            shutdown(direction.sink, Int32(SHUT_WR))
            direction.shutdownSent = true
        }
        if c.finished {
            c.closed = true
            for fd in [c.client, c.upstream] { connections[fd] = nil; registered.remove(fd) }
            close(c.client); close(c.upstream)  // closing removes them from the epoll set
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
