import Foundation

/// Everything the SSH transport can fail with, worded for an engineer reading a run log.
///
/// No case carries a secret: passwords, passphrases and key material never reach an error, and
/// configuration lines (which may hold secrets) are referred to by position, not text.
public enum SSHError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What was in progress when a timeout struck.
    public enum Phase: String, Sendable, Equatable {
        case connect = "TCP connect"
        case handshake = "SSH handshake"
        case authentication
        case channel = "channel open"
        case command
        case prompt = "waiting for the prompt"
    }

    /// The TCP connection could not be made: refused, no route, unknown host… `reason` is the OS's.
    case unreachable(host: String, port: Int, reason: String)
    /// `phase` did not finish within `seconds`; `detail` says what exactly (a command, a hop).
    case timeout(host: String, port: Int, phase: Phase, seconds: Double, detail: String)
    /// No known_hosts file knows this host; the key is refused (policy `strict`).
    case unknownHostKey(host: String, port: Int, keyType: String, fingerprint: String, device: String?)
    /// A known_hosts file holds a different key of the same type: refused whatever the policy.
    case changedHostKey(host: String, port: Int, keyType: String, fingerprint: String,
                        knownHostsFile: String, line: Int?, device: String?)
    /// Every configured method failed. `tried` are the methods attempted, in order; `allowed` what
    /// the server offered. `note` explains a likely cause (an RSA key, a closed connection).
    case authenticationFailed(user: String, host: String, port: Int, tried: [String], allowed: [String], note: String?)
    /// The server refused to open a channel (for a jump host: a direct-tcpip forward).
    case channelRefused(host: String, port: Int, purpose: String, message: String)
    /// The peer closed the connection or channel in the middle of an operation.
    case disconnected(host: String, port: Int, bytesReceived: Int, detail: String)
    /// The device answered a command with one of its platform's error patterns.
    case commandRejected(host: String, port: Int, command: String, message: String)
    /// A protocol-level failure that fits no other case (libssh2's message included).
    case protocolError(host: String, port: Int, message: String)
    /// The transport was shut down, or the connection closed, before the operation could run.
    case closed(host: String, port: Int)

    public var description: String {
        switch self {
        case let .unreachable(host, port, reason):
            return "cannot reach \(Self.address(host, port)): \(reason)"
        case let .timeout(host, port, phase, seconds, detail):
            let what = detail.isEmpty ? phase.rawValue : "\(phase.rawValue) (\(detail))"
            return "\(Self.address(host, port)): \(what) timed out after \(Self.format(seconds)) s"
        case let .unknownHostKey(host, port, keyType, fingerprint, device):
            return "the host key of \(Self.address(host, port)) is not known: \(keyType) \(fingerprint). "
                + "Check the fingerprint with the device's administrator; if it is right, trust it with "
                + "`switchboard trust \(device ?? Self.address(host, port))` (or set ssh.host_key_policy to accept-new)"
        case let .changedHostKey(host, port, keyType, fingerprint, file, line, device):
            let location = line.map { "\(file):\($0)" } ?? file
            return "WARNING: the host key of \(Self.address(host, port)) has CHANGED: it now offers \(keyType) "
                + "\(fingerprint), which does not match \(location). Someone may be intercepting the connection "
                + "(possible man-in-the-middle attack), or the device was replaced or reinstalled. Refusing to connect. "
                + "If the change is expected, remove the old entry from \(file) and run "
                + "`switchboard trust \(device ?? Self.address(host, port))`"
        case let .authenticationFailed(user, host, port, tried, allowed, note):
            let triedText = tried.isEmpty ? "nothing" : tried.joined(separator: ", ")
            let allowedText = allowed.isEmpty ? "nothing" : allowed.joined(separator: ",")
            var text = "authentication failed for \(user)@\(Self.address(host, port)) (tried \(triedText); server allows \(allowedText))"
            if let note { text += ": " + note }
            return text
        case let .channelRefused(host, port, purpose, message):
            return "\(Self.address(host, port)) refused to open a channel for \(purpose): \(message)"
        case let .disconnected(host, port, bytes, detail):
            return "\(Self.address(host, port)) closed the connection \(detail) (\(bytes) bytes received)"
        case let .commandRejected(host, port, command, message):
            return "\(Self.address(host, port)) rejected `\(command)`: \(message)"
        case let .protocolError(host, port, message):
            return "SSH error with \(Self.address(host, port)): \(message)"
        case let .closed(host, port):
            return "the connection to \(Self.address(host, port)) is closed"
        }
    }

    /// `host:port`, bracketing IPv6 literals.
    static func address(_ host: String, _ port: Int) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    static func format(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(format: "%.1f", seconds)
    }
}
