import ArgumentParser
import Engine
import Foundation
import Store

/// `switchboard platforms`: every platform definition this process can use, shipped and the user's,
/// and the files that were refused (with file and key).
struct PlatformsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "platforms",
        abstract: "List the platform definitions (shipped, and the user's in $XDG_CONFIG_HOME/switchboard/platforms).",
        discussion: """
            A platform is a JSON file: prompts per mode, paging, enable and configuration mode, save and \
            backup commands, volatile lines, error patterns, aliases and how to detect it. A user's file \
            with the same name replaces the shipped one. A file with bad JSON or an invalid regular \
            expression is refused (named with its key) while the others load; exit status 1 then.
            """)

    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let registry = PlatformRegistry.load()
        let names = registry.definitions.keys.sorted()
        if json {
            var rows: [[String: JSONValue]] = []
            for name in names {
                let d = registry.definitions[name]!
                rows.append(["name": .string(name), "description": .string(d.description), "mode": .string(d.naturalMode.rawValue),
                             "enable": .bool(d.enable != nil), "config": .bool(d.configMode != nil),
                             "aliases": .array(d.aliases.map { .string($0) }),
                             "detect": d.detect.map { .string($0.command) } ?? .null,
                             "file": .string(registry.files[name] ?? "(built in)")])
            }
            let errors: [JSONValue] = registry.errors.map { .string($0.description) }
            let top: [String: JSONValue] = ["platforms": .array(rows.map { .object($0) }), "errors": .array(errors)]
            print(String(decoding: try JSONEncoder.sorted.encode(top), as: UTF8.self))
        } else {
            var table = [["NAME", "MODE", "ENABLE", "CONFIG", "DETECT", "ALIASES", "DESCRIPTION"]]
            for name in names {
                let d = registry.definitions[name]!
                table.append([name, d.naturalMode.rawValue, d.enable == nil ? "-" : "yes", d.configMode == nil ? "-" : "yes",
                              d.detect?.command ?? "-", d.aliases.prefix(4).joined(separator: ","), d.description])
            }
            let widths = (0..<table[0].count).map { c in table.map { $0[c].count }.max() ?? 0 }
            for row in table {
                print(row.enumerated().map { $1.padding(toLength: $0 == row.count - 1 ? $1.count : widths[$0], withPad: " ", startingAt: 0) }
                    .joined(separator: "  "))
            }
            for error in registry.errors {
                FileHandle.standardError.write(Data("error: platform refused: \(error)\n".utf8))
            }
        }
        if !registry.errors.isEmpty { throw ExitCode(1) }
    }
}

/// `switchboard detect`: logs in once to each device, finds the prompt, runs the detection commands
/// (Netmiko's SSHDetect way) and reports or saves the platform.
struct DetectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detect",
        abstract: "Recognise devices' platforms (log in, read the prompt and `show version`-style output).",
        discussion: """
            `switchboard detect par-core1` prints the platform found and why; `--save` stores it on the \
            device. With --pool or --filter, every matching device is detected, --concurrency at a time. \
            Exit status 0 only when every device was recognised.
            """)

    @OptionGroup var global: GlobalOptions
    @Option(help: "Every device of this pool.") var pool: String?
    @Option(help: "Every device matching this filter expression.") var filter: String?
    @Option(help: "A named credential instead of the one chosen by priority.") var credential: String?
    @Option(help: "Devices at a time (default: settings automation.max_process).") var concurrency: Int?
    @Flag(help: "Store the detected platform on each device.") var save = false
    @Flag(help: "Print JSON lines.") var json = false
    @Argument(help: "The device (without --pool/--filter).") var device: String?

    func validate() throws {
        let selectors = [pool != nil, filter != nil, device != nil].filter { $0 }.count
        if selectors != 1 { throw ValidationError("give one device, or --pool, or --filter") }
        if let concurrency, concurrency < 1 { throw ValidationError("--concurrency must be at least 1") }
    }

    struct Found: Sendable {
        var device: String
        var platform: String?
        var evidence: String
        var prompt: String
    }

    func run() async throws {
        let settings = try global.settings()
        let database = try global.openBackend()
        let secrets = try SecretBox.load(paths: global.paths)
        let names: [String] = try await database.query { store in
            if let pool { return try store.poolDeviceNames(named: pool) }
            if let filter {
                let expression: FilterExpression
                do { expression = try FilterExpression.parse(filter) } catch let e as StoreError { throw CommandFailure.usage(e.message) }
                return try store.devices(filter: expression).map(\.name)
            }
            return [device!]
        }
        if names.isEmpty { throw CommandFailure(message: "no device matches") }
        let resolver = DeviceTargets(database: database, secrets: secrets, settings: settings)
        let targets: [(name: String, target: SSHTarget)]
        do { targets = try resolver.targets(devices: names, credential: credential) }
        catch let e as DeviceTargets.ResolveError { throw CommandFailure(message: e.message) }
        let transport = try SSHTransport(configuration: SSHTransportConfiguration(settings: settings, paths: global.paths))
        defer { transport.shutdown() }
        let limit = concurrency ?? settings.automation.maxProcess
        var found: [Found] = []
        try await withThrowingTaskGroup(of: Found.self) { group in
            var next = 0
            func add() {
                let (name, target) = targets[next]
                next += 1
                group.addTask { await DetectCommand.detectOne(transport, name, target) }
            }
            while next < min(limit, targets.count) { add() }
            while let one = try await group.next() {
                found.append(one)
                report(one)
                if next < targets.count { add() }
            }
        }
        if save {
            let recognised = found.filter { $0.platform != nil }
            try await database.transaction { store in
                for one in recognised {
                    guard var device = try store.device(named: one.device) else { continue }
                    device.platform = one.platform!
                    try store.upsert(device: device)
                }
            }
            if !json { FileHandle.standardError.write(Data("saved the platform of \(recognised.count) device(s)\n".utf8)) }
        }
        if found.contains(where: { $0.platform == nil }) { throw ExitCode(1) }
    }

    func report(_ one: Found) {
        if json {
            let line: [String: JSONValue] = ["device": .string(one.device), "platform": one.platform.map { .string($0) } ?? .null,
                                             "evidence": .string(one.evidence), "prompt": .string(one.prompt)]
            if let data = try? JSONEncoder.sorted.encode(line) { print(String(decoding: data, as: UTF8.self)) }
        } else if let platform = one.platform {
            print("\(one.device)  \(platform)  (\(inert(one.evidence)); prompt \(inert(one.prompt)))")
        } else {
            FileHandle.standardError.write(Data("error: \(one.device): \(inert(one.evidence))\n".utf8))
        }
    }

    static func detectOne(_ transport: SSHTransport, _ name: String, _ target: SSHTarget) async -> Found {
        do {
            let connection = try await transport.connect(target)
            defer { Task { await connection.close() } }
            let registry = PlatformRegistry.current()
            let session = try await connection.openCLI(platform: registry.resolve(PlatformRegistry.autodetectName).definition,
                                                       disablePaging: false)
            let prompt = await session.prompt
            let result = try await session.detect(among: registry.detectable)
            await session.close()
            await connection.close()
            if let (platform, evidence) = result {
                return Found(device: name, platform: platform.name, evidence: evidence, prompt: prompt)
            }
            return Found(device: name, platform: nil, evidence: "no platform recognised the device's output", prompt: prompt)
        } catch {
            return Found(device: name, platform: nil, evidence: "\(error)", prompt: "")
        }
    }
}
