import Foundation
import GRDB
import Lab
import XCTest
import Store

/// `:pulse` in the real binary, in tmux, on the example network after a backup run on the lab:
/// the run, the devices' states, the changed backups and the slowest devices as the store has
/// them; `[` and `]` go to the devices and back.
final class PulseE2ETests: XCTestCase {
    var console: TmuxConsole!

    override func setUpWithError() throws {
        console = try TmuxConsole(width: 120, height: 32)
    }

    override func tearDown() {
        console?.stop()
        console = nil
    }

    func testPulseAfterABackupRunAndHistoryKeys() throws {
        let c = console!
        try c.startLab()
        let out = try c.cli(["run", "backup configuration", "--follow"])
        let database = try AppDatabase(path: c.databasePath)
        let (status, succeeded, backedUp, changed, slowest) = try database.writer.read { db in
            (try String.fetchOne(db, sql: "SELECT status FROM run ORDER BY id DESC LIMIT 1"),
             try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM device WHERE last_run_status = 'success'") ?? 0,
             try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM device WHERE last_backup_time IS NOT NULL") ?? 0,
             try Int.fetchOne(db, sql: "SELECT COUNT(DISTINCT device_id) FROM config_snapshot") ?? 0,
             try String.fetchOne(db, sql: "SELECT device_name FROM result WHERE device_name <> '' GROUP BY device_name ORDER BY AVG(duration_ms) DESC, device_name LIMIT 1"))
        }
        XCTAssertEqual(status, "completed", out)
        XCTAssertGreaterThan(succeeded, 0)
        let ok = status == "completed" ? 1 : 0

        c.type("switchboard console")
        c.press("Enter")
        XCTAssertTrue(c.wait(for: "par-core1"), c.screen())
        c.command("pulse")
        XCTAssertTrue(c.wait(for: "Runs ended, last 24h"), c.screen())
        let screen = c.screen()
        XCTAssertTrue(screen.contains("\(ok) succeeded, \(1 - ok) failed, at most 1 in 15 min"), screen)
        XCTAssertTrue(screen.contains("success \(succeeded)"), screen)
        XCTAssertTrue(screen.contains("queued 0   running 0"), screen)
        XCTAssertTrue(screen.contains("Backups changed today   \(changed) device\(changed == 1 ? "" : "s") of \(backedUp) backed up"), screen)
        let slowestRow = c.lines.firstIndex { $0.contains("Slowest devices") }
        XCTAssertNotNil(slowestRow, screen)
        if let row = slowestRow, let slowest {
            XCTAssertTrue(c.lines[row + 1].contains(slowest), screen)
            XCTAssertTrue(c.lines[row + 1].contains("█"), "Unicode bars in a UTF-8 locale: \(screen)")
        }
        // The succeeded sparkline ends with one full block: the run ended in this quarter hour.
        let okRow = c.lines.first { $0.hasPrefix(ok == 1 ? "   succeeded " : "   failed ") } ?? ""
        XCTAssertTrue(okRow.contains("█ 1"), okRow)

        // `[` back to the devices, `]` forward to the pulse.
        c.type("[")
        XCTAssertTrue(c.wait { $0.contains("par-core1") && !$0.contains("Runs ended") }, c.screen())
        c.type("]")
        XCTAssertTrue(c.wait(for: "Runs ended, last 24h"), c.screen())
        c.type("q")
        XCTAssertTrue(c.wait { $0.contains("e2e$") && !$0.contains("Runs ended") }, c.screen())
    }
}
