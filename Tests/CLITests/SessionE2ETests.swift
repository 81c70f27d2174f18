import Foundation
import Lab
import PostgresTestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The real binary in tmux: `send-keys` in, `capture-pane` out.
final class Tmux {
    let socket = "sb-session-" + UUID().uuidString.prefix(8)
    let environment: [String: String]
    let target = "main"

    /// A tmux server of its own, with a plain shell in a window of `width` x `height`.
    init(environment: [String: String], width: Int, height: Int) throws {
        var env = environment
        env.removeValue(forKey: "TMUX")
        self.environment = env
        let (status, output) = run(["new-session", "-d", "-s", target, "-x", "\(width)", "-y", "\(height)",
                                    "env PS1='sbshell$ ' /bin/bash --norc --noprofile"])
        guard status == 0 else {
            throw NSError(domain: "tmux", code: Int(status), userInfo: [NSLocalizedDescriptionKey: "tmux new-session failed: \(output)"])
        }
        _ = run(["set-option", "-g", "history-limit", "5000"])
        XCTAssertTrue(wait(for: "sbshell$"), "the shell in tmux started: \(capture())")
    }

    /// Runs a tmux command: posix_spawn and waitpid (Foundation's Process sometimes never sees a
    /// tmux client exit), output through a file (a server started by the command keeps pipes open).
    @discardableResult
    func run(_ args: [String]) -> (Int32, String) {
        let path = NSTemporaryDirectory() + "tmux-out-" + UUID().uuidString
        defer { unlink(path) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = ["/usr/bin/tmux", "-L", socket, "-f", "/dev/null"] + args
        let envp = environment.map { "\($0.key)=\($0.value)" }
        var cArgs = argv.map { strdup($0) } + [nil]
        var cEnv = envp.map { strdup($0) } + [nil]
        defer { for p in cArgs + cEnv { free(p) } }
        var pid: pid_t = 0
        guard posix_spawn(&pid, argv[0], &actions, nil, &cArgs, &cEnv) == 0 else { return (-1, "posix_spawn failed") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let output = String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self)
        return ((status >> 8) & 0xff, output)
    }

    /// Keys by tmux name (`Enter`, `Escape`, `j`).
    func keys(_ keys: String...) { run(["send-keys", "-t", target] + keys) }

    /// Text typed as is.
    func type(_ text: String) { run(["send-keys", "-t", target, "-l", text]) }

    /// A line typed and Enter.
    func line(_ text: String) {
        type(text)
        keys("Enter")
    }

    /// The visible screen (with `escapes`, its colours and attributes); `history` lines of scrollback too.
    func capture(escapes: Bool = false, history: Int = 0) -> String {
        var args = ["capture-pane", "-p", "-t", target]
        if escapes { args.append("-e") }
        if history > 0 { args += ["-S", "-\(history)"] }
        return run(args).1
    }

    func lines(escapes: Bool = false) -> [String] {
        capture(escapes: escapes).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    /// Waits until the screen (and some scrollback) holds `text`.
    @discardableResult
    func wait(for text: String, timeout: TimeInterval = 20, history: Int = 0) -> Bool {
        wait(timeout: timeout) { self.capture(history: history).contains(text) }
    }

    @discardableResult
    func wait(timeout: TimeInterval = 20, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            usleep(50_000)
        }
        return condition()
    }

    func resize(width: Int, height: Int) {
        run(["resize-window", "-t", target, "-x", "\(width)", "-y", "\(height)"])
    }

    func kill() { run(["kill-server"]) }

    deinit { kill() }
}

/// A lab for the whole class, set up with the CLI on ports nobody else uses.
final class SessionLab: @unchecked Sendable {
    let cli: CLI
    let basePort: Int

    init() throws {
        var cli = try CLI()
        cli.environment.removeValue(forKey: "SSH_AUTH_SOCK")
        self.cli = cli
        basePort = LabPorts.freeBasePort(devices: 20, reserveBelow: 160)
        let up = try cli.run(["lab", "up", "--base-port", "\(basePort)"])
        guard up.status == 0 else { throw NSError(domain: "lab", code: 1, userInfo: [NSLocalizedDescriptionKey: "lab up failed: \(up.stderr)"]) }
        guard up.stdout.contains("reachable only through it") else {
            throw NSError(domain: "lab", code: 1, userInfo: [NSLocalizedDescriptionKey: "the jump host is not isolated (needs root): \(up.stdout)"])
        }
    }

