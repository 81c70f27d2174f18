import Foundation

/// Switchboard's settings, typed. Loaded by `SettingsLoader` from the shipped defaults, the user's
/// file, the environment and `--set` overrides; the keys, types and defaults are in `Settings.schema`.
public struct Settings: Sendable, Equatable {
    /// Refresh intervals of the console tables, in milliseconds.
    public struct Tables: Sendable, Equatable {
        public var device: Int
        public var link: Int
        public var pool: Int
        public var credential: Int
        public var service: Int
        public var workflow: Int
        public var run: Int
        public var task: Int
        public var session: Int
        /// The configuration history table.
        public var config: Int
        public var result: Int
        /// The engines (`:engines`): heartbeat ages move, so it reads every time.
        public var engine: Int
        /// The console's `:pulse` dashboard (not a table, but refreshed like one).
        public var pulse: Int

        /// The interval of a table by its settings name (`"run"`), nil for an unknown table.
        public func refreshInterval(for table: String) -> Int? {
            switch table {
            case "device": return device
            case "link": return link
            case "pool": return pool
            case "credential": return credential
            case "service": return service
            case "workflow": return workflow
            case "run": return run
            case "task": return task
            case "session": return session
            case "config": return config
            case "result": return result
            case "engine": return engine
            case "pulse": return pulse
            default: return nil
            }
        }
    }

    public struct Automation: Sendable, Equatable {
        /// Cap on the concurrent device operations of one service, whatever the service asks for.
        public var maxProcess: Int
        /// Seconds.
        public var defaultTimeout: Double
        public var defaultRetries: Int
        /// Seconds.
        public var retryDelay: Double
        /// Services of kind `unix` run local shell commands, so they are off unless enabled.
        public var allowUnix: Bool
    }

    public struct SSH: Sendable, Equatable {
        /// Extra known_hosts files, as configured (may start with `~`).
        public var knownHosts: [String]
        public var hostKeyPolicy: HostKeyPolicy
        /// Jump chain for devices without their own, comma separated; empty for none.
        public var defaultJump: String
        /// Seconds.
        public var connectTimeout: Double
        /// Seconds; 0 turns keepalives off.
        public var keepalive: Int
        public var legacyAlgorithms: Bool
        /// Seconds.
        public var commandTimeout: Double

        /// Every known_hosts file to consult, `~` expanded: the configured ones, then
        /// `~/.ssh/known_hosts`, which is always used so a fresh install trusts what `ssh` trusts.
        public func knownHostsFiles(home: String) -> [String] {
            let expand = { (path: String) -> String in
                path == "~" ? home : path.hasPrefix("~/") ? home + path.dropFirst(1) : path
            }
            var files: [String] = []
            for path in knownHosts.map(expand) + [home + "/.ssh/known_hosts"] where !files.contains(path) {
                files.append(path)
            }
            return files
        }
    }

    public struct Console: Sendable, Equatable {
        public var theme: String
        /// Action name → key, e.g. `["quit": "q"]`.
        public var keys: [String: String]
        public var clock: Bool
        public var readonly: Bool
    }

    public struct Engine: Sendable, Equatable {
        public var logFlushMs: Int
        public var pollMs: Int
        public var stopGraceSeconds: Double
        public var maxRuns: Int
        /// Seconds without a heartbeat after which an engine is lost, then dropped (PostgreSQL).
        public var activeThresholdS: Double
        public var dropThresholdS: Double
        /// PostgreSQL: spread a service's run over every engine, device by device (`run_unit`).
        public var unitQueue: Bool
    }

    /// Configurations in git (the backup service).
    public struct Git: Sendable, Equatable {
        /// Empty: `$XDG_DATA_HOME/switchboard/network_data`.
        public var repository: String
        public var enabled: Bool
        public var remote: String
        public var branch: String
    }

    /// SMTP notifications. The password is never a setting: `SWITCHBOARD_MAIL_PASSWORD`.
    public struct Mail: Sendable, Equatable {
        public var server: String
        public var port: Int
        public var useTLS: Bool
        /// PEM file of the CA certificates to verify the server with; empty: the system's trust store.
        public var caFile: String
        public var username: String
        public var sender: String
        public var replyTo: String
        public var recipients: [String]
    }

    public struct Notify: Sendable, Equatable {
        public var slackWebhookURL: String
        public var mattermostURL: String
        public var mattermostChannel: String
        public var mattermostVerifyCertificate: Bool
        public var webhookURL: String
        public var webhookHeaders: [String: String]
        public var retries: Int
        /// Seconds.
        public var timeout: Double
    }

    /// Where the store lives when neither `--db` nor `SWITCHBOARD_DB` says.
    public struct DatabaseSettings: Sendable, Equatable {
        /// Empty: the SQLite file in $XDG_DATA_HOME; else a file path or a postgres:// URL.
        public var url: String
    }

    public struct Security: Sendable, Equatable {
        public var log: Bool
        public var logMaxBytes: Int
        public var logFiles: Int
        /// Empty, a socket path, or host:port (UDP).
        public var syslog: String
    }

    public var tables: Tables
    public var automation: Automation
    public var ssh: SSH
    public var console: Console
    public var engine: Engine
    public var git: Git
    public var mail: Mail
    public var notify: Notify
    public var security: Security
    public var database: DatabaseSettings

