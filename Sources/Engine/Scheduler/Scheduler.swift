import Foundation
import Store

/// What one tick did for one task.
public struct FireEvent: Sendable, Equatable, CustomStringConvertible {
    public enum Outcome: Sendable, Equatable {
        /// A run was queued for the due time.
        case fired(runId: Int64)
        /// The due time was not run: a previous run still going (`max_instances`), the misfire grace
        /// window passed under policy `skip`, the service is gone, or queueing failed.
        case skipped(reason: String)
        /// No due time is left (one-shot done, end date passed): the task was made inactive.
        case finished(reason: String)
        /// The stored schedule is unusable (an imported bad cron, an unknown zone): the task was made inactive.
        case disabled(reason: String)
    }

    public var taskId: Int64
    public var taskName: String
    /// The due time this event is about (for `fired`: the time the run is for).
    public var due: Date
    /// The clock when the tick handled it.
    public var at: Date
    /// Earlier due times in the same tick that did not get a run of their own (coalesced or skipped).
    public var missed: Int
    public var outcome: Outcome

    public var description: String {
        let when = ISO8601DateFormatter().string(from: due)
        switch outcome {
        case .fired(let id): return "task '\(taskName)' fired run \(id) for \(when)" + (missed > 0 ? " (\(missed) missed due time\(missed == 1 ? "" : "s") coalesced)" : "")
        case .skipped(let r): return "task '\(taskName)' skipped \(when): \(r)"
        case .finished(let r): return "task '\(taskName)' finished: \(r)"
        case .disabled(let r): return "task '\(taskName)' disabled: \(r)"
        }
    }
}

/// Fires due tasks as runs with trigger `scheduler`.
///
/// The engine calls `tick()` in its loop and sleeps until `nextWake()` (capped, so new and re-enabled
/// tasks are seen). Each due time fires exactly once, however many processes tick on the database: a tick
/// reads the due tasks inside one exclusive transaction (SQLite: `BEGIN IMMEDIATE`), and claims each
/// with a compare-and-set on its `next_fire` (`StoreTransaction.claimDueTask`: it moves only while it
/// still holds the value read) in the same transaction that queues its run, so a claim and its run commit together or not at all.
///
/// Misfires (a due time older than the task's grace window when the tick sees it, e.g. after the engine
/// was down): policy `skip` runs nothing for the missed times and waits for the next due time; policy
/// `once` runs one run for all of them. Either way the missed times are counted in the changelog.
/// `max_instances` (default 1): while that many runs of the task are queued or running, a due time is
/// skipped, with the reason in the changelog. Skips and finishes are also returned as `FireEvent`s.
///
/// Backstop: runs are unique per (task, due time) in both backends (`recordTaskFire` stamps the run's
/// `due_at`), so a second run for a due time is a conflict, which a tick takes as "another engine
/// fired it".
///
/// When nothing is due, a tick is three indexed or small read queries and no write transaction.
public final class Scheduler: Sendable {
    public let database: any StoreBackend
    public let clock: @Sendable () -> Date
    public let user: String

    /// Missed due times counted one by one up to this many (then reported as "more than").
    static let countLimit = 10_000

    public init(database: any StoreBackend, clock: @escaping @Sendable () -> Date = Date.init, user: String) {
        self.database = database; self.clock = clock; self.user = user
    }

    /// The earliest `next_fire` of an active task, the current time if an active task has none yet
    /// (the next tick schedules it), or nil when no active task is left.
    public func nextWake() throws -> Date? {
        let now = clock()
        return try database.query { store in
            if try store.hasUnscheduledActiveTask() { return now }
            return try store.earliestNextFire()
        }
    }

    /// Fires every due active task, schedules active tasks without a next fire, and copies finished run
    /// statuses into `last_run_status`. Returns what it did, one event per fire, skip or finish.
    @discardableResult
    public func tick() throws -> [FireEvent] {
        let now = clock()
        let work = try database.query { store in try store.schedulerHasWork(now: now) }
        if !work { return [] }
        return try database.exclusiveTransaction { store in try self.tick(store, now: now) }
    }

