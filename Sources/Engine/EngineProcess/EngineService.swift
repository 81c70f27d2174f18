import Foundation
import Store
import Synchronization

/// The engine process's work: one per SQLite database (the caller holds the `EngineLock`), several
/// per PostgreSQL database (each registered; see `startHeartbeat`). It marks runs a dead (or lost)
/// engine left `running` as interrupted, claims queued runs, executes them, watches their stop
/// flags, flushes the journal, fires scheduled tasks through the scheduler hook, and shuts down the
/// way Celery workers do: the first SIGTERM drains (no new work, in-flight device operations get
/// `engine.stop_grace_seconds`), a second SIGTERM or a SIGINT aborts at once. Either way every run it
/// leaves unfinished is marked interrupted with the reason, and the journal is flushed.
public final class EngineService: Sendable {
    public let database: any StoreBackend
    /// The settings the engine started with; `engine.poll_ms` and `engine.log_flush_ms` keep these
    /// values for the engine's life. Runs use `environment.settings`, reloaded before a run when a
    /// settings file changed (see `SettingsSource`).
    public let settings: Settings
    public var environment: RunEnvironment { state.withLock { $0.environment } }
    public let pid: Int32

    /// Where the engine's settings come from, so a running engine can pick up a changed
    /// `settings.json` before its next run: the files to watch, how to load the settings (the same
    /// layers as at start, environment and `--set` included), and the transport they configure.
    public struct SettingsSource: Sendable {
        public var files: [String]
        public var load: @Sendable () throws -> Settings
        public var transport: @Sendable (Settings) throws -> SSHTransportConfiguration
        /// Called with the settings in force after a start or a reload (the engine's settings file).
        public var published: @Sendable (Settings) -> Void

        public init(files: [String], load: @escaping @Sendable () throws -> Settings,
                    transport: @escaping @Sendable (Settings) throws -> SSHTransportConfiguration,
                    published: @escaping @Sendable (Settings) -> Void = { _ in }) {
            self.files = files; self.load = load; self.transport = transport; self.published = published
        }
    }
    private let settingsSource: SettingsSource?
    private let secrets: SecretBox
    private let variables: [String: String]
    /// Fires due tasks and returns when it next needs to be called (nil: nothing scheduled).
    public typealias SchedulerHook = @Sendable () throws -> Date?
    private let scheduler: SchedulerHook?
    let state: Mutex<State>
    let log: @Sendable (String) -> Void
    /// The engine lock (SQLite) or registration (PostgreSQL, `.severalEngines`) this engine holds.
    let membership: (any StoreEngineLock)?
    /// The devices this engine serves (`engine --pools/--filter`; nil or empty: every device).
    let region: EngineRegion?
    /// Wakes the loop early: a stop request arrived.
    private let waker = LoopWaker()
    /// The heartbeat and stop-listener threads, waited for at the end.
    private let background = DispatchGroup()
    private let backgroundStopped = Mutex(false)
    let host = EngineIdentity.thisHost
    /// Held while units are claimed and registered, and while the heartbeat reads which units the
    /// engine works on and releases the others: a unit claimed is never taken for one let go.
    let unitClaims = Mutex(0)

    public enum Shutdown: Sendable, Equatable { case none, drain, abort }

    struct State {
        var environment: RunEnvironment
        /// Size and modification time of each watched settings file when last read.
        var settingsStamp: [String] = []
        /// Said in the log of the next run started: what a reload changed.
        var settingsNote: String?
        /// Transports of earlier settings, still used by the runs that started with them.
        var retiredTransports: [SSHTransport] = []
        var executions: [Int64: RunExecution] = [:]
        var tasks: [Int64: Task<Void, Never>] = [:]
        var shutdown: Shutdown = .none
        var nextSchedulerTick = Date.distantPast
        /// Units this engine executes (the unit queue), by unit id.
        var units: [Int64: UnitWork] = [:]
        /// Spread runs whose configurations this engine committed and has not pushed yet.
        var unpushedRuns: Set<Int64> = []
        /// Runs claimed and being spread into units (`spread`): a shutdown waits for them.
        var spreading = 0
        /// What every unit of a spread run needs from the store besides its device, read by its
        /// first unit here (`UnitRunPlan`).
        var unitRuns: [Int64: UnitRunPlan] = [:]
    }

