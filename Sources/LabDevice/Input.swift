#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Byte-level stdin shared by the command reader, the pager and password prompts.
///
/// Everything reads through one buffer because clients type ahead: a script may send
/// `terminal length 0\nshow run\n` in one packet, or answer `--More--` before it appears.
///
/// With a PTY the CLI owns the terminal, as IOS, EOS and Junos do: `takeTerminal` switches the
/// line discipline's echo and line editing off, and `readLine` echoes each character itself when
/// it consumes it. So input typed ahead while a command runs stays in the buffer, unechoed, until
/// the CLI reads it after the next prompt -- a client that presses Enter before the banner sees
/// `r1>` then its Enter, never `r1>r1>`. Without a PTY (exec channel, piped stdin) nothing is
/// echoed and lines are read as they are.
final class Input {
    private let fd: Int32 = 0
    let isTerminal: Bool
    private var buffer: [UInt8] = []
    private var position = 0
    private var reachedEnd = false
    /// A line ended with CR; swallow an LF right after it so CRLF counts as one Enter.
    private var pendingLineFeed = false
    private var inKeyMode = false
    /// The terminal is in the CLI's raw mode (`takeTerminal`).
    private var raw = false
    /// Where the CLI's own echo goes in raw mode (see `echo(to:)`).
    private var echo: Output?
    /// Ctrl-D on an empty line ends the session (bash); network CLIs ignore it.
    var controlDEndsInput = false

    init() {
        isTerminal = isatty(0) == 1
    }

    /// Whether this reader echoes what it reads (a PTY in our raw mode).
    var echoes: Bool { raw }

    /// Puts the terminal in the mode of a network CLI: no echo or line editing by the driver
    /// (ECHO, ECHONL, ICANON cleared), control keys delivered as bytes (ISIG, IEXTEN cleared), CR
    /// delivered as typed (ICRNL, INLCR, IGNCR cleared: `readLine` takes CR, LF and CRLF each as
    /// one Enter), and output newlines still expanded to CRLF by the driver (OPOST, ONLCR), so
    /// everything written with `\n` -- reports and our echo alike -- reaches the client as `\r\n`.
    /// Call as early as possible, before printing anything: until then the driver echoes
    /// whatever the client sends. Returns false when stdin is not a terminal (or refuses).
    @discardableResult
    func takeTerminal() -> Bool {
        guard isTerminal, !raw, TerminalMode.enterRaw(fd) else { return false }
        raw = true
        return true
    }

    /// Where the echo goes once the terminal is taken (the session's Output).
    func echo(to output: Output) {
        echo = output
    }

    /// Puts back the terminal settings found at start (also done on SIGTERM/SIGHUP and by the
    /// `disconnect` fault).
    func releaseTerminal() {
        guard raw else { return }
        TerminalMode.restore()
        raw = false
    }

    // MARK: Lines

    /// The next line without its terminator (CR, LF or CRLF), or nil at end of input. On a
    /// terminal the characters are echoed as they are consumed, with `\n` for the Enter.
    func readLine() -> String? {
        raw ? editLine(echoing: true) : readRawLine()
    }

    /// A line typed without echo (enable password). On a terminal only the Enter is echoed.
    func readSecret() -> String? {
        if raw { return editLine(echoing: false) }
        return isTerminal ? withTerminalFlags(cleared: tcflag_t(ECHO), { readRawLine() }) : readRawLine()
    }

    /// Lines as they come, for pipes: no echo, no editing.
    private func readRawLine() -> String? {
        while true {
            if pendingLineFeed, position < buffer.count {
                pendingLineFeed = false
                if buffer[position] == 0x0a { position += 1 }
            }
            if let end = buffer[position...].firstIndex(where: { $0 == 0x0a || $0 == 0x0d }) {
                let line = String(decoding: buffer[position..<end], as: UTF8.self)
                pendingLineFeed = buffer[end] == 0x0d
                position = end + 1
                return line
            }
            if !fill() {
                guard position < buffer.count else { return nil }
                let line = String(decoding: buffer[position...], as: UTF8.self)  // last line without newline
                position = buffer.count
                return line
            }
        }
    }

