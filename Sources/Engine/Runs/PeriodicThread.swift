import Foundation
import Synchronization

/// Calls `body` every `intervalMs` on a thread of its own, not a task: with 50 device operations on a
/// 2-core machine the cooperative pool's threads can all be busy for most of a second, and whatever
/// waits for one (a journal flush, every `logs --follow` reader behind it) waits that long. Each wait
/// is measured from the previous call's start, so a slow call does not stretch the interval.
/// Used by `JournalFlusher` (a whole run's lines) and `UnitFlusher` (the lines of spread runs' units).
final class PeriodicThread: Sendable {
    private let name: String
    private let body: @Sendable () -> Void
    private let interval: TimeInterval
    private let stopped = Mutex(false)
    private let done = DispatchSemaphore(value: 0)
    private let wake = DispatchSemaphore(value: 0)

    init(name: String, intervalMs: Int, body: @escaping @Sendable () -> Void) {
        self.name = name
        self.body = body
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
                body()
            }
            done.signal()
        }
        thread.name = name
        thread.start()
    }

    /// Stops the thread and waits for it (a call in progress ends first).
    func stop() {
        stopped.withLock { $0 = true }
        wake.signal()
        done.wait()
    }
}
