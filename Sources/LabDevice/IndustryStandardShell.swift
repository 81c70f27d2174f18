// The IOS-style CLI shared by Cisco IOS, Arista EOS and Cisco NX-OS: user level (`r1>`), enable
// (`r1#`), global configuration (`r1(config)#`) and sections (`r1(config-if)#`). The platforms
// differ in wording and layout (PlatformStyle, ConfigDialect, the report generators), not here.

final class IndustryStandardShell: DeviceShell {
    enum Level: Equatable {
        case user, privileged, config
        case section(header: String, prompt: String)
    }

    private(set) var level: Level
    private let device: DeviceContext
    private let tree: CommandTree<ExecAction>
    private let dialect: ConfigDialect
    private var style: PlatformStyle { device.style }
    private var console: Console { device.console }

    init(device: DeviceContext) {
        self.device = device
        tree = CommandTree(CommandTables.industryStandard(device.style.kind))
        dialect = ConfigDialect.of(device.style)
        // An exec channel gets the account's full privilege, as AAA-authorised automation
        // accounts do on real gear; interactive IOS and EOS logins start unprivileged and use
        // `enable`. NX-OS has no user level to speak of: logins land at `name#`.
        level = device.console.interactive && device.style.kind != .ciscoNXOS ? .user : .privileged
    }

    private var hostname: String {
        SectionedConfig(text: device.store.running(), style: style).hostname ?? device.name
    }

    var prompt: String {
        switch level {
        case .user: return hostname + ">"
        case .privileged: return hostname + "#"
        case .config: return hostname + "(config)#"
        case .section(_, let suffix): return hostname + "(\(suffix))#"
        }
    }

    var promptPreamble: String { "" }

    func execute(_ line: String) -> Reply {
        let tokens = Text.tokenize(line)
        guard !tokens.isEmpty else { return .empty }
        switch level {
        case .user, .privileged: return exec(tokens)
        case .config, .section: return configure(line, tokens)
        }
    }

    // MARK: Errors

    private enum Problem { case invalid, incomplete, ambiguous }

    /// Platform-worded error, with the `^` under the offending column where the platform does that.
    private func error(_ problem: Problem, column: Int, tokens: [Token]) -> Reply {
        let e = style.errors
        let input = tokens.map(\.text).joined(separator: " ")
        let (message, caret): (String, Bool)
        switch problem {
        case .invalid: (message, caret) = (e.invalid, e.invalidHasCaret)
        case .incomplete: (message, caret) = (e.incomplete, e.incompleteHasCaret)
        case .ambiguous: (message, caret) = (e.ambiguous.replacing("{input}", with: input), e.ambiguousHasCaret)
        }
        // The caret lines up under the echoed command, which follows the prompt on screen.
        let offset = (console.interactive ? prompt.count : 0) + column
        let caretLine = caret ? String(repeating: " ", count: offset) + "^\n" : ""
        return .text(caretLine + message + "\n", failed: true)
    }

    private func endColumn(_ tokens: [Token]) -> Int {
        guard let last = tokens.last else { return 0 }
        return last.column + last.text.count + 1
    }

    // MARK: Exec level

    private func exec(_ tokens: [Token]) -> Reply {
        let (command, filters, filterError) = OutputFilter.split(tokens, style: style)
        if let (problem, index) = filterError {
            switch problem {
            case .invalid(let at): return error(.invalid, column: tokens[at].column, tokens: tokens)
            case .ambiguous(let at, _): return error(.ambiguous, column: tokens[at].column, tokens: tokens)
            case .incomplete: return error(.incomplete, column: index < tokens.count ? tokens[index].column : endColumn(tokens), tokens: tokens)
            }
        }
        guard !command.isEmpty else { return error(.invalid, column: tokens[0].column, tokens: tokens) }
        switch tree.match(command, privileged: level != .user) {
        case .invalid(let at):
            // EOS says why, rather than pretending the command does not exist.
            if let message = style.errors.privilegedOnly, level == .user,
               case .command = tree.match(command, privileged: true) {
                return .text(message + "\n", failed: true)
            }
            return error(.invalid, column: command[at].column, tokens: command)
        case .incomplete:
            return error(.incomplete, column: endColumn(command), tokens: command)
        case .ambiguous(let at, _):
            return error(.ambiguous, column: command[at].column, tokens: command)
        case .command(let action, let arguments):
            var reply = perform(action, arguments, command)
            if !filters.isEmpty && !reply.failed {
                var text = String(decoding: reply.body, as: UTF8.self)
                for filter in filters { text = filter.apply(text, style: style) }
                reply.body = Array(text.utf8)
                if filters.contains(where: { $0.kind == .noMore }) { reply.paged = false }
            }
            return reply
        }
    }

