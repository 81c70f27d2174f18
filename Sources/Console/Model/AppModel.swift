import Foundation
import Store

/// Something for the runtime to do: the update function only describes it.
public enum Effect: Sendable, Equatable {
    case load(LoadRequest)
    case quit
    case loadTheme(String)
    case save(path: String, text: String)
    case mutate(Mutation)
    /// SSH sessions: connect, pick a credential, run one, replay one (Session/SessionModel.swift).
    case session(SessionEffect)
    /// Queue a run of a service or workflow and start the engine if none runs (Run/Launch.swift).
    case launch(LaunchRequest)
    /// Read a service's kind, own targets and dry run for the launch dialog.
    case launchInfo(String)
}

/// A change to the database the console may make (never in read-only mode).
public enum Mutation: Sendable, Equatable {
    case delete(TableKind, [String])
    /// Enables or disables a task by the scheduler's rule (`TaskActivating`).
    case setTaskActive(String, Bool)
    /// Stops a run through `RunQueue.requestStop` (a queued run is aborted at once; a running one's
    /// engine sees the flag and stops it).
    case requestStop(Int64)
}

/// What happens to the console: keys, time, data arriving, the runtime's reports.
public enum Event: Sendable {
    case key(Key)
    case tick(Date)
    case resize(width: Int, height: Int)
    case loaded(LoadRequest, LoadResult, Date)
    case themeLoaded(name: String, problems: [String])
    case saved(path: String, error: String?)
    case mutated(message: String, error: String?)
    case notice(String, isError: Bool)
    /// What became of a session's connect, run or replay (Session/SessionModel.swift).
    case session(SessionEvent)
    /// A launch's outcome: the queued run, or why it was refused; `engine` says whether the engine
    /// runs (nil) or why it could not be started.
    case launched(LaunchRequest, run: Int64?, error: String?, engine: String?)
    /// The launch dialog's facts about its service.
    case launchInfo(LaunchInfo)
    /// A launch that changes devices: the launcher asks before queuing it.
    case launchConfirm(LaunchRequest, LaunchPreview)
    /// Another process committed (a backend's wake-up, PostgreSQL's NOTIFY): the top view reads now.
    case storeChanged
}

/// A message in the status line, until it expires. It belongs to the view on top when the event
/// that said it has been handled, and shows only while that view is on top: a message about one
/// view does not follow the engineer into another.
public struct Flash: Equatable, Sendable {
    public var text: String
    public var isError: Bool
    public var expires: Date
    /// The view it belongs to (nil: any).
    public var viewID: Int?
    /// A message about a queued run (`run 2 … queued`): it goes as soon as the console sees the
    /// run leave the queue.
    public var queuedRun: Int64?

    public init(text: String, isError: Bool, expires: Date, viewID: Int? = nil, queuedRun: Int64? = nil) {
        self.text = text; self.isError = isError; self.expires = expires; self.viewID = viewID; self.queuedRun = queuedRun
    }
}

/// A status-line message as `:messages` keeps it.
public struct Message: Equatable, Sendable {
    public var time: Date
    public var text: String
    public var isError: Bool
}

/// A modal dialog.
public enum Dialog: Equatable, Sendable {
    case confirm(title: String, message: String, action: Mutation)
    case prompt(title: String, editor: LineEditor, purpose: PromptPurpose)
    case columns(cursor: Int)
    /// The launch dialog of a service or workflow (Run/Launch.swift).
    case launch(LaunchForm)
}

public enum PromptPurpose: Equatable, Sendable {
    case saveLog
    case deviceFilter
    /// Export of a table's rows (CSV, or JSON for a `.json` name) under the exports directory.
    case export
    /// A regular expression searched in every device's latest configuration.
    case configSearch
}

/// Where keys go.
public enum InputMode: Equatable, Sendable {
    case normal
    case command(LineEditor)
    /// Live table filter; `previous` is restored by Esc.
    case filter(LineEditor, previous: String)
    /// Log search; `previous` is restored by Esc.
    case search(LineEditor, previous: String?)
    case dialog(Dialog)
}

/// A table view's state. The cursor is kept by row identity (`cursorID`), so it stays on the same
/// record when a refresh reorders or inserts rows.
public struct TableState: Sendable {
    public var data: TableData?
    public var columns: [DeviceProperties.Column]
    public var sort: SortOrder?
    /// Row indexes in sort order.
    public var order: [Int32] = []
    /// Row indexes in sort order that pass the filter: what is shown.
    public var visible: [Int32] = []
    public var filterText = ""
    public var filter: CompiledFilter?
    public var filterError: String?
    public var cursor = 0
    public var cursorID: String?
    public var top = 0
    public var marked: Set<String> = []
    /// Index of the first column shown (horizontal scrolling).
    public var columnOffset = 0

