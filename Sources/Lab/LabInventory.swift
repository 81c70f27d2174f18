import Foundation
import Store

/// Writes a running lab into a database and a known_hosts file, so the CLI, the engine and the
/// console reach its devices like any others.
public enum LabInventory {
    /// Devices (existing ones keep their other fields: the demo inventory gains the lab's addresses),
    /// the `lab` and `faults` pools, and the lab's credentials at a priority above any other.
    public static func register(_ status: LabStatus, database: any StoreBackend, secrets: SecretBox) throws {
        try database.transaction { store in
            for d in status.devices {
                var device = try store.device(named: d.name) ?? Device(name: d.name, address: d.address)
                device.address = d.address
                device.port = d.port
                device.platform = d.platform
                device.jump = d.jump
                if device.vendor.isEmpty { device.vendor = vendor(d.platform) }
                // Devices that fail ordinary logins or commands on purpose (the fault devices, and the
                // keyboard-interactive-only one) are category `fault`: pools by category leave them out.
                let special = d.isFault || d.name == status.keyboardInteractiveDevice
                if special && device.category.isEmpty { device.category = "fault" }
                if device.description.isEmpty {
                    device.description = d.isFault ? "lab device with a fault: \(d.name.dropFirst(6))"
                        : special ? "lab device accepting keyboard-interactive logins only" : "lab device"
                }
                try store.upsert(device: device)
            }
            try store.upsert(pool: Pool(name: "lab", description: "every device of the lab"),
                                 manualDevices: status.devices.map(\.name))
            // Fault devices sit in a pool of their own, used on purpose; the example network's pools
            // leave them out (setup/examples/switchboard.json), so the demo's services never meet them.
            try store.upsert(pool: Pool(name: "faults", description: "lab devices that misbehave on purpose"),
                                 manualDevices: status.devices.filter { $0.isFault || $0.name == status.keyboardInteractiveDevice }.map(\.name))
            if let old = try store.pool(named: "lab-faults"), old.description == "lab devices that misbehave on purpose" {
                try store.deletePool(named: old.name)
            }
            try store.upsert(credential: Credential(
                name: "lab-key", description: status.crypto == .p256 ? "the lab's ECDSA P-256 key" : "the lab's ed25519 key", username: status.username,
                secretKind: .keyFile, keyFile: status.userKeyPath, enableSecret: try secrets.seal(LabManager.enableSecret),
                role: .readWrite, priority: 1000, pools: ["lab"]))
            if let password = status.password {
                try store.upsert(credential: Credential(
                    name: "lab-password", description: "the lab user's password", username: status.username,
                    secretKind: .password, secret: try secrets.seal(password), enableSecret: try secrets.seal(LabManager.enableSecret),
                    role: .readWrite, priority: 999, pools: ["lab"]))
            }
            try store.log(user: OSUser.name, "lab up: \(status.devices.count) devices", targetType: "lab", targetName: "")
        }
    }

    static func vendor(_ platform: String) -> String {
        switch platform {
        case "cisco_ios", "cisco_nxos": return "Cisco"
        case "arista_eos": return "Arista"
        case "juniper_junos": return "Juniper"
        default: return "Debian"
        }
    }

    static let marker = "switchboard-lab"

    /// Adds the lab's host keys to a known_hosts file (replacing older lab entries), marked so `down`
    /// can take them out again.
    public static func registerKnownHosts(_ status: LabStatus, into path: String) throws {
        try unregisterKnownHosts(from: path)
        let lines = try String(contentsOfFile: status.knownHostsPath, encoding: .utf8)
            .split(separator: "\n").map { "\($0) \(marker)" }
        try Paths.ensurePrivateDirectory((path as NSString).deletingLastPathComponent)
        let existing = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        let text = existing + (existing.isEmpty || existing.hasSuffix("\n") ? "" : "\n") + lines.joined(separator: "\n") + "\n"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o600)
    }

    public static func unregisterKnownHosts(from path: String) throws {
        guard let existing = try? String(contentsOfFile: path, encoding: .utf8) else { return }
        let kept = existing.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.hasSuffix(" " + marker) }
        try kept.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }
}
