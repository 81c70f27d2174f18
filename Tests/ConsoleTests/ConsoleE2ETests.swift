import Foundation
import Lab
import XCTest
import Store
#if canImport(Glibc)
import Glibc
#endif

/// The real `switchboard` binary in tmux, on a fresh data and config directory holding the example
/// network imported through the CLI: the engineer's view of the console, keys in, screens out.
final class TmuxConsole {
    let dir: String
    let socketPath: String
    var environment: [String: String]
    let binary: String

    static let binaryPath: String = buildDirectory + "/switchboard"

    /// `database`: a `--db` value for every command (SWITCHBOARD_DB), e.g. a PostgreSQL URL; nil: the SQLite default.
    init(width: Int = 100, height: Int = 30, database: String? = nil) throws {
        binary = TmuxConsole.binaryPath
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw ConsoleTestFailure("\(binary) is missing: `swift build --build-tests` builds it")
        }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux") else {
            throw ConsoleTestFailure("tmux is missing (scripts/install-deps installs it)")
        }
        dir = NSTemporaryDirectory() + "switchboard-e2e-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        socketPath = dir + "/tmux.sock"
        environment = [
            "HOME": dir, "XDG_CONFIG_HOME": dir + "/config", "XDG_DATA_HOME": dir + "/data",
            "PATH": (binary as NSString).deletingLastPathComponent + ":/usr/bin:/bin", "TERM": "xterm-256color",
            "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "USER": "alice", "PS1": "e2e$ ", "SHELL": "/bin/bash",
        ]
        if let database { environment["SWITCHBOARD_DB"] = database }
        try cli(["import", repositoryRoot + "/setup/examples/switchboard.json"])
        // A known prompt, and nothing from the machine's shell start-up files.
        try "PS1='e2e$ '\n".write(toFile: dir + "/bashrc", atomically: true, encoding: .utf8)
        try tmux(["new-session", "-d", "-s", "e2e", "-x", String(width), "-y", String(height),
                  "/bin/bash --rcfile \(dir)/bashrc --noprofile -i"])
        XCTAssertTrue(wait(for: "e2e$"), "the shell prompt: \(screen())")
    }

    var databasePath: String { dir + "/data/switchboard/switchboard.db" }
    var labUp = false

    /// Starts the lab on free ports; `lab up` writes its devices, credentials and host keys into this
    /// test's database and known_hosts. `stop()` takes it down.
    func startLab(devices: Int = 20) throws {
        labUp = true
        try cli(["lab", "up", "--devices", String(devices), "--base-port", String(LabPorts.freeBasePort(devices: devices))])
    }

    /// Runs the CLI with the test's environment; throws with its output when it fails.
    @discardableResult
    func cli(_ args: [String]) throws -> String {
        let (status, out) = try TmuxConsole.run(binary, args, environment: environment)
        guard status == 0 else { throw ConsoleTestFailure("switchboard \(args.joined(separator: " ")) exited \(status): \(out)") }
        return out
    }

    @discardableResult
    func tmux(_ args: [String]) throws -> String {
        let (status, out) = try TmuxConsole.run("/usr/bin/tmux", ["-S", socketPath] + args, environment: environment)
        guard status == 0 else { throw ConsoleTestFailure("tmux \(args.joined(separator: " ")) exited \(status): \(out)") }
        return out
    }

    /// Runs a program to its end with output to a file (posix_spawn and waitpid: tmux's server
    /// forks away from its client, which Foundation's Process does not always notice ending).
    static func run(_ exe: String, _ args: [String], environment: [String: String], timeout: TimeInterval = 120) throws -> (Int32, String) {
        let outPath = NSTemporaryDirectory() + "sb-e2e-out-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: outPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = [exe] + args
        var cArgs = argv.map { strdup($0) } + [nil]
        var cEnv = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for p in cArgs + cEnv { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, exe, &actions, nil, &cArgs, &cEnv)
        guard rc == 0 else { throw ConsoleTestFailure("cannot run \(exe): \(String(cString: strerror(rc)))") }
        var status: Int32 = 0
        let deadline = Date().addingTimeInterval(timeout)
        while waitpid(pid, &status, WNOHANG) == 0 {
            if Date() > deadline {
                kill(pid, SIGKILL)
                _ = waitpid(pid, &status, 0)
                throw ConsoleTestFailure("\(exe) \(args.joined(separator: " ")) did not finish within \(Int(timeout)) s")
            }
            usleep(10_000)
        }
        let code = status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return (code, String(decoding: FileManager.default.contents(atPath: outPath) ?? Data(), as: UTF8.self))
    }

    /// Types text (literally) into the pane.
    func type(_ text: String) { _ = try? tmux(["send-keys", "-t", "e2e", "-l", text]) }
    /// Presses named keys (Enter, Escape, PageDown, C-k …).
    func press(_ keys: String...) { _ = try? tmux(["send-keys", "-t", "e2e"] + keys) }

    func screen() -> String { (try? tmux(["capture-pane", "-p", "-t", "e2e"])) ?? "" }
    var lines: [String] { screen().components(separatedBy: "\n") }

    /// Waits until the screen satisfies `condition`.
    @discardableResult
    func wait(timeout: TimeInterval = 15, _ condition: (String) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition(screen()) { return true }
            usleep(50_000)
        }
        return false
    }

    @discardableResult
    func wait(for needle: String, timeout: TimeInterval = 15) -> Bool { wait(timeout: timeout) { $0.contains(needle) } }

    func command(_ text: String) {
        type(":" + text)
        press("Enter")
    }

    func stop() {
        // The engine the console started runs detached from it (by design): stop it by its pid.
        if let pid = EngineLock.holder(databasePath: databasePath), pid > 0 {
            kill(pid, SIGTERM)
            let deadline = Date().addingTimeInterval(10)
            while Date() < deadline && EngineLock.holder(databasePath: databasePath) != nil { usleep(50_000) }
            if EngineLock.holder(databasePath: databasePath) != nil { kill(pid, SIGKILL) }
        }
        if labUp { _ = try? cli(["lab", "down"]) }
        _ = try? tmux(["kill-server"])
        try? FileManager.default.removeItem(atPath: dir)
    }
}

