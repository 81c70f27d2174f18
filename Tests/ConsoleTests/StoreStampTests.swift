import Foundation
import GRDB
import XCTest
@testable import Console
@testable import Store

/// A periodic refresh of a table skips the read when nothing was written to the store.
final class StoreStampTests: XCTestCase {
    func testAnUnchangedStoreAnswersUnchangedAndAnyWriteMakesItReadAgain() throws {
        let store = try ExampleStore()
        let loader = store.loader
        var request = LoadRequest(viewID: 1, content: .table(.devices, nil))
        guard case .table(let first) = loader.load(request), let stamp = first.stamp else { return XCTFail("a table with a stamp") }
        request.unlessStamp = stamp
        guard case .unchanged = loader.load(request) else { return XCTFail("nothing was written: unchanged") }
        // Reads by another connection leave the stamp alone.
        _ = try store.database.writer.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM device") }
        guard case .unchanged = loader.load(request) else { return XCTFail("a read is not a write") }
        // Another process's write (a second pool on the same file, as the CLI or the engine would be).
        let other = try AppDatabase(path: store.database.path)
        try other.writer.write { db in try db.execute(sql: "UPDATE device SET description = 'changed' WHERE name = 'par-core1'") }
        guard case .table(let second) = loader.load(request) else { return XCTFail("a write makes the refresh read") }
        XCTAssertNotEqual(second.stamp, stamp)
        let row = second.data.rows.first { $0.id == "par-core1" }
        XCTAssertTrue(row?.values.contains("changed") == true)
        // Without a stamp (a reload someone asked for) it always reads.
        request.unlessStamp = second.stamp
        guard case .unchanged = loader.load(request) else { return XCTFail("unchanged again") }
        request.unlessStamp = nil
        guard case .table = loader.load(request) else { return XCTFail("no stamp: read") }
    }

    func testPeriodicRefreshSendsTheStampAndAnAskedReloadDoesNot() {
        let names = (1...20).map { "dev\($0)" }
        var m = syntheticModel(names)
        let t0 = m.now
        let stamp = StoreStamp(values: [1, 2, 3, 4, 5, 6])
        var prepared = syntheticTable(names)
        prepared.stamp = stamp
        m = update(m, .loaded(LoadRequest(viewID: m.top.id, content: m.top.content), .table(prepared), t0)).0
        XCTAssertEqual(m.top.tableStamp, stamp)
        // The refresh interval passes: the load carries the stamp.
        var (next, effects) = update(m, .tick(t0.addingTimeInterval(11)))
        let periodic = effects.compactMap { if case .load(let r) = $0, r.viewID != 0 { return r }; return nil }
        XCTAssertEqual(periodic.count, 1)
        XCTAssertEqual(periodic.first?.unlessStamp, stamp)
        // `.unchanged` ends the load and keeps the rows as they were.
        next = update(next, .loaded(periodic[0], .unchanged, t0.addingTimeInterval(11))).0
        XCTAssertFalse(next.top.loading)
        XCTAssertEqual(next.top.table.data?.rows.count, 20)
        XCTAssertEqual(next.top.lastLoad, t0.addingTimeInterval(11))
        // `r`: a reload someone asked for reads whatever the stamp.
        (next, effects) = update(next, .key(.char("r")))
        let asked = effects.compactMap { if case .load(let r) = $0, r.viewID != 0 { return r }; return nil }
        XCTAssertEqual(asked.count, 1)
        XCTAssertNil(asked.first?.unlessStamp)
    }
}

/// The device table read straight off the statement: every kind of column comes out as the CLI shows it.
final class DeviceTableTests: XCTestCase {
    func testColumnsNullsDatesBooleansAndCustomProperties() throws {
        let store = try ExampleStore()
        let when = Date(timeIntervalSince1970: 1_700_000_000)
        try store.database.writer.write { db in
            try db.execute(sql: """
                UPDATE device SET last_run_status = 'success', last_run_time = ?, reachable = 1,
                       properties = '{"rack": "B12", "u": 42}' WHERE name = 'par-core1'
                """, arguments: [when])
            try db.execute(sql: "UPDATE device SET reachable = 0, last_run_status = NULL WHERE name = 'par-core2'")
        }
        guard case .table(let t) = store.loader.load(LoadRequest(viewID: 1, content: .table(.devices, nil))) else {
            return XCTFail("a table")
        }
        let data = t.data
        guard let core1 = data.rows.firstIndex(where: { $0.id == "par-core1" }),
              let core2 = data.rows.firstIndex(where: { $0.id == "par-core2" }) else { return XCTFail("rows") }
        XCTAssertEqual(data.value(core1, "name"), "par-core1")
        let port = try store.database.writer.read { db in try Int.fetchOne(db, sql: "SELECT port FROM device WHERE name = 'par-core1'") }
        XCTAssertEqual(data.value(core1, "port"), port.map(String.init))
        XCTAssertEqual(data.value(core1, "last_run_status"), "success")
        XCTAssertEqual(data.value(core1, "last_run_time"), Formats.date(when))
        XCTAssertEqual(data.value(core1, "reachable"), "yes")
        XCTAssertEqual(data.value(core1, "rack"), "B12")
        XCTAssertEqual(data.value(core1, "u"), "42")
        XCTAssertEqual(data.value(core2, "reachable"), "no")
        XCTAssertEqual(data.value(core2, "last_run_status"), "")
        XCTAssertEqual(data.value(core2, "rack"), "")
        XCTAssertEqual(data.value(core2, "last_run_time"), "")
        XCTAssertEqual(Int(data.value(core1, "id")).map { $0 > 0 }, true)
        XCTAssertEqual(data.rows.map(\.id), data.rows.map(\.id).sorted(), "ordered by name")
    }
}

/// A large table's search text and digest are built in two halves: rows of either half are found,
/// and a change anywhere changes the digest.
final class TableIndexTests: XCTestCase {
    func testSearchAndDigestAcrossBothHalves() throws {
        let names = (0..<30_000).map { String(format: "Dev-%05d", $0) }
        let a = syntheticTable(names).data, b = syntheticTable(names).data
        XCTAssertEqual(a, b)
        var changed = names
        changed[29_999] = "dev-changed"
        XCTAssertNotEqual(a, syntheticTable(changed).data, "a change in the second half")
        changed = names
        changed[0] = "dev-changed"
        XCTAssertNotEqual(a, syntheticTable(changed).data, "a change in the first half")
        for (needle, expected) in [("dev-29999", ["Dev-29999"]), ("dev-00000", ["Dev-00000"]), ("dev-1500", (15000..<15010).map { String(format: "Dev-%05d", $0) })] {
            let filter = try CompiledFilter(FilterExpression.parse(needle), for: a)
            let found = a.filtered(a.sortedOrder(nil), by: filter).map { a.rows[Int($0)].id }
            XCTAssertEqual(found, expected, needle)
        }
    }
}
