import Foundation
import Store

/// The pure update function: a model and an event in, the next model and effects out. What each
/// event does lives with the state it changes: `:` commands (ColonCommand.swift), loads
/// (LoadScheduling.swift), tables and logs (TableOperations.swift, LogOperations.swift), keys and
/// actions (Actions.swift), modes and dialogs (Modes.swift).
public func update(_ model: AppModel, _ event: Event) -> (AppModel, [Effect]) {
    var m = model
    var effects: [Effect] = []
    let flashBefore = m.flash
    switch event {
    case .key(let key):
        effects += m.handleKey(key)
    case .tick(let now):
        m.now = now
    case .storeChanged:
        m.storeChanged()
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
            // The runtime did not switch: the current theme stays, and the message says so.
            // What stays comes first: a long problem is cut by the status line (:messages has it whole).
            m.flash("keeping theme \(m.themeName): " + problems[0] + (problems.count > 1 ? " (+\(problems.count - 1) more)" : ""), error: true, seconds: 10)
        }
    case .saved(let path, let error):
        if let error { m.flash("cannot save \(path): \(error)", error: true) } else { m.flash("saved \(path)") }
    case .mutated(let message, let error):
        if let error { m.flash(error, error: true, seconds: 10) } else { m.flash(message) }
        m.top.reloadRequested = true
        // A stop or an activation changes what the header counts.
        m.headerLastLoad = nil
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
    m.bindFlash(said: flashBefore)
    if m.quitting { return (m, effects.contains(.quit) ? effects : effects + [.quit]) }
    effects += m.scheduleLoads()
    return (m, effects)
}
