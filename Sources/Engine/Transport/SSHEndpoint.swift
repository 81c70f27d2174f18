/// How to log in to one SSH server: address, user and the authentication methods to try, in order.
public struct SSHEndpoint: Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var username: String
    /// Tried in this order, each only if the server allows its method.
    public var authentication: [SSHAuthentication]
    /// The device name, used in messages (`switchboard trust NAME`); nil for anonymous hops.
    public var name: String?
    /// Also offer legacy algorithms to this server; nil follows the transport's setting.
    public var legacyAlgorithms: Bool?

    public init(host: String, port: Int = 22, username: String, authentication: [SSHAuthentication],
                name: String? = nil, legacyAlgorithms: Bool? = nil) {
        self.host = host
        self.port = port
        self.username = username
        self.authentication = authentication
        self.name = name
        self.legacyAlgorithms = legacyAlgorithms
    }

    /// `user@host:port`, never a secret.
    public var description: String { "\(username)@\(SSHError.address(host, port))" }
}

/// A device to reach, possibly through a chain of jump hosts (outermost first).
public struct SSHTarget: Sendable, CustomStringConvertible {
    public var endpoint: SSHEndpoint
    public var jumps: [SSHEndpoint]

    public init(_ endpoint: SSHEndpoint, jumps: [SSHEndpoint] = []) {
        self.endpoint = endpoint
        self.jumps = jumps
    }

    public var description: String {
        (jumps.map(\.description) + [endpoint.description]).joined(separator: " -> ")
    }
}

/// One way to authenticate. Secrets live in memory only for as long as the value does; the
/// descriptions (and `dump`, through `customMirror`) never show them.
public enum SSHAuthentication: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// A private key file, with its passphrase if it has one. The public key is derived from the
    /// private key when `publicKeyPath` is nil.
    case keyFile(path: String, passphrase: String? = nil, publicKeyPath: String? = nil)
    /// A private key held in memory (PEM or OpenSSH format), e.g. decrypted from the store.
    case inlineKey(privateKey: String, passphrase: String? = nil)
    case password(String)
    /// keyboard-interactive, answering every prompt that asks for a password with this one.
    case keyboardInteractive(password: String)
    /// The identities of an ssh-agent: `socketPath`, else `SSH_AUTH_SOCK`.
    case agent(socketPath: String? = nil)

    /// The SSH method name the server lists for this (RFC 4252).
    public var method: String {
        switch self {
        case .keyFile, .inlineKey, .agent: return "publickey"
        case .password: return "password"
        case .keyboardInteractive: return "keyboard-interactive"
        }
    }

    public var description: String {
        switch self {
        case .keyFile(let path, _, _): return "publickey (key file \(path))"
        case .inlineKey: return "publickey (inline key)"
        case .password: return "password"
        case .keyboardInteractive: return "keyboard-interactive"
        case .agent: return "publickey (ssh-agent)"
        }
    }

    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["method": description]) }

    /// What the failure message lists as tried: the method, plus how for public keys.
    var triedLabel: String {
        switch self {
        case .keyFile, .password, .keyboardInteractive: return method
        case .inlineKey: return "publickey (inline key)"
        case .agent: return "publickey (agent)"
        }
    }
}
