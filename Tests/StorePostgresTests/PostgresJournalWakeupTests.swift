import Foundation
import PostgresTestSupport
import Store
import StorePostgres
import XCTest

/// A journal flush's wake-up carries its lines: `logs --follow` prints them without reading them back.
final class PostgresJournalWakeupTests: XCTestCase {
    var server: PostgresTestServer!
    var backend: PostgresBackend!
    var run: Int64 = 0

    override func setUpWithError() throws {
        server = try PostgresTestServer.require()
        let database = try server.createDatabase("wakeup")
        backend = try PostgresBackend(url: try PostgresURL(parsing: server.socketURL(database), source: "test"), environment: [:])
        run = try backend.transaction { tx -> Int64 in
            try tx.upsert(service: Service(name: "nothing", kind: .wait, parameters: ["seconds": .int(0)]))
            return try tx.enqueueRun(service: "nothing", trigger: .cli, user: "test").id!
        }
    }

    override func tearDown() { backend = nil }

    func line(_ seq: Int64, _ message: String) -> RunLogLine {
        RunLogLine(runId: run, seq: seq, time: Date(timeIntervalSince1970: 1_780_000_000.123456), level: .warning,
                   device: "r1", service: "show \"version\"", message: message)
    }

    func testAFlushsWakeUpCarriesItsLinesAsStored() throws {
        let waiter = try XCTUnwrap(backend.changeWaiter())
        let lines = [line(1, "first"), line(2, "ünïcode ✓ and \"quotes\"\tand a tab"), line(3, "")]
        try backend.writeJournal(JournalBatch(lines: lines))
        XCTAssertTrue(waiter.wait(timeoutMs: 5_000))
        let carried = waiter.takeCarriedLines()
        let stored = try backend.query { try $0.logLines(run: run, after: 0, device: nil, limit: 10) }
        XCTAssertEqual(carried, stored, "the lines as a read returns them")
        XCTAssertEqual(carried.map(\.message), lines.map(\.message))
        XCTAssertEqual(waiter.takeCarriedLines(), [], "taken once")

        // A commit that is not a flush wakes without lines; a flush too large for a payload too.
        _ = try backend.transaction { tx in try tx.upsert(service: Service(name: "other", kind: .wait, parameters: ["seconds": .int(0)])) }
        try backend.writeJournal(JournalBatch(lines: [line(4, String(repeating: "x", count: 8_000))]))
        try backend.writeJournal(JournalBatch(lines: [line(5, "after the large one")]))
        let deadline = Date().addingTimeInterval(5)
        var later: [RunLogLine] = []
        while Date() < deadline, later.last?.seq != 5 {
            waiter.wait(timeoutMs: 200)
            later += waiter.takeCarriedLines()
        }
        XCTAssertEqual(later.map(\.seq), [5], "line 4 was not carried: a reader finds the gap and reads")
    }
}
