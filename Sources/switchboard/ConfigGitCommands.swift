import ArgumentParser
import Engine
import Foundation
import Store

/// `switchboard config search REGEX`: the latest configuration of every device, with context lines.
struct ConfigSearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Search the latest configuration of every device with a regular expression.",
        discussion: """
            Prints `device:LINE:text` for matching lines and `device-LINE-text` for context lines, groups \
            separated by `--` (as grep -C). POSIX extended syntax with GNU's \\w \\s \\b, plus \\d and a leading \
            (?i); a pattern that does not compile is a usage error (exit 2).
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The regular expression.")
    var regex: String

    @Option(name: [.customShort("C"), .long], help: "Lines of context around each match.")
    var context = 0

    @Option(help: "Only devices matching this filter expression.")
    var filter: String?

    @Flag(name: [.customShort("i"), .long], help: "Ignore case.")
    var ignoreCase = false

    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        if context < 0 || context > 1000 { throw ValidationError("--context must be in 0...1000") }
    }

    func run() throws {
        let pattern: ConfigSearch.Pattern
        do { pattern = try ConfigSearch.Pattern(regex, ignoreCase: ignoreCase) } catch let e as ConfigSearch.RegexError {
            throw CommandFailure.usage(e.description)
        }
        let expression: FilterExpression?
        do { expression = try filter.map(FilterExpression.parse) } catch { throw CommandFailure.usage("--filter: \(error)") }
        let database = try global.openBackend(readonly: true)
        let result = try database.query { store -> ConfigSearch.Result in
            var ids: Set<Int64>?
            if let expression {
                let known = try store.devicePropertyNames()
                do { ids = Set(try store.devices(filter: expression, knownProperties: known).compactMap(\.id)) }
                catch let e as StoreError where e.kind == .invalid { throw CommandFailure.usage(e.message) }
            }
            return try store.searchConfigurations(pattern: pattern, context: context, devices: ids)
        }
        if json {
            let groups: [JSONValue] = result.groups.map { g in
                .object(["device": .string(g.device),
                         "lines": .array(g.lines.map { .object(["line": .int($0.number), "text": .string($0.text), "match": .bool($0.isMatch)]) })])
            }
            let o: JSONValue = .object(["pattern": .string(regex), "devices_searched": .int(result.devicesSearched),
                                        "devices_matched": .int(result.devicesMatched), "matches": .int(result.matches),
                                        "groups": .array(groups)])
            print(String(decoding: try JSONEncoder.pretty.encode(o), as: UTF8.self))
            return
        }
        var out = ""
        for (i, g) in result.groups.enumerated() {
            if i > 0 && context > 0 { out += "--\n" }
            for l in g.lines { out += "\(g.device)\(l.isMatch ? ":" : "-")\(l.number)\(l.isMatch ? ":" : "-")\(l.text)\n" }
        }
        FileHandle.standardOutput.write(Data(inert(out).utf8))
        FileHandle.standardError.write(Data("\(result.matches) matching line\(result.matches == 1 ? "" : "s") in \(result.devicesMatched) of \(result.devicesSearched) device configurations\n".utf8))
    }
}

/// `switchboard config compare A B` / `config compare A --golden FILE`.
struct ConfigCompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Diff two devices' latest configurations, or a device's against a golden template.",
        discussion: """
            The golden file is a template: {{device.FIELD}} (name, address, any field or custom property) is \
            replaced with the device's value first. Prints a unified diff (nothing when equal).
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The device (the old side of the diff with a second device).")
    var device: String

    @Argument(help: "The other device.")
    var other: String?

    @Option(help: "A template file to compare the device with.")
    var golden: String?

    @Option(help: "Lines of context.")
    var context = 3

    func validate() throws {
        if (other == nil) == (golden == nil) { throw ValidationError("give a second device or --golden FILE, not both") }
    }

    func run() throws {
        let database = try global.openBackend(readonly: true)
        func latest(_ store: any StoreReader, _ name: String) throws -> (Device, ConfigSnapshot) {
            guard let d = try store.device(named: name), let id = d.id else { throw StoreError.notFound("no device named '\(name)'") }
            guard let s = try store.latestConfigSnapshot(deviceId: id) else {
                throw CommandFailure(message: "device \(name) has no configuration snapshot (run a backup first)")
            }
            return (d, s)
        }
        let text: String
        if let other {
            let ((_, a), (_, b)) = try database.query { store in (try latest(store, device), try latest(store, other)) }
            text = LineDiff.unified(a.content, b.content, oldLabel: "\(device) (snapshot \(a.id ?? 0))",
                                    newLabel: "\(other) (snapshot \(b.id ?? 0))", context: context)
        } else {
            let path = golden!
            guard let data = FileManager.default.contents(atPath: path) else { throw CommandFailure(message: "cannot read \(path)") }
            let (d, s) = try database.query { store in try latest(store, device) }
            let rendered: String
            do { rendered = try Template.render(String(decoding: data, as: UTF8.self), device: d, payload: [:]) }
            catch { throw CommandFailure.usage("\(path): \(error)") }
            text = LineDiff.unified(rendered, s.content, oldLabel: "\(path) (golden, for \(device))",
                                    newLabel: "\(device) (snapshot \(s.id ?? 0))", context: context)
        }
        if !text.isEmpty { print(inert(text), terminator: text.hasSuffix("\n") ? "" : "\n") }
    }
}

