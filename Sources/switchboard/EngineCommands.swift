import ArgumentParser
import Console
import Dispatch
import Engine
import Foundation
import Store
import StorePostgres

/// `switchboard engine`: executes queued runs (and fires scheduled tasks) until stopped.
struct EngineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine",
        abstract: "Execute queued runs and fire scheduled tasks, until SIGTERM.",
        discussion: """
            SQLite: one engine per database, a second one exits (status 1, or 0 with --quiet-if-running). \
            PostgreSQL: several engines, on any hosts, may serve one database; each registers (see \
            `switchboard engines`) and claims queued runs. --status and --stop cover every engine; \
            --stop signals only the engines of this host. With engine.unit_queue on, --pools and \
            --filter give an engine a region: it claims only the device units of those pools' devices \
            (or the filter's); units no active engine serves wait, and `switchboard runs` says why. \
            The console and `switchboard run` start one in the background when none is running. \
            SIGTERM stops taking runs and lets device operations in flight finish within \
            engine.stop_grace_seconds; a second SIGTERM, or SIGINT, aborts at once. Unfinished runs are \
            marked interrupted either way.
            """)

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Exit quietly with status 0 when an engine already runs on this database.")
    var quietIfRunning = false

    @Flag(help: "Print whether an engine runs on this database (its pid), and exit: 0 running, 1 not.")
    var status = false

    @Flag(help: "Ask the running engine to stop (SIGTERM: in-flight device operations finish) and wait for it.")
    var stop = false

    @Option(help: ArgumentHelp("Serve only the devices of these pools (comma-separated): this engine claims only their device units. PostgreSQL, with engine.unit_queue on.", valueName: "pools"))
    var pools: String?

    @Option(help: ArgumentHelp("Serve only the devices matching this filter expression (as `devices --filter` takes), besides those of --pools.", valueName: "expr"))
    var filter: String?

    func run() async throws {
        let settings = try global.settings()
        let database = try global.openBackend()
        if database.capabilities.contains(.severalEngines) {
            if status { return try severalStatus(database, settings: settings) }
            if stop { return try severalStop(database, settings: settings) }
        }
        if status || stop {
            guard let pid = database.engineLockHolder() else {
                print("no engine runs on \(database.location)")
                if status { throw ExitCode(1) }
                return
            }
            if status {
                print("engine running on \(database.location): pid \(pid)")
                return
            }
            kill(pid, SIGTERM)
            let deadline = Date().addingTimeInterval(settings.engine.stopGraceSeconds + 10)
            while database.engineLockHolder() != nil {
                if Date() > deadline { throw CommandFailure(message: "the engine (pid \(pid)) has not stopped yet") }
                usleep(50_000)
            }
            print("engine (pid \(pid)) stopped")
            return
        }
        // Several engines may serve a PostgreSQL database; the one `run` and the console start in the
        // background (--quiet-if-running) is started only when none is active.
        if quietIfRunning, database.capabilities.contains(.severalEngines), database.engineLockHolder() != nil { return }
        let region = try checkedRegion(database, settings: settings)
        let identity = EngineIdentity(version: Switchboard.version, capacity: settings.engine.maxRuns,
                                      pools: region?.pools ?? [], filter: region?.filter ?? "")
        guard let lock = try database.acquireEngineLock(identity) else {
            if quietIfRunning { return }
            let pid = database.engineLockHolder().map { " (pid \($0))" } ?? ""
            throw CommandFailure(message: "an engine already runs on \(database.location)\(pid)")
        }
        let held = HeldEngineLock(lock)
        defer { held.release() }
        let log: @Sendable (String) -> Void = { message in
            let line = "\(EngineCommand.stamp()) engine[\(getpid())]: \(message)\n"
            FileHandle.standardError.write(Data(line.utf8))
        }
        let user = OSUser.name
        let scheduler = EngineCommand.schedulerHook(database: database, user: user, log: log)
        let paths = global.paths, overrides = global.overrides, databasePath = database.location, pid = getpid()
        // The settings the engine uses are published in a file beside a SQLite database; a PostgreSQL
        // engine may run on another host, so there is no such file for it (yet).
        let publishes = database is AppDatabase
        // Settings files are watched: a changed settings.json reaches the next run without a restart.
        let source = EngineService.SettingsSource(
            files: [SettingsLoader(paths: paths).shippedPath, paths.userSettingsPath].compactMap { $0 },
            load: { try SettingsLoader(paths: paths).load(overrides: overrides) },
            transport: { try SSHTransportConfiguration(settings: $0, paths: paths) },
            published: { if publishes { EngineSettingsFile.write($0, pid: pid, databasePath: databasePath) } })
        let engine = try EngineService(database: database, settings: settings,
                                       transport: SSHTransportConfiguration(settings: settings, paths: paths),
                                       secrets: try SecretBox.load(paths: global.paths), scheduler: scheduler,
                                       settingsSource: source, membership: lock, region: region, log: log)
        let signals = EngineCommand.installSignals { immediate in engine.requestShutdown(immediate: immediate) }
        log("started on \(database.location)\(lock.engineId.map { " as engine #\($0) on host \(identity.host)" } ?? "")")
        await engine.run()
        signals.forEach { $0.cancel() }
        log("stopped")
    }

    static func installSignals(_ handler: @escaping @Sendable (Bool) -> Void) -> [DispatchSourceSignal] {
        var sources: [DispatchSourceSignal] = []
        signal(SIGPIPE, SIG_IGN)
        for (sig, immediate) in [(SIGTERM, false), (SIGHUP, false), (SIGINT, true)] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { handler(immediate) }
            source.resume()
            sources.append(source)
        }
        return sources
    }

    static func stamp() -> String {
        let f = DateFormatter()
        f.dateFormat = "yyyy-MM-dd HH:mm:ss.SSS"
        return f.string(from: Date())
    }
}