    func tick(_ db: any StoreTransaction, now: Date) throws -> [FireEvent] {
        var events: [FireEvent] = []
        try db.refreshTaskRunStatuses()

        // Active tasks with no next fire: enabled by import or by another tool. Schedule them.
        for task in try db.unscheduledActiveTasks() {
            guard let id = task.id else { continue }
            let schedule: TaskSchedule
            do { schedule = try TaskSchedule(task: task) } catch {
                try disable(db, task, now: now, reason: "\(error)", into: &events)
                continue
            }
            if let first = schedule.firstFire(now: now) {
                try db.scheduleFirstFire(taskId: id, at: first)
            } else {
                try finish(db, task, due: now, now: now, casValue: .none, reason: "no due time left (\(schedule.end.map { "end date " + TaskSchedule.describe($0, in: schedule.timeZone) + " passed" } ?? "the one-shot time passed"))", into: &events)
            }
        }

        let due = try db.dueTasks(now: now)
        if due.isEmpty { return events }
        // Runs of tasks still queued or running, read once per tick (not once per fire: `run` has no
        // index on task_id, and a backlog of queued runs would make each lookup a scan).
        var going = try db.pendingRunsByTask()
        for d in due {
            try fire(db, d.task, raw: d.token, now: now, going: &going, into: &events)
        }
        return events
    }

    func fire(_ db: any StoreTransaction, _ task: ScheduledTask, raw: FireToken, now: Date, going: inout [Int64: [Int64]], into events: inout [FireEvent]) throws {
        guard let id = task.id, let due = task.nextFire else { return }
        let schedule: TaskSchedule
        do { schedule = try TaskSchedule(task: task) } catch {
            try disable(db, task, now: now, reason: "\(error)", casValue: raw, into: &events)
            return
        }
        // The due times now reached: due, …, last (count of them), and the first one after now.
        var count = 1
        var last = due
        var moreThan = false
        let next: Date?
        let grace = TimeInterval(max(0, task.misfireGraceSeconds))
        if case .interval(let seconds) = schedule.rule {
            let step = TimeInterval(seconds)
            var k = Int(floor(now.timeIntervalSince(due) / step))
            if let end = schedule.end, due.addingTimeInterval(TimeInterval(k) * step) > end {
                k = max(0, Int(floor(end.timeIntervalSince(due) / step)))
            }
            count = k + 1
            last = due.addingTimeInterval(TimeInterval(k) * step)
            next = schedule.bounded(due.addingTimeInterval(TimeInterval(Int(floor(now.timeIntervalSince(due) / step)) + 1) * step))
        } else {
            var t = due
            while let n = schedule.next(after: t, anchor: due), n <= now {
                if count >= Self.countLimit {
                    moreThan = true
                    // Jump to the grace window: whether a due time falls in it decides the misfire.
                    if let g = schedule.next(after: max(t, now.addingTimeInterval(-grace - 1)), anchor: due), g <= now {
                        var u = g
                        while let m = schedule.next(after: u, anchor: due), m <= now { u = m }
                        last = u
                    } else {
                        last = n
                    }
                    break
                }
                count += 1
                last = n
                t = n
            }
            next = schedule.next(after: now, anchor: due)
        }

        // Claim this task's due time(s): only one tick, in any process, gets here for them.
        if try !db.claimDueTask(id: id, token: raw, next: next) { return }

        let late = now.timeIntervalSince(last) > grace
        let earlier = count - 1
        let zone = schedule.timeZone
        func when(_ d: Date) -> String { TaskSchedule.describe(d, in: zone) }
        let countText = moreThan ? "more than \(earlier)" : String(earlier)

        var reason: String? = nil
        if late && task.misfirePolicy == .skip {
            reason = "missed by \(DurationParser.format(Int(now.timeIntervalSince(last)))), beyond the \(task.misfireGraceSeconds) s grace window (misfire policy skip: waits for the next due time)"
        }
        if reason == nil, let runs = going[id], runs.count >= max(1, task.maxInstances) {
            let ids = runs.map { "#\($0)" }.joined(separator: ", ")
            reason = "\(runs.count == 1 ? "run" : "runs") \(ids) still queued or running (max_instances \(max(1, task.maxInstances)))"
        }
        var serviceName: String? = nil
        if reason == nil {
            serviceName = try task.serviceId.flatMap { try db.service(id: $0)?.name }
            if serviceName == nil { reason = "the task has no service (it was deleted or never imported)" }
        }
        if earlier > 0 {
            let what = reason == nil && task.misfirePolicy == .once
                ? "coalesced into one run (misfire policy once)"
                : reason == nil ? "skipped (misfire policy skip: only the latest due time within the grace window runs)" : "skipped"
            try log(db, task, now: now, severity: "warning",
                    "\(countText) earlier due time\(earlier == 1 ? "" : "s") from \(when(due)) missed, \(what)")
        }
        if let reason {
            try log(db, task, now: now, severity: "warning", "fire at \(when(last)) skipped: \(reason)")
            events.append(FireEvent(taskId: id, taskName: task.name, due: last, at: now, missed: earlier, outcome: .skipped(reason: reason)))
        } else if let serviceName {
            do {
                let runId = try db.savepoint { tx in
                    let run = try tx.enqueueRun(service: serviceName, trigger: .scheduler, user: user,
                                                devices: task.devices, pools: task.pools, parameters: task.payload, taskId: id)
                    try tx.recordTaskFire(taskId: id, at: last, run: run)
                    return run.id ?? 0
                }
                going[id, default: []].append(runId)
                events.append(FireEvent(taskId: id, taskName: task.name, due: last, at: now, missed: earlier, outcome: .fired(runId: runId)))
            } catch let e as StoreError where e.kind == .conflict {
                // The unique (task, due time) of runs: another engine fired this due time. The
                // compare-and-set above makes this unreachable while every ticker claims first; the
                // key holds whatever else writes runs.
                events.append(FireEvent(taskId: id, taskName: task.name, due: last, at: now, missed: earlier,
                                        outcome: .skipped(reason: "another engine already fired this due time")))
            } catch {
                let message = "could not queue a run: \(StoreError.describe(error))"
                try log(db, task, now: now, severity: "error", "fire at \(when(last)) skipped: \(message)")
                events.append(FireEvent(taskId: id, taskName: task.name, due: last, at: now, missed: earlier, outcome: .skipped(reason: message)))
            }
        }
        if next == nil {
            let why = schedule.end.map { "no due time before its end date \(when($0))" } ?? "its one-shot time \(when(last)) has passed"
            try log(db, task, now: now, severity: "info", "finished: \(why); made inactive")
            events.append(FireEvent(taskId: id, taskName: task.name, due: last, at: now, missed: 0, outcome: .finished(reason: why)))
        }
    }