    func stop() {
        _ = try? cli.run(["lab", "down"])
        try? FileManager.default.removeItem(atPath: cli.dir)
    }
}

/// Interactive SSH sessions (issue 7), end to end: the real binary in tmux against the lab.
final class SessionE2ETests: XCTestCase {
    nonisolated(unsafe) static var shared: Result<SessionLab, any Error>?

    override class func setUp() {
        super.setUp()
        shared = Result { try SessionLab() }
    }

    override class func tearDown() {
        if case .success(let lab)? = shared { lab.stop() }
        shared = nil
        super.tearDown()
    }

    var lab: SessionLab {
        get throws {
            switch SessionE2ETests.shared {
            case .success(let lab)?: return lab
            case .failure(let error)?: throw error
            case nil: throw NSError(domain: "lab", code: 1, userInfo: [NSLocalizedDescriptionKey: "no lab"])
            }
        }
    }

    /// The console in tmux, on the devices view.
    func console(width: Int = 100, height: Int = 30) throws -> Tmux {
        let tmux = try Tmux(environment: try lab.cli.environment, width: width, height: height)
        tmux.line(CLI.binary)
        XCTAssertTrue(tmux.wait(for: "par-core1"), tmux.capture())
        return tmux
    }

    /// Lines of the console that must come back as they were: everything but the header (clock)
    /// and the status line (the session's outcome).
    func stableLines(_ tmux: Tmux) -> [String] {
        let lines = tmux.lines(escapes: true)
        let height = lines.last == "" ? lines.count - 1 : lines.count
        // What tmux appends after a line's last character (attribute resets, blanks) depends on
        // how the cells behind it were last written (cleared or overwritten), not on what shows.
        let visible = { (line: String) in
            line.replacingOccurrences(of: "(\u{1b}\\[[0-9;]*m| )+$", with: "", options: .regularExpression)
        }
        return (Array(lines[1..<(height - 2)]) + [lines[height - 1]]).map(visible)
    }

    func testSessionFromTheDevicesViewShowsOutputFollowsResizesAndRestoresTheConsole() throws {
        let tmux = try console()
        defer { tmux.kill() }
        tmux.keys("/")
        tmux.type("name~acc")
        tmux.keys("Enter", "j", "j", "j", "j")
        XCTAssertTrue(tmux.wait(for: "5/6 of"), tmux.capture())
        let before = stableLines(tmux)
        XCTAssertTrue(before.joined().contains("\u{1b}["), "colours or attributes are captured")

        tmux.keys("s")
        XCTAssertTrue(tmux.wait(for: "par-acc1>"), tmux.capture())
        tmux.line("terminal length 0")
        tmux.line("show version")
        XCTAssertTrue(tmux.wait(for: "Configuration register is", history: 100), tmux.capture())  // the end of it: sessions run on the alternate screen, which keeps no scrollback
        tmux.line("show terminal")
        XCTAssertTrue(tmux.wait(for: "Window: 30 rows, 100 columns", history: 100), tmux.capture(history: 100))
        // The window grows: the device learns the new size.
        tmux.resize(width: 120, height: 40)
        XCTAssertTrue(tmux.wait { tmux.line("show terminal"); return tmux.wait(for: "Window: 40 rows, 120 columns", timeout: 2, history: 200) },
                      tmux.capture(history: 100))
        tmux.resize(width: 100, height: 30)
        XCTAssertTrue(tmux.wait { tmux.line("show terminal"); return tmux.wait(for: "Window: 30 rows, 100 columns", timeout: 2, history: 20) },
                      tmux.capture(history: 100))

        // `exit`: the console as it was, same row, same colours.
        tmux.line("exit")
        XCTAssertTrue(tmux.wait(for: "session to par-acc1 closed by the device"), tmux.capture())
        XCTAssertTrue(tmux.wait { self.stableLines(tmux) == before }, "before:\n\(before.joined(separator: "\n"))\nafter:\n\(stableLines(tmux).joined(separator: "\n"))")
        XCTAssertTrue(tmux.capture().contains("5/6 of"))

        // A second session in a row, then the console still answers keys.
        tmux.keys("k", "s")
        XCTAssertTrue(tmux.wait(for: "nyc-acc2>"), tmux.capture())
        tmux.line("exit")
        XCTAssertTrue(tmux.wait(for: "session to nyc-acc2 closed"), tmux.capture())
        XCTAssertTrue(tmux.wait(for: "4/6 of"), tmux.capture())
        tmux.keys("q")
        XCTAssertTrue(tmux.wait(for: "sbshell$"), "the shell prompt is back: \(tmux.capture())")
    }

