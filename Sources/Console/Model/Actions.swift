import Foundation
import Store

extension AppModel {
    /// Whether an action means something in the top view. A table's own keys are its
    /// descriptor's (Tables/); the rest depend on what the view is.
    func applies(_ action: Action) -> Bool {
        let v = top
        if let kind = v.tableKind {
            switch action {
            case .quit, .help, .command, .back, .refresh, .pause, .historyBack, .historyForward,
                 .up, .down, .top, .bottom, .pageUp, .pageDown, .filter, .mark, .clearMarks, .sortNext, .sortPrevious, .sortReverse, .columns, .left, .right:
                return true
            case .ssh, .sshAs: return sessionDevice != nil
            default: return kind.descriptor.allows(action, in: v.content)
            }
        }
        switch action {
        case .quit, .help, .command, .back, .refresh, .pause, .historyBack, .historyForward:
            return true
        case .up, .down, .top, .bottom, .pageUp, .pageDown:
            return v.content != .pulse
        case .left, .right, .follow, .search, .nextMatch, .previousMatch, .wrap, .save:
            return v.isLog
        case .sideBySide:
            return v.isLog && v.log.isDiff
        case .open, .runLog, .deviceFilter, .timestamps, .stopRun:
            if case .runLog = v.content { return action != .runLog }
            return false
        case .runService:
            if case .workflow = v.content { return true }
            return false
        default:
            return false
        }
    }

    mutating func normalKey(_ key: Key) -> [Effect] {
        let candidates = keymap.actions(for: key)
        guard let action = candidates.first(where: applies) else {
            if !candidates.isEmpty || key != .escape {
                flash("\(key) does nothing here; ? lists the keys of this view")
            }
            return []
        }
        if action.changesSomething && readonly {
            flash("read-only console: \(action.summary) is disabled", error: true)
            return []
        }
        return perform(action)
    }

