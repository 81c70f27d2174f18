import Foundation
import GRDB
import XCTest
@testable import Console
@testable import Store

/// The repository's root, for `setup/` and `themes/`.
let repositoryRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

/// The directory holding the executables built with this test bundle: `SWITCHBOARD_BUILD_DIR` when
/// set, else the bundle's own directory (any `--scratch-path`), else `<repo>/.build/debug`.
let buildDirectory: String = {
    if let dir = ProcessInfo.processInfo.environment["SWITCHBOARD_BUILD_DIR"], !dir.isEmpty { return dir }
    var candidates: [URL] = []
    if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
        candidates.append(URL(fileURLWithPath: exe).deletingLastPathComponent())
    }
    candidates.append(Bundle.main.bundleURL)
    candidates.append(contentsOf: Bundle.allBundles.map { $0.bundleURL.deletingLastPathComponent() })
    for dir in candidates where FileManager.default.isExecutableFile(atPath: dir.appendingPathComponent("switchboard").path) {
        return dir.path
    }
    return repositoryRoot + "/.build/debug"
}()

/// A temporary database holding the example network (setup/examples/switchboard.json), plus
/// helpers to write runs, results, log lines, snapshots and sessions (nothing else writes them yet).
final class ExampleStore {
    let dir: String
    let database: AppDatabase
    let properties: DeviceProperties

    init(importExamples: Bool = true) throws {
        dir = NSTemporaryDirectory() + "switchboard-console-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        database = try AppDatabase(path: dir + "/data/switchboard.db")
        properties = try DevicePropertiesLoader(paths: Paths(environment: ["HOME": dir, "XDG_CONFIG_HOME": dir + "/config"]),
                                                shippedPath: repositoryRoot + "/setup/properties.json").load()
        if importExamples {
            let secrets = try SecretBox.load(paths: Paths(environment: ["HOME": dir, "XDG_CONFIG_HOME": dir + "/config"]))
            let doc = try Importer.read(paths: [repositoryRoot + "/setup/examples/switchboard.json"], format: .json)
            _ = try InventoryWriter(database: database, secrets: secrets).apply(doc)
        }
    }

    deinit { try? FileManager.default.removeItem(atPath: dir) }

    var loader: DataLoader { DataLoader(database: database, properties: properties, user: "alice") }

    @discardableResult
    func run(service: String, status: Run.Status, done: Int = 0, total: Int = 0, failed: Int = 0,
             started: Date? = Date(timeIntervalSince1970: 1_700_000_000)) throws -> Int64 {
        try database.writer.write { db in
            let sid = try Int64.fetchOne(db, sql: "SELECT id FROM service WHERE name = ?", arguments: [service]) ?? 1
            var run = Run(serviceId: sid, serviceName: service, trigger: .cli, user: "alice")
            run.status = status
            run.progressDone = done; run.progressTotal = total; run.progressFailed = failed
            run.startedAt = started
            run.createdAt = started ?? Date()
            if status.isFinished { run.endedAt = started?.addingTimeInterval(42) }
            try run.insert(db)
            return run.id!
        }
    }

    @discardableResult
    func result(run: Int64, device: String, success: Bool, output: String, service: String = "show version") throws -> Int64 {
        try database.writer.write { db in
            let did = try Int64.fetchOne(db, sql: "SELECT id FROM device WHERE name = ?", arguments: [device])
            var r = RunResult(runId: run, serviceId: 1, serviceName: service, deviceId: did, deviceName: device,
                              success: success, output: output, durationMs: 1234, attempts: 1)
            try r.insert(db)
            return r.id!
        }
    }

    func log(run: Int64, lines: [(RunLogLine.Level, String, String)], startSeq: Int64 = 1) throws {
        try database.writer.write { db in
            var seq = startSeq
            for (level, device, message) in lines {
                try RunLogLine(runId: run, seq: seq, time: Date(timeIntervalSince1970: 1_700_000_000 + Double(seq)),
                               level: level, device: device, service: "show version", message: message).insert(db)
                seq += 1
            }
        }
    }

    /// Many log lines fast, in one statement per thousand.
    func bulkLog(run: Int64, count: Int) throws {
        try database.writer.write { db in
            try db.execute(sql: """
                WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
                INSERT INTO run_log(run_id, seq, time, level, device, service, message)
                SELECT ?, i, '2023-11-14 22:13:20.000', 'info', 'par-core1', 'show version', 'line ' || i FROM n
                """, arguments: [count, run])
        }
    }

