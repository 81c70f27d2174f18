import Foundation
import CNcursesw
import CCursesShim
#if canImport(Glibc)
import Glibc
#endif

/// What the runtime needs from a terminal. Thin on purpose: all layout happens in the cell buffer.
public protocol TerminalBackend: AnyObject {
    var width: Int { get }
    var height: Int { get }
    var charset: Charset { get }
    /// The file descriptor keys arrive on, for the main loop's poll.
    var inputDescriptor: Int32 { get }
    /// Keys available now, without blocking.
    func readKeys() -> [Key]
    /// Resolves a theme's roles to colour pairs and attributes (once per theme switch).
    func apply(_ theme: Theme)
    /// Writes changed runs of cells, places the cursor, and flushes.
    func draw(_ runs: [CellRun], cursor: CursorPosition?)
    /// Re-reads the size after SIGWINCH; true when it changed.
    func updateSize() -> Bool
    /// Restores the terminal. Safe to call more than once.
    func shutdown()
}

/// The ncurses backend: `setlocale` first, `newterm`, cbreak, noecho, keypad, ESC delay 25 ms,
/// the terminal's default colours, `wget_wch` input, and only changed cells written, then `doupdate`.
public final class CursesTerminal: TerminalBackend {
    public private(set) var width: Int
    public private(set) var height: Int
    public let charset: Charset
    public let inputDescriptor: Int32 = STDIN_FILENO
    public private(set) var depth: ColorDepth
    private var window: UnsafeMutableRawPointer
    private var styles: [Role: (attrs: Int32, pair: Int32)] = [:]
    private var active = true
    private let noColor: Bool

    /// - Parameter utf8: whether `setlocale` found a UTF-8 locale (see `ConsoleApp`).
    public init(utf8: Bool, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else {
            throw ConsoleError("the console needs a terminal: standard input and output must be a tty")
        }
        guard sb_newterm() != nil, let win = sb_stdscr() else {
            throw ConsoleError("cannot initialise the terminal (TERM=\(environment["TERM"] ?? "unset"))")
        }
        window = win
        sb_screen_active(1)
        charset = utf8 ? .unicode : .ascii
        noColor = !(environment["NO_COLOR"] ?? "").isEmpty
        cbreak()
        noecho()
        nonl()
        let w = win.assumingMemoryBound(to: WINDOW.self)
        keypad(w, true)
        nodelay(w, true)
        intrflush(w, false)
        sb_set_escdelay(25)
        if has_colors() && !noColor {
            start_color()
            use_default_colors()
        }
        depth = ColorDepth.from(colors: has_colors() ? Int(sb_colors()) : 0, noColor: noColor)
        curs_set(0)
        width = Int(sb_getmaxx(win))
        height = Int(sb_getmaxy(win))
    }

    public func readKeys() -> [Key] {
        var keys: [Key] = []
        var value: UInt32 = 0
        while keys.count < 256 {
            let kind = sb_read_key(window, &value)
            if kind == 0 { break }
            if kind == 2 {
                // KEY_RESIZE is ignored: the SIGWINCH handler wakes the loop, which calls updateSize
                // (calling resizeterm from here would queue another KEY_RESIZE, forever).
                if let k = CursesTerminal.decode(code: value) { keys.append(k) }
            } else if let k = CursesTerminal.decode(char: value) {
                keys.append(k)
            }
        }
        return keys
    }

    /// ncurses key codes (octal, as in curses.h).
    static func decode(code: UInt32) -> Key? {
        switch code {
        case 0o402: return .down
        case 0o403: return .up
        case 0o404: return .left
        case 0o405: return .right
        case 0o406: return .home
        case 0o407: return .backspace
        case 0o512: return .delete
        case 0o513: return .insert
        case 0o522: return .pageDown
        case 0o523: return .pageUp
        case 0o527: return .enter
        case 0o541: return .backTab
        case 0o550: return .end
        case 0o410...0o477: return .function(Int(code - 0o410))
        default: return nil
        }
    }

    static func decode(char value: UInt32) -> Key? {
        switch value {
        case 10, 13: return .enter
        case 27: return .escape
        case 127, 8: return .backspace
        case 9: return .tab
        case 0: return .ctrl(" ")
        case 1...26: return .ctrl(Character(UnicodeScalar(UInt8(value) + 96)))
        case 28...31: return nil
        default:
            guard let s = UnicodeScalar(value) else { return nil }
            return .char(Character(s))
        }
    }

