import Foundation
import Store

/// The console's commands (`:`), with their aliases.
public enum ConsoleCommand: Equatable, Sendable {
    case table(TableKind, filter: String)
    case theme(String?)
    case refresh(String?)
    case quit
    case help

    public static let aliases: [String: TableKind] = [
        "dev": .devices, "devs": .devices, "device": .devices, "devices": .devices,
        "link": .links, "links": .links,
        "pool": .pools, "pools": .pools,
        "cred": .credentials, "creds": .credentials, "credential": .credentials, "credentials": .credentials,
        "svc": .services, "service": .services, "services": .services,
        "wf": .workflows, "workflow": .workflows, "workflows": .workflows,
        "run": .runs, "runs": .runs,
        "task": .tasks, "tasks": .tasks,
        "session": .sessions, "sessions": .sessions,
        "config": .config, "configs": .config, "configuration": .config,
        "result": .results, "results": .results,
    ]

    /// Every word the command line knows, for completion and the help screen.
    public static let words: [String] = (Array(aliases.keys) + ["theme", "refresh", "q", "quit", "help", "ssh"]).sorted()

    /// Parses a command line (without the `:`); the error names the unknown command.
    public static func parse(_ line: String) -> Result<ConsoleCommand, StoreError> {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        let word = String(trimmed.prefix { $0 != " " })
        let rest = trimmed.dropFirst(word.count).trimmingCharacters(in: .whitespaces)
        let arg: String? = rest.isEmpty ? nil : rest
        if let kind = aliases[word.lowercased()] { return .success(.table(kind, filter: rest)) }
        switch word.lowercased() {
        case "q", "q!", "quit", "exit": return .success(.quit)
        case "theme": return .success(.theme(arg))
        case "refresh": return .success(.refresh(arg))
        case "help", "h", "?": return .success(.help)
        case "": return .failure(StoreError.invalid("empty command"))
        default:
            return .failure(StoreError.invalid("unknown command '\(Sanitizer.inert(word))' (:dev :links :pools :creds :svc :wf :runs :tasks :sessions :config :theme NAME :refresh SECONDS :q)"))
        }
    }

    /// Completes the command word: the longest common prefix of the words that start with it.
    public static func complete(_ text: String) -> String {
        guard !text.contains(" ") else { return text }
        let matches = words.filter { $0.hasPrefix(text.lowercased()) }
        guard var common = matches.first else { return text }
        for m in matches.dropFirst() { while !m.hasPrefix(common) { common.removeLast() } }
        return matches.count == 1 ? common + " " : common
    }
}

/// The pure update function: a model and an event in, the next model and effects out.
public func update(_ model: AppModel, _ event: Event) -> (AppModel, [Effect]) {
    var m = model
    var effects: [Effect] = []
    switch event {
    case .key(let key):
        effects += m.handleKey(key)
    case .tick(let now):
        m.now = now
    case .resize(let w, let h):
        m.width = max(1, w); m.height = max(1, h)
        for i in m.stack.indices where m.stack[i].tableKind != nil { m.clampTable(i) }
    case .loaded(let request, let result, let at):
        m.now = max(m.now, at)
        m.apply(request, result, at: at)
    case .themeLoaded(let name, let problems):
        if problems.isEmpty {
            m.themeName = name
            m.flash("theme \(name)")
        } else {
            m.themeName = "default"
            m.flash(problems[0] + (problems.count > 1 ? " (+\(problems.count - 1) more)" : "") + "; using the default theme", error: true, seconds: 10)
        }
    case .saved(let path, let error):
        if let error { m.flash("cannot save \(path): \(error)", error: true) } else { m.flash("saved \(path)") }
    case .mutated(let message, let error):
        if let error { m.flash(error, error: true, seconds: 10) } else { m.flash(message) }
        m.top.reloadRequested = true
    case .notice(let text, let isError):
        m.flash(text, error: isError, seconds: isError ? 10 : AppModel.flashSeconds)
    case .session(let sessionEvent):
        effects += m.handleSession(sessionEvent)
    case .launched(let request, let run, let error, let engine):
        m.launched(request, run: run, error: error, engine: engine)
    case .launchInfo(let info):
        m.launchInfoLoaded(info)
    case .launchConfirm(let request, let preview):
        m.launchNeedsConfirmation(request, preview)
    }
    if m.quitting { return (m, effects.contains(.quit) ? effects : effects + [.quit]) }
    effects += m.scheduleLoads()
    return (m, effects)
}

