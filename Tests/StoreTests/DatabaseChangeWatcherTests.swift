import Foundation
import GRDB
import XCTest
@testable import Store

/// The watcher `logs --follow` waits on: woken by another connection's commit, not by time passing
/// or by unrelated files in the directory.
final class DatabaseChangeWatcherTests: XCTestCase {
    func testWakesOnAnotherConnectionsCommitAndOnlyThen() throws {
        let t = try TempStore()
        let watcher = try XCTUnwrap(DatabaseChangeWatcher(databasePath: t.database.path))
        watcher.wait(timeoutMs: 0)  // whatever opening the database wrote
        var started = Date()
        XCTAssertFalse(watcher.wait(timeoutMs: 300), "nothing was written")
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 0.29)

        // A file beside the database is not the database.
        let dir = (t.database.path as NSString).deletingLastPathComponent
        try "x".write(toFile: dir + "/unrelated.txt", atomically: false, encoding: .utf8)
        XCTAssertFalse(watcher.wait(timeoutMs: 200))

        // A commit by another connection (as another process would make) wakes it long before the timeout.
        let other = try AppDatabase(path: t.database.path)
        let writer = Thread {
            usleep(100_000)
            try? other.writer.write { try Inventory.upsert($0, device: Device(name: "r9", address: "192.0.2.9")) }
        }
        started = Date()
        writer.start()
        XCTAssertTrue(watcher.wait(timeoutMs: 5_000))
        XCTAssertLessThan(Date().timeIntervalSince(started), 2.0)
    }
}
