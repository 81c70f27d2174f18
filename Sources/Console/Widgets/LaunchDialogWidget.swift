import Foundation

/// The launch dialog: one labelled line per field (the active one in the command-line role, with the
/// terminal cursor), where the devices came from, and the last refusal.
public enum LaunchDialogWidget {
    public static func render(_ form: LaunchForm, into buffer: inout CellBuffer, area: Rect) -> (Int, Int)? {
        let width = min(72, max(30, area.width - 4))
        let labelWidth = 12
        var extra: [(String, Role)] = []
        extra.append((form.origin.isEmpty ? "empty fields: the \(form.isWorkflow ? "workflow" : "service")'s own targets"
                                          : "from \(form.origin); empty fields: its own targets", .dim))
        if let e = form.error {
            extra += DialogWidget.wrap(e, width: width - 4).prefix(3).map { ($0, .flashError) }
        } else if form.busy {
            extra.append(("queueing…", .dialog))
        }
        extra.append(("enter runs   tab next field   esc cancels", .dialogTitle))
        let fields = LaunchForm.Field.allCases
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
