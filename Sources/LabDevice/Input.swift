#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Byte-level stdin shared by the command reader, the pager and password prompts.
///
/// Everything reads through one buffer because clients type ahead: a script may send
/// `terminal length 0\nshow run\n` in one packet, or answer `--More--` before it appears. With a
/// PTY, sshd's line discipline echoes and edits lines for us (so we never echo), but it also holds
/// back a lone space until Enter; the pager therefore switches the terminal to non-canonical mode
/// while it waits for a key, like the raw-mode CLIs of real network gear.
final class Input {
    private let fd: Int32 = 0
    let isTerminal: Bool
    private var buffer: [UInt8] = []
    private var position = 0
    private var reachedEnd = false
    /// A line ended with CR; swallow an LF right after it so CRLF counts as one Enter.
    private var pendingLineFeed = false
    private var inKeyMode = false

    init() {
        isTerminal = isatty(0) == 1
    }

    /// The next line without its terminator (CR, LF or CRLF), or nil at end of input.
    func readLine() -> String? {
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
    /// written must not be echoed or held back by the line discipline in between.
    func withKeyMode<T>(_ body: () -> T) -> T {
        guard isTerminal, !inKeyMode else { return body() }
        inKeyMode = true
        defer { inKeyMode = false }
        return withTerminalFlags(cleared: tcflag_t(ICANON | ECHO | ISIG), body)
    }

    /// A line typed with echo off (enable password), when there is a terminal to turn it off on.
    func readSecret() -> String? {
        isTerminal ? withTerminalFlags(cleared: tcflag_t(ECHO), { readLine() }) : readLine()
    }

    /// Reads whatever is available into the buffer. False at end of input.
    private func fill() -> Bool {
        if reachedEnd { return false }
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
