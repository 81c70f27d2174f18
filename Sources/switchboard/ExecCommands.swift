import ArgumentParser
import Engine
import Foundation
import Store

/// Device output is untrusted: outside an interactive session, control characters and escape
/// sequences are shown, never sent to the terminal (newlines and tabs pass).
func inert(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.utf8.count)
    for u in text.unicodeScalars {
        if u == "\n" || u == "\t" { out.unicodeScalars.append(u) }
        else if u == "\r" { continue }
        else if u.value < 0x20 || u.value == 0x7f || (0x80..<0xa0).contains(u.value) { out += String(format: "\\x%02x", u.value) }
        else { out.unicodeScalars.append(u) }
    }
    return out
}

struct ExecCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec",
        abstract: "Run a command on a device (or on many) over SSH and print the output.",
        discussion: """
            `switchboard exec par-core1 show version` runs one command on one device, through its jump \
            chain, with its credential (highest priority whose scope contains it, or --credential). With \
            --pool or --filter, every matching device runs the command, --concurrency at a time. The exit \
            status is 0 only when every device ran it successfully. Device output is printed inert: escape \
            sequences are shown, not interpreted.
            """)

    @OptionGroup var global: GlobalOptions

    @Option(help: "Run on every device of this pool instead of one device.")
    var pool: String?

    @Option(help: "Run on every device matching this filter expression instead of one device.")
    var filter: String?

    @Option(help: "A named credential instead of the one chosen by priority.")
    var credential: String?

    @Option(help: "exec (an SSH exec channel, no PTY) or cli (the platform's interactive CLI on a PTY, paging disabled). Default: the platform's natural mode (cli for network OSes, exec for linux); a device that refuses exec channels gets its shell.")
    var mode: String?

    @Option(help: "Devices at a time with --pool/--filter (default: settings automation.max_process).")
    var concurrency: Int?

    @Option(help: "Per-command timeout in seconds (default: settings ssh.command_timeout).")
    var timeout: Double?

    @Flag(help: "With --pool/--filter: print one JSON summary line instead of each device's output.")
    var summary = false

    @Argument(parsing: .captureForPassthrough, help: "DEVICE COMMAND... (or only COMMAND... with --pool/--filter).")
    var words: [String] = []

    func validate() throws {
        if let mode, !["exec", "cli"].contains(mode) { throw ValidationError("--mode must be exec or cli") }
        let many = pool != nil || filter != nil
        if many && words.isEmpty { throw ValidationError("give the command to run") }
        if !many && words.count < 2 { throw ValidationError("give a device and the command to run: switchboard exec DEVICE COMMAND...") }
        if let concurrency, concurrency < 1 { throw ValidationError("--concurrency must be at least 1") }
    }

    struct Outcome: Sendable {
        var device: String
        var ok: Bool
        var output: String
        var error: String?
        var seconds: Double
    }

    func run() async throws {
        let settings = try global.settings()
        let database = try global.openBackend()
        let secrets = try SecretBox.load(paths: global.paths)
        let many = pool != nil || filter != nil
        let command = (many ? words : Array(words.dropFirst())).joined(separator: " ")
        let names: [String]
        if many {
            names = try await database.query { store in
                if let pool { return try store.poolDeviceNames(named: pool) }
                let expression: FilterExpression
                do { expression = try FilterExpression.parse(filter ?? "") }
                catch let e as StoreError { throw CommandFailure.usage(e.message) }
                return try store.devices(filter: expression).map(\.name)
            }
            if names.isEmpty { throw CommandFailure(message: "no device matches") }
        } else {
            names = [words[0]]
        }
        let resolver = DeviceTargets(database: database, secrets: secrets, settings: settings)
        let targets: [(name: String, target: SSHTarget)]
        do { targets = try resolver.targets(devices: names, credential: credential) }
        catch let e as DeviceTargets.ResolveError { throw CommandFailure(message: e.message) }
        let transport = try SSHTransport(configuration: SSHTransportConfiguration(settings: settings, paths: global.paths))
        defer { transport.shutdown() }
        let platforms = try loadPlatforms(database, names)
        let perCommand = timeout.map { Duration.milliseconds(Int($0 * 1000)) }
        let limit = concurrency ?? settings.automation.maxProcess
        let forced = mode
        let start = Date()
        var outcomes: [Outcome] = []
        try await withThrowingTaskGroup(of: Outcome.self) { group in
            var next = 0
            func add() {
                let (name, target) = targets[next]
                let platform = platforms[name] ?? "autodetect"
                let natural = PlatformRegistry.current().resolve(platform)
                let cli = forced.map { $0 == "cli" } ?? (natural.autodetect || natural.definition.naturalMode == .cli)
                next += 1
                group.addTask {
                    await ExecCommand.runOne(transport, name, target, command, cli: cli, platform: platform, timeout: perCommand,
                                             enable: { try resolver.enableSecret(device: name, credential: credential) })
                }
            }
            while next < min(limit, targets.count) { add() }
            while let outcome = try await group.next() {
                outcomes.append(outcome)
                if !summary { print(ExecCommand.describe(outcome, many: many), terminator: "") }
                if next < targets.count { add() }
            }
        }
        let wall = Date().timeIntervalSince(start)
        let failed = outcomes.filter { !$0.ok }
        if summary {
            var reasons: [String: Int] = [:]
            for f in failed { reasons[f.error.map { String($0.prefix(80)) } ?? "command failed", default: 0] += 1 }
            let line: [String: JSONValue] = ["devices": .int(outcomes.count), "successes": .int(outcomes.count - failed.count),
                                             "failures": .object(reasons.mapValues { .int($0) }), "wall_s": .double((wall * 1000).rounded() / 1000),
                                             "concurrency": .int(limit)]
            print(String(decoding: try JSONEncoder.sorted.encode(line), as: UTF8.self))
        } else if many {
            FileHandle.standardError.write(Data("\(outcomes.count - failed.count)/\(outcomes.count) devices succeeded in \(String(format: "%.2f", wall)) s\n".utf8))
        }
        if !failed.isEmpty { throw ExitCode(1) }
    }

    /// Each device's platform name, as stored.
    func loadPlatforms(_ database: any StoreBackend, _ names: [String]) throws -> [String: String] {
        try database.query { store in
            try Dictionary(uniqueKeysWithValues: names.compactMap { n in try store.device(named: n).map { (n, $0.platform) } })
        }
    }

    static func warn(_ device: String, _ text: String) {
        FileHandle.standardError.write(Data("warning: \(device): \(inert(text))\n".utf8))
    }

    static func runOne(_ transport: SSHTransport, _ name: String, _ target: SSHTarget, _ command: String, cli: Bool,
                       platform: String, timeout: Duration?,
                       enable: @Sendable () throws -> (credential: String?, secret: String?)) async -> Outcome {
        let start = Date()
        do {
            let connection = try await transport.connect(target)
            do {
                var useShell = cli
                var outcome: Outcome?
                if !useShell {
                    do {
                        let result = try await connection.exec(command, timeout: timeout)
                        let ok = result.exitStatus == 0
                        outcome = Outcome(device: name, ok: ok, output: result.output + result.errorOutput,
                                          error: ok ? nil : "exit status \(result.exitStatus)", seconds: Date().timeIntervalSince(start))
                    } catch SSHError.channelRefused(_, _, let purpose, let message) where purpose.hasPrefix("exec") {
                        // Some network OSes take no exec requests: their shell is the only way in.
                        warn(name, "the device refuses exec channels (\(message)); using its shell")
                        useShell = true
                    }
                }
                if useShell {
                    let session = try await DeviceSessions.openCLI(on: connection, platform: platform, deviceName: name, timeout: timeout)
                    for warning in await session.takeWarnings() { warn(name, warning) }
                    do {
                        var text: String
                        do {
                            text = try await session.send(command, timeout: timeout)
                        } catch SSHError.commandRejected(let host, let port, let rejected, let message) {
                            // Refused in user mode (`show running-config` on IOS): privileged mode,
                            // then once more. Only then, so commands that work in user mode cost no
                            // enable round trips, as with Netmiko's send_command.
                            let refusedAgain = SSHError.commandRejected(host: host, port: port, command: rejected, message: message)
                            guard await session.mode == .user, await session.platform.enable != nil else { throw refusedAgain }
                            let (credentialName, secret) = try enable()
                            do { try await session.enable(secret: secret, timeout: timeout) } catch SSHError.commandRejected(_, _, _, let refusal) {
                                let who = credentialName.map { "credential '\($0)'" } ?? "no credential"
                                warn(name, "enable refused: \(refusal); \(who) \(secret == nil ? "has no enable secret" : "has an enable secret the device did not accept")")
                                throw refusedAgain
                            }
                            text = try await session.send(command, timeout: timeout)
                        }
                        outcome = Outcome(device: name, ok: true, output: text, error: nil, seconds: Date().timeIntervalSince(start))
                    } catch SSHError.commandRejected(_, _, _, let message) {
                        outcome = Outcome(device: name, ok: false, output: message + "\n", error: "the device rejected the command",
                                          seconds: Date().timeIntervalSince(start))
                    }
                    await session.detach()  // closed with the connection, just below
                }
                await connection.close()
                return outcome!
            } catch {
                await connection.close()
                throw error
            }
        } catch {
            return Outcome(device: name, ok: false, output: "", error: "\(error)", seconds: Date().timeIntervalSince(start))
        }
    }

    static func describe(_ o: Outcome, many: Bool) -> String {
        var text = ""
        if many { text += "== \(o.device) (\(o.ok ? "ok" : "failed"), \(String(format: "%.2f", o.seconds)) s)\n" }
        if !o.output.isEmpty { text += inert(o.output) + (o.output.hasSuffix("\n") ? "" : "\n") }
        if let e = o.error {
            FileHandle.standardError.write(Data("error: \(o.device): \(inert(e))\n".utf8))
        }
        return text
    }
}

