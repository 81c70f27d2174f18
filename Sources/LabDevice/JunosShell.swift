#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The Junos CLI: operational mode (`user@r1> `) and configuration mode (`user@r1# `) where `set` and
// `delete` build a candidate that only reaches the running configuration on `commit`.

final class JunosShell: DeviceShell {
    private enum Mode { case operational, configuration }

    private var mode = Mode.operational
    private var editPath: [String] = []
    /// Candidate changes since `configure` / the last commit, replayed onto the running
    /// configuration at commit time so concurrent sessions' commits merge instead of clobbering.
    private var pending: [(delete: Bool, words: [String])] = []
    private let device: DeviceContext
    private let operational = CommandTree(CommandTables.junosOperational)
    private let configuration = CommandTree(CommandTables.junosConfiguration)
    private var style: PlatformStyle { device.style }
    private var console: Console { device.console }

    /// Top-level configuration hierarchies `set` accepts.
    private static let hierarchies = [
        "apply-groups", "chassis", "class-of-service", "event-options", "firewall", "forwarding-options", "groups",
        "interfaces", "policy-options", "protocols", "routing-instances", "routing-options", "security", "services",
        "snmp", "system", "vlans",
    ]

    init(device: DeviceContext) { self.device = device }

    private var running: JunosConfig { JunosConfig(text: device.store.running()) }

    private var candidate: JunosConfig {
        var config = running
        for change in pending {
            if change.delete { config.delete(change.words) } else { config.set(change.words) }
        }
        return config
    }

    /// Shows the committed host name: an uncommitted `set system host-name` does not rename.
    var prompt: String {
        "\(device.user)@\(running.hostname ?? device.name)" + (mode == .operational ? "> " : "# ")
    }

    var promptPreamble: String {
        mode == .configuration ? "\n[edit\(editPath.isEmpty ? "" : " " + editPath.joined(separator: " "))]\n" : ""
    }

    func execute(_ line: String) -> Reply {
        let tokens = Text.tokenize(line)
        guard !tokens.isEmpty else { return .empty }
        return mode == .operational ? operate(tokens) : edit(tokens)
    }

    // MARK: Errors

    private func syntaxError(tokens: [Token], match: CommandMatch<some Sendable>) -> Reply {
        // Junos echoes nothing but puts the caret under the column, after the prompt.
        let base = console.interactive ? prompt.count : 0
        let e = style.errors
        switch match {
        case .invalid(let at):
            let caret = String(repeating: " ", count: base + tokens[at].column) + "^\n"
            return .text(caret + (at == 0 ? e.unknownFirstWord ?? e.invalid : e.invalid) + "\n", failed: true)
        case .incomplete:
            let column = (tokens.last.map { $0.column + $0.text.count + 1 }) ?? 0
            return .text(String(repeating: " ", count: base + column) + "^\n" + e.incomplete + "\n", failed: true)
        case .ambiguous(let at, let candidates):
            let caret = String(repeating: " ", count: base + tokens[at].column) + "^\n"
            let list = candidates.sorted().map { "  " + $0 + "\n" }.joined()
            return .text(caret + e.ambiguous.replacing("{word}", with: tokens[at].text) + "\nPossible completions:\n" + list, failed: true)
        case .command:
            return .empty
        }
    }

    // MARK: Operational mode

