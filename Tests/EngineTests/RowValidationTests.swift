@testable import Engine
import Foundation
import Store
import XCTest

/// Checks on parsed rows (`validation: {kind: rows, …}`), row counts, and their refusal when malformed.
final class RowValidationTests: XCTestCase {
    let rows: [[String: JSONValue]] = [
        ["interface": .string("Gi0/0"), "status": .string("up"), "neighbors": .array([.string("10.0.0.2")])],
        ["interface": .string("Gi0/1"), "status": .string("administratively down"), "neighbors": .array([])],
        ["interface": .string("Lo0"), "status": .string("up"), "neighbors": .null],
    ]

    func check(_ rules: [String: JSONValue]) -> Bool { ResultValidation.checkRows(rows, rules: rules).ok }

    func testEverySomeNoneAndCount() {
        XCTAssertFalse(check(["kind": "rows", "every": "status=up"]))
        XCTAssertTrue(check(["kind": "rows", "every": "interface~^(Gi|Lo)"]))
        XCTAssertTrue(check(["kind": "rows", "some": "neighbors~10\\.0\\.0\\.2"]), "a list field matches on its items")
        XCTAssertFalse(check(["kind": "rows", "some": "status=down"]))
        XCTAssertTrue(check(["kind": "rows", "none": "status=down"]))
        XCTAssertTrue(check(["kind": "rows", "count": 3]))
        XCTAssertTrue(check(["kind": "rows", "count": ">= 2", "where": "status=up"]))
        XCTAssertFalse(check(["kind": "rows", "count": "> 2", "where": "status=up"]))
        XCTAssertTrue(check(["kind": "rows", "count": "== 0", "where": "status=down"]))
        XCTAssertTrue(check(["kind": "rows", "every": "status=up", "negate": true]))
        // `every` over no rows vouches for nothing.
        XCTAssertFalse(ResultValidation.checkRows([], rules: ["kind": "rows", "every": "status=up"]).ok)
        let message = ResultValidation.checkRows(rows, rules: ["kind": "rows", "every": "status=up"]).message
        XCTAssertTrue(message.contains("1 of 3 do not"), message)
        // Rows rules on a result that was not parsed.
        XCTAssertFalse(ResultValidation.check("text", rows: nil, rules: ["kind": "rows", "some": "a=b"]).ok)
    }

    func testRowCounts() {
        XCTAssertEqual(RowCount(">= 3"), RowCount(comparison: .atLeast, value: 3))
        XCTAssertEqual(RowCount("<10"), RowCount(comparison: .fewer, value: 10))
        XCTAssertEqual(RowCount("== 0"), RowCount(comparison: .equal, value: 0))
        XCTAssertEqual(RowCount("!= 0"), RowCount(comparison: .notEqual, value: 0))
        XCTAssertEqual(RowCount("5"), RowCount(comparison: .equal, value: 5))
        for bad in ["", ">=", "three", "-1", ">= -2", "=> 3"] { XCTAssertNil(RowCount(bad), bad) }
    }

    func testMalformedRowsValidationIsRefusedWhenSaved() {
        func refused(_ validation: [String: JSONValue]) -> String {
            var s = Service(name: "s", kind: .cli, parameters: ["commands": .array([.string("show x")]), "parse": "textfsm"])
            s.validation = validation
            do { try ServiceValidation.validate(s); return "accepted" } catch { return "\(error)" }
        }
        XCTAssertEqual(refused(["kind": "rows", "some": "status=up"]), "accepted")
        XCTAssertTrue(refused(["kind": "rows"]).contains("exactly one of every, some, none and count"))
        XCTAssertTrue(refused(["kind": "rows", "some": "a~("]).contains("validation.some"))
        XCTAssertTrue(refused(["kind": "rows", "count": "lots"]).contains("validation.count"))
        XCTAssertTrue(refused(["kind": "rows", "some": "a=b", "value": "x"]).contains("validation.value is not a rows validation field"))
        var s = Service(name: "p", kind: .cli, parameters: ["commands": .array([.string("show x")]), "parse": "ttp"])
        XCTAssertThrowsError(try ServiceValidation.validate(s))
        s.parameters = ["commands": .array([.string("show x")]), "template": "x.textfsm"]
        XCTAssertThrowsError(try ServiceValidation.validate(s), "template needs parse")
    }
}
