import Foundation
import Store
import Synchronization

/// What every run of an engine shares: the store, settings, the journal and the transport.
public struct RunEnvironment: Sendable {
    public let database: any StoreBackend
    public let settings: Settings
    public let journal: RunJournal
    public let transport: SSHTransport
    public let targets: DeviceTargets

    public init(database: any StoreBackend, settings: Settings, journal: RunJournal, transport: SSHTransport, targets: DeviceTargets) {
        self.database = database; self.settings = settings; self.journal = journal
        self.transport = transport; self.targets = targets
    }
}

/// One run being executed: resolves its targets, runs its service or walks its workflow, writes
/// results, log lines and progress through the journal, and ends with a status.
///
/// Two ways to end early: `stop` (a user's stop: channels closed at once, status `aborted`) and
/// `drain` (the engine's SIGTERM: no new device operation starts, those in flight finish, and the
/// engine later stops what remains with status `interrupted`).
public final class RunExecution: Sendable {
    public let run: Run
    let env: RunEnvironment
    let sessions: DeviceSessions
    /// Changed configurations and git use reported by the services, for the run's end.
    let events = RunEvents()
    private let control = Mutex(Control())
    private let counters = Mutex(Counters())

    struct Control {
        var draining = false
        var ending: (Run.Status, String)?
        /// The run's work, cancelled on stop so sleeps and waits end at once.
        var work: Task<Void, Error>?
    }
    struct Counters { var done = 0; var total = 0; var failed = 0 }

    public init(run: Run, environment: RunEnvironment) {
        precondition(run.id != nil)
        self.run = run
        self.env = environment
        self.sessions = DeviceSessions(transport: environment.transport, targets: environment.targets)
    }

    var runId: Int64 { run.id! }

    /// New device operations may start.
    var mayStart: Bool { control.withLock { !$0.draining && $0.ending == nil } }
    var endingStatus: (Run.Status, String)? { control.withLock { $0.ending } }

    /// A user's stop: in-flight device operations end within moments (their channels close).
    public func stop(status: Run.Status = .aborted, reason: String) async {
        let first = control.withLock { c -> Bool in
            if c.ending != nil { return false }
            c.ending = (status, reason)
            return true
        }
        if first { log(.warning, "stopping: \(reason)") }
        control.withLock { $0.work }?.cancel()
        await sessions.closeAll()
    }

    /// The engine is shutting down: finish what is in flight, start nothing new.
    public func drain() {
        control.withLock { $0.draining = true }
    }

    /// A line of the run's log. One that names no service (the run's own: stopping, failing, git,
    /// notifications) names the run's service or workflow, so that every line says what it is about.
    func log(_ level: RunLogLine.Level, device: String = "", service: String = "", _ message: String) {
        env.journal.log(run: runId, level, device: device, service: service.isEmpty ? run.serviceName : service, message)
    }

    // MARK: executing

