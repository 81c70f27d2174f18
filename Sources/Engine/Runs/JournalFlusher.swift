import Foundation
import Store
import Synchronization

/// Flushes a `RunJournal` every `intervalMs` on a dedicated thread (`PeriodicThread`), so that how
/// soon log lines reach the database (and every process tailing them) does not depend on a free
/// cooperative thread.
///
/// Beside it runs the store's own maintenance, when its backend has some (`engineMaintenance`: SQLite's
/// WAL checkpoints, on a thread and connection of their own, so no flush's commit pays for one).
final class JournalFlusher: Sendable {
    private let journal: RunJournal
    private let thread: PeriodicThread
    private let maintenance = Mutex<(any StoreMaintenance)?>(nil)

    init(journal: RunJournal, intervalMs: Int) {
        self.journal = journal
        let trace = ProcessInfo.processInfo.environment["SWITCHBOARD_TRACE_FLUSH"] != nil
        thread = PeriodicThread(name: "journal-flush", intervalMs: intervalMs) {
            let started = Date()
            var failure = ""
            do { try journal.flush() } catch { failure = " failed: \(error)" }
            if trace {
                FileHandle.standardError.write(Data("flush \(Int(started.timeIntervalSince1970 * 1000)) \(Int(Date().timeIntervalSince(started) * 1000))\(failure)\n".utf8))
            }
        }
    }

    func start() {
        if journal.database.capabilities.contains(.engineMaintenance) {
            let started = journal.database.startMaintenance()
            maintenance.withLock { $0 = started }
        }
        thread.start()
    }

    /// Stops the threads and waits for them (the caller flushes what remains).
    func stop() {
        thread.stop()
        maintenance.withLock { m in m?.stop(); m = nil }
    }
}
