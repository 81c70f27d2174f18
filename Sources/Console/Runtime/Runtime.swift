import Foundation
import Store
import CCursesShim
#if canImport(Glibc)
import Glibc
#endif

/// Events from background work, and a pipe that wakes the main loop when one arrives.
final class Inbox: @unchecked Sendable {
    private let lock = NSLock()
    private var events: [Event] = []
    let readFD: Int32
    let writeFD: Int32

    init() throws {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw ConsoleError("cannot create the wake-up pipe: \(String(cString: strerror(errno)))") }
        readFD = fds[0]; writeFD = fds[1]
        for fd in fds {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
    }

    func post(_ event: Event) {
        lock.lock()
        events.append(event)
        lock.unlock()
        var b: UInt8 = 1
        _ = write(writeFD, &b, 1)
    }

    func drain() -> [Event] {
        var buf = [UInt8](repeating: 0, count: 256)
        while read(readFD, &buf, buf.count) > 0 {}
        lock.lock()
        defer { lock.unlock() }
        let out = events
        events.removeAll()
        return out
    }

    deinit {
        close(readFD)
        close(writeFD)
    }
}

/// Performs effects and runs the main loop: wait for a key, a background result or a signal;
/// update; render; write only the changed cells.
public final class Runtime {
    let terminal: TerminalBackend
    let loader: DataLoader
    let themes: ThemeLoader
    let inbox: Inbox
    var model: AppModel
    var previous: CellBuffer?
    var previousCursor: CursorPosition?
    var exitStatus: Int32 = 0
    /// Cells written since start (for tests and the idle-output benchmark).
    public private(set) var cellsWritten = 0
    private let work = DispatchQueue(label: "switchboard.console.load", qos: .userInitiated, attributes: .concurrent)
    private let writes = DispatchQueue(label: "switchboard.console.write", qos: .userInitiated)
    /// Opens SSH sessions (the executable's, over the engine's transport); nil: sessions unavailable.
    var sessionOpener: (any InteractiveSessionOpener)?
    /// Enables and disables tasks (the executable's, by the scheduler's rule); nil: `a` is refused.
    var tasks: (any TaskActivating)?
    /// Queues runs and starts the engine (Run/Launch.swift); tests replace the engine starter.
    lazy var launcher = Launcher(database: loader.database, user: loader.user, startEngine: Launcher.processEngine(database: loader.database))
    /// `SWITCHBOARD_TRACE_FRAMES=PATH`: one line per frame written, for bench/console.
    let trace = FrameTrace.fromEnvironment()

    init(terminal: TerminalBackend, model: AppModel, loader: DataLoader, themes: ThemeLoader, inbox: Inbox) {
        self.terminal = terminal
        self.model = model
        self.loader = loader
        self.themes = themes
        self.inbox = inbox
    }

    /// Handles one event and performs its effects.
    func dispatch(_ event: Event) {
        let (next, effects) = update(model, event)
        model = next
        for effect in effects { perform(effect) }
    }

