import Logging
import Store

/// How the transport behaves; `init(settings:paths:)` maps the `ssh.*` settings.
public struct SSHTransportConfiguration: Sendable {
    /// I/O loop threads; each owns many sessions. 2–4 is plenty for hundreds of devices.
    public var ioThreads: Int
    /// TCP connect timeout, and separately the SSH handshake timeout.
    public var connectTimeout: Duration
    /// Authentication timeout (all methods together).
    public var authenticationTimeout: Duration
    /// Default per-command timeout (exec, CLI commands).
    public var commandTimeout: Duration
    /// Keepalive interval in seconds; 0 turns keepalives off.
    public var keepaliveInterval: Int
    /// Also offer legacy algorithms (a device's `legacyAlgorithms` overrides this).
    public var legacyAlgorithms: Bool
    public var hostKeyPolicy: HostKeyPolicy
    public var knownHosts: KnownHosts
    /// Where the transport reports what an operator may want to audit: host keys recorded under
    /// accept-new (notice), changed host keys (critical), logins (debug). Silent by default.
    public var logger: Logger

    public init(ioThreads: Int = 2, connectTimeout: Duration = .seconds(10), authenticationTimeout: Duration = .seconds(30),
                commandTimeout: Duration = .seconds(30), keepaliveInterval: Int = 30, legacyAlgorithms: Bool = false,
                hostKeyPolicy: HostKeyPolicy = .strict, knownHosts: KnownHosts = KnownHosts(files: []),
                logger: Logger = Logger(label: "switchboard.ssh", factory: { _ in SwiftLogNoOpLogHandler() })) {
        self.ioThreads = ioThreads
        self.connectTimeout = connectTimeout
        self.authenticationTimeout = authenticationTimeout
        self.commandTimeout = commandTimeout
        self.keepaliveInterval = keepaliveInterval
        self.legacyAlgorithms = legacyAlgorithms
        self.hostKeyPolicy = hostKeyPolicy
        self.knownHosts = knownHosts
        self.logger = logger
    }

    /// From the settings: switchboard's own known_hosts (`paths.knownHostsPath`, where new keys are
    /// recorded), then `ssh.known_hosts`, then `~/.ssh/known_hosts`.
    public init(settings: Settings, paths: Paths, ioThreads: Int = 2) {
        let ssh = settings.ssh
        self.init(ioThreads: ioThreads,
                  connectTimeout: .seconds(ssh.connectTimeout),
                  authenticationTimeout: .seconds(max(ssh.connectTimeout, 30)),
                  commandTimeout: .seconds(ssh.commandTimeout),
                  keepaliveInterval: ssh.keepalive,
                  legacyAlgorithms: ssh.legacyAlgorithms,
                  hostKeyPolicy: ssh.hostKeyPolicy,
                  knownHosts: KnownHosts(files: ssh.knownHostsFiles(home: paths.homeDirectory), writableFile: paths.knownHostsPath))
    }
}
