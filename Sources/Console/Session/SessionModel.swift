import Foundation
import Store

/// An open session on its way from the background connect to the runtime (compared by identity).
public final class SessionHandle: Sendable, Equatable {
    public let session: any TerminalSession
    /// What was opened, without the password.
    public let device: String
    public let credential: String?
    public let terminal: String

    public init(session: any TerminalSession, request: SessionRequest) {
        self.session = session
        self.device = request.device
        self.credential = request.credential
        self.terminal = request.terminal
    }

    public static func == (a: SessionHandle, b: SessionHandle) -> Bool { a === b }
}

/// A credential offered by the `S` picker (never its secret).
public struct CredentialChoice: Sendable, Equatable {
    public var name: String
    public var username: String
    public var kind: String
}

/// What the session parts of the console ask the runtime to do.
public enum SessionEffect: Sendable, Equatable {
    /// Connect in the background; `.connected` or `.failed` comes back.
    case open(SessionRequest)
    /// Read the credentials for the picker; `.credentials` comes back.
    case listCredentials(device: String)
    /// Suspend the screen and run the session until it ends; `.ended` comes back.
    case attach(SessionHandle)
    /// Play a recorded session on the terminal; `.replayed` comes back.
    case replay(Int64)
}

/// What the runtime reports about sessions.
public enum SessionEvent: Sendable {
    case connected(SessionHandle)
    case failed(device: String, message: String)
    case credentials(device: String, [CredentialChoice])
    case ended(device: String, reason: String, recorded: Int64?, error: String?)
    case replayed(Int64, error: String?)
}

/// The `S` picker and the password prompt, drawn over the view.
public enum SessionOverlay: Sendable, Equatable {
    /// Credentials by name; the row after the last one asks for a password.
    case picker(device: String, choices: [CredentialChoice], cursor: Int)
    /// A password for this session only: masked, never stored or logged.
    case password(device: String, editor: LineEditor)
}

/// The console's session state.
public struct SessionUIState: Sendable, Equatable {
    public var overlay: SessionOverlay?
    /// The device being connected to (one connect at a time).
    public var connecting: String?
    public init() {}
}

extension AppModel {
    /// The device the top view shows under the cursor: a device row, or the device of a result,
    /// configuration version or session row.
    public var sessionDevice: String? {
        guard let kind = top.tableKind, let row = top.table.selectedRow, let device = kind.descriptor.device else { return nil }
        return device(row, top.table)
    }

    /// `s` opens a session to the selected device, `S` first picks a credential or asks for a password.
    mutating func startSession(_ action: Action) -> [Effect] {
        guard let device = sessionDevice else { return [] }
        if action == .sshAs { return [.session(.listCredentials(device: device))] }
        return connect(SessionRequest(device: device))
    }

    mutating func connect(_ request: SessionRequest) -> [Effect] {
        if let busy = sessionUI.connecting {
            flash("still connecting to \(busy)…")
            return []
        }
        sessionUI.connecting = request.device
        flash("connecting to \(request.device)…", seconds: 120)
        return [.session(.open(request))]
    }

    /// `:ssh NAME`: nil when the line is another command.
    mutating func sessionCommand(_ line: String) -> [Effect]? {
        let words = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard let first = words.first, first.lowercased() == "ssh" else { return nil }
        guard words.count == 2 else {
            flash("usage: :ssh DEVICE", error: true)
            return []
        }
        if readonly {
            flash("read-only console: \(Action.ssh.summary) is disabled", error: true)
            return []
        }
        return connect(SessionRequest(device: words[1]))
    }

    /// Enter on a session row: replay it.
    mutating func replaySelected() -> [Effect] {
        guard let id = top.table.selectedRow.flatMap({ Int64($0.id) }) else { return [] }
        return [.session(.replay(id))]
    }

    mutating func handleSession(_ event: SessionEvent) -> [Effect] {
        switch event {
        case .connected(let handle):
            sessionUI.connecting = nil
            flash = nil
            return [.session(.attach(handle))]
        case .failed(let device, let message):
            sessionUI.connecting = nil
            flash("\(device): \(message)", error: true, seconds: 15)
        case .credentials(let device, let choices):
            sessionUI.overlay = .picker(device: device, choices: choices, cursor: 0)
        case .ended(let device, let reason, let recorded, let error):
            if let error {
                flash("session to \(device) \(reason); not recorded: \(error)", error: true, seconds: 15)
            } else {
                flash("session to \(device) \(reason)" + (recorded.map { " (recorded as session \($0))" } ?? ""))
            }
            // A sessions table on screen shows the new one.
            if top.tableKind == .sessions { top.reloadRequested = true }
        case .replayed(let id, let error):
            if let error { flash(error, error: true, seconds: 10) } else { flash("replay of session \(id) done") }
        }
        return []
    }

    /// Keys while the picker or the password prompt is open.
    mutating func sessionOverlayKey(_ key: Key) -> [Effect] {
        switch sessionUI.overlay {
        case .picker(let device, let choices, var cursor)?:
            switch key {
            case .escape, .char("q"):
                sessionUI.overlay = nil
            case .up, .char("k"):
                cursor = max(0, cursor - 1)
                sessionUI.overlay = .picker(device: device, choices: choices, cursor: cursor)
            case .down, .char("j"):
                cursor = min(choices.count, cursor + 1)
                sessionUI.overlay = .picker(device: device, choices: choices, cursor: cursor)
            case .enter:
                if cursor < choices.count {
                    sessionUI.overlay = nil
                    return connect(SessionRequest(device: device, credential: choices[cursor].name))
                }
                sessionUI.overlay = .password(device: device, editor: LineEditor())
            default:
                break
            }
        case .password(let device, var editor)?:
            switch key {
            case .escape:
                sessionUI.overlay = nil
            case .enter:
                sessionUI.overlay = nil
                let password = editor.text
                guard !password.isEmpty else { flash("no password typed", error: true); return [] }
                return connect(SessionRequest(device: device, password: password))
            default:
                if editor.handle(key) { sessionUI.overlay = .password(device: device, editor: editor) }
            }
        case nil:
            break
        }
        return []
    }
}

/// Draws the picker or the password prompt in a box over the main area.
public enum SessionOverlayWidget {
    /// Returns where the terminal cursor goes (the password field).
    public static func render(_ overlay: SessionOverlay, into buffer: inout CellBuffer, area: Rect) -> (Int, Int)? {
        let width = min(64, max(20, area.width - 4))
        var body: [(String, Role)] = []
        let title: String
        var field: (text: String, cursor: Int)?
        switch overlay {
        case .picker(let device, let choices, let cursor):
            title = "ssh \(device) with"
            for (i, c) in choices.enumerated() {
                body.append(("\(c.name)  \(c.username) (\(c.kind))", i == cursor ? .selectedRow : .dialog))
            }
            body.append(("a password typed now (not stored)…", cursor == choices.count ? .selectedRow : .dialog))
            body.append(("", .dialog))
            body.append(("enter connects    esc cancels", .dialog))
        case .password(let device, let editor):
            title = "password for \(device) (not stored)"
            let masked = String(repeating: "*", count: editor.text.count)
            field = (masked, editor.cursor)
            body = [("", .dialog), ("", .dialog), ("enter connects    esc cancels", .dialog)]
        }
        var scrollTo: Int?
        if case .picker(_, _, let c) = overlay { scrollTo = c }
        return DialogWidget.box(title: title, body: body, width: width, scrollTo: scrollTo,
                                field: field.map { (text: $0.text, column: $0.cursor) }, into: &buffer, area: area)
    }
}
