import Foundation

/// An attempt that took longer than the service's timeout.
public struct AttemptTimeout: Error, CustomStringConvertible {
    public var seconds: Double
    public var description: String { "timed out after \(Deadline.format(seconds)) s" }
}

enum Deadline {
    /// Runs `body`, giving up after `seconds`. On time-out `onTimeout` runs first (it closes the
    /// device's connection, which is what makes a transport wait return), then the body is cancelled.
    static func run<T: Sendable>(seconds: Double, onTimeout: @escaping @Sendable () async -> Void,
                                 _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: Wrapped<T>.self) { group in
            group.addTask { Wrapped.value(try await body()) }
            group.addTask {
                try await Task.sleep(nanoseconds: UInt64(max(0, seconds) * 1_000_000_000))
                return .timedOut
            }
            defer { group.cancelAll() }
            switch try await group.next()! {
            case .value(let v):
                return v
            case .timedOut:
                await onTimeout()
                group.cancelAll()
                throw AttemptTimeout(seconds: seconds)
            }
        }
    }

    enum Wrapped<T: Sendable>: Sendable { case value(T), timedOut }

    static func format(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(format: "%.1f", seconds)
    }
}

/// Runs `body` over `items` with at most `limit` at a time, starting no new item once `shouldStart`
/// says no (a stop or a SIGTERM drain), and waiting for those already started.
func forEachConcurrently<T: Sendable>(_ items: [T], limit: Int, shouldStart: @escaping @Sendable () -> Bool,
                                      _ body: @escaping @Sendable (T) async -> Void) async {
    await withTaskGroup(of: Void.self) { group in
        var next = 0
        var running = 0
        while next < items.count || running > 0 {
            while running < max(1, limit) && next < items.count && shouldStart() {
                let item = items[next]
                next += 1
                running += 1
                group.addTask { await body(item) }
            }
            if running == 0 { break }
            await group.next()
            running -= 1
        }
    }
}
