import Foundation
import Store

/// The SSH connections of one run, one per device (and credential), opened on first use and reused by
/// every service of the run on that device. `closeAll` is how a stop ends in-flight work quickly:
/// closing a connection fails whatever is waiting on its channels.
public actor DeviceSessions {
    public let transport: SSHTransport
    public let targets: DeviceTargets

    private struct Key: Hashable { var device: String; var credential: String }
    private struct Entry {
        var connection: SSHConnection
        var cli: CLISession?
    }
    private var entries: [Key: Entry] = [:]
    private var pending: [Key: Task<SSHConnection, Error>] = [:]
    private var closed = false

    public init(transport: SSHTransport, targets: DeviceTargets) {
        self.transport = transport
        self.targets = targets
    }

    /// An authenticated connection to the device (through its jump chain).
    public func connection(for device: Device, credential: String = "") async throws -> SSHConnection {
        let key = Key(device: device.name, credential: credential)
        if closed { throw ServiceError("the run was stopped") }
        if let entry = entries[key], !entry.connection.isClosed { return entry.connection }
        if let task = pending[key] { return try await task.value }
        let targets = self.targets, transport = self.transport
        let task = Task<SSHConnection, Error> {
            let target = try await targets.database.query { store in
                try targets.target(store, device, credential: credential.isEmpty ? nil : credential)
            }
            return try await transport.connect(target)
        }
        pending[key] = task
        defer { pending[key] = nil }
        let connection = try await task.value
        if closed {
            await connection.close()
            throw ServiceError("the run was stopped")
        }
        entries[key] = Entry(connection: connection, cli: nil)
        return connection
    }

    /// A platform CLI session on the device's connection, prompt found and paging disabled; reused by
    /// later services. In enable mode when the credential has an enable secret and the platform has one.
    public func cli(for device: Device, credential: String = "") async throws -> CLISession {
        let key = Key(device: device.name, credential: credential)
        let connection = try await self.connection(for: device, credential: credential)
        if let cli = entries[key]?.cli { return cli }
        let session = try await Self.openCLI(on: connection, platform: device.platform, deviceName: device.name)
        if entries[key] == nil { await session.close(); throw ServiceError("the run was stopped") }
        entries[key]?.cli = session
        return session
    }

    /// A CLI session for a device whose platform is `platformName`: aliases followed, an unknown or
    /// broken platform driven as `generic` (with a warning), and `autodetect` recognised after login
    /// (Netmiko's SSHDetect way) before paging is turned off. Warnings wait in the session.
    public static func openCLI(on connection: SSHConnection, platform platformName: String, deviceName: String,
                               timeout: Duration? = nil) async throws -> CLISession {
        let registry = PlatformRegistry.current()
        let resolution = registry.resolve(platformName)
        let session = try await connection.openCLI(platform: resolution.definition, timeout: timeout, disablePaging: !resolution.autodetect)
        do {
            if let warning = resolution.warning { await session.note(warning) }
            if resolution.autodetect {
                if let (found, evidence) = try await session.detect(among: registry.detectable) {
                    await session.switchPlatform(to: found, note: "platform detected: \(found.name) (\(evidence)); "
                                                 + "`switchboard detect \(deviceName) --save` records it")
                } else {
                    await session.note("platform not detected (prompt \"\(await session.prompt)\"); driving the device as generic")
                }
                await session.deferPaging()
            }
        } catch {
            await session.close()
            throw error
        }
        return session
    }

    /// Forgets a CLI session that failed (a timeout leaves it in an unknown state).
    public func discardCLI(for device: Device, credential: String = "") async {
        let key = Key(device: device.name, credential: credential)
        if let cli = entries[key]?.cli {
            entries[key]?.cli = nil
            await cli.close()
        }
    }

    /// Closes a device's connections once the run is done with it.
    public func release(_ deviceName: String) async {
        for key in entries.keys where key.device == deviceName {
            if let entry = entries.removeValue(forKey: key) {
                // The connection's close frees the shell channel: no round trip for its own close.
                if let cli = entry.cli { await cli.detach() }
                await entry.connection.close()
            }
        }
    }

    /// Closes everything and refuses new connections: the stop path.
    public func closeAll() async {
        closed = true
        let all = entries
        entries = [:]
        for task in pending.values { task.cancel() }
        await withTaskGroup(of: Void.self) { group in
            for entry in all.values {
                group.addTask {
                    if let cli = entry.cli { await cli.detach() }
                    await entry.connection.close()
                }
            }
        }
    }

    public var openCount: Int { entries.count }
}
