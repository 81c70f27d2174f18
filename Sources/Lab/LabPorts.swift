import Foundation

/// Picking a base port for a lab that collides with nothing listening on 127.0.0.1: tests start labs
/// of their own beside each other (and beside an engineer's `lab up`).
public enum LabPorts {
    /// A random base port in 30000–58000 whose lab ranges are free: the devices from `base` up, and
    /// the fault devices `reserveBelow` down to 80 below it (100 for the lab itself; more when a test
    /// also needs a port nobody answers on).
    /// With `relay`, the latency relay's ports (`relayOffset` above each device's) must be free too.
    public static func freeBasePort(devices: Int, reserveBelow: Int = 100, relay: Bool = false) -> Int {
        for _ in 0..<200 {
            let base = Int.random(in: 30_000...(relay ? 65_000 - relayOffset - devices : 58_000))
            var ports = Array((base - reserveBelow)..<(base - 80)) + Array(base..<(base + devices + 2))
            if relay { ports += ports.map { $0 + relayOffset } }
            if ports.allSatisfy(isFree) { return base }
        }
        return 41_201
    }

    /// The relay listens this far above each device's sshd port.
    public static let relayOffset = 10_000

    /// Whether a TCP port on 127.0.0.1 can be bound now, as sshd binds it: with SO_REUSEADDR, so
    /// connections of an earlier lab still in TIME_WAIT do not count, a listener does.
    public static func isFree(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var on: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }
}
