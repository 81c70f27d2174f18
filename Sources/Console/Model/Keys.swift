/// A key press, decoded by the terminal backend.
public enum Key: Hashable, Sendable, CustomStringConvertible {
    case char(Character)
    case ctrl(Character)      // ctrl+a … ctrl+z, as lowercase letters
    case enter, escape, backspace, tab, backTab, delete, insert
    case up, down, left, right, pageUp, pageDown, home, end
    case function(Int)

    /// The key as a settings file and the help screen write it: `q`, `ctrl+r`, `enter`, `f5`, `space`.
    public var description: String {
        switch self {
        case .char(" "): return "space"
        case .char(let c): return String(c)
        case .ctrl(let c): return "ctrl+" + String(c)
        case .enter: return "enter"
        case .escape: return "esc"
        case .backspace: return "backspace"
        case .tab: return "tab"
        case .backTab: return "shift+tab"
        case .delete: return "delete"
        case .insert: return "insert"
        case .up: return "up"
        case .down: return "down"
        case .left: return "left"
        case .right: return "right"
        case .pageUp: return "pgup"
        case .pageDown: return "pgdn"
        case .home: return "home"
        case .end: return "end"
        case .function(let n): return "f\(n)"
        }
    }

    /// Parses a key name as written in `console.keys`; nil for something that is not a key.
    public static func parse(_ text: String) -> Key? {
        if text.count == 1, let c = text.first {
            return c == " " ? .char(" ") : .char(c)
        }
        let s = text.lowercased().replacingOccurrences(of: "-", with: "+")
        switch s {
        case "space": return .char(" ")
        case "enter", "return": return .enter
        case "esc", "escape": return .escape
        case "backspace", "bs": return .backspace
        case "tab": return .tab
        case "shift+tab", "backtab": return .backTab
        case "delete", "del": return .delete
        case "insert", "ins": return .insert
        case "up": return .up
        case "down": return .down
        case "left": return .left
        case "right": return .right
        case "pgup", "pageup", "page_up": return .pageUp
        case "pgdn", "pagedown", "page_down": return .pageDown
        case "home": return .home
        case "end": return .end
        default: break
        }
        if s.hasPrefix("ctrl+") || s.hasPrefix("c+") || (s.hasPrefix("^") && s.count == 2) {
            let rest = s.hasPrefix("^") ? String(s.dropFirst()) : String(s[s.index(after: s.firstIndex(of: "+")!)...])
            if rest.count == 1, let c = rest.first, c.isLetter, c.isASCII { return .ctrl(c) }
            return nil
        }
        if s.hasPrefix("f"), let n = Int(s.dropFirst()), (1...24).contains(n) { return .function(n) }
        return nil
    }
}

/// Everything a key can do. The raw value is the action's name in `console.keys`.
public enum Action: String, CaseIterable, Sendable, Hashable {
    // Global
    case quit, help, command, filter, back, refresh, pause
    // The view history, as k9s's `[` and `]` (Model/History.swift)
    case historyBack = "history_back", historyForward = "history_forward"
    // Movement
    case up, down, top, bottom, pageUp = "page_up", pageDown = "page_down", left, right
    // Tables
    case open, mark, clearMarks = "clear_marks", sortNext = "sort_next", sortPrevious = "sort_previous"
    case sortReverse = "sort_reverse", columns
    // Drill-downs with their own key
    case configHistory = "config_history", sessions, runLog = "run_log", diff
    // Log and text views
    case follow, deviceFilter = "device_filter", search, nextMatch = "next_match"
    case previousMatch = "previous_match", wrap, timestamps, save
    // A configuration diff's hunks side by side (wide terminals)
    case sideBySide = "side_by_side"
    // Actions that change something (refused in read-only mode)
    case runService = "run", delete, toggleActive = "toggle_active", stopRun = "stop_run"
    // SSH sessions to the device under the cursor (refused by --readonly: a session can change the device)
    case ssh, sshAs = "ssh_as", transcript
    // A run's parsed rows, and exporting a table's rows
    case parsed, export
    // Read-only detail views: a record described, a device's Xray (Data/Details.swift)
    case describe, xray

    /// Actions that change the database or start work: refused by `--readonly`.
    public var changesSomething: Bool {
        switch self {
        case .runService, .delete, .toggleActive, .stopRun, .ssh, .sshAs: return true
        default: return false
        }
    }

    /// One line for the help screen.
    public var summary: String {
        switch self {
        case .quit: return "quit"
        case .help: return "help (this screen)"
        case .command: return "command line (:devices, :theme NAME, …)"
        case .filter: return "filter rows (the CLI's filter language)"
        case .back: return "back (clears the filter or search first)"
        case .refresh: return "reload now"
        case .pause: return "pause or resume the automatic refresh"
        case .historyBack: return "previous view in the history (with its filter)"
        case .historyForward: return "next view in the history"
        case .up: return "up"
        case .down: return "down"
        case .top: return "first row"
        case .bottom: return "last row"
        case .pageUp: return "page up"
        case .pageDown: return "page down"
        case .left: return "scroll left"
        case .right: return "scroll right"
        case .open: return "open (drill down)"
        case .mark: return "mark or unmark the row"
        case .clearMarks: return "clear every mark"
        case .sortNext: return "sort by the next column"
        case .sortPrevious: return "sort by the previous column"
        case .sortReverse: return "reverse the sort order"
        case .columns: return "show or hide columns"
        case .configHistory: return "configuration history of the device"
        case .sessions: return "sessions of the device"
        case .runLog: return "log of the run"
        case .diff: return "difference with the previous version"
        case .follow: return "follow the end on or off"
        case .deviceFilter: return "show one device's lines only"
        case .search: return "search (highlights matches)"
        case .nextMatch: return "next match (in a diff without a search: next change)"
        case .previousMatch: return "previous match (in a diff without a search: previous change)"
        case .wrap: return "wrap long lines on or off"
        case .timestamps: return "timestamps on or off"
        case .save: return "save to a file (under the exports directory unless the path is absolute)"
        case .sideBySide: return "old and new side by side, or unified (\(DiffDocument.sideBySideWidth)+ columns)"
        case .runService: return "run the service or workflow"
        case .delete: return "delete (asks first)"
        case .toggleActive: return "activate or deactivate the task"
        case .stopRun: return "stop the run"
        case .ssh: return "SSH session to the device (~. ends it)"
        case .sshAs: return "SSH session with another credential or a password"
        case .transcript: return "the session's transcript as text (enter replays it)"
        case .parsed: return "parsed rows of the run (parse: textfsm)"
        case .export: return "export the rows shown (marked ones, if any) as CSV or JSON"
        case .describe: return "describe the record, read-only (esc goes back)"
        case .xray: return "xray: the device's pools, links, credential, services, tasks, runs, configs, sessions"
        }
    }
}

