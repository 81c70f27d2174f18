import Foundation

/// A clock that moves only when told: the scheduler's `clock` for tests and for `task tick`'s
/// simulated time. Thread-safe, since a scheduler may be ticked from several threads.
public final class ManualClock: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Date

    public init(_ start: Date) { value = start }

    public var now: Date {
        get { lock.lock(); defer { lock.unlock() }; return value }
        set { lock.lock(); value = newValue; lock.unlock() }
    }

    public func advance(_ seconds: TimeInterval) { lock.lock(); value = value.addingTimeInterval(seconds); lock.unlock() }
}