    private func perform(_ action: ExecAction, _ arguments: [Token], _ command: [Token]) -> Reply {
        let now = WallClock.now()
        switch action {
        case .enable:
            return enable()
        case .disable:
            level = .user
            return .empty
        case .exit:
            return Reply(endsSession: true)
        case .configure:
            level = .config
            return .text(style.enterConfigMessage.map { $0 + "\n" } ?? "")
        case .terminalLength, .terminalPager:
            guard let n = Int(arguments[0].text), terminalRange.contains(n) else {
                return error(.invalid, column: arguments[0].column, tokens: command)
            }
            console.screenLength = n
            // EOS confirms (netmiko's arista driver waits for "Pagination disabled"); IOS and NX-OS say nothing.
            guard style.kind == .aristaEOS else { return .empty }
            return .text(n == 0 ? "Pagination disabled.\n" : "Pagination set to \(n) lines.\n")
        case .terminalWidth:
            guard let n = Int(arguments[0].text), terminalRange.contains(n) else {
                return error(.invalid, column: arguments[0].column, tokens: command)
            }
            console.screenWidth = n
            // EOS confirms (netmiko waits for "Width set to"); IOS and NX-OS say nothing.
            return style.kind == .aristaEOS ? .text("Width set to \(n) columns.\n") : .empty
        case .terminalNoOp:
            return .empty
        case .showVersion:
            return .text(Reports.version(style, device.snapshot(), device.fingerprint, escapes: device.faults.escapeSequences))
        case .showRunning:
            return showRunning(arguments, command, now: now)
        case .showStartup:
            return .text(ConfigReports.startup(style, body: device.store.startup()))
        case .showInterfaces:
            let snapshot = device.snapshot()
            guard !arguments.isEmpty else {
                return .text(InterfaceReports.detail(style, snapshot, only: nil, f: device.fingerprint, now: now))
            }
            guard let name = InterfaceNames.normalize(arguments.map(\.text).joined(), style: style),
                  let interface = snapshot.interface(named: name) else {
                return error(.invalid, column: arguments[0].column, tokens: command)
            }
            return .text(InterfaceReports.detail(style, snapshot, only: interface, f: device.fingerprint, now: now))
        case .showInterfacesDescription:
            return .text(InterfaceReports.descriptions(style, device.snapshot()))
        case .showIPInterfaceBrief:
            return .text(InterfaceReports.brief(style, device.snapshot()))
        case .showIPRoute:
            let (text, ok) = RouteReports.table(style, device.snapshot(), arguments: arguments.map(\.text))
            return ok ? .text(text) : error(.invalid, column: arguments[0].column, tokens: command)
        case .showClock:
            return .text(Reports.clock(style, now))
        case .showTerminal:
            var text = "Line 2, Location: \"\", Type: \"vt100\"\nLength: \(console.screenLength) lines, Width: \(console.screenWidth) columns\n"
            // The PTY's window as the SSH client last set it (interactive sessions resize it).
            if let window = terminalWindow() { text += "Window: \(window.rows) rows, \(window.columns) columns\n" }
            return .text(text)
        case .showInventory:
            return .text(Reports.inventory(style, device.fingerprint))
        case .showTechSupport:
            return showTechSupport(now: now)
        case .showHostname:
            let host = hostname
            return .text(style.kind == .aristaEOS ? "Hostname: \(host)\nFQDN:     \(host).lab.switchboard.test\n" : host + "\n")
        case .showUsers:
            let privilege = level == .user ? "" : "*"
            return .text("""
                    Line       User       Host(s)              Idle       Location
                \(Text.pad(privilege, 3))2 vty 0     \(Text.pad(device.user, 11))idle                 00:00:00 \(device.clientAddress)

                """)
        case .showPrivilege:
            return .text("Current privilege level is \(level == .user ? 1 : 15)\n")
        case .writeMemory, .copyRunningStartup:
            if action == .copyRunningStartup && style.kind == .ciscoIOS {
                _ = console.ask("Destination filename [startup-config]? ")
            }
            do {
                try device.store.saveStartup()
            } catch {
                return .text("% Error writing startup-config: \(error)\n", failed: true)
            }
            switch style.kind {
            case .aristaEOS: return .text("Copy completed successfully.\n")
            case .ciscoNXOS: return .text("[########################################] 100%\nCopy complete, now saving to disk (please wait)...\nCopy complete.\n")
            default: return .text("Building configuration...\n[OK]\n")
            }
        case .ping:
            return ping(arguments)
        case .reload:
            return .text("% Reload is disabled on Switchboard lab devices (use `switchboard lab down/up`).\n")
        }
    }

