import Foundation
import Store
import CCursesShim
#if canImport(Glibc)
import Glibc
#endif

/// The engineer's terminal in raw mode, for the length of a session or a replay: restored by
/// `restore()` (also on deinit).
final class RawTerminal {
    let fd: Int32
    private var saved = termios()
    private var active = false

    init(fd: Int32 = STDIN_FILENO) {
        self.fd = fd
        guard isatty(fd) == 1, tcgetattr(fd, &saved) == 0 else { return }
        var raw = saved
        cfmakeraw(&raw)   // also VMIN 1, VTIME 0: a read returns as soon as one byte is there
        if tcsetattr(fd, TCSANOW, &raw) == 0 { active = true }
    }

    func restore() {
        guard active else { return }
        active = false
        _ = tcsetattr(fd, TCSANOW, &saved)
    }

    deinit { restore() }
}

/// Pumps bytes between the engineer's terminal and a session, as they come: keystrokes through
/// OpenSSH's escapes to the device, the device's output straight to the terminal (and to the
/// recording). The window size is sent at the start and whenever it changes.
public struct TerminalPump {
    public var input: Int32 = STDIN_FILENO
    public var output: Int32 = STDOUT_FILENO
    /// The signal handlers' wake-up pipe (`sb_signals_install`): polled so a resize or a
    /// terminating signal is seen at once; its bytes are consumed, nothing else of it is touched.
    public var wakeDescriptor: Int32?

    public init(input: Int32 = STDIN_FILENO, output: Int32 = STDOUT_FILENO, wakeDescriptor: Int32? = nil) {
        self.input = input; self.output = output; self.wakeDescriptor = wakeDescriptor
    }

    /// Runs until the session ends, the engineer types `~.`, the terminal goes away or a
    /// terminating signal arrives; the session is closed on every way out. The terminal must
    /// already be in raw mode.
    public func run(_ session: any TerminalSession, recording: SessionRecording?) -> SessionEnd {
        var parser = EscapeParser()
        var size = currentSize()
        if let size {
            session.resize(columns: size.cols, rows: size.rows)
        }
        let end = loop(session, recording, &parser, &size)
        session.close()
        return end
    }

    private func loop(_ session: any TerminalSession, _ recording: SessionRecording?, _ parser: inout EscapeParser,
                      _ size: inout (rows: Int, cols: Int)?) -> SessionEnd {
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while true {
            var fds = [pollfd(fd: session.readableDescriptor, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: input, events: Int16(POLLIN), revents: 0)]
            if let wake = wakeDescriptor { fds.append(pollfd(fd: wake, events: Int16(POLLIN), revents: 0)) }
            let ready = poll(&fds, nfds_t(fds.count), 1000)
            if ready < 0 && errno != EINTR { return .lost("poll: \(String(cString: strerror(errno)))") }

            let signals = sb_signals_take()
            if signals >> 8 != 0 { return .signal(Int32(signals >> 8)) }
            if fds.count > 2 && fds[2].revents & Int16(POLLIN) != 0 {
                while read(fds[2].fd, &buffer, 256) > 0 {}
            }
            // The window: checked on every wake-up (a SIGWINCH may have reached another thread).
            if let now = currentSize(), size == nil || now != size! {
                size = now
                session.resize(columns: now.cols, rows: now.rows)
                recording?.resized(columns: now.cols, rows: now.rows)
            }
            // Output first: what the device said before it closed still reaches the screen.
            let (out, end) = session.take()
            if !out.isEmpty {
                recording?.received(out)
                if !writeAll(out) { return .terminalGone }
            }
            if let end { return end }

            let inputEvents = fds[1].revents
            if inputEvents & Int16(POLLIN) != 0 {
                let n = read(input, &buffer, buffer.count)
                if n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN) { return .terminalGone }
                if n > 0 {
                    for action in parser.feed(Array(buffer[0..<n])) {
                        switch action {
                        case .send(let bytes):
                            recording?.sent(bytes.count)
                            session.send(bytes)
                        case .disconnect:
                            return .disconnected
                        case .help:
                            _ = writeAll(Array(EscapeParser.helpText.utf8))
                        }
                    }
                }
            } else if inputEvents & Int16(POLLHUP | POLLERR | POLLNVAL) != 0 {
                return .terminalGone
            }
        }
    }

    func currentSize() -> (rows: Int, cols: Int)? {
        var rows: Int32 = 0, cols: Int32 = 0
        guard sb_terminal_size(output, &rows, &cols) == 0 else { return nil }
        return (Int(rows), Int(cols))
    }

    /// Writes everything (the terminal may take it in pieces); false when the terminal is gone.
    func writeAll(_ bytes: [UInt8]) -> Bool {
        TerminalPump.writeAll(output, bytes)
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count) }
            if n > 0 { offset += n; continue }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && errno == EAGAIN {
                var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                _ = poll(&p, 1, 1000)
                continue
            }
            return false
        }
        return true
    }

    /// Leaves the terminal as a full-screen program expects it after a device may have changed
    /// its modes: attributes off, whole-screen scrolling, cursor shown, normal cursor keys.
    static let resetSequence = "\u{1b}[0m\u{1b}[r\u{1b}[?25h\u{1b}[?1l\u{1b}>\u{1b}[?2004l\u{1b}[?1000l\u{1b}[?1002l\u{1b}[?1006l"
}

/// `switchboard ssh NAME` from the shell: the same session, escapes and recording, without the
/// console around it.
public enum ShellSession {
    /// Opens the session, runs it on this terminal, records it; returns how it ended and the
    /// session's id in the store. Errors before the session starts are thrown.
    public static func run(opener: any InteractiveSessionOpener, request: SessionRequest, database: (any StoreBackend)?,
                           user: String) throws -> (SessionEnd, Int64?, recordingError: String?) {
        var request = request
        if let size = TerminalPump().currentSize() { request.columns = size.cols; request.rows = size.rows }
        let session = try opener.open(request)
        var fds: [Int32] = [0, 0]
        var wake: Int32?
        if pipe(&fds) == 0 {
            for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
            sb_signals_install(fds[1])
            wake = fds[0]
        }
        defer {
            sb_signals_restore()
            if wake != nil { close(fds[0]); close(fds[1]) }
        }
        var recording: SessionRecording?
        var recordingError: String?
        if let database {
            do {
                recording = try SessionRecording(database: database, device: request.device, user: user, loginUser: session.loginUser,
                                                 width: request.columns, height: request.rows, terminal: request.terminal)
            } catch {
                recordingError = AppDatabase.describe(error)
            }
        }
        let raw = RawTerminal(fd: STDIN_FILENO)
        let end = TerminalPump(wakeDescriptor: wake).run(session, recording: recording)
        _ = TerminalPump.writeAll(STDOUT_FILENO, Array(TerminalPump.resetSequence.utf8))
        raw.restore()
        var id: Int64?
        if let recording {
            do { id = try recording.finish(end) } catch { recordingError = AppDatabase.describe(error) }
        }
        return (end, id, recordingError)
    }
}
