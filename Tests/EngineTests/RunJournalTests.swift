import Engine
import Foundation
import PostgresTestSupport
import Store
import StorePostgres
import XCTest

/// The journal's promise to a run's end: when `flush()` returns, every line and result logged before
/// it is committed, even while another flush (the flusher thread's) is still writing. A run's end is
/// recorded after a flush: a reader that sees the run finished must find all of its lines.
final class RunJournalTests: XCTestCase {
    /// The flusher thread's batch is held up (another session holds the run's row, which the batch's
    /// progress update waits for); a second flush, the one before a run's end, must wait for it
    /// rather than return at once with nothing of its own to write.
    func testAFlushReturnsOnlyOnceAFlushAlreadyWritingHasCommitted() throws {
        let store = try TestStore(.postgres, prefix: "journal")
        let run = try store.backend.transaction { tx -> Run in
            try tx.upsert(service: Service(name: "nothing", kind: .wait, parameters: ["seconds": .int(0)]))
            return try tx.enqueueRun(service: "nothing", trigger: .cli, user: "test")
        }
        let journal = RunJournal(database: store.backend, redactor: SecretRedactor(secrets: []))
        // Another session holds the run's row.
        let holder = try PGConnection.connect(try PostgresURL(parsing: store.location, source: "test"), environment: [:])
        defer { holder.close() }
        try holder.query("BEGIN")
        try holder.query("SELECT id FROM run WHERE id = $1 FOR UPDATE", [.int(Int(run.id!))])

        journal.log(run: run.id!, .info, "the last line")
        journal.progress(run: run.id!, done: 1, total: 1, failed: 0)
        let first = Thread { try? journal.flush() }
        first.start()
        usleep(500_000)  // the first flush has taken the batch and waits for the row
        DispatchQueue.global().asyncAfter(deadline: .now() + 1) { _ = try? holder.query("COMMIT") }
        let started = Date()
        try journal.flush()
        let waited = Date().timeIntervalSince(started)
        XCTAssertEqual(try store.int("SELECT COUNT(*) FROM run_log WHERE run_id = ?", [.int(Int(run.id!))]), 1,
                       "flush returned after \(waited) s with the line not yet committed")
        XCTAssertGreaterThan(waited, 0.5, "it waited for the other flush")
    }
}