    /// Environment variables holding secrets that are not settings (never in a file, never listed):
    /// the loader leaves them alone instead of calling them typos of a key.
    public static let secretEnvironment: Set<String> = ["SWITCHBOARD_MAIL_PASSWORD"]

    /// The compiled-in defaults: what a missing `setup/settings.json` falls back to.
    public static let defaults = Settings(document: defaultDocument)

    /// The defaults as a JSON tree, built from the schema.
    public static let defaultDocument: JSONValue = schema.reduce(JSONValue.object([:])) { tree, key in
        SettingsJSON.setting(key.defaultValue, at: key.components, in: tree)
    }

    /// Reads a merged, validated settings tree. Any key missing or of the wrong type falls back to
    /// its default; the loader always merges over `defaultDocument` and validates first, so that
    /// only happens to callers that skip the loader.
    init(document: JSONValue) {
        let read = SettingsReader(document: document)
        tables = Tables(
            device: read.int("tables.device"), link: read.int("tables.link"), pool: read.int("tables.pool"),
            credential: read.int("tables.credential"), service: read.int("tables.service"),
            workflow: read.int("tables.workflow"), run: read.int("tables.run"), task: read.int("tables.task"),
            session: read.int("tables.session"), config: read.int("tables.config"),
            result: read.int("tables.result"), engine: read.int("tables.engine"), pulse: read.int("tables.pulse"))
        automation = Automation(
            maxProcess: read.int("automation.max_process"),
            defaultTimeout: read.double("automation.default_timeout"),
            defaultRetries: read.int("automation.default_retries"),
            retryDelay: read.double("automation.retry_delay"),
            allowUnix: read.bool("automation.allow_unix"))
        ssh = SSH(
            knownHosts: read.strings("ssh.known_hosts"),
            hostKeyPolicy: HostKeyPolicy(rawValue: read.string("ssh.host_key_policy")) ?? .strict,
            defaultJump: read.string("ssh.default_jump"),
            connectTimeout: read.double("ssh.connect_timeout"),
            keepalive: read.int("ssh.keepalive"),
            legacyAlgorithms: read.bool("ssh.legacy_algorithms"),
            commandTimeout: read.double("ssh.command_timeout"))
        console = Console(
            theme: read.string("console.theme"), keys: read.stringMap("console.keys"),
            clock: read.bool("console.clock"), readonly: read.bool("console.readonly"))
        engine = Engine(
            logFlushMs: read.int("engine.log_flush_ms"), pollMs: read.int("engine.poll_ms"),
            stopGraceSeconds: read.double("engine.stop_grace_seconds"),
            maxRuns: read.int("engine.max_runs"),
            activeThresholdS: read.double("engine.active_threshold_s"),
            dropThresholdS: read.double("engine.drop_threshold_s"),
            unitQueue: read.bool("engine.unit_queue"))
        git = Git(repository: read.string("git.repository"), enabled: read.bool("git.enabled"),
                  remote: read.string("git.remote"), branch: read.string("git.branch"))
        mail = Mail(server: read.string("mail.server"), port: read.int("mail.port"), useTLS: read.bool("mail.use_tls"),
                    caFile: read.string("mail.ca_file"), username: read.string("mail.username"), sender: read.string("mail.sender"),
                    replyTo: read.string("mail.reply_to"), recipients: read.strings("mail.recipients"))
        notify = Notify(slackWebhookURL: read.string("slack.webhook_url"), mattermostURL: read.string("mattermost.url"),
                        mattermostChannel: read.string("mattermost.channel"),
                        mattermostVerifyCertificate: read.bool("mattermost.verify_certificate"),
                        webhookURL: read.string("webhook.url"), webhookHeaders: read.stringMap("webhook.headers"),
                        retries: read.int("notify.retries"), timeout: read.double("notify.timeout"))
        security = Security(log: read.bool("security.log"), logMaxBytes: read.int("security.log_max_bytes"),
                            logFiles: read.int("security.log_files"), syslog: read.string("security.syslog"))
        database = DatabaseSettings(url: read.string("database.url"))
    }
}

/// Typed access to a settings tree by key path, falling back to the schema default.
private struct SettingsReader {
    let document: JSONValue

    private func value(_ path: String) -> JSONValue {
        guard let key = Settings.index.keys[path] else {
            preconditionFailure("Settings reads \(path), which is not in Settings.schema")
        }
        let found = SettingsJSON.value(at: key.components, in: document)
        return found.flatMap { key.type.problem(with: $0) == nil ? $0 : nil } ?? key.defaultValue
    }

    func int(_ path: String) -> Int { value(path).intValue ?? 0 }
    func bool(_ path: String) -> Bool { value(path).boolValue ?? false }
    func string(_ path: String) -> String { value(path).stringValue ?? "" }
    func double(_ path: String) -> Double {
        switch value(path) {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return 0
        }
    }
    func strings(_ path: String) -> [String] { (value(path).arrayValue ?? []).compactMap(\.stringValue) }
    func stringMap(_ path: String) -> [String: String] {
        (value(path).objectValue ?? [:]).compactMapValues(\.stringValue)
    }
}
