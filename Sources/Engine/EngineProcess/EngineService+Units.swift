import Foundation
import Store
import Synchronization

/// The unit queue (several engines, stage 2; `engine.unit_queue`, on by default): a service's run
/// over devices is not executed whole by the engine that claims it. That engine resolves its targets
/// and enqueues one unit per device (`enqueueUnits`); every engine then claims units up to
/// `automation.max_process` in flight, executes each as a run would (`RunExecution.runUnit`: the
/// same attempts, deadline, conversion, validation, lines and result), and writes its journal only
/// through the unit's lease: its lines at the journal's cadence, every unit of this engine in one
/// transaction (`UnitFlusher`, `writeUnitJournals`), and its end with its result (`finishUnit`, which
/// ends the run when it was the last). A refused write means the lease is gone
/// (another engine recovered the unit): the unit's device operation is stopped and nothing more of
/// it is written. A workflow with device traversal is spread too, one unit per device's walk
/// (`runWorkflowUnit`); workflows with service traversal, services run once, and runs without devices
/// still execute whole.
extension EngineService {
    /// A unit this engine works on, from its claim (registered at once, in the same step as the
    /// claim: a unit still loading takes its slot of `automation.max_process`, holds its lease and
    /// keeps a shutdown waiting) to its end.
    struct UnitWork: Sendable {
        var lease: UnitLease
        var unit: RunUnit
        var journal: RunJournal
        var lastFlush: Date
        /// Its run's stop was requested: it ends failed ("stopped"), at once.
        var stopRequested = false
        /// Set once its run, service and device are loaded.
        var execution: RunExecution?
        /// The unit's work, cancelled when it is stopped so sleeps and waits end at once.
        var task: Task<RunExecution.UnitOutcome, Never>?
        /// Stopped (its lease lost, its run stopped, the engine aborting): a unit still loading
        /// never starts its device work.
        var halted: (status: Run.Status, reason: String)?
        /// Its end and its periodic flush, one at a time (see `UnitWriter`).
        let writer = UnitWriter()
    }

    /// Serialises a unit's two kinds of writes. A flush that took the unit's last lines just before
    /// its end was then refused (the end had committed, the lease was over): the lines were lost and
    /// the engine wrongly stopped a finished unit. A flush marks the unit `flushing` from its `take`
    /// to its commit (`beginFlush`…`endFlush`); the end waits for such a flush, then marks the unit
    /// ended before its own `take` (`end`), and a flush that finds it ended leaves the lines to the end.
    final class UnitWriter: Sendable {
        struct State {
            var ended = false
            var flushing = false
            /// A flush was refused (the lease is gone): later flushes write nothing and stop nothing again.
            var refused = false
            /// The last flush that reached the store: an idle unit's lease is still checked about once a second.
            var lastWrite = Date()
        }
        let state = Mutex(State())

        /// Whether a flush may take the unit's lines now (it then owns them until `endFlush`).
        func beginFlush() -> Bool {
            state.withLock { s in
                if s.ended || s.flushing || s.refused { return false }
                s.flushing = true
                return true
            }
        }

        func endFlush(wrote: Bool = false, refused: Bool = false) {
            state.withLock { s in
                s.flushing = false
                if wrote { s.lastWrite = Date() }
                if refused { s.refused = true }
            }
        }

        var lastWrite: Date { state.withLock { $0.lastWrite } }

        /// Marks the unit ended once no flush holds its lines (a flush is one transaction: milliseconds).
        func end() {
            while true {
                let ended = state.withLock { s -> Bool in
                    if s.flushing { return false }
                    s.ended = true
                    return true
                }
                if ended { return }
                usleep(1_000)
            }
        }
    }

    /// Stops a unit's device work (or, while it loads, keeps it from starting).
    func haltUnit(_ id: Int64, status: Run.Status, reason: String) async {
        let work = state.withLock { s -> UnitWork? in
            if s.units[id] != nil, s.units[id]?.halted == nil { s.units[id]?.halted = (status, reason) }
            return s.units[id]
        }
        guard let work else { return }
        if let execution = work.execution { await execution.stop(status: status, reason: reason) }
        work.task?.cancel()
    }

    var unitQueueOn: Bool {
        database.capabilities.contains(.severalEngines) && environment.settings.engine.unitQueue && membership?.engineId != nil
    }

