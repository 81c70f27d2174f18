import Foundation

/// One device the lab serves.
public struct LabDevice: Codable, Equatable, Sendable {
    public var name: String
    public var platform: String
    /// Where clients connect: 127.0.0.1, or an address in the lab's namespaces.
    public var address: String
    public var port: Int
    /// The port sshd listens on (differs from `port` when a latency relay sits in front).
    public var listenPort: Int
    /// Jump chain by device name, outermost first; "" when reachable directly.
    public var jump: String
    /// Fault modes, in the simulated CLI's `devices.json` vocabulary.
    public var faults: [String: Int]
    /// Which sshd group serves it.
    public var group: String

    public var isFault: Bool { name.hasPrefix("fault-") }
}

/// The lab's devices: the example network's 20 (same names, platforms and ports as
/// `setup/examples/switchboard.json`, so the demo inventory talks to the lab), more generated ones
/// for benchmarks, and one device per fault mode.
public enum LabTopology {
    public static let standard: [(name: String, platform: String)] = {
        var out: [(String, String)] = []
        for site in ["par", "lon", "nyc"] {
            out += [("\(site)-core1", "juniper_junos"), ("\(site)-core2", "juniper_junos"),
                    ("\(site)-dist1", "arista_eos"), ("\(site)-dist2", "arista_eos"),
                    ("\(site)-acc1", "cisco_ios"), ("\(site)-acc2", "cisco_ios")]
        }
        out.append(("bastion", "linux"))
        out.append(("oob-par-1", "cisco_ios"))
        return out
    }()

    /// The jump host and the device behind it.
    public static let jumpHost = "bastion"
    public static let behindJump = "oob-par-1"

    /// Fault devices, with the `devices.json` fault settings of the simulated CLI.
    public static let faults: [(name: String, platform: String, faults: [String: Int])] = [
        // Slow at everything: silent 4.5 s after login (a busy router, an AAA server holding the
        // session), then 1.5 s over every answer.
        ("fault-slow", "cisco_ios", ["slow_ms": 1500, "login_delay_ms": 4500]),
        ("fault-auth", "cisco_ios", [:]),
        ("fault-disconnect", "cisco_ios", ["disconnect_after_bytes": 3000]),
        ("fault-huge", "cisco_ios", ["huge_output": 1]),
        ("fault-hang", "cisco_ios", ["hang_prompt": 1]),
        ("fault-escape", "cisco_ios", ["escape_sequences": 1]),
    ]

    static let extraPlatforms = ["cisco_ios", "arista_eos", "juniper_junos", "cisco_nxos"]

    /// Devices for a lab of `count` (at least the 20 standard ones) starting at `basePort`;
    /// fault devices sit 100 ports below.
    public static func devices(count: Int, basePort: Int) -> [LabDevice] {
        var out: [LabDevice] = []
        for i in 0..<max(count, standard.count) {
            let (name, platform) = i < standard.count ? standard[i] : (String(format: "lab-%04d", i + 1), extraPlatforms[i % extraPlatforms.count])
            out.append(LabDevice(name: name, platform: platform, address: "127.0.0.1", port: basePort + i,
                                 listenPort: basePort + i, jump: name == behindJump ? jumpHost : "", faults: [:],
                                 group: ""))
        }
        for (i, f) in faults.enumerated() {
            out.append(LabDevice(name: f.name, platform: f.platform, address: "127.0.0.1", port: basePort - 100 + i,
                                 listenPort: basePort - 100 + i, jump: "", faults: f.faults, group: ""))
        }
        return out
    }
}
