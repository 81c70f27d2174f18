import Foundation

/// The launch dialog: one labelled line per field (the active one in the command-line role, with the
/// terminal cursor), the dry run, where the devices came from, the filter on offer, the last refusal
/// and the question before a run that changes devices.
public enum LaunchDialogWidget {
    public static func render(_ form: LaunchForm, into buffer: inout CellBuffer, area: Rect) -> (Int, Int)? {
        let width = min(72, max(30, area.width - 4))
        let labelWidth = 12
        var extra: [(String, Role)] = []
        let what = form.isWorkflow ? "workflow" : "service"
        let own: String
        if let info = form.info {
            own = info.ownTargets.isEmpty ? "empty fields: none (the \(what) has no targets of its own)"
                                          : "empty fields: its own targets (\(info.ownTargets))"
        } else {
            own = "empty fields: the \(what)'s own targets"
        }
        if !form.origin.isEmpty { extra.append(("from \(form.origin)", .dim)) }
        extra.append((own, .dim))
        if !form.offeredFilter.isEmpty && form.text(.filter) != form.offeredFilter {
            extra.append(("ctrl+t takes the device table's filter: \(form.offeredFilter)", .dim))
        }
        if let pending = form.pending {
            extra += DialogWidget.wrap(pending.preview.question(form.service, width: width - 4), width: width - 4)
                .prefix(3).map { ($0, .flashError) }
        } else if let e = form.error {
            extra += DialogWidget.wrap(e, width: width - 4).prefix(3).map { ($0, .flashError) }
        } else if form.busy {
            extra.append(("queueing…", .dialog))
        }
        extra.append((form.pending != nil ? "y runs it   n goes back"
                                          : "enter runs   tab next field   \(form.dryRun != nil ? "ctrl+d dry run   " : "")esc cancels",
                       .dialogTitle))
        let fields = form.fields
        let height = min(area.height, fields.count + extra.count + 3)
        guard height >= 4 else { return nil }
        let rect = Rect(x: area.x + max(0, (area.width - width) / 2), y: area.y + max(0, (area.height - height) / 2),
                        width: min(width, area.width), height: height)
        buffer.fill(rect, role: .dialog)
        buffer.box(rect, role: .dialog, title: "run \(form.isWorkflow ? "workflow" : "service") \(form.service)",
                   titleRole: .dialogTitle)
        var cursor: (Int, Int)?
        let fieldWidth = max(1, rect.width - 4 - labelWidth)
        var y = rect.y + 1
        for f in fields where y < rect.maxY - 1 {
            let active = f == form.field
            buffer.write(f.label, x: rect.x + 2, y: y, width: labelWidth, role: active ? .dialogTitle : .dialog)
            let x = rect.x + 2 + labelWidth
            if f == .dryRun {
                let on = form.dryRun ?? false
                buffer.write(on ? "[x] on: nothing is sent" : "[ ] off: changes are pushed",
                             x: x, y: y, width: fieldWidth, role: active ? .commandLine : (on ? .body : .flashError))
                if active { cursor = (x + 1, y) }
                y += 1
                continue
            }
            let editor = form.editors[f.rawValue]
            let col = editor.cursorColumn
            let shift = active ? max(0, col - fieldWidth + 1) : 0
            let shown = shift > 0 ? String(editor.text.dropFirst(shift)) : editor.text
            buffer.write(shown, x: x, y: y, width: fieldWidth, role: active ? .commandLine : .body)
            if active { cursor = (x + col - shift, y) }
            y += 1
        }
        y += 1
        for (text, role) in extra where y < rect.maxY - 1 {
            buffer.write(text, x: rect.x + 2, y: y, width: rect.width - 4, role: role)
            y += 1
        }
        return cursor
    }
}