/// Which keys trigger which actions. Built from the defaults, then `console.keys` (action → key)
/// on top: a remapped action loses its default key, and a remapped key means its new action first.
/// The fixed alternatives (arrows, PgUp, Enter, Esc, ctrl+c) always keep working unless a
/// remapping claims that very key.
public struct KeyMap: Sendable, Equatable {
    /// Primary bindings (remappable), action → key.
    public private(set) var primary: [Action: Key]
    /// Actions whose key came from settings: they win a key shared with a default binding.
    public private(set) var overridden: Set<Action>

    /// Fixed alternatives, which settings do not change.
    public static let alternatives: [Action: [Key]] = [
        .up: [.up], .down: [.down], .top: [.home], .bottom: [.end], .pageUp: [.pageUp, .ctrl("b")],
        .pageDown: [.pageDown, .ctrl("f")], .left: [.left], .right: [.right], .open: [.enter],
        .back: [.escape], .quit: [.ctrl("c")], .runService: [.char("R")], .refresh: [.ctrl("r")],
    ]

    public static let defaults: [Action: Key] = [
        .quit: .char("q"), .help: .char("?"), .command: .char(":"), .filter: .char("/"), .back: .escape,
        .refresh: .char("r"), .pause: .char("p"), .historyBack: .char("["), .historyForward: .char("]"),
        .up: .char("k"), .down: .char("j"), .top: .char("g"), .bottom: .char("G"),
        .pageUp: .pageUp, .pageDown: .pageDown, .left: .char("h"), .right: .char("l"),
        .open: .enter, .mark: .char(" "), .clearMarks: .char("u"),
        .sortNext: .char(">"), .sortPrevious: .char("<"), .sortReverse: .char("o"), .columns: .char("C"),
        .configHistory: .char("c"), .sessions: .char("H"), .runLog: .char("L"), .diff: .char("d"),
        .follow: .char("f"), .deviceFilter: .char("d"), .search: .char("/"), .nextMatch: .char("n"),
        .previousMatch: .char("N"), .wrap: .char("w"), .timestamps: .char("t"), .save: .char("s"),
        .sideBySide: .char("|"),
        .runService: .char("r"), .delete: .ctrl("d"), .toggleActive: .char("a"), .stopRun: .ctrl("k"),
        .ssh: .char("s"), .sshAs: .char("S"), .transcript: .char("v"),
        .parsed: .char("P"), .export: .char("x"), .describe: .char("d"), .xray: .char("x"),
    ]

    public init() {
        primary = KeyMap.defaults
        overridden = []
    }

    /// The map for `console.keys`, and a message for each unknown action or unparsable key
    /// (those entries are ignored; the console still starts).
    public static func build(overrides: [String: String]) -> (KeyMap, [String]) {
        var map = KeyMap()
        var problems: [String] = []
        for (name, keyText) in overrides.sorted(by: { $0.key < $1.key }) {
            guard let action = Action(rawValue: name) else {
                problems.append("console.keys.\(Sanitizer.inert(name)): unknown action (actions: \(Action.allCases.map(\.rawValue).joined(separator: ", ")))")
                continue
            }
            guard let key = Key.parse(keyText) else {
                problems.append("console.keys.\(name): '\(Sanitizer.inert(keyText))' is not a key (e.g. q, ctrl+r, f5, enter, space)")
                continue
            }
            map.primary[action] = key
            if KeyMap.defaults[action] != key { map.overridden.insert(action) }
        }
        return (map, problems)
    }

    /// The actions a key may trigger, in priority order; the caller takes the first that applies
    /// to the current view (`d` is "device filter" in a log and "diff" in configuration history).
    public func actions(for key: Key) -> [Action] {
        var out: [Action] = []
        for action in KeyMap.precedence where overridden.contains(action) && primary[action] == key { out.append(action) }
        for action in KeyMap.precedence where !overridden.contains(action) && primary[action] == key { out.append(action) }
        let claimed = overridden.contains { primary[$0] == key }
        for action in KeyMap.precedence where !out.contains(action) {
            if let keys = KeyMap.alternatives[action], keys.contains(key), !claimed { out.append(action) }
        }
        return out
    }

    /// Actions in the order a shared key tries them: `r` runs the service or workflow under the
    /// cursor where that applies, and reloads everywhere else.
    static let precedence: [Action] = [.runService] + Action.allCases.filter { $0 != .runService }

    /// The keys of an action, primary first, as the help screen shows them.
    public func keys(for action: Action) -> [Key] {
        var out: [Key] = []
        if let k = primary[action] { out.append(k) }
        for k in KeyMap.alternatives[action] ?? [] where !out.contains(k) { out.append(k) }
        return out
    }
}