    private enum Escape { case none, started, csi, ss3 }

    /// The small line editor of a network CLI's raw mode: printable characters are echoed,
    /// Backspace/DEL erase one character (`\b \b`), Ctrl-W a word, Ctrl-U the line, Ctrl-C drops
    /// the line (`^C`, and the caller prompts again), Enter (CR, LF or CRLF) echoes a newline.
    /// Cursor keys and other escape sequences, Tab and the remaining control characters are
    /// ignored. Bytes after the Enter stay buffered, unechoed, for the next read.
    private func editLine(echoing: Bool) -> String? {
        var line: [UInt8] = []
        var escape = Escape.none
        func erase(_ count: Int) {
            guard echoing, count > 0 else { return }
            echo?.write(String(repeating: "\u{8} \u{8}", count: count))
        }
        /// Drops the last character (all of its UTF-8 bytes); false if the line is empty.
        func dropLastCharacter() -> Bool {
            guard !line.isEmpty else { return false }
            while let last = line.last, last & 0xc0 == 0x80, line.count > 1 { line.removeLast() }
            line.removeLast()
            return true
        }
        while true {
            guard let byte = nextByte() else {
                // The client closed its side mid-line: hand over what was typed, as a pipe would.
                return line.isEmpty ? nil : String(decoding: line, as: UTF8.self)
            }
            switch escape {
            case .started:
                escape = byte == 0x5b ? .csi : byte == 0x4f ? .ss3 : .none
                continue
            case .csi:
                if (0x40...0x7e).contains(byte) { escape = .none }
                continue
            case .ss3:
                escape = .none
                continue
            case .none:
                break
            }
            switch byte {
            case 0x0d, 0x0a:
                pendingLineFeed = byte == 0x0d
                echo?.write("\n")
                return String(decoding: line, as: UTF8.self)
            case 0x08, 0x7f:
                if dropLastCharacter() { erase(1) }
            case 0x15:  // Ctrl-U: kill the line
                var count = 0
                while dropLastCharacter() { count += 1 }
                erase(count)
            case 0x17:  // Ctrl-W: erase the word before the cursor
                var count = 0
                while line.last == 0x20, dropLastCharacter() { count += 1 }
                while let last = line.last, last != 0x20, dropLastCharacter() { count += 1 }
                erase(count)
            case 0x03:  // Ctrl-C: abandon the line
                echo?.write("^C\n")
                return ""
            case 0x04:
                if line.isEmpty && controlDEndsInput {
                    echo?.write("\n")
                    return nil
                }
            case 0x1b:
                escape = .started
            case 0x00..<0x20:
                break  // Tab, Ctrl-Z, ...: no completion or special keys in the lab
            default:
                line.append(byte)
                if echoing { echo?.write([byte]) }
            }
        }
    }

    /// One byte from the buffer (reading more when needed), with the LF of a CRLF whose CR ended
    /// the previous line skipped. Nil at end of input.
    private func nextByte() -> UInt8? {
        while true {
            if position < buffer.count {
                let byte = buffer[position]
                position += 1
                if pendingLineFeed {
                    pendingLineFeed = false
                    if byte == 0x0a { continue }
                }
                return byte
            }
            if !fill() { return nil }
        }
    }

    // MARK: Keys

    /// One keystroke for the pager, or nil at end of input.
    func readKey() -> UInt8? {
        while true {
            if position < buffer.count {
                let byte = buffer[position]
                position += 1
                if pendingLineFeed {
                    pendingLineFeed = false
                    if byte == 0x0a { continue }
                }
                if byte == 0x0d { pendingLineFeed = true }
                return byte
            }
            let more = isTerminal && !inKeyMode ? withKeyMode { fill() } : fill()
            if !more { return nil }
        }
    }

