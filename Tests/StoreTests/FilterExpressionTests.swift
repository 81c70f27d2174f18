import Foundation
import XCTest
@testable import Store

final class FilterExpressionTests: XCTestCase {
    let record = ["name": "par-core1", "platform": "juniper_junos", "location": "Paris", "description": "core router"]
    func matches(_ text: String) throws -> Bool {
        try FilterExpression.parse(text).matches(value: { self.record[$0] }, searchable: Array(record.keys))
    }

    func testTerms() throws {
        XCTAssertTrue(try matches(""))
        XCTAssertTrue(try matches("core"))
        XCTAssertTrue(try matches("CORE"))
        XCTAssertFalse(try matches("london"))
        XCTAssertTrue(try matches("platform=juniper_junos"))
        XCTAssertTrue(try matches("platform=JUNIPER_JUNOS"))
        XCTAssertFalse(try matches("platform=juniper"))
        XCTAssertTrue(try matches("name~^par-"))
        XCTAssertFalse(try matches("name~^lon-"))
        XCTAssertTrue(try matches("!london"))
        XCTAssertFalse(try matches("!core"))
        XCTAssertTrue(try matches("platform!=cisco_ios"))
        XCTAssertFalse(try matches("name!~core"))
        XCTAssertTrue(try matches("core location=paris"))
        XCTAssertFalse(try matches("core location=london"))
        XCTAssertTrue(try matches("description=\"core router\""))
        XCTAssertTrue(try matches("!name~^lon !platform=cisco_ios"))
    }

    func testBadExpressionsNameTheTerm() {
        XCTAssertThrowsError(try FilterExpression.parse("name~([")) { XCTAssertTrue("\($0)".contains("name~([")) }
        XCTAssertThrowsError(try FilterExpression.parse("location=\"New York")) { XCTAssertTrue("\($0)".contains("quote")) }
        XCTAssertThrowsError(try FilterExpression.parse("!")) { XCTAssertTrue("\($0)".contains("negates nothing")) }
    }

    func testSQLTranslationAgreesWithInMemoryEvaluation() throws {
        let t = try TempStore()
        for (name, platform, location) in [("par-core1", "juniper_junos", "Paris"), ("par-acc1", "cisco_ios", "Paris"),
                                           ("lon-core1", "juniper_junos", "London"), ("nyc-dist1", "arista_eos", "New York")] {
            _ = try t.device(name, platform: platform, location: location, properties: ["tier": .string(name.contains("core") ? "1" : "2")])
        }
        let all = try t.database.writer.read { try Inventory.devices($0) }
        for text in ["core", "platform=juniper_junos", "name~^par", "!core", "location=\"new york\"", "tier=1",
                     "!name~core platform!=cisco_ios", "PAR", "tier~2"] {
            let f = try FilterExpression.parse(text)
            let sql = try t.database.writer.read { try Inventory.devices($0, filter: f) }.map(\.name)
            let mem = all.filter { d in
                f.matches(value: { d.value(of: $0) }, searchable: ["name", "address", "platform", "vendor", "model", "category", "location", "description"])
            }.map(\.name)
            XCTAssertEqual(sql, mem, text)
        }
        XCTAssertThrowsError(try t.database.writer.read { try Inventory.devices($0, filter: try FilterExpression.parse("nosuch=1"), knownProperties: ["tier"]) }) {
            XCTAssertTrue("\($0)".contains("nosuch"))
        }
    }
}
