import Foundation
import XCTest
@testable import Store

final class LineLocatorTests: XCTestCase {
    func testEachRecordsNameKeyGivesItsLine() {
        let text = """
            {"devices": [
              {"name": "r1", "description": "the name \\"r2\\" appears here first"},
              {"description": "name", "name": "r2"},
              {
                "name"  :
                  "a\\/b \\u00e9\\"q\\""
              },
              {"name": "r1"}
            ],
             "tasks": [{"name": "nightly", "service": "r1"}]}
            """
        let locator = LineLocator(text: text)
        XCTAssertEqual(locator.line(ofName: "r1"), 2)
        XCTAssertEqual(locator.line(ofName: "r2"), 3, "a value mentioning the name is not its name key")
        XCTAssertEqual(locator.line(ofName: "a/b é\"q\""), 6, "escapes decoded; the line of the value")
        XCTAssertEqual(locator.line(ofName: "nightly"), 10)
        XCTAssertNil(locator.line(ofName: "description"))
        XCTAssertNil(locator.line(ofName: "absent"))
        XCTAssertNil(locator.line(ofName: ""))
    }

    /// The import error for a bad record still names its line, in a file written on one line or many.
    func testImportErrorsNameTheRecordsLine() throws {
        let t = try TempStore()
        let dir = NSTemporaryDirectory() + "linelocator-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/inv.json"
        try """
            {"devices": [
              {"name": "ok-1", "address": "10.0.0.1"},
              {"name": "bad-1", "address": "10.0.0.2", "port": "not a port"}
            ]}
            """.write(toFile: file, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try Importer.read(paths: [file], format: .json)) { error in
            XCTAssertTrue("\(error)".contains("inv.json:3"), "\(error)")
        }
        _ = t
    }
}
