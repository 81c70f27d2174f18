import Foundation
import XCTest
@testable import Console
import Store

/// The table descriptors (Sources/Console/Tables): each kind's rows, columns, words and keys come
/// from one place, and the table and log operations work on their own state.
final class TableDescriptorTests: XCTestCase {
    /// Every kind loads from a real store with as many values per row as fields, every column it
    /// shows names one of its fields, and its numeric fields are fields.
    func testEveryKindLoadsRowsThatMatchItsFieldsAndColumns() throws {
        let store = try ExampleStore()
        let run = try store.run(service: "show version", status: .completed, done: 1, total: 1)
        _ = try store.result(run: run, device: "par-core1", success: true, output: "ok")
        _ = try store.snapshot(device: "par-core1", content: "hostname par-core1\n", at: Date())
        _ = try store.session(device: "par-core1", transcript: "{}\n")
        try store.database.writer.write { db in
            var r = RunResult(runId: run, serviceId: 1, serviceName: "show version", deviceId: nil, deviceName: "par-core2", success: true,
                              output: "", durationMs: 1, attempts: 1, rows: ParsedRows(columns: ["intf"], rows: [["intf": .string("Gi0/1")]]).encoded)
            try r.insert(db)
        }
        let log = store.dir + "/security.log"
        SecurityLog.configure(SecurityLog.Configuration(path: log))
        SecurityLog.record("import", targets: "example", user: "alice")
        // `:engines` lists the engine holding the database (this process, for the test).
        let engineLock = try XCTUnwrap(try store.database.acquireEngineLock(EngineIdentity()))
        defer { engineLock.release() }
        // Kinds reached by drilling down only need what they are about.
        let scopes: [TableKind: Scope] = [.parsed: .run(run), .configSearch: .search("hostname")]
        for kind in TableKind.allCases {
            let data = try store.loader.table(kind, scope: scopes[kind])
            XCTAssertEqual(data.kind, kind)
            XCTAssertGreaterThan(data.count, 0, "\(kind) has rows in the example")
            for row in data.rows { XCTAssertEqual(row.values.count, data.fields.count, "\(kind) row \(row.id)") }
            for column in kind.columns(store.properties) {
                XCTAssertNotNil(data.fieldIndex[column.property], "\(kind): column \(column.property) is a field")
            }
            XCTAssertTrue(kind.descriptor.numericFields.isSubset(of: Set(data.fields)), "\(kind)")
            // Reports without an id of their own: the parsed rows, the security log, search hits.
            if ![.parsed, .audit, .configSearch].contains(kind) { XCTAssertTrue(kind.descriptor.numericFields.contains("id"), "\(kind)") }
            if kind == .engines {
                XCTAssertEqual(data.rows.indices.map { data.value($0, "pid") }, [String(getpid())])
                XCTAssertEqual(data.rows.indices.map { data.value($0, "state") }, ["active"])
                XCTAssertEqual(data.rows.indices.map { data.value($0, "serves") }, ["all devices"], "SQLite's one engine has no region")
            }
        }
        // Fields by name, not by position: the credential table never holds a secret.
        let creds = try store.loader.table(.credentials, scope: nil)
        XCTAssertFalse(creds.fields.contains { $0.contains("secret") && $0 != "secret_kind" })
        let engines = try store.loader.table(.engines, scope: nil)
        XCTAssertEqual(engines.value(0, "pid"), String(getpid()))
        XCTAssertEqual(engines.value(0, "state"), "active")
        XCTAssertEqual(engines.value(0, "in_flight"), "0")
        let runs = try store.loader.table(.runs, scope: nil)
        XCTAssertEqual(runs.value(0, "progress"), "1/1")
        XCTAssertEqual(runs.value(0, "service_name"), "show version")
    }

    /// A run spread over several engines tags each device in its results with the engine that did
    /// it ("par-core1 @#1 host-a"); a run of one engine reads as it always did. The bare device name
    /// stays the field the actions (ssh, log) use.
    func testResultsOfARunSpreadOverEnginesNameEachDevicesEngine() throws {
        let store = try ExampleStore()
        let spread = try store.run(service: "show version", status: .completed, done: 2, total: 2)
        let single = try store.run(service: "show version", status: .completed, done: 2, total: 2)
        try store.database.writer.write { db in
            for (run, device, engine, host) in [(spread, "par-core1", Int64(1), "host-a"), (spread, "par-core2", 2, "host-b"),
                                                (single, "par-core1", 3, "host-c"), (single, "par-core2", 3, "host-c")] {
                var r = RunResult(runId: run, serviceId: 1, serviceName: "show version", deviceId: nil, deviceName: device, success: true,
                                  output: "ok", durationMs: 1, attempts: 1)
                r.engineId = engine
                r.engineHost = host
                try r.insert(db)
            }
        }
        let spreadRows = try store.loader.table(.results, scope: .run(spread))
        XCTAssertEqual(Set(spreadRows.rows.indices.map { spreadRows.value($0, "device") }), ["par-core1 @#1 host-a", "par-core2 @#2 host-b"])
        XCTAssertEqual(Set(spreadRows.rows.indices.map { spreadRows.value($0, "device_name") }), ["par-core1", "par-core2"])
        XCTAssertEqual(ResultsTable.descriptor.columns?.first { $0.title == "Device" }?.property, "device", "the Device column shows the tag")
        let singleRows = try store.loader.table(.results, scope: .run(single))
        XCTAssertEqual(Set(singleRows.rows.indices.map { singleRows.value($0, "device") }), ["par-core1", "par-core2"], "one engine: no tag")
        XCTAssertEqual(Set(singleRows.rows.indices.map { singleRows.value($0, "engine") }), [""])
    }

