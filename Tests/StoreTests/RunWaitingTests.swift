import XCTest
@testable import Store

/// The waiting reason of a run whose units no active engine serves (regions), as `runs` and the
/// console show it.
final class RunWaitingTests: XCTestCase {
    typealias W = RunWaiting.Waiting

    func testPoolsNameTheWaitWhenNoRegionIsAFilter() {
        XCTAssertEqual(RunWaiting.reason([W(device: "edge1", pools: ["eu-edge"]), W(device: "edge2", pools: ["eu-edge"])], activeEngines: 2, filters: false),
                       "waiting: no engine serves pool eu-edge")
        XCTAssertEqual(RunWaiting.reason([W(device: "a", pools: ["eu-edge"]), W(device: "b", pools: ["us-edge", "eu-edge"])], activeEngines: 1, filters: false),
                       "waiting: no engine serves pools eu-edge, us-edge")
    }

    func testDevicesInNoPoolAreNamedThemselves() {
        XCTAssertEqual(RunWaiting.reason([W(device: "a", pools: ["eu-edge"]), W(device: "lonely", pools: [])], activeEngines: 1, filters: false),
                       "waiting: no engine serves pool eu-edge; no engine serves device lonely")
    }

    func testAFilterRegionNamesDevicesNotPools() {
        XCTAssertEqual(RunWaiting.reason([W(device: "r2", pools: ["edge"]), W(device: "r1", pools: [])], activeEngines: 1, filters: true),
                       "waiting: no engine serves devices r1, r2")
    }

    func testLongListsEndWithHowManyMore() {
        let many = (1...9).map { W(device: "d\($0)", pools: []) }
        XCTAssertEqual(RunWaiting.reason(many, activeEngines: 1, filters: false), "waiting: no engine serves devices d1, d2, d3, d4 and 5 more")
    }

    func testNoActiveEngineSaysSo() {
        XCTAssertEqual(RunWaiting.reason([W(device: "a", pools: ["p"])], activeEngines: 0, filters: false), "waiting: no engine is active")
        XCTAssertEqual(RunWaiting.reason([], activeEngines: 1, filters: false), "")
    }

    func testAnEngineSaysWhatItServes() {
        func entry(_ pools: [String], _ filter: String, _ n: Int?) -> EngineEntry {
            EngineEntry(id: 1, host: "h", pid: 1, version: "", capacity: 0, pools: pools, startedAt: nil, heartbeatAgeSeconds: 0, state: .active,
                        inFlight: 0, filter: filter, servedDevices: n)
        }
        XCTAssertEqual(entry([], "", nil).serves, "all devices")
        XCTAssertEqual(entry(["eu-core", "eu-edge"], "", 12).serves, "pools eu-core,eu-edge (12 devices)")
        XCTAssertEqual(entry(["eu-core"], "platform=arista_eos", 1).serves, "pool eu-core; filter 'platform=arista_eos' (1 device)")
    }
}