extension AppModel {
    // MARK: loading

    /// Loads that are due: the header, and the top view (on first show, when asked, or when its
    /// refresh interval has passed). A load still running is never started again.
    mutating func scheduleLoads() -> [Effect] {
        var effects: [Effect] = []
        let runInterval = TimeInterval(interval("run")) / 1000
        if !headerLoading && (headerLastLoad == nil || (!paused && now.timeIntervalSince(headerLastLoad!) >= runInterval)) {
            headerLoading = true
            effects.append(.load(LoadRequest(viewID: 0, content: nil)))
        }
        var index = stack.count - 1
        if case .help = stack[index].content, index > 0 { index -= 1 }
        let v = stack[index]
        guard !v.loading, v.content != .help else { return effects }
        let asked = v.lastLoad == nil || v.reloadRequested
        var due = asked
        if !due, !paused, let last = v.lastLoad, let every = refreshSeconds(v) {
            due = now.timeIntervalSince(last) >= every
        }
        guard due else { return effects }
        stack[index].loading = true
        stack[index].reloadRequested = false
        var load = request(for: stack[index])
        // A periodic refresh skips the read when nothing was written; a reload someone asked for reads.
        if !asked, case .table = v.content { load.unlessStamp = v.tableStamp }
        effects.append(.load(load))
        return effects
    }

    /// How often a view reloads by itself, nil for never (a document does not change).
    func refreshSeconds(_ v: ViewState) -> TimeInterval? {
        switch v.content {
        case .table(let kind, _): return TimeInterval(interval(kind.rawValue)) / 1000
        case .workflow: return TimeInterval(interval("workflow")) / 1000
        case .runLog:
            // A live run is tailed every 100 ms (new lines within 250 ms); a finished one rarely.
            if let run = v.run, run.status == "running" || run.status == "queued" { return 0.1 }
            return TimeInterval(interval("run")) / 1000
        case .document, .help: return nil
        }
    }

    func request(for v: ViewState) -> LoadRequest {
        switch v.content {
        case .table:
            return LoadRequest(viewID: v.id, content: v.content, sort: v.table.sort,
                               filter: v.table.filter?.expression ?? FilterExpression(terms: []))
        case .runLog:
            return LoadRequest(viewID: v.id, content: v.content, afterSeq: v.log.lastSeq, capacity: v.log.ring.capacity)
        default:
            return LoadRequest(viewID: v.id, content: v.content, capacity: v.log.ring.capacity)
        }
    }

    /// Applies a load's result to the view that asked for it (wherever it now is in the stack).
    mutating func apply(_ request: LoadRequest, _ result: LoadResult, at: Date) {
        if request.viewID == 0 {
            headerLoading = false
            headerLastLoad = at
            if case .header(let info) = result { header = info }
            if case .failure(let message) = result { flash("database: " + message, error: true, seconds: 10) }
            return
        }
        guard let i = stack.firstIndex(where: { $0.id == request.viewID }) else { return }
        stack[i].loading = false
        stack[i].lastLoad = at
        switch result {
        case .failure(let message):
            let wasError = stack[i].error
            stack[i].error = message
            if wasError != message { flash("database: " + message, error: true, seconds: 10) }
        case .table(let prepared):
            stack[i].error = nil
            stack[i].tableStamp = prepared.stamp
            applyTable(i, prepared)
        case .unchanged:
            stack[i].error = nil
        case .workflow(let graph):
            stack[i].error = nil
            stack[i].graph = graph
            let count = graph.lines().count
            stack[i].treeCursor = min(stack[i].treeCursor, max(0, count - 1))
        case .document(let title, let lines, let skipped):
            stack[i].error = nil
            stack[i].documentTitle = title
            stack[i].log.ring.removeAll()
            stack[i].log.ring.noteSkipped(skipped)
            stack[i].log.ring.append(contentsOf: lines)
            stack[i].log.top = stack[i].log.ring.firstPosition
        case .runLog(let summary, let lines, let skipped):
            stack[i].error = nil
            stack[i].run = summary
            // A reply to a stale request (the view was reset meanwhile) is dropped.
            guard request.afterSeq == stack[i].log.lastSeq else { return }
            if request.afterSeq == nil { stack[i].log.ring.removeAll() }
            stack[i].log.ring.noteSkipped(skipped)
            stack[i].log.ring.append(contentsOf: lines)
            if let last = lines.last { stack[i].log.lastSeq = last.seq }
            else if request.afterSeq == nil { stack[i].log.lastSeq = 0 }
            if stack[i].log.top < stack[i].log.ring.firstPosition { stack[i].log.top = stack[i].log.ring.firstPosition }
        case .header(let info):
            header = info
        }
    }