    private func operate(_ tokens: [Token]) -> Reply {
        let (command, filters, filterError) = OutputFilter.split(tokens, style: style)
        if let (_, index) = filterError {
            let column = index < tokens.count ? tokens[index].column : 0
            return .text(String(repeating: " ", count: (console.interactive ? prompt.count : 0) + column) + "^\nsyntax error.\n", failed: true)
        }
        guard !command.isEmpty else { return .text("syntax error.\n", failed: true) }
        let match = operational.match(command, privileged: true)
        guard case .command(let action, let arguments) = match else {
            return syntaxError(tokens: command, match: match)
        }
        let now = WallClock.now()
        let snapshot = device.snapshot()
        var reply: Reply
        switch action {
        case .showVersion:
            reply = .text(Reports.version(style, snapshot, device.fingerprint, escapes: device.faults.escapeSequences))
        case .showConfiguration:
            reply = showConfiguration(running, path: arguments.map(\.text), filters: filters, now: now, committed: true)
        case .showInterfaces:
            if let name = arguments.first?.text {
                let base = name.split(separator: ".").first.map(String.init) ?? name
                guard let interface = snapshot.interface(named: base) else {
                    return .text("error: device \(name) not found\n", failed: true)
                }
                reply = .text(InterfaceReports.detail(style, snapshot, only: interface, f: device.fingerprint, now: now))
            } else {
                reply = .text(InterfaceReports.detail(style, snapshot, only: nil, f: device.fingerprint, now: now))
            }
        case .showInterfacesTerse:
            reply = .text(InterfaceReports.brief(style, snapshot))
        case .showRoute:
            let (text, ok) = RouteReports.table(style, snapshot, arguments: arguments.map(\.text))
            guard ok else { return syntaxError(tokens: command, match: CommandMatch<Int>.invalid(at: command.count - arguments.count)) }
            reply = .text(text)
        case .showSystemUptime:
            reply = .text(Reports.junosUptime(device.fingerprint, now, user: device.user))
        case .showChassisHardware:
            reply = .text(Reports.inventory(style, device.fingerprint))
        case .showCLI:
            reply = .text("""
                CLI complete-on-space set to \(console.completeOnSpace ? "on" : "off")
                CLI idle-timeout disabled
                CLI restart-on-upgrade set to on
                CLI screen-length set to \(console.screenLength)
                CLI screen-width set to \(console.screenWidth)
                CLI terminal is 'vt100'
                CLI is operating in enhanced mode
                CLI timestamp disabled
                CLI working directory is '/var/home/\(device.user)'

                """)
        case .screenLength:
            guard let n = Int(arguments[0].text), n == 0 || (24...100_000).contains(n) else {
                return .text("error: value is not within range (24..100000)\n", failed: true)
            }
            console.screenLength = n
            reply = .text("Screen length set to \(n)\n")
        case .screenWidth:
            guard let n = Int(arguments[0].text), n == 0 || (40...1024).contains(n) else {
                return .text("error: value is not within range (40..1024)\n", failed: true)
            }
            console.screenWidth = n
            reply = .text("Screen width set to \(n)\n")
        case .completeOnSpaceOn, .completeOnSpaceOff:
            console.completeOnSpace = action == .completeOnSpaceOn
            reply = .text(console.completeOnSpace ? "Enabling complete-on-space\n" : "Disabling complete-on-space\n")
        case .configure:
            mode = .configuration
            editPath = []
            pending = []
            reply = .text("Entering configuration mode\n")
        case .exit:
            return Reply(endsSession: true)
        case .ping:
            reply = ping(arguments[0].text, snapshot)
        case .requestSystemReboot:
            reply = .text("error: reboot is disabled on Switchboard lab devices\n", failed: true)
        }
        return filtered(reply, filters)
    }

    private func filtered(_ reply: Reply, _ filters: [OutputFilter]) -> Reply {
        guard !filters.isEmpty, !reply.failed else { return reply }
        var result = reply
        if filters.contains(where: { $0.kind == .noMore }) { result.paged = false }
        let textual = filters.filter { $0.kind != .noMore && $0.kind != .displaySet }
        guard !textual.isEmpty else { return result }
        var text = String(decoding: reply.body, as: UTF8.self)
        for filter in textual { text = filter.apply(text, style: style) }
        result.body = Array(text.utf8)
        return result
    }

    private func showConfiguration(_ config: JunosConfig, path: [String], filters: [OutputFilter], now: WallClock,
                                   committed: Bool) -> Reply {
        let statements = config.statements(under: path)
        if !path.isEmpty && statements.isEmpty { return .empty }
        if filters.contains(where: { $0.kind == .displaySet }) {
            let prefix = (["set"] + path).joined(separator: " ")
            return filtered(.text(statements.map { prefix + " " + $0.joined(separator: " ") + "\n" }.joined()), filters)
        }
        let body = JunosConfig.render(statements, topLevelBraced: path.isEmpty)
        let head = committed && path.isEmpty ? ConfigReports.junosHead(style, user: device.user, now: now) : ""
        if device.faults.hugeOutput && committed && path.isEmpty {
            return filtered(Reply(body: HugeOutput.render(head: head + body, tail: "", style: style, fingerprint: device.fingerprint)), filters)
        }
        return filtered(.text(head + body), filters)
    }