    /// Enqueues a claimed run's units; false when the run is not one to spread (it then runs whole).
    /// A service over devices gives one unit per device; so does a workflow with device traversal,
    /// each unit that device's whole walk (`RunExecution.runWorkflowUnit`), configuration-changing
    /// when any node the walk can reach is (`WorkflowGraph.changesConfiguration`) and capped across
    /// the engines by the workflow's `max_processes`. A workflow with service traversal, a service run
    /// once and a run without devices run whole.
    func spread(_ run: Run) async -> Bool {
        guard let id = run.id else { return false }
        do {
            let plan = try await database.query { store -> (Service, [Device], Bool)? in
                guard let service = try store.service(id: run.serviceId) else { return nil }
                if service.kind == .workflow {
                    guard WorkflowGraph.spreadsPerDevice(service) else { return nil }
                } else if service.runMethod != .perDevice {
                    return nil
                }
                guard let devices = try TargetResolver.devices(store, TargetResolver.targets(of: run, service: service)), !devices.isEmpty
                else { return nil }
                // A graph that does not load (no start node, a restart's node gone) runs whole: the
                // whole run fails with the error, once, as it always has.
                let mutating = service.kind == .workflow
                    ? try WorkflowGraph.load(store, service, startAt: run.restartFrom).changesConfiguration(store)
                    : service.changesConfiguration
                return (service, devices, mutating)
            }
            guard let (service, devices, mutating) = plan else { return false }
            let specs = devices.map {
                RunUnitSpec(serviceId: service.id ?? run.serviceId, serviceName: service.name, deviceId: $0.id, deviceName: $0.name,
                            mutating: mutating, maxProcesses: service.maxProcesses)
            }
            let what = service.kind == .workflow ? "workflow" : "service"
            var lines = [RunLogLine(runId: id, seq: 0, time: Date(), level: .info, device: "", service: service.name,
                                    message: "run \(id) of \(what) '\(service.name)' started by \(run.user) (\(run.trigger.rawValue)) on \(devices.count) device\(devices.count == 1 ? "" : "s"), spread over the engines")]
            if service.kind == .workflow, !run.restartFrom.isEmpty {
                lines.append(RunLogLine(runId: id, seq: 0, time: Date(), level: .info, device: "", service: service.name,
                                        message: "restarting from '\(run.restartFrom)' (restart of run \(run.restartOf.map(String.init) ?? "?"))"))
            }
            _ = try database.enqueueUnits(run: id, specs, lines: lines)
            log("run \(id) (\(run.serviceName)) spread as \(specs.count) unit\(specs.count == 1 ? "" : "s")\(mutating ? " (configuration-changing)" : "")")
            return true
        } catch {
            log("run \(id): cannot spread it over the engines (\(StoreError.describe(error))): it runs here whole")
            return false
        }
    }

    /// A spread run ended here (its last unit's finish, or this engine's housekeeping ending its last
    /// unit lost, or its stop): the run-end action a whole run's engine takes, its notification (the
    /// configurations are pushed by each engine that committed some, with its units: `startUnit`).
    /// Its lines go through the engine's journal, numbered after the run's last line (the run has
    /// ended: no other engine writes to it any more).
    func spreadRunEnded(_ runId: Int64) {
        state.withLock { _ = $0.unitRuns.removeValue(forKey: runId) }
        let environment = self.environment
        guard let final = try? database.query({ try $0.run(id: runId) }), final.status.isFinished else { return }
        try? environment.journal.open(run: runId)
        let execution = RunExecution(run: final, environment: environment)
        // Each engine's configuration changes stayed in its own unit executions: a `change`
        // notification reads the run's back from its snapshots (each against the device's previous one).
        if let changes = try? database.query({ store -> [RunEvents.ConfigChange] in
            // A backup service, or a workflow one of whose backup nodes ran: a whole run reports the
            // changes its backups saw, whatever node saw them. (Other runs read no snapshots.)
            guard let kind = try store.service(id: final.serviceId)?.kind, kind == .backup || kind == .workflow else { return [] }
            let results = try store.results(run: runId, device: nil)
            if kind == .workflow, try !Set(results.map(\.serviceId)).contains(where: { try store.service(id: $0)?.kind == .backup }) { return [] }
            var out: [RunEvents.ConfigChange] = []
            for device in Set(results.map(\.deviceName)).sorted() where !device.isEmpty {
                let history = try store.configSnapshots(device: device).sorted { ($0.id ?? 0) > ($1.id ?? 0) }
                guard let index = history.firstIndex(where: { $0.runId == runId }) else { continue }
                let stored = history[index], previous = history.indices.contains(index + 1) ? history[index + 1] : nil
                let diff = LineDiff.unified(previous?.content ?? "", stored.content,
                                            oldLabel: previous.map { "\(device) snapshot \($0.id ?? 0)" } ?? "/dev/null",
                                            newLabel: "\(device) snapshot \(stored.id ?? 0)")
                out.append(RunEvents.ConfigChange(device: device, diff: diff, commit: stored.gitCommit))
            }
            return out
        }) {
            for change in changes { execution.events.configChanged(device: change.device, diff: change.diff, commit: change.commit) }
        }
        execution.notifyEnd(final)
    }

