import Foundation
import Store

extension AppModel {
    /// Where a key goes: the session overlay, else the mode's handler.
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
            editor.set(ColonCommand.complete(editor.text))
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
        switch ColonCommand.parse(line) {
        case .failure(let e):
            flash(e.message, error: true)
        case .success(.quit):
            quitting = true
            return [.quit]
        case .success(.help):
            stack.append(makeView(.help, title: "help"))
        case .success(.messages):
            showMessages()
        case .success(.table(let kind, let filter)):
            // A table command starts a new stack, as k9s does: Esc does not go back through it
            // (`[` does: the view history).
            let leaving = location()
            rememberLaunchContext()
            stack = [makeView(.table(kind, nil), title: kind.title)]
            if !filter.isEmpty { setFilter(filter) }
            recordNavigation(from: leaving)
        case .success(.pulse):
            let leaving = location()
            rememberLaunchContext()
            stack = [makeView(.pulse, title: "pulse")]
            recordNavigation(from: leaving)
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

    /// `:messages`: the status line's messages so far, newest last, wrapped so a long one reads whole.
    mutating func showMessages() {
        var v = makeView(.document(.messages), title: "messages")
        v.lastLoad = now
        v.documentTitle = "status-line messages, newest last"
        v.log.timestamps = true
        v.log.wrap = true
        v.log.follow = true
        for (i, m) in messages.enumerated() {
            v.log.ring.append(LogLine(seq: Int64(i), time: m.time, level: m.isError ? .error : nil, text: m.text))
        }
        stack.append(v)
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
        case .export:
            guard let path = AppModel.exportPath(text) else { return [] }
            return [.save(path: path, text: ParsedTable.export(top.table, json: path.lowercased().hasSuffix(".json")))]
        case .configSearch:
            let regex = text.trimmingCharacters(in: .whitespaces)
            guard !regex.isEmpty else { return [] }
            do { _ = try ConfigSearch.Pattern(regex) } catch {
                flash("\(error)", error: true)
                return []
            }
            push(.table(.configSearch, .search(regex)), "search \(regex)")
        case .saveLog:
            // Like an export: a bare name goes under the exports directory, not wherever the
            // console was started; the flash then shows the full path.
            guard let path = AppModel.exportPath(text) else { return [] }
            return [.save(path: path, text: logText())]
        }
        return []
    }
}
