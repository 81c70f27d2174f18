import Foundation
import Store

/// Turns inventory records into SSH targets: the device's address, its credential (the highest
/// priority one whose scope contains it, or a named one), and its jump chain, each hop resolved the
/// same way. Secrets are opened here, in memory, at the moment of use.
public struct DeviceTargets: Sendable {
    public let database: any StoreBackend
    public let secrets: SecretBox
    public let settings: Settings
    public var environment: [String: String]

    public init(database: any StoreBackend, secrets: SecretBox, settings: Settings,
                environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.database = database; self.secrets = secrets; self.settings = settings; self.environment = environment
    }

    public struct ResolveError: Error, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// The target for a device, by name, with an optional named credential.
    public func target(device name: String, credential: String? = nil) throws -> SSHTarget {
        try database.query { store in
            guard let device = try store.device(named: name) else {
                throw ResolveError(message: "no device named '\(name)'")
            }
            return try target(store, device, credential: credential)
        }
    }

    /// Targets for many devices in one read, in the order given; the first device that cannot be
    /// resolved throws.
    public func targets(devices names: [String], credential: String? = nil) throws -> [(name: String, target: SSHTarget)] {
        try database.query { store in
            try names.map { name in
                guard let device = try store.device(named: name) else {
                    throw ResolveError(message: "no device named '\(name)'")
                }
                return (name, try target(store, device, credential: credential))
            }
        }
    }

    /// The enable secret of the credential a device would log in with (named, or chosen by
    /// priority), opened now; nil when that credential has none. Also names the credential, for errors.
    public func enableSecret(device name: String, credential named: String? = nil) throws -> (credential: String?, secret: String?) {
        try database.query { store in
            guard let device = try store.device(named: name) else { throw ResolveError(message: "no device named '\(name)'") }
            let credential: Credential?
            if let named, !named.isEmpty {
                credential = try store.credential(named: named)
            } else {
                credential = try store.credential(for: device)
            }
            guard let credential else { return (nil, nil) }
            return (credential.name, credential.enableSecret.isEmpty ? nil : try secrets.open(credential.enableSecret))
        }
    }

    public func target(_ store: any StoreReader, _ device: Device, credential: String? = nil) throws -> SSHTarget {
        var visiting: Set<String> = [device.name]
        let endpoint = try self.endpoint(store, device, credential: credential)
        let chain = device.jump.isEmpty ? settings.ssh.defaultJump : device.jump
        let jumps = try hops(store, chain, fallback: endpoint, visiting: &visiting)
        return SSHTarget(endpoint, jumps: jumps)
    }

    func endpoint(_ store: any StoreReader, _ device: Device, credential named: String?) throws -> SSHEndpoint {
        let credential: Credential?
        if let named, !named.isEmpty {
            guard let c = try store.credential(named: named) else {
                throw ResolveError(message: "no credential named '\(named)'")
            }
            credential = c
        } else {
            credential = try store.credential(for: device)
        }
        var auth: [SSHAuthentication] = []
        var username = environment["USER"] ?? "root"
        if let c = credential {
            username = c.username
            let secret = try secrets.open(c.secret)
            switch c.secretKind {
            case .password:
                auth += [.password(secret), .keyboardInteractive(password: secret)]
            case .key:
                auth.append(.inlineKey(privateKey: secret, passphrase: nil))
            case .keyFile:
                auth.append(.keyFile(path: (c.keyFile as NSString).expandingTildeInPath, passphrase: secret.isEmpty ? nil : secret))
            }
        }
        if let sock = environment["SSH_AUTH_SOCK"], !sock.isEmpty { auth.append(.agent(socketPath: sock)) }
        if auth.isEmpty {
            throw ResolveError(message: "device \(device.name): no credential applies to it and no ssh-agent is running (add a credential, or import one)")
        }
        if device.address.isEmpty {
            throw ResolveError(message: "device \(device.name) has no address")
        }
        let legacy = device.properties["ssh_legacy_algorithms"]?.boolValue
        return SSHEndpoint(host: device.address, port: device.port, username: username, authentication: auth,
                           name: device.name, legacyAlgorithms: legacy)
    }

    /// A jump chain: device names (resolved with their own credentials and chains) or `[user@]host[:port]`.
    func hops(_ store: any StoreReader, _ chain: String, fallback: SSHEndpoint, visiting: inout Set<String>) throws -> [SSHEndpoint] {
        var out: [SSHEndpoint] = []
        for raw in chain.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !raw.isEmpty {
            if let hop = try store.device(named: raw) {
                guard visiting.insert(hop.name).inserted else {
                    throw ResolveError(message: "jump chain loops through \(hop.name)")
                }
                let own = hop.jump.isEmpty ? [] : try hops(store, hop.jump, fallback: fallback, visiting: &visiting)
                out += own
                out.append(try endpoint(store, hop, credential: nil))
            } else {
                out.append(try parseHop(raw, fallback: fallback))
            }
        }
        return out
    }

    func parseHop(_ text: String, fallback: SSHEndpoint) throws -> SSHEndpoint {
        var rest = Substring(text)
        var user = fallback.username
        if let at = rest.lastIndex(of: "@") { user = String(rest[..<at]); rest = rest[rest.index(after: at)...] }
        var host = String(rest), port = 22
        if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
            host = String(rest[rest.index(after: rest.startIndex)..<close])
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(":") {
                guard let p = Int(after.dropFirst()), (1...65535).contains(p) else { throw ResolveError(message: "jump host '\(text)': bad port") }
                port = p
            }
        } else if let colon = rest.lastIndex(of: ":"), rest.filter({ $0 == ":" }).count == 1 {
            host = String(rest[..<colon])
            guard let p = Int(rest[rest.index(after: colon)...]), (1...65535).contains(p) else { throw ResolveError(message: "jump host '\(text)': bad port") }
            port = p
        }
        if host.isEmpty { throw ResolveError(message: "jump host '\(text)' has no host") }
        return SSHEndpoint(host: host, port: port, username: user, authentication: fallback.authentication, name: nil)
    }
}
