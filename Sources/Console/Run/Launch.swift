import Foundation
import Store

/// What the launch dialog asks the runtime to queue. Empty lists and filter: the service's own targets.
public struct LaunchRequest: Sendable, Equatable {
    public var service: String
    public var devices: [String]
    public var pools: [String]
    public var filter: String
    public var parameters: [String: JSONValue]
    /// The run's dry run, when the engineer set it in the dialog (nil: each service's own).
    public var dryRun: Bool?
    /// The engineer answered yes to "push … to N devices?": a run that changes devices is queued
    /// only then.
    public var confirmed: Bool

    public init(service: String, devices: [String] = [], pools: [String] = [], filter: String = "",
                parameters: [String: JSONValue] = [:], dryRun: Bool? = nil, confirmed: Bool = false) {
        self.service = service; self.devices = devices; self.pools = pools; self.filter = filter
        self.parameters = parameters; self.dryRun = dryRun; self.confirmed = confirmed
    }

    /// The run's parameters: the dialog's, with `dry_run` when set.
    public var runParameters: [String: JSONValue] {
        var p = parameters
        if let dryRun { p["dry_run"] = .bool(dryRun) }
        return p
    }
}

/// What the dialog shows about a service before launching: its kind, its own targets, whether it
/// has a dry run and its default.
public struct LaunchInfo: Sendable, Equatable {
    public var service: String
    public var kind: String
    /// "pools network-devices", or "" when it has none.
    public var ownTargets: String
    public var needsDevices: Bool
    /// Nil when a dry run means nothing for it; else the service's own setting (a workflow: true
    /// when every config service in it is a dry run).
    public var dryRunDefault: Bool?

    public init(service: String, kind: String, ownTargets: String, needsDevices: Bool, dryRunDefault: Bool?) {
        self.service = service; self.kind = kind; self.ownTargets = ownTargets
        self.needsDevices = needsDevices; self.dryRunDefault = dryRunDefault
    }
}

/// A launch that changes devices, waiting for the engineer's yes: how many devices and the first names.
public struct LaunchPreview: Sendable, Equatable {
    public var kind: String
    /// Nil when the service runs once, without devices.
    public var devices: [String]?

    public init(kind: String, devices: [String]?) { self.kind = kind; self.devices = devices }

    /// "push 'set ntp' to 14 devices: par-acc1, par-acc2, lon-acc1, …? y/N"
    public func question(_ service: String, width: Int = 72) -> String {
        let verb = kind == "config" ? "push '\(service)' to" : "run '\(service)' (\(kind), changes devices) on"
        guard let devices else { return "run '\(service)' (\(kind), changes things) once, without a device? y/N" }
        let head = "\(verb) \(devices.count) device\(devices.count == 1 ? "" : "s"): "
        var names = ""
        for (i, n) in devices.enumerated() {
            let piece = (i == 0 ? "" : ", ") + n
            if i > 0 && head.count + names.count + piece.count + 9 > width * 2 { names += ", …"; break }
            names += piece
        }
        return head + names + "? y/N"
    }
}

/// The devices of the view the engineer came from: its marked rows and the pool drilled into (both
/// chosen on purpose, so they fill the dialog), and its filter, only offered (ctrl+t takes it).
public struct LaunchContext: Sendable, Equatable {
    public var devices: [String] = []
    public var pools: [String] = []
    public var filter: String = ""
    /// Where it came from, for the dialog ("devices › pool core").
    public var origin: String = ""

    public var isEmpty: Bool { devices.isEmpty && pools.isEmpty && filter.isEmpty }
}

/// The launch dialog's fields: devices, pools, filter and parameters, each a line editor, and the
/// dry run where the service has one.
public struct LaunchForm: Sendable, Equatable {
    public enum Field: Int, CaseIterable, Sendable {
        case devices, pools, filter, parameters, dryRun

        public var label: String {
            switch self {
            case .devices: return "devices"
            case .pools: return "pools"
            case .filter: return "filter"
            case .parameters: return "parameters"
            case .dryRun: return "dry run"
            }
        }
    }

    public var service: String
    public var isWorkflow: Bool
    public var editors: [LineEditor]
    public var field: Field = .devices
    public var origin: String
    /// The filter of the device table the engineer came from: offered, never applied unasked.
    public var offeredFilter: String
    /// The service's kind, own targets and dry run, once loaded.
    public var info: LaunchInfo?
    /// The dry run as shown (nil: the service has none, or its facts are not loaded yet).
    public var dryRun: Bool?
    /// Whether the engineer changed the dry run (else each service keeps its own).
    public var dryRunSet = false
    /// A launch that changes devices, waiting for y (queues it) or n (back to the fields).
    public var pending: (request: LaunchRequest, preview: LaunchPreview)?
    /// The last refusal (a bad field here, or the store's answer), shown in the dialog.
    public var error: String?
    /// Waiting for the store's answer: Enter is ignored meanwhile.
    public var busy = false

