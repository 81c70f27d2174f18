import Glibc
import Synchronization

/// What one step of an operation achieved.
enum StepOutcome {
    /// The operation completed (its continuation was resumed); remove it.
    case finished
    /// libssh2 said EAGAIN and nothing moved: wait for the socket.
    case blocked
    /// Something moved but the operation is not done: step it again soon.
    case progressed
}

/// What an attempt closure reports.
enum Attempt<T> {
    case done(T)
    /// EAGAIN without progress.
    case wouldBlock
    /// EAGAIN after some progress (data consumed from libssh2's buffers, which no poll would
    /// announce): try again without waiting.
    case progressed
}

/// One thing in progress on a session, advanced by the session's loop thread.
///
/// Thread confinement: created on the caller's thread, then handed to the loop thread, which is the
/// only one to call `step`, `fail` (after it was added) and the poll hooks. `requestCancel()` and
/// `install(_:)` are the exceptions; they are atomic / locked.
class LoopOperation: @unchecked Sendable {
    /// Monotonic nanoseconds; nil for no deadline.
    let deadline: UInt64?
    private let cancelFlag = Atomic<Bool>(false)

    init(deadline: UInt64?) {
        self.deadline = deadline
    }

    /// Advances as far as possible without blocking. Runs on the loop thread.
    func step(_ driver: SessionDriver) -> StepOutcome { fatalError("subclass") }

    /// Ends the operation with an error (timeout, cancellation, connection lost). Called at most
    /// once, on the loop thread, instead of any further `step`.
    func fail(_ error: any Error) { fatalError("subclass") }

    /// The error for a passed deadline.
    func timeoutError() -> any Error { fatalError("subclass") }

    /// Socket events to wait for instead of libssh2's block directions (a TCP connect waits for
    /// POLLOUT before libssh2 has any direction to report); nil to follow libssh2.
    var socketEvents: Int16? { nil }

    /// Descriptors other than the session socket this operation waits on (tunnel socket pairs).
    func addPollDescriptors(_ descriptors: inout [pollfd]) {}

    var isCancelRequested: Bool { cancelFlag.load(ordering: .acquiring) }

    func requestCancel() { cancelFlag.store(true, ordering: .releasing) }
}

/// An operation that completes a Swift continuation with a value or an error.
class ContinuationOperation<T: Sendable>: LoopOperation, @unchecked Sendable {
    /// Locked: set by the awaiting task, taken by whichever thread completes the operation first.
    private let continuation = Mutex<CheckedContinuation<T, any Error>?>(nil)
    private let makeTimeoutError: @Sendable () -> any Error

    init(deadline: UInt64?, timeoutError: @escaping @Sendable () -> any Error) {
        self.makeTimeoutError = timeoutError
        super.init(deadline: deadline)
    }

    func install(_ continuation: CheckedContinuation<T, any Error>) {
        self.continuation.withLock { $0 = continuation }
    }

    func resume(_ result: Result<T, any Error>) {
        let taken = continuation.withLock { slot -> CheckedContinuation<T, any Error>? in
            defer { slot = nil }
            return slot
        }
        taken?.resume(with: result)
    }

    override func fail(_ error: any Error) { resume(.failure(error)) }
    override func timeoutError() -> any Error { makeTimeoutError() }
}

/// The common operation: an attempt closure retried until it is done or throws.
final class AttemptOperation<T: Sendable>: ContinuationOperation<T>, @unchecked Sendable {
    private let attempt: (SessionDriver) throws -> Attempt<T>
    private let events: Int16?

    init(deadline: UInt64?, socketEvents: Int16? = nil, timeoutError: @escaping @Sendable () -> any Error,
         attempt: @escaping (SessionDriver) throws -> Attempt<T>) {
        self.attempt = attempt
        self.events = socketEvents
        super.init(deadline: deadline, timeoutError: timeoutError)
    }

    override var socketEvents: Int16? { events }

    override func step(_ driver: SessionDriver) -> StepOutcome {
        do {
            switch try attempt(driver) {
            case .done(let value):
                resume(.success(value))
                return .finished
            case .wouldBlock: return .blocked
            case .progressed: return .progressed
            }
        } catch {
            resume(.failure(error))
            return .finished
        }
    }
}
