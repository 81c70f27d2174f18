/// OpenSSH's escape sequences on the keyboard side of a session: the escape character `~` means
/// something only right after a newline (or at the very start). `~.` disconnects, `~?` lists the
/// escapes, `~~` sends one `~`; `~` followed by anything else sends both characters.
public struct EscapeParser: Sendable, Equatable {
    public enum Action: Sendable, Equatable {
        /// Bytes for the device.
        case send([UInt8])
        case disconnect
        case help
    }

    public static let escapeCharacter: UInt8 = 0x7E   // ~
    /// Whether the last byte sent ended a line (true at the start, as in OpenSSH).
    public private(set) var atLineStart = true
    /// A `~` was typed at the start of a line and is held until the next byte says what it means.
    public private(set) var pending = false

    public init() {}

    /// Feeds typed bytes; returns what to do, in order (consecutive plain bytes in one `send`).
    public mutating func feed(_ bytes: [UInt8]) -> [Action] {
        var actions: [Action] = []
        var out: [UInt8] = []
        func flush() {
            if !out.isEmpty { actions.append(.send(out)); out.removeAll() }
        }
        for b in bytes {
            if pending {
                pending = false
                switch b {
                case 0x2E:   // .
                    flush()
                    actions.append(.disconnect)
                    return actions
                case 0x3F:   // ?
                    flush()
                    actions.append(.help)
                    // Still at the start of the line: `~.` may follow at once.
                    continue
                case EscapeParser.escapeCharacter:
                    out.append(b)
                    atLineStart = false
                    continue
                default:
                    // Not an escape: the held `~` goes out with this byte.
                    out.append(EscapeParser.escapeCharacter)
                }
            } else if atLineStart && b == EscapeParser.escapeCharacter {
                pending = true
                continue
            }
            out.append(b)
            atLineStart = b == 0x0D || b == 0x0A
        }
        flush()
        return actions
    }

    /// What `~?` prints (to the engineer's terminal only; CR LF because the terminal is raw).
    public static let helpText = "\r\nSupported escape sequences:\r\n"
        + " ~.   - terminate connection\r\n"
        + " ~?   - this message\r\n"
        + " ~~   - send the escape character by typing it twice\r\n"
        + "(Note that escapes are only recognized immediately after newline.)\r\n"
}