    mutating func applyTable(_ i: Int, _ prepared: PreparedTable) {
        var t = stack[i].table
        let sameData = t.data == prepared.data
        if sameData && t.sort == prepared.sort && t.filter?.expression == prepared.filter { return }
        t.data = prepared.data
        if t.sort == prepared.sort {
            t.order = prepared.order
        } else {
            t.order = prepared.data.sortedOrder(t.sort)
        }
        // Recompile the filter against the new fields (a custom property may have appeared).
        if !t.filterText.isEmpty {
            do {
                let expr = try FilterExpression.parse(t.filterText)
                t.filter = try CompiledFilter(expr, for: prepared.data)
                t.filterError = nil
            } catch {
                t.filterError = AppDatabase.describe(error)
            }
        }
        if t.sort == prepared.sort && (t.filter?.expression ?? FilterExpression(terms: [])) == prepared.filter {
            t.visible = prepared.visible
        } else {
            t.visible = prepared.data.filtered(t.order, by: t.filter)
        }
        if !t.marked.isEmpty {
            let ids = Set(prepared.data.rows.map(\.id))
            t.marked.formIntersection(ids)
        }
        stack[i].table = t
        restoreCursor(i)
    }

    /// Puts the cursor back on the row it was on (by identity); if that row is gone, keeps the position.
    mutating func restoreCursor(_ i: Int) {
        var t = stack[i].table
        guard let data = t.data else { return }
        if let id = t.cursorID, let pos = t.visible.firstIndex(where: { data.rows[Int($0)].id == id }) {
            t.cursor = pos
        } else {
            t.cursor = min(max(0, t.cursor), max(0, t.visible.count - 1))
            t.cursorID = t.visible.isEmpty ? t.cursorID : data.rows[Int(t.visible[t.cursor])].id
        }
        stack[i].table = t
        clampTable(i)
    }

    /// Keeps the cursor on screen.
    mutating func clampTable(_ i: Int) {
        let rows = layout.tableRows
        var t = stack[i].table
        t.cursor = min(max(0, t.cursor), max(0, t.visible.count - 1))
        if t.cursor < t.top { t.top = t.cursor }
        if t.cursor >= t.top + rows { t.top = t.cursor - rows + 1 }
        t.top = max(0, min(t.top, max(0, t.visible.count - rows)))
        stack[i].table = t
    }

    // MARK: keys

    mutating func handleKey(_ key: Key) -> [Effect] {
        if sessionUI.overlay != nil { return sessionOverlayKey(key) }
        switch mode {
        case .normal: return normalKey(key)
        case .command(var editor): return commandKey(key, &editor)
        case .filter(var editor, let previous): return filterKey(key, &editor, previous)
        case .search(var editor, let previous): return searchKey(key, &editor, previous)
        case .dialog(let dialog): return dialogKey(key, dialog)
        }
    }

