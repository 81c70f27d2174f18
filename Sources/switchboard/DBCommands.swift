import ArgumentParser
import Engine
import Foundation
import Store
import StorePostgres

struct DBCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db", abstract: "Database maintenance.", subcommands: [Info.self, Migrate.self])

    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the database: backend, server version (PostgreSQL), schema version, size and record counts.")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            var rows: [(String, String)]
            switch try global.databaseLocation() {
            case .sqlite(let path):
                rows = [("backend", "sqlite")] + (try AppDatabase(path: path).info())
            case .postgres(let url):
                let store = try PostgresStore(url: url)
                defer { store.connection.close() }
                for warning in store.connection.warnings { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
                rows = try store.info()
            }
            rows.append(("libssh2", EngineInfo.libssh2Version))
            if json {
                var o: [String: String] = [:]
                for (k, v) in rows { o[k] = v }
                print(String(decoding: try JSONEncoder.pretty.encode(o), as: UTF8.self))
            } else {
                let width = rows.map(\.0.count).max() ?? 0
                for (k, v) in rows { print(k.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + v) }
            }
        }
    }

    struct Migrate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy the whole database between SQLite and PostgreSQL, into an empty database.",
            discussion: """
                Copies every table (run history, logs, snapshots and session recordings included) in one \
                transaction on the target, parents first, then fixes up the id sequences. The target gets \
                this version's schema first and must hold no rows. At the end both sides are read back and \
                each table's row count and checksum compared; a mismatch exits 1. Secrets stay sealed: the \
                target needs this installation's key (SWITCHBOARD_KEY or the key file in $XDG_CONFIG_HOME/switchboard) to open them.
                """)
        @OptionGroup var global: GlobalOptions
        @Option(help: "The database to copy into: a postgres:// URL or a SQLite file.") var to: String
        @Option(help: "The database to copy from (default: the configured one: --db, SWITCHBOARD_DB, database.url).") var from: String?

        func run() throws {
            let target = try DatabaseLocation.parse(to, source: "--to")
            let source = try from.map { try DatabaseLocation.parse($0, source: "--from") } ?? global.databaseLocation()
            if source == target { throw CommandFailure.usage("--from and --to are the same database (\(source))") }
            print("copying \(source.backendName) \(source) → \(target.backendName) \(target)")
            let report = try StoreMigration.run(from: source, to: target)
            for warning in report.warnings { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
            let width = max(5, report.tables.map(\.table.count).max() ?? 0)
            print("TABLE".padding(toLength: width, withPad: " ", startingAt: 0) + "  " + "ROWS".leftPad(8) + "  CHECKSUM")
            for t in report.tables {
                let check = t.ok ? "ok \(t.target.sha256.prefix(16))"
                    : "MISMATCH source \(t.source.rows) rows \(t.source.sha256.prefix(16)), target \(t.target.rows) rows \(t.target.sha256.prefix(16))"
                print(t.table.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + String(t.target.rows).leftPad(8) + "  " + check)
            }
            let bad = report.tables.filter { !$0.ok }.map(\.table)
            if !bad.isEmpty {
                throw CommandFailure(message: "verification failed for \(bad.joined(separator: ", ")): the copy in \(target) differs from \(source)")
            }
            print("migrated \(report.tables.reduce(0) { $0 + $1.target.rows }) rows in \(report.tables.count) tables; counts and checksums match")
        }
    }
}

private extension String {
    func leftPad(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
