import ArgumentParser
import Engine
import Foundation
import Lab
import Store
import StorePostgres

/// Exit codes: 0 success, 1 failure, 2 usage error. ArgumentParser's own default for usage errors
/// is 64; engineers' scripts expect 2, as with most Unix tools.
@main
struct Main {
    static func main() async {
        StartTrace.mark("main")
        do {
            var command = try Switchboard.parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as StoreError {
            FileHandle.standardError.write(Data("error: \(error.message)\n".utf8))
            exit(1)
        } catch let error as LabError {
            FileHandle.standardError.write(Data("error: \(error.message)\n".utf8))
            exit(1)
        } catch let error as CommandFailure {
            FileHandle.standardError.write(Data("error: \(error.message)\n".utf8))
            exit(error.code)
        } catch let code as ExitCode {
            exit(code.rawValue)
        } catch {
            let code = Switchboard.exitCode(for: error)
            if code == .success {
                Switchboard.exit(withError: error)
            }
            let message = Switchboard.fullMessage(for: error)
            FileHandle.standardError.write(Data((message.hasSuffix("\n") ? message : message + "\n").utf8))
            exit(code == .validationFailure ? 2 : 1)
        }
    }
}

/// A failure with a message for the engineer and an exit code.
struct CommandFailure: Error {
    var message: String
    var code: Int32 = 1
    static func usage(_ m: String) -> CommandFailure { CommandFailure(message: m, code: 2) }
}

struct Switchboard: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchboard",
        abstract: "A terminal operations console for network engineers.",
        discussion: """
            With no subcommand, opens the console on the database (--db, SWITCHBOARD_DB, or \
            $XDG_DATA_HOME/switchboard/switchboard.db).
            """,
        version: "\(Switchboard.version) (libssh2 \(EngineInfo.libssh2Version))",
        subcommands: [ConsoleCommand.self, DemoCommand.self, ImportCommand.self, ExportCommand.self,
                      ListCommand.self, ShowCommand.self, DBCommand.self, SettingsCommand.self, LabCommand.self, ExecCommand.self, TrustCommand.self,
                      SSHCommand.self, SessionCommand.self,
                      EngineCommand.self, EnginesCommand.self, TaskCommand.self, RunCommand.self, RunsCommand.self, ResultsCommand.self, LogsCommand.self, StopCommand.self,
                      ConfigCommand.self, PlatformsCommand.self, DetectCommand.self, NotifyCommand.self, ParseCommand.self],
        defaultSubcommand: ConsoleCommand.self)

    /// What an engine registers as its version.
    static let version = "0.2.0"
}

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "The database: a SQLite file or a postgres:// URL (default: SWITCHBOARD_DB, else the setting database.url, else $XDG_DATA_HOME/switchboard/switchboard.db).")
    var db: String?

    @Option(name: .customLong("set"), help: ArgumentHelp("Override a setting for this command, e.g. --set automation.max_process=20.", valueName: "key=value"))
    var overrides: [String] = []

    var paths: Paths { Paths() }

    /// `--db`, else `SWITCHBOARD_DB`, else the setting `database.url`, else the SQLite file in
    /// $XDG_DATA_HOME. A bad value's error names where it came from.
    func databaseLocation() throws -> DatabaseLocation {
        if let db, !db.isEmpty { return try DatabaseLocation.parse(db, source: "--db") }
        if let env = paths.environment["SWITCHBOARD_DB"], !env.isEmpty { return try DatabaseLocation.parse(env, source: "SWITCHBOARD_DB") }
        let url = try SettingsLoader(paths: paths).load(overrides: overrides).database.url
        if !url.isEmpty { return try DatabaseLocation.parse(url, source: "the setting database.url") }
        return .sqlite(path: paths.databasePath())
    }

    /// The database through the backend-neutral API: SQLite (`AppDatabase`) or PostgreSQL
    /// (`PostgresBackend`, opened and migrated as `PostgresStore` does: a database written by a newer
    /// switchboard, or one that is not a switchboard database, is refused untouched). The password
    /// only ever comes from PGPASSWORD or the password file; errors name host, port, database, user.
    func openBackend(readonly: Bool = false) throws -> any StoreBackend {
        switch try databaseLocation() {
        case .sqlite(let path):
            return try AppDatabase(path: path, readonly: readonly)
        case .postgres(let url):
            let backend = try PostgresBackend(url: url, environment: paths.environment, home: paths.homeDirectory)
            // Which engines count as active (for `run`'s "is an engine serving this database").
            if let settings = try? SettingsLoader(paths: paths).load(overrides: overrides) {
                backend.engineThresholds = EngineThresholds(settings)
            }
            return backend
        }
    }

    func settings() throws -> Settings {
        let settings = try SettingsLoader(paths: paths).load(overrides: overrides)
        SecurityLog.configure(SecurityLog.Configuration(paths: paths, settings: settings))
        return settings
    }
}
