import Foundation
import GRDB
import Lab
import XCTest
import Store
#if canImport(Glibc)
import Glibc
#endif

/// The issue "launch safely, show what happened, leave the terminal clean", end to end: the real
/// binary in tmux.
final class ConsoleSafetyE2ETests: XCTestCase {
    /// Every terminal type the console is tested on: three with an alternate screen, two without.
    static let terminals = ["xterm-256color", "screen", "tmux-256color", "vt100", "linux"]
    static func hasAlternateScreen(_ term: String) -> Bool { !["vt100", "linux"].contains(term) }

    func alternateOn(_ c: TmuxConsole) -> Bool {
        ((try? c.tmux(["display-message", "-p", "-t", "e2e", "#{alternate_on}"])) ?? "").hasPrefix("1")
    }

    func cursorRow(_ c: TmuxConsole) -> Int {
        Int(((try? c.tmux(["display-message", "-p", "-t", "e2e", "#{cursor_y}"])) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }

    /// Non-empty lines of the pane, right-trimmed.
    func shown(_ c: TmuxConsole) -> [String] {
        c.lines.map { String($0.reversed().drop { $0 == " " }.reversed()) }
    }

    /// Prints three lines on a cleared screen, then starts the console with `TERM=term`.
    func startConsole(_ c: TmuxConsole, term: String) {
        c.type("clear; for i in 1 2 3; do echo BEFORE-CONSOLE-$i; done")
        c.press("Enter")
        XCTAssertTrue(c.wait { $0.contains("BEFORE-CONSOLE-3\ne2e$") }, c.screen())
        c.type("TERM=\(term) switchboard console")
        c.press("Enter")
        XCTAssertTrue(c.wait(for: "par-core1"), "\(term): \(c.screen())")
    }

    /// After the console ended: the shell's screen as before it started (with an alternate screen),
    /// or a cleared one (without), the prompt below, and nothing of the console.
    func assertShellIsBack(_ c: TmuxConsole, term: String, how: String, file: StaticString = #filePath, line: UInt = #line) {
        let back = c.wait { s in
            let l = s.components(separatedBy: "\n").map { String($0.reversed().drop { $0 == " " }.reversed()) }.filter { !$0.isEmpty }
            return l.last == "e2e$" && !s.contains("par-core1")
        }
        let lines = shown(c)
        let context = "\(term), \(how):\n\(lines.joined(separator: "\n"))"
        XCTAssertTrue(back, context, file: file, line: line)
        XCTAssertFalse(alternateOn(c), "off the alternate screen: \(context)", file: file, line: line)
        let nonEmpty = lines.filter { !$0.isEmpty }
        for frame in ["par-core1", "devices", "engine off", "<?>", "help"] {
            XCTAssertFalse(nonEmpty.contains { $0.contains(frame) }, "no console frame (\(frame)): \(context)", file: file, line: line)
        }
        if ConsoleSafetyE2ETests.hasAlternateScreen(term) {
            XCTAssertEqual(Array(lines.prefix(5)), ["BEFORE-CONSOLE-1", "BEFORE-CONSOLE-2", "BEFORE-CONSOLE-3",
                                                    "e2e$ TERM=\(term) switchboard console", "e2e$"], context, file: file, line: line)
            XCTAssertEqual(nonEmpty.count, 5, context, file: file, line: line)
            XCTAssertEqual(cursorRow(c), 4, "the prompt right below: \(context)", file: file, line: line)
        } else {
            // No alternate screen: the console drew over the shell's screen; it is cleared on the way out.
            XCTAssertEqual(nonEmpty, ["e2e$"], context, file: file, line: line)
            XCTAssertEqual(lines.first, "e2e$", context, file: file, line: line)
            XCTAssertEqual(cursorRow(c), 0, context, file: file, line: line)
        }
        // The shell works, below.
        c.type("echo AFTER-$((40+2))")
        c.press("Enter")
        XCTAssertTrue(c.wait(for: "AFTER-42"), context, file: file, line: line)
        c.type("clear")
        c.press("Enter")
        _ = c.wait { !$0.contains("AFTER-42") }
    }

    func testQuittingOrInterruptingLeavesTheShellAsItWasOnEveryTerminalType() throws {
        for term in ConsoleSafetyE2ETests.terminals {
            let c = try TmuxConsole(width: 100, height: 30)
            defer { c.stop() }
            startConsole(c, term: term)
            XCTAssertEqual(alternateOn(c), ConsoleSafetyE2ETests.hasAlternateScreen(term), term)
            c.type("q")
            assertShellIsBack(c, term: term, how: "q")
            // Another way out: ctrl+c (SIGINT).
            startConsole(c, term: term)
            c.press("C-c")
            assertShellIsBack(c, term: term, how: "ctrl+c")
            // And :q.
            startConsole(c, term: term)
            c.command("q")
            assertShellIsBack(c, term: term, how: ":q")
        }
    }

    /// After an SSH session from the console, quitting brings the shell's screen back, not the
    /// session's output.
    func testAfterAnSSHSessionTheShellComesBackClean() throws {
        let c = try TmuxConsole(width: 100, height: 30)
        defer { c.stop() }
        try c.startLab()
        for term in ["xterm-256color", "screen", "vt100"] {
            startConsole(c, term: term)
            c.type("/par-acc1")
            c.press("Enter")
            XCTAssertTrue(c.wait { $0.contains("par-acc1") && !$0.contains("par-core1 ") }, c.screen())
            c.type("s")
            XCTAssertTrue(c.wait(for: "par-acc1>", timeout: 30), "\(term): \(c.screen())")
            XCTAssertEqual(alternateOn(c), ConsoleSafetyE2ETests.hasAlternateScreen(term), "the session on the console's screen: \(term)")
            c.type("terminal length 0\r")
            XCTAssertTrue(c.wait { $0.contains("terminal length 0\npar-acc1>") }, c.screen())
            c.type("show version\r")
            XCTAssertTrue(c.wait { s in
                s.contains("Configuration register is")
                    && s.components(separatedBy: "\n").last { !$0.trimmingCharacters(in: .whitespaces).isEmpty }?.hasPrefix("par-acc1>") == true
            }, c.screen())
            c.type("exit\r")
            XCTAssertTrue(c.wait(for: "session to par-acc1 closed"), "\(term): \(c.screen())")
            XCTAssertEqual(alternateOn(c), ConsoleSafetyE2ETests.hasAlternateScreen(term), term)
            c.press("Escape")
            XCTAssertTrue(c.wait(for: "par-core1"), c.screen())
            c.type("q")
            assertShellIsBack(c, term: term, how: "q after a session")
            XCTAssertFalse(c.screen().contains("Configuration register") || c.screen().contains("par-acc1>"), c.screen())
        }
    }

    /// The launch dialog after `:dev platform=cisco_ios` then `:dev`: no stale filter; no targets is
    /// refused with the reason; the dry run shows and toggles; a push is asked first, and `n` queues
    /// nothing.
    func testTheLaunchDialogOffersOnlyWhatIsVisibleAndAsksBeforeAPush() throws {
        let c = try TmuxConsole(width: 100, height: 30)
        defer { c.stop() }
        c.type("switchboard console")
        c.press("Enter")
        XCTAssertTrue(c.wait(for: "par-core1"), c.screen())
        c.command("dev platform=cisco_ios")
        XCTAssertTrue(c.wait { $0.contains("par-acc1") && !$0.contains("par-core1") }, c.screen())
        c.command("dev")
        XCTAssertTrue(c.wait(for: "par-core1"), c.screen())
        c.command("svc")
        XCTAssertTrue(c.wait(for: "set ntp"), c.screen())
        c.type("/set ntp")
        c.press("Enter")
        XCTAssertTrue(c.wait { $0.contains("1/1 of") }, c.screen())
        c.type("r")
        XCTAssertTrue(c.wait(for: "run service set ntp"), c.screen())
        XCTAssertTrue(c.wait(for: "[x] on: nothing is sent"), c.screen())
        XCTAssertFalse(c.screen().contains("platform=cisco_ios"), "no stale filter: \(c.screen())")
        c.press("Enter")
        XCTAssertTrue(c.wait(for: "runs on devices"), "refused without targets: \(c.screen())")
        // Two devices, dry run off: the question, with the count and the names.
        c.type("par-acc1, lon-acc1")
        c.press("C-d")
        XCTAssertTrue(c.wait(for: "[ ] off: changes are pushed"), c.screen())
        c.press("Enter")
        XCTAssertTrue(c.wait(for: "push 'set ntp' to 2 devices: lon-acc1, par-acc1? y/N"), c.screen())
        c.type("n")
        XCTAssertTrue(c.wait { !$0.contains("push 'set ntp'") && $0.contains("run service set ntp") }, c.screen())
        c.press("Escape")
        c.type("q")
        XCTAssertTrue(c.wait(for: "e2e$"), c.screen())
        let runs = try c.cli(["runs"])
        XCTAssertFalse(runs.contains("set ntp"), "nothing queued: \(runs)")
    }
}

/// `a` on a task goes through the scheduler's rule, the one `switchboard task enable/disable` uses.
final class ConsoleTaskE2ETests: XCTestCase {
    /// A task disabled with a stale `next_fire` (here: a year ago) and re-enabled from the console
    /// fires from its next due time, not as a missed fire; disabling clears `next_fire`; a one-shot
    /// whose time has passed is refused with the CLI's reason and stays inactive.
    func testTheTaskToggleUsesTheSchedulersRule() throws {
        let c = try TmuxConsole(width: 120, height: 30)
        defer { c.stop() }
        let database = try AppDatabase(path: c.databasePath)
        let stale = Date().addingTimeInterval(-365 * 86_400)
        try c.cli(["task", "add", "gone", "--service", "show version", "--at", "2099-01-01 00:00"])
        try database.writer.write { db in
            try db.execute(sql: "UPDATE task SET active = 0, next_fire = ? WHERE name = 'hourly version audit'", arguments: [stale])
            try db.execute(sql: "UPDATE task SET start_date = ? WHERE name = 'gone'", arguments: [stale])
        }
        func task(_ name: String) throws -> ScheduledTask {
            try XCTUnwrap(try database.writer.read { db in
                try ScheduledTask.fetchOne(db, sql: "SELECT * FROM task WHERE name = ?", arguments: [name])
            })
        }
        c.type("switchboard console")
        c.press("Enter")
        XCTAssertTrue(c.wait(for: "par-core1"), c.screen())
        c.command("tasks hourly")
        XCTAssertTrue(c.wait { $0.contains("hourly version audit") && $0.contains("1/1 of") }, c.screen())
        c.type("a")
        XCTAssertTrue(c.wait(for: "task hourly version audit enabled; next fire"), c.screen())
        let enabled = try task("hourly version audit")
        XCTAssertTrue(enabled.active)
        let next = try XCTUnwrap(enabled.nextFire, "enabling sets the next fire")
        XCTAssertGreaterThan(next, Date(), "from now on, never a missed fire from the stale one")
        XCTAssertLessThanOrEqual(next, Date().addingTimeInterval(3600 + 5))
        c.type("a")
        XCTAssertTrue(c.wait(for: "task hourly version audit disabled"), c.screen())
        let disabled = try task("hourly version audit")
        XCTAssertFalse(disabled.active)
        XCTAssertNil(disabled.nextFire)
        c.command("tasks gone")
        XCTAssertTrue(c.wait { $0.contains("gone") && $0.contains("1/1 of") }, c.screen())
        c.type("a")
        XCTAssertTrue(c.wait(for: "cannot be enabled: its one-shot time"), c.screen())
        XCTAssertFalse(try task("gone").active)
        c.type("q")
        XCTAssertTrue(c.wait(for: "e2e$"), c.screen())
        let log = try database.writer.read { db in
            try String.fetchAll(db, sql: "SELECT content FROM changelog WHERE target_name = 'hourly version audit' ORDER BY id")
        }
        XCTAssertEqual(log, ["task 'hourly version audit' enabled from the console", "task 'hourly version audit' disabled from the console"])
    }
}

/// The example network out of the box: `demo --no-console`, then the first run succeeds everywhere.
final class DemoE2ETests: XCTestCase {
    func testTheDemoSucceedsOnFirstUseAndKeepsFaultDevicesInTheirOwnPool() throws {
        let c = try TmuxConsole(width: 100, height: 30)
        defer { c.stop() }
        c.labUp = true
        try c.cli(["demo", "--no-console", "--base-port", String(LabPorts.freeBasePort(devices: 20))])
        let database = try AppDatabase(path: c.databasePath)
        let (faults, targeted) = try database.writer.read { db -> ([String], [String]) in
            (try Inventory.poolDevices(db, named: "faults").map(\.name).sorted(),
             try Inventory.poolDevices(db, named: "network-devices").map(\.name))
        }
        XCTAssertEqual(faults.filter { $0.hasPrefix("fault-") }.count, 6, "\(faults)")
        XCTAssertTrue(faults.allSatisfy { $0.hasPrefix("fault-") || $0 == "kbdint-1" }, "\(faults)")
        XCTAssertTrue(Set(faults).isDisjoint(with: targeted), "\(targeted)")
        XCTAssertEqual(targeted.count, 19, "\(targeted)")
        for service in ["show version", "backup configuration"] {
            let (status, out) = try TmuxConsole.run(c.binary, ["run", service, "--follow"], environment: c.environment, timeout: 180)
            XCTAssertEqual(status, 0, "\(service): \(out.suffix(3000))")
            XCTAssertTrue(out.contains(": 19/19 done, 0 failed"), "\(service): \(out.suffix(3000))")
            let run = try XCTUnwrap(try RunQueue(database: database).runs(limit: 1).first)
            XCTAssertEqual(run.serviceName, service)
            XCTAssertEqual(run.status, .completed)
            let results = try RunQueue(database: database).results(run: run.id!)
            XCTAssertEqual(Set(results.map(\.deviceName)), Set(targeted), service)
            for r in results where !r.success { XCTFail("\(service) failed on \(r.deviceName): \(r.output)") }
        }
    }
}