    public init(service: String, isWorkflow: Bool, context: LaunchContext?) {
        self.service = service
        self.isWorkflow = isWorkflow
        let c = context ?? LaunchContext()
        editors = [LineEditor(c.devices.joined(separator: ", ")), LineEditor(c.pools.joined(separator: ", ")),
                   LineEditor(""), LineEditor(""), LineEditor("")]
        origin = c.origin
        offeredFilter = c.filter
        if c.devices.isEmpty && !c.pools.isEmpty { field = .pools }
    }

    public static func == (a: LaunchForm, b: LaunchForm) -> Bool {
        a.service == b.service && a.isWorkflow == b.isWorkflow && a.editors == b.editors && a.field == b.field
            && a.origin == b.origin && a.offeredFilter == b.offeredFilter && a.info == b.info && a.dryRun == b.dryRun
            && a.dryRunSet == b.dryRunSet && a.pending?.request == b.pending?.request
            && a.pending?.preview == b.pending?.preview && a.error == b.error && a.busy == b.busy
    }

    /// The fields Tab visits: the dry run only where the service has one.
    public var fields: [Field] { Field.allCases.filter { $0 != .dryRun || dryRun != nil } }

    public func text(_ f: Field) -> String { editors[f.rawValue].text }
    public var editor: LineEditor {
        get { editors[field.rawValue] }
        set { editors[field.rawValue] = newValue }
    }

    /// The service's facts arrived: the dry run starts as the service has it.
    public mutating func apply(_ info: LaunchInfo) {
        self.info = info
        if !dryRunSet { dryRun = info.dryRunDefault }
    }