    /// Runs `body` (a pager session) with the terminal delivering single unechoed keystrokes. One
    /// switch for the whole session, not per key: a key pressed while the next page is being
    /// written must not be echoed or held back by the line discipline in between. In the CLI's
    /// raw mode (`takeTerminal`) the terminal already works that way.
    func withKeyMode<T>(_ body: () -> T) -> T {
        guard isTerminal, !raw, !inKeyMode else { return body() }
        inKeyMode = true
        defer { inKeyMode = false }
        return withTerminalFlags(cleared: tcflag_t(ICANON | ECHO | ISIG), body)
    }

    // MARK: Reading

    /// Reads whatever is available into the buffer. False at end of input. What the CLI has
    /// echoed so far goes out first: the client must see it before we wait for more.
    private func fill() -> Bool {
        if reachedEnd { return false }
        echo?.flush()
        if position > 0 {
            buffer.removeFirst(position)
            position = 0
        }
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 {
                reachedEnd = true
                return false
            }
            buffer.append(contentsOf: chunk[0..<n])
            return true
        }
    }

    /// Runs `body` with the given local-mode flags cleared (one byte at a time), then restores.
    private func withTerminalFlags<T>(cleared flags: tcflag_t, _ body: () -> T) -> T {
        var saved = termios()
        guard tcgetattr(fd, &saved) == 0 else { return body() }
        var changed = saved
        changed.c_lflag &= ~flags
        withUnsafeMutableBytes(of: &changed.c_cc) { cc in
            cc[Int(VMIN)] = 1
            cc[Int(VTIME)] = 0
        }
        tcsetattr(fd, TCSANOW, &changed)
        defer { tcsetattr(fd, TCSANOW, &saved) }
        return body()
    }
}

/// The terminal settings found at start, put back at exit: normally, on the `disconnect` fault,
/// and on SIGTERM/SIGHUP (someone running the device binary in their own terminal gets it back
/// usable). Process-wide because signal handlers and `_exit` paths cannot reach an Input.
enum TerminalMode {
    /// Preallocated so the signal handler touches no lazily initialised Swift global.
    nonisolated(unsafe) private static var saved: UnsafeMutablePointer<termios>?
    nonisolated(unsafe) private static var savedFD: Int32 = -1

    /// Switches `fd` to the CLI's raw mode, remembering the old settings. False if impossible.
    static func enterRaw(_ fd: Int32) -> Bool {
        var original = termios()
        guard tcgetattr(fd, &original) == 0 else { return false }
        var raw = original
        raw.c_lflag &= ~tcflag_t(ECHO | ECHONL | ECHOE | ECHOK | ICANON | ISIG | IEXTEN)
        raw.c_iflag &= ~tcflag_t(ICRNL | INLCR | IGNCR | ISTRIP)
        raw.c_oflag |= tcflag_t(OPOST | ONLCR)
        raw.c_oflag &= ~tcflag_t(OCRNL | ONOCR | ONLRET)
        withUnsafeMutableBytes(of: &raw.c_cc) { cc in
            cc[Int(VMIN)] = 1
            cc[Int(VTIME)] = 0
        }
        let storage = UnsafeMutablePointer<termios>.allocate(capacity: 1)
        storage.initialize(to: original)
        saved = storage
        savedFD = fd
        guard tcsetattr(fd, TCSANOW, &raw) == 0 else {
            saved = nil
            storage.deallocate()
            return false
        }
        signal(SIGTERM, restoreAndDie)
        signal(SIGHUP, restoreAndDie)
        return true
    }

    /// Puts the original settings back (idempotent; async-signal-safe).
    static func restore() {
        guard let saved, savedFD >= 0 else { return }
        tcsetattr(savedFD, TCSANOW, saved)
    }
}

/// SIGTERM/SIGHUP while the terminal is raw: restore it, then die of the signal as before.
private func restoreAndDie(_ signalNumber: Int32) {
    TerminalMode.restore()
    signal(signalNumber, SIG_DFL)
    raise(signalNumber)
}
