import Foundation
import Synchronization

/// Flushes a `RunJournal` every `intervalMs` on a dedicated thread, so that how soon log lines reach
/// the database (and every process tailing them) does not depend on a free cooperative thread.
/// Each wait is measured from the previous flush's start, so a slow flush does not stretch the interval.
final class JournalFlusher: Sendable {
    private let journal: RunJournal
    private let interval: TimeInterval
    private let stopped = Mutex(false)
    private let done = DispatchSemaphore(value: 0)
    private let wake = DispatchSemaphore(value: 0)

    init(journal: RunJournal, intervalMs: Int) {
        self.journal = journal
        self.interval = Double(max(1, intervalMs)) / 1000
    }

    func start() {
        let thread = Thread { [self] in
            var next = Date().addingTimeInterval(interval)
            while !stopped.withLock({ $0 }) {
                let wait = next.timeIntervalSinceNow
                if wait > 0 { _ = wake.wait(timeout: .now() + wait) }
                if stopped.withLock({ $0 }) { break }
                next = Date().addingTimeInterval(interval)
                try? journal.flush()
            }
            done.signal()
        }
        thread.name = "journal-flush"
        thread.start()
    }

    /// Stops the thread and waits for it (the caller flushes what remains).
    func stop() {
        stopped.withLock { $0 = true }
        wake.signal()
        done.wait()
    }
}