    /// Whether an action means something in the top view.
    func applies(_ action: Action) -> Bool {
        let v = top
        let kind = v.tableKind
        switch action {
        case .quit, .help, .command, .back, .refresh, .pause, .up, .down, .top, .bottom, .pageUp, .pageDown:
            return true
        case .filter, .mark, .clearMarks, .sortNext, .sortPrevious, .sortReverse, .columns:
            return kind != nil
        case .left, .right:
            return kind != nil || v.isLog
        case .open:
            if case .runLog = v.content { return true }
            switch kind {
            case .pools?, .devices?, .workflows?, .runs?, .results?, .config?, .sessions?: return true
            default: return false
            }
        case .configHistory, .sessions: return kind == .devices
        case .runLog:
            if kind == .runs { return true }
            if case .table(.results, .run?) = v.content { return true }
            return false
        case .diff: return kind == .config
        case .follow, .search, .nextMatch, .previousMatch, .wrap, .save: return v.isLog
        case .deviceFilter, .timestamps:
            if case .runLog = v.content { return true }
            return false
        case .runService:
            if case .workflow = v.content { return true }
            return kind == .services || kind == .workflows
        case .delete:
            switch kind {
            case .devices?, .links?, .pools?, .credentials?, .services?, .workflows?, .tasks?: return true
            default: return false
            }
        case .toggleActive: return kind == .tasks
        case .ssh, .sshAs: return sessionDevice != nil
        case .transcript: return kind == .sessions
        case .stopRun:
            if kind == .runs { return true }
            if case .runLog = v.content { return true }
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
            mode = .filter(LineEditor(top.table.filterText), previous: top.table.filterText)
        case .search:
            mode = .search(LineEditor(top.log.search ?? ""), previous: top.log.search)
        case .back:
            if top.tableKind != nil && !top.table.filterText.isEmpty {
                setFilter("")
            } else if top.isLog && top.log.search != nil {
                top.log.search = nil; top.log.match = nil
            } else if stack.count > 1 {
                popView()
            }
        case .refresh:
            top.reloadRequested = true
            headerLastLoad = nil
            flash("reloading")
        case .pause:
            paused.toggle()
            flash(paused ? "automatic refresh paused (p resumes)" : "automatic refresh resumed")
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
            if top.tableKind == .sessions { return replaySelected() }
            open()
        case .mark:
            guard let row = top.table.selectedRow else { return [] }
            if top.table.marked.contains(row.id) { top.table.marked.remove(row.id) } else { top.table.marked.insert(row.id) }
            move(1)
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
            if let id = top.table.selectedRow.flatMap({ Int64($0.id) }) { push(.document(.configDiff(id)), "changes in version \(id)") }
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
            findMatch(forward: action == .nextMatch)
        case .save:
            let name: String
            if case .runLog(let id) = top.content { name = "switchboard-run-\(id).log" } else { name = "switchboard-output.txt" }
            mode = .dialog(.prompt(title: "save to file", editor: LineEditor(name), purpose: .saveLog))
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
        case .transcript:
            if let id = top.table.selectedRow.flatMap({ Int64($0.id) }) { push(.document(.session(id)), "session \(id)") }
        }
        return []
    }

    mutating func push(_ content: ViewContent, _ title: String) {
        stack.append(makeView(content, title: title))
    }

    mutating func popView() {
        if stack.count > 1 { stack.removeLast() }
        // The view below may be stale: it reloads if its interval passed while hidden (scheduleLoads).
    }

    /// Enter: drill down from the selected row.
    mutating func open() {
        if case .runLog(let id) = top.content { push(.table(.results, .run(id)), "run \(id) results"); return }
        guard let kind = top.tableKind, let row = top.table.selectedRow else { return }
        let id = row.id
        switch kind {
        case .pools: push(.table(.devices, .pool(id)), "pool \(id)")
        case .devices: push(.table(.results, .device(id)), "\(id) results")
        case .workflows: push(.workflow(id), "workflow \(id)")
        case .runs: if let n = Int64(id) { push(.runLog(n), "run \(id)") }
        case .results:
            if let n = Int64(id) {
                let device = top.table.value(row, "device_name")
                push(.document(.resultOutput(n)), device.isEmpty ? "output" : "\(device) output")
            }
        case .config: if let n = Int64(id) { push(.document(.config(n)), "version \(id)") }
        case .sessions: if let n = Int64(id) { push(.document(.session(n)), "session \(id)") }
        default: break
        }
    }

