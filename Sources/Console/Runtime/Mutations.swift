import Foundation
import GRDB
import Store

/// The console's changes to the store.
enum Mutations {
    static func perform(_ mutation: Mutation, database: AppDatabase, user: String) throws -> String {
        switch mutation {
        case .delete(let kind, let names):
            guard let deletes = kind.descriptor.deletes else {
                throw StoreError.invalid("\(kind.title) cannot be deleted from the console")
            }
            try ConsoleStore(database: database).delete(deletes, names: names, noun: kind.noun, user: user,
                                                        note: "deleted from the console")
            return names.count == 1 ? "deleted \(kind.noun) \(names[0])" : "deleted \(names.count) \(kind.title)"
        case .setTaskActive(let name, let active):
            try database.writer.write { db in
                try db.execute(sql: "UPDATE task SET active = ? WHERE name = ?", arguments: [active, name])
                if db.changesCount == 0 { throw StoreError.notFound("no task named '\(name)'") }
                try Inventory.log(db, user: user, active ? "activated from the console" : "deactivated from the console",
                                  targetType: "task", targetName: name)
            }
            return "task \(name) \(active ? "active" : "inactive")"
        case .requestStop(let id):
            return try stop(id, database: database, user: user)
        }
    }

    /// Stops a run through `RunQueue.requestStop`, as `switchboard stop` does: a queued run is
    /// aborted at once, a running one is flagged for its engine.
    static func stop(_ id: Int64, database: AppDatabase, user: String) throws -> String {
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
