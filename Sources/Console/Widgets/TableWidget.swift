import Store

/// Draws a table into a region: a column header (sort indicator on the sorted column), then the
/// visible window of rows only — the work per frame depends on the screen, not on the row count.
public enum TableWidget {
    /// Fields whose value colours the cell by status.
    static let statusFields: Set<String> = ["status", "last_run_status", "last_backup_status"]
    static let gutter = 2

    /// A column placed on screen.
    struct Placed {
        var column: DeviceProperties.Column
        var x: Int
        var width: Int
    }

    /// Column positions: from the first shown column, each at its configured width, one blank
    /// between; a column cut by the edge is narrowed, and the last one takes any room left.
    static func place(_ columns: [DeviceProperties.Column], offset: Int, in rect: Rect) -> [Placed] {
        var placed: [Placed] = []
        var x = rect.x + gutter
        for col in columns.dropFirst(offset) {
            let room = rect.maxX - x
            if room <= 0 { break }
            if room < 3 && !placed.isEmpty { break }
            placed.append(Placed(column: col, x: x, width: min(col.width, room)))
            x += col.width + 1
        }
        if let last = placed.last, last.x + last.width < rect.maxX, placed.count == columns.count - offset {
            placed[placed.count - 1].width = rect.maxX - last.x
        }
        return placed
    }

    public static func render(_ state: TableState, into buffer: inout CellBuffer, rect: Rect, emptyText: String,
                              loading: Bool, error: String?) {
        guard rect.height > 0, rect.width > 0 else { return }
        let g = LineGlyphs(buffer.charset)
        buffer.fill(rect, role: .body)
        let columns = state.visibleColumns
        let placed = place(columns, offset: state.columnOffset, in: rect)

        // Column header: titles aligned as their values are (numbers to the right), the sorted
        // column's arrow always kept (the title is cut instead), and a mark at either edge when
        // columns lie beyond it (h and l scroll).
        buffer.fill(rect.row(0), role: .columnHeader)
        if state.columnOffset > 0 { buffer.write(g.ellipsis, x: rect.x, y: rect.y, role: .columnHeader) }
        let numericFields = state.data?.kind.descriptor.numericFields ?? []
        for p in placed {
            let align = alignment(p.column.property, numeric: numericFields)
            guard let s = state.sort, s.field == p.column.property, p.width >= 2 else {
                buffer.write(p.column.title, x: p.x, y: rect.y, width: p.width, role: .columnHeader, align: align)
                continue
            }
            let arrow = s.ascending ? g.up : g.down
            let titleWidth = min(p.width - 1, TextWidth.of(p.column.title))
            let x = align == .right ? p.x + p.width - titleWidth - 1 : p.x
            buffer.write(p.column.title, x: x, y: rect.y, width: titleWidth, role: .sortedColumnHeader)
            buffer.write(arrow, x: x + titleWidth, y: rect.y, role: .sortedColumnHeader, limit: 1)
        }
        if let last = placed.last, placed.count < columns.count - state.columnOffset || last.width < last.column.width {
            buffer.write(g.more, x: rect.maxX - 1, y: rect.y, role: .columnHeader)
        }

        let rows = rect.height - 1
        guard let data = state.data else {
            message(loading ? "loading…" : (error ?? "no data"), into: &buffer, rect: rect, error: error != nil)
            return
        }
        if state.visible.isEmpty {
            message(error ?? (data.count == 0 ? emptyText : "no rows match the filter"), into: &buffer, rect: rect, error: error != nil)
            return
        }
        let fieldIndexes = placed.map { data.fieldIndex[$0.column.property] }
        let numeric = data.kind.descriptor.numericFields
        let highlight = data.kind.descriptor.highlight
        let spansIndex = highlight.flatMap { data.fieldIndex[$0.spans] }
        let start = max(0, min(state.top, state.visible.count - 1))
        let end = min(state.visible.count, start + rows)
        for (r, pos) in (start..<end).enumerated() {
            let row = data.rows[Int(state.visible[pos])]
            let y = rect.y + 1 + r
            let marked = state.marked.contains(row.id)
            let base: Role = marked ? .markedRow : .body
            buffer.fill(Rect(x: rect.x, y: y, width: rect.width, height: 1), role: base)
            if marked { buffer.write(g.marked, x: rect.x, y: y, role: .markedRow) }
            for (i, p) in placed.enumerated() {
                let value = fieldIndexes[i].map { $0 < row.values.count ? row.values[$0] : "" } ?? ""
                var role = base
                if !marked && statusFields.contains(p.column.property) { role = Role.status(value) }
                let align = alignment(p.column.property, numeric: numeric)
                buffer.write(value, x: p.x, y: y, width: p.width, role: role, align: align)
                if let highlight, let si = spansIndex, highlight.field == p.column.property, si < row.values.count {
                    // The matches within the cell (the part that fits), in the theme's match role.
                    for span in ConfigSearchTable.spans(row.values[si]) where span.lowerBound < value.count {
                        let x0 = TextWidth.of(String(value.prefix(span.lowerBound)))
                        let x1 = TextWidth.of(String(value.prefix(span.upperBound)))
                        let end = min(x1, p.width)
                        if x0 < end { buffer.paint(Rect(x: p.x + x0, y: y, width: end - x0, height: 1), role: .searchMatch) }
                    }
                }
            }
            if pos == state.cursor {
                buffer.paint(Rect(x: rect.x, y: y, width: rect.width, height: 1), role: .selectedRow)
            }
        }
    }

    /// Numbers to the right (ids stay left: they read as names), everything else to the left.
    static func alignment(_ field: String, numeric: Set<String>) -> CellBuffer.Alignment {
        numeric.contains(field) && field != "id" ? .right : .left
    }

    static func message(_ text: String, into buffer: inout CellBuffer, rect: Rect, error: Bool) {
        guard rect.height > 1 else { return }
        let y = rect.y + min(2, rect.height - 1)
        buffer.write(text, x: rect.x + gutter, y: y, width: max(0, rect.width - gutter * 2), role: error ? .flashError : .dim)
    }
}
