import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@testable import LabDevice

/// The device on a pseudo-terminal, as sshd runs it for a shell channel, and the session-setup
/// conversations of netmiko and scrapli: what automation needs from the simulated CLI.
final class TerminalTests: XCTestCase {
    // MARK: Echo on a PTY

    /// An Enter sent before the banner shows up after the prompt, echoed by the CLI when it reads
    /// it -- `r1>` newline `r1>`, never `r1>r1>` (what the terminal driver's echo used to produce,
    /// and what made scrapli fail "determining prompt").
    func testEarlyEnterIsEchoedAfterThePrompt() throws {
        let lab = try TestLab()
        let cases: [(device: String, prompt: String)] = [
            ("r1", "r1>"), ("sw1", "sw1>"), ("n1", "n1#"), ("j1", "admin@j1> "), ("h1", "admin@h1:~$ "),
        ]
        for (device, prompt) in cases {
            let pty = try lab.startOnPTY(device, typedAhead: "\r")
            defer { pty.terminate() }
            let second = try pty.waitFor(prompt + "\r\n" + prompt)
            let transcript = pty.text(from: 0, to: second)
            XCTAssertFalse(transcript.contains(prompt + prompt), "\(device): doubled prompt:\n\(transcript.debugDescription)")
            XCTAssertEqual(transcript.components(separatedBy: prompt).count - 1, 2, "\(device): \(transcript.debugDescription)")
            if let banner = transcript.range(of: "Switchboard lab"), let first = transcript.range(of: prompt) {
                XCTAssertLessThan(banner.lowerBound, first.lowerBound, "\(device): banner before the prompt")
            } else {
                XCTFail("\(device): no banner or prompt in \(transcript.debugDescription)")
            }
            pty.send("exit\r")
            XCTAssertEqual(try pty.waitForExit(), 0, device)
        }
    }

    func testTerminalIsRawWhileTheCLIRunsAndRestoredAfter() throws {
        let lab = try TestLab()
        let before = try XCTUnwrap(PTYDevice.modes(of: try PTYDevice.openPair()))
        XCTAssertTrue(before.echo && before.canonical, "a fresh PTY is cooked, as sshd hands it over")

        let pty = try lab.startOnPTY("r1")
        defer { pty.terminate() }
        try pty.waitFor("r1>")
        let during = try XCTUnwrap(pty.modes)
        XCTAssertFalse(during.echo, "the driver must not echo: the CLI does")
        XCTAssertFalse(during.canonical, "the CLI reads bytes, not lines")
        XCTAssertFalse(during.mapsCRToNL, "CR reaches the CLI as typed")
        XCTAssertTrue(during.mapsNLToCRNL, "output newlines still become CRLF")
        pty.send("exit\r")
        XCTAssertEqual(try pty.waitForExit(), 0)
        let after = try XCTUnwrap(pty.modes)
        XCTAssertTrue(after.echo && after.canonical && after.mapsCRToNL, "settings restored on exit")
    }

    /// Input typed while a command's output is being produced is not echoed then, but when the CLI
    /// reads it after the next prompt; CR, LF and CRLF are each one Enter.
    func testTypeAheadIsEchoedWhenRead() throws {
        let lab = try TestLab()
        let pty = try lab.startOnPTY("r1")
        defer { pty.terminate() }
        let start = try pty.waitFor("r1>")
        pty.send("terminal length 0\r\n")
        let lengthSet = try pty.waitFor("r1>terminal length 0\r\nr1>", after: start - 3)
        pty.send("show version\rshow clock\nshow privilege\r\n")
        let privilege = try pty.waitFor("Current privilege level is 1\r\nr1>", after: lengthSet)
        let transcript = pty.text(from: lengthSet - 3, to: privilege)
        guard let version = transcript.range(of: "r1>show version\r\n"),
              let register = transcript.range(of: "Configuration register is 0x2102\r\n"),
              let clock = transcript.range(of: "r1>show clock\r\n"),
              let privilegeEcho = transcript.range(of: "r1>show privilege\r\nCurrent privilege level is 1") else {
            return XCTFail("echo out of order or missing:\n\(transcript.debugDescription)")
        }
        XCTAssertLessThan(version.upperBound, register.lowerBound)
        XCTAssertEqual(register.upperBound, clock.lowerBound, "`show clock` is echoed after the prompt that follows the output")
        XCTAssertLessThan(clock.upperBound, privilegeEcho.lowerBound)
        XCTAssertEqual(transcript.components(separatedBy: "show clock").count - 1, 1, "echoed once:\n\(transcript.debugDescription)")
        XCTAssertFalse(transcript.contains("r1>\r\nr1>"), "CRLF and CR+LF across lines count once:\n\(transcript.debugDescription)")
        pty.send("exit\r")
        XCTAssertEqual(try pty.waitForExit(), 0)
    }