    /// Claims units up to `automation.max_process` in flight on this engine. Each is registered in
    /// `state.units` before the claim step ends (under `unitClaims`, which the heartbeat takes too:
    /// it never sees a unit claimed and not yet registered, so it neither lets its lease lapse nor
    /// releases it), and only then loaded and started.
    func claimUnits() {
        guard unitQueueOn, let engineId = membership?.engineId else { return }
        let settings = environment.settings
        let free = max(1, settings.automation.maxProcess) - state.withLock { $0.units.count }
        if free <= 0 { return }
        let claimed: [RunUnit]
        do {
            claimed = try unitClaims.withLock { _ -> [RunUnit] in
                let claimed = try database.claimUnits(engine: EngineClaimant(pid: pid, host: host, id: engineId), limit: free,
                                                      leaseSeconds: EngineThresholds(settings).active)
                let redactor = environment.journal.secretRedactor
                state.withLock { s in
                    for unit in claimed {
                        guard let lease = unit.lease else { continue }
                        s.units[unit.id] = UnitWork(lease: lease, unit: unit, journal: RunJournal(database: database, redactor: redactor),
                                                    lastFlush: Date())
                    }
                }
                return claimed
            }
        } catch {
            log("cannot claim units: \(StoreError.describe(error))")
            return
        }
        for unit in claimed { startUnit(unit) }
    }

    /// A registered unit's entry is removed only by its own claim (a unit requeued and claimed here
    /// again is another claim, with its own entry).
    func forget(_ lease: UnitLease) {
        state.withLock { s in if s.units[lease.unitId]?.lease == lease { s.units[lease.unitId] = nil } }
    }

    func startUnit(_ unit: RunUnit) {
        guard let lease = unit.lease, let journal = state.withLock({ $0.units[unit.id]?.journal }) else { return }
        let environment = self.environment
        let unitEnvironment = RunEnvironment(database: database, settings: environment.settings, journal: journal,
                                             transport: environment.transport, targets: environment.targets)
        Task { [self] in
            let cached = state.withLock { $0.unitRuns[unit.runId] }
            let loaded: (UnitRunPlan, Device?)?
            do {
                loaded = try await database.query { store -> (UnitRunPlan, Device?)? in
                    guard let plan = try cached ?? UnitRunPlan.load(store, run: unit.runId, service: unit.serviceId) else { return nil }
                    return (plan, try store.device(named: unit.deviceName))
                }
            } catch { loaded = nil }
            if cached == nil, let plan = loaded?.0 {
                state.withLock { s in
                    if s.unitRuns.count >= UnitRunPlan.kept { s.unitRuns.removeAll() }
                    s.unitRuns[unit.runId] = plan
                }
            }
            guard let (plan, device) = loaded else {
                let end = try? database.finishUnit(lease, success: false, batch: JournalBatch(lines: [
                    RunLogLine(runId: unit.runId, seq: 0, time: Date(), level: .error, device: unit.deviceName, service: unit.serviceName,
                               message: "the run, its service or its device no longer exists")]))
                forget(lease)
                if end?.runEnded != nil { spreadRunEnded(unit.runId) }
                return
            }
            let run = plan.run, service = plan.service
            let execution = RunExecution(run: run, environment: unitEnvironment)
            let halted = state.withLock { s -> (status: Run.Status, reason: String)? in
                guard s.units[unit.id]?.lease == lease else { return nil }
                s.units[unit.id]?.execution = execution
                return s.units[unit.id]?.halted
            }
            // Stopped while it loaded: the execution starts stopped, and its unit ends unrecorded at once.
            if let halted { await execution.stop(status: halted.status, reason: halted.reason) }
            let work = Task { () async -> RunExecution.UnitOutcome in
                if service.kind == .workflow {
                    return await execution.runWorkflowUnit(service, graph: plan.graph, device: device, payload: run.parameters)
                }
                return await execution.runUnit(service, device: device, payload: run.parameters, previous: nil)
            }
            state.withLock { s in if s.units[unit.id]?.lease == lease { s.units[unit.id]?.task = work } }
            let outcome = await work.value
            await execution.sessions.closeAll()
            // This engine's commits of the run's configurations are pushed by it, as a whole run's
            // engine pushes at the run's end: once its last unit of the run in flight ends (its lines
            // go with the unit's end).
            let push = state.withLock { s -> Bool in
                if execution.events.gitUsed { s.unpushedRuns.insert(unit.runId) }
                let others = s.units.values.contains { $0.unit.runId == unit.runId && $0.lease != lease }
                return !others && s.unpushedRuns.remove(unit.runId) != nil
            }
            if push { await execution.pushConfigurations() }
            if let id = device?.id { journal.deviceFinished(id, status: outcome.success ? "success" : "failure") }
            finish(unit, lease: lease, journal: journal, success: outcome.success, recorded: outcome.recorded)
            forget(lease)
        }
    }

