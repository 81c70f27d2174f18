import Foundation
import Store

/// One place in the view history: the stack of views as it was left (what each shows, its filter,
/// sort and the row under the cursor), without data. Going back reads the data again, so the
/// history holds no 80,000-row table in memory.
public struct HistoryEntry: Equatable, Sendable {
    public struct Level: Equatable, Sendable {
        public var content: ViewContent
        public var title: String
        public var filter: String
        public var sort: SortOrder?
        public var cursorID: String?
    }

    public var levels: [Level]

    /// The breadcrumb of the place, as the flash names it.
    public var title: String { levels.map(\.title).joined(separator: " › ") }
}

/// The view history, as in k9s: every navigation (a `:` command, a drill-down, Esc back to the
/// view below) is a new place after the current one, which drops the places ahead of it; `[` and
/// `]` move through the places without adding any. The help screen is not a place.
extension AppModel {
    public static let maxHistoryPlaces = 50

    /// The current place.
    func location() -> HistoryEntry {
        HistoryEntry(levels: stack.filter { $0.content != .help }.map { v in
            HistoryEntry.Level(content: v.content, title: v.title, filter: v.table.filterText, sort: v.table.sort,
                               cursorID: v.table.cursorID)
        })
    }

    /// Records a navigation that just happened: the place left keeps how it was left (its filter
    /// typed since arriving, its cursor), and the new place follows it; places ahead are dropped.
    mutating func recordNavigation(from leaving: HistoryEntry) {
        let arrived = location()
        guard arrived.levels.map(\.content) != leaving.levels.map(\.content) || arrived.levels.map(\.filter) != leaving.levels.map(\.filter) else {
            return
        }
        if history.isEmpty {
            history = [leaving]
            historyPosition = 0
        } else {
            history[historyPosition] = leaving
            history.removeSubrange((historyPosition + 1)...)
        }
        history.append(arrived)
        historyPosition = history.count - 1
        if history.count > AppModel.maxHistoryPlaces {
            let extra = history.count - AppModel.maxHistoryPlaces
            history.removeFirst(extra)
            historyPosition -= extra
        }
    }

    /// `[` (-1) and `]` (+1): the place before or after the current one, as it was left.
    mutating func historyMove(_ delta: Int) {
        let target = historyPosition + delta
        guard !history.isEmpty, target >= 0, target < history.count else {
            flash(delta < 0 ? "no earlier view in the history" : "no later view in the history")
            return
        }
        history[historyPosition] = location()
        historyPosition = target
        restore(history[target])
        flash("\(delta < 0 ? "back" : "forward") to \(history[target].title) (\(target + 1)/\(history.count))")
    }

    /// Rebuilds the stack of a place; each view reads its data again when shown.
    mutating func restore(_ place: HistoryEntry) {
        rememberLaunchContext()
        mode = .normal
        let rows = layout.tableRows
        stack = place.levels.map { level in
            var v = makeView(level.content, title: level.title)
            v.table.sort = level.sort
            v.table.cursorID = level.cursorID
            if !level.filter.isEmpty { v.table.setFilter(level.filter, rows: rows) }
            return v
        }
        if stack.isEmpty { stack = [makeView(.table(.devices, nil), title: "devices")] }
    }
}
