import Foundation

/// The frame around the main view: header, breadcrumb, status line and key hints.
public enum Chrome {
    /// ` Switchboard │ db switchboard.db │ engine 4242 │ running 1 │ queued 2 │ user alice      09:26` (engine: its
    /// pid, or off; queued only when runs wait)
    public static func header(_ model: AppModel, into buffer: inout CellBuffer, rect: Rect) {
        guard rect.height > 0 else { return }
        buffer.fill(rect, role: .header)
        let g = LineGlyphs(buffer.charset)
        let h = model.header
        var parts = ["db \(h.database)", "engine \(h.engine)", "running \(h.running)"]
        // Runs waiting for the engine are runs too: `running 0` alone would hide them.
        if h.queued > 0 { parts.append("queued \(h.queued)") }
        parts.append("user \(h.user)")
        if model.readonly { parts.append("read-only") }
        if model.paused { parts.append("paused") }
        let clock = model.showClock ? Formats.clock(model.now) : ""
        let room = rect.width - (clock.isEmpty ? 0 : clock.count + 2)
        var x = rect.x
        // The product's name goes first when there is room for everything; on a narrow terminal the facts win.
        let needed = 13 + parts.reduce(0) { $0 + TextWidth.of($1) + 3 }
        if needed <= room {
            x += buffer.write(" Switchboard ", x: x, y: rect.y, role: .header, limit: max(0, room))
        } else {
            x += 1
        }
        for (i, p) in parts.enumerated() where x < room {
            if i == 0 && needed > room {
                x += buffer.write(p + " ", x: x, y: rect.y, role: .header, limit: max(0, room - x))
                continue
            }
            x += buffer.write(g.vertical + " ", x: x, y: rect.y, role: .header, limit: max(0, room - x))
            x += buffer.write(p + " ", x: x, y: rect.y, role: .header, limit: max(0, room - x))
        }
        if !clock.isEmpty && rect.width > clock.count + 1 {
            buffer.write(clock, x: rect.maxX - clock.count - 1, y: rect.y, role: .header)
        }
    }

    /// `devices › pool core` on the left; the filter, position and counts on the right.
    public static func breadcrumb(_ model: AppModel, into buffer: inout CellBuffer, rect: Rect) {
        guard rect.height > 0 else { return }
        buffer.fill(rect, role: .breadcrumb)
        let g = LineGlyphs(buffer.charset)
        // Right side: what is filtered (cut first when room is short), then counts (always whole).
        var head = ""
        var tail = ""
        let v = model.top
        if v.tableKind != nil, let data = v.table.data {
            // Only a filter in force is named: an invalid one filters nothing (its error is in the status line).
            let active = v.table.activeFilterText
            if !active.isEmpty { head = "/\(active)  " }
            if !v.table.marked.isEmpty { tail += "\(v.table.marked.count) marked  " }
            let pos = v.table.visible.isEmpty ? 0 : v.table.cursor + 1
            tail += "\(pos)/\(v.table.visible.count)"
            if v.table.visible.count != data.count { tail += " of \(data.count)" }
        } else if v.isLog {
            let log = v.log
            var flags: [String] = []
            if let s = log.search { flags.append("/\(s)") }
            if let d = log.device { flags.append("device \(d)") }
            if log.wrap { flags.append("wrap") }
            head = flags.isEmpty ? "" : flags.joined(separator: "  ") + "  "
            tail = log.follow ? "follow" : "line \(log.top + 1)"
        }
        let tailWidth = min(TextWidth.of(tail, charset: buffer.charset), max(0, rect.width - 2))
        let headWidth = min(TextWidth.of(head, charset: buffer.charset), max(0, rect.width / 2 - tailWidth))
        let rightWidth = tailWidth + headWidth
        let left = model.stack.map(\.title).joined(separator: " \(g.separator) ")
        buffer.write(" " + left, x: rect.x, y: rect.y, width: max(0, rect.width - rightWidth - 2), role: .breadcrumb)
        if headWidth > 0 {
            buffer.write(head, x: rect.maxX - rightWidth - 1, y: rect.y, width: headWidth, role: .breadcrumb)
        }
        if tailWidth > 0 {
            buffer.write(tail, x: rect.maxX - tailWidth - 1, y: rect.y, width: tailWidth, role: .breadcrumb)
        }
    }