    /// `terminal length` / `terminal width` values: EOS takes up to 32767 (scrapli sends
    /// `term width 32767`), IOS and NX-OS up to 512.
    private var terminalRange: ClosedRange<Int> { style.kind == .aristaEOS ? 0...32767 : 0...512 }

    /// `enable`: any non-empty password, or exactly SWITCHBOARD_LAB_ENABLE when that is set.
    private func enable() -> Reply {
        guard level == .user else { return .empty }
        guard console.interactive else {
            level = .privileged
            return .empty
        }
        let password = console.ask("Password: ", secret: true) ?? ""
        let accepted = device.enableSecret.map { password == $0 } ?? !password.isEmpty
        guard accepted else { return .text(style.errors.accessDenied + "\n", failed: true) }
        level = .privileged
        return .empty
    }

    private func showRunning(_ arguments: [Token], _ command: [Token], now: WallClock) -> Reply {
        let body = device.store.running()
        if let first = arguments.first {
            // `show running-config interface Gi0/0`: just that section.
            if case .keyword = Abbreviation.resolve(first.text, among: ["interface", "interfaces"]) {
                guard arguments.count > 1,
                      let name = InterfaceNames.normalize(arguments.dropFirst().map(\.text).joined(), style: style) else {
                    return arguments.count > 1 ? error(.invalid, column: arguments[1].column, tokens: command)
                        : error(.incomplete, column: endColumn(command), tokens: command)
                }
                let config = SectionedConfig(text: body, style: style)
                guard let block = config.block("interface " + name) else {
                    return error(.invalid, column: arguments[1].column, tokens: command)
                }
                return .text(ConfigReports.runningSection(style, block: block, indent: style.configIndent, now: now))
            }
            guard case .keyword = Abbreviation.resolve(first.text, among: ["all", "full", "brief", "view"]) else {
                return error(.invalid, column: first.column, tokens: command)
            }
        }
        let parts = ConfigReports.running(style, body: body, user: device.user, now: now, hostname: hostname)
        if device.faults.hugeOutput {
            return Reply(body: HugeOutput.render(head: parts.head, tail: parts.tail, style: style, fingerprint: device.fingerprint))
        }
        return .text(parts.head + parts.tail)
    }

    private func showTechSupport(now: WallClock) -> Reply {
        let snapshot = device.snapshot()
        func section(_ title: String, _ text: String) -> String {
            "\n------------------ \(title) ------------------\n\n" + text
        }
        let running = ConfigReports.running(style, body: device.store.running(), user: device.user, now: now, hostname: hostname)
        let head = section("show version", Reports.version(style, snapshot, device.fingerprint, escapes: false))
            + section("show interfaces", InterfaceReports.detail(style, snapshot, only: nil, f: device.fingerprint, now: now))
            + section("show ip route", RouteReports.table(style, snapshot, arguments: []).text)
            + section("show inventory", Reports.inventory(style, device.fingerprint))
            + section("show running-config", running.head)
        if device.faults.hugeOutput {
            return Reply(body: HugeOutput.render(head: head, tail: running.tail, style: style, fingerprint: device.fingerprint))
        }
        return .text(head + running.tail)
    }

