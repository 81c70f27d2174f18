import Foundation
import XCTest
@testable import Console
import Store
#if canImport(Glibc)
import Glibc
#endif

/// The real console on a real pseudo-terminal: this test binary runs itself as the child (the
/// `HarnessChild` test, which only acts when `SWITCHBOARD_CONSOLE_HARNESS` names a database),
/// with the pty as its controlling terminal, and the parent types keys, resizes and signals it.
final class HarnessChild: XCTestCase {
    func testChild() throws {
        guard let db = ProcessInfo.processInfo.environment["SWITCHBOARD_CONSOLE_HARNESS"] else { return }
        let database = try AppDatabase(path: db)
        let properties = try DevicePropertiesLoader(paths: Paths(), shippedPath: repositoryRoot + "/setup/properties.json").load()
        var settings = Settings.defaults
        if let theme = ProcessInfo.processInfo.environment["SWITCHBOARD_CONSOLE_THEME"] { settings.console.theme = theme }
        let status = try ConsoleApp.run(database: database, settings: settings, properties: properties,
                                        readonly: false, themeDirectory: repositoryRoot + "/themes")
        exit(status)
    }
}

/// A child process on a pty, with everything it writes collected.
final class PtyChild: @unchecked Sendable {
    let master: Int32
    let pid: pid_t
    private let lock = NSLock()
    private var bytes: [UInt8] = []
    private var reader: Thread?

    init(environment: [String: String], rows: Int, cols: Int) throws {
        // posix_openpt/unlockpt/ptsname by hand: Swift's Glibc module does not export them.
        let master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC)
        self.master = master
        var unlock: Int32 = 0
        var number: UInt32 = 0
        guard master >= 0,
              withUnsafeMutablePointer(to: &unlock, { ioctl(master, UInt(0x4004_5431), $0) }) == 0,   // TIOCSPTLCK
              withUnsafeMutablePointer(to: &number, { ioctl(master, UInt(0x8004_5430), $0) }) == 0    // TIOCGPTN
        else {
            throw ConsoleError("no pty: \(String(cString: strerror(errno)))")
        }
        let slavePath = "/dev/pts/\(number)"
        var size = winsize(ws_row: UInt16(rows), ws_col: UInt16(cols), ws_xpixel: 0, ws_ypixel: 0)
        _ = withUnsafeMutablePointer(to: &size) { ioctl(master, UInt(TIOCSWINSZ), $0) }

        let exe = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // Opened after setsid: the pty becomes the child's controlling terminal.
        posix_spawn_file_actions_addopen(&actions, 0, slavePath, O_RDWR, 0)
        posix_spawn_file_actions_adddup2(&actions, 0, 1)
        posix_spawn_file_actions_adddup2(&actions, 0, 2)
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        posix_spawnattr_setflags(&attr, Int16(0x80))   // POSIX_SPAWN_SETSID
        let args = [exe, "ConsoleTests.HarnessChild/testChild"]
        let env = environment.map { "\($0.key)=\($0.value)" }
        var cArgs = args.map { strdup($0) } + [nil]
        var cEnv = env.map { strdup($0) } + [nil]
        defer { for p in cArgs + cEnv { free(p) } }
        var child: pid_t = 0
        let rc = posix_spawn(&child, exe, &actions, &attr, &cArgs, &cEnv)
        guard rc == 0 else { throw ConsoleError("posix_spawn: \(rc)") }
        pid = child
        let t = Thread { [weak self] in self?.readLoop() }
        reader = t
        t.start()
    }

    private func readLoop() {
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(master, &buf, buf.count)
            if n <= 0 { return }
            lock.lock(); bytes += buf[0..<n]; lock.unlock()
        }
    }

    var output: [UInt8] { lock.lock(); defer { lock.unlock() }; return bytes }
    var text: String { String(decoding: output, as: UTF8.self) }
    var count: Int { lock.lock(); defer { lock.unlock() }; return bytes.count }

    func type(_ s: String) {
        let b = Array(s.utf8)
        _ = b.withUnsafeBufferPointer { write(master, $0.baseAddress, $0.count) }
    }

    func resize(rows: Int, cols: Int) {
        var size = winsize(ws_row: UInt16(rows), ws_col: UInt16(cols), ws_xpixel: 0, ws_ypixel: 0)
        _ = withUnsafeMutablePointer(to: &size) { ioctl(master, UInt(TIOCSWINSZ), $0) }
    }

    /// Waits until the output contains `needle` after byte `from`.
    @discardableResult
    func wait(for needle: String, from: Int = 0, timeout: TimeInterval = 15) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let out = output
            if out.count > from, String(decoding: out[from...], as: UTF8.self).contains(needle) { return true }
            usleep(20_000)
        }
        return false
    }

    /// Waits for the child to exit; its exit status, or nil on timeout (then it is killed).
    func waitExit(timeout: TimeInterval = 10) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        var status: Int32 = 0
        while Date() < deadline {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid {
                // WIFEXITED / WEXITSTATUS, WTERMSIG by hand (macros in C).
                if status & 0x7f == 0 { return (status >> 8) & 0xff }
                return 128 + (status & 0x7f)
            }
            usleep(20_000)
        }
        kill(pid, SIGKILL)
        _ = waitpid(pid, &status, 0)
        return nil
    }

    deinit { close(master) }
}