    /// The `:` words are the descriptors' and each opens its own kind; the help lists them.
    func testCommandWordsComeFromTheDescriptors() {
        for d in TableDescriptor.all {
            for word in d.aliases {
                guard case .success(.table(let kind, _)) = ColonCommand.parse(word) else { return XCTFail(word) }
                XCTAssertEqual(kind, d.kind, word)
            }
            for word in d.helpWords { XCTAssertTrue(d.aliases.contains(word), "\(d.kind): \(word)") }
        }
        guard case .failure(let e) = ColonCommand.parse("nope") else { return XCTFail() }
        XCTAssertTrue(e.message.hasSuffix("(:dev :links :pools :creds :svc :wf :runs :tasks :sessions :config :audit :engines :pulse :theme NAME :refresh SECONDS :messages :q)"), e.message)
        XCTAssertEqual(HelpContent.tableCommandLines(), [
            "  :dev :devices :links :pools :creds :services :svc :workflows :wf",
            "  :runs :tasks :sessions :config :audit :engines open a table (an optional filter may follow)",
        ])
    }

    /// Keys come from the descriptors: `a` only on tasks, `ctrl+d` where rows can be deleted.
    func testKeysComeFromTheDescriptors() {
        var m = syntheticModel(["a", "b"])
        for kind in TableKind.allCases {
            m.stack = [m.makeView(.table(kind, nil), title: kind.title)]
            XCTAssertEqual(m.applies(.toggleActive), kind == .tasks, "\(kind)")
            XCTAssertEqual(m.applies(.delete), kind.descriptor.deletes != nil, "\(kind)")
            XCTAssertEqual(m.applies(.runService), kind == .services || kind == .workflows, "\(kind)")
            XCTAssertEqual(m.applies(.diff), kind == .config || kind == .configSearch, "\(kind)")
            XCTAssertEqual(m.applies(.parsed), kind == .runs, "\(kind)")
            XCTAssertEqual(m.applies(.export), kind == .parsed, "\(kind)")
            XCTAssertEqual(m.applies(.runLog), kind == .runs, "\(kind)")
        }
        m.stack = [m.makeView(.table(.results, .run(3)), title: "run 3 results")]
        XCTAssertTrue(m.applies(.runLog), "a run's results have its log")
        XCTAssertTrue(m.applies(.parsed), "a run's results have its parsed rows")
    }

    /// Table operations on `TableState` alone: take a load, filter, sort, move, mark.
    func testTableOperationsWithoutAnAppModel() {
        let prepared = syntheticTable(["c", "a", "b", "d"])
        var t = TableState(columns: TableKind.devices.columns(.builtIn))
        t.take(prepared, rows: 2)
        XCTAssertEqual(t.visible.count, 4)
        t.move(by: 1, rows: 2)
        XCTAssertEqual(t.selectedRow?.id, "a")
        t.setFilter("name~^[ab]$", rows: 2)
        XCTAssertEqual(t.visible.count, 2)
        XCTAssertEqual(t.selectedRow?.id, "a", "the cursor stays on its row")
        t.toggleMark(rows: 2)
        XCTAssertEqual(t.marked, ["a"])
        XCTAssertEqual(t.selectedRow?.id, "b")
        t.setFilter("name~(", rows: 2)
        XCTAssertNotNil(t.filterError)
        XCTAssertEqual(t.visible.count, 4, "a bad filter filters nothing")
        XCTAssertNil(t.filter)
    }

    /// Log operations on `LogState` alone: search wraps, a document stops at its end, saving is inert.
    func testLogOperationsWithoutAnAppModel() {
        var log = LogState(capacity: 100)
        log.ring.append(contentsOf: (0..<10).map { LogLine(seq: Int64($0), text: $0 == 7 ? "needle \u{1b}[31m" : "line \($0)") })
        log.search = "needle"
        XCTAssertNil(log.findMatch(forward: true, rows: 4))
        XCTAssertEqual(log.match, 7)
        XCTAssertFalse(log.follow)
        log.search = "absent"
        XCTAssertEqual(log.findMatch(forward: true, rows: 4)?.1, true)
        log.scroll(100, rows: 4, stopsAtEnd: true, live: false)
        XCTAssertEqual(log.top, 6, "a document stops with its last line at the bottom")
        XCTAssertFalse(log.text().contains("\u{1b}"))
    }
}