    public func apply(_ theme: Theme) {
        let resolved = theme.resolvedAll(depth: depth)
        var pairs: [String: Int32] = [:]
        var next: Int32 = 1
        let maxPairs = Int32(sb_color_pairs())
        styles = [:]
        for role in Role.allCases {
            let s = resolved[role]!
            var attrs: Int32 = 0
            if s.attributes.contains(.bold) { attrs |= sb_attr_bold() }
            if s.attributes.contains(.dim) { attrs |= sb_attr_dim() }
            if s.attributes.contains(.reverse) { attrs |= sb_attr_reverse() }
            if s.attributes.contains(.underline) { attrs |= sb_attr_underline() }
            if s.attributes.contains(.italic) { attrs |= sb_attr_italic() }
            var pair: Int32 = 0
            if depth != .mono, let fg = s.fg, let bg = s.bg, !(fg == -1 && bg == -1) {
                let key = "\(fg),\(bg)"
                if let p = pairs[key] {
                    pair = p
                } else if next < maxPairs {
                    init_pair(Int16(next), Int16(fg), Int16(bg))
                    pairs[key] = next
                    pair = next
                    next += 1
                }
            }
            styles[role] = (attrs, pair)
        }
    }

    public func draw(_ runs: [CellRun], cursor: CursorPosition?) {
        guard active else { return }
        var text: [Int32] = []
        text.reserveCapacity(256)
        for run in runs {
            // One call per stretch of cells with the same role.
            var i = 0
            while i < run.cells.count {
                let role = run.cells[i].role
                let startX = run.x + i
                text.removeAll(keepingCapacity: true)
                while i < run.cells.count && run.cells[i].role == role {
                    let cell = run.cells[i]
                    i += 1
                    if cell.isContinuation { continue }
                    appendCell(cell, to: &text)
                }
                let style = styles[role] ?? (0, 0)
                text.withUnsafeBufferPointer { p in
                    _ = sb_put(window, Int32(run.y), Int32(startX), p.baseAddress, Int32(p.count), style.attrs, style.pair)
                }
            }
        }
        if let cursor {
            curs_set(1)
            wmove(window.assumingMemoryBound(to: WINDOW.self), Int32(cursor.y), Int32(cursor.x))
        } else {
            curs_set(0)
        }
        wnoutrefresh(window.assumingMemoryBound(to: WINDOW.self))
        doupdate()
    }

    /// Widths the C library gives scalars, when they differ from ours (cached).
    private var libcWidths: [UInt32: Int32] = [:]

    /// Appends a cell's scalars. Where the C library (which ncurses lays out by) disagrees with
    /// the buffer about a character's width, or cannot print it, `?` padded to the cell's width is
    /// written instead, so one odd character never shifts the rest of the line.
    private func appendCell(_ cell: Cell, to text: inout [Int32]) {
        let scalars = cell.text.unicodeScalars
        if let first = scalars.first, scalars.count == 1, first.value < 0x7F {
            text.append(Int32(first.value))
            return
        }
        guard let first = scalars.first else { return }
        let w: Int32
        if let cached = libcWidths[first.value] {
            w = cached
        } else {
            w = sb_wcwidth(first.value)
            libcWidths[first.value] = w
        }
        if w == Int32(cell.width) {
            for s in scalars { text.append(Int32(bitPattern: s.value)) }
        } else {
            text.append(63)
            if cell.width == 2 { text.append(32) }
        }
    }

    public func updateSize() -> Bool {
        var rows: Int32 = 0, cols: Int32 = 0
        guard sb_terminal_size(STDOUT_FILENO, &rows, &cols) == 0, Int(rows) != height || Int(cols) != width else {
            return false
        }
        resizeterm(rows, cols)
        width = Int(sb_getmaxx(window))
        height = Int(sb_getmaxy(window))
        wclear(window.assumingMemoryBound(to: WINDOW.self))
        return true
    }

    /// Forces the next frame to be drawn on a cleared screen (after a theme switch or a resize).
    public func clear() {
        wclear(window.assumingMemoryBound(to: WINDOW.self))
    }

    public func shutdown() {
        guard active else { return }
        active = false
        curs_set(1)
        // The shell's screen as it was: rmcup where there is an alternate screen, else a cleared one.
        sb_endwin_clean()
        sb_screen_active(0)
    }

    deinit { shutdown() }
}

/// An error the console reports before (or instead of) drawing.
public struct ConsoleError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
