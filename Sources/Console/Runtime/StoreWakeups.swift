import Foundation
import Store
import Synchronization

/// How many times the store may have changed, as this console knows it: the change stamp of a
/// backend without one (PostgreSQL). An equal count means no wake-up came in between, so a
/// periodic refresh reads nothing.
public final class StoreChangeCounter: Sendable {
    let count = Atomic<Int64>(0)
    public init() {}
    public var stamp: StoreStamp { StoreStamp(values: [count.load(ordering: .acquiring)]) }
    public func bump() { count.add(1, ordering: .releasing) }
}

/// The console's wake-ups on a backend that has them but no change stamp (PostgreSQL: LISTEN/NOTIFY
/// through `changeWaiter()`): a thread sleeps on the waiter; each commit elsewhere bumps the counter
/// and posts `.storeChanged`, which makes the top view (a live log tail, a table, the pulse) read
/// now. NOTIFY is a hint, never the only path: without a wake-up for `safetyNetSeconds`, the
/// counter moves anyway (a slow poll), so a lost notification delays a view, never freezes it. A
/// waiter whose LISTEN connection is gone (a server restart) is replaced by a new one, and the
/// counter moves once for what may have been missed meanwhile.
final class StoreWakeups: @unchecked Sendable {
    let counter = StoreChangeCounter()
    private let stopped = Atomic<Bool>(false)
    static let safetyNetSeconds = 15.0

    /// Nil when the backend has a stamp (SQLite: the file and WAL are the stamp) or no wake-ups.
    static func start(_ backend: any StoreBackend, post: @escaping @Sendable (Event) -> Void) -> StoreWakeups? {
        let caps = backend.capabilities
        guard !caps.contains(.changeStamp), caps.contains(.changeWakeups), let waiter = backend.changeWaiter() else { return nil }
        let w = StoreWakeups()
        let box = WaiterBox(waiter)
        let thread = Thread { [w] in
            var quiet = Date()
            while !w.stopped.load(ordering: .relaxed) {
                if !box.waiter.isAlive {
                    guard let fresh = backend.changeWaiter() else { Thread.sleep(forTimeInterval: 1); continue }
                    box.waiter = fresh
                    quiet = Date()
                    w.counter.bump()
                    post(.storeChanged)
                    continue
                }
                if box.waiter.wait(timeoutMs: 500) {
                    quiet = Date()
                    w.counter.bump()
                    post(.storeChanged)
                } else if Date().timeIntervalSince(quiet) >= safetyNetSeconds {
                    quiet = Date()
                    w.counter.bump()
                    post(.storeChanged)
                }
            }
        }
        thread.name = "store-wakeups"
        thread.start()
        return w
    }

    func stop() { stopped.store(true, ordering: .relaxed) }

    private final class WaiterBox: @unchecked Sendable {
        var waiter: any StoreChangeWaiting
        init(_ waiter: any StoreChangeWaiting) { self.waiter = waiter }
    }
}
