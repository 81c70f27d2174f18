import Foundation
import GRDB
import XCTest
@testable import Store

final class PoolMembershipTests: XCTestCase {
    var t: TempStore!

    override func setUpWithError() throws {
        t = try TempStore()
        _ = try t.device("par-core1", platform: "juniper_junos", location: "Paris", properties: ["role": .string("core")])
        _ = try t.device("par-acc1", platform: "cisco_ios", location: "Paris")
        _ = try t.device("lon-core1", platform: "juniper_junos", location: "London")
        _ = try t.device("lon-dist1", platform: "arista_eos", location: "")
    }

    func testInclusionIsCaseInsensitiveSubstring() throws {
        _ = try t.pool("p", [PoolCriterion(property: "location", value: "par", match: .inclusion)])
        XCTAssertEqual(try t.members("p"), ["par-acc1", "par-core1"])
    }

    func testEqualityIsExact() throws {
        _ = try t.pool("p", [PoolCriterion(property: "platform", value: "juniper_junos", match: .equality)])
        XCTAssertEqual(try t.members("p"), ["lon-core1", "par-core1"])
        _ = try t.pool("q", [PoolCriterion(property: "platform", value: "juniper", match: .equality)])
        XCTAssertEqual(try t.members("q"), [])
    }

    func testRegexIsUnanchoredSearch() throws {
        _ = try t.pool("p", [PoolCriterion(property: "name", value: "core\\d", match: .regex)])
        XCTAssertEqual(try t.members("p"), ["lon-core1", "par-core1"])
        _ = try t.pool("q", [PoolCriterion(property: "name", value: "^lon", match: .regex)])
        XCTAssertEqual(try t.members("q"), ["lon-core1", "lon-dist1"])
    }

    func testEmptyMatchesEmptyValues() throws {
        _ = try t.pool("p", [PoolCriterion(property: "location", value: "", match: .empty)])
        XCTAssertEqual(try t.members("p"), ["lon-dist1"])
    }

    func testInvertNegates() throws {
        _ = try t.pool("p", [PoolCriterion(property: "location", value: "Paris", match: .equality, invert: true)])
        XCTAssertEqual(try t.members("p"), ["lon-core1", "lon-dist1"])
    }

    func testCriteriaAreANDedAndCustomPropertiesCount() throws {
        _ = try t.pool("p", [PoolCriterion(property: "location", value: "Paris", match: .equality),
                             PoolCriterion(property: "role", value: "core", match: .equality)])
        XCTAssertEqual(try t.members("p"), ["par-core1"])
    }

    func testManualDevicesAddToCriteriaMembers() throws {
        _ = try t.pool("p", [PoolCriterion(property: "location", value: "London", match: .equality)], manual: ["par-acc1", "lon-core1"])
        XCTAssertEqual(try t.members("p"), ["lon-core1", "par-acc1"])
        XCTAssertEqual(try t.count("p"), 2)
    }

    func testMembershipFollowsDeviceChanges() throws {
        _ = try t.pool("paris", [PoolCriterion(property: "location", value: "Paris", match: .equality)])
        XCTAssertEqual(try t.count("paris"), 2)
        // Move a device to Paris, add a new one there, delete one: the pool follows each change.
        _ = try t.device("lon-dist1", platform: "arista_eos", location: "Paris")
        XCTAssertEqual(try t.members("paris"), ["lon-dist1", "par-acc1", "par-core1"])
        _ = try t.device("par-new", location: "Paris")
        XCTAssertEqual(try t.count("paris"), 4)
        try t.database.writer.write { try Inventory.deleteDevice($0, named: "par-acc1") }
        XCTAssertEqual(try t.members("paris"), ["lon-dist1", "par-core1", "par-new"])
        XCTAssertEqual(try t.count("paris"), 3)
        _ = try t.device("par-core1", platform: "juniper_junos", location: "Lyon")
        XCTAssertEqual(try t.members("paris"), ["lon-dist1", "par-new"])
    }

    func testMembershipFollowsPoolChanges() throws {
        _ = try t.pool("p", [PoolCriterion(property: "location", value: "Paris", match: .equality)])
        _ = try t.pool("p", [PoolCriterion(property: "location", value: "London", match: .equality)])
        XCTAssertEqual(try t.members("p"), ["lon-core1"])
        // The Paris member set is no longer used by any pool and is gone.
        let sets = try t.database.writer.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM member_set") }
        XCTAssertEqual(sets, 1)
    }

    func testPoolsWithIdenticalCriteriaShareOneMemberSet() throws {
        for i in 0..<50 { _ = try t.pool("all \(i)", [PoolCriterion(property: "name", value: ".*", match: .regex)]) }
        let sets = try t.database.writer.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM member_set") }
        XCTAssertEqual(sets, 1)
        XCTAssertEqual(try t.count("all 42"), 4)
        _ = try t.device("new")
        XCTAssertEqual(try t.count("all 7"), 5)
    }

    func testDeviceToPools() throws {
        _ = try t.pool("paris", [PoolCriterion(property: "location", value: "Paris", match: .equality)])
        _ = try t.pool("core", [PoolCriterion(property: "name", value: "core", match: .inclusion)])
        _ = try t.pool("hand", [], manual: ["par-acc1"])
        let dev = try t.database.writer.read { try Inventory.device($0, named: "par-acc1")! }
        XCTAssertEqual(try t.database.writer.read { try PoolMembership.poolNames($0, deviceId: dev.id!) }, ["hand", "paris"])
    }

    func testBadRegexIsRefusedWithThePoolName() throws {
        XCTAssertThrowsError(try t.pool("broken", [PoolCriterion(property: "name", value: "([", match: .regex)])) { error in
            XCTAssertTrue("\(error)".contains("broken"), "\(error)")
            XCTAssertTrue("\(error)".contains("(["), "\(error)")
        }
        XCTAssertNil(try t.database.writer.read { try Inventory.pool($0, named: "broken") })
    }

    func testMemberSetEncodingRoundTrips() {
        let sparse = MemberSet([1, 5, 100_000, 7])
        XCTAssertEqual(MemberSet(encoded: sparse.encoded()), sparse)
        XCTAssertEqual(sparse.encoded().first, 0)
        let dense = MemberSet((1...80_000).map(Int64.init))
        XCTAssertEqual(dense.encoded().first, 1, "a dense set is stored as a bitmap")
        XCTAssertLessThan(dense.encoded().count, 10_100)
        XCTAssertEqual(MemberSet(encoded: dense.encoded()), dense)
        XCTAssertEqual(MemberSet(encoded: MemberSet([]).encoded()).count, 0)
    }

    func testPatternFastPathsAgreeWithTheRegexEngine() throws {
        let subjects = ["d1", "d1000", "xd10", "", "router-d1", "D1", "d1$"]
        for p in [".*", "d1", "^d1", "d1$", "^d1$", "^.*$", "d1.*", ".*d1", "d[0-1]\\d{3}", "^$"] {
            let fast = try Pattern(p)
            let slow = try NSRegularExpression(pattern: p)
            for s in subjects {
                let expected = slow.firstMatch(in: s, range: NSRange(location: 0, length: (s as NSString).length)) != nil
                XCTAssertEqual(fast.matches(s), expected, "pattern \(p) on '\(s)'")
            }
        }
    }
}