    mutating func perform(_ action: Action) -> [Effect] {
        let page = max(1, (top.isLog ? layout.logRows : layout.tableRows) - 1)
        switch action {
        case .quit:
            quitting = true
            return [.quit]
        case .help:
            if case .help = top.content { popView(); return [] }
            stack.append(makeView(.help, title: "help"))
        case .command:
            mode = .command(LineEditor())
            historyIndex = nil
        case .filter:
            if top.searchesConfigurations {
                mode = .dialog(.prompt(title: "search the latest configuration of every device (regex)", editor: LineEditor(), purpose: .configSearch))
                return []
            }
            mode = .filter(LineEditor(top.table.filterText), previous: top.table.filterText)
        case .search:
            mode = .search(LineEditor(top.log.search ?? ""), previous: top.log.search)
        case .back:
            if top.tableKind != nil && !top.table.filterText.isEmpty {
                setFilter("")
            } else if top.isLog && top.log.search != nil {
                top.log.search = nil; top.log.match = nil
            } else if stack.count > 1 {
                let leaving = location()
                popView()
                recordNavigation(from: leaving)
            }
        case .refresh:
            top.reloadRequested = true
            headerLastLoad = nil
            flash("reloading")
        case .pause:
            paused.toggle()
            flash(paused ? "automatic refresh paused (p resumes)" : "automatic refresh resumed")
        case .historyBack:
            historyMove(-1)
        case .historyForward:
            historyMove(1)
        case .up: move(-1)
        case .down: move(1)
        case .pageUp: move(-page)
        case .pageDown: move(page)
        case .top: moveTo(start: true)
        case .bottom: moveTo(start: false)
        case .left, .right:
            let d = action == .left ? -1 : 1
            if top.tableKind != nil {
                let n = top.table.visibleColumns.count
                top.table.columnOffset = min(max(0, top.table.columnOffset + d), max(0, n - 1))
            } else if top.isLog && !top.log.wrap {
                top.log.hscroll = max(0, top.log.hscroll + d * 8)
            }
        case .open:
            if case .replay? = top.tableKind?.descriptor.open { return replaySelected() }
            open()
        case .mark:
            top.table.toggleMark(rows: layout.tableRows)
        case .clearMarks:
            top.table.marked.removeAll()
        case .sortNext, .sortPrevious, .sortReverse:
            sort(action)
        case .columns:
            mode = .dialog(.columns(cursor: 0))
        case .configHistory:
            if let name = top.table.selectedRow?.id { push(.table(.config, .device(name)), "\(name) configuration history") }
        case .sessions:
            if let name = top.table.selectedRow?.id { push(.table(.sessions, .device(name)), "\(name) sessions") }
        case .runLog:
            if case .table(.results, .run(let id)?) = top.content { push(.runLog(id), "run \(id) log") }
            else if let id = top.table.selectedRow.flatMap({ Int64($0.id) }) { push(.runLog(id), "run \(id) log") }
        case .diff:
            if let kind = top.tableKind, kind == .configSearch || (kind == .config && top.table.marked.count == 2) {
                compareMarkedDevices()
            } else if let id = top.table.selectedRow.flatMap({ Int64($0.id) }) { push(.document(.configDiff(id)), "changes in version \(id)") }
        case .follow:
            top.log.follow.toggle()
            if !top.log.follow { top.log.top = firstShownPosition() }
            flash(top.log.follow ? "follow on" : "follow off")
        case .wrap:
            top.log.wrap.toggle()
            top.log.hscroll = 0
            flash(top.log.wrap ? "wrap on" : "wrap off")
        case .timestamps:
            top.log.timestamps.toggle()
            flash(top.log.timestamps ? "timestamps on" : "timestamps off")
        case .deviceFilter:
            mode = .dialog(.prompt(title: "show the lines of device (empty: all)", editor: LineEditor(top.log.device ?? ""), purpose: .deviceFilter))
        case .nextMatch, .previousMatch:
            if top.log.isDiff && (top.log.search ?? "").isEmpty {
                if let text = top.log.jumpHunk(forward: action == .nextMatch, rows: layout.logRows, sideBySide: sideBySideShown) { flash(text) }
            } else {
                findMatch(forward: action == .nextMatch)
            }
        case .sideBySide:
            if !top.log.sideBySide && width < DiffDocument.sideBySideWidth {
                flash("side by side needs \(DiffDocument.sideBySideWidth) columns (this terminal has \(width))", error: true)
                return []
            }
            top.log.sideBySide.toggle()
            top.log.hscroll = 0
            flash(top.log.sideBySide ? "side by side (| for unified)" : "unified (| for side by side)")
        case .save:
            let name: String
            if case .runLog(let id) = top.content { name = "switchboard-run-\(id).log" } else { name = "switchboard-output.txt" }
            mode = .dialog(.prompt(title: "save to (in \(AppModel.exportDirectory()))", editor: LineEditor(name), purpose: .saveLog))
        case .runService:
            return openLaunchDialog()
        case .delete:
            guard let kind = top.tableKind, let row = top.table.selectedRow else { return [] }
            let names = top.table.marked.isEmpty ? [row.id] : top.table.marked.sorted()
            let what = names.count == 1 ? "\(kind.noun) \(names[0])" : "\(names.count) \(kind.title)"
            mode = .dialog(.confirm(title: "delete", message: "Delete \(what)? This cannot be undone.", action: .delete(kind, names)))
        case .toggleActive:
            guard let row = top.table.selectedRow else { return [] }
            let active = top.table.value(row, "active") == "yes"
            return [.mutate(.setTaskActive(row.id, !active))]
        case .stopRun:
            let id: Int64?
            if case .runLog(let r) = top.content { id = r } else { id = top.table.selectedRow.flatMap { Int64($0.id) } }
            guard let id else { return [] }
            mode = .dialog(.confirm(title: "stop run", message: "Stop run \(id)?", action: .requestStop(id)))
        case .ssh, .sshAs:
            return startSession(action)
        case .parsed:
            if case .table(.results, .run(let id)?) = top.content { push(.table(.parsed, .run(id)), "run \(id) parsed") }
            else if let id = top.table.selectedRow.flatMap({ Int64($0.id) }) { push(.table(.parsed, .run(id)), "run \(id) parsed") }
        case .export:
            guard top.table.data?.count ?? 0 > 0 else { flash("nothing to export", error: true); return [] }
            var name = "switchboard-\(top.tableKind?.rawValue ?? "table").csv"
            if case .table(_, .run(let id)?) = top.content { name = "switchboard-run-\(id)-parsed.csv" }
            mode = .dialog(.prompt(title: "export to (in \(AppModel.exportDirectory()); .json: JSON, else CSV)", editor: LineEditor(name), purpose: .export))
        case .transcript:
            if let id = top.table.selectedRow.flatMap({ Int64($0.id) }) { push(.document(.session(id)), "session \(id)") }
        case .describe:
            if let kind = top.tableKind, let row = top.table.selectedRow { push(.document(.describe(kind, row.id)), "\(kind.noun) \(row.id)") }
        case .xray:
            if let name = top.table.selectedRow?.id { push(.document(.xray(name)), "xray \(name)") }
        }
        return []
    }

