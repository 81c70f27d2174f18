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