final class TerminalHarnessTests: XCTestCase {
    var store: ExampleStore!

    override func setUpWithError() throws {
        store = try ExampleStore()
    }

    override func tearDown() { store = nil }

    func environment(term: String = "xterm-256color", utf8: Bool = true, extra: [String: String] = [:]) -> [String: String] {
        var env = [
            "TERM": term, "HOME": store.dir, "XDG_CONFIG_HOME": store.dir + "/config", "USER": "alice",
            "SWITCHBOARD_CONSOLE_HARNESS": store.database.path, "PATH": "/usr/bin:/bin",
            "LANG": utf8 ? "C.UTF-8" : "C", "LC_ALL": utf8 ? "C.UTF-8" : "C",
        ]
        for (k, v) in extra { env[k] = v }
        return env
    }

    func testRealTerminalDrawsTakesKeysResizesAndRestoresOnSIGTERM() throws {
        let child = try PtyChild(environment: environment(), rows: 24, cols: 80)
        XCTAssertTrue(child.wait(for: "par-core1"), child.text)
        XCTAssertTrue(child.text.contains("\u{1b}[?1049h"), "the alternate screen is used")
        // Keys: the workflows table, then its tree.
        var mark = child.count
        child.type(":wf\r")
        XCTAssertTrue(child.wait(for: "version audit", from: mark), child.text)
        mark = child.count
        child.type("\r")
        XCTAssertTrue(child.wait(for: "extract version", from: mark))
        // Resize: SIGWINCH, a redraw at the new size.
        mark = child.count
        child.resize(rows: 30, cols: 100)
        let redrawn = child.wait(for: "extract version", from: mark, timeout: 5)
        if !redrawn { try? Data(child.output[mark...]).write(to: URL(fileURLWithPath: "/tmp/sb-resize-dump.bin")) }
        XCTAssertTrue(redrawn, "redrawn after the resize")
        // Idle: with nothing changing, (almost) nothing is written.
        usleep(300_000)
        mark = child.count
        sleep(3)
        XCTAssertLessThan(child.count - mark, 64, "idle output: \(String(decoding: child.output[mark...], as: UTF8.self).debugDescription)")
        // SIGTERM: the terminal is restored and the exit status says why.
        kill(child.pid, SIGTERM)
        XCTAssertEqual(child.waitExit(), 128 + SIGTERM)
        let tail = child.text.suffix(200)
        XCTAssertTrue(tail.contains("\u{1b}[?1049l"), "left the alternate screen: \(tail.debugDescription)")
    }

    func testQuitKeyExitsCleanly() throws {
        let child = try PtyChild(environment: environment(term: "screen"), rows: 24, cols: 80)
        XCTAssertTrue(child.wait(for: "par-core1"), child.text)
        child.type("q")
        XCTAssertEqual(child.waitExit(), 0)
    }