    func testLineEditingKeys() throws {
        let lab = try TestLab()
        let pty = try lab.startOnPTY("r1")
        defer { pty.terminate() }
        var mark = try pty.waitFor("r1>")

        // Backspace and DEL erase one character each.
        pty.send("show clcok\u{7f}\u{7f}\u{8}ock\r")
        mark = try pty.waitFor("r1>", after: mark)
        var text = pty.text(from: 0, to: mark)
        XCTAssertTrue(text.contains("r1>show clcok\u{8} \u{8}\u{8} \u{8}\u{8} \u{8}ock\r\n"), text.debugDescription)
        XCTAssertTrue(text.contains(" UTC "), "`show clock` ran: \(text.debugDescription)")
        XCTAssertFalse(text.contains("% Invalid"), text.debugDescription)

        // Ctrl-U kills the line, Ctrl-W a word.
        pty.send("bogus\u{15}show priv wrong\u{17}\u{7f}ilege\r")
        mark = try pty.waitFor("Current privilege level is 1\r\nr1>", after: mark)
        text = pty.text(from: 0, to: mark)
        XCTAssertTrue(text.contains("bogus" + String(repeating: "\u{8} \u{8}", count: 5) + "show priv wrong"
                                    + String(repeating: "\u{8} \u{8}", count: 6) + "ilege\r\n"), text.debugDescription)

        // Ctrl-C drops the line and prompts again; arrow keys and Tab are ignored.
        let before = mark
        pty.send("configure\u{3}")
        mark = try pty.waitFor("r1>configure^C\r\nr1>", after: before - 3)
        pty.send("\u{1b}[Ash\tow clock\u{1b}[D\r")
        mark = try pty.waitFor(" UTC ", after: mark)
        mark = try pty.waitFor("r1>", after: mark)
        text = pty.text(from: before, to: mark)
        XCTAssertTrue(text.contains("r1>show clock\r\n"), text.debugDescription)
        XCTAssertFalse(text.contains("% Invalid") || text.contains("% Incomplete"), text.debugDescription)

        // A secret is not echoed; its Enter is.
        pty.send("enable\r")
        mark = try pty.waitFor("r1>enable\r\nPassword: ", after: mark - 3)
        pty.send("s3cret\r")
        mark = try pty.waitFor("Password: \r\nr1#", after: mark - 10)
        XCTAssertFalse(pty.text(from: 0, to: pty.count).contains("s3cret"))
        pty.send("exit\r")
        XCTAssertEqual(try pty.waitForExit(), 0)
    }

    /// The pager's keys are single keystrokes, never echoed.
    func testPagerOnPTY() throws {
        let lab = try TestLab()
        let pty = try lab.startOnPTY("j1")
        defer { pty.terminate() }
        let start = try pty.waitFor("admin@j1> ")
        pty.send("show configuration\r")
        let more = try pty.waitFor("---(more)---", after: start)
        pty.send(" ")
        let second = try pty.waitFor("---(more)---", after: more)
        pty.send("q")
        let prompt = try pty.waitFor("admin@j1> ", after: second)
        XCTAssertEqual(pty.text(from: second, to: prompt), "\r            \radmin@j1> ")
        pty.send("exit\r")
        XCTAssertEqual(try pty.waitForExit(), 0)
    }

    /// Piped stdin (no PTY) and the exec channel never echo.
    func testNoEchoWithoutPTY() throws {
        let lab = try TestLab()
        let piped = try lab.run(["--device", "sw1"], stdin: "show clock\r\nexit\r\n")
        XCTAssertFalse(piped.stdout.contains("show clock"), piped.stdout)
        XCTAssertEqual(piped.stdout.components(separatedBy: "sw1>").count - 1, 2, "CRLF is one Enter:\n\(piped.stdout)")
        let exec = try lab.exec("sw1", "show clock")
        XCTAssertFalse(exec.stdout.contains("show clock"))
        XCTAssertFalse(exec.stdout.contains("sw1>"))
    }