    public init(columns: [DeviceProperties.Column]) { self.columns = columns }

    public var visibleColumns: [DeviceProperties.Column] { columns.filter(\.visible) }

    /// The row under the cursor.
    public var selectedRow: TableRow? {
        guard let data, cursor >= 0, cursor < visible.count else { return nil }
        return data.rows[Int(visible[cursor])]
    }

    public func value(_ row: TableRow, _ field: String) -> String {
        guard let data, let i = data.fieldIndex[field], i < row.values.count else { return "" }
        return row.values[i]
    }
}

/// A log or text view's state: a bounded ring of lines and how they are shown.
public struct LogState: Sendable {
    public var ring: LogRing
    public var follow = true
    public var wrap = false
    public var timestamps = true
    /// Absolute position of the first line shown when not following.
    public var top = 0
    public var hscroll = 0
    public var device: String?
    public var search: String?
    /// The line of the current search match.
    public var match: Int?
    public var lastSeq: Int64?
    /// A configuration diff's hunks side by side (old left, new right): the rows, laid out once
    /// when the diff is loaded (nil for any other text), and whether they are shown (`|`, on
    /// terminals of at least `DiffDocument.sideBySideWidth` columns).
    public var sideRows: [DiffDocument.Row]?
    public var sideBySide = false
    /// The diff's `@@` hunks (counted at load, for the info line).
    public var hunks = 0

    public init(capacity: Int) { ring = LogRing(capacity: capacity) }

    /// Whether the text is a configuration diff (n/N then move between its hunks).
    public var isDiff: Bool { sideRows != nil }

    /// Whether a line passes the device filter.
    public func shows(_ line: LogLine) -> Bool { device == nil || line.device == device }
}

/// One entry of the view stack.
public struct ViewState: Sendable {
    public let id: Int
    public var content: ViewContent
    public var title: String
    public var loading = false
    public var lastLoad: Date?
    public var reloadRequested = false
    /// The store's stamp when the table was last read (see `StoreStamp`).
    public var tableStamp: StoreStamp?
    public var error: String?
    public var table: TableState
    public var log: LogState
    public var graph: WorkflowGraph?
    public var treeCursor = 0
    public var treeTop = 0
    public var helpTop = 0
    public var run: RunSummary?
    public var documentTitle: String?
    /// The `:pulse` dashboard's figures (nil until the first read).
    public var pulse: ConsoleStore.Pulse?

    public init(id: Int, content: ViewContent, title: String, properties: DeviceProperties, logCapacity: Int) {
        self.id = id; self.content = content; self.title = title
        if case .table(let kind, _) = content {
            table = TableState(columns: kind.columns(properties))
        } else {
            table = TableState(columns: [])
        }
        if case .document = content {
            // A document is read whole (a configuration, a device's output), up to a generous bound.
            log = LogState(capacity: max(logCapacity, 200_000))
            log.follow = false
            log.timestamps = false
            // Describe and Xray trees hold reasons and lists longer than a terminal: wrapped under
            // their guides from the start (`w` cuts them instead).
            if case .document(.describe) = content { log.wrap = true }
            if case .document(.xray) = content { log.wrap = true }
        } else {
            log = LogState(capacity: logCapacity)
        }
    }

    public var tableKind: TableKind? {
        if case .table(let k, _) = content { return k }
        return nil
    }

    /// The unscoped `:config`, where `/` searches the latest configurations instead of filtering.
    public var searchesConfigurations: Bool { content == .table(.config, nil) }

    public var isLog: Bool {
        switch content {
        case .runLog, .document: return true
        default: return false
        }
    }
}

/// The whole console state. `update(model, event)` is pure; the runtime performs its effects.
public struct AppModel: Sendable {
    public var width: Int
    public var height: Int
    public var charset: Charset
    public var now: Date
    public var stack: [ViewState]
    public var mode: InputMode = .normal
    public var commandHistory: [String] = []
    /// Position while browsing history with up/down (nil: not browsing).
    public var historyIndex: Int?
    public var flash: Flash?
    /// Every status-line message so far (the last `maxMessages`), oldest first: `:messages` shows
    /// them whole, where the status line cuts a long one.
    public var messages: [Message] = []
    public var header: HeaderInfo
    public var headerLoading = false
    public var headerLastLoad: Date?
    public var keymap: KeyMap
    public var readonly: Bool
    public var paused = false
    /// The store wakes the console when it changes (`.storeChanged`): a live run's tail then reads on
    /// each wake-up and a slow poll, not every 100 ms.
    public var storeWakeups = false
    /// `:refresh SECONDS`, in ms, overriding every table's interval.
    public var refreshOverride: Int?
    public var settings: Settings
    public var properties: DeviceProperties
    public var themeName: String
    public var logCapacity: Int
    public var showClock: Bool
    public var quitting = false
    /// The credential picker, the password prompt and the connect in progress (Session/SessionModel.swift).
    public var sessionUI = SessionUIState()
    /// Marks, pool and filter of the last device table left through a `:` command, for the launch
    /// dialog (nil when that table had none: an older table's filter never comes back).
    public var launchContext: LaunchContext?
    /// The places visited, oldest first, and where `[` and `]` are in them (Model/History.swift).
    public var history: [HistoryEntry] = []
    public var historyPosition = 0
    var nextViewID = 1