    public convenience init(database: any StoreBackend, settings: Settings, paths: Paths, secrets: SecretBox,
                            scheduler: SchedulerHook? = nil, membership: (any StoreEngineLock)? = nil,
                            log: @escaping @Sendable (String) -> Void = { _ in }) throws {
        try self.init(database: database, settings: settings,
                      transport: SSHTransportConfiguration(settings: settings, paths: paths),
                      secrets: secrets, scheduler: scheduler, membership: membership, log: log)
    }

    /// `membership` is the engine lock or registration the caller took (`acquireEngineLock`): with a
    /// registration the engine heartbeats, keeps house for the other engines and claims runs under it.
    public init(database: any StoreBackend, settings: Settings, transport configuration: SSHTransportConfiguration,
                secrets: SecretBox, environment variables: [String: String] = ProcessInfo.processInfo.environment,
                scheduler: SchedulerHook? = nil, settingsSource: SettingsSource? = nil,
                membership: (any StoreEngineLock)? = nil, region: EngineRegion? = nil,
                log: @escaping @Sendable (String) -> Void = { _ in }) throws {
        self.database = database
        self.membership = membership
        self.region = region
        self.settings = settings
        self.pid = getpid()
        self.scheduler = scheduler
        self.log = log
        self.settingsSource = settingsSource
        self.secrets = secrets
        self.variables = variables
        let transport = try SSHTransport(configuration: configuration)
        let redactor = try SecretRedactor.load(database: database, secrets: secrets)
        let journal = RunJournal(database: database, redactor: redactor)
        let environment = RunEnvironment(database: database, settings: settings, journal: journal, transport: transport,
                                         targets: DeviceTargets(database: database, secrets: secrets, settings: settings, environment: variables))
        state = Mutex(State(environment: environment, settingsStamp: settingsSource.map { Self.stamp($0.files) } ?? []))
        settingsSource?.published(settings)
    }

    static func stamp(_ files: [String]) -> [String] {
        files.map { path in
            var info = stat()
            guard stat(path, &info) == 0 else { return "\(path): absent" }
            return "\(path): \(info.st_size) \(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)"
        }
    }

    /// Before a run starts: when a settings file changed since it was last read, loads the settings
    /// again and gives the runs that start from now on an environment built from them (a new
    /// transport when the `ssh` section changed). Runs in flight keep theirs. A settings file that no
    /// longer loads is reported and the previous settings stay.
    func reloadSettingsIfChanged() {
        guard let source = settingsSource else { return }
        let now = Self.stamp(source.files)
        guard now != state.withLock({ $0.settingsStamp }) else { return }
        state.withLock { $0.settingsStamp = now }
        let current = environment
        let fresh: Settings
        do { fresh = try source.load() } catch {
            log("settings changed but do not load; runs keep the previous settings: \(error)")
            state.withLock { $0.settingsNote = "the settings files changed but do not load (\(error)); this run uses the engine's previous settings" }
            return
        }
        var changes = current.settings.changes(to: fresh, sections: ["automation", "ssh", "engine"])
        // Git, notification and security settings may hold secrets (webhook URLs): named, never shown.
        let quiet = current.settings.changes(to: fresh, sections: ["git", "mail", "notify", "security"])
            .compactMap { $0.split(separator: " ").first.map(String.init) }
        if !quiet.isEmpty { changes.append(quiet.joined(separator: ", ") + " changed") }
        guard !changes.isEmpty else { return }
        var transport = current.transport
        if current.settings.ssh != fresh.ssh {
            do { transport = try SSHTransport(configuration: source.transport(fresh)) } catch {
                log("settings changed but the new ssh settings cannot be used; runs keep the previous settings: \(error)")
                return
            }
        }
        let fixed = changes.filter { $0.hasPrefix("engine.log_flush_ms") || $0.hasPrefix("engine.poll_ms") }
        var note = "engine settings reloaded: " + changes.joined(separator: "; ")
        if !fixed.isEmpty { note += " (engine.log_flush_ms and engine.poll_ms apply when the engine restarts)" }
        let environment = RunEnvironment(database: database, settings: fresh, journal: current.journal, transport: transport,
                                         targets: DeviceTargets(database: database, secrets: secrets, settings: fresh, environment: variables))
        state.withLock { s in
            if transport !== current.transport { s.retiredTransports.append(current.transport) }
            s.environment = environment
            s.settingsNote = note
        }
        source.published(fresh)
        log(note)
    }