    /// Ends a unit through its lease, retried on transient errors (the lease lives by the heartbeat meanwhile).
    func finish(_ unit: RunUnit, lease: UnitLease, journal: RunJournal, success: Bool, recorded: Bool) {
        // No flush is under way once `end` returns, and none starts after: the end takes every line left.
        state.withLock { $0.units[unit.id]?.writer }?.end()
        finishLocked(unit, lease: lease, journal: journal, success: success, recorded: recorded)
    }

    private func finishLocked(_ unit: RunUnit, lease: UnitLease, journal: RunJournal, success: Bool, recorded: Bool) {
        // The store counts the unit's earlier claims in its results' attempts (`UnitLease.counted`).
        var batch = journal.take()
        if !recorded, state.withLock({ $0.units[unit.id]?.stopRequested ?? false }) {
            batch.lines.append(RunLogLine(runId: unit.runId, seq: 0, time: Date(), level: .warning, device: unit.deviceName,
                                          service: unit.serviceName, message: "stopped: the run's stop was requested"))
            if let end = try? database.stopUnit(lease, batch: batch), end.runEnded != nil { spreadRunEnded(unit.runId) }
            return
        }
        if !recorded {
            log("unit #\(unit.id) (\(unit.deviceName)) was stopped before its end: the heartbeat releases it (read-only: back in the queue; configuration-changing: lost)")
            return
        }
        var delay: useconds_t = 100_000
        for attempt in 0..<20 {
            do {
                let end = try database.finishUnit(lease, success: success, batch: batch)
                if !end.accepted {
                    log("unit #\(unit.id) (\(unit.deviceName)) is no longer this engine's (its lease expired): its result is not written")
                } else if let status = end.runEnded {
                    log("run \(unit.runId) \(status.rawValue) (its last unit ended here)")
                    spreadRunEnded(unit.runId)
                }
                return
            } catch {
                if attempt == 19 { log("unit #\(unit.id): cannot record its end: \(StoreError.describe(error))") }
                usleep(delay)
                delay = min(delay * 2, 2_000_000)
            }
        }
    }

    /// The first SIGTERM (or SIGINT): this engine serves nothing more, so the others, and `runs`,
    /// no longer count on it for queued units.
    func markDraining() {
        guard unitQueueOn, let engineId = membership?.engineId else { return }
        do { try database.markEngineDraining(engineId: engineId) } catch {
            log("cannot mark this engine draining: \(StoreError.describe(error))")
        }
    }