struct ConsoleTestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

final class ConsoleE2ETests: XCTestCase {
    var console: TmuxConsole!

    override func setUpWithError() throws {
        console = try TmuxConsole(width: 100, height: 30)
    }

    override func tearDown() {
        console?.stop()
        console = nil
    }

    func testEveryViewFilterDrillDownThemeResizeAndQuitToAnIntactShell() throws {
        let c = console!
        c.type("switchboard console")
        c.press("Enter")
        XCTAssertTrue(c.wait(for: "par-core1"), c.screen())
        XCTAssertTrue(c.lines[0].contains("engine off"), c.lines[0])
        XCTAssertTrue(c.lines[0].contains("running 0"), c.lines[0])
        // Every table, by its command, with something only that table shows.
        let views: [(String, String)] = [
            ("devices", "lon-acc2"), ("links", "par-core1--par-core2"), ("pools", "network-devices"),
            ("credentials", "juniper-netconf"), ("services", "show interfaces"), ("workflows", "version audit"),
            ("runs", "no runs"), ("tasks", "nightly backup"), ("sessions", "no sessions"),
            ("config", "no configuration history"),
        ]
        for (command, needle) in views {
            c.command(command)
            XCTAssertTrue(c.wait(for: needle), ":\(command) shows \(needle): \(c.screen())")
            let crumbs = c.lines[1]
            XCTAssertTrue(crumbs.contains(command == "config" ? "configuration history" : command), crumbs)
        }
        // Filter with /.
        c.command("dev")
        XCTAssertTrue(c.wait(for: "par-core1"))
        c.type("/lon-core")
        c.press("Enter")
        XCTAssertTrue(c.wait { $0.contains("lon-core2") && !$0.contains("par-core1") }, c.screen())
        XCTAssertTrue(c.lines[1].contains("/lon-core"), c.lines[1])
        c.press("Escape")
        XCTAssertTrue(c.wait(for: "par-core1"), c.screen())
        // Drill down: pool → devices, Esc back.
        c.command("pools")
        XCTAssertTrue(c.wait(for: "network-devices"))
        c.type("/name=core")
        c.press("Enter")
        XCTAssertTrue(c.wait { $0.contains("1/1 of") })
        c.press("Enter")
        XCTAssertTrue(c.wait { $0.contains("pools › pool core") && $0.contains("par-core1") && !$0.contains("par-acc1") }, c.screen())
        c.press("Escape")
        XCTAssertTrue(c.wait { $0.contains("/name=core") && !$0.contains("pool core") }, "back on the filtered pools: \(c.screen())")
        // Workflow → tree.
        c.command("wf")
        XCTAssertTrue(c.wait(for: "version audit"))
        c.press("Enter")
        XCTAssertTrue(c.wait(for: "extract version"), c.screen())
        XCTAssertTrue(c.lines[1].contains("workflow version audit"), c.lines[1])
        // Theme, live.
        c.command("theme dark")
        XCTAssertTrue(c.wait(for: "theme dark"), c.screen())
        XCTAssertTrue(c.wait(for: "extract version"), "still drawn after the theme switch")
        // Resize the pane: redrawn at the new size.
        try c.tmux(["resize-window", "-t", "e2e", "-x", "130", "-y", "40"])
        XCTAssertTrue(c.wait {
            let l = $0.components(separatedBy: "\n")
            return l.count >= 40 && l[0].count > 110 && l.contains { $0.contains("extract version") }
        }, c.screen())
        let clock = try NSRegularExpression(pattern: "[0-9]{2}:[0-9]{2}$")
        let header = c.lines[0]
        XCTAssertNotNil(clock.firstMatch(in: header, range: NSRange(location: 0, length: (header as NSString).length)), header)
        XCTAssertEqual(header.count, 129, "the clock ends one column before the new right edge: \(header)")
        try c.tmux(["resize-window", "-t", "e2e", "-x", "80", "-y", "24"])
        XCTAssertTrue(c.wait { $0.components(separatedBy: "\n")[0].count == 79 && $0.contains("extract version") }, c.screen())
        // q quits; the shell prompt comes back, and the terminal is sane.
        c.type("q")
        XCTAssertTrue(c.wait { $0.contains("e2e$") && !$0.contains("extract version") }, c.screen())
        c.type("stty -a; echo READY-$((20+22))")
        c.press("Enter")
        XCTAssertTrue(c.wait(for: "READY-42"), c.screen())
        let after = c.screen()
        let words = Set(after.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == ";" }).map(String.init))
        for mode in ["icanon", "echo", "isig", "icrnl", "opost", "ixon"] {
            XCTAssertTrue(words.contains(mode) && !words.contains("-" + mode), "stty: \(mode) on: \(after)")
        }
        XCTAssertFalse(after.contains("\u{1b}"))
    }

    /// Launch a workflow on lab devices from the console and watch it complete in the live tail. Needs
    /// the engine (`switchboard engine`), which the console starts in the background.
    func testLaunchAWorkflowOnLabDevicesAndWatchItCompleteInTheTail() throws {
        let c = console!
        try c.startLab()
        c.type("switchboard console")
        c.press("Enter")
        XCTAssertTrue(c.wait(for: "par-core1"), c.screen())
        // Mark two devices; the launch dialog starts with them.
        c.type("/core1")
        c.press("Enter")
        XCTAssertTrue(c.wait { $0.contains("lon-core1") && !$0.contains("par-acc1") }, c.screen())
        c.type("g ")
        c.type(" ")
        XCTAssertTrue(c.wait(for: "2 marked"), c.screen())
        c.command("wf")
        XCTAssertTrue(c.wait(for: "version audit"))
        c.type("r")
        XCTAssertTrue(c.wait(for: "run workflow version audit"), c.screen())
        let devices = c.lines.first { $0.contains("devices") && $0.contains("core1") } ?? ""
        XCTAssertEqual(["lon-core1", "nyc-core1", "par-core1"].filter { devices.contains($0) }.count, 2, devices)
        c.press("Enter")
        // The run's live tail: queued, then running with log lines, then completed.
        XCTAssertTrue(c.wait(for: "run 1 version audit", timeout: 20), c.screen())
        let finished = c.wait(timeout: 90) { s in ["completed", "failed", "aborted", "interrupted"].contains { s.components(separatedBy: "\n")[2].contains($0) } }
        let screen = c.screen()
        XCTAssertTrue(finished, screen)
        let head = c.lines[2]
        XCTAssertTrue(head.contains("completed"), "the run completed: \(head)\n\(screen)")
        let progress = try NSRegularExpression(pattern: "  ([0-9]+)/\\1(  |$)")
        XCTAssertNotNil(progress.firstMatch(in: head, range: NSRange(location: 0, length: (head as NSString).length)),
                        "done = total, nothing failed: \(head)")
        XCTAssertNotNil(c.lines[0].range(of: "engine [0-9]+", options: .regularExpression), c.lines[0])
        XCTAssertTrue(screen.contains("lon-core1 ["), "device lines in the tail: \(screen)")
        // From the tail to the results per device, then one device's output.
        c.press("Enter")
        XCTAssertTrue(c.wait { $0.contains("run 1 results") && $0.contains("success") }, c.screen())
        XCTAssertFalse(c.screen().contains(" failed "), c.screen())
        c.press("Enter")
        XCTAssertTrue(c.wait(for: "output of"), c.screen())
        c.type("q")
        XCTAssertTrue(c.wait { $0.contains("e2e$") && !$0.contains("output of") }, c.screen())
        // The engine outlives the console that started it.
        XCTAssertNotNil(EngineLock.holder(databasePath: c.databasePath))
    }
}
