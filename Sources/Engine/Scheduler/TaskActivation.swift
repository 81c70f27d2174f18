import Foundation
import Store

/// Enabling and disabling a task: the one rule `switchboard task enable/disable` and the console's
/// `a` key both go through. Enabling checks the schedule, needs a service and sets `next_fire` to
/// the first due time from now (so a task re-enabled later is never taken for a missed fire);
/// disabling clears `next_fire`. Each change is one change-log entry; doing what is already done
/// changes nothing.
public enum TaskActivation {
    public struct Outcome: Sendable {
        /// The task as it now stands.
        public var task: ScheduledTask
        /// False when it already was as asked.
        public var changed: Bool
    }

    /// Enables the named task from `now`. Refusals are `StoreError`s naming the task and the reason.
    /// `note` is appended to the change-log entry ("from the console").
    @discardableResult
    public static func enable(_ database: any StoreBackend, name: String, user: String, now: Date = Date(), note: String = "") throws -> Outcome {
        try database.transaction { store in
            var t = try load(store, name)
            if t.active && t.nextFire != nil { return Outcome(task: t, changed: false) }
            let schedule: TaskSchedule
            do { schedule = try TaskSchedule(task: t) } catch {
                throw StoreError.invalid("task '\(name)' cannot be enabled: \(error)")
            }
            if t.serviceId == nil { throw StoreError.invalid("task '\(name)' cannot be enabled: it has no service") }
            guard let first = schedule.firstFire(now: now) else {
                throw StoreError.invalid("task '\(name)' cannot be enabled: no due time is left before its end date")
            }
            if case .once = schedule.rule, first <= now {
                throw StoreError.invalid("task '\(name)' cannot be enabled: its one-shot time \(TaskSchedule.describe(first, in: schedule.timeZone)) has passed")
            }
            t.active = true
            t.nextFire = first
            try store.setTaskActivation(id: t.id!, active: true, nextFire: first)
            try store.log(user: user, "task '\(t.name)' enabled" + (note.isEmpty ? "" : " " + note),
                              targetType: "task", targetName: t.name)
            return Outcome(task: t, changed: true)
        }
    }

    /// Disables the named task: it stops firing (runs already queued go on).
    @discardableResult
    public static func disable(_ database: any StoreBackend, name: String, user: String, note: String = "") throws -> Outcome {
        try database.transaction { store in
            var t = try load(store, name)
            let was = t.active
            try store.setTaskActivation(id: t.id!, active: false, nextFire: nil)
            if was {
                try store.log(user: user, "task '\(t.name)' disabled" + (note.isEmpty ? "" : " " + note),
                                  targetType: "task", targetName: t.name)
            }
            t.active = false
            t.nextFire = nil
            return Outcome(task: t, changed: was)
        }
    }

    static func load(_ store: any StoreReader, _ name: String) throws -> ScheduledTask {
        guard let t = try store.task(named: name) else {
            throw StoreError.notFound("no task named '\(name)'")
        }
        return t
    }
}
