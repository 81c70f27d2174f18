import Foundation
import GRDB
import XCTest
@testable import Store

final class AsyncReadTests: XCTestCase {
    /// The engine's pattern under load: many tasks, each mixing async reads with synchronous reads made
    /// from async code (more of both than there are readers and cooperative threads). With GRDB's own
    /// `try await writer.read` this hangs on a 2-core machine within moments: every reader is held by an
    /// async read waiting for a cooperative thread, every cooperative thread waits for a reader.
    func testAsyncAndSynchronousReadsFromAsyncCodeNeverDeadlock() throws {
        let t = try TempStore()
        let database = t.database
        let count = Counter()
        let finished = DispatchSemaphore(value: 0)
        // The test waits on its own thread, not the cooperative pool's: the wait times out if they all hang.
        Task.detached {
            await AsyncReadTests.readConcurrently(database, count)
            finished.signal()
        }
        XCTAssertEqual(finished.wait(timeout: .now() + 60), .success, "reads still blocked after 60 s: deadlock")
        XCTAssertEqual(count.value, 200 * 10 * 2)
    }

    static func readConcurrently(_ database: AppDatabase, _ count: Counter) async {
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<200 {
                group.addTask {
                    for _ in 0..<10 {
                        if (try? await database.read(Self.slowCount)) != nil { count.add() }
                        if (try? Self.synchronousRead(database)) != nil { count.add() }
                    }
                }
            }
        }
    }

    /// A read that takes a little while, so readers are busy when others want one.
    @Sendable static func slowCount(_ db: Database) throws -> Int {
        try Int.fetchOne(db, sql: "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000) SELECT COUNT(*) FROM c") ?? 0
    }

    /// Synchronous on purpose (a blocking read on whatever thread calls it), as `claimRuns` or a
    /// credential lookup in the engine.
    static func synchronousRead(_ database: AppDatabase) throws -> Int {
        try database.writer.read(slowCount)
    }

    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var n = 0
        func add() { lock.lock(); n += 1; lock.unlock() }
        var value: Int { lock.lock(); defer { lock.unlock() }; return n }
    }
}