    func testTildeDotAndAResizeDuringTheSession() throws {
        let tmux = try console()
        defer { tmux.kill() }
        tmux.keys(":")
        tmux.line("ssh par-dist1")
        XCTAssertTrue(tmux.wait(for: "par-dist1>"), tmux.capture())
        tmux.keys("Enter")
        tmux.type("~?")
        XCTAssertTrue(tmux.wait(for: "Supported escape sequences", history: 50), tmux.capture())
        // ~~ sends one ~ (the device echoes it), in the middle of a line ~. is text.
        tmux.type("~~x~.")
        XCTAssertTrue(tmux.wait { tmux.capture(history: 50).split(separator: "\n").contains { $0.hasSuffix("~x~.") } }, tmux.capture())
        XCTAssertFalse(tmux.capture(history: 50).contains("~~x"), "~~ sent one ~")
        tmux.keys("C-u")
        tmux.resize(width: 110, height: 35)
        tmux.keys("Enter")
        tmux.type("~.")
        XCTAssertTrue(tmux.wait(for: "session to par-dist1 disconnected (~.)"), tmux.capture())
        // Redrawn at the new size: 35 lines, the hints on the last one, the header as wide as the window.
        let lines = tmux.lines()
        XCTAssertTrue(lines.count >= 35 && lines[34].contains("<?> help"), lines.joined(separator: "\n"))
        XCTAssertTrue(lines[0].hasPrefix(" Switchboard") && lines[0].count >= 105, lines[0])
        XCTAssertTrue(lines.contains { $0.contains("par-core1") })
        tmux.keys("q")
        XCTAssertTrue(tmux.wait(for: "sbshell$"))
    }

    func testAConnectionCutMidOutputReturnsToTheConsole() throws {
        let tmux = try console()
        defer { tmux.kill() }
        tmux.keys("/")
        tmux.type("fault-dis")
        tmux.keys("Enter")
        XCTAssertTrue(tmux.wait(for: "1/1 of"), tmux.capture())
        let before = stableLines(tmux)
        tmux.keys("s")
        XCTAssertTrue(tmux.wait(for: "fault-disconnect>"), tmux.capture())
        tmux.line("terminal length 0")
        // The device cuts the connection after 3000 bytes of output.
        var returned = false
        for _ in 0..<6 where !returned {
            tmux.line("show version")
            returned = tmux.wait(for: "session to fault-disconnect", timeout: 5)
        }
        XCTAssertTrue(returned, tmux.capture())
        XCTAssertTrue(tmux.wait { self.stableLines(tmux) == before }, tmux.capture())
        tmux.keys("q")
        XCTAssertTrue(tmux.wait(for: "sbshell$"))
    }

    func testSessionThroughTheJumpHost() throws {
        let tmux = try console()
        defer { tmux.kill() }
        tmux.keys(":")
        tmux.line("ssh oob-par-1")
        XCTAssertTrue(tmux.wait(for: "oob-par-1>"), tmux.capture())
        tmux.line("show version")
        XCTAssertTrue(tmux.wait(for: "Cisco IOS Software", history: 100), tmux.capture())  // the first page (paging is on)
        tmux.keys("q")
        tmux.line("exit")
        XCTAssertTrue(tmux.wait(for: "session to oob-par-1 closed"), tmux.capture())
    }