    /// The command line or filter being typed, else the flash, else the view's error.
    /// Returns where the terminal cursor goes while typing.
    public static func status(_ model: AppModel, into buffer: inout CellBuffer, rect: Rect) -> (Int, Int)? {
        guard rect.height > 0 else { return nil }
        buffer.fill(rect, role: .body)
        func line(_ prefix: String, _ editor: LineEditor, error: String?) -> (Int, Int) {
            let room = rect.width - prefix.count - 1
            let col = editor.cursorColumn
            let shift = max(0, col - room + 1)
            buffer.write(prefix, x: rect.x, y: rect.y, role: .commandLine)
            let shown = shift > 0 ? String(editor.text.dropFirst(shift)) : editor.text
            let used = buffer.write(shown, x: rect.x + prefix.count, y: rect.y, role: .commandLine, limit: room)
            if let error {
                let x = rect.x + prefix.count + used + 2
                if x < rect.maxX { buffer.write(error, x: x, y: rect.y, width: rect.maxX - x, role: .flashError) }
            }
            return (rect.x + prefix.count + col - shift, rect.y)
        }
        switch model.mode {
        case .command(let e): return line(":", e, error: nil)
        case .filter(let e, _): return line("/", e, error: model.top.table.filterError)
        case .search(let e, _): return line("search: ", e, error: nil)
        default: break
        }
        if let f = model.activeFlash {
            buffer.write(f.text, x: rect.x, y: rect.y, width: rect.width, role: f.isError ? .flashError : .flashInfo)
        } else if let e = model.top.error {
            buffer.write("database: " + e, x: rect.x, y: rect.y, width: rect.width, role: .flashError)
        } else if model.top.tableKind != nil, let e = model.top.table.filterError {
            // An invalid filter stays in view until it is fixed or cleared (Esc): it filters nothing.
            buffer.write(e, x: rect.x, y: rect.y, width: rect.width, role: .flashError)
        } else if let problem = model.header.engineProblem {
            buffer.write(problem, x: rect.x, y: rect.y, width: rect.width, role: .flashError)
        }
        return nil
    }

    /// The most useful keys of the current view: `<?> help  </> filter …`.
    public static func hints(_ model: AppModel, into buffer: inout CellBuffer, rect: Rect) {
        guard rect.height > 0 else { return }
        buffer.fill(rect, role: .keyHint)
        var x = rect.x + 1
        for (key, label) in hintList(model) {
            let needed = TextWidth.of(key) + TextWidth.of(label) + 4
            if x + needed > rect.maxX { break }
            if key.isEmpty {
                x += buffer.write(label, x: x, y: rect.y, role: .keyHint)
                continue
            }
            x += buffer.write("<" + key + ">", x: x, y: rect.y, role: .keyName)
            x += buffer.write(" " + label + "  ", x: x, y: rect.y, role: .keyHint)
        }
    }

    static func hintList(_ model: AppModel) -> [(String, String)] {
        func key(_ a: Action) -> String? { model.keymap.keys(for: a).first?.description }
        var actions: [(Action, String)] = []
        switch model.mode {
        case .command: return [("enter", "run"), ("esc", "cancel"), ("up/down", "history"), ("tab", "complete")]
        case .filter: return [("enter", "keep"), ("esc", "cancel"), ("", "text  field=value  field~regex  !term")]
        case .search: return [("enter", "search"), ("esc", "cancel")]
        case .dialog(.confirm): return [("y", "yes"), ("n", "no")]
        case .dialog(.prompt): return [("enter", "accept"), ("esc", "cancel")]
        case .dialog(.columns): return [("space", "show/hide"), ("enter", "close")]
        case .dialog(.launch): return [("enter", "run"), ("tab", "next field"), ("esc", "cancel"), ("", "names: a, b  parameters: k=v, k2=v2")]
        case .normal: break
        }
        let v = model.top
        switch v.content {
        case .help:
            actions = [(.back, "close"), (.up, "up"), (.down, "down")]
        case .table(let kind, _):
            // The table's own keys come from its descriptor (Tables/): those that look, mark and
            // sort, then those that change something.
            let d = kind.descriptor
            actions = [(.help, "help"), (.filter, v.searchesConfigurations ? "search configs" : "filter"), (.command, "command")]
            if model.applies(.open) { actions.append((.open, "open")) }
            for a in d.browse where a.hint != nil && model.applies(a.action) && !(a.action.changesSomething && model.readonly) {
                actions.append((a.action, a.hint!))
            }
            actions += [(.mark, "mark"), (.sortNext, "sort")]
            if !model.readonly {
                for a in d.change where a.hint != nil && model.applies(a.action) { actions.append((a.action, a.hint!)) }
                if model.applies(.delete) { actions.append((.delete, "delete")) }
            }
        case .pulse:
            actions = [(.help, "help"), (.command, "command"), (.refresh, "reload")]
            if model.historyPosition > 0 { actions.append((.historyBack, "previous")) }
            if model.historyPosition + 1 < model.history.count { actions.append((.historyForward, "next")) }
        case .workflow:
            actions = [(.help, "help"), (.command, "command")]
            if !model.readonly { actions.append((.runService, "run")) }
        case .document(.describe), .document(.xray):
            // Read-only trees: nothing follows or filters by device.
            actions = [(.help, "help"), (.search, "search"), (.wrap, "wrap"), (.save, "save")]
        case .runLog, .document:
            actions = [(.help, "help"), (.follow, "follow"), (.search, "search")]
            if v.log.isDiff {
                actions.append((.nextMatch, "next hunk"))
                if model.width >= DiffDocument.sideBySideWidth { actions.append((.sideBySide, model.sideBySideShown ? "unified" : "side by side")) }
            }
            if case .runLog = v.content {
                if !model.readonly && model.tailsLiveRun { actions.append((.stopRun, "stop")) }
                actions.append((.open, "results"))
            }
            actions.append((.wrap, "wrap"))
            if model.applies(.timestamps) { actions += [(.timestamps, "time"), (.deviceFilter, "device")] }
            actions.append((.save, "save"))
        }
        if !actions.contains(where: { $0.0 == .back }) && (model.stack.count > 1 || (v.tableKind != nil && !v.table.filterText.isEmpty)) {
            actions.append((.back, "back"))
        }
        actions.append((.quit, "quit"))
        return actions.compactMap { a, label in key(a).map { ($0, label) } }
    }
}

