import Foundation

/// The type of one setting, with the constraints the validator enforces.
/// The same value drives file validation, the conversion of environment / `--set` text,
/// and `Settings.describeKeys()`, so the three can never disagree.
public enum SettingType: Sendable, Equatable {
    /// A whole number within the range.
    case integer(ClosedRange<Int>)
    /// A number (integers accepted) within the bounds.
    case number(NumberBounds)
    case boolean
    case string
    /// A string that must be one of the choices.
    case choice([String])
    /// A list of strings; from text, comma separated.
    case stringList
    /// An open object (any key) of string values, e.g. `console.keys`. Its keys are not
    /// checked against the schema; from the environment or `--set`, entries are set one by one.
    case stringMap

    /// What the validator says it expected: "an integer in 1...5000".
    public var expectation: String {
        switch self {
        case .integer(let range): return "an integer in \(range.lowerBound)...\(range.upperBound)"
        case .number(let bounds): return bounds.expectation
        case .boolean: return "true or false"
        case .string: return "a string"
        case .choice(let choices): return "one of " + choices.map { "\"\($0)\"" }.joined(separator: ", ")
        case .stringList: return "a list of strings"
        case .stringMap: return "an object of strings"
        }
    }

    /// Short name for the key listing.
    var shortName: String {
        switch self {
        case .integer(let range): return "integer \(range.lowerBound)...\(range.upperBound)"
        case .number(let bounds): return "number " + bounds.shortRange
        case .boolean: return "boolean"
        case .string: return "string"
        case .choice(let choices): return choices.joined(separator: "|")
        case .stringList: return "list of strings"
        case .stringMap: return "object of strings"
        }
    }

    /// Checks a value read from a JSON file. Returns the problem, or nil when the value fits.
    /// File values must already have the right JSON type: `"50"` is not an integer there.
    func problem(with value: JSONValue) -> String? {
        let ok: Bool
        switch (self, value) {
        case (.integer(let range), .int(let i)): ok = range.contains(i)
        case (.number(let bounds), .int(let i)): ok = bounds.contains(Double(i))
        case (.number(let bounds), .double(let d)): ok = bounds.contains(d)
        case (.boolean, .bool): ok = true
        case (.string, .string): ok = true
        case (.choice(let choices), .string(let s)): ok = choices.contains(s)
        case (.stringList, .array(let items)): ok = items.allSatisfy { $0.stringValue != nil }
        case (.stringMap, .object):
            // Entries are checked one by one by the caller, so each bad entry gets its own key path.
            ok = true
        default: ok = false
        }
        return ok ? nil : "expected \(expectation), got \(SettingsJSON.describe(value))"
    }

    /// Converts text from the environment or `--set` to a value of this type.
    func parse(text: String) -> Result<JSONValue, SettingTextError> {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let failure = SettingTextError("expected \(expectation), got \(SettingsJSON.quote(text))")
        switch self {
        case .integer(let range):
            guard let i = Int(trimmed), range.contains(i) else { return .failure(failure) }
            return .success(.int(i))
        case .number(let bounds):
            guard let d = Double(trimmed), d.isFinite, bounds.contains(d) else { return .failure(failure) }
            return .success(.double(d))
        case .boolean:
            switch trimmed.lowercased() {
            case "true", "yes", "1": return .success(.bool(true))
            case "false", "no", "0": return .success(.bool(false))
            default: return .failure(failure)
            }
        case .string:
            // Strings are taken verbatim: a jump chain or theme name may legitimately contain spaces.
            return .success(.string(text))
        case .choice(let choices):
            return choices.contains(trimmed) ? .success(.string(trimmed)) : .failure(failure)
        case .stringList:
            let items = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty }
            return .success(.array(items.map(JSONValue.string)))
        case .stringMap:
            return .failure(SettingTextError("set one entry at a time, as <key>.<entry>=<value>"))
        }
    }
}

/// A problem converting setting text; a type so `Result` can carry the message.
struct SettingTextError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

/// Bounds of a `.number` setting. Timeouts need an exclusive zero ("greater than 0"), which a
/// `ClosedRange<Double>` cannot express.
public struct NumberBounds: Sendable, Equatable {
    public var lower: Double
    public var lowerExclusive: Bool
    public var upper: Double

    /// `> lower`, `<= upper`.
    public static func above(_ lower: Double, max upper: Double) -> NumberBounds {
        NumberBounds(lower: lower, lowerExclusive: true, upper: upper)
    }
    /// `lower...upper`.
    public static func within(_ range: ClosedRange<Double>) -> NumberBounds {
        NumberBounds(lower: range.lowerBound, lowerExclusive: false, upper: range.upperBound)
    }

