import Dispatch
import Glibc

/// Name resolution and the start of a non-blocking TCP connect; the wait for it to complete is a
/// loop operation (poll for POLLOUT, then SO_ERROR).
enum SocketConnector {
    struct Address: @unchecked Sendable {
        var storage = sockaddr_storage()
        var length: socklen_t = 0
        var family: Int32 = 0
    }

    /// The addresses of `host`. Numeric addresses resolve at once; names go through getaddrinfo on
    /// a dispatch thread, so a slow resolver never blocks a loop thread or the cooperative pool.
    static func resolve(host: String, port: Int) async throws -> [Address] {
        if let numeric = try? lookup(host: host, port: port, numericOnly: true), !numeric.isEmpty { return numeric }
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try lookup(host: host, port: port, numericOnly: false) })
            }
        }
    }

    private static func lookup(host: String, port: Int, numericOnly: Bool) throws -> [Address] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV | (numericOnly ? AI_NUMERICHOST : 0)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let list else {
            throw SSHError.unreachable(host: host, port: port, reason: String(cString: gai_strerror(rc)))
        }
        defer { freeaddrinfo(list) }
        var result: [Address] = []
        var entry: UnsafeMutablePointer<addrinfo>? = list
        while let current = entry {
            var address = Address()
            address.family = current.pointee.ai_family
            address.length = current.pointee.ai_addrlen
            withUnsafeMutableBytes(of: &address.storage) { target in
                target.copyMemory(from: UnsafeRawBufferPointer(start: current.pointee.ai_addr, count: Int(current.pointee.ai_addrlen)))
            }
            result.append(address)
            entry = current.pointee.ai_next
        }
        return result
    }

    /// A non-blocking, close-on-exec socket with a connect in progress (or done, for loopback).
    static func startConnect(_ address: Address, host: String, port: Int) throws -> Int32 {
        let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw SSHError.unreachable(host: host, port: port, reason: "socket: \(LibSSH2.strerror(errno))") }
        var one: Int32 = 1
        // Interactive CLI traffic is many tiny writes; Nagle would add a round trip to each.
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var storage = address.storage
        let rc = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, address.length) }
        }
        if rc != 0 && errno != EINPROGRESS {
            let reason = LibSSH2.strerror(errno)
            close(fd)
            throw SSHError.unreachable(host: host, port: port, reason: reason)
        }
        return fd
    }

    /// One poll of a connect in progress: nil while pending, else throws the OS's reason.
    static func checkConnected(_ fd: Int32, host: String, port: Int) throws -> Void? {
        var descriptor = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        guard poll(&descriptor, 1, 0) > 0 else { return nil }
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        _ = getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
        if error != 0 { throw SSHError.unreachable(host: host, port: port, reason: LibSSH2.strerror(error)) }
        if descriptor.revents & Int16(POLLOUT) == 0 { return nil }
        return ()
    }

    /// A connected pair of non-blocking, close-on-exec Unix stream sockets (jump host tunnels).
    static func socketPair() throws -> (Int32, Int32) {
        var fds: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0, &fds) == 0 else {
            throw SSHError.protocolError(host: "localhost", port: 0, message: "socketpair: \(LibSSH2.strerror(errno))")
        }
        return (fds[0], fds[1])
    }
}
