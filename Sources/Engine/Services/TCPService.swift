import Foundation
import Store
#if canImport(Glibc)
import Glibc
#endif

/// `tcp`: whether a TCP port accepts connections: a non-blocking connect, then poll until it
/// completes, fails or `timeout` (seconds, default 3, capped by the attempt's timeout) passes.
/// Parameters: `port` (default the device's port), `address` (template; default the device's).
struct TCPService: ServiceKindRunner {
    func run(_ context: ServiceContext) async throws -> ServiceOutcome {
        let parameters = Parameters(context)
        let address: String
        if let given = parameters.string("address") {
            address = try context.render(given).trimmingCharacters(in: .whitespaces)
        } else {
            address = try context.requireDevice().address
        }
        guard let port = parameters.int("port") ?? context.device?.port, (1...65535).contains(port) else {
            throw parameters.fail("port must be in 1...65535")
        }
        let limit = context.limit(parameters.double("timeout") ?? 3)
        let start = DispatchTime.now().uptimeNanoseconds
        let result = await Self.probe(host: address, port: port, timeout: limit)
        let ms = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
        let target = address.contains(":") ? "[\(address)]:\(port)" : "\(address):\(port)"
        switch result {
        case .open:
            return ServiceOutcome(success: true, output: "\(target) open (connected in \(String(format: "%.1f", ms)) ms)\n")
        case .closed(let reason):
            return ServiceOutcome(success: false, output: "\(target) closed: \(reason)\n")
        case .cancelled:
            throw CancellationError()
        }
    }

    enum Probe: Equatable { case open, closed(String), cancelled }

    /// Runs on its own thread: the poll blocks.
    static func probe(host: String, port: Int, timeout: Duration) async -> Probe {
        let handle = LocalCommand.Handle()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Probe, Never>) in
                Thread { continuation.resume(returning: probeBlocking(host: host, port: port, timeout: timeout, handle: handle)) }.start()
            }
        } onCancel: {
            handle.cancel()
        }
    }

    private static func probeBlocking(host: String, port: Int, timeout: Duration, handle: LocalCommand.Handle) -> Probe {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else { return .closed("cannot resolve \(host): \(String(cString: gai_strerror(status)))") }
        defer { freeaddrinfo(list) }
        let deadline = DispatchTime.now().uptimeNanoseconds &+ UInt64(max(0, timeout.secondsDouble) * 1e9)
        var lastError = "no address"
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let info = entry {
            entry = info.pointee.ai_next
            let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue),
                            info.pointee.ai_protocol)
            guard fd >= 0 else { lastError = String(cString: strerror(errno)); continue }
            defer { close(fd) }
            if connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 { return .open }
            guard errno == EINPROGRESS else { lastError = String(cString: strerror(errno)); continue }
            while true {
                if handle.isCancelled { return .cancelled }
                let now = DispatchTime.now().uptimeNanoseconds
                if now >= deadline { return .closed("no answer within \(timeout)") }
                var poller = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                let ready = poll(&poller, 1, Int32(min(100, max(1, (deadline - now) / 1_000_000))))
                if ready < 0 { if errno == EINTR { continue }; lastError = String(cString: strerror(errno)); break }
                if ready == 0 { continue }
                var error: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
                if error == 0 { return .open }
                lastError = String(cString: strerror(error))
                break
            }
        }
        return .closed(lastError)
    }
}