    // MARK: movement

    mutating func move(_ delta: Int) {
        switch top.content {
        case .table:
            let t = top.table
            guard let data = t.data, !t.visible.isEmpty else { return }
            let c = min(max(0, t.cursor + delta), t.visible.count - 1)
            top.table.cursor = c
            top.table.cursorID = data.rows[Int(t.visible[c])].id
            clampTable(stack.count - 1)
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
        }
    }

    mutating func moveTo(start: Bool) {
        switch top.content {
        case .table:
            move(start ? -Int.max / 2 : Int.max / 2)
        case .workflow, .help:
            move(start ? -Int.max / 2 : Int.max / 2)
        case .runLog, .document:
            if start {
                top.log.follow = false
                top.log.top = top.log.ring.firstPosition
            } else {
                top.log.follow = true
            }
        }
    }

    /// The first line on screen as it is drawn now (the follow position, when following).
    func firstShownPosition() -> Int {
        let log = top.log
        if !log.follow { return log.top }
        var p = log.ring.endPosition
        var n = 0
        while p > log.ring.firstPosition && n < layout.logRows {
            p -= 1
            if log.shows(log.ring[position: p]) { n += 1 }
        }
        return p
    }

    mutating func scrollLog(_ delta: Int) {
        var log = top.log
        var p = firstShownPosition()
        log.follow = false
        var n = abs(delta)
        let ring = log.ring
        while n > 0 {
            let next = delta < 0 ? p - 1 : p + 1
            guard next >= ring.firstPosition && next < ring.endPosition else { break }
            p = next
            if log.shows(ring[position: p]) { n -= 1 }
        }
        if case .document = top.content, log.device == nil {
            // A document stops with its last line at the bottom.
            p = max(ring.firstPosition, min(p, ring.endPosition - layout.logRows))
        }
        log.top = p
        // Scrolling down past the last screenful resumes following for a live log.
        if delta > 0 && ring.endPosition - p <= layout.logRows, case .runLog = top.content { log.follow = true }
        top.log = log
    }

    mutating func findMatch(forward: Bool) {
        guard let needle = top.log.search, !needle.isEmpty else {
            flash("no search: / searches"); return
        }
        let ring = top.log.ring
        guard !ring.isEmpty else { return }
        let start = top.log.match ?? firstShownPosition()
        let count = ring.count
        for step in 1...count {
            var p = start + (forward ? step : -step)
            // Wrap around the held lines.
            p = ring.firstPosition + ((p - ring.firstPosition) % count + count) % count
            let line = ring[position: p]
            if top.log.shows(line) && line.text.range(of: needle, options: .caseInsensitive) != nil {
                top.log.match = p
                top.log.follow = false
                top.log.top = max(ring.firstPosition, p - layout.logRows / 3)
                return
            }
        }
        flash("'\(needle)' not found", error: true)
    }

    // MARK: sorting and filtering

    mutating func sort(_ action: Action) {
        let cols = top.table.visibleColumns
        guard !cols.isEmpty else { return }
        var s = top.table.sort
        let current = s.flatMap { sort in cols.firstIndex { $0.property == sort.field } }
        switch action {
        case .sortNext:
            let i = current.map { ($0 + 1) % cols.count } ?? 0
            s = SortOrder(field: cols[i].property, ascending: true)
        case .sortPrevious:
            let i = current.map { ($0 - 1 + cols.count) % cols.count } ?? cols.count - 1
            s = SortOrder(field: cols[i].property, ascending: true)
        default:
            if var cur = s { cur.ascending.toggle(); s = cur } else { s = SortOrder(field: cols[0].property, ascending: false) }
        }
        top.table.sort = s
        if let data = top.table.data {
            top.table.order = data.sortedOrder(s)
            top.table.visible = data.filtered(top.table.order, by: top.table.filter)
            restoreCursor(stack.count - 1)
        }
        if let s, let col = cols.first(where: { $0.property == s.field }) {
            flash("sorted by \(col.title) \(s.ascending ? "ascending" : "descending")")
        }
    }

