import Foundation

/// A rendered frame: the cells, and where the terminal's cursor goes (nil: hidden).
public struct Frame: Equatable, Sendable {
    public var buffer: CellBuffer
    public var cursor: CursorPosition?
}

public struct CursorPosition: Equatable, Sendable {
    public var x: Int
    public var y: Int
}

/// The view function: the model in, a frame out. Pure; it reads only the model.
public func view(_ model: AppModel) -> Frame {
    var buffer = CellBuffer(width: model.width, height: model.height, charset: model.charset)
    let layout = model.layout
    if model.width < 20 || model.height < 5 {
        buffer.write("terminal too small", x: 0, y: 0, role: .flashError)
        return Frame(buffer: buffer, cursor: nil)
    }
    Chrome.header(model, into: &buffer, rect: layout.header)
    Chrome.breadcrumb(model, into: &buffer, rect: layout.breadcrumb)
    let main = layout.main
    let v = model.top
    switch v.content {
    case .table(let kind, let scope):
        TableWidget.render(v.table, into: &buffer, rect: main, emptyText: kind.descriptor.emptyText?(scope) ?? "no \(kind.title)",
                           loading: v.lastLoad == nil, error: v.table.data == nil ? v.error : nil)
    case .workflow:
        TreeWidget.render(v.graph, cursor: v.treeCursor, top: v.treeTop, into: &buffer, rect: main,
                          loading: v.lastLoad == nil, error: v.error)
    case .runLog, .document:
        logInfo(v, model: model, into: &buffer, rect: main.row(0))
        let body = Rect(x: main.x, y: main.y + 1, width: main.width, height: main.height - 1)
        if v.log.ring.isEmpty {
            buffer.fill(body, role: .body)
            let text = v.lastLoad == nil ? "loading…" : (v.error ?? (v.content == .help ? "" : "no lines yet"))
            TableWidget.message(text, into: &buffer, rect: body, error: v.error != nil)
        } else {
            LogWidget.render(v.log, into: &buffer, rect: body, sideBySide: model.sideBySideShown)
        }
    case .help:
        HelpContent.render(model, into: &buffer, rect: main)
    case .pulse:
        PulseWidget.render(model, into: &buffer, rect: main)
    }
    var cursor = Chrome.status(model, into: &buffer, rect: layout.status)
    Chrome.hints(model, into: &buffer, rect: layout.hints)
    if case .dialog(let d) = model.mode {
        cursor = DialogWidget.render(d, model: model, into: &buffer, area: main)
    }
    if let overlay = model.sessionUI.overlay {
        cursor = SessionOverlayWidget.render(overlay, into: &buffer, area: main)
    }
    return Frame(buffer: buffer, cursor: cursor.map { CursorPosition(x: $0.0, y: $0.1) })
}

/// The line above a log: what is shown and how much of it is held.
func logInfo(_ v: ViewState, model: AppModel, into buffer: inout CellBuffer, rect: Rect) {
    buffer.fill(rect, role: .title)
    var x = rect.x + 1
    func put(_ text: String, _ role: Role) {
        guard x < rect.maxX else { return }
        x += buffer.write(text, x: x, y: rect.y, role: role, limit: rect.maxX - x)
    }
    let ring = v.log.ring
    if case .runLog(let id) = v.content {
        if let run = v.run {
            put("run \(id) \(run.service) ", .title)
            put(run.status, Role.status(run.status))
            put("  \(run.progressText)", .title)
            if run.startedAt != nil {
                put("  " + Formats.elapsed(seconds: (run.endedAt ?? model.now).timeIntervalSince(run.startedAt!)), .title)
            }
        } else {
            put("run \(id)", .title)
        }
    } else {
        put(v.documentTitle ?? v.title, .title)
    }
    var held = "  " + Formats.count(ring.count, "line")
    if ring.dropped > 0 { held += ", \(ring.dropped) earlier not held" }
    if v.log.isDiff {
        held += ", " + Formats.count(v.log.hunks, "hunk")
        if model.sideBySideShown { held += ", side by side" }
    }
    put(held, .dim)
}
