import Foundation
import XCTest
import Store

/// The Describe and Xray views in the real binary, in tmux, on the demo's data (the example
/// network plus what `lab up` writes: its devices, pool and credentials).
final class DetailE2ETests: XCTestCase {
    var console: TmuxConsole!

    override func setUpWithError() throws {
        console = try TmuxConsole(width: 120, height: 40)
    }

    override func tearDown() {
        console?.stop()
        console = nil
    }

    func testXrayShowsPoolsAndTheChosenCredentialAndDescribeShowsNoSecret() throws {
        let c = console!
        try c.startLab(devices: 4)
        // The engine's choice, as `show device` reports it through the same rule.
        let shown = try c.cli(["show", "device", "par-core1", "--json"])
        guard let object = try JSONSerialization.jsonObject(with: Data(shown.utf8)) as? [String: Any],
              let chosen = object["credential"] as? String else { return XCTFail("show device: \(shown)") }
        c.type("switchboard console")
        c.press("Enter")
        XCTAssertTrue(c.wait(for: "par-core1"), c.screen())
        c.type("/name=par-core1")
        c.press("Enter")
        XCTAssertTrue(c.wait { $0.contains("1/1 of") }, c.screen())
        c.type("x")
        XCTAssertTrue(c.wait(for: "credential that would be chosen"), c.screen())
        let xray = c.screen()
        XCTAssertTrue(xray.contains("xray par-core1"), xray)
        XCTAssertTrue(xray.contains("pools ("), xray)
        XCTAssertTrue(xray.contains("all-devices"), xray)
        XCTAssertTrue(xray.contains("juniper"), xray)
        XCTAssertTrue(xray.contains("├─ \(chosen): user "), "the chosen credential \(chosen): \(xray)")
        XCTAssertTrue(xray.contains("why: "), xray)
        XCTAssertFalse(xray.contains("\u{1b}"))
        // Esc goes back to the (filtered) devices.
        c.press("Escape")
        XCTAssertTrue(c.wait { $0.contains("/name=par-core1") && !$0.contains("credential that would be chosen") }, c.screen())

        // d on a credential: metadata, no secret (the example's and the lab's passwords).
        c.command("creds")
        XCTAssertTrue(c.wait(for: "lab-admin"), c.screen())
        c.type("/name=lab-admin")
        c.press("Enter")
        XCTAssertTrue(c.wait { $0.contains("1/1 of") }, c.screen())
        c.type("d")
        XCTAssertTrue(c.wait(for: "username: sblab"), c.screen())
        let describe = c.screen()
        XCTAssertTrue(describe.contains("credential lab-admin"), describe)
        XCTAssertTrue(describe.contains("authentication: password (set, sealed)"), describe)
        for secret in ["switchboard-lab", "viewer-lab", "junos-lab", "sb1:"] {
            XCTAssertFalse(describe.contains(secret), "\(secret) on screen: \(describe)")
        }

        // Enter on a task: its schedule and the scheduler's next fires (the engine's arithmetic).
        c.command("tasks")
        XCTAssertTrue(c.wait(for: "nightly backup"), c.screen())
        c.type("/name~^nightly")
        c.press("Enter")
        XCTAssertTrue(c.wait { $0.contains("1/1 of") }, c.screen())
        c.press("Enter")
        XCTAssertTrue(c.wait(for: "next fires"), c.screen())
        XCTAssertTrue(c.wait(for: "inactive: the due times if enabled now"), c.screen())
        XCTAssertTrue(c.screen().contains("02:30:00"), c.screen())
        c.type("q")
        XCTAssertTrue(c.wait(for: "e2e$"), c.screen())
    }
}