    public func contains(_ value: Double) -> Bool {
        (lowerExclusive ? value > lower : value >= lower) && value <= upper
    }

    var expectation: String {
        lowerExclusive
            ? "a number greater than \(Self.format(lower)) and at most \(Self.format(upper))"
            : "a number in \(Self.format(lower))...\(Self.format(upper))"
    }
    var shortRange: String {
        lowerExclusive ? ">\(Self.format(lower)) <=\(Self.format(upper))"
                       : "\(Self.format(lower))...\(Self.format(upper))"
    }
    /// `30` rather than `30.0`: the bounds are read by people, not parsed.
    static func format(_ d: Double) -> String {
        d.rounded() == d && abs(d) < 1e15 ? String(Int(d)) : String(d)
    }
}

/// One key of the settings schema: where it lives, its type, its default and what it does.
public struct SettingKey: Sendable {
    /// Dotted key path, e.g. `automation.max_process`.
    public let path: String
    public let type: SettingType
    public let defaultValue: JSONValue
    public let summary: String

    public init(_ path: String, _ type: SettingType, _ defaultValue: JSONValue, _ summary: String) {
        self.path = path; self.type = type; self.defaultValue = defaultValue; self.summary = summary
    }

    public var components: [String] { path.split(separator: ".").map(String.init) }

    /// `automation.max_process` → `SWITCHBOARD_AUTOMATION_MAX_PROCESS`. For a `.stringMap` this is
    /// the prefix of its entries: `SWITCHBOARD_CONSOLE_KEYS_QUIT` sets `console.keys.quit`.
    public var environmentName: String {
        "SWITCHBOARD_" + path.uppercased().replacingOccurrences(of: ".", with: "_")
    }
}