    /// Applies filter text to the top table. Typing one more character narrows the rows shown so
    /// far instead of scanning the whole table again.
    mutating func setFilter(_ text: String) {
        let i = stack.count - 1
        var t = stack[i].table
        t.filterText = text
        guard let data = t.data else {
            t.filter = nil
            stack[i].table = t
            if !text.isEmpty { _ = try? FilterExpression.parse(text) }
            return
        }
        do {
            let expr = try FilterExpression.parse(text)
            let compiled = try CompiledFilter(expr, for: data)
            if let old = t.filter, old.isRefined(by: expr), t.filterError == nil {
                t.visible = t.visible.filter { compiled.matches(data, Int($0)) }
            } else {
                t.visible = data.filtered(t.order, by: compiled)
            }
            t.filter = expr.isEmpty ? nil : compiled
            t.filterError = nil
        } catch {
            // Keep the rows of the last valid filter while the expression is being typed.
            t.filterError = AppDatabase.describe(error)
        }
        stack[i].table = t
        restoreCursor(i)
    }

    // MARK: modes

    mutating func commandKey(_ key: Key, _ editor: inout LineEditor) -> [Effect] {
        switch key {
        case .escape:
            mode = .normal
        case .enter:
            mode = .normal
            let line = editor.text.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { return [] }
            if commandHistory.last != line { commandHistory.append(line) }
            if commandHistory.count > AppModel.maxHistory { commandHistory.removeFirst(commandHistory.count - AppModel.maxHistory) }
            historyIndex = nil
            return execute(line)
        case .up, .down:
            guard !commandHistory.isEmpty else { return [] }
            var i = historyIndex ?? commandHistory.count
            i += key == .up ? -1 : 1
            if i >= commandHistory.count {
                historyIndex = nil
                editor.set("")
            } else {
                i = max(0, i)
                historyIndex = i
                editor.set(commandHistory[i])
            }
            mode = .command(editor)
        case .tab:
            editor.set(ConsoleCommand.complete(editor.text))
            mode = .command(editor)
        case .backspace where editor.text.isEmpty:
            mode = .normal
        default:
            if editor.handle(key) { mode = .command(editor) }
        }
        return []
    }

    /// Runs a command line (without its `:`).
    public mutating func execute(_ line: String) -> [Effect] {
        if let effects = sessionCommand(line) { return effects }
        switch ConsoleCommand.parse(line) {
        case .failure(let e):
            flash(e.message, error: true)
        case .success(.quit):
            quitting = true
            return [.quit]
        case .success(.help):
            stack.append(makeView(.help, title: "help"))
        case .success(.table(let kind, let filter)):
            // A table command starts a new stack, as k9s does: Esc does not go back through it.
            rememberLaunchContext()
            stack = [makeView(.table(kind, nil), title: kind.title)]
            if !filter.isEmpty { setFilter(filter) }
        case .success(.theme(let name)):
            guard let name else { flash("theme \(themeName) (:theme NAME switches)"); return [] }
            return [.loadTheme(name)]
        case .success(.refresh(let arg)):
            guard let arg else {
                flash(refreshOverride.map { "refresh every \(Double($0) / 1000)s" } ?? "refresh as in settings (tables)")
                return []
            }
            guard let seconds = Double(arg), seconds >= 0.1, seconds <= 3600 else {
                flash("refresh: expected seconds between 0.1 and 3600, got '\(Sanitizer.inert(arg))'", error: true)
                return []
            }
            refreshOverride = Int(seconds * 1000)
            flash("refresh every \(arg)s")
        }
        return []
    }