    public var shutdownState: Shutdown { state.withLock { $0.shutdown } }
    public var activeRuns: [Int64] { state.withLock { Array($0.executions.keys).sorted() } }

    /// SIGTERM: the first drains, the next aborts.
    public func requestShutdown(immediate: Bool) {
        let settings = environment.settings
        let (level, executions) = state.withLock { s -> (Shutdown, [RunExecution]) in
            s.shutdown = (immediate || s.shutdown != .none) ? .abort : .drain
            return (s.shutdown, Array(s.executions.values))
        }
        if level == .drain {
            log("draining: no new runs or device operations; in-flight ones get \(Deadline.format(settings.engine.stopGraceSeconds)) s")
            for e in executions { e.drain() }
        } else {
            log("aborting: closing every device connection now")
            for e in executions { Task { await e.stop(status: .interrupted, reason: "the engine (pid \(pid)) was stopped at once by a signal") } }
        }
    }

    /// Marks runs a previous engine left running as interrupted, keeping their results and lines. With
    /// several engines: the runs of engines that are lost (no heartbeat for `engine.active_threshold_s`),
    /// dropped or gone, named by host and pid.
    @discardableResult
    public func recoverInterrupted() throws -> [Int64] {
        let now = Date()
        let several = database.capabilities.contains(.severalEngines)
        let finder = several ? "engine \(pid)@\(host)\(membership?.engineId.map { " (#\($0))" } ?? "")" : "the engine started at \(Self.timestamp(now))"
        return try database.interruptAbandonedRuns(at: now, thresholds: EngineThresholds(environment.settings)) { old in
            guard several else {
                return "the engine\(old.pid.map { " (pid \($0))" } ?? "") died while the run was going; found by \(finder)"
            }
            let who = "the engine \(old.pid.map { "pid \($0)" } ?? "(pid unknown)")\(old.host.isEmpty ? "" : " on host \(old.host)")\(old.engineId.map { " (#\($0))" } ?? "")"
            let why: String
            switch old.state {
            case .lost?, .dropped?:
                why = "was \(old.state!.rawValue) (no heartbeat for \(Deadline.format(old.heartbeatAgeSeconds ?? 0)) s)"
            case .active?: why = "stopped heartbeating"
            case nil: why = old.engineId == nil ? "died (it ran no registration)" : "is no longer registered"
            }
            return "\(who) \(why) while the run was going; found by \(finder)"
        }
    }

    /// Units whose lease expired: read-only ones back in the queue, configuration-changing ones `lost`,
    /// each with a reason naming the engine that held it and this one.
    func recoverExpiredUnits(_ thresholds: EngineThresholds) throws {
        let finder = "engine \(pid)@\(host)\(membership?.engineId.map { " (#\($0))" } ?? "")"
        let recovered = try database.recoverExpiredUnits { unit in
            "the lease of engine #\(unit.engineId ?? 0) on it expired (no heartbeat for \(Deadline.format(thresholds.active)) s); found by \(finder)"
        }
        if !recovered.requeued.isEmpty {
            log("requeued \(recovered.requeued.count) read-only unit\(recovered.requeued.count == 1 ? "" : "s") of a lost engine: \(recovered.requeued.map { "#\($0.id)" }.joined(separator: ", "))")
        }
        for run in recovered.endedRuns.keys.sorted() { spreadRunEnded(run) }
        if !recovered.lost.isEmpty {
            log("ended lost \(recovered.lost.count) configuration-changing unit\(recovered.lost.count == 1 ? "" : "s") of a lost engine: \(recovered.lost.map { "#\($0.id)" }.joined(separator: ", "))")
        }
    }

    /// The heartbeat's part of the unit queue: the leases of the units this engine works on are
    /// renewed, and those it holds but no longer works on (stopped before their end, or whose end it
    /// could not record) are released at once, as an expired lease would be a lease length later.
    func keepUnitLeases(engineId: Int64, _ thresholds: EngineThresholds) throws {
        let released = try unitClaims.withLock { _ -> ExpiredUnits in
            let tracked = state.withLock { Array($0.units.keys) }
            try database.renewUnitLeases(engineId: engineId, units: tracked, leaseSeconds: thresholds.active)
            return try database.releaseUnits(engineId: engineId, keeping: tracked) { _ in
                "engine #\(engineId) (pid \(self.pid) on host \(self.host)) stopped it before its end and released it"
            }
        }
        for run in released.endedRuns.keys.sorted() { spreadRunEnded(run) }
        if !released.requeued.isEmpty || !released.lost.isEmpty {
            log("released units this engine no longer works on: \((released.requeued + released.lost).map { "#\($0.id)" }.joined(separator: ", "))"
                + " (read-only ones requeued, configuration-changing ones lost)")
        }
    }

    /// With several engines (PostgreSQL), on a thread of its own so device I/O never holds it back:
    /// the registration's heartbeat every `min(2 s, engine.active_threshold_s / 4)`, then the
    /// housekeeping any engine does for the others: runs of lost engines interrupted, dropped
    /// engines removed.
    func startHeartbeat() {
        guard database.capabilities.contains(.severalEngines), let membership, membership.engineId != nil else { return }
        let thread = Thread { [self] in
            var failing = false
            while !backgroundStopped.withLock({ $0 }) {
                let thresholds = EngineThresholds(environment.settings)
                do {
                    if try !membership.heartbeat() {
                        log("this engine's registration was dropped (no heartbeat for \(Deadline.format(thresholds.drop)) s): registered again as engine #\(membership.engineId ?? 0)")
                    } else if failing {
                        log("heartbeat written again")
                    }
                    failing = false
                    // The unit-level queue: this engine's leases live by its heartbeat; units whose
                    // lease expired (their engine killed, stopped or cut off) are recovered.
                    if let engineId = membership.engineId { try keepUnitLeases(engineId: engineId, thresholds) }
                    try recoverExpiredUnits(thresholds)
                    let stopped = try database.endStoppedUnitRuns()
                    if !stopped.isEmpty { log("ended stopped spread run \(stopped.map(String.init).joined(separator: ", "))") }
                    for run in stopped { spreadRunEnded(run) }
                    let ids = try recoverInterrupted()
                    if !ids.isEmpty { log("marked interrupted (their engine is lost): run \(ids.map(String.init).joined(separator: ", "))") }
                    for gone in try database.removeDroppedEngines(thresholds) {
                        log("dropped engine #\(gone.id ?? 0) (pid \(gone.pid) on host \(gone.host)): no heartbeat for \(Deadline.format(gone.heartbeatAgeSeconds ?? 0)) s")
                    }
                } catch {
                    if !failing { log("cannot write the heartbeat (retrying): \(StoreError.describe(error))") }
                    failing = true
                }
                let interval = max(0.05, min(2.0, thresholds.active / 4))
                let deadline = Date().addingTimeInterval(interval)
                while Date() < deadline, !backgroundStopped.withLock({ $0 }) { usleep(50_000) }
            }
            background.leave()
        }
        thread.name = "engine-heartbeat"
        background.enter()
        thread.start()
    }

    /// Wakes the loop when a stop is requested (PostgreSQL: LISTEN), so the run's engine sees it at once;
    /// the loop's poll stays the safety net.
    func startStopListener() {
        guard database.capabilities.contains(.severalEngines) else { return }
        let thread = Thread { [self] in
            var waiter = database.stopWaiter()
            var lastTry = Date()
            while !backgroundStopped.withLock({ $0 }) {
                // A LISTEN whose connection the server closed hears nothing more: listen again.
                if let w = waiter, !w.isAlive { waiter = nil; lastTry = .distantPast }
                guard let w = waiter else {
                    if Date().timeIntervalSince(lastTry) > 2 {
                        waiter = database.stopWaiter()
                        lastTry = Date()
                        // Stops requested while nobody listened: the loop's next look finds them.
                        if waiter != nil { waker.wake() }
                    } else {
                        usleep(200_000)
                    }
                    continue
                }
                if w.wait(timeoutMs: 250) { waker.wake() }
            }
            background.leave()
        }
        thread.name = "engine-stop-listener"
        background.enter()
        thread.start()
    }

    func stopBackground() {
        backgroundStopped.withLock { $0 = true }
        background.wait()
    }

    /// Runs until shut down. Returns when every run it started has ended and the journal is flushed.
    public func run() async {
        do {
            let ids = try recoverInterrupted()
            if !ids.isEmpty { log("marked interrupted: run \(ids.map(String.init).joined(separator: ", "))") }
        } catch {
            log("cannot recover interrupted runs: \(error)")
        }
        // The journal is flushed from a thread of its own, not a task: with 50 device operations on a
        // 2-core machine the cooperative pool's threads can all be busy for most of a second, and
        // a flush waiting for one held every `logs --follow` reader back that long.
        let flusher = JournalFlusher(journal: environment.journal, intervalMs: settings.engine.logFlushMs)
        flusher.start()
        // A spread run's units' lines likewise, at the same cadence, all of them in one transaction.
        let unitFlusher = UnitFlusher(intervalMs: settings.engine.logFlushMs) { [self] in writeUnitLines() }
        unitFlusher.start()
        startHeartbeat()
        startStopListener()
        let poll = UInt64(settings.engine.pollMs) * 1_000_000
        var shutdownStarted: Date?
        var graceOver = false
        while true {
            let shutdown = shutdownState
            if shutdown == .none {
                claimRuns()
                refreshRegion()
                ClaimTrace.measure { claimUnits() }
                tickScheduler()
            } else if shutdownStarted == nil {
                shutdownStarted = Date()
                markDraining()
            }
            await checkStops()
            await flushUnits()
            if shutdown != .none {
                if activeRuns.isEmpty && state.withLock({ $0.units.isEmpty && $0.spreading == 0 }) { break }
                if shutdown == .drain, let started = shutdownStarted,
                   Date().timeIntervalSince(started) > settings.engine.stopGraceSeconds {
                    log("grace time over: interrupting what remains")
                    graceOver = true
                    state.withLock { $0.shutdown = .abort }
                    for e in state.withLock({ Array($0.executions.values) }) {
                        await e.stop(status: .interrupted, reason: "the engine (pid \(pid)) shut down (SIGTERM) before the run finished")
                    }
                }
            }
            var sleep = shutdown == .none ? poll : 20_000_000
            if shutdown == .none, scheduler != nil {
                // Wake for the next due task rather than at the next poll: a task due 90 ms into a
                // 100 ms poll would otherwise fire 90 ms late.
                let untilDue = state.withLock { $0.nextSchedulerTick }.timeIntervalSinceNow
                if untilDue * 1e9 < Double(sleep) { sleep = UInt64(max(0.001, untilDue) * 1e9) }
            }
            await waker.sleep(nanoseconds: sleep)
        }
        stopBackground()
        leaveUnits(why: shutdownState == .drain ? "shut down"
                   : graceOver ? "shut down (SIGTERM; its grace time of \(Deadline.format(settings.engine.stopGraceSeconds)) s ran out)"
                   : "was stopped at once by a signal")
        // Notifications of runs that just ended are still being delivered: give them a bounded time.
        let pending = await Notifier.drain(timeout: 15)
        if pending > 0 { log("\(pending) notification\(pending == 1 ? "" : "s") still undelivered at shutdown") }
        unitFlusher.stop()
        flusher.stop()
        try? environment.journal.flush()
        environment.transport.shutdown()
        for transport in state.withLock({ $0.retiredTransports }) { transport.shutdown() }
    }

    /// Claims queued runs, oldest first, up to `engine.max_runs` at once. The claim is a conditional
    /// update, so a run can never be executed twice, whatever else touches the database.
    func claimRuns() {
        let free = environment.settings.engine.maxRuns - state.withLock { $0.executions.count }
        if free <= 0 { return }
        let claimed: [Run]
        do {
            // The store reads first: the idle engine polls without taking the write lock.
            claimed = try database.claimQueuedRuns(limit: free, engine: EngineClaimant(pid: pid, host: host, id: membership?.engineId), at: Date())
            if claimed.isEmpty { return }
            // Settings are read again only when there is a run to start with them.
            reloadSettingsIfChanged()
        } catch {
            log("cannot claim runs: \(StoreError.describe(error))")
            return
        }
        for run in claimed { start(run) }
    }

    func start(_ run: Run) {
        if unitQueueOn {
            state.withLock { $0.spreading += 1 }
            Task { [self] in
                if await !spread(run) { startWhole(run) }
                state.withLock { $0.spreading -= 1 }
            }
            return
        }
        startWhole(run)
    }

    func startWhole(_ run: Run) {
        let environment = self.environment
        if let note = state.withLock({ s -> String? in defer { s.settingsNote = nil }; return s.settingsNote }) {
            environment.journal.log(run: run.id!, .warning, note)
        }
        let execution = RunExecution(run: run, environment: environment)
        let id = run.id!
        state.withLock { $0.executions[id] = execution }
        log("run \(id) (\(run.serviceName)) started")
        let task = Task { [self] in
            let final = await execution.execute()
            log("run \(id) \(final.status.rawValue)")
            state.withLock { s in
                s.executions[id] = nil
                s.tasks[id] = nil
            }
        }
        state.withLock { s in if s.executions[id] != nil { s.tasks[id] = task } }
        if shutdownState == .drain { execution.drain() }
    }

    /// Stop flags set by `switchboard stop` or the console. With several engines, also the runs that
    /// are no longer this engine's (another engine found it lost and ended them): their device work stops.
    func checkStops() async {
        let active = activeRuns
        if active.isEmpty { return }
        let stops: [(Int64, String)]
        let owner = database.capabilities.contains(.severalEngines) ? membership?.engineId : nil
        let disowned: [(run: Int64, status: Run.Status)]
        do {
            (stops, disowned) = try await database.query { store in
                (try store.stopRequests(among: active).map { ($0.run, $0.reason) },
                 try owner.map { try store.runsNoLongerOwned(among: active, engineId: $0) } ?? [])
            }
        } catch { return }
        for (id, status) in disowned {
            if let e = state.withLock({ $0.executions[id] }), e.endingStatus == nil {
                log("run \(id) is no longer this engine's (it is \(status.rawValue)): stopping its device operations")
                await e.stop(status: .interrupted, reason: "the engine (pid \(pid) on host \(host)) lost the run: another engine found it lost")
            }
        }
        for (id, reason) in stops {
            if let e = state.withLock({ $0.executions[id] }), e.endingStatus == nil {
                log("run \(id): stop requested")
                await e.stop(status: .aborted, reason: reason.isEmpty ? "stopped" : reason)
            }
        }
    }

    func tickScheduler() {
        guard let scheduler else { return }
        let now = Date()
        if now < state.withLock({ $0.nextSchedulerTick }) { return }
        do {
            let next = try scheduler()
            // Asleep at most a second, so a task added or enabled by another process fires on time.
            let wake = min(next ?? now.addingTimeInterval(1), now.addingTimeInterval(1))
            state.withLock { $0.nextSchedulerTick = wake }
        } catch {
            log("scheduler: \(error)")
            state.withLock { $0.nextSchedulerTick = now.addingTimeInterval(1) }
        }
    }

    /// Tasks added or changed by other processes move the next wake-up earlier.
    public func rescheduleSoon() { state.withLock { $0.nextSchedulerTick = .distantPast } }

    static func timestamp(_ d: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: d)
    }
}

/// The engine loop's sleep, cut short by `wake()` (a stop request arrived). A wake with nobody
/// asleep makes the next sleep return at once.
final class LoopWaker: Sendable {
    private struct State {
        var pending = false
        var generation = 0
        var waiter: CheckedContinuation<Void, Never>?
    }
    private let state = Mutex(State())

    func wake() {
        let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
            if let w = s.waiter { s.waiter = nil; return w }
            s.pending = true
            return nil
        }
        waiter?.resume()
    }

    func sleep(nanoseconds: UInt64) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let generation = state.withLock { s -> Int? in
                if s.pending { s.pending = false; return nil }
                s.generation += 1
                s.waiter = c
                return s.generation
            }
            guard let generation else { c.resume(); return }
            Task { [self] in
                try? await Task.sleep(nanoseconds: nanoseconds)
                let waiter = self.state.withLock { s -> CheckedContinuation<Void, Never>? in
                    guard s.generation == generation, let w = s.waiter else { return nil }
                    s.waiter = nil
                    return w
                }
                waiter?.resume()
            }
        }
    }
}
