import Foundation
import PostgresTestSupport
import Store
import StorePostgres
import XCTest

/// The real console in tmux on `--db postgres://…` (SWITCHBOARD_DB): the example network in a
/// database of the throwaway cluster, the device table, a filter, and a live run's tail that
/// wakes on LISTEN/NOTIFY.
final class PostgresConsoleE2ETests: XCTestCase {
    func testDeviceTableFilterAndALiveTailWakingOnNotify() throws {
        let server = try PostgresTestServer.require()
        let database = try server.createDatabase("console")
        let url = server.socketURL(database)
        let c = try TmuxConsole(width: 120, height: 30, database: url)
        defer { c.stop() }
        c.type("switchboard console")
        c.press("Enter")
        XCTAssertTrue(c.wait(for: "par-core1"), c.screen())
        XCTAssertTrue(c.lines[0].contains("db postgres://"), "the header names the database: \(c.lines[0])")
        // Filter with /.
        c.type("/lon-core")
        c.press("Enter")
        XCTAssertTrue(c.wait { $0.contains("lon-core2") && !$0.contains("par-core1") }, c.screen())
        c.press("Escape")
        XCTAssertTrue(c.wait(for: "par-core1"), c.screen())

        // A run another process is running (this test plays its engine): its tail in the console.
        let backend = try PostgresBackend(url: try PostgresURL(parsing: url, source: "test"), environment: [:])
        let service = try XCTUnwrap(try backend.query { try $0.services(workflows: false).first })
        let run = try backend.transaction { tx in
            try tx.enqueueRun(service: service.name, trigger: .cli, user: "alice", devices: ["par-core1"])
        }
        let claimed = try backend.claimQueuedRuns(limit: 1, enginePid: 999_999, at: Date())
        XCTAssertEqual(claimed.map(\.id), [run.id])
        c.command("runs")
        XCTAssertTrue(c.wait { $0.contains("running") && $0.contains(service.name) }, c.screen())
        c.type("L")
        XCTAssertTrue(c.wait(for: "run \(run.id!) log"), c.screen())
        // Each line shows well within the tail's safety-net poll (2 s on PostgreSQL): NOTIFY woke it.
        var delays: [Double] = []
        for seq in 1...5 {
            usleep(300_000)
            let started = Date()
            try backend.writeJournal(JournalBatch(lines: [RunLogLine(runId: run.id!, seq: Int64(seq), time: Date(), level: .info,
                                                                      device: "par-core1", service: service.name,
                                                                      message: "notify-line-\(seq)")]))
            XCTAssertTrue(c.wait(timeout: 5) { $0.contains("notify-line-\(seq)") }, c.screen())
            delays.append(Date().timeIntervalSince(started))
        }
        XCTAssertLessThan(delays.max() ?? 99, 0.8, "every line within 0.8 s of its commit (a 2 s poll would miss this): \(delays)")
        // Between commits the live tail reads (almost) nothing: no 100 ms poll of run_log, only the
        // safety net. The server's statistics count the scans of run_log (flushed about once a second).
        func runLogScans() throws -> Int {
            Int(try server.psql(database, "SELECT COALESCE(idx_scan, 0) + seq_scan FROM pg_stat_user_tables WHERE relname = 'run_log'")) ?? -1
        }
        usleep(1_500_000)
        let before = try runLogScans()
        sleep(4)
        let after = try runLogScans()
        XCTAssertGreaterThanOrEqual(before, 5, "the reads above were counted")
        XCTAssertLessThan(after - before, 10, "4 idle seconds of a live tail: \(after - before) scans of run_log (a 100 ms poll makes about 40)")
        // The server drops the console's LISTEN connection: it listens again on a new one, and the
        // lines after that still come at once.
        let listening = try server.psql(database, "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%' AND pid <> pg_backend_pid()")
        XCTAssertFalse(listening.isEmpty, "the console LISTENs")
        _ = try server.psql(database, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%' AND pid <> pg_backend_pid()")
        XCTAssertTrue(c.wait(timeout: 10) { _ in
            let now = (try? server.psql(database, "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%' AND pid <> pg_backend_pid()")) ?? ""
            return !now.isEmpty && now != listening
        }, "a new LISTEN connection")
        var relistened: [Double] = []
        for seq in 6...8 {
            usleep(300_000)
            let started = Date()
            try backend.writeJournal(JournalBatch(lines: [RunLogLine(runId: run.id!, seq: Int64(seq), time: Date(), level: .info,
                                                                      device: "par-core1", service: service.name,
                                                                      message: "notify-line-\(seq)")]))
            XCTAssertTrue(c.wait(timeout: 5) { $0.contains("notify-line-\(seq)") }, c.screen())
            relistened.append(Date().timeIntervalSince(started))
        }
        XCTAssertLessThan(relistened.max() ?? 99, 0.8, "after the LISTEN connection was dropped, still woken: \(relistened)")
        // The run's end reaches the tail too.
        var finished = claimed[0]
        finished.status = .completed
        finished.endedAt = Date()
        try backend.recordRunEnd(finished)
        XCTAssertTrue(c.wait(timeout: 5) { $0.contains("completed") }, c.screen())
        c.type("q")
        XCTAssertTrue(c.wait { $0.contains("e2e$") && !$0.contains("notify-line") }, c.screen())
    }
}
