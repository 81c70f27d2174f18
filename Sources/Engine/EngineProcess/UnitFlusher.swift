import Foundation

/// Writes the lines of the units this engine works on (`EngineService.writeUnitLines`) every
/// `engine.log_flush_ms` on a thread of its own, as `JournalFlusher` does a whole run's: from the
/// engine's loop, once a second per unit and one transaction per unit, a spread run's lines reached
/// `logs --follow` a second or more late, and 50 units in flight held the loop for their writes.
final class UnitFlusher: Sendable {
    private let thread: PeriodicThread

    init(intervalMs: Int, flush: @escaping @Sendable () -> Void) {
        thread = PeriodicThread(name: "unit-flush", intervalMs: intervalMs, body: flush)
    }

    func start() { thread.start() }

    /// Stops the thread and waits for it (units that remain write their lines with their end).
    func stop() { thread.stop() }
}