    /// The request the fields describe, or the first field that is wrong and why.
    public func request() -> Result<LaunchRequest, StoreError> {
        let devices = LaunchForm.list(text(.devices)), pools = LaunchForm.list(text(.pools))
        let filter = text(.filter).trimmingCharacters(in: .whitespaces)
        if !filter.isEmpty {
            do { _ = try FilterExpression.parse(filter) } catch {
                return .failure(StoreError.invalid("filter: \(AppDatabase.describe(error))"))
            }
        }
        var parameters: [String: JSONValue] = [:]
        for item in LaunchForm.list(text(.parameters)) {
            guard let eq = item.firstIndex(of: "="), eq != item.startIndex else {
                return .failure(StoreError.invalid("parameters: '\(Sanitizer.inert(item))' is not NAME=VALUE"))
            }
            let name = item[..<eq].trimmingCharacters(in: .whitespaces)
            let value = item[item.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            parameters[name] = LaunchForm.value(value)
        }
        if info?.needsDevices == true, devices.isEmpty, pools.isEmpty, filter.isEmpty, info?.ownTargets.isEmpty == true {
            return .failure(StoreError(.noTargets, "'\(service)' (\(info!.kind)) runs on devices, and neither the fields nor the \(isWorkflow ? "workflow" : "service") name any: give devices, pools or a filter"))
        }
        return .success(LaunchRequest(service: service, devices: devices, pools: pools, filter: filter,
                                      parameters: parameters, dryRun: dryRunSet ? dryRun : nil))
    }

    /// Comma-separated names, blanks dropped.
    static func list(_ text: String) -> [String] {
        text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// A parameter value: a number, true/false, or text (quotes removed).
    static func value(_ text: String) -> JSONValue {
        if let i = Int(text) { return .int(i) }
        if let d = Double(text), text.contains(".") { return .double(d) }
        if text == "true" || text == "false" { return .bool(text == "true") }
        if text.count >= 2, let f = text.first, f == text.last, f == "\"" || f == "'" {
            return .string(String(text.dropFirst().dropLast()))
        }
        return .string(text)
    }
}

extension AppModel {
    /// The device context of a view: its marked rows, the pool it shows, and its filter (offered).
    static func launchContext(of v: ViewState, path: String) -> LaunchContext? {
        guard case .table(.devices, let scope) = v.content else { return nil }
        var c = LaunchContext(origin: path)
        c.devices = v.table.marked.sorted()
        if case .pool(let pool)? = scope { c.pools = [pool] }
        c.filter = v.table.activeFilterText
        return c.isEmpty ? nil : c
    }

    /// The devices the dialog starts with: from the nearest device table in the stack, else the
    /// one left through the last `:` command.
    func currentLaunchContext() -> LaunchContext? {
        for i in stack.indices.reversed() {
            guard case .table(.devices, _) = stack[i].content else { continue }
            let path = stack[0...i].map(\.title).joined(separator: " › ")
            return AppModel.launchContext(of: stack[i], path: path)
        }
        return launchContext
    }

    /// Called before a `:` command replaces the view stack: remembers the nearest device table's
    /// context as it is now, so an unfiltered, unmarked table leaves nothing behind (never an older
    /// filter).
    mutating func rememberLaunchContext() {
        for i in stack.indices.reversed() {
            guard case .table(.devices, _) = stack[i].content else { continue }
            let path = stack[0...i].map(\.title).joined(separator: " › ")
            launchContext = AppModel.launchContext(of: stack[i], path: path)
            return
        }
    }

    /// `r` on a service, a workflow or a workflow's tree: the dialog, and its service's facts loaded.
    mutating func openLaunchDialog() -> [Effect] {
        let name: String, isWorkflow: Bool
        switch top.content {
        case .table(let kind, _):
            guard let row = top.table.selectedRow else { flash("nothing selected"); return [] }
            name = row.id
            isWorkflow = kind == .workflows
        case .workflow(let wf):
            name = wf
            isWorkflow = true
        default:
            return []
        }
        mode = .dialog(.launch(LaunchForm(service: name, isWorkflow: isWorkflow, context: currentLaunchContext())))
        return [.launchInfo(name)]
    }

    /// The service's facts for the open dialog.
    mutating func launchInfoLoaded(_ info: LaunchInfo) {
        guard case .dialog(.launch(var form)) = mode, form.service == info.service else { return }
        form.apply(info)
        mode = .dialog(.launch(form))
    }

    /// Keys in the launch dialog: Tab / Shift+Tab / up / down between fields, ctrl+t takes the
    /// device table's filter, space (on the dry run) or ctrl+d toggles the dry run, Enter queues
    /// (asking first when the run changes devices), Esc cancels.
    mutating func launchDialogKey(_ key: Key, _ form: LaunchForm) -> [Effect] {
        var form = form
        if let pending = form.pending {
            switch key {
            case .char("y"), .char("Y"):
                form.pending = nil
                form.busy = true
                mode = .dialog(.launch(form))
                var request = pending.request
                request.confirmed = true
                return [.launch(request)]
            case .char("n"), .char("N"), .escape, .enter, .char("q"):
                form.pending = nil
                form.error = nil
                mode = .dialog(.launch(form))
                flash("not run: \(form.service)")
            default:
                break
            }
            return []
        }
        let fields = form.fields
        let index = fields.firstIndex(of: form.field) ?? 0
        switch key {
        case .escape:
            mode = .normal
            return []
        case .tab, .down:
            form.field = fields[(index + 1) % fields.count]
        case .backTab, .up:
            form.field = fields[(index + fields.count - 1) % fields.count]
        case .ctrl("t"):
            if !form.offeredFilter.isEmpty {
                form.editors[LaunchForm.Field.filter.rawValue] = LineEditor(form.offeredFilter)
                form.field = .filter
                form.error = nil
            }
        case .ctrl("d"):
            if let d = form.dryRun { form.dryRun = !d; form.dryRunSet = true; form.error = nil }
        case .char(" ") where form.field == .dryRun:
            if let d = form.dryRun { form.dryRun = !d; form.dryRunSet = true; form.error = nil }
        case .enter:
            if form.busy { return [] }
            if readonly { mode = .normal; flash("read-only console: running is disabled", error: true); return [] }
            switch form.request() {
            case .failure(let e):
                form.error = e.message
                mode = .dialog(.launch(form))
                flash(e.message, error: true)
                return []
            case .success(let request):
                form.error = nil
                form.busy = true
                mode = .dialog(.launch(form))
                return [.launch(request)]
            }
        default:
            if form.field == .dryRun { break }
            var e = form.editor
            if e.handle(key) { form.editor = e; form.error = nil }
        }
        mode = .dialog(.launch(form))
        return []
    }

    /// The launcher's question before a run that changes devices: shown in the dialog, y/N.
    mutating func launchNeedsConfirmation(_ request: LaunchRequest, _ preview: LaunchPreview) {
        guard case .dialog(.launch(var form)) = mode, form.service == request.service else { return }
        form.busy = false
        form.pending = (request, preview)
        mode = .dialog(.launch(form))
    }

    /// The store's answer to a launch: the run's live tail, or the refusal in the dialog.
    mutating func launched(_ request: LaunchRequest, run: Int64?, error: String?, engine: String?) {
        guard let run else {
            let message = error ?? "the run was not queued"
            if case .dialog(.launch(var form)) = mode, form.service == request.service {
                form.busy = false
                form.error = message
                mode = .dialog(.launch(form))
            }
            flash("cannot run \(request.service): \(message)", error: true, seconds: 10)
            return
        }
        if case .dialog(.launch) = mode { mode = .normal }
        push(.runLog(run), "run \(run)")
        // The engine may have just been started: the header looks again now.
        headerLastLoad = nil
        if let engine {
            flash("run \(run) queued, but the engine could not be started: \(engine)", error: true, seconds: 15, queuedRun: run)
        } else {
            flash("run \(run) of \(request.service) queued", queuedRun: run)
        }
    }
}

/// Queues runs and stops them for the runtime, off the input thread. The engine starter is a
/// parameter so that tests can run without spawning one.
public struct Launcher: Sendable {
    public let database: any StoreBackend
    public let user: String
    /// Makes sure an engine runs on the database (returns its pid).
    public let startEngine: @Sendable (String) throws -> Int32

    public init(database: any StoreBackend, user: String, startEngine: @escaping @Sendable (String) throws -> Int32) {
        self.database = database; self.user = user; self.startEngine = startEngine
    }

    /// The real engine: `switchboard engine --db LOCATION`, detached, when none holds the database's
    /// engine lock (a file lock beside a SQLite file; PostgreSQL's advisory lock, its log then in the
    /// state directory).
    public static func processEngine(database: any StoreBackend, executable: String? = nil) -> @Sendable (String) throws -> Int32 {
        if let sqlite = database as? AppDatabase {
            let path = sqlite.path
            return { _ in try EngineLauncher.ensureRunning(databasePath: path, executable: executable) }
        }
        return { location in
            let paths = Paths()
            try Paths.ensurePrivateDirectory(paths.stateDirectory)
            return try EngineLauncher.ensureRunning(databaseArgument: location, log: EngineLauncher.logPath(forLocation: location, paths: paths),
                                                    lockHolder: { database.engineLockHolder() }, executable: executable)
        }
    }

    /// The dialog's facts about a service: kind, own targets, whether it needs devices, its dry run.
    public func info(_ service: String) -> Event {
        do {
            let facts = try ConsoleStore(backend: database).launchFacts(service)
            let s = facts.service
            var own: [String] = []
            if !s.devices.isEmpty { own.append("devices \(s.devices.joined(separator: ", "))") }
            if !s.pools.isEmpty { own.append("pool\(s.pools.count == 1 ? "" : "s") \(s.pools.joined(separator: ", "))") }
            if !s.targetFilter.isEmpty { own.append("filter \(s.targetFilter)") }
            let info = LaunchInfo(service: s.name, kind: s.kind.rawValue, ownTargets: own.joined(separator: "; "),
                                  needsDevices: facts.needsDevices, dryRunDefault: facts.dryRunDefault)
            return .launchInfo(info)
        } catch {
            return .notice("cannot read \(service): \(AppDatabase.describe(error))", isError: true)
        }
    }

    /// Refuses a run with nothing to run on; asks first (returns the question) for one that changes
    /// devices and is not confirmed; else queues it (trigger console, the OS user) and starts the
    /// engine if needed.
    public func launch(_ request: LaunchRequest) -> Event {
        let run: Run
        do {
            if !request.confirmed {
                if let changes = try ConsoleStore(backend: database).launchChanges(
                    request.service, devices: request.devices, pools: request.pools, filter: request.filter, dryRun: request.dryRun) {
                    return .launchConfirm(request, LaunchPreview(kind: changes.kind, devices: changes.devices))
                }
            }
            run = try RunQueue(database: database).enqueue(
                service: request.service, trigger: .console, user: user, devices: request.devices,
                pools: request.pools, filter: request.filter, parameters: request.runParameters,
                requireTargets: true)
        } catch {
            return .launched(request, run: nil, error: AppDatabase.describe(error), engine: nil)
        }
        var engineError: String?
        do { _ = try startEngine(database.location) } catch { engineError = AppDatabase.describe(error) }
        return .launched(request, run: run.id, error: nil, engine: engineError)
    }

    /// Asks the engine to stop a run; a queued run is aborted at once (`Mutations.stop`).
    public func stop(_ id: Int64) throws -> String {
        try Mutations.stop(id, database: database, user: user)
    }
}