    // MARK: Platform answers automation waits for

    func testEOSTerminalConfirmations() throws {
        let lab = try TestLab()
        let result = try lab.run(["--device", "sw1"], stdin: """
            terminal width 511
            terminal length 0
            terminal length 30
            term width 32767
            terminal width 32768
            show terminal
            exit

            """)
        let out = result.stdout
        XCTAssertTrue(out.contains("sw1>Width set to 511 columns.\nsw1>Pagination disabled.\nsw1>Pagination set to 30 lines.\n"
                                   + "sw1>Width set to 32767 columns.\nsw1>% Invalid input\n"), out)
        XCTAssertTrue(out.contains("Length: 30 lines, Width: 32767 columns"), out)
        let exec = try lab.exec("sw1", "term width 32767; term len 0")
        XCTAssertEqual(exec.stdout, "Width set to 32767 columns.\nPagination disabled.\n")
    }

    func testIOSAndNXOSTerminalSettingsAreSilent() throws {
        let lab = try TestLab()
        let ios = try lab.run(["--device", "r1"], stdin: "terminal width 512\nterminal length 0\nterminal width 513\nexit\n")
        XCTAssertTrue(ios.stdout.contains("r1>r1>r1>"), ios.stdout)
        XCTAssertTrue(ios.stdout.contains("% Invalid input detected"), "IOS widths stop at 512:\n\(ios.stdout)")
        let nxos = try lab.run(["--device", "n1"], stdin: "terminal width 511\nterminal length 0\nexit\n")
        XCTAssertTrue(nxos.stdout.contains("n1#n1#n1#"), nxos.stdout)
    }

    func testJunosCLISettingsConfirmations() throws {
        let lab = try TestLab()
        let result = try lab.run(["--device", "j1"], stdin: """
            set cli screen-width 511
            set cli complete-on-space off
            set cli screen-length 0
            show cli
            set cli complete-on-space on
            set cli complete-on-space
            exit

            """)
        let out = result.stdout
        XCTAssertTrue(out.contains("admin@j1> Screen width set to 511\nadmin@j1> Disabling complete-on-space\n"
                                   + "admin@j1> Screen length set to 0\n"), out)
        XCTAssertTrue(out.contains("CLI complete-on-space set to off\n"), out)
        XCTAssertTrue(out.contains("admin@j1> Enabling complete-on-space\n"), out)
        XCTAssertTrue(out.contains("syntax error, command is incomplete."), "on or off is required:\n\(out)")
    }

    func testNXOSLoginLandsPrivileged() throws {
        let lab = try TestLab()
        let result = try lab.run(["--device", "n1"], stdin: "show privilege\nshow running-config | include hostname\nenable\nexit\n")
        let out = result.stdout
        XCTAssertTrue(out.contains("\n\nn1#Current privilege level is 15\nn1#"), out)
        XCTAssertTrue(out.contains("hostname n1"), out)
        XCTAssertFalse(out.contains("n1>"), out)
        XCTAssertFalse(out.contains("Password:"), "`enable` at n1# asks nothing:\n\(out)")
        // IOS and EOS still start unprivileged.
        XCTAssertTrue(try lab.run(["--device", "r1"], stdin: "exit\n").stdout.hasSuffix("r1>"))
        XCTAssertTrue(try lab.run(["--device", "sw1"], stdin: "exit\n").stdout.hasSuffix("sw1>"))
    }