    func perform(_ effect: Effect) {
        switch effect {
        case .session(let sessionEffect):
            performSession(sessionEffect)
        case .load(let request):
            let loader = self.loader, inbox = self.inbox
            work.async {
                StartTrace.mark("load-start \(request.traceName)")
                let result = loader.load(request)
                StartTrace.mark("load-end \(request.traceName)")
                inbox.post(.loaded(request, result, Date()))
            }
        case .quit:
            model.quitting = true
        case .loadTheme(let name):
            let (theme, problems) = themes.load(name)
            // A theme that is not found or does not load leaves the current one on screen.
            if problems.isEmpty {
                terminal.apply(theme)
                previous = nil
                (terminal as? CursesTerminal)?.clear()
            }
            inbox.post(.themeLoaded(name: name, problems: problems))
        case .save(let path, let text):
            let inbox = self.inbox
            writes.async {
                let expanded = path.hasPrefix("~/") ? NSHomeDirectory() + path.dropFirst(1) : path
                do {
                    let directory = (expanded as NSString).deletingLastPathComponent
                    if !directory.isEmpty { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
                    try Data(text.utf8).write(to: URL(fileURLWithPath: expanded), options: .atomic)
                    inbox.post(.saved(path: expanded, error: nil))
                } catch {
                    inbox.post(.saved(path: expanded, error: (error as NSError).localizedDescription))
                }
            }
        case .mutate(let mutation):
            let database = loader.database, user = loader.user, inbox = self.inbox, tasks = self.tasks
            writes.async {
                do {
                    inbox.post(.mutated(message: try Runtime.apply(mutation, database: database, user: user, tasks: tasks), error: nil))
                } catch {
                    inbox.post(.mutated(message: "", error: AppDatabase.describe(error)))
                }
            }
        case .launch(let request):
            let launcher = self.launcher, inbox = self.inbox
            writes.async { inbox.post(launcher.launch(request)) }
        case .launchInfo(let service):
            let launcher = self.launcher, inbox = self.inbox
            writes.async { inbox.post(launcher.info(service)) }
        }
    }

    /// Performs a change the engineer confirmed (Mutations.swift): each through the store's or the
    /// engine's own rule, with its change-log entry.
    static func apply(_ mutation: Mutation, database: any StoreBackend, user: String, tasks: (any TaskActivating)? = nil) throws -> String {
        try Mutations.perform(mutation, database: database, user: user, tasks: tasks)
    }

    /// Renders the model and writes what changed since the last frame.
    @discardableResult
    func render() -> [CellRun] {
        let frame = view(model)
        let runs = CellBuffer.diff(previous, frame.buffer)
        if !runs.isEmpty || frame.cursor != previousCursor {
            terminal.draw(runs, cursor: frame.cursor)
            cellsWritten += runs.reduce(0) { $0 + $1.cells.count }
            trace?.frame(model, cells: runs.reduce(0) { $0 + $1.cells.count })
            if StartTrace.isOn { StartTrace.mark("frame \(model.headerLastLoad != nil && model.top.lastLoad != nil ? "complete" : "partial") rows=\(model.top.table.visible.count)") }
        }
        previous = frame.buffer
        previousCursor = frame.cursor
        return runs
    }

    /// The main loop; returns the exit status (0, or 128 + the signal that ended it).
    func run() -> Int32 {
        dispatch(.resize(width: terminal.width, height: terminal.height))
        dispatch(.tick(Date()))
        render()
        var lastRenderKey = renderKey()
        while !model.quitting {
            var fds = [pollfd(fd: terminal.inputDescriptor, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: inbox.readFD, events: Int16(POLLIN), revents: 0)]
            let ready = poll(&fds, 2, model.pollMilliseconds)
            var changed = false
            let signals = sb_signals_take()
            if signals >> 8 != 0 {
                exitStatus = 128 + Int32(signals >> 8)
                break
            }
            if signals & 1 != 0 {
                if terminal.updateSize() {
                    previous = nil
                    dispatch(.resize(width: terminal.width, height: terminal.height))
                    changed = true
                }
            }
            if ready > 0 && fds[0].revents & Int16(POLLHUP | POLLERR | POLLNVAL) != 0 && fds[0].revents & Int16(POLLIN) == 0 {
                // The terminal went away (the SSH link dropped): leave cleanly.
                exitStatus = 129
                break
            }
            for key in terminal.readKeys() {
                dispatch(.key(key))
                changed = true
            }
            if terminal.width != model.width || terminal.height != model.height {
                previous = nil
                dispatch(.resize(width: terminal.width, height: terminal.height))
                changed = true
            }
            for event in inbox.drain() {
                dispatch(event)
                changed = true
            }
            dispatch(.tick(Date()))
            if model.quitting { break }
            let key = renderKey()
            if changed || key != lastRenderKey {
                render()
                lastRenderKey = key
            }
        }
        return exitStatus
    }

    /// What can change on screen without an event: the clock's minute and an expiring flash.
    func renderKey() -> String {
        Formats.clock(model.now) + (model.activeFlash == nil ? "" : "f")
    }
}