    private func ping(_ arguments: [Token]) -> Reply {
        guard let target = IPv4(arguments[0].text) else {
            return .text("% Unrecognized host or address, or protocol not running.\n\n", failed: true)
        }
        let reachable = device.snapshot().routes.contains { target.network($0.prefix.length) == $0.prefix.network }
        if style.kind == .ciscoIOS {
            return .text("""
                Type escape sequence to abort.
                Sending 5, 100-byte ICMP Echos to \(target), timeout is 2 seconds:
                \(reachable ? "!!!!!" : ".....")
                Success rate is \(reachable ? "100 percent (5/5), round-trip min/avg/max = 1/2/4 ms" : "0 percent (0/5)")

                """)
        }
        var text = "PING \(target) (\(target)) 72(100) bytes of data.\n"
        if reachable {
            for sequence in 1...5 { text += "80 bytes from \(target): icmp_seq=\(sequence) ttl=64 time=0.\(400 + sequence * 37) ms\n" }
        }
        text += "\n--- \(target) ping statistics ---\n"
        text += reachable ? "5 packets transmitted, 5 received, 0% packet loss, time 4ms\nrtt min/avg/max/mdev = 0.437/0.511/0.585/0.052 ms\n"
            : "5 packets transmitted, 0 received, 100% packet loss, time 4005ms\n"
        return .text(text)
    }

    // MARK: Configuration mode

    private enum Scope: Equatable { case global, section(String) }

    private func configure(_ line: String, _ tokens: [Token]) -> Reply {
        let inSection: String? = if case .section(let header, _) = level { header } else { nil }
        let navigation = ["end", "exit", "do"] + (style.showAllowedInConfig ? ["show"] : [])

        // Decide the scope: a global command typed inside a section leaves the section, as on IOS.
        var scope: Scope = inSection.map { .section($0) } ?? .global
        var first: String
        let local = inSection == nil ? dialect.globalKeywords : dialect.sectionKeywords
        switch Abbreviation.resolve(tokens[0].text, among: local + navigation) {
        case .keyword(let word):
            first = word
        case .ambiguous(let candidates):
            // The section vocabulary is the union of all sub-modes, so `ex` would clash with
            // `exec-timeout` although it means `exit` in an interface; mode navigation wins.
            let preferred = candidates.filter { navigation.contains($0) }
            guard preferred.count == 1, tokens[0].text.count >= 2 else {
                return error(.ambiguous, column: tokens[0].column, tokens: tokens)
            }
            first = preferred[0]
        case .unknown:
            guard inSection != nil, case .keyword(let word) = Abbreviation.resolve(tokens[0].text, among: dialect.globalKeywords) else {
                return error(.invalid, column: tokens[0].column, tokens: tokens)
            }
            first = word
            scope = .global
        }

        switch first {
        case "end":
            level = .privileged
            return .empty
        case "exit":
            level = inSection == nil ? .privileged : .config
            return .empty
        case "do", "show":
            let rest = first == "do" ? Array(tokens.dropFirst()) : tokens
            guard !rest.isEmpty else { return error(.incomplete, column: endColumn(tokens), tokens: tokens) }
            let saved = level
            level = .privileged
            defer { if level == .privileged { level = saved } }
            return exec(rest)
        default:
            break
        }

        // Expand the abbreviated leading words: `int gi0/1`, `ip add 10.0.0.1 255.0.0.0`, `no shut`.
        var words = [first]
        var next = 1
        let negated = first == "no"
        if negated {
            guard tokens.count > 1 else { return error(.incomplete, column: endColumn(tokens), tokens: tokens) }
            let vocabulary = scope == .global ? dialect.globalKeywords : dialect.sectionKeywords
            switch Abbreviation.resolve(tokens[1].text, among: vocabulary) {
            case .keyword(let word): words.append(word)
            case .ambiguous: return error(.ambiguous, column: tokens[1].column, tokens: tokens)
            case .unknown:
                guard scope != .global, case .keyword(let word) = Abbreviation.resolve(tokens[1].text, among: dialect.globalKeywords) else {
                    return error(.invalid, column: tokens[1].column, tokens: tokens)
                }
                words.append(word)
                scope = .global
            }
            next = 2
        }
        let verb = words.last!
        if next < tokens.count {
            let subwordsHere = (scope == .global ? dialect.globalSubwords : dialect.sectionSubwords)[verb]
            let subwordsGlobal = dialect.globalSubwords[verb]
            if let vocabulary = subwordsHere ?? (scope == .global ? nil : subwordsGlobal) {
                switch Abbreviation.resolve(tokens[next].text, among: vocabulary) {
                case .keyword(let word):
                    words.append(word)
                case .ambiguous:
                    return error(.ambiguous, column: tokens[next].column, tokens: tokens)
                case .unknown:
                    // `ip route ...` typed under an interface is a global command.
                    if scope != .global, let global = subwordsGlobal, case .keyword(let word) = Abbreviation.resolve(tokens[next].text, among: global) {
                        words.append(word)
                        scope = .global
                    } else {
                        return error(.invalid, column: tokens[next].column, tokens: tokens)
                    }
                }
                next += 1
            }
        }
        if scope == .global, inSection != nil { level = .config }  // left the section

        let rest = next < tokens.count ? String(line.dropFirst(tokens[next].column)) : ""
        let expanded = Text.trim((words + [rest]).joined(separator: " "))
        let bare = negated ? Text.trim(words.dropFirst().joined(separator: " ") + " " + rest) : expanded

        // Section openers.
        if scope == .global, let opener = dialect.sections.first(where: { SectionedConfig.hasPrefix(Text.words(bare), $0.words) }) {
            var header = bare
            if opener.words == ["interface"] {
                let nameTokens = Array(tokens.dropFirst(negated ? 2 : 1))
                guard !nameTokens.isEmpty else { return error(.incomplete, column: endColumn(tokens), tokens: tokens) }
                guard let name = InterfaceNames.normalize(nameTokens.map(\.text).joined(), style: style) else {
                    return error(.invalid, column: nameTokens[0].column, tokens: tokens)
                }
                header = "interface " + name
                if negated && style.physicalPorts.contains(name) {
                    return .text("% Removal of physical interfaces is not permitted\n", failed: true)
                }
            } else if opener.takesName && Text.words(bare).count <= opener.words.count {
                return error(.incomplete, column: endColumn(tokens), tokens: tokens)
            }
            if negated { return persist { _ = $0.removeSection(header) } }
            let reply = persist { $0.ensureSection(header) }
            if !reply.failed { level = .section(header: header, prompt: opener.prompt) }
            return reply
        }

        let flags: Set<String> = ["shutdown", "switchport", "redundancy", "control-plane", "login", "auto-summary",
                                  "exit-address-family", "negotiation"]
        if !negated && Text.words(expanded).count == 1 && !flags.contains(expanded) {
            return error(.incomplete, column: endColumn(tokens), tokens: tokens)
        }

        switch (scope, negated) {
        case (.global, false):
            return persist { $0.setGlobal(expanded, singleValued: self.dialect.singleValuedGlobal) }
        case (.global, true):
            return persist { $0.removeGlobal(bare, singleValued: self.dialect.singleValuedGlobal,
                                             retained: self.dialect.retainedGlobalNegations) }
        case (.section(let header), false):
            return persist { $0.setInSection(header, expanded, singleValued: self.dialect.singleValuedSection) }
        case (.section(let header), true):
            return persist {
                $0.removeInSection(header, bare, singleValued: self.dialect.singleValuedSection,
                                   retained: self.dialect.retainedSectionNegations, storesNoShutdown: self.style.storesNoShutdown)
            }
        }
    }