    /// `d` with two marked rows of `:config` or a configuration search: the two devices' latest
    /// configurations compared.
    mutating func compareMarkedDevices() {
        guard let data = top.table.data else { return }
        let devices = data.rows.filter { top.table.marked.contains($0.id) }.map { row -> String in
            top.table.value(row, top.tableKind == .configSearch ? "device" : "device_name")
        }
        let distinct = Array(Set(devices)).sorted()
        guard distinct.count == 2 else {
            flash(distinct.count > 2 ? "mark rows of two devices only (u clears the marks)" : "mark rows of two devices (space), then d compares their latest configurations", error: true)
            return
        }
        push(.document(.latestDiff(distinct[0], distinct[1])), "\(distinct[0]) vs \(distinct[1])")
    }

    /// Where exports go: `$XDG_DATA_HOME/switchboard/exports`.
    static func exportDirectory() -> String { Paths().dataDirectory + "/exports" }

    /// The full path of a file named in the export or save prompt: absolute and `~/` paths as
    /// written, anything else under the exports directory; nil for an empty name.
    static func exportPath(_ text: String) -> String? {
        let path = text.trimmingCharacters(in: .whitespaces)
        guard !path.isEmpty else { return nil }
        if path.hasPrefix("~/") { return NSHomeDirectory() + path.dropFirst(1) }
        if path.hasPrefix("/") { return path }
        return exportDirectory() + "/" + path
    }

    /// A drill-down: a new view on the stack, and a new place in the history.
    mutating func push(_ content: ViewContent, _ title: String) {
        let leaving = location()
        stack.append(makeView(content, title: title))
        recordNavigation(from: leaving)
    }

    mutating func popView() {
        if stack.count > 1 { stack.removeLast() }
        // The view below may be stale: it reloads if its interval passed while hidden (scheduleLoads).
    }

    /// Enter: drill down from the selected row, where its table's descriptor says.
    mutating func open() {
        if case .runLog(let id) = top.content { push(.table(.results, .run(id)), "run \(id) results"); return }
        guard let kind = top.tableKind, let row = top.table.selectedRow else { return }
        if case .push(let target) = kind.descriptor.open, let (content, title) = target(row, top.table) {
            push(content, title)
        }
    }

    // MARK: movement

    mutating func move(_ delta: Int) {
        switch top.content {
        case .table:
            top.table.move(by: delta, rows: layout.tableRows)
        case .workflow:
            let n = top.graph?.lines().count ?? 0
            top.treeCursor = min(max(0, top.treeCursor + delta), max(0, n - 1))
            let rows = layout.main.height
            if top.treeCursor < top.treeTop { top.treeTop = top.treeCursor }
            if top.treeCursor >= top.treeTop + rows { top.treeTop = top.treeCursor - rows + 1 }
        case .help:
            top.helpTop = max(0, top.helpTop + delta)
        case .runLog, .document:
            scrollLog(delta)
        case .pulse:
            break
        }
    }

    mutating func moveTo(start: Bool) {
        switch top.content {
        case .table, .workflow, .help:
            move(start ? -Int.max / 2 : Int.max / 2)
        case .runLog, .document:
            top.log.moveTo(start: start)
        case .pulse:
            break
        }
    }
}
