import ArgumentParser
import Foundation
import Console
import Engine
import Lab
import Store

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import inventory and automation (one transaction: a bad file imports nothing).",
        discussion: """
            Formats: enms (an eNMS migration folder), csv (devices or links), json (switchboard's export or \
            a list of devices), yaml / ansible (Ansible inventories, YAML or INI), ssh-config (OpenSSH client \
            config). Detected from the file when --format is not given. Re-importing is idempotent.
            """)

    @OptionGroup var global: GlobalOptions

    @Option(help: "enms, csv, json, yaml, ansible or ssh-config (default: detected).")
    var format: String?

    @Argument(help: "Files or eNMS migration folders.")
    var paths: [String]

    func validate() throws {
        if let format, Importer.Format(rawValue: format) == nil {
            throw ValidationError("--format must be one of \(Importer.Format.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if paths.isEmpty { throw ValidationError("give at least one file or folder to import") }
    }

    func run() throws {
        _ = try global.settings()
        let doc = try Importer.read(paths: paths, format: format.flatMap(Importer.Format.init(rawValue:)))
        let database = try global.openBackend()
        let report = try database.importInventory(doc, secrets: try SecretBox.load(paths: global.paths))
        for line in report.warningLines() {
            FileHandle.standardError.write(Data("warning: \(line)\n".utf8))
        }
        print("imported \(paths.joined(separator: ", ")): \(report.summary)")
    }
}

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export inventory and automation to files that import back to the same content.",
        discussion: "Secrets stay encrypted under this database's key unless --reveal-secrets is given.")

    @OptionGroup var global: GlobalOptions

    @Option(help: "enms, json or csv.")
    var format: String = "json"

    @Flag(help: "Write secrets in clear text (eNMS: base64) instead of sealed.")
    var revealSecrets = false

    @Argument(help: "The folder to write into (created when missing).")
    var directory: String

    func validate() throws {
        if Exporter.Format(rawValue: format) == nil {
            throw ValidationError("--format must be one of \(Exporter.Format.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() throws {
        let database = try global.openBackend(readonly: true)
        let files = try database.exportInventory(format: Exporter.Format(rawValue: format)!, to: directory,
                                                 secrets: try SecretBox.load(paths: global.paths), revealSecrets: revealSecrets)
        for f in files { print(f) }
    }
}

struct SettingsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "settings", abstract: "Check the settings files and list every key.",
        subcommands: [Check.self, Keys.self], defaultSubcommand: Check.self)

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Load and validate settings (shipped < user file < environment < --set).")
        @OptionGroup var global: GlobalOptions
        func run() throws {
            _ = try global.settings()
            print("settings are valid")
        }
    }

    struct Keys: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List every settings key with its type and default.")
        func run() throws { print(Settings.describeKeys()) }
    }
}

struct ConsoleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console", abstract: "Open the full-screen console (the default command).")

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Disable every action that changes anything.")
    var readonly = false

    func run() throws {
        try ConsoleCommand.open(global: global, readonly: readonly)
    }

    static func open(global: GlobalOptions, readonly: Bool) throws {
        StartTrace.mark("console-command")
        let settings = try global.settings()
        let properties = try DevicePropertiesLoader(paths: global.paths).load()
        StartTrace.mark("settings-loaded")
        let database = try global.openBackend()
        StartTrace.mark("backend-open")
        let status: Int32
        let sessions = EngineSessionOpener(database: database, settings: settings, paths: global.paths)
        defer { sessions.shutdown() }
        do {
            status = try ConsoleApp.run(database: database, settings: settings, properties: properties,
                                        readonly: readonly, themeDirectory: nil, sessions: sessions,
                                        tasks: EngineTaskActivation())
        } catch let e as ConsoleError {
            throw CommandFailure(message: "\(e.message) (the console needs a terminal; `switchboard list`, `show` and `--help` work without one)")
        }
        // Ctrl-C is how many engineers leave full-screen tools: a normal exit, not a failure.
        if status != 0 && status != 130 { throw ExitCode(status) }
    }
}

struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Load the example network into the database, then open the console.",
        discussion: "The example inventory lives in setup/examples. Loading it twice changes nothing.")

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Only load the examples; do not open the console.")
    var noConsole = false

    @Flag(help: "Do not start the device lab the example devices live in.")
    var noLab = false

    @Option(help: "The lab's first port: the example devices answer on it and the 19 after it (fault devices 100 below).")
    var basePort: Int = 2201

    func run() throws {
        guard let file = SettingsLoader.locateSetupFile("examples/switchboard.json", environment: global.paths.environment) else {
            throw CommandFailure(message: "cannot find setup/examples/switchboard.json (set SWITCHBOARD_SETUP_DIR to the setup folder)")
        }
        _ = try global.settings()
        let doc = try Importer.read(paths: [file], format: .json)
        let database = try global.openBackend()
        let report = try database.importInventory(doc, secrets: try SecretBox.load(paths: global.paths))
        print("example network loaded into \(database.location): \(report.summary)")
        if !noLab {
            // The example devices are the lab's: bring it up so they answer.
            let manager = LabManager(directory: global.paths.labDirectory)
            if let status = manager.status(), manager.alivePids(status).count == status.pids.count {
                try LabInventory.register(status, database: database, secrets: try SecretBox.load(paths: global.paths))
                print("lab already up in \(status.directory)")
            } else {
                do {
                    let status = try LabCommand.start(global: global, dir: nil, devices: 20, latencyMs: 0, basePort: basePort)
                    LabCommand.describe(status)
                } catch {
                    FileHandle.standardError.write(Data("warning: the lab did not start, so the example devices will not answer: \(error)\n".utf8))
                }
            }
        }
        if !noConsole {
            try ConsoleCommand.open(global: global, readonly: false)
        }
    }
}