    /// Applies one change to the shared running configuration, under the device's lock.
    private func persist(_ change: @escaping (inout SectionedConfig) -> Void) -> Reply {
        let style = self.style
        do {
            try device.store.update { text in
                var config = SectionedConfig(text: text, style: style)
                change(&config)
                text = config.text
            }
            return .empty
        } catch {
            return .text("% Configuration could not be saved: \(error)\n", failed: true)
        }
    }
}

/// Interface name expansion: `gi0/1`, `Gig 0/1`, `e1`, `lo0` -> the platform's full name.
enum InterfaceNames {
    static func normalize(_ text: String, style: PlatformStyle) -> String? {
        let compact = String(text.filter { $0 != " " })
        guard let digit = compact.firstIndex(where: { $0.isNumber }) else { return nil }
        let typed = compact[..<digit].lowercased()
        let suffix = compact[digit...]
        guard !typed.isEmpty else { return nil }
        guard let type = style.interfaceTypes.first(where: { $0.lowercased().hasPrefix(typed) }) else { return nil }
        return type + suffix
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The window size of the terminal on standard input, nil without one.
func terminalWindow() -> (rows: Int, columns: Int)? {
    var size = winsize()
    guard isatty(STDIN_FILENO) == 1, ioctl(STDIN_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return nil }
    return (Int(size.ws_row), Int(size.ws_col))
}
