import Console
import Engine
import Foundation
import Store

/// The console's `a` on a task: the scheduler's rule (`TaskActivation`), the same function
/// `switchboard task enable/disable` calls.
struct EngineTaskActivation: TaskActivating {
    func setActive(_ name: String, active: Bool, database: any StoreBackend, user: String) throws -> String {
        if active {
            let o = try TaskActivation.enable(database, name: name, user: user, note: "from the console")
            return "task \(o.task.name) \(o.changed ? "enabled" : "was already enabled"); next fire \(TaskCommand.show(o.task.nextFire, o.task))"
        }
        let o = try TaskActivation.disable(database, name: name, user: user, note: "from the console")
        return "task \(o.task.name) \(o.changed ? "disabled" : "was already disabled")"
    }
}

/// A task's Describe view in the console: the next due times as `switchboard task next` computes
/// them (an active task continues from its stored next fire; an inactive one as if enabled now).
extension EngineTaskActivation: TaskScheduleReading {
    func upcoming(_ task: ScheduledTask, count: Int, now: Date) throws -> (summary: String, times: [String]) {
        let schedule = try TaskSchedule(task: task)
        let times = schedule.upcoming(now: now, count: count, from: task.active ? task.nextFire : nil)
        return (schedule.summary, times.map { TaskSchedule.describe($0, in: schedule.timeZone) })
    }
}