extension Settings {
    /// Every setting. This table is the single source of truth: the defaults, the shipped
    /// `setup/settings.json` (checked by a unit test), the validator, the environment mapping
    /// and the `--help` listing all come from it.
    public static let schema: [SettingKey] = {
        let ms = 100...3_600_000
        func table(_ name: String, _ defaultMs: Int, _ what: String) -> SettingKey {
            SettingKey("tables.\(name)", .integer(ms), .int(defaultMs), "Refresh interval of the \(what) table, in ms.")
        }
        return [
            table("device", 10_000, "device"),
            table("link", 10_000, "link"),
            table("pool", 10_000, "pool"),
            table("credential", 30_000, "credential"),
            table("service", 10_000, "service"),
            table("workflow", 10_000, "workflow"),
            table("run", 5_000, "run"),
            table("task", 3_000, "task"),
            table("session", 10_000, "session"),
            table("config", 30_000, "configuration history"),
            table("result", 5_000, "result"),
            table("engine", 2_000, "engine"),
            SettingKey("tables.pulse", .integer(ms), .int(5_000), "Refresh interval of the :pulse dashboard, in ms (it reads only after a write)."),

            SettingKey("automation.max_process", .integer(1...5000), .int(100),
                       "Cap on the concurrent device operations of one service."),
            SettingKey("automation.default_timeout", .number(.above(0, max: 86_400)), .double(30),
                       "Timeout of a device operation, in seconds, when the service sets none."),
            SettingKey("automation.default_retries", .integer(0...100), .int(0),
                       "Retries of a failed device operation when the service sets none."),
            SettingKey("automation.retry_delay", .number(.within(0...3600)), .double(0),
                       "Pause before a retry, in seconds."),
            SettingKey("automation.allow_unix", .boolean, .bool(false),
                       "Allow services of kind unix (local shell commands)."),

            SettingKey("ssh.known_hosts", .stringList, .array([]),
                       "Extra known_hosts files; ~/.ssh/known_hosts is always used too."),
            SettingKey("ssh.host_key_policy", .choice(HostKeyPolicy.allCases.map(\.rawValue)),
                       .string(HostKeyPolicy.strict.rawValue),
                       "strict: unknown host keys are refused; accept-new: they are recorded on first use."),
            SettingKey("ssh.default_jump", .string, .string(""),
                       "Jump host chain for devices that set none, outermost first, comma separated."),
            SettingKey("ssh.connect_timeout", .number(.above(0, max: 3600)), .double(10),
                       "TCP connect and SSH handshake timeout, in seconds."),
            SettingKey("ssh.keepalive", .integer(0...86_400), .int(30),
                       "Keepalive interval, in seconds; 0 turns keepalives off."),
            SettingKey("ssh.legacy_algorithms", .boolean, .bool(false),
                       "Also offer legacy key exchange, cipher and host key algorithms (old devices)."),
            SettingKey("ssh.command_timeout", .number(.above(0, max: 86_400)), .double(30),
                       "Time to wait for a command's output, in seconds."),

            SettingKey("console.theme", .string, .string("default"), "Colour theme."),
            SettingKey("console.keys", .stringMap,
                       .object(["quit": .string("q"), "help": .string("?"),
                                "filter": .string("/"), "refresh": .string("r")]),
                       "Key bindings: action name -> key. Entries merge over the defaults."),
            SettingKey("console.clock", .boolean, .bool(true), "Show a clock in the status line."),
            SettingKey("console.readonly", .boolean, .bool(false),
                       "Read-only console: no runs, edits or deletions."),

            SettingKey("engine.log_flush_ms", .integer(10...60_000), .int(25),
                       "How often run log lines are written to the database, in ms."),
            SettingKey("engine.poll_ms", .integer(10...60_000), .int(100),
                       "How often the engine polls the database for work and stop requests, in ms."),
            SettingKey("engine.stop_grace_seconds", .number(.within(0...3600)), .double(30),
                       "Time a stopping run gets to finish its device operations, in seconds."),
            SettingKey("engine.max_runs", .integer(1...1000), .int(20),
                       "Runs the engine executes at the same time; more wait queued."),
            SettingKey("engine.active_threshold_s", .number(.above(0, max: 86_400)), .double(15),
                       "PostgreSQL: an engine without a heartbeat for this many seconds is lost; its runs end interrupted."),
            SettingKey("engine.unit_queue", .boolean, .bool(true),
                       "PostgreSQL: a service's run over devices is spread device by device over every engine (the unit queue); false: each run runs whole on the engine that claims it."),
            SettingKey("engine.drop_threshold_s", .number(.above(0, max: 604_800)), .double(120),
                       "PostgreSQL: a lost engine is dropped (removed from the engine list) after this many seconds without a heartbeat."),

            SettingKey("git.repository", .string, .string(""),
                       "Git repository the backup service writes configurations into; empty: $XDG_DATA_HOME/switchboard/network_data."),
            SettingKey("git.enabled", .boolean, .bool(true),
                       "Write backed-up configurations into the git repository (one commit per changed configuration)."),
            SettingKey("git.remote", .string, .string(""),
                       "Remote (a local path or an ssh URL) a run pushes to at its end; empty: no push."),
            SettingKey("git.branch", .string, .string("main"), "Branch committed to and pushed."),

            SettingKey("mail.server", .string, .string(""), "SMTP server host; empty: mail notifications are off."),
            SettingKey("mail.port", .integer(1...65535), .int(25), "SMTP server port."),
            SettingKey("mail.use_tls", .boolean, .bool(false),
                       "SMTP over TLS (STARTTLS, or implicit TLS on port 465), through the system curl."),
            SettingKey("mail.ca_file", .string, .string(""),
                       "With use_tls: PEM file of the CA certificates that sign the server's certificate (a private CA); empty: the system's trust store. The certificate is always verified."),
            SettingKey("mail.username", .string, .string(""),
                       "SMTP AUTH user; the password comes from SWITCHBOARD_MAIL_PASSWORD, never from a file."),
            SettingKey("mail.sender", .string, .string("switchboard@localhost"), "From address."),
            SettingKey("mail.reply_to", .string, .string(""), "Reply-To address; empty: none."),
            SettingKey("mail.recipients", .stringList, .array([]), "Recipients of a bare \"mail\" channel."),

            SettingKey("slack.webhook_url", .string, .string(""), "Slack incoming webhook URL (a secret: keep it in the user file or the environment)."),
            SettingKey("mattermost.url", .string, .string(""), "Mattermost incoming webhook URL."),
            SettingKey("mattermost.channel", .string, .string(""), "Mattermost channel; empty: the webhook's own."),
            SettingKey("mattermost.verify_certificate", .boolean, .bool(true), "Check the Mattermost server's TLS certificate."),
            SettingKey("webhook.url", .string, .string(""), "Generic webhook: a JSON object with the run's fields is POSTed here."),
            SettingKey("webhook.headers", .stringMap, .object([:]), "Extra HTTP headers of the generic webhook (e.g. Authorization)."),
            SettingKey("notify.retries", .integer(0...10), .int(3), "Delivery attempts after the first for a notification that failed."),
            SettingKey("notify.timeout", .number(.above(0, max: 300)), .double(10), "Time one delivery attempt may take, in seconds."),

            SettingKey("security.log", .boolean, .bool(true),
                       "Write the security log ($XDG_STATE_HOME/switchboard/security.log)."),
            SettingKey("security.log_max_bytes", .integer(4096...1_073_741_824), .int(10_485_760),
                       "Size at which the security log is rotated."),
            SettingKey("security.log_files", .integer(1...100), .int(5), "Rotated security logs kept."),
            SettingKey("security.syslog", .string, .string(""),
                       "Also send security events to syslog (RFC 5424): \"/dev/log\" (or another socket path), or host:port over UDP; empty: off."),

            SettingKey("database.url", .string, .string(""),
                       "The database when neither --db nor SWITCHBOARD_DB is given: a SQLite file path or a postgres:// URL (no password: PGPASSWORD or ~/.pgpass); empty: $XDG_DATA_HOME/switchboard/switchboard.db."),
        ]
    }()

