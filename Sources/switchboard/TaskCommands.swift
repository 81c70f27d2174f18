import ArgumentParser
import Engine
import Foundation
import Store

/// `switchboard task …`: scheduled tasks that launch a service or workflow.
struct TaskCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "task",
        abstract: "Schedule services and workflows: add, list, enable, disable, delete, next.",
        discussion: """
            The engine fires due tasks as runs with trigger `scheduler`. New tasks are inactive until \
            enabled (as in eNMS). Times are ISO 8601 (2026-06-01T02:30, with or without an offset such as \
            +02:00 or Z); without an offset they are read in the task's zone (--timezone, else local).
            """,
        subcommands: [TaskAddCommand.self, TaskListCommand.self, TaskEnableCommand.self, TaskDisableCommand.self,
                      TaskDeleteCommand.self, TaskNextCommand.self, TaskTickCommand.self])

    static var user: String { OSUser.name }

    static func load(_ store: any StoreReader, _ name: String) throws -> ScheduledTask {
        guard let t = try store.task(named: name) else {
            throw CommandFailure(message: "no task named '\(inert(name))'")
        }
        return t
    }

    /// A date in the task's zone with its offset, e.g. `2026-06-01 02:30:00 +02:00`.
    static func show(_ d: Date?, _ t: ScheduledTask) -> String {
        guard let d else { return "" }
        let zone = (try? TaskSchedule.zone(t.timezone)) ?? TimeZone(identifier: "UTC")!
        return TaskSchedule.describe(d, in: zone)
    }

    static func iso(_ d: Date?, _ t: ScheduledTask) -> JSONValue {
        guard let d else { return .null }
        let zone = (try? TaskSchedule.zone(t.timezone)) ?? TimeZone(identifier: "UTC")!
        let f = ISO8601DateFormatter()
        f.timeZone = zone
        f.formatOptions = [.withInternetDateTime]
        return .string(f.string(from: d))
    }

    static func summary(_ t: ScheduledTask) -> String {
        if let s = try? TaskSchedule(task: t) { return s.summary }
        switch t.scheduleKind {
        case .interval: return "every \(t.intervalSeconds ?? 0)s (invalid)"
        case .cron: return "cron \(t.cron) (invalid)"
        case .once: return "once (invalid)"
        }
    }
}