/// The help screen: every key of the view it was opened from, then the commands.
public enum HelpContent {
    public static func lines(_ model: AppModel) -> [(String, Role)] {
        var below = model
        if case .help = below.top.content, below.stack.count > 1 { below.stack.removeLast() }
        var out: [(String, Role)] = []
        out.append(("Keys of \(below.top.title)", .title))
        for action in Action.allCases where below.applies(action) {
            // Only the keys that do this here: in :svc, `r` runs the service, so it is not also
            // listed as "reload now" (ctrl+r is).
            let doing = model.keymap.keys(for: action).filter { key in
                model.keymap.actions(for: key).first(where: below.applies) == action
            }
            guard !doing.isEmpty else { continue }
            let keys = doing.map(\.description).joined(separator: ", ")
            var summary = action.summary
            if action.changesSomething && model.readonly { summary += " (disabled: read-only)" }
            out.append(("  " + pad(keys, 22) + summary, action.changesSomething && model.readonly ? .dim : .body))
        }
        if let kind = below.top.tableKind, below.applies(.describe) {
            // Enter keeps its drill-down where it had one; `d` is the description everywhere.
            let enter: String
            switch kind {
            case .pools: enter = "enter still shows the pool's devices"
            case .workflows: enter = "enter still shows the workflow's graph"
            default: enter = "enter does the same"
            }
            out.append(("", .body))
            out.append(("Describe", .title))
            out.append(("  d             the \(kind.noun)'s details, read-only (esc goes back); \(enter)", .body))
        }
        if below.top.searchesConfigurations {
            out.append(("", .body))
            out.append(("Configuration search", .title))
            out.append(("  /             searches the latest configuration of every device (regular expression)", .body))
            out.append(("  d             with two marked rows: their devices' latest configurations compared", .body))
            out.append(("  :config TEXT  filters this table instead", .body))
        }
        if below.top.tableKind != nil {
            out.append(("", .body))
            out.append(("Filter (/), the CLI's language", .title))
            out.append(("  text          the text appears in any column (case-insensitive)", .body))
            out.append(("  field=value   the field equals the value; field!=value negates", .body))
            out.append(("  field~regex   the field matches the regular expression; field!~regex negates", .body))
            out.append(("  !term         any term negated; \"quotes\" keep spaces", .body))
        }
        out.append(("", .body))
        out.append(("Commands (:)", .title))
        out += tableCommandLines().map { ($0, .body) }
        out.append(("  :pulse                               the dashboard: runs, devices, engine, backups, slowest devices", .body))
        out.append(("  :theme NAME                          switch the colour theme", .body))
        out.append(("  :refresh SECONDS                     refresh every table this often", .body))
        out.append(("  :ssh DEVICE                          SSH session to a device (~. ends it, ~? lists escapes)", .body))
        out.append(("  :messages                            every status-line message so far, whole", .body))
        out.append(("  :q                                   quit", .body))
        out.append(("  up/down recall earlier commands, tab completes", .dim))
        return out
    }

    /// `:dev :devices :links …` from the table descriptors, wrapped, the last line saying what they do.
    static func tableCommandLines() -> [String] {
        let words = TableDescriptor.all.flatMap(\.helpWords).map { ":" + $0 }
        var lines: [String] = []
        var line = ""
        for w in words {
            if !line.isEmpty && line.count + 1 + w.count > 66 { lines.append("  " + line); line = "" }
            line += (line.isEmpty ? "" : " ") + w
        }
        lines.append("  " + pad(line, 36) + "open a table (an optional filter may follow)")
        return lines
    }

    static func pad(_ s: String, _ n: Int) -> String {
        let w = TextWidth.of(s)
        return w >= n ? s + " " : s + String(repeating: " ", count: n - w)
    }

    public static func render(_ model: AppModel, into buffer: inout CellBuffer, rect: Rect) {
        buffer.fill(rect, role: .body)
        let lines = HelpContent.lines(model)
        let top = max(0, min(model.top.helpTop, max(0, lines.count - rect.height)))
        for (r, (text, role)) in lines.dropFirst(top).prefix(rect.height).enumerated() {
            buffer.write(text, x: rect.x + 1, y: rect.y + r, width: max(0, rect.width - 2), role: role)
        }
    }
}
