#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Wires a login together: flags and environment -> identity -> platform shell -> session.
enum LabDeviceApp {
    static func run(arguments: [String]) -> Int32 {
        let options: LaunchOptions
        do {
            options = try LaunchOptions.parse(arguments)
        } catch {
            return fail(error)
        }
        if options.help {
            print(LaunchOptions.usage)
            return 0
        }
        // `switchboard lab status` only checks that the binary starts; do nothing else.
        if options.selfTest { return 0 }

        let environment = Environment.current
        let command = Text.trim(environment["SSH_ORIGINAL_COMMAND"] ?? "")
        // An interactive login on a PTY: the CLI, not the terminal driver, echoes what it reads.
        // Taken first thing: until then the driver echoes what the client sends ahead of the
        // banner and prompt.
        let input = Input()
        if command.isEmpty { input.takeTerminal() }
        defer { input.releaseTerminal() }

        let identity: Identity
        do {
            identity = try Identity.resolve(options, environment: environment)
        } catch {
            return fail(error)
        }

        // A vanished client must end the process via EPIPE handling in Output, not a signal.
        signal(SIGPIPE, SIG_IGN)
        if input.isTerminal {
            // Ctrl-C / Ctrl-\ / Ctrl-Z at a network CLI do not kill the session.
            signal(SIGINT, SIG_IGN)
            signal(SIGQUIT, SIG_IGN)
            signal(SIGTSTP, SIG_IGN)
        }

        let style = PlatformStyle.of(identity.platform)
        let fingerprint = Fingerprint(name: identity.device.name, site: identity.site)
        let store = StateStore(labDirectory: identity.labDirectory, device: identity.device.name,
                               factoryConfig: DefaultConfigs.text(for: style, name: identity.device.name, fingerprint: fingerprint))
        let output = Output(disconnectAfterBytes: identity.device.faults.disconnectAfterBytes)
        input.echo(to: output)
        input.controlDEndsInput = style.family == .linux
        let console = Console(input: input, output: output, interactive: command.isEmpty)
        let user = [environment["USER"], environment["LOGNAME"]].compactMap { $0 }.first { !$0.isEmpty } ?? "admin"
        let client = environment["SSH_CONNECTION"]?.split(separator: " ").first.map(String.init) ?? "console"
        let context = DeviceContext(identity: identity, style: style, fingerprint: fingerprint, store: store, user: user,
                                    enableSecret: environment["SWITCHBOARD_LAB_ENABLE"].flatMap { $0.isEmpty ? nil : $0 },
                                    clientAddress: client, console: console)
        let shell: DeviceShell
        switch style.family {
        case .industryStandard: shell = IndustryStandardShell(device: context)
        case .junos: shell = JunosShell(device: context)
        case .linux: shell = LinuxShell(device: context)
        }
        let session = Session(shell: shell, context: context,
                              ledger: Ledger.opened(labDirectory: identity.labDirectory, device: identity.device.name))
        let status = command.isEmpty ? session.runInteractive() : session.runExec(command)
        output.flush()
        return status
    }

    private static func fail(_ error: Error) -> Int32 {
        var message = "switchboard-device: \(error)\n"
        message.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
        return 1
    }
}

/// The process environment as a dictionary, read with getenv-free `environ` walking so no
/// Foundation type is needed on the startup path.
enum Environment {
    static var current: [String: String] {
        var result: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            pointer += 1
        }
        return result
    }
}
