import ArgumentParser
import Engine
import Foundation
import Store

struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Configurations: snapshots backups stored and diffs between them, search, compare, and their git repository.",
        subcommands: [ConfigHistoryCommand.self, ConfigDiffCommand.self, ConfigSearchCommand.self, ConfigCompareCommand.self,
                      ConfigLogCommand.self, ConfigExportGitCommand.self])
}

struct ConfigHistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "List a device's configuration snapshots, newest first.",
        discussion: "A backup stores a snapshot only when the configuration changed (volatile lines left out, secrets masked).")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The device.")
    var device: String

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        let database = try global.openBackend(readonly: true)
        let snapshots = try database.query { store in try store.configSnapshots(device: device) }
        if json {
            let rows: [JSONValue] = snapshots.map { s in
                .object(["id": .int(Int(s.id ?? 0)), "created_at": .string(ISO8601DateFormatter().string(from: s.createdAt)),
                         "run": s.runId.map { .int(Int($0)) } ?? .null, "sha256": .string(s.sha256),
                         "lines": .int(LineDiff.lines(s.content).count), "bytes": .int(s.content.utf8.count)])
            }
            print(String(decoding: try JSONEncoder.pretty.encode(JSONValue.array(rows)), as: UTF8.self))
            return
        }
        if snapshots.isEmpty {
            print("no configuration snapshots for \(inert(device))")
            return
        }
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        formatter.locale = Locale(identifier: "en_US_POSIX")
        print("ID      TIME                 RUN     LINES    SHA256")
        for s in snapshots {
            let id = String(s.id ?? 0).padding(toLength: 7, withPad: " ", startingAt: 0)
            let run = (s.runId.map(String.init) ?? "-").padding(toLength: 7, withPad: " ", startingAt: 0)
            let lines = String(LineDiff.lines(s.content).count).padding(toLength: 8, withPad: " ", startingAt: 0)
            print("\(id) \(formatter.string(from: s.createdAt))  \(run) \(lines) \(s.sha256.prefix(16))")
        }
    }
}

struct ConfigDiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Unified diff between two configuration snapshots of a device.",
        discussion: """
            With no snapshot ids, compares the two latest; with one, that snapshot against the latest; \
            with two, A against B. Ids are those `switchboard config history DEVICE` lists. Prints nothing \
            when the two are equal.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The device.")
    var device: String

    @Argument(help: "The older snapshot id (default: the second latest).")
    var a: Int64?

    @Argument(help: "The newer snapshot id (default: the latest).")
    var b: Int64?

    func run() throws {
        let database = try global.openBackend(readonly: true)
        let (old, new) = try database.query { store -> (ConfigSnapshot, ConfigSnapshot) in
            let snapshots = try store.configSnapshots(device: device)
            func find(_ id: Int64) throws -> ConfigSnapshot {
                guard let s = snapshots.first(where: { $0.id == id }) else {
                    throw CommandFailure(message: "device \(device) has no configuration snapshot \(id) (see switchboard config history \(device))")
                }
                return s
            }
            switch (a, b) {
            case let (a?, b?): return (try find(a), try find(b))
            case let (a?, nil):
                guard let latest = snapshots.first else { throw CommandFailure(message: "device \(device) has no configuration snapshots") }
                return (try find(a), latest)
            default:
                guard snapshots.count >= 2 else {
                    throw CommandFailure(message: "device \(device) has \(snapshots.count) configuration snapshot\(snapshots.count == 1 ? "" : "s"); a diff needs two")
                }
                return (snapshots[1], snapshots[0])
            }
        }
        let text = ConfigHistory.diff(old, new)
        if !text.isEmpty { print(inert(text), terminator: text.hasSuffix("\n") ? "" : "\n") }
    }
}