    func testASCIILocaleAndMonochromeVT100() throws {
        let child = try PtyChild(environment: environment(term: "vt100", utf8: false, extra: ["NO_COLOR": "1"]), rows: 24, cols: 80)
        XCTAssertTrue(child.wait(for: "par-core1"), child.text)
        var mark = child.count
        child.type(":wf\r")
        XCTAssertTrue(child.wait(for: "version audit", from: mark))
        mark = child.count
        child.type("\r")
        XCTAssertTrue(child.wait(for: "extract version", from: mark))
        XCTAssertFalse(child.text.contains("├"), "no Unicode line drawing in a C locale")
        let sgrColour = try NSRegularExpression(pattern: "\u{1b}\\[(?:[0-9]+;)*(?:3[0-9]|4[0-9]|9[0-7])m")
        XCTAssertNil(sgrColour.firstMatch(in: child.text, range: NSRange(location: 0, length: (child.text as NSString).length)),
                     "no colour with NO_COLOR")
        child.type("q")
        XCTAssertEqual(child.waitExit(), 0)
    }

    func testHangupRestoresAndExits() throws {
        let child = try PtyChild(environment: environment(), rows: 24, cols: 80)
        XCTAssertTrue(child.wait(for: "par-core1"), child.text)
        kill(child.pid, SIGHUP)
        XCTAssertEqual(child.waitExit(), 128 + SIGHUP)
    }

    func testACrashStillRestoresTheTerminal() throws {
        for backtrace in ["enable=no", "enable=yes,interactive=no"] {
            let child = try PtyChild(environment: environment(extra: ["SWIFT_BACKTRACE": backtrace]), rows: 24, cols: 80)
            XCTAssertTrue(child.wait(for: "par-core1"), child.text)
            // Wait for the screen to settle: a frame still being written when the signal lands would sit
            // between the mark and the restore sequence (seen in CI: the table's last rows came first).
            var settled = -1
            while child.count != settled { settled = child.count; usleep(300_000) }
            let mark = child.count
            kill(child.pid, SIGSEGV)
            XCTAssertEqual(child.waitExit(timeout: 60), 128 + SIGSEGV, backtrace)
            // The pty reader may still be draining the last bytes when the exit status arrives.
            _ = child.wait(for: "\u{1b}[?1049l", from: mark, timeout: 5)
            let after = String(decoding: child.output[mark...], as: UTF8.self)
            XCTAssertTrue(after.hasPrefix("\u{1b}[") && after.contains("\u{1b}[?1049l"), "\(backtrace): \(after.prefix(300).debugDescription)")
        }
    }

    func testMalformedThemeStillStarts() throws {
        let dir = store.dir + "/config/switchboard/themes"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try "{\"roles\": {\"header\": {\"fg\": \"mauve\"}}}".write(toFile: dir + "/broken.json", atomically: true, encoding: .utf8)
        let child = try PtyChild(environment: environment(extra: ["SWITCHBOARD_CONSOLE_THEME": "broken"]), rows: 24, cols: 100)
        XCTAssertTrue(child.wait(for: "par-core1"), child.text)
        XCTAssertTrue(child.wait(for: "broken.json: roles.header.fg"), child.text)
        child.type("q")
        XCTAssertEqual(child.waitExit(), 0)
    }
}

final class TerminalTypesTests: XCTestCase {
    /// Every terminal type the console supports starts, draws, takes a command and quits cleanly.
    func testEverySupportedTERM() throws {
        let store = try ExampleStore()
        for term in ["xterm", "xterm-256color", "screen", "screen-256color", "tmux-256color", "linux", "vt100"] {
            let env = [
                "TERM": term, "HOME": store.dir, "XDG_CONFIG_HOME": store.dir + "/config", "USER": "alice",
                "SWITCHBOARD_CONSOLE_HARNESS": store.database.path, "PATH": "/usr/bin:/bin",
                "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
            ]
            let child = try PtyChild(environment: env, rows: 24, cols: 80)
            XCTAssertTrue(child.wait(for: "par-core1"), term)
            let mark = child.count
            child.type(":pools\r")
            XCTAssertTrue(child.wait(for: "network-devices", from: mark), term)
            child.type("q")
            XCTAssertEqual(child.waitExit(), 0, term)
        }
    }
}