    /// Executes the run to its end and returns the final run row (already written).
    public func execute() async -> Run {
        var final = run
        let started = Date()
        do {
            try env.journal.open(run: runId)
            let (service, devices) = try await env.database.query { [run] store -> (Service, [Device]?) in
                guard let service = try store.service(id: run.serviceId) else {
                    throw StoreError.notFound("service \(run.serviceName) no longer exists")
                }
                return (service, try TargetResolver.devices(store, TargetResolver.targets(of: run, service: service)))
            }
            let targetText = devices.map { "\($0.count) device\($0.count == 1 ? "" : "s")" } ?? "no devices (runs once)"
            log(.info, service: service.name, "run \(runId) of \(service.kind == .workflow ? "workflow" : "service") '\(service.name)' started by \(run.user) (\(run.trigger.rawValue)) on \(targetText)")
            if let devices, devices.isEmpty { log(.warning, service: service.name, "the targets match no device") }
            setTotal(devices?.count ?? 1)
            let payload = run.parameters
            let work = Task { [self] in
                if service.kind == .workflow {
                    try await runWorkflowRun(service, devices: devices ?? [], payload: payload)
                } else {
                    try await runServiceRun(service, devices: devices, payload: payload)
                }
            }
            let stoppedAlready = control.withLock { c -> Bool in
                c.work = work
                return c.ending != nil
            }
            if stoppedAlready { work.cancel() }
            do {
                try await work.value
            } catch where endingStatus != nil {
                // Stopped: the cancellation surfaced here; the status says why.
            }
        } catch {
            log(.error, "run failed: \(error)")
            final.reason = "\(error)"
            control.withLock { c in if c.ending == nil { c.ending = (.failed, "\(error)") } }
        }
        await sessions.closeAll()
        await pushConfigurations()
        let c = counters.withLock { $0 }
        let status: Run.Status
        let drained = control.withLock { $0.draining }
        if let (s, reason) = endingStatus {
            status = s
            final.reason = reason
        } else if drained && c.done < c.total {
            status = .interrupted
            final.reason = "the engine (pid \(getpid())) shut down before \(c.total - c.done) of \(c.total) device\(c.total == 1 ? "" : "s") ran"
        } else {
            status = c.failed > 0 ? .failed : .completed
            if c.failed > 0 { final.reason = "\(c.failed) of \(c.total) device\(c.total == 1 ? "" : "s") failed" }
        }
        let seconds = Date().timeIntervalSince(started)
        log(status == .completed ? .info : .warning,
            "run \(runId) \(status.rawValue) in \(String(format: "%.1f", seconds)) s: \(c.done)/\(c.total) done, \(c.failed) failed")
        final.status = status
        final.endedAt = Date()
        final.progressDone = c.done
        final.progressTotal = c.total
        final.progressFailed = c.failed
        env.journal.progress(run: runId, done: c.done, total: c.total, failed: c.failed)
        // Lines and results first, then the status: a reader that sees the run finished has everything.
        recordEnd(final)
        // Off the completion path: the run has ended whatever the channels do.
        notifyEnd(final)
        return final
    }

    /// Synchronous on purpose: the end must be recorded even when the surrounding task was cancelled.
    /// Retried with backoff (0.1 s doubling to 5 s, about two minutes in all): a busy SQLite file or a
    /// PostgreSQL server restarting or unreachable for a while delays the end, it does not lose it.
    private func recordEnd(_ final: Run) {
        var delay: useconds_t = 100_000
        let attempts = 30
        for attempt in 0..<attempts {
            do {
                try env.journal.flush()
                try env.database.recordRunEnd(final)
                return
            } catch {
                if attempt == attempts - 1 { FileHandle.standardError.write(Data("run \(runId): cannot record its end: \(error)\n".utf8)) }
                usleep(delay)
                delay = min(delay * 2, 5_000_000)
            }
        }
    }

    private func setTotal(_ total: Int) {
        counters.withLock { $0.total = total }
        env.journal.progress(run: runId, done: 0, total: total, failed: 0)
    }

    func deviceFinished(_ device: Device?, success: Bool) {
        let c = counters.withLock { c -> Counters in
            c.done += 1
            if !success { c.failed += 1 }
            return c
        }
        env.journal.progress(run: runId, done: c.done, total: c.total, failed: c.failed)
        if let id = device?.id { env.journal.deviceFinished(id, status: success ? "success" : "failure") }
    }

    var maxProcesses: (Service) -> Int {
        { [env] s in max(1, min(s.maxProcesses, env.settings.automation.maxProcess)) }
    }

    /// A plain service: on each device (at most `max_processes` at once), or once.
    func runServiceRun(_ service: Service, devices: [Device]?, payload: [String: JSONValue]) async throws {
        guard let devices, service.runMethod == .perDevice else {
            let outcome = await runUnit(service, device: nil, payload: payload, previous: nil)
            deviceFinished(nil, success: outcome.success)
            return
        }
        await forEachConcurrently(devices, limit: maxProcesses(service), shouldStart: { [self] in mayStart }) { [self] device in
            let outcome = await runUnit(service, device: device, payload: payload, previous: nil)
            if endingStatus == nil || outcome.recorded {
                deviceFinished(device, success: outcome.success)
            }
            await sessions.release(device.name)
        }
    }

    // MARK: one service on one device

    struct UnitOutcome: Sendable {
        var success: Bool
        var output: String
        var payload: [String: JSONValue]
        /// False when the run was stopped before the unit could end on its own.
        var recorded: Bool
    }

