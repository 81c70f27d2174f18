import Foundation
import Store

/// What the launch dialog asks the runtime to queue. Empty lists and filter: the service's own targets.
public struct LaunchRequest: Sendable, Equatable {
    public var service: String
    public var devices: [String]
    public var pools: [String]
    public var filter: String
    public var parameters: [String: JSONValue]

    public init(service: String, devices: [String] = [], pools: [String] = [], filter: String = "",
                parameters: [String: JSONValue] = [:]) {
        self.service = service; self.devices = devices; self.pools = pools; self.filter = filter
        self.parameters = parameters
    }
}

/// The devices of the view the engineer came from: marked rows, the pool drilled into, or the filter.
public struct LaunchContext: Sendable, Equatable {
    public var devices: [String] = []
    public var pools: [String] = []
    public var filter: String = ""
    /// Where it came from, for the dialog ("devices › pool core").
    public var origin: String = ""

    public var isEmpty: Bool { devices.isEmpty && pools.isEmpty && filter.isEmpty }
}

/// The launch dialog's fields: devices, pools, filter and parameters, each a line editor.
public struct LaunchForm: Sendable, Equatable {
    public enum Field: Int, CaseIterable, Sendable {
        case devices, pools, filter, parameters

        public var label: String {
            switch self {
            case .devices: return "devices"
            case .pools: return "pools"
            case .filter: return "filter"
            case .parameters: return "parameters"
            }
        }
    }

    public var service: String
    public var isWorkflow: Bool
    public var editors: [LineEditor]
    public var field: Field = .devices
    public var origin: String
    /// The last refusal (a bad field here, or the store's answer), shown in the dialog.
    public var error: String?
    /// Waiting for the store's answer: Enter is ignored meanwhile.
    public var busy = false

    public init(service: String, isWorkflow: Bool, context: LaunchContext?) {
        self.service = service
        self.isWorkflow = isWorkflow
        let c = context ?? LaunchContext()
        editors = [LineEditor(c.devices.joined(separator: ", ")), LineEditor(c.pools.joined(separator: ", ")),
                   LineEditor(c.filter), LineEditor("")]
        origin = c.origin
        if c.devices.isEmpty && !c.pools.isEmpty { field = .pools }
    }

    public func text(_ f: Field) -> String { editors[f.rawValue].text }
    public var editor: LineEditor {
        get { editors[field.rawValue] }
        set { editors[field.rawValue] = newValue }
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
        return .success(LaunchRequest(service: service, devices: devices, pools: pools, filter: filter,
                                      parameters: parameters))
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
    /// The device context of a view: its marked rows, else the pool it shows, else its filter.
    static func launchContext(of v: ViewState, path: String) -> LaunchContext? {
        guard case .table(.devices, let scope) = v.content else { return nil }
        var c = LaunchContext(origin: path)
        if !v.table.marked.isEmpty {
            c.devices = v.table.marked.sorted()
        } else if case .pool(let pool)? = scope {
            c.pools = [pool]
            c.filter = v.table.filterText
        } else {
            c.filter = v.table.filterText
        }
        return c.isEmpty ? nil : c
    }

    /// The devices the dialog starts with: from the nearest device table in the stack, else the
    /// one left through the last `:` command.
    func currentLaunchContext() -> LaunchContext? {
        for i in stack.indices.reversed() {
            let path = stack[0...i].map(\.title).joined(separator: " › ")
            if let c = AppModel.launchContext(of: stack[i], path: path) { return c }
        }
        return launchContext
    }

    /// Called before a `:` command replaces the view stack: remembers the device context.
    mutating func rememberLaunchContext() {
        for i in stack.indices.reversed() {
            let path = stack[0...i].map(\.title).joined(separator: " › ")
            if let c = AppModel.launchContext(of: stack[i], path: path) { launchContext = c; return }
        }
    }

    /// `r` on a service, a workflow or a workflow's tree.
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
        return []
    }

    /// Keys in the launch dialog: Tab / Shift+Tab / up / down between fields, Enter queues, Esc cancels.
    mutating func launchDialogKey(_ key: Key, _ form: LaunchForm) -> [Effect] {
        var form = form
        let fields = LaunchForm.Field.allCases
        switch key {
        case .escape:
            mode = .normal
            return []
        case .tab, .down:
            form.field = fields[(form.field.rawValue + 1) % fields.count]
        case .backTab, .up:
            form.field = fields[(form.field.rawValue + fields.count - 1) % fields.count]
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
            var e = form.editor
            if e.handle(key) { form.editor = e; form.error = nil }
        }
        mode = .dialog(.launch(form))
        return []
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
            flash("run \(run) queued, but the engine could not be started: \(engine)", error: true, seconds: 15)
        } else {
            flash("run \(run) of \(request.service) queued")
        }
    }
}

/// Queues runs and stops them for the runtime, off the input thread. The engine starter is a
/// parameter so that tests can run without spawning one.
public struct Launcher: Sendable {
    public let database: AppDatabase
    public let user: String
    /// Makes sure an engine runs on the database (returns its pid).
    public let startEngine: @Sendable (String) throws -> Int32

    public init(database: AppDatabase, user: String, startEngine: @escaping @Sendable (String) throws -> Int32) {
        self.database = database; self.user = user; self.startEngine = startEngine
    }

    /// The real engine: `switchboard engine --db PATH`, detached, when none holds the lock.
    public static func processEngine(executable: String? = nil) -> @Sendable (String) throws -> Int32 {
        { path in try EngineLauncher.ensureRunning(databasePath: path, executable: executable) }
    }

    /// Queues the run (trigger console, the user's name), then starts the engine if needed.
    public func launch(_ request: LaunchRequest) -> Event {
        let run: Run
        do {
            run = try RunQueue(database: database).enqueue(
                service: request.service, trigger: .console, user: user, devices: request.devices,
                pools: request.pools, filter: request.filter, parameters: request.parameters)
        } catch {
            return .launched(request, run: nil, error: AppDatabase.describe(error), engine: nil)
        }
        var engineError: String?
        do { _ = try startEngine(database.path) } catch { engineError = AppDatabase.describe(error) }
        return .launched(request, run: run.id, error: nil, engine: engineError)
    }

    /// Asks the engine to stop a run; a queued run is aborted at once.
    public func stop(_ id: Int64) throws -> String {
        let queue = RunQueue(database: database)
        guard let before = try queue.run(id) else { throw StoreError.notFound("no run \(id)") }
        if before.status.isFinished { throw StoreError.invalid("run \(id) is not running (\(before.status.rawValue))") }
        let run = try queue.requestStop(id, user: user)
        switch run.status {
        case .aborted: return "run \(id) aborted"
        case .running: return "stop requested for run \(id)"
        default: throw StoreError.invalid("run \(id) is not running (\(run.status.rawValue))")
        }
    }
}