    /// A task that will never fire again is made inactive, with its reason in the changelog.
    func finish(_ db: any StoreTransaction, _ task: ScheduledTask, due: Date, now: Date, casValue: FireToken, reason: String, into events: inout [FireEvent]) throws {
        guard let id = task.id else { return }
        if try !db.deactivateTask(id: id, ifNextFire: casValue) { return }
        try log(db, task, now: now, severity: "info", "finished: \(reason); made inactive")
        events.append(FireEvent(taskId: id, taskName: task.name, due: due, at: now, missed: 0, outcome: .finished(reason: reason)))
    }

    func disable(_ db: any StoreTransaction, _ task: ScheduledTask, now: Date, reason: String, casValue: FireToken = .none, into events: inout [FireEvent]) throws {
        guard let id = task.id else { return }
        if try !db.deactivateTask(id: id, ifNextFire: casValue) { return }
        try log(db, task, now: now, severity: "error", "disabled: its schedule is unusable: \(reason)")
        events.append(FireEvent(taskId: id, taskName: task.name, due: task.nextFire ?? now, at: now, missed: 0, outcome: .disabled(reason: reason)))
    }

    func log(_ db: any StoreTransaction, _ task: ScheduledTask, now: Date, severity: String, _ content: String) throws {
        var entry = ChangelogEntry(user: user, severity: severity, targetType: "task", targetName: task.name,
                                   content: "task '\(task.name)': \(content)")
        entry.time = now
        try db.append(entry)
    }
}