    /// One service on one device (or once): attempts with retries and a per-attempt deadline, then
    /// conversion and validation, then a result row.
    func runUnit(_ service: Service, device: Device?, payload: [String: JSONValue], previous: String?) async -> UnitOutcome {
        let deviceName = device?.name ?? ""
        let started = Date()
        guard let runner = ServiceKinds.runner(for: service.kind) else {
            let message = "service kind \(service.kind.rawValue) cannot run here"
            log(.error, device: deviceName, service: service.name, message)
            return UnitOutcome(success: false, output: message, payload: [:], recorded: true)
        }
        let attempts = 1 + max(0, service.retries)
        var lastError = ""
        var attempt = 0
        while attempt < attempts {
            attempt += 1
            if endingStatus != nil { return UnitOutcome(success: false, output: "", payload: [:], recorded: false) }
            if attempt > 1 {
                log(.info, device: deviceName, service: service.name, "retry \(attempt - 1) of \(attempts - 1)\(service.retryDelay > 0 ? " in \(Deadline.format(service.retryDelay)) s" : "")")
                if service.retryDelay > 0 { try? await Task.sleep(nanoseconds: UInt64(service.retryDelay * 1_000_000_000)) }
                if endingStatus != nil { return UnitOutcome(success: false, output: "", payload: [:], recorded: false) }
            } else {
                log(.debug, device: deviceName, service: service.name, RunLogLine.unitStarted)
            }
            let context = ServiceContext(
                runId: runId, service: service, device: device, payload: payload, previousOutput: previous,
                settings: env.settings, database: env.database, sessions: sessions,
                timeout: .milliseconds(Int(service.timeout * 1000)), runUser: run.user, events: events,
                log: { [self] level, message in log(level, device: deviceName, service: service.name, message) })
            do {
                let sessions = self.sessions
                var outcome = try await Deadline.run(seconds: service.timeout, onTimeout: {
                    if !deviceName.isEmpty { await sessions.release(deviceName) }
                }) { try await runner.run(context) }
                if outcome.success {
                    do { outcome.output = try ResultConversion.convert(outcome.output, to: service.conversion) }
                    catch { outcome.success = false; outcome.output += "\n[conversion to \(service.conversion) failed: \(error)]" }
                }
                var note = ""
                if outcome.success, service.kind != .validate, !service.validation.isEmpty {
                    let check = ResultValidation.check(outcome.output, rows: outcome.rows?.rows, rules: service.validation)
                    if !check.ok { outcome.success = false }
                    note = check.message
                }
                let ms = Int(Date().timeIntervalSince(started) * 1000)
                record(service, device, success: outcome.success, output: outcome.output, ms: ms, attempts: attempt, rows: outcome.rows)
                if outcome.success {
                    log(.info, device: deviceName, service: service.name, "success in \(ms) ms\(note.isEmpty ? "" : ": " + note)")
                } else {
                    let why = note.isEmpty ? Self.firstLine(outcome.output) : note
                    log(.error, device: deviceName, service: service.name, "failed\(why.isEmpty ? "" : ": " + why)")
                }
                return UnitOutcome(success: outcome.success, output: outcome.output, payload: outcome.payload, recorded: true)
            } catch {
                if endingStatus != nil { return UnitOutcome(success: false, output: "", payload: [:], recorded: false) }
                lastError = "\(error)"
                log(attempt < attempts ? .warning : .error, device: deviceName, service: service.name,
                    "attempt \(attempt) of \(attempts) failed: \(lastError)")
                if error is AttemptTimeout, let device { await sessions.discardCLI(for: device, credential: service.credential) }
            }
        }
        let ms = Int(Date().timeIntervalSince(started) * 1000)
        record(service, device, success: false, output: lastError, ms: ms, attempts: attempts)
        return UnitOutcome(success: false, output: lastError, payload: [:], recorded: true)
    }

    static func firstLine(_ text: String) -> String {
        let line = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        return line.count > 200 ? String(line.prefix(200)) + "…" : line
    }

    func record(_ service: Service, _ device: Device?, success: Bool, output: String, ms: Int, attempts: Int,
                rows: ParsedRows? = nil) {
        let encoded = rows?.encoded
        env.journal.record(RunResult(runId: runId, serviceId: service.id ?? 0, serviceName: service.name,
                                     deviceId: device?.id, deviceName: device?.name ?? "", success: success,
                                     output: output, durationMs: ms, attempts: attempts, rows: encoded))
    }
}
