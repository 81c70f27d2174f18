import Foundation
import PostgresNIO
import Store

/// The second connection of the console's device table read (`PostgresExecutor.deviceTable`): half
/// of the parts run on it, in the reading transaction's own snapshot (`SET TRANSACTION SNAPSHOT`
/// with the id `pg_export_snapshot()` gave), so that two server processes build parts at once (a
/// part of 10,000 devices is ~18 ms of one server process's time, and there are 8 in a row on one
/// connection) and this thread splits its parts while the reading thread splits the others. The
/// connection is borrowed as soon as the helper is made, so that a connect overlaps the read's
/// first query.
///
/// Every helper is either started (`start`) or cancelled (`cancel`), then waited for (`wait`);
/// when it fails (no connection, the snapshot refused, the connection lost) the reader runs the
/// helper's parts itself, in its own snapshot: the table is the same either way.
final class DeviceTableHelper: @unchecked Sendable {
    typealias Split = (_ text: String, _ devices: Int) -> DeviceTablePart?

    private let backend: PostgresBackend
    private let go = DispatchSemaphore(value: 0)
    private let done = DispatchSemaphore(value: 0)
    // Written before `go` is signalled, read by the helper's thread after it.
    private var snapshot: String?
    private var statements: [(sql: String, values: [PGValue])] = []
    private var split: Split?
    // Written by the helper's thread before `done` is signalled, read after `wait`.
    private var parts: [DeviceTablePart?] = []
    private var failed = false

    init(backend: PostgresBackend) {
        self.backend = backend
        DispatchQueue.global(qos: .userInitiated).async { self.run() }
    }

    /// Runs `statements` (each one part: its count and text, as `PostgresExecutor.deviceTableSQL`)
    /// in the snapshot `snapshot`, splitting each answer with `split`.
    func start(snapshot: String, statements: [(sql: String, values: [PGValue])], split: @escaping Split) {
        self.snapshot = snapshot; self.statements = statements; self.split = split
        go.signal()
    }

    /// Not needed (a small table): the borrowed connection goes back to the pool.
    func cancel() { go.signal() }

    /// Waits for the helper's parts: nil when it failed and the reader must run its statements.
    /// A part that did not split (a value held a separator) is nil, as in the reader's own.
    /// Any number of calls: the second returns at once.
    func wait() -> [DeviceTablePart?]? {
        done.wait()
        done.signal()
        return failed ? nil : parts
    }

    private func run() {
        work()
        // `split` holds the reader's date formatter, which must not outlive the reader's call: it is
        // let go (here, and in `work`'s locals, gone once it returned) before the reader may go on.
        split = nil
        done.signal()
    }

    private func work() {
        let connection = backend.borrowConnection()
        go.wait()
        guard let snapshot, let split else {
            if let connection { backend.checkIn(connection) }
            return
        }
        // Ids look like 00000003-0000001B-1: anything else is not put into SQL.
        guard let connection, snapshot.allSatisfy({ $0.isHexDigit || $0 == "-" }) else {
            failed = true
            connection.map { backend.checkIn($0) }
            return
        }
        StartTrace.mark("pg-devices-helper-start")
        let opening: [(sql: String, values: [PGValue])] = [
            ("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", []), ("SET TRANSACTION SNAPSHOT '\(snapshot)'", []),
        ]
        do {
            try connection.pipeline(opening + statements) { i, rows in
                guard i >= opening.count, let row = rows.first else { return }
                let count = Int(try row.value(0, as: Int64.self))
                guard count > 0 else { return }
                parts.append(split(try row.value(1, as: String?.self) ?? "", count))
                StartTrace.mark("pg-devices-helper-part \(i - opening.count)")
            }
            connection.send("COMMIT", reportFailure: false)
            backend.checkIn(connection)
        } catch {
            failed = true
            if (try? connection.query("ROLLBACK")) != nil { backend.checkIn(connection) } else { connection.close() }
        }
    }
}
