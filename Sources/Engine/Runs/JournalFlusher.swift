import Foundation
import Store
import Synchronization

/// Flushes a `RunJournal` every `intervalMs` on a dedicated thread, so that how soon log lines reach
/// the database (and every process tailing them) does not depend on a free cooperative thread.
/// Each wait is measured from the previous flush's start, so a slow flush does not stretch the interval.
///
/// Beside it runs the store's own maintenance, when its backend has some (`engineMaintenance`: SQLite's
/// WAL checkpoints, on a thread and connection of their own, so no flush's commit pays for one).
final class JournalFlusher: Sendable {
    private let journal: RunJournal
    private let interval: TimeInterval
    private let stopped = Mutex(false)
    private let done = DispatchSemaphore(value: 0)
    private let wake = DispatchSemaphore(value: 0)
    private let maintenance = Mutex<(any StoreMaintenance)?>(nil)
    private let trace = ProcessInfo.processInfo.environment["SWITCHBOARD_TRACE_FLUSH"] != nil

    init(journal: RunJournal, intervalMs: Int) {
        self.journal = journal
        self.interval = Double(max(1, intervalMs)) / 1000
    }

    func start() {
        if journal.database.capabilities.contains(.engineMaintenance) {
            let started = journal.database.startMaintenance()
            maintenance.withLock { $0 = started }
        }
        let thread = Thread { [self] in
            var next = Date().addingTimeInterval(interval)
            while !stopped.withLock({ $0 }) {
                let wait = next.timeIntervalSinceNow
                if wait > 0 { _ = wake.wait(timeout: .now() + wait) }
                if stopped.withLock({ $0 }) { break }
                next = Date().addingTimeInterval(interval)
                let started = Date()
                var failure = ""
                do { try journal.flush() } catch { failure = " failed: \(error)" }
                if trace {
                    FileHandle.standardError.write(Data("flush \(Int(started.timeIntervalSince1970 * 1000)) \(Int(Date().timeIntervalSince(started) * 1000))\(failure)\n".utf8))
                }
            }
            done.signal()
        }
        thread.name = "journal-flush"
        thread.start()
    }

    /// Stops the threads and waits for them (the caller flushes what remains).
    func stop() {
        stopped.withLock { $0 = true }
        wake.signal()
        done.wait()
        maintenance.withLock { m in m?.stop(); m = nil }
    }
}
