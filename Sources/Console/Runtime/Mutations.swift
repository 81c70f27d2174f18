import Foundation
import Store

/// Enables and disables scheduled tasks by the scheduler's rule (schedule checked, `next_fire`
/// set from now, or cleared): the executable passes one built on Engine's `TaskActivation`, the
/// function `switchboard task enable/disable` calls. The console itself depends on the store only.
public protocol TaskActivating: Sendable {
    /// Enables or disables the task; returns what to say ("task nightly enabled; next fire …").
    func setActive(_ name: String, active: Bool, database: any StoreBackend, user: String) throws -> String
}

/// The console's changes to the store, each through the store's (or the engine's) own rule.
enum Mutations {
    static func perform(_ mutation: Mutation, database: any StoreBackend, user: String, tasks: (any TaskActivating)?) throws -> String {
        switch mutation {
        case .delete(let kind, let names):
            guard let deletes = kind.descriptor.deletes else {
                throw StoreError.invalid("\(kind.title) cannot be deleted from the console")
            }
            try ConsoleStore(backend: database).delete(deletes, names: names, noun: kind.noun, user: user,
                                                        note: "deleted from the console")
            return names.count == 1 ? "deleted \(kind.noun) \(names[0])" : "deleted \(names.count) \(kind.title)"
        case .setTaskActive(let name, let active):
            guard let tasks else {
                throw StoreError.invalid("task \(name) not changed: this console has no scheduler to enable or disable tasks with")
            }
            return try tasks.setActive(name, active: active, database: database, user: user)
        case .requestStop(let id):
            return try stop(id, database: database, user: user)
        }
    }

    /// Stops a run through `RunQueue.requestStop`, as `switchboard stop` does: a queued run is
    /// aborted at once, a running one is flagged for its engine.
    static func stop(_ id: Int64, database: any StoreBackend, user: String) throws -> String {
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