/// `switchboard run NAME`: queue a run of a service or workflow, optionally following it.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a service or workflow on the engine (started in the background if needed).",
        discussion: """
            Targets given here replace the service's own. With --follow, prints the live log and exits 0 \
            only when the run completed with every device successful, 1 otherwise (2 on usage errors). \
            --restart RUN --from SERVICE re-runs a workflow from one of its nodes on the devices that \
            had not completed it in RUN.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The service or workflow (not needed with --restart).")
    var name: String?

    @Option(help: "Target devices, comma-separated.")
    var devices: String?

    @Option(help: "Target pools, comma-separated.")
    var pools: String?

    @Option(help: "Target devices by filter expression.")
    var filter: String?

    @Option(name: .customLong("param"), help: ArgumentHelp("A payload variable, {{payload.k}} in commands.", valueName: "k=v"))
    var params: [String] = []

    @Flag(help: "Print the live log until the run ends.")
    var follow = false

    @Flag(help: "Print the run as JSON.")
    var json = false

    @Option(help: "Restart this run (a workflow) ...")
    var restart: Int64?

    @Option(name: .customLong("from"), help: "... from this node.")
    var from: String?

    @Option(help: "Wait at most this many seconds with --follow (default: until the run ends).")
    var timeout: Double?

    func run() async throws {
        let parameters = try RunCommand.parseParams(params)
        if (restart == nil) != (from == nil) { throw CommandFailure.usage("--restart and --from go together") }
        if restart == nil && name == nil { throw CommandFailure.usage("name the service or workflow to run") }
        let settings = try global.settings()
        let database = try global.openBackend()
        let queue = RunQueue(database: database)
        let user = OSUser.name
        let run: Run
        do {
            if let restart, let from {
                run = try RunCommand.enqueueRestart(database, restart, from: from, user: user, parameters: parameters)
            } else {
                run = try queue.enqueue(service: name!, trigger: .cli, user: user,
                                        devices: RunCommand.list(devices), pools: RunCommand.list(pools),
                                        filter: filter ?? "", parameters: parameters, requireTargets: true)
            }
        } catch let e as StoreError where e.kind == .invalid {
            throw CommandFailure.usage(e.message)
        } catch let e as StoreError where e.kind == .noTargets {
            throw CommandFailure(message: "not queued: \(e.message)")
        }
        let id = run.id!
        do {
            let extra = global.overrides.flatMap { ["--set", $0] }
            if let sqlite = database as? AppDatabase {
                try EngineLauncher.ensureRunning(databasePath: sqlite.path, extraArguments: extra)
            } else {
                // The engine re-opens the URL (no password in it: it inherits PGPASSWORD or reads
                // ~/.pgpass); its log goes to the state directory, there being no file to put it beside.
                try Paths.ensurePrivateDirectory(global.paths.stateDirectory)
                try EngineLauncher.ensureRunning(databaseArgument: database.location,
                                                 log: EngineCommand.logPath(forLocation: database.location, paths: global.paths),
                                                 lockHolder: { database.engineLockHolder() }, extraArguments: extra)
            }
        } catch let e as StoreError {
            FileHandle.standardError.write(Data("warning: run \(id) is queued but \(e.message)\n".utf8))
        }
        if let sqlite = database as? AppDatabase { RunCommand.noteSettingsDifferences(settings, databasePath: sqlite.path) }
        if !follow {
            if json { print(String(decoding: try JSONEncoder.pretty.encode(run), as: UTF8.self)) }
            else { print("run \(id) queued: \(run.serviceName)") }
            return
        }
        if !json { FileHandle.standardError.write(Data("run \(id) queued: \(run.serviceName)\n".utf8)) }
        let final = try await LogsCommand.follow(queue, run: id, device: nil, print: !json, timeout: timeout)
        if json { print(String(decoding: try JSONEncoder.pretty.encode(final), as: UTF8.self)) }
        else {
            print("run \(id) \(final.status.rawValue): \(final.progressDone)/\(final.progressTotal) done, \(final.progressFailed) failed\(final.reason.isEmpty ? "" : " (\(inert(final.reason)))")")
        }
        if !(final.status == .completed && final.progressFailed == 0) { throw ExitCode(1) }
    }

    /// Says which of this command's automation and ssh settings the running engine does not share:
    /// it re-reads settings files before each run, but this command's environment variables and
    /// `--set` reach only an engine it starts.
    static func noteSettingsDifferences(_ settings: Settings, databasePath: String) {
        guard let pid = EngineLock.holder(databasePath: databasePath),
              let published = EngineSettingsFile.read(databasePath: databasePath), published.pid == pid else { return }
        let differences = Settings.changes(from: published.settings, to: settings.flattened, sections: ["automation", "ssh"])
        guard !differences.isEmpty else { return }
        let text = "note: the running engine (pid \(pid)) uses other settings than this command: "
            + differences.map { $0.replacingOccurrences(of: " → ", with: " (engine) vs ") + " (here)" }.joined(separator: "; ")
            + ". It re-reads the settings files before each run; environment variables and --set reach only an engine they start (`switchboard engine --stop` to restart it).\n"
        FileHandle.standardError.write(Data(text.utf8))
    }

    static func list(_ text: String?) -> [String] {
        (text ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// `k=v` pairs; a value that reads as JSON (a number, true/false, a list…) keeps its type.
    static func parseParams(_ params: [String]) throws -> [String: JSONValue] {
        var out: [String: JSONValue] = [:]
        for p in params {
            guard let eq = p.firstIndex(of: "="), eq != p.startIndex else {
                throw CommandFailure.usage("--param '\(p)': expected k=v")
            }
            let key = String(p[..<eq]), raw = String(p[p.index(after: eq)...])
            if let data = raw.data(using: .utf8), let v = try? JSONDecoder().decode(JSONValue.self, from: data),
               !raw.isEmpty, raw.first != "\"" || raw.count > 1 {
                out[key] = v
            } else {
                out[key] = .string(raw)
            }
        }
        return out
    }

    /// A restart: the old run's workflow, from the node, on the devices that had no successful
    /// result for that node in the old run.
    static func enqueueRestart(_ database: any StoreBackend, _ old: Int64, from node: String, user: String,
                               parameters: [String: JSONValue]) throws -> Run {
        try database.transaction { store in
            guard let previous = try store.run(id: old) else { throw StoreError.notFound("no run \(old)") }
            guard let workflow = try store.service(id: previous.serviceId), workflow.kind == .workflow else {
                throw StoreError.invalid("run \(old) is not a workflow run; only workflows restart from a node")
            }
            if !previous.status.isFinished { throw StoreError.invalid("run \(old) is still \(previous.status.rawValue)") }
            let nodes = try store.workflowNodes(workflowId: workflow.id!)
            let names = try nodes.compactMap { try store.service(id: $0.serviceId)?.name }
            guard names.contains(node) else {
                throw StoreError.invalid("workflow '\(workflow.name)' has no node '\(node)' (nodes: \(names.sorted().joined(separator: ", ")))")
            }
            let all = try TargetResolver.devices(store, TargetResolver.targets(of: previous, service: workflow)) ?? []
            let completed = Set(try store.succeededDeviceNames(run: old, service: node))
            let remaining = all.map(\.name).filter { !completed.contains($0) }
            if remaining.isEmpty { throw StoreError.invalid("every device of run \(old) completed '\(node)'; nothing to restart") }
            var merged = previous.parameters
            merged.merge(parameters) { _, new in new }
            return try store.enqueueRun(service: workflow.name, trigger: .cli, user: user, devices: remaining,
                                        parameters: merged, restartOf: old, restartFrom: node)
        }
    }
}

/// `switchboard stop RUN`.
struct StopCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stop", abstract: "Stop a queued or running run.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("The run id.", valueName: "RUN")) var runId: Int64

    func run() throws {
        let database = try global.openBackend()
        let user = OSUser.name
        let r = try RunQueue(database: database).requestStop(runId, user: user)
        switch r.status {
        case .running: print("run \(runId): stop requested; the engine closes its device channels")
        case .aborted where r.startedAt == nil: print("run \(runId): aborted before it started")
        default: print("run \(runId) is already \(r.status.rawValue)")
        }
    }
}

/// `switchboard runs`.
struct RunsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "runs", abstract: "List runs, newest first.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "At most this many.") var limit = 50
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let settings = try global.settings()
        let database = try global.openBackend(readonly: true)
        // A running run whose units no active engine serves (regions) says why in its reason.
        let runs = try RunQueue(database: database).runs(limit: limit, thresholds: EngineThresholds(settings))
        if json { print(String(decoding: try JSONEncoder.pretty.encode(runs), as: UTF8.self)); return }
        let rows = runs.map { r in
            [String(r.id ?? 0), inert(r.serviceName), r.status.rawValue, "\(r.progressDone)/\(r.progressTotal)", String(r.progressFailed),
             r.trigger.rawValue, inert(r.user), LogsCommand.time(r.startedAt ?? r.createdAt), r.endedAt.map(LogsCommand.time) ?? "",
             inert(r.reason)]
        }
        print(TableFormatter.format(columns: ["ID", "SERVICE", "STATUS", "DONE", "FAILED", "TRIGGER", "USER", "STARTED", "ENDED", "REASON"], rows: rows), terminator: "")
    }
}

/// `switchboard results RUN`.
struct ResultsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "results", abstract: "A run's results, per service and device.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("The run id.", valueName: "RUN")) var runId: Int64
    @Option(help: "Only this device.") var device: String?
    @Flag(help: "Print JSON.") var json = false
    @Flag(help: "The parsed rows (parse: textfsm) of every device, in one table with a device column.") var rows = false
    @Flag(help: "With --rows: CSV instead of an aligned table.") var csv = false
    @Option(help: "With --rows: only the rows matching this filter expression (status!=up).") var filter: String?

    func validate() throws {
        if (csv || filter != nil) && !rows { throw ValidationError("--csv and --filter go with --rows") }
        if csv && json { throw ValidationError("give --csv or --json, not both") }
    }

    func run() throws {
        let database = try global.openBackend(readonly: true)
        let queue = RunQueue(database: database)
        guard try queue.run(runId) != nil else { throw CommandFailure(message: "no run \(runId)") }
        let results = try queue.results(run: runId, device: device)
        if rows { try printRows(results); return }
        if json { print(String(decoding: try JSONEncoder.pretty.encode(results), as: UTF8.self)); return }
        // A run spread over several engines names the engine of each result; one engine's run reads as before.
        let engines = RunResult.spanEngines(device == nil ? results : try queue.results(run: runId))
        for r in results {
            let who = r.deviceName.isEmpty ? "(once)" : r.deviceName
            let engine = engines && !r.engine.isEmpty ? " · engine \(inert(r.engine))" : ""
            print("== \(inert(who)) · \(inert(r.serviceName)) · \(r.success ? "success" : "FAILED") · \(r.durationMs) ms · \(r.attempts) attempt\(r.attempts == 1 ? "" : "s")\(engine)")
            if !r.output.isEmpty { print(inert(r.output).trimmingCharacters(in: .newlines)) }
        }
    }
}

extension ResultsCommand {
    /// The answer to "which interfaces are down across the 200 devices I just polled".
    func printRows(_ results: [RunResult]) throws {
        var (columns, table) = ParsedRows.table(results)
        if table.isEmpty && !results.contains(where: { $0.rows != nil }) {
            throw CommandFailure(message: "run \(runId) has no parsed rows (its cli services need parse: textfsm)")
        }
        if let filter {
            let expression: FilterExpression
            do { expression = try FilterExpression.parse(filter) } catch let e as StoreError { throw CommandFailure.usage(e.message) }
            table = table.filter { row in expression.matches(value: { row[$0.lowercased()].map { ParsedRows.text($0) } }, searchable: columns) }
        }
        if json {
            print(String(decoding: try JSONEncoder.pretty.encode(table), as: UTF8.self))
        } else if csv {
            func cell(_ text: String) -> String {
                text.contains(where: { ",\"\n\r".contains($0) }) ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
            }
            print(columns.map(cell).joined(separator: ","))
            for row in table { print(columns.map { cell(ParsedRows.text(row[$0])) }.joined(separator: ",")) }
        } else {
            let cells = [columns.map { $0.uppercased() }] + table.map { row in columns.map { inert(ParsedRows.text(row[$0])) } }
            let widths = columns.indices.map { c in cells.map { $0[c].count }.max() ?? 0 }
            for line in cells {
                print(line.enumerated().map { $0 == line.count - 1 ? $1 : $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }
                    .joined(separator: "  "))
            }
            FileHandle.standardError.write(Data("\(table.count) row\(table.count == 1 ? "" : "s")\n".utf8))
        }
    }
}

/// `switchboard logs RUN`.
struct LogsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "logs", abstract: "A run's log; --follow tails it live.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("The run id.", valueName: "RUN")) var runId: Int64
    @Option(help: "Only this device's lines.") var device: String?
    @Flag(help: "Keep printing new lines until the run ends.") var follow = false
    @Option(help: "Write the whole log to this file instead.") var export: String?

    func run() async throws {
        let database = try global.openBackend(readonly: true)
        let queue = RunQueue(database: database)
        guard let r = try queue.run(runId) else { throw CommandFailure(message: "no run \(runId)") }
        if let export {
            var text = "# run \(runId) · \(r.serviceName) · \(r.status.rawValue) · \(r.trigger.rawValue) by \(r.user)\n"
            var after: Int64 = 0
            while true {
                let lines = try queue.logLines(run: runId, after: after, device: device, limit: 50_000)
                if lines.isEmpty { break }
                for l in lines { text += LogsCommand.format(l) + "\n" }
                after = lines.last!.seq
            }
            do { try text.write(toFile: export, atomically: true, encoding: .utf8) }
            catch { throw CommandFailure(message: "cannot write \(export): \(error.localizedDescription)") }
            FileHandle.standardError.write(Data("wrote \(export)\n".utf8))
            return
        }
        if follow {
            _ = try await LogsCommand.follow(queue, run: runId, device: device, print: true, timeout: nil)
            return
        }
        var after: Int64 = 0
        while true {
            let lines = try queue.logLines(run: runId, after: after, device: device)
            if lines.isEmpty { break }
            for l in lines { print(LogsCommand.format(l)) }
            after = lines.last!.seq
        }
    }

    /// Prints lines as they arrive until the run has ended and every line is out; returns the run.
    static func follow(_ queue: RunQueue, run id: Int64, device: String?, print doPrint: Bool, timeout: Double?) async throws -> Run {
        var after: Int64 = 0
        let deadline = timeout.map { Date().addingTimeInterval($0) }
        // Woken by the engine's commits rather than polling (when the backend has wake-ups): a poll
        // interval was half of a line's way from the engine to the screen on a busy run.
        var watcher = queue.database.changeWaiter()
        while true {
            // A LISTEN whose connection the server closed hears nothing more: listen anew.
            if let w = watcher, !w.isAlive { watcher = queue.database.changeWaiter() }
            // Lines the wake-up carried (PostgreSQL: a journal flush's NOTIFY), when they follow on
            // from the last one printed: no read at all. Otherwise new lines first; the run is read
            // only when there are none (one read per wake-up while lines flow: on PostgreSQL each
            // read is a round trip). A run's lines are committed before its end, so once it is seen
            // ended, one more look finds every line left.
            var lines = device == nil ? Self.following(watcher?.takeCarriedLines() ?? [], run: id, after: after) : []
            if lines.isEmpty { lines = try queue.logLines(run: id, after: after, device: device) }
            var ended: Run?
            if lines.isEmpty, let run = try queue.run(id), run.status.isFinished {
                lines = try queue.logLines(run: id, after: after, device: device)
                if lines.isEmpty { return run }
                ended = run
            }
            if doPrint, !lines.isEmpty {
                var chunk = ""
                for l in lines { chunk += format(l) + "\n" }
                FileHandle.standardOutput.write(Data(chunk.utf8))
            }
            after = lines.last?.seq ?? after
            if ended != nil { continue }
            if let deadline, Date() > deadline { throw CommandFailure(message: "run \(id) did not end within \(timeout!) s") }
            if lines.count < 10_000 {
                if let watcher { watcher.wait(timeoutMs: 250) } else { try await Task.sleep(nanoseconds: 20_000_000) }
            }
        }
    }

    /// The lines of run `id` among `carried` after `after`, when they follow on from it without a
    /// gap (seq after+1, after+2, …); empty (read them instead) when any does not, as when a commit
    /// in between carried none. A later commit's wake-up comes after these were taken.
    static func following(_ carried: [RunLogLine], run id: Int64, after: Int64) -> [RunLogLine] {
        var next = after + 1
        var lines: [RunLogLine] = []
        for l in carried where l.runId == id && l.seq > after {
            guard l.seq == next else { return [] }
            lines.append(l)
            next += 1
        }
        return lines
    }

    static func format(_ l: RunLogLine) -> String {
        var text = "\(time(l.time)) \(l.level.rawValue.uppercased().padding(toLength: 7, withPad: " ", startingAt: 0))"
        if !l.device.isEmpty { text += " \(inert(l.device))" }
        if !l.service.isEmpty { text += " [\(inert(l.service))]" }
        return text + " " + inert(l.message)
    }

    /// Local time to the millisecond. Not a `DateFormatter`: making one per line cost milliseconds
    /// each and held `logs --follow` up to a second behind the engine on a busy run.
    static func time(_ d: Date) -> String { Formats.dateMilliseconds(d) }
}

extension EngineCommand {
    /// The auto-started engine's log for a database that is not a file: in the state directory,
    /// named after the URL (which holds no password).
    static func logPath(forLocation location: String, paths: Paths) -> String {
        EngineLauncher.logPath(forLocation: location, paths: paths)
    }

    /// The scheduler the engine ticks: fires due tasks as runs (exactly once per due time, by a
    /// conditional update in the store) and says when it next needs to be called.
    static func schedulerHook(database: any StoreBackend, user: String, log: @escaping @Sendable (String) -> Void) -> EngineService.SchedulerHook? {
        let scheduler = Scheduler(database: database, user: user)
        return {
            for event in try scheduler.tick() { log("scheduler: \(event)") }
            return try scheduler.nextWake()
        }
    }
}

/// The engine's lock or registration, released once.
final class HeldEngineLock: @unchecked Sendable {
    private let lock: any StoreEngineLock
    init(_ lock: any StoreEngineLock) { self.lock = lock }
    func release() { lock.release() }
}
