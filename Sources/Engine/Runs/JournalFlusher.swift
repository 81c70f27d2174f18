import Foundation
import GRDB
import Synchronization

/// Flushes a `RunJournal` every `intervalMs` on a dedicated thread, so that how soon log lines reach
/// the database (and every process tailing them) does not depend on a free cooperative thread.
/// Each wait is measured from the previous flush's start, so a slow flush does not stretch the interval.
///
/// WAL checkpoints run on a thread and connection of their own, once a second. SQLite otherwise
/// checkpoints inside the commit that crosses 1,000 WAL pages, and such a commit (copying 4 MB and
/// syncing the database file) held the next flush back by up to 160 ms on a busy run.
final class JournalFlusher: Sendable {
    private let journal: RunJournal
    private let interval: TimeInterval
    private let stopped = Mutex(false)
    private let done = DispatchSemaphore(value: 0)
    private let wake = DispatchSemaphore(value: 0)
    private let checkpointDone = DispatchSemaphore(value: 0)
    private let checkpointWake = DispatchSemaphore(value: 0)
    private let trace = ProcessInfo.processInfo.environment["SWITCHBOARD_TRACE_FLUSH"] != nil

    init(journal: RunJournal, intervalMs: Int) {
        self.journal = journal
        self.interval = Double(max(1, intervalMs)) / 1000
    }

    func start() {
        let checkpointer = try? makeCheckpointer()
        let thread = Thread { [self] in
            var next = Date().addingTimeInterval(interval)
            while !stopped.withLock({ $0 }) {
                let wait = next.timeIntervalSinceNow
                if wait > 0 { _ = wake.wait(timeout: .now() + wait) }
                if stopped.withLock({ $0 }) { break }
                next = Date().addingTimeInterval(interval)
                let started = Date()
                try? journal.flush()
                if trace {
                    FileHandle.standardError.write(Data("flush \(Int(started.timeIntervalSince1970 * 1000)) \(Int(Date().timeIntervalSince(started) * 1000))\n".utf8))
                }
            }
            done.signal()
        }
        thread.name = "journal-flush"
        thread.start()
        let checkpointThread = Thread { [self] in
            while !stopped.withLock({ $0 }) {
                _ = checkpointWake.wait(timeout: .now() + 1)
                if stopped.withLock({ $0 }) { break }
                // PASSIVE: copies what no reader still needs, never waits for anyone.
                _ = try? checkpointer?.writeWithoutTransaction { db in try db.checkpoint(.passive) }
            }
            checkpointDone.signal()
        }
        checkpointThread.name = "wal-checkpoint"
        checkpointThread.start()
    }

    /// The engine's writer stops checkpointing at commit; a separate connection does it instead.
    /// Other processes keep SQLite's default, so the WAL is bounded even while the engine is down.
    private func makeCheckpointer() throws -> DatabaseQueue {
        let database = journal.database
        var config = Configuration()
        config.busyMode = .timeout(5)
        config.label = "switchboard-checkpoint"
        let queue = try DatabaseQueue(path: database.path, configuration: config)
        try database.writer.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_autocheckpoint = 0") }
        return queue
    }

    /// Stops the threads and waits for them (the caller flushes what remains).
    func stop() {
        stopped.withLock { $0 = true }
        wake.signal()
        checkpointWake.signal()
        done.wait()
        checkpointDone.wait()
    }
}