    mutating func filterKey(_ key: Key, _ editor: inout LineEditor, _ previous: String) -> [Effect] {
        switch key {
        case .escape:
            mode = .normal
            setFilter(previous)
        case .enter:
            mode = .normal
            if let e = top.table.filterError { flash(e, error: true) }
        case .backspace where editor.text.isEmpty:
            mode = .normal
        default:
            if editor.handle(key) {
                mode = .filter(editor, previous: previous)
                setFilter(editor.text)
            }
        }
        return []
    }

    mutating func searchKey(_ key: Key, _ editor: inout LineEditor, _ previous: String?) -> [Effect] {
        switch key {
        case .escape:
            mode = .normal
            top.log.search = previous
        case .enter:
            mode = .normal
            let text = editor.text
            top.log.search = text.isEmpty ? nil : text
            top.log.match = nil
            if !text.isEmpty { findMatch(forward: true) }
        default:
            if editor.handle(key) {
                mode = .search(editor, previous: previous)
                top.log.search = editor.text.isEmpty ? nil : editor.text
            }
        }
        return []
    }

    mutating func dialogKey(_ key: Key, _ dialog: Dialog) -> [Effect] {
        switch dialog {
        case .confirm(_, _, let action):
            switch key {
            case .char("y"), .char("Y"):
                mode = .normal
                if readonly { flash("read-only console", error: true); return [] }
                if case .delete = action { top.table.marked.removeAll() }
                return [.mutate(action)]
            case .char("n"), .char("N"), .escape, .enter, .char("q"):
                mode = .normal
            default: break
            }
        case .prompt(let title, var editor, let purpose):
            switch key {
            case .escape:
                mode = .normal
            case .enter:
                mode = .normal
                return submit(editor.text, purpose)
            default:
                if editor.handle(key) { mode = .dialog(.prompt(title: title, editor: editor, purpose: purpose)) }
            }
        case .launch(let form):
            return launchDialogKey(key, form)
        case .columns(var cursor):
            let n = top.table.columns.count
            switch key {
            case .escape, .enter, .char("q"), .char("C"):
                mode = .normal
                return []
            case .up, .char("k"): cursor = max(0, cursor - 1)
            case .down, .char("j"): cursor = min(max(0, n - 1), cursor + 1)
            case .char(" "):
                if cursor < n {
                    let visibleCount = top.table.visibleColumns.count
                    if top.table.columns[cursor].visible && visibleCount <= 1 {
                        flash("at least one column stays visible", error: true)
                    } else {
                        top.table.columns[cursor].visible.toggle()
                        top.table.columnOffset = min(top.table.columnOffset, max(0, top.table.visibleColumns.count - 1))
                    }
                }
            default: break
            }
            mode = .dialog(.columns(cursor: cursor))
        }
        return []
    }

    mutating func submit(_ text: String, _ purpose: PromptPurpose) -> [Effect] {
        switch purpose {
        case .deviceFilter:
            let d = text.trimmingCharacters(in: .whitespaces)
            top.log.device = d.isEmpty ? nil : d
            top.log.match = nil
            if !top.log.follow { top.log.top = top.log.ring.firstPosition }
            flash(d.isEmpty ? "all devices" : "device \(d) only")
        case .saveLog:
            let path = text.trimmingCharacters(in: .whitespaces)
            guard !path.isEmpty else { return [] }
            return [.save(path: path, text: logText())]
        }
        return []
    }

    /// The held lines of the top log as plain, inert text, as shown (device filter, timestamps).
    func logText() -> String {
        let log = top.log
        var out = ""
        if log.ring.dropped > 0 { out += "[\(log.ring.dropped) earlier lines not held]\n" }
        for p in log.ring.firstPosition..<log.ring.endPosition {
            let l = log.ring[position: p]
            guard log.shows(l) else { continue }
            if log.timestamps, let t = l.time { out += Formats.logTime(t) + " " }
            if let level = l.level { out += level.rawValue.uppercased() + " " }
            if !l.device.isEmpty { out += "[" + l.device + "] " }
            out += Sanitizer.inert(l.text) + "\n"
        }
        return out
    }
}
