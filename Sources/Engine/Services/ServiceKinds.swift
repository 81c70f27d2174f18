import Foundation
import Store

/// The runner of each service kind. Workflows are not here: the run executor walks them.
public enum ServiceKinds {
    public static func runner(for kind: Service.Kind) -> ServiceKindRunner? {
        switch kind {
        case .cli: return CLIService()
        case .config: return ConfigService()
        case .backup: return BackupService()
        case .ping: return PingService()
        case .tcp: return TCPService()
        case .rest: return RESTService()
        case .extract: return ExtractService()
        case .validate: return ValidateService()
        case .unix: return UnixService()
        case .wait: return WaitService()
        case .workflow: return nil
        }
    }
}

/// Typed access to a service's parameters (already checked by `ServiceValidation` on save; these
/// accessors still fail clearly, since a run may use a service saved by an older version).
struct Parameters {
    let values: [String: JSONValue]
    let service: String

    init(_ context: ServiceContext) {
        values = context.service.parameters
        service = context.service.name
    }

    func fail(_ message: String) -> ServiceError { ServiceError("service '\(service)': \(message)") }

    func string(_ key: String) -> String? { values[key]?.stringValue }

    func requiredString(_ key: String) throws -> String {
        guard let text = values[key]?.stringValue, !text.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw fail("\(key) is missing")
        }
        return text
    }

    func strings(_ key: String) throws -> [String] {
        guard let list = values[key]?.arrayValue else { throw fail("\(key) is missing (a list of strings)") }
        return try list.enumerated().map { index, item in
            guard let text = item.stringValue else { throw fail("\(key)[\(index)] is not a string") }
            return text
        }
    }

    func bool(_ key: String, default value: Bool) -> Bool { values[key]?.boolValue ?? value }

    func double(_ key: String) -> Double? {
        switch values[key] {
        case .int(let i)?: return Double(i)
        case .double(let d)?: return d
        case .string(let s)?: return Double(s)
        default: return nil
        }
    }

    func int(_ key: String) -> Int? { values[key]?.intValue }

    /// `enable_mode` (or its older name `enable`): enter privileged mode before the commands.
    /// Default true: a session that lands in user mode (`R1>`) cannot show or change the
    /// configuration, and eNMS's Netmiko services enter enable mode by default too.
    var enableMode: Bool { values["enable_mode"]?.boolValue ?? values["enable"]?.boolValue ?? true }
}

extension ServiceContext {
    func requireDevice() throws -> Device {
        guard let device else { throw ServiceError("service '\(service.name)' (\(service.kind.rawValue)) needs a target device") }
        return device
    }

    /// The definition the device's platform name resolves to (aliases followed; `generic` for an
    /// unknown or broken platform, and before detection for `autodetect`).
    func platform(of device: Device) -> PlatformDefinition {
        PlatformRegistry.current().resolve(device.platform).definition
    }

    /// Renders a template with this context's device and payload.
    func render(_ text: String) throws -> String {
        try Template.render(text, device: device, payload: payload)
    }

    /// The context's timeout, or `seconds` when given and shorter.
    func limit(_ seconds: Double?) -> Duration {
        guard let seconds, seconds > 0 else { return timeout }
        return min(timeout, .milliseconds(Int64(seconds * 1000)))
    }

    /// The platform CLI session of the device, in privileged (enable) mode when `privileged` and the
    /// platform has one. The enable secret is the credential's (named on the service, or chosen by
    /// priority), opened only here.
    func cliSession(_ device: Device, privileged: Bool) async throws -> CLISession {
        let session = try await sessions.cli(for: device, credential: service.credential)
        for warning in await session.takeWarnings() { log(.warning, warning) }
        if privileged, await session.platform.enable != nil, await session.mode == .user {
            let credential = try self.credential(for: device)
            let secret = try enableSecret(for: device)
            do {
                try await session.enable(secret: secret, timeout: timeout)
            } catch let error as SSHError {
                if case .commandRejected(_, _, _, let message) = error {
                    let who = credential.map { "credential '\($0.name)'" } ?? "no credential"
                    let has = secret == nil ? "has no enable secret" : "has an enable secret, which the device did not accept"
                    throw ServiceError("device \(device.name): enable refused: \(message); \(who) \(has)")
                }
                await sessions.discardCLI(for: device, credential: service.credential)
                throw ServiceError("device \(device.name): \(error)")
            }
        }
        return session
    }

    /// Whether the device's credential has an enable secret.
    func hasEnableSecret(_ device: Device) throws -> Bool {
        try credential(for: device).map { !$0.enableSecret.isEmpty } ?? false
    }

    func credential(for device: Device) throws -> Credential? {
        let named = service.credential
        return try database.query { store in
            if !named.isEmpty {
                guard let c = try store.credential(named: named) else {
                    throw ServiceError("no credential named '\(named)'")
                }
                return c
            }
            return try store.credential(for: device)
        }
    }

    func enableSecret(for device: Device) throws -> String? {
        guard let c = try credential(for: device), !c.enableSecret.isEmpty else { return nil }
        return try sessions.targets.secrets.open(c.enableSecret)
    }

    /// A failure of the CLI session: after a timeout or a disconnect it is unusable, so it is
    /// forgotten and the next attempt opens a new one.
    func cliFailed(_ device: Device, _ error: Error) async {
        if let ssh = error as? SSHError, case .commandRejected = ssh { return }
        await sessions.discardCLI(for: device, credential: service.credential)
    }
}

/// Device status fields the services keep current.
enum DeviceStatus {
    /// Pools that select on `last_backup_status` follow the change (the store re-evaluates them).
    static func backup(_ database: any StoreBackend, device: Device, success: Bool, at time: Date = Date()) throws {
        try database.transaction { store in try store.setBackupStatus(device: device.name, success: success, at: time) }
    }

    static func reachability(_ database: any StoreBackend, device: Device, reachable: Bool, at time: Date = Date()) throws {
        try database.transaction { store in try store.setReachability(device: device.name, reachable: reachable, at: time) }
    }
}

extension Duration {
    var secondsDouble: Double {
        let c = components
        return Double(c.seconds) + Double(c.attoseconds) / 1e18
    }
}