    @discardableResult
    func snapshot(device: String, content: String, at: Date) throws -> Int64 {
        try database.writer.write { db in
            let did = try Int64.fetchOne(db, sql: "SELECT id FROM device WHERE name = ?", arguments: [device])!
            var s = ConfigSnapshot(deviceId: did, runId: nil, sha256: String(content.hashValue, radix: 16), content: content)
            s.createdAt = at
            try s.insert(db)
            return s.id!
        }
    }

    @discardableResult
    func session(device: String, transcript: String) throws -> Int64 {
        try database.writer.write { db in
            var s = SessionRecord(deviceId: nil, deviceName: device, user: "alice")
            s.transcript = transcript
            s.startedAt = Date(timeIntervalSince1970: 1_700_000_000)
            s.endedAt = Date(timeIntervalSince1970: 1_700_000_090)
            s.endReason = "closed"
            try s.insert(db)
            return s.id!
        }
    }
}

/// A model over a store, with its loads performed synchronously: the runtime's work, in a test.
struct Driver {
    var model: AppModel
    var loader: DataLoader
    var effects: [Effect] = []
    var now: Date

    init(store: ExampleStore, width: Int = 80, height: Int = 24, readonly: Bool = false,
         settings: Settings = .defaults, charset: Charset = .unicode,
         now: Date = Date(timeIntervalSince1970: 1_700_000_000)) {
        loader = store.loader
        self.now = now
        model = AppModel(settings: settings, properties: store.properties, readonly: readonly, width: width,
                         height: height, now: now, charset: charset,
                         header: HeaderInfo(database: "switchboard.db", user: "alice"))
        send(.tick(now))
    }

    /// Sends an event and performs every load it (and what follows) asks for, until quiet.
    mutating func send(_ event: Event) {
        var queue = [event]
        while !queue.isEmpty {
            let e = queue.removeFirst()
            let (next, fx) = update(model, e)
            model = next
            for f in fx {
                effects.append(f)
                if case .load(let request) = f {
                    queue.append(.loaded(request, loader.load(request), now))
                }
                if case .launchInfo(let service) = f {
                    queue.append(Launcher(database: loader.database, user: loader.user) { _ in 0 }.info(service))
                }
            }
        }
    }

    mutating func keys(_ keys: Key...) { for k in keys { send(.key(k)) } }

    mutating func type(_ text: String) { for c in text { send(.key(.char(c))) } }

    mutating func command(_ text: String) {
        send(.key(.char(":")))
        type(text)
        send(.key(.enter))
    }

    /// Moves time on and reloads whatever is due.
    mutating func advance(_ seconds: TimeInterval) {
        now = now.addingTimeInterval(seconds)
        send(.tick(now))
    }

    var frame: Frame { view(model) }
    var screen: [String] { frame.buffer.lines }
    var text: String { screen.joined(separator: "\n") }

    func row(containing needle: String) -> Int? {
        screen.firstIndex { $0.contains(needle) }
    }
}

/// A table built in memory, for update tests that need no database.
func syntheticTable(_ names: [String], kind: TableKind = .devices) -> PreparedTable {
    let rows = names.enumerated().map { i, n in
        TableRow(id: n, values: [String(i + 1), n, "10.0.0.\(i + 1)", i % 2 == 0 ? "arista_eos" : "cisco_ios", "Paris"])
    }
    let data = TableData(kind: kind, fields: ["id", "name", "address", "platform", "location"],
                         searchable: ["name", "address", "platform", "location"], rows: rows)
    return PreparedTable(data: data, sort: nil, filter: FilterExpression(terms: []),
                         order: data.sortedOrder(nil), visible: data.sortedOrder(nil))
}

/// A model whose top view is loaded with a synthetic table.
func syntheticModel(_ names: [String], width: Int = 80, height: Int = 24, readonly: Bool = false,
                    settings: Settings = .defaults) -> AppModel {
    var m = AppModel(settings: settings, properties: .builtIn, readonly: readonly, width: width, height: height,
                     now: Date(timeIntervalSince1970: 1_700_000_000))
    let (next, effects) = update(m, .tick(m.now))
    m = next
    for case .load(let r) in effects where r.viewID != 0 {
        m = update(m, .loaded(r, .table(syntheticTable(names)), m.now)).0
    }
    for case .load(let r) in effects where r.viewID == 0 {
        m = update(m, .loaded(r, .header(HeaderInfo(database: "test.db", user: "alice")), m.now)).0
    }
    return m
}

func send(_ m: inout AppModel, _ keys: Key...) {
    for k in keys { m = update(m, .key(k)).0 }
}
