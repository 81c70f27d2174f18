import Foundation
import Synchronization

/// Writes the lines of the units this engine works on (`EngineService.writeUnitLines`) every
/// `engine.log_flush_ms` on a thread of its own, as `JournalFlusher` does a whole run's: from the
/// engine's loop, once a second per unit and one transaction per unit, a spread run's lines reached
/// `logs --follow` a second or more late, and 50 units in flight held the loop for their writes.
/// Each wait is measured from the previous flush's start, so a slow flush does not stretch the interval.
final class UnitFlusher: Sendable {
    private let flush: @Sendable () -> Void
    private let interval: TimeInterval
    private let stopped = Mutex(false)
    private let done = DispatchSemaphore(value: 0)
    private let wake = DispatchSemaphore(value: 0)

    init(intervalMs: Int, flush: @escaping @Sendable () -> Void) {
        self.flush = flush
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
                flush()
            }
            done.signal()
        }
        thread.name = "unit-flush"
        thread.start()
    }

    /// Stops the thread and waits for it (units that remain write their lines with their end).
    func stop() {
        stopped.withLock { $0 = true }
        wake.signal()
        done.wait()
    }
}