/// `switchboard config log DEVICE`: the device's commits in the configurations' git repository.
struct ConfigLogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "A device's configuration history in the git repository (git.repository), newest first.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The device.")
    var device: String

    @Flag(name: [.customShort("p"), .long], help: "With each commit's diff.")
    var patch = false

    @Option(name: [.customShort("n"), .long], help: "At most this many commits.")
    var limit = 0

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        let settings = try global.settings()
        let repository = ConfigRepository(settings: settings, paths: global.paths)
        guard FileManager.default.fileExists(atPath: repository.path + "/.git") else {
            throw CommandFailure(message: "no configuration repository at \(repository.path) (a backup creates it)")
        }
        let (commits, text) = try repository.locked { try repository.log(device: device, limit: limit, patch: patch) }
        if json {
            let rows: [JSONValue] = commits.map {
                .object(["commit": .string($0.sha), "author": .string($0.author),
                         "date": .string(ISO8601DateFormatter().string(from: $0.date)), "message": .string($0.message)])
            }
            print(String(decoding: try JSONEncoder.pretty.encode(JSONValue.array(rows)), as: UTF8.self))
            return
        }
        if commits.isEmpty { print("no commits for \(inert(device)) in \(repository.path)"); return }
        if patch {
            print(inert(text), terminator: "")
            return
        }
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        formatter.locale = Locale(identifier: "en_US_POSIX")
        for c in commits {
            print("\(c.sha.prefix(10))  \(formatter.string(from: c.date))  \(inert(c.author).padding(toLength: 12, withPad: " ", startingAt: 0))  \(inert(c.message))")
        }
    }
}

/// `switchboard config export-git`: the database's snapshots into the git repository, oldest first.
struct ConfigExportGitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-git",
        abstract: "Write the configuration snapshots in the database into the git repository, one commit each, in time order.",
        discussion: """
            Each commit is dated by its snapshot and authored by the user of the run that stored it. Snapshots \
            not newer than the device's last commit in the repository are skipped, so running it again adds \
            nothing. With git.remote set, pushes at the end (--no-push to skip).
            """)

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Do not push, even with git.remote set.")
    var noPush = false

    func run() throws {
        let settings = try global.settings()
        let database = try global.openBackend()  // writes each snapshot's commit id
        let repository = ConfigRepository(settings: settings, paths: global.paths)
        struct Item { var device: String; var snapshot: ConfigSnapshot; var user: String }
        let items: [Item] = try database.query { store in
            let names = try store.deviceNames()
            let users = try store.runUsers()
            return try store.allConfigSnapshots().compactMap { s in
                guard let name = names[s.deviceId] else { return nil }
                return Item(device: name, snapshot: s, user: s.runId.flatMap { users[$0] } ?? OSUser.name)
            }
        }
        var committed = 0, skipped = 0
        var exported: [(snapshot: Int64, commit: String)] = []
        try repository.locked {
            let last = try repository.lastCommitTimes()
            for item in items {
                let file = ConfigRepository.file(for: item.device)
                if let t = last[file], item.snapshot.createdAt.timeIntervalSince1970 <= t { skipped += 1; continue }
                let message = "\(item.device): snapshot \(item.snapshot.id ?? 0)" + (item.snapshot.runId.map { " of run \($0)" } ?? "") + " (export-git)"
                if let commit = try repository.commit(device: item.device, content: item.snapshot.content, author: item.user,
                                                      message: message, date: item.snapshot.createdAt) {
                    committed += 1
                    if let id = item.snapshot.id { exported.append((id, commit)) }
                } else {
                    skipped += 1
                }
            }
        }
        // The console's history shows which commit holds each version.
        try database.transaction { store in
            for e in exported { try store.setGitCommit(snapshot: e.snapshot, commit: e.commit) }
        }
        print("\(committed) commit\(committed == 1 ? "" : "s") written to \(repository.path), \(skipped) snapshot\(skipped == 1 ? "" : "s") already there")
        SecurityLog.record("config.export_git", targets: repository.path, detail: "\(committed) commits")
        if !settings.git.remote.isEmpty && !noPush {
            do {
                let outcome = try repository.locked { try repository.push(remote: settings.git.remote) }
                print(outcome == .upToDate ? "\(settings.git.remote) is up to date" : "pushed to \(settings.git.remote)")
            } catch {
                throw CommandFailure(message: "push to \(settings.git.remote) failed: \(error)")
            }
        }
    }
}
