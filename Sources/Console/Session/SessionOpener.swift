import Foundation

/// What to open: a device by name, with its credential chosen by priority unless one is named,
/// or a password typed for this session only (never stored, never logged).
public struct SessionRequest: Sendable, Equatable, CustomStringConvertible {
    public var device: String
    public var credential: String?
    public var password: String?
    /// The terminal type announced to the device (`$TERM`).
    public var terminal: String
    public var columns: Int
    public var rows: Int

    public init(device: String, credential: String? = nil, password: String? = nil, terminal: String = "xterm-256color",
                columns: Int = 80, rows: Int = 24) {
        self.device = device; self.credential = credential; self.password = password
        self.terminal = terminal; self.columns = columns; self.rows = rows
    }

    /// Never shows the password.
    public var description: String {
        "\(device)" + (credential.map { " with credential \($0)" } ?? "") + (password == nil ? "" : " with a typed password")
            + " (\(terminal) \(columns)x\(rows))"
    }
}

/// Why opening a session failed, in one line for the status line (unreachable, unknown or changed
/// host key, authentication, no such device…).
public struct SessionOpenError: Error, CustomStringConvertible, Equatable, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// How a session ended.
public enum SessionEnd: Sendable, Equatable {
    /// The device closed the channel (`exit`, `logout`), with its exit status if it sent one.
    case closed(exitStatus: Int32?)
    /// The engineer typed `~.`.
    case disconnected
    /// The connection failed under the session (network drop, keepalive, error).
    case lost(String)
    /// The engineer's own terminal went away.
    case terminalGone
    /// A terminating signal (SIGTERM, SIGHUP…) arrived.
    case signal(Int32)

    /// The `end_reason` stored with the session.
    public var reason: String {
        switch self {
        case .closed(let status?): return "closed by the device (exit status \(status))"
        case .closed(nil): return "closed by the device"
        case .disconnected: return "disconnected (~.)"
        case .lost(let message): return "connection lost: \(message)"
        case .terminalGone: return "terminal closed"
        case .signal(let n): return "signal \(n)"
        }
    }
}

/// An open interactive session: a raw byte stream with a window size. Output is buffered by the
/// implementation and announced on `readableDescriptor` (a pipe that becomes readable), so the
/// terminal pump can `poll` it together with the keyboard.
public protocol TerminalSession: AnyObject, Sendable {
    /// The user the device was logged in as.
    var loginUser: String { get }
    /// Readable when output (or the end) is waiting; `take` drains it.
    var readableDescriptor: Int32 { get }
    /// The output received since the last call, and how the session ended once it did
    /// (after the last output).
    func take() -> (output: [UInt8], end: SessionEnd?)
    /// Sends keystrokes, in order, without waiting.
    func send(_ bytes: [UInt8])
    /// The window changed size.
    func resize(columns: Int, rows: Int)
    /// Closes the session (the channel and its connection), without waiting.
    func close()
}

/// Opens interactive SSH sessions for the console and `switchboard ssh`. The console depends on
/// the store only: the executable implements this with the engine's transport.
public protocol InteractiveSessionOpener: Sendable {
    /// Connects (through the device's jump chain, host key checked as configured) and opens a PTY
    /// shell. Blocks until the session is open or has failed; never called on the input thread.
    func open(_ request: SessionRequest) throws(SessionOpenError) -> any TerminalSession
}
