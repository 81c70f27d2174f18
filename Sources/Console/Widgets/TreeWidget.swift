/// Draws a workflow as an indented tree: start nodes at the root, success edges (✓) before failure
/// edges (✗), a node met again shown but not expanded (↺).
public enum TreeWidget {
    public static func render(_ graph: WorkflowGraph?, cursor: Int, top: Int, into buffer: inout CellBuffer, rect: Rect,
                              loading: Bool, error: String?) {
        buffer.fill(rect, role: .body)
        guard rect.height > 0 else { return }
        guard let graph else {
            TableWidget.message(loading ? "loading…" : (error ?? "no workflow"), into: &buffer, rect: rect, error: error != nil)
            return
        }
        let lines = graph.lines()
        if lines.isEmpty {
            TableWidget.message("workflow \(graph.name) has no services", into: &buffer, rect: rect, error: false)
            return
        }
        let g = LineGlyphs(buffer.charset)
        let first = max(0, min(top, lines.count - 1))
        for (r, i) in (first..<min(lines.count, first + rect.height)).enumerated() {
            let line = lines[i]
            let y = rect.y + r
            var x = rect.x + 1
            func put(_ text: String, _ role: Role) {
                x += buffer.write(text, x: x, y: y, role: role, limit: max(0, rect.maxX - x))
            }
            for guide in line.guides { put(guide ? g.pipe : "   ", .border) }
            if line.depth > 0 { put((line.isLast ? g.lastBranch : g.branch) + " ", .border) }
            if let edge = line.edge {
                put(edge ? g.success + " " : g.failure + " ", edge ? .treeSuccess : .treeFailure)
            }
            put(line.node.name, .body)
            put(" (\(line.node.kind))", .dim)
            if line.node.isStart { put(" start", .title) }
            if line.repeated { put(" \(g.cycle) shown above", .dim) }
            if i == cursor { buffer.paint(Rect(x: rect.x, y: y, width: rect.width, height: 1), role: .selectedRow) }
        }
    }
}

/// Draws a modal dialog centred in a region.
public enum DialogWidget {
    /// Draws the dialog; returns where the terminal cursor goes (a prompt's insertion point).
    public static func render(_ dialog: Dialog, model: AppModel, into buffer: inout CellBuffer, area: Rect) -> (Int, Int)? {
        let width = min(64, max(20, area.width - 4))
        var body: [(String, Role)] = []
        var title = ""
        var editor: LineEditor?
        switch dialog {
        case .confirm(let t, let message, _):
            title = t
            body = wrap(message, width: width - 4).map { ($0, .dialog) } + [("", .dialog), ("y yes    n no", .dialogTitle)]
        case .prompt(let t, let e, _):
            title = t
            editor = e
            body = [("", .dialog), ("", .dialog), ("enter accepts    esc cancels", .dialog)]
        case .launch(let form):
            return LaunchDialogWidget.render(form, into: &buffer, area: area)
        case .columns(let c):
            title = "columns (space shows or hides)"
            let cols = model.top.table.columns
            for (i, col) in cols.enumerated() {
                body.append(("\(col.visible ? "[x]" : "[ ]") \(col.title) (\(col.property))", i == c ? .selectedRow : .dialog))
            }
            body.append(("", .dialog))
            body.append(("enter closes", .dialog))
        }
        var scrollTo: Int?
        if case .columns(let c) = dialog { scrollTo = c }
        let field = editor.map { (text: $0.text, column: $0.cursorColumn) }
        return box(title: title, body: body, width: width, scrollTo: scrollTo, field: field, into: &buffer, area: area)
    }

    /// A centred box of `width` with a title and lines of text (`.selectedRow` lines highlighted
    /// across the box). A list longer than the box scrolls to keep line `scrollTo` in view. A
    /// `field` is an input line drawn on the box's second line; its cursor position is returned.
    static func box(title: String, body: [(String, Role)], width: Int, scrollTo: Int?, field: (text: String, column: Int)?,
                    into buffer: inout CellBuffer, area: Rect) -> (Int, Int)? {
        let height = min(area.height, body.count + 2)
        guard height >= 3 else { return nil }
        let rect = Rect(x: area.x + (area.width - width) / 2, y: area.y + max(0, (area.height - height) / 2), width: width, height: height)
        buffer.fill(rect, role: .dialog)
        buffer.box(rect, role: .dialog, title: title, titleRole: .dialogTitle)
        var first = 0
        if let c = scrollTo, body.count > height - 2 { first = max(0, min(c - (height - 2) / 2, body.count - (height - 2))) }
        for (r, (text, role)) in body.dropFirst(first).prefix(height - 2).enumerated() {
            let y = rect.y + 1 + r
            // The highlight spans the box; the text starts in the same column as on the other lines.
            if role == .selectedRow { buffer.fill(Rect(x: rect.x + 1, y: y, width: rect.width - 2, height: 1), role: .selectedRow) }
            buffer.write(text, x: rect.x + 2, y: y, width: rect.width - 4, role: role)
        }
        guard let field else { return nil }
        let y = rect.y + 2
        let fieldWidth = rect.width - 4
        // Show the end of a long text, with the cursor.
        let shift = max(0, field.column - fieldWidth + 1)
        let shown = shift > 0 ? String(field.text.dropFirst(shift)) : field.text
        buffer.write(shown, x: rect.x + 2, y: y, width: fieldWidth, role: .commandLine)
        return (rect.x + 2 + field.column - shift, y)
    }

    /// Word-wraps plain text into lines of at most `width` columns.
    static func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = []
        var current = ""
        for word in text.split(separator: " ") {
            if current.isEmpty { current = String(word) }
            else if TextWidth.of(current) + 1 + TextWidth.of(String(word)) <= width { current += " " + word }
            else { lines.append(current); current = String(word) }
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }
}