    private func ping(_ target: String, _ snapshot: DeviceSnapshot) -> Reply {
        guard let address = IPv4(target) else { return .text("ping: cannot resolve \(target): Unknown host\n", failed: true) }
        let reachable = snapshot.routes.contains { address.network($0.prefix.length) == $0.prefix.network }
        var text = "PING \(address) (\(address)): 56 data bytes\n"
        if reachable {
            for sequence in 0..<5 { text += "64 bytes from \(address): icmp_seq=\(sequence) ttl=64 time=0.\(512 + sequence * 41) ms\n" }
        }
        text += "\n--- \(address) ping statistics ---\n"
        text += reachable ? "5 packets transmitted, 5 packets received, 0% packet loss\nround-trip min/avg/max/stddev = 0.512/0.594/0.676/0.058 ms\n"
            : "5 packets transmitted, 0 packets received, 100% packet loss\n"
        return .text(text)
    }

    // MARK: Configuration mode

    private func edit(_ tokens: [Token]) -> Reply {
        // `show | compare`: the candidate's difference from the running configuration.
        if let bar = tokens.firstIndex(where: { $0.text == "|" }), bar + 1 < tokens.count,
           "compare".hasPrefix(tokens[bar + 1].text.lowercased()),
           case .command(.show, _) = configuration.match(Array(tokens[..<bar]), privileged: true) {
            return compare()
        }
        let (command, filters, filterError) = OutputFilter.split(tokens, style: style)
        if filterError != nil || command.isEmpty { return .text("syntax error.\n", failed: true) }
        let match = configuration.match(command, privileged: true)
        guard case .command(let action, let arguments) = match else {
            return syntaxError(tokens: command, match: match)
        }
        let words = arguments.map(\.text)
        switch action {
        case .set, .delete, .edit:
            let full = editPath + words
            guard let top = full.first, JunosShell.hierarchies.contains(top) else {
                let column = arguments.first?.column ?? 0
                return .text(String(repeating: " ", count: (console.interactive ? prompt.count : 0) + column) + "^\nsyntax error.\n", failed: true)
            }
            if action == .edit {
                editPath = full
                return .empty
            }
            if action == .set {
                guard full.count >= 2 else { return .text("error: missing mandatory statement\n", failed: true) }
                pending.append((false, full))
                return .empty
            }
            let existed = candidate.statements.contains { $0.starts(with: full) }
            pending.append((true, full))
            return existed ? .empty : .text("warning: statement not found\n")
        case .up:
            if editPath.isEmpty { return .text("Warning: already at the top of the configuration\n") }
            editPath.removeLast()
            return .empty
        case .top:
            editPath = []
            return .empty
        case .show:
            return filtered(showConfiguration(candidate, path: editPath + words, filters: filters, now: WallClock.now(), committed: false), filters)
        case .commit, .commitAndQuit:
            if let failure = commit() { return failure }
            if action == .commitAndQuit {
                leaveConfiguration()
                return .text("commit complete\nExiting configuration mode\n")
            }
            return .text("commit complete\n")
        case .commitCheck:
            return .text("configuration check succeeds\n")
        case .rollback:
            pending = []
            return .text("load complete\n")
        case .run:
            return operate(arguments)
        case .exit, .quit:
            if action == .exit && words.isEmpty && !editPath.isEmpty {
                editPath.removeLast()
                return .empty
            }
            if !pending.isEmpty && candidate != running {
                let answer = console.ask("The configuration has been changed but not committed\nExit with uncommitted changes? [yes,no] (yes) ")
                if let answer, ["no", "n"].contains(Text.trim(answer).lowercased()) { return .empty }
            }
            leaveConfiguration()
            return .text("Exiting configuration mode\n")
        case .status:
            return .text("Users currently editing the configuration:\n  \(device.user) terminal pts/0 (pid \(getpid())) on since \(WallClock.now().junosStamp)\n      [edit]\n")
        }
    }

    private func leaveConfiguration() {
        mode = .operational
        editPath = []
        pending = []
    }

    /// Replays the candidate changes onto the latest running configuration under the lock.
    private func commit() -> Reply? {
        let changes = pending
        do {
            try device.store.update { text in
                var config = JunosConfig(text: text)
                for change in changes {
                    if change.delete { config.delete(change.words) } else { config.set(change.words) }
                }
                text = config.text
            }
        } catch {
            return .text("error: commit failed: \(error)\n", failed: true)
        }
        pending = []
        return nil
    }

    private func compare() -> Reply {
        let before = running.statements, after = candidate.statements
        let removed = before.filter { !after.contains($0) }, added = after.filter { !before.contains($0) }
        guard !removed.isEmpty || !added.isEmpty else { return .empty }
        var text = "[edit]\n"
        for statement in removed { text += "- set " + statement.joined(separator: " ") + "\n" }
        for statement in added { text += "+ set " + statement.joined(separator: " ") + "\n" }
        return .text(text)
    }
}