    /// The schema laid out for lookups; built once.
    static let index = SchemaIndex(schema)

    /// Every key with its type, default, environment variable and meaning, for the README and `--help`.
    public static func describeKeys() -> String {
        let rows = schema.map { key -> (String, String, String) in
            (key.path, key.type.shortName, SettingsJSON.compact(key.defaultValue))
        }
        let pathWidth = rows.map(\.0.count).max() ?? 0
        let typeWidth = rows.map(\.1.count).max() ?? 0
        var lines: [String] = []
        for (key, row) in zip(schema, rows) {
            let env = key.type == .stringMap ? key.environmentName + "_<ENTRY>" : key.environmentName
            lines.append(row.0.padding(toLength: pathWidth, withPad: " ", startingAt: 0) + "  "
                         + row.1.padding(toLength: typeWidth, withPad: " ", startingAt: 0) + "  default " + row.2)
            lines.append("    " + key.summary + " [" + env + "]")
        }
        return lines.joined(separator: "\n")
    }
}

/// The schema as a tree: which key paths are settings, which are sections, and how environment
/// variable names map back to key paths.
struct SchemaIndex: Sendable {
    /// Settings by dotted path.
    let keys: [String: SettingKey]
    /// Children of each section, by dotted section path ("" is the top level).
    let sections: [String: [String]]
    /// Setting paths by environment variable name.
    let environment: [String: String]
    /// Open maps by the prefix their entry variables start with (`SWITCHBOARD_CONSOLE_KEYS_`).
    let environmentMapPrefixes: [(prefix: String, path: String)]

    init(_ schema: [SettingKey]) {
        var keys: [String: SettingKey] = [:]
        var sections: [String: Set<String>] = [:]
        var environment: [String: String] = [:]
        var prefixes: [(String, String)] = []
        for key in schema {
            precondition(keys[key.path] == nil, "settings schema lists \(key.path) twice")
            keys[key.path] = key
            let parts = key.components
            for depth in 0..<parts.count {
                sections[parts[0..<depth].joined(separator: "."), default: []].insert(parts[depth])
            }
            // Key names contain underscores, so `A_B_C` could in principle come from `a.b_c` or `a_b.c`.
            // Names are derived from the schema and must be unique; a collision is a programming error.
            precondition(environment[key.environmentName] == nil,
                         "settings \(key.path) and \(environment[key.environmentName] ?? "") share an environment variable")
            environment[key.environmentName] = key.path
            if key.type == .stringMap { prefixes.append((key.environmentName + "_", key.path)) }
        }
        // A fixed key must not look like an entry of an open map.
        for (prefix, path) in prefixes {
            for name in environment.keys where name.hasPrefix(prefix) {
                preconditionFailure("setting \(environment[name]!) looks like an entry of \(path)")
            }
        }
        self.keys = keys
        self.sections = sections.mapValues { $0.sorted() }
        self.environment = environment
        // Longest prefix first, so a nested map wins over an enclosing one.
        self.environmentMapPrefixes = prefixes.sorted { $0.0.count > $1.0.count }
    }

    /// True when `path` is a section (has settings below it) rather than a setting.
    func isSection(_ path: String) -> Bool { keys[path] == nil && sections[path] != nil }

    /// The known names next to an unknown one, to help the engineer fix a typo.
    func hint(for unknown: String, in section: String) -> String {
        let known = sections[section] ?? []
        if let close = SettingsJSON.closest(to: unknown, among: known) { return "did you mean \(close)?" }
        return "known keys" + (section.isEmpty ? "" : " in \(section)") + ": " + known.joined(separator: ", ")
    }
}

/// What `ssh.host_key_policy` allows.
public enum HostKeyPolicy: String, Sendable, CaseIterable {
    /// Unknown or changed host keys are refused.
    case strict
    /// Unknown host keys are recorded on first use; changed ones are still refused.
    case acceptNew = "accept-new"
}
