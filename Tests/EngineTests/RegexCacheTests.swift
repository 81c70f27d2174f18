import Foundation
import XCTest
@testable import Engine

final class RegexCacheTests: XCTestCase {
    func testOnePatternCompiledOncePerOptionsAndBadPatternsStillThrow() throws {
        let a = try RegexCache.regex("^v(\\d+)$")
        let b = try RegexCache.regex("^v(\\d+)$")
        XCTAssertTrue(a === b, "the second lookup reuses the compiled pattern")
        let lines = try RegexCache.regex("^v(\\d+)$", options: [.anchorsMatchLines])
        XCTAssertFalse(a === lines, "options are part of the key")
        let text = "x\nv12\n"
        XCTAssertNil(a.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)))
        XCTAssertNotNil(lines.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)))
        XCTAssertThrowsError(try RegexCache.regex("(unclosed"))
    }

    func testExtractAndValidateGiveTheSameAnswersTwice() {
        for _ in 0..<2 {
            XCTAssertTrue(ResultValidation.check("Version 15.2(4)M", rules: ["kind": .string("regex"), "value": .string("\\d+\\.\\d+")]).ok)
            XCTAssertFalse(ResultValidation.check("no digits", rules: ["kind": .string("regex"), "value": .string("\\d+\\.\\d+")]).ok)
            XCTAssertFalse(ResultValidation.check("x", rules: ["kind": .string("regex"), "value": .string("(")]).ok)
        }
    }
}