    func testErrorsBeforeTheSessionGoToTheStatusLine() throws {
        let lab = try lab
        // A device nobody answers for, with a credential that applies to it.
        let deadPort = lab.basePort - 150
        let doc = """
            {"format": "switchboard-inventory", "version": 1,
             "devices": [{"name": "dead-1", "address": "127.0.0.1", "port": \(deadPort), "platform": "cisco_ios"}],
             "credentials": [{"name": "dead-key", "username": "nobody", "secret_kind": "password", "secret": "x", "priority": 1, "pools": []}]}
            """
        let file = try lab.cli.write("dead.json", doc)
        let imported = try lab.cli.run(["import", file])
        XCTAssertEqual(imported.status, 0, imported.stderr)

        let tmux = try console()
        defer { tmux.kill() }
        tmux.keys(":")
        tmux.line("ssh dead-1")
        XCTAssertTrue(tmux.wait(for: "dead-1: cannot reach 127.0.0.1:\(deadPort)"), tmux.capture())
        tmux.keys(":")
        tmux.line("ssh fault-auth")
        XCTAssertTrue(tmux.wait(for: "authentication failed"), tmux.capture())
        tmux.keys(":")
        tmux.line("ssh ghost")
        XCTAssertTrue(tmux.wait(for: "no device named 'ghost'"), tmux.capture())
        // An unknown host key: refused with its fingerprint; once known again, the session opens.
        let knownHosts = lab.cli.dir + "/data/switchboard/known_hosts"
        let saved = try String(contentsOfFile: knownHosts, encoding: .utf8)
        try "".write(toFile: knownHosts, atomically: true, encoding: .utf8)
        tmux.keys(":")
        tmux.line("ssh par-acc2")
        XCTAssertTrue(tmux.wait(for: "is not known"), tmux.capture())
        try saved.write(toFile: knownHosts, atomically: true, encoding: .utf8)
        // The console still answers, and the next session works.
        tmux.keys(":")
        tmux.line("ssh par-acc2")
        XCTAssertTrue(tmux.wait(for: "par-acc2>"), tmux.capture())
        tmux.line("exit")
        XCTAssertTrue(tmux.wait(for: "session to par-acc2 closed"), tmux.capture())
        tmux.keys("q")
        XCTAssertTrue(tmux.wait(for: "sbshell$"))
    }

    func testCredentialPickerAndTypedPassword() throws {
        let tmux = try console()
        defer { tmux.kill() }
        tmux.keys("/")
        tmux.type("lon-acc1")
        tmux.keys("Enter")
        XCTAssertTrue(tmux.wait(for: "1/1 of"), tmux.capture())
        tmux.keys("S")
        XCTAssertTrue(tmux.wait(for: "a password typed now"), tmux.capture())
        XCTAssertTrue(tmux.capture().contains("lab-password"))
        // The credentials by priority: lab-key, then lab-password.
        tmux.keys("j", "Enter")
        XCTAssertTrue(tmux.wait(for: "lon-acc1>"), tmux.capture())
        tmux.line("exit")
        XCTAssertTrue(tmux.wait(for: "session to lon-acc1 closed"), tmux.capture())
        // A typed password: masked on screen, used for the login.
        tmux.keys("S")
        XCTAssertTrue(tmux.wait(for: "a password typed now"), tmux.capture())
        for _ in 0..<12 { tmux.keys("j") }
        tmux.keys("Enter")
        XCTAssertTrue(tmux.wait(for: "password for lon-acc1"), tmux.capture())
        tmux.type("switchboard-lab")
        XCTAssertTrue(tmux.wait(for: "***************"), tmux.capture())
        XCTAssertFalse(tmux.capture().contains("switchboard-lab"), "the password is never shown")
        tmux.keys("Enter")
        XCTAssertTrue(tmux.wait(for: "lon-acc1>"), tmux.capture())
        tmux.line("exit")
        XCTAssertTrue(tmux.wait(for: "session to lon-acc1 closed"), tmux.capture())
    }

