import Foundation
@testable import StorePostgres
import Store
import XCTest

/// The device table's parts, each in name order, merged into one byte order (`DeviceTablePart.mergeOrder`).
final class DeviceTablePartTests: XCTestCase {
    /// A part as the server sends it: a record per name, every other field empty.
    func part(_ names: [String]) -> DeviceTablePart {
        let empty = Array(repeating: "", count: DeviceTable.columns.count - 1)
        let text = names.map { (["0", $0] + empty).joined(separator: "\u{1f}") }.joined(separator: "\u{1e}")
        return DeviceTablePart(text: text, devices: names.count, wanted: nil, date: { "\($0)" })!
    }

    func testPartsMergeIntoByteOrder() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = ["a", "b", "B", "é", "e\u{301}", "0", "-", "ab", "z", "Ω", "日", ""]
        for round in 0..<50 {
            var all = Set<String>()
            while all.count < 300 { all.insert("d" + (0..<Int.random(in: 0...4, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }.joined()) }
            let shuffled = all.shuffled(using: &generator)
            let count = 1 + round % 8
            let parts = (0..<count).map { k in
                part(shuffled.enumerated().filter { $0.offset % count == k }.map(\.element).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
            }
            let merged = DeviceTablePart.mergeOrder(parts).map { parts[$0.part].values[$0.row][1] }
            XCTAssertEqual(merged, all.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }, "round \(round)")
        }
        XCTAssertTrue(DeviceTablePart.bytesPrecede("d1", "d10"))
        XCTAssertFalse(DeviceTablePart.bytesPrecede("d10", "d1"))
        XCTAssertTrue(DeviceTablePart.bytesPrecede("B", "a"), "byte order, not case-insensitive")
        XCTAssertTrue(DeviceTablePart.bytesPrecede("e\u{301}", "é"), "bytes, not canonical equivalence")
        XCTAssertFalse(DeviceTablePart.bytesPrecede("", ""))
    }
}
