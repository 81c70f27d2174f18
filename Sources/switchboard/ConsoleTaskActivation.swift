import Console
import Engine
import Foundation
import Store

/// The console's `a` on a task: the scheduler's rule (`TaskActivation`), the same function
/// `switchboard task enable/disable` calls.
struct EngineTaskActivation: TaskActivating {
    func setActive(_ name: String, active: Bool, database: AppDatabase, user: String) throws -> String {
        if active {
            let o = try TaskActivation.enable(database, name: name, user: user, note: "from the console")
            return "task \(o.task.name) \(o.changed ? "enabled" : "was already enabled"); next fire \(TaskCommand.show(o.task.nextFire, o.task))"
        }
        let o = try TaskActivation.disable(database, name: name, user: user, note: "from the console")
        return "task \(o.task.name) \(o.changed ? "disabled" : "was already disabled")"
    }
}