    func testRecordedTranscriptReplaysExportsAndKeepsNoTypedPassword() throws {
        let lab = try lab
        let secret = "s3cret-never-recorded"
        let tmux = try console()
        defer { tmux.kill() }
        tmux.keys(":")
        tmux.line("ssh par-acc2")
        XCTAssertTrue(tmux.wait(for: "par-acc2>"), tmux.capture())
        tmux.line("enable")
        XCTAssertTrue(tmux.wait(for: "Password:"), tmux.capture())
        tmux.line(secret)
        XCTAssertTrue(tmux.wait(for: "par-acc2#"), tmux.capture())
        tmux.line("show clock")
        tmux.line("exit")
        XCTAssertTrue(tmux.wait(for: "session to par-acc2 closed"), tmux.capture())
        let recorded = try XCTUnwrap(tmux.capture().range(of: "recorded as session ").map { tmux.capture()[$0.upperBound...].prefix { $0.isNumber } })
        let id = String(recorded)

        // Replay inside the console (the session lasted a fraction of a second: real time is quick;
        // the speed keys are covered by ReplayerTests), then back to the sessions view.
        tmux.keys(":")
        tmux.line("sessions")
        XCTAssertTrue(tmux.wait(for: "closed by the device"), "the end reason is listed: \(tmux.capture())")
        tmux.keys("Enter")
        XCTAssertTrue(tmux.wait(for: "end of the replay of session \(id)"), tmux.capture())
        let replayed = tmux.capture()
        XCTAssertTrue(replayed.contains("replay of session \(id) (par-acc2)"), replayed)
        XCTAssertTrue(replayed.contains("par-acc2#show clock"), replayed)
        XCTAssertFalse(replayed.contains(secret))
        tmux.keys("q")
        XCTAssertTrue(tmux.wait(for: "replay of session \(id) done"), tmux.capture())
        XCTAssertTrue(tmux.capture().contains("sessions"))

        // Export: a valid asciicast v2 file.
        let cast = lab.cli.dir + "/s.cast"
        let export = try lab.cli.run(["session", "export", id, cast])
        XCTAssertEqual(export.status, 0, export.stderr)
        let text = try String(contentsOfFile: cast, encoding: .utf8)
        let lines = text.split(separator: "\n")
        let header = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        XCTAssertEqual(header["version"] as? Int, 2)
        XCTAssertEqual(header["width"] as? Int, 100)
        XCTAssertEqual(header["height"] as? Int, 30)
        XCTAssertNotNil(header["timestamp"] as? Int)
        var last = -1.0
        var output = ""
        for line in lines.dropFirst() {
            let event = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [Any])
            XCTAssertEqual(event.count, 3)
            let time = try XCTUnwrap((event[0] as? NSNumber)?.doubleValue)
            XCTAssertGreaterThanOrEqual(time, last, "times never go back")
            last = time
            if event[1] as? String == "o" { output += try XCTUnwrap(event[2] as? String) }
        }
        XCTAssertTrue(output.contains("par-acc2#show clock"), output)
        XCTAssertTrue(output.contains("Password:"))
        XCTAssertFalse(text.contains(secret), "a password typed at a prompt is not in the transcript")
        for suffix in ["", "-wal"] {
            let raw = (try? Data(contentsOf: URL(fileURLWithPath: lab.cli.databasePath + suffix))) ?? Data()
            XCTAssertNil(raw.range(of: Data(secret.utf8)), "the password is not in the database file\(suffix)")
        }
        // The record: bytes both ways, size, end reason.
        let listed = try lab.cli.run(["list", "sessions", "--json"])
        XCTAssertEqual(listed.status, 0, listed.stderr)
        let rows = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])
        let row = try XCTUnwrap(rows.first { "\($0["id"] ?? "")" == id })
        XCTAssertEqual(row["device"] as? String, "par-acc2")
        XCTAssertGreaterThan(row["bytes_in"] as? Int ?? 0, 100)
        XCTAssertGreaterThanOrEqual(row["bytes_out"] as? Int ?? 0, "enable\r\(secret)\rshow clock\rexit\r".utf8.count)
        // Bad input: an unknown session.
        XCTAssertEqual(try lab.cli.run(["session", "export", "999999", cast]).status, 1)
    }

    /// A session opened while a run goes on (the engine talking SSH to the same devices) leaves the
    /// run alone: it completes with every device successful, and the session works throughout.
    func testASessionDuringARunDoesNotDisturbIt() throws {
        let lab = try lab
        let doc = """
            {"format": "switchboard-inventory", "version": 1,
             "services": [
               {"name": "bystander pause", "kind": "wait", "parameters": {"seconds": 4}},
               {"name": "bystander versions", "kind": "cli", "parameters": {"commands": ["show version"]}},
               {"name": "bystander", "kind": "workflow", "traversal": "service", "max_processes": 3,
                "devices": ["par-acc1", "par-acc2", "par-dist1"],
                "members": ["bystander pause", "bystander versions"], "start": "bystander pause"}],
             "workflow_edges": [{"name": "bystander: pause → versions", "workflow": "bystander",
                                 "source": "bystander pause", "destination": "bystander versions", "subtype": "success"}]}
            """
        let imported = try lab.cli.run(["import", try lab.cli.write("bystander.json", doc)])
        XCTAssertEqual(imported.status, 0, imported.stderr)
        // `run --follow` in the background: its exit status says whether every device succeeded.
        let follow = Process()
        follow.executableURL = URL(fileURLWithPath: CLI.binary)
        follow.arguments = ["run", "bystander", "--follow", "--timeout", "90"]
        follow.environment = lab.cli.environment
        let out = lab.cli.dir + "/bystander.out"
        FileManager.default.createFile(atPath: out, contents: nil)
        follow.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        follow.standardError = follow.standardOutput
        try follow.run()
        defer {
            if follow.isRunning { follow.terminate() }
            _ = try? lab.cli.run(["engine", "--stop"])
        }

        let tmux = try console()
        defer { tmux.kill() }
        tmux.keys(":")
        tmux.line("ssh par-acc1")
        XCTAssertTrue(tmux.wait(for: "par-acc1>"), tmux.capture())
        let runs = try lab.cli.run(["runs", "--json"])
        XCTAssertTrue(runs.stdout.contains("\"running\""), "the run is going while the session is open: \(runs.stdout)")
        tmux.line("terminal length 0")
        tmux.line("show version")
        XCTAssertTrue(tmux.wait(for: "Configuration register is", history: 100), tmux.capture())  // the end of it: sessions run on the alternate screen, which keeps no scrollback
        // Stay in the session while the engine reaches the same devices over SSH.
        Thread.sleep(forTimeInterval: 4)
        tmux.line("show clock")
        XCTAssertTrue(tmux.wait(for: "UTC", history: 100), tmux.capture(history: 100))
        tmux.line("exit")
        XCTAssertTrue(tmux.wait(for: "session to par-acc1 closed by the device"), tmux.capture())

        follow.waitUntilExit()
        let log = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        XCTAssertEqual(follow.terminationStatus, 0, log)
        XCTAssertTrue(log.contains("completed: 3/3 done, 0 failed"), log)
        tmux.keys("q")
        XCTAssertTrue(tmux.wait(for: "sbshell$"))
    }

    func testSSHFromTheShell() throws {
        let lab = try lab
        let tmux = try Tmux(environment: lab.cli.environment, width: 100, height: 30)
        defer { tmux.kill() }
        tmux.line(CLI.binary + " ssh par-core1; echo rc=$?")
        XCTAssertTrue(tmux.wait(for: "sblab@par-core1>"), tmux.capture())
        tmux.line("show version")
        XCTAssertTrue(tmux.wait(for: "Junos:", history: 100), tmux.capture())
        tmux.keys("Enter")
        tmux.type("~.")
        XCTAssertTrue(tmux.wait(for: "Connection to par-core1 disconnected (~.). Recorded as session", history: 100), tmux.capture())
        XCTAssertTrue(tmux.wait(for: "rc=0", history: 100), tmux.capture())
        tmux.line(CLI.binary + " ssh --credential lab-password par-dist2; echo rc=$?")
        XCTAssertTrue(tmux.wait(for: "par-dist2>"), tmux.capture())
        tmux.line("exit")
        XCTAssertTrue(tmux.wait(for: "Connection to par-dist2 closed by the device", history: 100), tmux.capture())
        XCTAssertTrue(tmux.wait(for: "rc=0", history: 100), tmux.capture())
        // The terminal is back in cooked mode: the shell echoes and runs a command.
        tmux.line("echo cooked-$((40+2))")
        XCTAssertTrue(tmux.wait(for: "cooked-42"), tmux.capture())
        // Without a terminal: a clear error, exit 1.
        let noTTY = try lab.cli.run(["ssh", "par-core1"])
        XCTAssertEqual(noTTY.status, 1)
        XCTAssertTrue(noTTY.stderr.contains("needs a terminal"), noTTY.stderr)
    }

    /// `switchboard ssh` on PostgreSQL records the session as a row there (not in the SQLite file),
    /// and `session export` writes it back out, as on SQLite.
    func testSSHRecordsOnPostgreSQLAndSessionExportWritesIt() throws {
        let lab = try lab
        let server = try PostgresTestServer.require()
        var pg = lab.cli
        pg.environment["SWITCHBOARD_DB"] = server.socketURL(try server.createDatabase("ssh"))
        // The example network and the running lab's devices into the PostgreSQL database.
        let demo = try pg.run(["demo", "--no-console"])
        XCTAssertEqual(demo.status, 0, demo.stderr)
        XCTAssertTrue(demo.stdout.contains("lab already up"), demo.stdout)
        let sqliteBefore = try lab.cli.run(["list", "sessions", "--json"]).stdout

        let tmux = try Tmux(environment: pg.environment, width: 100, height: 30)
        defer { tmux.kill() }
        tmux.line(CLI.binary + " ssh par-core1; echo rc=$?")
        XCTAssertTrue(tmux.wait(for: "sblab@par-core1>"), tmux.capture())
        tmux.line("show version")
        XCTAssertTrue(tmux.wait(for: "Junos:", history: 100), tmux.capture())
        tmux.keys("Enter")
        tmux.type("~.")
        XCTAssertTrue(tmux.wait(for: "Recorded as session", history: 100), tmux.capture())
        XCTAssertTrue(tmux.wait(for: "rc=0", history: 100), tmux.capture())
        let screen = tmux.capture(history: 100)
        let match = try XCTUnwrap(screen.range(of: #"Recorded as session [0-9]+"#, options: .regularExpression), screen)
        let id = String(screen[match].split(separator: " ").last!)

        let listed = try pg.run(["list", "sessions", "--json"])
        XCTAssertEqual(listed.status, 0, listed.stderr)
        let rows = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]], listed.stdout)
        XCTAssertEqual(rows.count, 1, listed.stdout)
        XCTAssertEqual(rows.first?["device"] as? String, "par-core1", listed.stdout)
        XCTAssertEqual("\(rows.first?["id"] ?? "")", id, listed.stdout)
        XCTAssertGreaterThan(rows.first?["bytes_in"] as? Int ?? 0, 100, "bytes counted: \(listed.stdout)")
        XCTAssertEqual(try lab.cli.run(["list", "sessions", "--json"]).stdout, sqliteBefore, "nothing recorded in the SQLite file")

        let cast = pg.dir + "/pg-session.cast"
        let export = try pg.run(["session", "export", id, cast])
        XCTAssertEqual(export.status, 0, export.stderr)
        XCTAssertTrue(export.stdout.contains("session \(id) (par-core1) written to"), export.stdout)
        let text = try String(contentsOfFile: cast, encoding: .utf8)
        let header = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.split(separator: "\n")[0].utf8)) as? [String: Any])
        XCTAssertEqual(header["version"] as? Int, 2, text)
        XCTAssertTrue(text.contains("Junos:"), "the device's output is in the export")
        let stdout = try pg.run(["session", "export", id, "-"])
        XCTAssertEqual(stdout.stdout, text, "standard output gets the same transcript")
        XCTAssertEqual(try pg.run(["session", "export", "999999", cast]).status, 1)

        // The console on the same PostgreSQL database: a session from the devices view is recorded
        // there too, and listed in its sessions table.
        tmux.line(CLI.binary)
        XCTAssertTrue(tmux.wait(for: "par-core1"), tmux.capture())
        tmux.keys("/")
        tmux.type("name~par-acc1")
        tmux.keys("Enter")
        XCTAssertTrue(tmux.wait(for: "1/1 of"), tmux.capture())
        tmux.keys("s")
        XCTAssertTrue(tmux.wait(for: "par-acc1>"), tmux.capture())
        tmux.line("exit")
        XCTAssertTrue(tmux.wait(for: "session to par-acc1 closed by the device"), tmux.capture())
        tmux.keys("Escape")
        tmux.type(":sessions")
        tmux.keys("Enter")
        XCTAssertTrue(tmux.wait { let s = tmux.capture(); return s.contains("par-acc1") && s.contains("par-core1") }, tmux.capture())
        tmux.keys("q")
        XCTAssertTrue(tmux.wait(for: "sbshell$"), tmux.capture())
        let after = try pg.run(["list", "sessions", "--json"])
        let all = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(after.stdout.utf8)) as? [[String: Any]], after.stdout)
        XCTAssertEqual(all.compactMap { $0["device"] as? String }.sorted(), ["par-acc1", "par-core1"], after.stdout)
        XCTAssertEqual(try lab.cli.run(["list", "sessions", "--json"]).stdout, sqliteBefore, "still nothing in the SQLite file")
    }
}
