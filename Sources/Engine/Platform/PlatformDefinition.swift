import Foundation

/// How a device's CLI behaves, read from `setup/platforms/<name>.json`: prompts per mode, how to
/// turn paging off, how to enter enable and configuration mode, what its errors and pager look
/// like. Platforms are data so supporting a new one means writing a file, not code.
public struct PlatformDefinition: Sendable {
    /// CLI privilege / configuration levels.
    public enum Mode: String, Sendable, CaseIterable, CustomStringConvertible {
        case user, enable, config
        public var description: String { rawValue }
    }

    public struct Enable: Sendable {
        /// The command that asks for privileges (`enable`).
        public var command: String
        /// The device's password question (`Password:`), matched against the last line.
        public var passwordPrompt: CLIPattern
    }

    public struct ConfigMode: Sendable {
        /// Enters configuration mode (`configure terminal`, `configure`).
        public var enter: String
        /// Leaves it (`end`, `exit configuration-mode`).
        public var exit: String
        /// Applies the candidate configuration before leaving (`commit` on Junos), if the platform has one.
        public var commit: String?
    }

    public var name: String
    public var description: String
    /// Prompt of each mode the platform has, matched against the last line of output.
    public var prompts: [Mode: CLIPattern]
    /// A line printed just before the prompt that belongs to it, not to the output (Junos `[edit]`).
    public var promptPreamble: CLIPattern?
    /// Commands that turn paging off (failures are tolerated: the pager is answered anyway).
    public var pagingDisable: [String]
    public var enable: Enable?
    public var configMode: ConfigMode?
    /// Output lines that mean the command was rejected (`% Invalid input`).
    public var errorPatterns: [CLIPattern]
    /// Pager prompts (`--More--`), matched against the last, unterminated line.
    public var pagerPatterns: [CLIPattern]
    /// What answers the pager: a space shows the next page.
    public var pagerResponse: String
    /// What ends a command line.
    public var lineEnding: String
    /// The file it was loaded from, if any.
    public var sourcePath: String?
    /// Saves the running configuration (`write memory`); nil where a commit already saves (Junos).
    public var save: String? = nil
    /// Shows the running configuration, for backups (`show running-config`).
    public var backupCommand: String? = nil
    /// Lines of the running configuration that change without a configuration change
    /// (`! Last configuration change`, `ntp clock-period`): left out of backups.
    public var volatilePatterns: [CLIPattern] = []

    /// How `switchboard exec` talks to the platform when no `--mode` is given: the prompt-driven CLI
    /// on a PTY (network OSes) or SSH exec channels (Linux).
    public enum NaturalMode: String, Sendable { case cli, exec }
    public var naturalMode: NaturalMode = .cli

    /// Other names inventories use for this platform (Netmiko device types, Ansible network_os,
    /// NAPALM drivers, Oxidized models), lower case.
    public var aliases: [String] = []

    /// How to recognise the platform from a logged-in session (Netmiko's SSHDetect: a command,
    /// patterns on its output, and a priority where several platforms match).
    public struct Detect: Sendable {
        public var command: String
        public var patterns: [CLIPattern]
        public var priority: Int
    }
    public var detect: Detect? = nil

    /// The characters that end this platform's prompts (`#>` on IOS), used to recognise the literal
    /// prompt discovered after login when the platform's patterns do not match it.
    public var promptTerminators: String = ">#$%]"

    /// The mode whose prompt `line` is, most specific first (a config prompt also ends in `#`).
    public func mode(ofPrompt line: String) -> Mode? {
        for mode in [Mode.config, .enable, .user] {
            if let pattern = prompts[mode], pattern.matches(line) { return mode }
        }
        return nil
    }

    public func isPagerPrompt(_ line: String) -> Bool {
        pagerPatterns.contains { $0.matches(line) }
    }

    /// The lines of `output` that match an error pattern, joined; nil when none does.
    ///
    /// Error messages come right after the command, so long outputs (a 10 MB configuration) are
    /// only scanned in their first 200 lines: a configuration may legitimately contain text that
    /// looks like an error (a banner quoting one), and scanning megabytes costs time for nothing.
    public func rejection(in output: String) -> String? {
        guard !errorPatterns.isEmpty else { return nil }
        var lines = output.split(separator: "\n", omittingEmptySubsequences: false)
        if output.utf8.count > 65_536 { lines = Array(lines.prefix(200)) }
        var hits: [Substring] = []
        for (index, line) in lines.enumerated() where errorPatterns.contains(where: { $0.matches(String(line)) }) {
            // IOS and NX-OS point at the bad word with a caret line just above the message.
            if index > 0, lines[index - 1].trimmingCharacters(in: .whitespaces) == "^" { hits.append(lines[index - 1]) }
            hits.append(line)
        }
        guard !hits.isEmpty else { return nil }
        return hits.map { $0.trimmingCharacters(in: .whitespaces) }.filter { $0 != "^" }.joined(separator: " / ")
    }
}