    /// Every line netmiko 4.8 (`session_preparation`) and scrapli 2 (the platform definitions'
    /// `on_open_instructions`) send when a session opens, with what they wait for: accepted
    /// without an error, the confirmations they match, and the prompt the mode patterns expect.
    func testAutomationSessionSetupIsAccepted() throws {
        let lab = try TestLab()
        struct Setup {
            var tool: String
            var device: String
            var input: String
            var expected: [String]
            /// scrapli's prompt pattern for the mode it must reach (or netmiko's base prompt).
            var promptPattern: String
        }
        let setups: [Setup] = [
            Setup(tool: "netmiko cisco_ios", device: "r1", input: "\nterminal width 511\nterminal length 0\n\n\n",
                  expected: ["r1>r1>r1>r1>r1>r1>"], promptPattern: #"^[\w.\-@/:]{1,63}>\s?$"#),
            Setup(tool: "scrapli cisco_iosxe", device: "r1", input: "\n\nenable\nlab\nterm width 512\nterm len 0\n",
                  expected: ["r1>Password: \nr1#r1#r1#"], promptPattern: #"^[\w.\-@/:]{1,63}#\s?$"#),
            Setup(tool: "netmiko arista_eos", device: "sw1", input: "\nterminal width 511\nterminal length 0\n\n\n",
                  expected: ["Width set to 511 columns.", "Pagination disabled."], promptPattern: #"^[\w.\-@()/: ]{1,63}>\s?$"#),
            Setup(tool: "scrapli arista_eos", device: "sw1", input: "\n\nenable\nlab\nterm width 32767\nterm len 0\n",
                  expected: ["sw1#Width set to 32767 columns.\nsw1#Pagination disabled.\nsw1#"],
                  promptPattern: #"^[\w.\-@()/: ]{1,63}#\s?$"#),
            Setup(tool: "netmiko juniper_junos", device: "j1",
                  input: "\n\nset cli screen-width 511\nset cli complete-on-space off\nset cli screen-length 0\n\n\n",
                  expected: ["Screen width set to 511", "Disabling complete-on-space", "Screen length set to 0"],
                  promptPattern: #"^[\w\-@()/:\.]{1,63}>\s?$"#),
            Setup(tool: "scrapli juniper_junos", device: "j1",
                  input: "\n\nset cli screen-width 511\nset cli screen-length 0\nset cli complete-on-space off\n",
                  expected: ["Screen width set to 511", "Screen length set to 0", "Disabling complete-on-space"],
                  promptPattern: #"^[\w\-@()/:\.]{1,63}>\s?$"#),
            Setup(tool: "netmiko cisco_nxos", device: "n1", input: "\nterminal width 511\nterminal length 0\n\n\n",
                  expected: ["n1#n1#n1#n1#"], promptPattern: #"^[\w.\-]{1,63}(\(maint\-mode\))?#\s?$"#),
            Setup(tool: "scrapli cisco_nxos", device: "n1", input: "\n\nterm width 511\nterm len 0\n",
                  expected: ["n1#n1#n1#n1#"], promptPattern: #"^[\w.\-]{1,63}(\(maint\-mode\))?#\s?$"#),
        ]
        for setup in setups {
            let result = try lab.run(["--device", setup.device], stdin: setup.input + "show version\nexit\n",
                                     environment: ["USER": "admin"])
            let out = result.stdout
            XCTAssertEqual(result.status, 0, setup.tool)
            for marker in ["% Invalid", "% Incomplete", "% Ambiguous", "% Access denied", "syntax error", "unknown command"] {
                XCTAssertFalse(out.contains(marker), "\(setup.tool): \(marker)\n\(out)")
            }
            for expected in setup.expected {
                XCTAssertTrue(out.contains(expected), "\(setup.tool) lacks \(expected.debugDescription):\n\(out)")
            }
            XCTAssertTrue(["Cisco IOS Software", "Arista vEOS", "Junos: ", "Cisco Nexus"].contains { out.contains($0) },
                          "\(setup.tool): show version ran\n\(out)")
            // The prompt left at the end (before `exit`) is one the tool recognises.
            let lastPrompt = String(out.split(separator: "\n", omittingEmptySubsequences: false).last ?? "")
            let regex = try NSRegularExpression(pattern: setup.promptPattern)
            XCTAssertNotNil(regex.firstMatch(in: lastPrompt, range: NSRange(lastPrompt.startIndex..., in: lastPrompt)),
                            "\(setup.tool): prompt \(lastPrompt.debugDescription) does not match \(setup.promptPattern)")
        }
    }
}

// MARK: - PTY harness

extension TestLab {
    /// Shell channel on a pseudo-terminal. `typedAhead` is written before the device starts,
    /// while the PTY is still in the driver's cooked mode (as sshd hands it over).
    func startOnPTY(_ device: String, typedAhead: String = "") throws -> PTYDevice {
        try PTYDevice(arguments: ["--device", device], environment: environment([:]), typedAhead: typedAhead)
    }
}

/// A device process whose stdin, stdout and stderr are the slave side of a fresh PTY; the test
/// plays the SSH client on the master side.
final class PTYDevice: @unchecked Sendable {
    struct Modes {
        var echo, canonical, mapsCRToNL, mapsNLToCRNL: Bool
    }

    private let process = Process()
    private let master: Int32
    private let output = OutputCapture()

    /// A master and its slave path. The libc PTY calls are looked up at run time: the Glibc
    /// module does not import them (they need _XOPEN_SOURCE).
    static func openPair() throws -> (master: Int32, slave: String) {
        typealias OpenPT = @convention(c) (Int32) -> Int32
        typealias PTFunction = @convention(c) (Int32) -> Int32
        typealias PTSName = @convention(c) (Int32, UnsafeMutablePointer<CChar>?, Int) -> Int32
        func symbol<T>(_ name: String, as type: T.Type) throws -> T {
            guard let pointer = dlsym(UnsafeMutableRawPointer(bitPattern: 0), name) else {
                throw XCTSkip("\(name) is not available: no pseudo-terminals here")
            }
            return unsafeBitCast(pointer, to: type)
        }
        let openpt = try symbol("posix_openpt", as: OpenPT.self)
        let grant = try symbol("grantpt", as: PTFunction.self)
        let unlock = try symbol("unlockpt", as: PTFunction.self)
        let ptsname = try symbol("ptsname_r", as: PTSName.self)
        let master = openpt(O_RDWR | O_NOCTTY)
        guard master >= 0 else { throw TestFailure("cannot allocate a pseudo-terminal: errno \(errno)") }
        var name = [CChar](repeating: 0, count: 128)
        guard grant(master) == 0, unlock(master) == 0, ptsname(master, &name, name.count) == 0 else {
            close(master)
            throw TestFailure("cannot set up the pseudo-terminal: errno \(errno)")
        }
        return (master, String(cString: name))
    }

    /// The slave's settings, read through the master (Linux reports the slave's termios there).
    static func modes(of pair: (master: Int32, slave: String)) -> Modes? {
        defer { close(pair.master) }
        let slave = open(pair.slave, O_RDWR | O_NOCTTY)
        defer { if slave >= 0 { close(slave) } }
        return modes(fd: pair.master)
    }

    static func modes(fd: Int32) -> Modes? {
        var settings = termios()
        guard tcgetattr(fd, &settings) == 0 else { return nil }
        return Modes(echo: settings.c_lflag & tcflag_t(ECHO) != 0, canonical: settings.c_lflag & tcflag_t(ICANON) != 0,
                     mapsCRToNL: settings.c_iflag & tcflag_t(ICRNL) != 0,
                     mapsNLToCRNL: settings.c_oflag & tcflag_t(ONLCR) != 0 && settings.c_oflag & tcflag_t(OPOST) != 0)
    }

    init(arguments: [String], environment: [String: String], typedAhead: String) throws {
        let pair = try PTYDevice.openPair()
        master = pair.master
        let slave = open(pair.slave, O_RDWR | O_NOCTTY)
        guard slave >= 0 else {
            close(master)
            throw TestFailure("cannot open \(pair.slave)")
        }
        if !typedAhead.isEmpty { send(typedAhead) }
        let handle = FileHandle(fileDescriptor: slave, closeOnDealloc: false)
        process.executableURL = URL(fileURLWithPath: TestLab.binary)
        process.arguments = arguments
        process.environment = environment
        process.standardInput = handle
        process.standardOutput = handle
        process.standardError = handle
        do {
            try process.run()
        } catch {
            close(slave)
            close(master)
            throw error
        }
        close(slave)  // the child has its own copies; EIO on the master once it exits
        let fd = master
        let output = self.output
        Thread.detachNewThread {
            var chunk = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { output.finish(); return }
                output.append(chunk[0..<n])
            }
        }
    }

    deinit {
        close(master)
    }

    /// The slave's current settings.
    var modes: Modes? { PTYDevice.modes(fd: master) }

    var count: Int { output.count }

    func text(from start: Int, to end: Int) -> String { output.text(from: start, to: end) }

    func send(_ text: String) {
        var bytes = Array(text.utf8)
        bytes.withUnsafeMutableBytes { _ = write(master, $0.baseAddress, $0.count) }
    }

    /// Waits for `needle` at or after byte `after`; returns the offset just past it.
    @discardableResult
    func waitFor(_ needle: String, after: Int = 0, timeout: TimeInterval = 10) throws -> Int {
        try output.waitFor(needle, after: after, timeout: timeout)
    }

    func waitForExit(timeout: TimeInterval = 10) throws -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        guard !process.isRunning else { throw TestFailure("device did not exit") }
        return process.terminationStatus
    }

    func terminate() {
        if process.isRunning { process.terminate() }
    }
}