    public static let maxHistory = 100
    public static let maxMessages = 500
    public static let flashSeconds: TimeInterval = 5

    public init(settings: Settings, properties: DeviceProperties, readonly: Bool, width: Int = 80, height: Int = 24,
                now: Date = Date(), charset: Charset = .unicode, header: HeaderInfo = HeaderInfo(database: "", user: ""),
                logCapacity: Int = 10_000) {
        self.settings = settings
        self.properties = properties
        self.readonly = readonly || settings.console.readonly
        self.width = width
        self.height = height
        self.now = now
        self.charset = charset
        self.header = header
        self.themeName = settings.console.theme
        self.logCapacity = logCapacity
        self.showClock = settings.console.clock
        let (map, problems) = KeyMap.build(overrides: settings.console.keys)
        keymap = map
        stack = []
        stack.append(makeView(.table(.devices, nil), title: "devices"))
        if !problems.isEmpty { flash(problems.joined(separator: "; "), error: true) }
    }

    mutating func makeView(_ content: ViewContent, title: String) -> ViewState {
        defer { nextViewID += 1 }
        return ViewState(id: nextViewID, content: content, title: title, properties: properties, logCapacity: logCapacity)
    }

    public var top: ViewState {
        get { stack[stack.count - 1] }
        set { stack[stack.count - 1] = newValue }
    }

    public mutating func flash(_ text: String, error: Bool = false, seconds: TimeInterval = AppModel.flashSeconds,
                               queuedRun: Int64? = nil) {
        flash = Flash(text: text, isError: error, expires: now.addingTimeInterval(seconds), viewID: stack.last?.id,
                      queuedRun: queuedRun)
        messages.append(Message(time: now, text: text, isError: error))
        if messages.count > AppModel.maxMessages { messages.removeFirst(messages.count - AppModel.maxMessages) }
    }

    /// The flash still showing at `now` in the top view.
    public var activeFlash: Flash? {
        guard let f = flash, f.expires > now else { return nil }
        if let id = f.viewID, !stack.isEmpty, id != top.id { return nil }
        return f
    }

    /// A flash said while handling an event belongs to the view on top once it is handled (a
    /// command may say something and then open a view).
    mutating func bindFlash(said before: Flash?) {
        guard var f = flash, f != before, !stack.isEmpty else { return }
        f.viewID = top.id
        flash = f
    }

    /// What the console just learnt of a run's status (its log's tail, the runs table): a flash
    /// about it being queued goes once it is not, and the header looks again when the run moved.
    mutating func noteRunStatus(_ run: Int64, _ status: String, previous: String?) {
        if status != "queued", flash?.queuedRun == run { flash = nil }
        if let previous, previous != status { headerLastLoad = nil }
        // A run seen running or queued that the header does not count (started by someone else
        // since the header's last look).
        if (status == "running" && header.running == 0) || (status == "queued" && header.queued == 0) { headerLastLoad = nil }
    }

    /// Screen regions for the current size.
    public var layout: Layout { Layout(width: width, height: height) }

    /// A table's refresh interval in ms: `:refresh`, else `settings.tables`.
    public func interval(_ table: String) -> Int {
        refreshOverride ?? settings.tables.refreshInterval(for: table) ?? 10_000
    }
}

/// Where things go on screen: header, breadcrumb, main area, status line, key hints.
public struct Layout: Equatable, Sendable {
    public var width: Int
    public var height: Int

    public var header: Rect { Rect(x: 0, y: 0, width: width, height: min(1, height)) }
    public var breadcrumb: Rect { Rect(x: 0, y: 1, width: width, height: height > 1 ? 1 : 0) }
    public var main: Rect { Rect(x: 0, y: 2, width: width, height: max(0, height - 4)) }
    public var status: Rect { Rect(x: 0, y: max(0, height - 2), width: width, height: height > 3 ? 1 : 0) }
    public var hints: Rect { Rect(x: 0, y: max(0, height - 1), width: width, height: height > 2 ? 1 : 0) }
    /// Rows of data in a table (the main area minus its column header).
    public var tableRows: Int { max(1, main.height - 1) }
    /// Rows of text in a log view (the main area minus its info line).
    public var logRows: Int { max(1, main.height - 1) }
}