struct TrustCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trust",
        abstract: "Show a device's SSH host key fingerprint and record it in switchboard's known_hosts.",
        discussion: "Each jump host on the way must already be trusted. A changed key is never replaced here: remove the old entry by hand after checking why it changed.")

    @OptionGroup var global: GlobalOptions

    @Flag(name: .shortAndLong, help: "Record without asking (asking happens only on a terminal).")
    var yes = false

    @Argument(help: "The device.")
    var device: String

    func run() async throws {
        let settings = try global.settings()
        let database = try global.openBackend()
        let resolver = DeviceTargets(database: database, secrets: try SecretBox.load(paths: global.paths), settings: settings)
        let target: SSHTarget
        do { target = try resolver.target(device: device) }
        catch let e as DeviceTargets.ResolveError { throw CommandFailure(message: e.message) }
        let transport = try SSHTransport(configuration: SSHTransportConfiguration(settings: settings, paths: global.paths))
        defer { transport.shutdown() }
        let key: SSHHostKey
        do { key = try await transport.fetchHostKey(target) }
        catch { throw CommandFailure(message: "\(error)") }
        let host = target.endpoint.host, port = target.endpoint.port
        let address = port == 22 ? host : "[\(host)]:\(port)"
        print("\(device) (\(address)) offers \(key.type.rawValue) key \(key.fingerprint)")
        switch transport.configuration.knownHosts.check(host: host, port: port, key: key) {
        case .known(let file):
            print("already trusted (\(file))")
            return
        case .changed(let file, let line):
            throw CommandFailure(message: "WARNING: this key differs from the one recorded for \(address) in \(file)\(line.map { " line \($0)" } ?? ""). Not recorded. Find out why it changed (a reinstalled device, or someone in the middle) before removing the old entry.")
        case .unknown:
            break
        }
        if !yes && isatty(0) != 0 {
            print("Record it in \(global.paths.knownHostsPath)? [y/N] ", terminator: "")
            fflush(nil)
            guard let answer = readLine(), ["y", "yes"].contains(answer.lowercased()) else {
                print("not recorded")
                throw ExitCode(1)
            }
        }
        try transport.trust(key, host: host, port: port)
        print("recorded in \(global.paths.knownHostsPath)")
    }
}