struct TaskAddCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add a scheduled task (inactive unless --enable).",
        discussion: """
            Exactly one of --every (30s, 5m, 2h, 1d, 1w, 1h30m), --cron (5 fields or @hourly, @daily, \
            @weekly, @monthly, @yearly) or --at (one run at a time). An interval counts from --start, \
            or from when the task is enabled. Misfire policy after downtime: skip (default: only the \
            next due time runs) or once (missed fires coalesce into one run).
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The task's name.") var name: String
    @Option(help: "The service or workflow to run.") var service: String
    @Option(help: ArgumentHelp("Run every DURATION.", valueName: "duration")) var every: String?
    @Option(help: ArgumentHelp("Run on a crontab schedule.", valueName: "expr")) var cron: String?
    @Option(help: ArgumentHelp("Run once at TIME.", valueName: "time")) var at: String?
    @Option(help: ArgumentHelp("Not before TIME (intervals count from it).", valueName: "time")) var start: String?
    @Option(help: ArgumentHelp("Not after TIME.", valueName: "time")) var end: String?
    @Option(help: ArgumentHelp("Devices replacing the service's targets (comma-separated).", valueName: "a,b")) var devices: [String] = []
    @Option(help: ArgumentHelp("Pools replacing the service's targets (comma-separated).", valueName: "p")) var pools: [String] = []
    @Option(name: .customLong("param"), help: ArgumentHelp("A payload variable; a value that reads as JSON keeps its type.", valueName: "k=v"))
    var params: [String] = []
    @Option(help: ArgumentHelp("Notify through CHANNEL when a run of the task ends as --notify-when says: mail, mail:ADDRESS[,ADDRESS], slack, mattermost, webhook (repeatable).", valueName: "channel"))
    var notify: [String] = []
    @Option(help: ArgumentHelp("When the task's runs notify: failure (default), success, always or change (a backup found a changed configuration).", valueName: "when"))
    var notifyWhen: String?
    @Option(help: ArgumentHelp("IANA time zone (default: local).", valueName: "zone")) var timezone: String?
    @Option(help: "skip or once.") var misfire: ScheduledTask.MisfirePolicy = .skip
    @Option(help: ArgumentHelp("How late a due time may still run (default 60s).", valueName: "duration")) var misfireGrace: String?
    @Option(help: "Runs of this task that may be queued or running at once.") var maxInstances: Int = 1
    @Option(help: "A description.") var description: String = ""
    @Flag(help: "Enable the task now.") var enable = false

    func run() throws {
        let now = Date()
        // Everything the command line alone can refuse, before the database is opened.
        var task: ScheduledTask
        let schedule: TaskSchedule
        do {
            if name.trimmingCharacters(in: .whitespaces).isEmpty { throw ScheduleError("name: empty") }
            let given = [every != nil, cron != nil, at != nil].filter { $0 }.count
            if given != 1 { throw ScheduleError("give exactly one of --every, --cron or --at") }
            let zone = try TaskSchedule.zone(timezone ?? "")
            let startDate = try start.map { try ScheduleTime.parse($0, field: "start", zone: zone) }
            let endDate = try end.map { try ScheduleTime.parse($0, field: "end", zone: zone) }
            if maxInstances < 1 { throw ScheduleError("max-instances: \(maxInstances) must be at least 1") }
            let rule: TaskSchedule.Rule
            if let every {
                task = ScheduledTask(name: name, serviceId: nil, scheduleKind: .interval)
                let seconds = try DurationParser.parse(every, field: "every")
                task.intervalSeconds = seconds
                rule = .interval(seconds: seconds)
            } else if let cron {
                task = ScheduledTask(name: name, serviceId: nil, scheduleKind: .cron)
                let c = try CronExpression(cron)
                task.cron = c.source
                rule = .cron(c)
            } else {
                task = ScheduledTask(name: name, serviceId: nil, scheduleKind: .once)
                if start != nil { throw ScheduleError("start: does not apply to --at (the task runs once, at its time)") }
                let when = try ScheduleTime.parse(at!, field: "at", zone: zone)
                if when <= now { throw ScheduleError("at: \(TaskSchedule.describe(when, in: zone)) is in the past") }
                rule = .once(when)
            }
            schedule = try TaskSchedule(rule: rule, start: startDate, end: endDate, timeZone: zone)
            if case .once(let when) = rule { task.startDate = when } else { task.startDate = schedule.start }
            task.endDate = schedule.end
            if let e = schedule.end, e <= now { throw ScheduleError("end: \(TaskSchedule.describe(e, in: zone)) has already passed") }
            if schedule.firstFire(now: now) == nil {
                throw ScheduleError("the schedule has no due time before its end \(schedule.end.map { TaskSchedule.describe($0, in: zone) } ?? "")")
            }
            task.timezone = timezone ?? ""
            task.misfirePolicy = misfire
            if let misfireGrace { task.misfireGraceSeconds = try DurationParser.parse(misfireGrace, field: "misfire-grace") }
            task.maxInstances = maxInstances
            task.description = description
            task.devices = TaskAddCommand.list(devices)
            task.pools = TaskAddCommand.list(pools)
            task.payload = try TaskAddCommand.parseParams(params)
            if let spec = try TaskAddCommand.notifySpec(channels: notify, when: notifyWhen) {
                if task.payload["notify"] != nil { throw ScheduleError("notify: give it with --notify, or with --param notify=…, not both") }
                task.payload["notify"] = spec
            } else if let given = task.payload["notify"] {
                do { _ = try NotifySpec.parse(given) } catch let e as StoreError { throw ScheduleError("param notify: \(e.message)") }
            }
        } catch let e as ScheduleError {
            throw CommandFailure.usage(e.message)
        }
        task.active = enable
        if enable { task.nextFire = schedule.firstFire(now: now) }

        let database = try global.openBackend()
        let stored = try database.transaction { store -> ScheduledTask in
            guard let service = try store.service(named: service), let sid = service.id else {
                throw CommandFailure(message: "service: no service or workflow named '\(inert(self.service))'")
            }
            for d in task.devices where try store.device(named: d) == nil {
                throw CommandFailure(message: "devices: no device named '\(inert(d))'")
            }
            for p in task.pools where try store.pool(named: p) == nil {
                throw CommandFailure(message: "pools: no pool named '\(inert(p))'")
            }
            if try store.task(named: task.name) != nil {
                throw CommandFailure(message: "a task named '\(inert(task.name))' already exists (delete it first)")
            }
            task.serviceId = sid
            let t = try store.upsert(task: task)
            try store.log(user: TaskCommand.user, "task '\(t.name)' created: \(schedule.summary) → \(service.name)\(enable ? ", enabled" : "")",
                              targetType: "task", targetName: t.name)
            return t
        }
        let zoneText = TaskSchedule.zoneLabel(stored.timezone)
        if enable {
            print("task '\(inert(stored.name))' added and enabled: \(schedule.summary), zone \(zoneText); next fire \(TaskCommand.show(stored.nextFire, stored))")
        } else {
            print("task '\(inert(stored.name))' added, inactive: \(schedule.summary), zone \(zoneText) (enable it with: switchboard task enable '\(inert(stored.name))')")
        }
    }

    static func list(_ values: [String]) -> [String] {
        values.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// `k=v` pairs; a value that reads as JSON (a number, true/false, a list…) keeps its type.
    /// `--notify CHANNEL … [--notify-when WHEN]` as the `notify` value a service would hold; nil when
    /// no channel is given. Refused (naming the option) when a channel or the `when` is not one.
    static func notifySpec(channels: [String], when: String?) throws -> JSONValue? {
        if channels.isEmpty {
            if let when { throw ScheduleError("notify-when: '\(when)' needs at least one --notify CHANNEL") }
            return nil
        }
        let value = JSONValue.object(["when": .string(when ?? "failure"), "channels": .array(channels.map(JSONValue.string))])
        do { _ = try NotifySpec.parse(value) } catch let e as StoreError { throw ScheduleError(e.message) }
        return value
    }

    static func parseParams(_ params: [String]) throws -> [String: JSONValue] {
        var out: [String: JSONValue] = [:]
        for p in params {
            guard let eq = p.firstIndex(of: "="), eq != p.startIndex else { throw ScheduleError("param: '\(p)' is not k=v") }
            let key = String(p[..<eq]), value = String(p[p.index(after: eq)...])
            if let v = try? JSONDecoder().decode(JSONValue.self, from: Data(value.utf8)) { out[key] = v } else { out[key] = .string(value) }
        }
        return out
    }
}

struct TaskListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List tasks: schedule, zone, active, next fire, last run.")
    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let database = try global.openBackend()
        let (tasks, services) = try database.query { store in (try store.tasks(), try store.serviceNames()) }
        if json {
            let rows: [JSONValue] = tasks.map { t in
                .object([
                    "name": .string(t.name), "service": t.serviceId.flatMap { services[$0] }.map(JSONValue.string) ?? .null,
                    "schedule": .string(TaskCommand.summary(t)), "schedule_kind": .string(t.scheduleKind.rawValue),
                    "interval_seconds": t.intervalSeconds.map(JSONValue.int) ?? .null, "cron": .string(t.cron),
                    "start": TaskCommand.iso(t.startDate, t), "end": TaskCommand.iso(t.endDate, t),
                    "timezone": .string(TaskSchedule.zoneLabel(t.timezone)), "active": .bool(t.active),
                    "next_fire": TaskCommand.iso(t.nextFire, t), "last_fire": TaskCommand.iso(t.lastFire, t),
                    "last_run_id": t.lastRunId.map { .int(Int($0)) } ?? .null,
                    "last_run_status": t.lastRunStatus.map(JSONValue.string) ?? .null,
                    "misfire_policy": .string(t.misfirePolicy.rawValue), "misfire_grace_seconds": .int(t.misfireGraceSeconds),
                    "max_instances": .int(t.maxInstances), "devices": .array(t.devices.map(JSONValue.string)),
                    "pools": .array(t.pools.map(JSONValue.string)),
                    "payload": .object(t.payload.filter { $0.key != "notify" }), "notify": t.payload["notify"] ?? .null,
                ])
            }
            print(String(decoding: try JSONEncoder.pretty.encode(JSONValue.array(rows)), as: UTF8.self))
            return
        }
        let columns = ["name", "service", "schedule", "zone", "active", "next fire", "last run"]
        let rows = tasks.map { t -> [String] in
            let last = t.lastRunStatus.map { s in t.lastRunId.map { "\(s) (#\($0))" } ?? s } ?? ""
            return [t.name, t.serviceId.flatMap { services[$0] } ?? "(none)", TaskCommand.summary(t),
                    TaskSchedule.zoneLabel(t.timezone), t.active ? "yes" : "no", t.active ? TaskCommand.show(t.nextFire, t) : "", last]
        }
        print(TableFormatter.format(columns: columns, rows: rows), terminator: "")
    }
}

struct TaskEnableCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "enable", abstract: "Enable a task: it fires from its next due time.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The task's name.") var name: String

    func run() throws {
        let database = try global.openBackend()
        let outcome: TaskActivation.Outcome
        do { outcome = try TaskActivation.enable(database, name: name, user: TaskCommand.user) }
        catch let e as StoreError { throw CommandFailure(message: inert(e.message)) }
        let task = outcome.task
        print("task '\(inert(task.name))' \(outcome.changed ? "enabled" : "was already enabled"); next fire \(TaskCommand.show(task.nextFire, task)) (\(TaskSchedule.zoneLabel(task.timezone)))")
    }
}

struct TaskDisableCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "disable", abstract: "Disable a task: it stops firing (runs already queued go on).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The task's name.") var name: String

    func run() throws {
        let database = try global.openBackend()
        let outcome: TaskActivation.Outcome
        do { outcome = try TaskActivation.disable(database, name: name, user: TaskCommand.user) }
        catch let e as StoreError { throw CommandFailure(message: inert(e.message)) }
        print("task '\(inert(name))' \(outcome.changed ? "disabled" : "was already disabled")")
    }
}

struct TaskDeleteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete a task (its past runs stay).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The task's name.") var name: String

    func run() throws {
        let database = try global.openBackend()
        try database.transaction { store in
            let t = try TaskCommand.load(store, name)
            try store.deleteTask(id: t.id!)
            try store.log(user: TaskCommand.user, "task '\(t.name)' deleted", targetType: "task", targetName: t.name)
        }
        print("task '\(inert(name))' deleted")
    }
}

struct TaskNextCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "next", abstract: "Show a task's next due times, in its zone.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The task's name.") var name: String
    @Option(help: "How many.") var count: Int = 5
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        if count < 1 || count > 10_000 { throw CommandFailure.usage("count: \(count) is not in 1…10000") }
        let database = try global.openBackend()
        let task = try database.query { store in try TaskCommand.load(store, name) }
        let schedule: TaskSchedule
        do { schedule = try TaskSchedule(task: task) } catch {
            throw CommandFailure(message: "task '\(inert(name))' has an unusable schedule: \(error)")
        }
        let now = Date()
        // An active task continues from its stored next fire; an inactive one as if enabled now.
        let from = task.active ? task.nextFire : nil
        let times = schedule.upcoming(now: now, count: count, from: from)
        if json {
            print(String(decoding: try JSONEncoder.pretty.encode(JSONValue.array(times.map { TaskCommand.iso($0, task) })), as: UTF8.self))
            return
        }
        if times.isEmpty {
            print("task '\(inert(name))' has no due time left")
            return
        }
        print("task '\(inert(name))': \(schedule.summary), zone \(TaskSchedule.zoneLabel(task.timezone))\(task.active ? "" : " (inactive: as if enabled now)")")
        for t in times { print("  " + TaskSchedule.describe(t, in: schedule.timeZone)) }
    }
}

/// Hidden: ticks the scheduler outside the engine, for tests and the benchmark. With --from/--to/--step
/// the clock is simulated (ticks as fast as it can, optionally paced); with --for it runs in real time
/// the way the engine loop does: tick, then sleep until the next wake (at most --cap).
struct TaskTickCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tick", abstract: "Tick the scheduler (for tests and benchmarks).",
                                                    shouldDisplay: false)
    @OptionGroup var global: GlobalOptions
    @Option(help: "Simulated clock: first tick (epoch seconds).") var from: Double?
    @Option(help: "Simulated clock: last tick (epoch seconds).") var to: Double?
    @Option(help: "Simulated clock: seconds between ticks.") var step: Double = 1
    @Option(help: "Wait until this wall-clock time (epoch seconds) before starting.") var startAt: Double?
    @Option(help: "Real milliseconds between the starts of simulated ticks.") var paceMs: Int = 0
    @Option(help: "Real time: run this many seconds.") var `for`: Double?
    @Option(help: "Real time: longest sleep between ticks, in seconds.") var cap: Double = 1
    @Flag(help: "One JSON object per event.") var json = false

    func run() throws {
        let database = try global.openBackend()
        if let startAt {
            let wait = startAt - Date().timeIntervalSince1970
            if wait > 0 { usleep(UInt32(wait * 1_000_000)) }
        }
        if let from, let to {
            let clock = ManualClock(Date(timeIntervalSince1970: from))
            let scheduler = Scheduler(database: database, clock: { clock.now }, user: "tick")
            // Paced against the wall clock, not by sleeping after each tick: step k starts at
            // start + k × pace, so a process that fell behind (a slow tick, a busy lock) catches up and
            // two processes on the same schedule keep reaching each simulated instant together. With
            // --start-at the schedule counts from that instant, so a process that woke late catches up.
            let paceStart = startAt.map { Date(timeIntervalSince1970: $0) } ?? Date()
            var t = from
            var k = 0
            while t <= to + 1e-9 {
                clock.now = Date(timeIntervalSince1970: t)
                emit(try scheduler.tick())
                k += 1
                if paceMs > 0 {
                    let delay = paceStart.addingTimeInterval(Double(k * paceMs) / 1000).timeIntervalSinceNow
                    if delay > 0 { usleep(UInt32(delay * 1_000_000)) }
                }
                t += step
            }
        } else if let seconds = self.for {
            let scheduler = Scheduler(database: database, user: "tick")
            let stop = Date().addingTimeInterval(seconds)
            while Date() < stop {
                emit(try scheduler.tick())
                let now = Date()
                let wake = min(try scheduler.nextWake() ?? now.addingTimeInterval(cap), now.addingTimeInterval(cap), stop)
                let delay = wake.timeIntervalSince(Date())
                if delay > 0 { usleep(UInt32(delay * 1_000_000)) }
            }
        } else {
            emit(try Scheduler(database: database, user: "tick").tick())
        }
    }

    func emit(_ events: [FireEvent]) {
        for e in events {
            if json {
                var o: [String: JSONValue] = ["task": .string(e.taskName), "due": .double(e.due.timeIntervalSince1970),
                                              "at": .double(e.at.timeIntervalSince1970), "missed": .int(e.missed)]
                switch e.outcome {
                case .fired(let id): o["outcome"] = .string("fired"); o["run"] = .int(Int(id))
                case .skipped(let r): o["outcome"] = .string("skipped"); o["reason"] = .string(r)
                case .finished(let r): o["outcome"] = .string("finished"); o["reason"] = .string(r)
                case .disabled(let r): o["outcome"] = .string("disabled"); o["reason"] = .string(r)
                }
                print(String(decoding: (try? JSONEncoder.sorted.encode(JSONValue.object(o))) ?? Data(), as: UTF8.self))
            } else {
                print(inert(e.description))
            }
        }
        fflush(nil)
    }
}

extension ScheduledTask.MisfirePolicy: ExpressibleByArgument {}
