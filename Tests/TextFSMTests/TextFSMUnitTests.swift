import XCTest
@testable import TextFSM

final class TextFSMUnitTests: XCTestCase {
    func testSmoke() throws {
        let t = try TextFSMTemplate(parsing: "Value A (\\S+)\n\nStart\n  ^${A} -> Record\n", name: "t")
        XCTAssertEqual(try t.parse("x\ny\n").rows, [[.string("x")], [.string("y")]])
    }
}
