import Foundation
import Store

/// A table view's operations on its own state: taking a load, moving, sorting, filtering. `rows`
/// is how many rows the screen shows. Testable without an `AppModel`.
extension TableState {
    /// Takes a loaded table, keeping the view's sort, filter, marks and the cursor's row.
    public mutating func take(_ prepared: PreparedTable, rows: Int) {
        let sameData = data == prepared.data
        if sameData && sort == prepared.sort && filter?.expression == prepared.filter { return }
        if prepared.data.kind.descriptor.dynamicColumns && columns.map(\.property) != prepared.data.fields {
            columns = ParsedTable.columns(for: prepared.data)
            columnOffset = 0
        }
        data = prepared.data
        order = sort == prepared.sort ? prepared.order : prepared.data.sortedOrder(sort)
        // Recompile the filter against the new fields (a custom property may have appeared, or the
        // filter came with `:dev FILTER` before any row was loaded). An invalid one filters nothing.
        if !filterText.isEmpty {
            do {
                let expr = try FilterExpression.parse(filterText)
                let compiled = try CompiledFilter(expr, for: prepared.data)
                filter = expr.isEmpty ? nil : compiled
                filterError = nil
            } catch {
                filter = nil
                filterError = AppDatabase.describe(error)
            }
        }
        if sort == prepared.sort && (filter?.expression ?? FilterExpression(terms: [])) == prepared.filter {
            visible = prepared.visible
        } else {
            visible = prepared.data.filtered(order, by: filter)
        }
        if !marked.isEmpty {
            marked.formIntersection(Set(prepared.data.rows.map(\.id)))
        }
        restoreCursor(rows: rows)
    }

    /// Puts the cursor back on the row it was on (by identity); if that row is gone, keeps the position.
    public mutating func restoreCursor(rows: Int) {
        guard let data else { return }
        if let id = cursorID, let pos = visible.firstIndex(where: { data.rows[Int($0)].id == id }) {
            cursor = pos
        } else {
            cursor = min(max(0, cursor), max(0, visible.count - 1))
            cursorID = visible.isEmpty ? cursorID : data.rows[Int(visible[cursor])].id
        }
        clamp(rows: rows)
    }

    /// Keeps the cursor on screen.
    public mutating func clamp(rows: Int) {
        cursor = min(max(0, cursor), max(0, visible.count - 1))
        if cursor < top { top = cursor }
        if cursor >= top + rows { top = cursor - rows + 1 }
        top = max(0, min(top, max(0, visible.count - rows)))
    }

    /// Moves the cursor by `delta` rows (clamped), remembering the row it lands on.
    public mutating func move(by delta: Int, rows: Int) {
        guard let data, !visible.isEmpty else { return }
        cursor = min(max(0, cursor + delta), visible.count - 1)
        cursorID = data.rows[Int(visible[cursor])].id
        clamp(rows: rows)
    }

    /// Marks or unmarks the row under the cursor, then moves down.
    public mutating func toggleMark(rows: Int) {
        guard let row = selectedRow else { return }
        if marked.contains(row.id) { marked.remove(row.id) } else { marked.insert(row.id) }
        move(by: 1, rows: rows)
    }

    /// Sorts by the next or previous visible column, or reverses; returns what to say.
    public mutating func sort(_ action: Action, rows: Int) -> String? {
        let cols = visibleColumns
        guard !cols.isEmpty else { return nil }
        var s = sort
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
        sort = s
        if let data {
            order = data.sortedOrder(s)
            visible = data.filtered(order, by: filter)
            restoreCursor(rows: rows)
        }
        if let s, let col = cols.first(where: { $0.property == s.field }) {
            return "sorted by \(col.title) \(s.ascending ? "ascending" : "descending")"
        }
        return nil
    }

    /// Applies filter text. Typing one more character narrows the rows shown so far instead of
    /// scanning the whole table again. Text that does not parse or names an unknown field filters
    /// nothing: every row shows, `filterError` says why, and `activeFilterText` is empty (the
    /// same rule for `/`, `:dev FILTER` and every table kind).
    public mutating func setFilter(_ text: String, rows: Int) {
        filterText = text
        guard let data else {
            // Nothing loaded yet (`:dev FILTER`): the syntax is checked now, the fields at the load.
            filter = nil
            do { _ = try FilterExpression.parse(text); filterError = nil }
            catch { filterError = AppDatabase.describe(error) }
            return
        }
        do {
            let expr = try FilterExpression.parse(text)
            let compiled = try CompiledFilter(expr, for: data)
            if let old = filter, old.isRefined(by: expr), filterError == nil {
                visible = data.filtered(visible, by: compiled)
            } else {
                visible = data.filtered(order, by: compiled)
            }
            filter = expr.isEmpty ? nil : compiled
            filterError = nil
        } catch {
            filter = nil
            filterError = AppDatabase.describe(error)
            visible = order
        }
        restoreCursor(rows: rows)
    }

    /// The filter text in force: empty while there is none or the text is invalid (which filters
    /// nothing), so nothing claims a filter that is not applied.
    public var activeFilterText: String { filter != nil && filterError == nil ? filterText : "" }
}

extension AppModel {
    mutating func applyTable(_ i: Int, _ prepared: PreparedTable) { stack[i].table.take(prepared, rows: layout.tableRows) }
    mutating func restoreCursor(_ i: Int) { stack[i].table.restoreCursor(rows: layout.tableRows) }
    mutating func clampTable(_ i: Int) { stack[i].table.clamp(rows: layout.tableRows) }
    mutating func setFilter(_ text: String) { top.table.setFilter(text, rows: layout.tableRows) }
    mutating func sort(_ action: Action) {
        if let said = top.table.sort(action, rows: layout.tableRows) { flash(said) }
    }
}
