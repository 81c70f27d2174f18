import Foundation
import XCTest
@testable import Console
import Store

/// The table at the benchmark's scale (80,000 devices): per-frame work depends on the screen,
/// not the row count; a filter keystroke is one pass over the rows (or over the rows already
/// shown, when the filter grows). Timings are printed; the bounds are loose (debug builds).
final class ScaleTests: XCTestCase {
    static func bigTable(_ n: Int) -> PreparedTable {
        let platforms = ["arista_eos", "cisco_ios", "juniper_junos", "cisco_nxos"]
        let locations = ["Paris", "London", "New York", "Frankfurt", "Singapore"]
        var rows: [TableRow] = []
        rows.reserveCapacity(n)
        for i in 0..<n {
            let name = String(format: "dev-%06d", i)
            rows.append(TableRow(id: name, values: [
                String(i + 1), name, "10.\(i / 65536).\((i / 256) % 256).\(i % 256)", "22", platforms[i % 4],
                "Vendor", "Model \(i % 17)", "1.\(i % 9)", "switch", locations[i % 5], "device number \(i)", "",
                i % 7 == 0 ? "failed" : "completed", "", "", "", "", "", "site\(i % 40)", i % 3 == 0 ? "core" : "access", "",
            ]))
        }
        let fields = DeviceTable.fields + ["rack", "role", "site"].sorted()
        let data = TableData(kind: .devices, fields: fields, searchable: ["name", "address", "platform", "vendor", "model", "category", "location", "description"], rows: rows)
        let order = data.sortedOrder(nil)
        return PreparedTable(data: data, sort: nil, filter: FilterExpression(terms: []), order: order, visible: order)
    }

    func time(_ label: String, _ body: () -> Void) -> TimeInterval {
        let t0 = Date()
        body()
        let dt = Date().timeIntervalSince(t0)
        print("scale: \(label): \(Int(dt * 1000)) ms")
        return dt
    }

    /// A large table's search text and digest are built in the background (the first frame does not
    /// wait for them): a filter right after the table is made, and a comparison with the same rows,
    /// wait for them and are exact.
    func testALargeTablesSearchIndexIsBuiltInTheBackgroundAndWaitedFor() throws {
        let prepared = ScaleTests.bigTable(30_000)
        let data = prepared.data
        let filter = try CompiledFilter(try FilterExpression.parse("2999"), for: data)
        let hits = data.filtered(prepared.order, by: filter).map { data.rows[Int($0)].id }
        // Only the name and the description ("device number N") can hold 2999.
        XCTAssertEqual(hits, data.rows.map(\.id).filter { $0.contains("2999") })
        XCTAssertEqual(hits.count, 13)
        XCTAssertTrue(filter.matches(data, 2999))
        XCTAssertFalse(filter.matches(data, 3000))
        let again = ScaleTests.bigTable(30_000).data
        XCTAssertEqual(again, data, "the same rows: the same digest")
        var changed = prepared.data.rows
        changed[17].values[2] = "10.9.9.9"
        XCTAssertNotEqual(TableData(kind: .devices, fields: data.fields, searchable: ["name"], rows: changed), data)
        XCTAssertEqual(TableData(kind: .devices, fields: data.fields, searchable: ["name"], rows: changed).count, 30_000)
    }

    func testEightyThousandRows() {
        let n = 80_000
        var prepared: PreparedTable!
        _ = time("build \(n) rows") { prepared = ScaleTests.bigTable(n) }
        var m = AppModel(settings: .defaults, properties: .builtIn, readonly: false, width: 120, height: 40,
                         now: Date(timeIntervalSince1970: 1_700_000_000))
        let (next, effects) = update(m, .tick(m.now))
        m = next
        for case .load(let r) in effects where r.viewID != 0 {
            m = update(m, .loaded(r, .table(prepared), m.now)).0
        }
        XCTAssertEqual(m.top.table.visible.count, n)

        // Navigation and rendering: independent of the row count.
        let nav = time("100 × (j + frame)") {
            for _ in 0..<100 {
                m = update(m, .key(.char("j"))).0
                _ = view(m)
            }
        }
        XCTAssertLessThan(nav / 100, 0.05)

        // A filter typed one key at a time.
        m = update(m, .key(.char("/"))).0
        var perKey: [TimeInterval] = []
        for c in "dev-0001" {
            perKey.append(time("filter key '\(c)' + frame") {
                m = update(m, .key(.char(c))).0
                _ = view(m)
            })
        }
        XCTAssertEqual(m.top.table.visible.count, 100)    // dev-000100 … dev-000199
        XCTAssertLessThan(perKey.max()!, 2.0)
        // A field filter over every row.
        m = update(m, .key(.escape)).0
        m = update(m, .key(.char("/"))).0
        for c in "role=core" { m = update(m, .key(.char(c))).0 }
        XCTAssertEqual(m.top.table.visible.count, (n + 2) / 3)
        m = update(m, .key(.enter)).0

        // A refresh bringing the same rows back changes nothing on screen.
        let before = view(m).buffer
        let reload = LoadRequest(viewID: m.top.id, content: m.top.content)
        let same = ScaleTests.bigTable(n)
        _ = time("apply an identical refresh") { m = update(m, .loaded(reload, .table(same), m.now)).0 }
        XCTAssertEqual(CellBuffer.diff(before, view(m).buffer), [])

        // Sorting by a column (a user action, not per frame).
        _ = time("sort by name") { m = update(m, .key(.char(">"))).0 }
    }
}
