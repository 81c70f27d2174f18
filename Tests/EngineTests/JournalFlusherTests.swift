@testable import Engine
import Foundation
import GRDB
import Store
import XCTest

/// The journal's flusher against a real SQLite file: WAL checkpoints happen beside the flushes, on
/// their own connection, and not inside the writer's commits.
final class JournalFlusherTests: XCTestCase {
    func testCheckpointsRunBesideTheFlushesNotInThem() throws {
        let dir = NSTemporaryDirectory() + "flusher-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let database = try AppDatabase(path: dir + "/switchboard.db")
        let journal = RunJournal(database: database, redactor: SecretRedactor(secrets: []))
        let flusher = JournalFlusher(journal: journal, intervalMs: 10)
        flusher.start()
        defer { flusher.stop() }
        let autocheckpoint = try database.writer.writeWithoutTransaction { try Int.fetchOne($0, sql: "PRAGMA wal_autocheckpoint") }
        XCTAssertEqual(autocheckpoint, 0, "the writer's commits no longer checkpoint")

        // About 8 MB of lines: far past the 1,000 pages at which a commit used to checkpoint.
        let message = String(repeating: "show version output ", count: 100)
        for i in 0..<4_000 { journal.log(run: 1, .info, device: "r\(i % 50)", message) }
        let deadline = Date().addingTimeInterval(20)
        while journal.linesWritten < 4_000 && Date() < deadline { usleep(20_000) }
        XCTAssertEqual(journal.linesWritten, 4_000)
        // The checkpoint thread copies the WAL into the database file within about a second.
        func size(_ path: String) -> Int { ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? 0 }
        while size(database.path) < 6_000_000 && Date() < deadline { usleep(50_000) }
        XCTAssertGreaterThan(size(database.path), 6_000_000, "the lines reached the database file, not only the WAL")
        let count = try database.writer.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM run_log") }
        XCTAssertEqual(count, 4_000)
    }

    /// A run another engine ended holds the seq of its closing line: the batch that conflicts is
    /// written run by run, the other runs' lines land, and the conflicting run's part is dropped
    /// instead of holding every later flush back.
    func testAConflictingRunDoesNotHoldBackTheOthersLines() throws {
        let dir = NSTemporaryDirectory() + "journal-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let database = try AppDatabase(path: dir + "/switchboard.db")
        let journal = RunJournal(database: database, redactor: SecretRedactor(secrets: []))
        journal.log(run: 1, .info, "one")
        journal.log(run: 2, .info, "two")
        try journal.flush()
        // Another engine's closing line for run 1, at the seq this journal will use next.
        try database.writeJournal(JournalBatch(lines: [RunLogLine(runId: 1, seq: 2, time: Date(), level: .error, device: "", service: "",
                                                                  message: "run interrupted: lost")]))
        journal.log(run: 1, .info, "late")
        journal.log(run: 2, .info, "still going")
        journal.progress(run: 2, done: 1, total: 2, failed: 0)
        try journal.flush()
        journal.log(run: 2, .info, "and on")
        try journal.flush()
        let lines = try database.writer.read { db in
            try String.fetchAll(db, sql: "SELECT run_id || ':' || seq || ':' || message FROM run_log ORDER BY run_id, seq")
        }
        XCTAssertEqual(lines, ["1:1:one", "1:2:run interrupted: lost", "2:1:two", "2:2:still going", "2:3:and on"])
    }
}