    /// This engine leaves (drained, stopped at once, or out of grace time; its heartbeat has stopped
    /// and none of its units is in flight): the units it still holds (stopped before their end) are
    /// released as its heartbeat would (read-only ones requeued, configuration-changing ones lost),
    /// stopped spread runs are ended, and the queued units that no other active engine could take
    /// end `interrupted`, their runs ending `interrupted` with `why` as a whole run does when its one
    /// engine shuts down. With another active engine the runs go on there.
    func leaveUnits(why: String) {
        guard unitQueueOn, let engineId = membership?.engineId else { return }
        let thresholds = EngineThresholds(environment.settings)
        let who = "the engine pid \(pid) on host \(host) (#\(engineId))"
        var delay: useconds_t = 100_000
        // A server restarting right now delays the leave, it does not skip it (about 20 s in all).
        for attempt in 0..<12 {
            do {
                try keepUnitLeases(engineId: engineId, thresholds)
                for run in try database.endStoppedUnitRuns() { spreadRunEnded(run) }
                let left = try database.leaveUnits(engineId: engineId, thresholds: thresholds) { interrupted, total in
                    "\(who) \(why) before \(interrupted) of \(total) device\(total == 1 ? "" : "s") ran, and no other active engine could take \(interrupted == 1 ? "it" : "them")"
                }
                for (run, count) in left.interrupted.sorted(by: { $0.key < $1.key }) {
                    log("run \(run): \(count) queued unit\(count == 1 ? "" : "s") interrupted (no other active engine could take \(count == 1 ? "it" : "them"))")
                }
                for run in left.endedRuns.keys.sorted() { spreadRunEnded(run) }
                return
            } catch {
                if attempt == 11 { log("cannot leave the unit queue: \(StoreError.describe(error)) (the next engine to start takes the queued units)") }
                usleep(delay)
                delay = min(delay * 2, 2_000_000)
            }
        }
    }

    /// About once a second per unit, from the engine's loop: a stop request of its run reaches it
    /// (stopped at once), and an aborting engine stops it. Its lines are not written here (the loop
    /// would wait for them, a second apart): `writeUnitLines`, from the `UnitFlusher` thread.
    func flushUnits() async {
        let now = Date()
        let abort = shutdownState == .abort
        let due = state.withLock { s -> [(Int64, UnitWork)] in
            s.units.filter { abort || now.timeIntervalSince($0.value.lastFlush) >= 1 }.map { ($0.key, $0.value) }
        }
        if due.isEmpty { return }
        let runs = Array(Set(due.map { $0.1.unit.runId }))
        let stops = Set((try? await database.query { store in try store.stopRequests(among: runs).map(\.run) }) ?? [])
        for (id, work) in due {
            if stops.contains(work.unit.runId), !work.stopRequested {
                state.withLock { $0.units[id]?.stopRequested = true }
                await haltUnit(id, status: .aborted, reason: "stopped")
                continue
            }
            if abort {
                await haltUnit(id, status: .interrupted, reason: "the engine (pid \(pid)) was stopped")
                continue
            }
            state.withLock { $0.units[id]?.lastFlush = now }
        }
    }

    /// Writes the lines of every unit this engine works on, in one store call (`writeUnitJournals`:
    /// one transaction whatever the number of units), called every `engine.log_flush_ms` by the
    /// `UnitFlusher` thread. A unit with nothing to write is still included about once a second, so a
    /// silent unit whose lease is gone is stopped as soon as a talkative one. A refused unit's lines
    /// are dropped and its device operation stopped (the lease is gone: another engine has the unit,
    /// or ended it lost); the others' are written. Not its result: a unit's result goes with its end
    /// (`finish`): written here, between the result and the end, it stayed beside the retry's when
    /// this engine died in between. A unit being ended, or ended, is skipped: the end takes its lines.
    func writeUnitLines() {
        let works = state.withLock { Array($0.units.values) }
        if works.isEmpty { return }
        let now = Date()
        var taken: [(work: UnitWork, batch: JournalBatch)] = []
        for work in works where work.writer.beginFlush() {
            let batch = work.journal.take(results: false)
            if batch.isEmpty, now.timeIntervalSince(work.writer.lastWrite) < 1 {
                work.writer.endFlush()
                continue
            }
            taken.append((work, batch))
        }
        if taken.isEmpty { return }
        let refused: Set<Int64>
        do {
            refused = try database.writeUnitJournals(taken.map { (lease: $0.work.lease, batch: $0.batch) })
        } catch {
            // Kept for the next flush (put back before the unit's end may take them).
            for (work, batch) in taken {
                work.journal.putBack(batch)
                work.writer.endFlush()
            }
            return
        }
        for (work, _) in taken {
            let lost = refused.contains(work.lease.unitId)
            work.writer.endFlush(wrote: true, refused: lost)
            if lost {
                log("unit #\(work.lease.unitId) is no longer this engine's (its lease expired): stopping its device operation")
                Task { await haltUnit(work.lease.unitId, status: .interrupted, reason: "the unit's lease was lost") }
            }
        }
    }
}
