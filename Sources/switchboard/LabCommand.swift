import ArgumentParser
import Foundation
import Lab
import Store

struct LabCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lab",
        abstract: "A lab of simulated devices behind real OpenSSH sshd on 127.0.0.1.",
        discussion: """
            The lab's devices are the example network's (same names and ports, so `switchboard demo` \
            talks to them), more for benchmarks (--devices), and one device per fault mode. `lab up` \
            writes them, the lab's credentials and the jump chain into the database and their host keys \
            into switchboard's known_hosts.
            """,
        subcommands: [Up.self, Down.self, Status.self, Relay.self])

    struct LabOptions: ParsableArguments {
        @Option(help: "The lab directory (default: $XDG_DATA_HOME/switchboard/lab).")
        var dir: String?
    }

    struct Up: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Start the lab.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var lab: LabOptions
        @Option(help: "How many devices (at least the 20 of the example network; fault devices come on top).")
        var devices = 20
        @Option(help: "Latency added each way through a delaying relay, e.g. 25ms.")
        var latency: String?
        @Option(help: "The first device port; fault devices sit 100 below.")
        var basePort = 2201
        @Option(help: ArgumentHelp("Algorithms the lab's sshd offers: standard (OpenSSH's defaults) or p256 (NIST P-256 key exchange, host keys and lab key only; cheaper for sshd, used by the benchmarks).", valueName: "standard|p256"))
        var crypto = "standard"

        func run() throws {
            let latencyMs = try latency.map(LabCommand.parseMilliseconds) ?? 0
            guard let crypto = LabCrypto(rawValue: crypto) else { throw CommandFailure.usage("--crypto: '\(crypto)' is not standard or p256") }
            let status = try LabCommand.start(global: global, dir: lab.dir, devices: devices, latencyMs: latencyMs, basePort: basePort, crypto: crypto)
            LabCommand.describe(status)
        }
    }

    struct Down: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop every process the lab started, by pid.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var lab: LabOptions

        func run() throws {
            let manager = LabManager(directory: lab.dir ?? global.paths.labDirectory)
            try manager.down()
            try LabInventory.unregisterKnownHosts(from: global.paths.knownHostsPath)
            print("lab stopped")
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Is the lab up, and what does it serve.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var lab: LabOptions
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let manager = LabManager(directory: lab.dir ?? global.paths.labDirectory)
            guard let status = manager.status() else {
                print("lab is down")
                throw ExitCode(1)
            }
            let alive = manager.alivePids(status)
            if json {
                let encoder = JSONEncoder.pretty
                print(String(decoding: try encoder.encode(status), as: UTF8.self))
            } else {
                LabCommand.describe(status)
                print("processes: \(alive.count) of \(status.pids.count) alive")
            }
            if alive.count != status.pids.count { throw ExitCode(1) }
        }
    }

    struct Relay: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run the latency relay (started by `lab up --latency`).", shouldDisplay: false)
        @Argument var config: String

        func run() throws {
            let data = try Data(contentsOf: URL(fileURLWithPath: config))
            let relay = LatencyRelay(config: try JSONDecoder().decode(LatencyRelay.Config.self, from: data))
            try relay.run()
        }
    }

    static func start(global: GlobalOptions, dir: String?, devices: Int, latencyMs: Int, basePort: Int, crypto: LabCrypto = .standard) throws -> LabStatus {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let manager = LabManager(directory: dir ?? global.paths.labDirectory, relayBinary: exe)
        let status: LabStatus
        do { status = try manager.up(devices: devices, latencyMs: latencyMs, basePort: basePort, crypto: crypto) }
        catch let e as LabError { throw CommandFailure(message: e.message) }
        let database = try global.openBackend()
        try LabInventory.register(status, database: database, secrets: try SecretBox.load(paths: global.paths))
        try LabInventory.registerKnownHosts(status, into: global.paths.knownHostsPath)
        return status
    }

    static func parseMilliseconds(_ text: String) throws -> Int {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        if t.hasSuffix("ms"), let v = Double(t.dropLast(2)) { return Int(v) }
        if t.hasSuffix("s"), let v = Double(t.dropLast()) { return Int(v * 1000) }
        if let v = Int(t) { return v }
        throw CommandFailure.usage("--latency: '\(text)' is not a duration such as 25ms or 0.1s")
    }

    static func describe(_ s: LabStatus) {
        let faults = s.devices.filter(\.isFault)
        let normal = s.devices.filter { !$0.isFault && $0.name != s.keyboardInteractiveDevice }
        let ports = normal.filter { $0.address == "127.0.0.1" }.map(\.port)
        print("lab up in \(s.directory): \(normal.count) devices on 127.0.0.1 ports \(ports.min() ?? 0)-\(ports.max() ?? 0), \(faults.count) fault devices (\(faults.map(\.name).joined(separator: ", ")))")
        print("login: \(s.username), key \(s.userKeyPath)" + (s.password != nil ? ", password set" : ""))
        if let kbd = s.keyboardInteractiveDevice { print("keyboard-interactive authentication (PAM): \(kbd)") }
        if s.latencyMs > 0 { print("latency: \(s.latencyMs) ms each way through a relay") }
        if s.crypto == .p256 { print("algorithms: NIST P-256 only (ecdh-sha2-nistp256, ecdsa-sha2-nistp256, ECDSA lab key)") }
        if s.isolatedJump {
            print("jump host: \(LabTopology.jumpHost); \(LabTopology.behindJump) is reachable only through it (network namespaces)")
        } else {
            print("jump host: \(LabTopology.jumpHost); running unprivileged, so \(LabTopology.behindJump) is reachable directly too (isolation needs root for network namespaces), and only key authentication works (sshd cannot check passwords without root)")
        }
    }
}
