import Foundation

/// The jump host's isolation, as root: two network namespaces joined by veth pairs.
///
///     root ns ── veth ── jump ns (the jump host's sshd) ── veth ── behind ns (the hidden device's sshd)
///
/// The root namespace has a route only to the jump host's /30, and an `unreachable` route for the
/// behind /30 so a direct connection fails at once instead of wandering to the default gateway.
/// Addresses are link-local (169.254.0.0/16) and exist only inside what the lab creates.
struct JumpNamespaces {
    var names: [String]
    var jumpAddress: String
    var behindAddress: String
    var unreachableRoute: String

    static func identity(_ labDirectory: String) -> (id: String, octet: Int) {
        var hash: UInt64 = 1469598103934665603
        for b in labDirectory.utf8 { hash = (hash ^ UInt64(b)) &* 1099511628211 }
        return (String(format: "%06x", Int(hash & 0xffffff)), Int((hash >> 24) % 200) + 20)
    }

    static func create(labDirectory: String) throws -> JumpNamespaces {
        guard let ip = ProcessRunner.which("ip") else { throw LabError("iproute2 is not installed") }
        let (id, n) = identity(labDirectory)
        let jumpNS = "sbl\(id)j", behindNS = "sbl\(id)b"
        let rootVeth = "sb\(id)r", jumpVeth = "sb\(id)j", jumpToBehind = "sb\(id)k", behindVeth = "sb\(id)b"
        let net = "169.254.\(n)"
        // Leftovers of a lab that was not taken down.
        delete(jumpNS); delete(behindNS)
        _ = try? ProcessRunner.run(ip, ["route", "del", "unreachable", "\(net).4/30"], allowFailure: true)
        let steps: [[String]] = [
            ["netns", "add", jumpNS],
            ["netns", "add", behindNS],
            ["link", "add", rootVeth, "type", "veth", "peer", "name", jumpVeth, "netns", jumpNS],
            ["addr", "add", "\(net).1/30", "dev", rootVeth],
            ["link", "set", rootVeth, "up"],
            ["-n", jumpNS, "link", "set", "lo", "up"],
            ["-n", jumpNS, "addr", "add", "\(net).2/30", "dev", jumpVeth],
            ["-n", jumpNS, "link", "set", jumpVeth, "up"],
            ["-n", jumpNS, "link", "add", jumpToBehind, "type", "veth", "peer", "name", behindVeth, "netns", behindNS],
            ["-n", jumpNS, "addr", "add", "\(net).5/30", "dev", jumpToBehind],
            ["-n", jumpNS, "link", "set", jumpToBehind, "up"],
            ["-n", behindNS, "link", "set", "lo", "up"],
            ["-n", behindNS, "addr", "add", "\(net).6/30", "dev", behindVeth],
            ["-n", behindNS, "link", "set", behindVeth, "up"],
            ["route", "add", "unreachable", "\(net).4/30"],
        ]
        do {
            for step in steps { try ProcessRunner.run(ip, step) }
        } catch {
            delete(jumpNS); delete(behindNS)
            _ = try? ProcessRunner.run(ip, ["route", "del", "unreachable", "\(net).4/30"], allowFailure: true)
            throw error
        }
        return JumpNamespaces(names: [jumpNS, behindNS], jumpAddress: "\(net).2", behindAddress: "\(net).6",
                              unreachableRoute: "\(net).4/30")
    }

    /// Deleting a namespace removes its veth ends and with them their peers.
    static func delete(_ name: String) {
        guard let ip = ProcessRunner.which("ip") else { return }
        _ = try? ProcessRunner.run(ip, ["netns", "del", name], allowFailure: true)
    }

    static func deleteRoute(_ route: String) {
        guard let ip = ProcessRunner.which("ip") else { return }
        _ = try? ProcessRunner.run(ip, ["route", "del", "unreachable", route], allowFailure: true)
    }
}
