import Foundation
import Store
import CCursesShim
#if canImport(Glibc)
import Glibc
#endif

/// The full-screen console: `switchboard` and `switchboard console` call `run`.
public enum ConsoleApp {
    /// Opens the console on the terminal and runs it until the engineer quits or the terminal goes
    /// away. The terminal is restored on every way out: quitting, SIGTERM/SIGINT/SIGHUP, errors,
    /// and crashes as far as a signal handler can.
    /// - Parameters:
    ///   - readonly: `--readonly`; `console.readonly` in settings has the same effect.
    ///   - themeDirectory: a directory searched first for `NAME.json` themes.
    ///   - sessions: opens SSH sessions (`s`, `S`, `:ssh`); nil: sessions are not available.
    ///   - tasks: enables and disables tasks (`a`) by the scheduler's rule; nil: `a` is refused.
    /// - Returns: the exit status: 0, or 128 + the signal that ended the console.
    public static func run(database: any StoreBackend, settings: Settings, properties: DeviceProperties, readonly: Bool,
                           themeDirectory: String?, sessions: (any InteractiveSessionOpener)? = nil,
                           tasks: (any TaskActivating)? = nil) throws -> Int32 {
        let utf8 = sb_setlocale_is_utf8() == 1
        let themes = ThemeLoader(directories: ThemeLoader.standardDirectories(explicit: themeDirectory))
        let (theme, themeProblems) = themes.load(settings.console.theme)
        let inbox = try Inbox()
        sb_signals_install(inbox.writeFD)
        defer { sb_signals_restore() }
        StartTrace.mark("console-run")
        let terminal = try CursesTerminal(utf8: utf8)
        defer { terminal.shutdown() }
        terminal.apply(theme)
        StartTrace.mark("terminal-ready")

        var loader = DataLoader(database: database, properties: properties)
        let wakeups = StoreWakeups.start(database) { [inbox] in inbox.post($0) }
        defer { wakeups?.stop() }
        StartTrace.mark("wakeups-started")
        loader.changes = wakeups?.counter
        loader.engineThresholds = EngineThresholds(settings)
        // The executable's task rule also knows the scheduler's arithmetic (a task's next fires).
        loader.schedules = tasks as? any TaskScheduleReading
        var model = AppModel(settings: settings, properties: properties, readonly: readonly,
                             width: terminal.width, height: terminal.height, now: Date(), charset: terminal.charset,
                             header: HeaderInfo(database: DataLoader.headerName(database), user: loader.user))
        model.storeWakeups = wakeups != nil
        if !themeProblems.isEmpty {
            model.themeName = "default"
            model.flash(themeProblems[0] + (themeProblems.count > 1 ? " (+\(themeProblems.count - 1) more)" : "") + "; using the default theme",
                        error: true, seconds: 15)
        }
        let runtime = Runtime(terminal: terminal, model: model, loader: loader, themes: themes, inbox: inbox)
        runtime.sessionOpener = sessions
        runtime.tasks = tasks
        return runtime.run()
    }
}
