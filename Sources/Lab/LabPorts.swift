import Foundation

/// Picking a base port for a lab that collides with nothing listening on 127.0.0.1: tests start labs
/// of their own beside each other (and beside an engineer's `lab up`).
public enum LabPorts {
    /// A random base port whose lab ranges are free: the devices from `base` up, and the fault
    /// devices `reserveBelow` down to 80 below it (100 for the lab itself; more when a test also needs
    /// a port nobody answers on). With `relay`, the latency relay's ports (`relayOffset` above each
    /// device's) must be free too.
    ///
    /// Bases come from below the kernel's ephemeral range (`ip_local_port_range`, 32768–60999 by
    /// default): a port there can be taken at any moment by an outgoing connection's source port, which
    /// is how a free-looking port failed `up` in CI.
    public static func freeBasePort(devices: Int, reserveBelow: Int = 100, relay: Bool = false) -> Int {
        let top = ephemeralStart() - 1 - devices - 2 - (relay ? relayOffset : 0)
        let bottom = 10_000 + reserveBelow
        for _ in 0..<200 {
            let base = Int.random(in: bottom...max(bottom, top))
            var ports = Array((base - reserveBelow)..<(base - 80)) + Array(base..<(base + devices + 2))
            if relay { ports += ports.map { $0 + relayOffset } }
            if ports.allSatisfy(isFree) { return base }
        }
        return bottom
    }

    /// The first port the kernel hands out for outgoing connections.
    public static func ephemeralStart() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8),
              let first = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).first,
              let start = Int(first), start > 20_000 else { return 32_768 }
        return start
    }

    /// A base port whose `count` ports from `base` up, and `count` from `base + offset` up, are free:
    /// for labs laid out as two servers side by side (the quirk lab).
    public static func freeBasePort(count: Int, secondRangeOffset offset: Int) -> Int {
        let bottom = 10_000
        let top = ephemeralStart() - 1 - offset - count
        for _ in 0..<200 {
            let base = Int.random(in: bottom...max(bottom, top))
            let ports = Array(base..<(base + count)) + Array((base + offset)..<(base + offset + count))
            if ports.allSatisfy(isFree) { return base }
        }
        return bottom
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
