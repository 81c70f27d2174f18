import Foundation

/// What `lab up` started, saved as `lab.json` in the lab directory.
public struct LabStatus: Codable, Equatable, Sendable {
    public var directory: String
    public var devices: [LabDevice]
    /// Every device's host keys, in OpenSSH known_hosts form.
    public var knownHostsPath: String
    /// The key the lab-key credential uses (ed25519; ECDSA P-256 with `LabCrypto.p256`) without
    /// passphrase, and an ed25519 key protected by `keyPassphrase`.
    public var userKeyPath: String
    public var passphraseKeyPath: String
    public var keyPassphrase: String
    /// The login the devices accept.
    public var username: String
    /// The password of `username`; nil when the lab runs unprivileged (sshd can then only check keys).
    public var password: String?
    /// A device whose sshd offers keyboard-interactive authentication (through PAM); nil when unavailable.
    public var keyboardInteractiveDevice: String?
    /// True when the devices behind the jump host are unreachable except through it (network namespaces).
    public var isolatedJump: Bool
    /// Latency added each way by the relay, in milliseconds (0: none).
    public var latencyMs: Int
    /// Every process the lab started (sshd instances, the relay), by pid.
    public var pids: [Int32]
    /// Network namespaces the lab created.
    public var namespaces: [String]
    /// Routes the lab added to the root namespace (removed by `down`).
    public var routes: [String]
    public var startedAt: Date
    /// The algorithms the lab's sshd offers; nil for the standard set (a lab.json of an older lab too).
    public var crypto: LabCrypto?
    /// The devices' login and command ledger (`LabLedger`); nil in the lab.json of an older lab.
    public var ledgerPath: String? = nil

    public func device(_ name: String) -> LabDevice? { devices.first { $0.name == name } }
}
