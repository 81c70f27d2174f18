import Foundation
import PostgresTestSupport
import Store
import StorePostgres
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// A connection lost while its COMMIT is on the way: the server committed, the client never heard.
/// A TCP relay between the backend and the test server forwards the COMMIT, then cuts both sides
/// without passing the answer on: what a server restart or a network cut can do at the worst moment.
final class PostgresCommitLostTests: XCTestCase {
    var server: PostgresTestServer!
    var database: String!
    var relay: CuttingRelay!
    var backend: PostgresBackend!

    override func setUpWithError() throws {
        server = try PostgresTestServer.require()
        database = try server.createDatabase("commit")
        relay = try CuttingRelay(to: server.port)
        let url = "postgres://\(server.passwordUser)@127.0.0.1:\(relay.port)/\(database!)?sslmode=disable"
        backend = try PostgresBackend(url: try PostgresURL(parsing: url, source: "test"), environment: ["PGPASSWORD": server.password])
        try backend.transaction { tx in
            try tx.upsert(service: Service(name: "nothing", kind: .wait, parameters: ["seconds": .int(0)]))
        }
    }

    override func tearDown() {
        backend = nil
        relay?.close()
    }

    /// The journal keeps a batch that failed and writes it again: a batch that had in fact landed
    /// would conflict on its lines at every flush, for ever. It is counted written instead, once.
    func testAJournalBatchWhoseCommitAnswerWasLostIsNotWrittenTwice() throws {
        let run = try backend.transaction { tx in try tx.enqueueRun(service: "nothing", trigger: .cli, user: "test") }
        let lines = (1...3).map { RunLogLine(runId: run.id!, seq: Int64($0), time: Date(), level: .info, device: "r1", service: "nothing", message: "line \($0)") }
        // A batch is one statement, its own transaction: forwarded, it commits; its answer is lost.
        relay.cut(afterClientSends: "INSERT INTO run_log")
        XCTAssertNoThrow(try backend.writeJournal(JournalBatch(lines: lines, results: [])), "the batch landed: no error to retry")
        XCTAssertEqual(relay.cuts, 1, "the relay cut the connection after the batch's statement")
        XCTAssertEqual(try server.psql(database, "SELECT count(*) FROM run_log"), "3")
        // A batch that did not land (the statement never reached the server) still fails, and the
        // journal keeps it.
        relay.cut(insteadOfSending: "INSERT INTO run_log")
        let more = [RunLogLine(runId: run.id!, seq: 4, time: Date(), level: .info, device: "r1", service: "nothing", message: "line 4")]
        XCTAssertThrowsError(try backend.writeJournal(JournalBatch(lines: more))) { error in
            XCTAssertEqual((error as? StoreError)?.kind, .connectionLost, "\(error)")
        }
        XCTAssertEqual(try server.psql(database, "SELECT count(*) FROM run_log"), "3")
        try backend.writeJournal(JournalBatch(lines: more))
        XCTAssertEqual(try server.psql(database, "SELECT count(*) FROM run_log"), "4")
    }

    /// A claim whose answer was lost made the runs `running` for this engine: they are returned,
    /// not left running for an engine that never heard of them.
    func testAClaimWhoseCommitAnswerWasLostReturnsTheRunsItMade() throws {
        let queued = try (0..<2).map { _ in try backend.transaction { tx in try tx.enqueueRun(service: "nothing", trigger: .cli, user: "test") } }
        relay.cut(afterClientSends: "COMMIT")
        let claimed = try backend.claimQueuedRuns(limit: 5, enginePid: 4242, at: Date())
        XCTAssertEqual(relay.cuts, 1)
        XCTAssertEqual(claimed.map(\.id), queued.map(\.id))
        XCTAssertEqual(claimed.map(\.status), [.running, .running])
        XCTAssertEqual(try server.psql(database, "SELECT string_agg(status || ' ' || engine_pid, ',' ORDER BY id) FROM run"), "running 4242,running 4242")
        XCTAssertEqual(try backend.claimQueuedRuns(limit: 5, enginePid: 4242, at: Date()).count, 0, "claimed once")
    }
}

/// A loopback TCP relay to a port: passes bytes both ways; once armed, after forwarding a client
/// message that contains a marker it passes nothing more back and closes both sides.
final class CuttingRelay: @unchecked Sendable {
    let port: Int
    private let target: Int
    private let listener: Int32
    private let lock = NSLock()
    private var marker: [UInt8]?
    private var sockets: [Int32] = []
    private var closed = false
    private var cutCount = 0

    var cuts: Int { lock.withLock { cutCount } }

    init(to target: Int) throws {
        self.target = target
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        listener = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { a -> Bool in
                bind(fd, a, length) == 0 && listen(fd, 16) == 0 && getsockname(fd, a, &length) == 0
            }
        }
        guard bound else { throw StoreError(.database, "relay: cannot listen: errno \(errno)") }
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    func cut(afterClientSends marker: String) { lock.withLock { self.marker = Array(marker.utf8); drop = false } }
    /// Cuts both sides instead of forwarding the client message that contains `marker`.
    func cut(insteadOfSending marker: String) { lock.withLock { self.marker = Array(marker.utf8); drop = true } }
    private var drop = false

    func close() {
        let all = lock.withLock { () -> [Int32] in closed = true; return sockets }
        shutdown(listener, Int32(SHUT_RDWR))
        Glibc.close(listener)
        for s in all { shutdown(s, Int32(SHUT_RDWR)) }
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 { if lock.withLock({ closed }) { return } else { continue } }
            let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = UInt16(target).bigEndian
            let connected = withUnsafePointer(to: &address) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
            }
            if !connected { Glibc.close(client); Glibc.close(upstream); continue }
            lock.withLock { sockets += [client, upstream] }
            let muted = Muted()
            Thread.detachNewThread { [self] in pump(from: client, to: upstream, muted: muted, watch: true) }
            Thread.detachNewThread { [self] in pump(from: upstream, to: client, muted: muted, watch: false) }
        }
    }

    final class Muted: @unchecked Sendable {
        private let lock = NSLock()
        private var value = false
        var isOn: Bool { lock.withLock { value } }
        func set() { lock.withLock { value = true } }
    }

    private func pump(from source: Int32, to destination: Int32, muted: Muted, watch: Bool) {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(source, &buffer, buffer.count)
            if n <= 0 { break }
            let chunk = Array(buffer[0..<n])
            var cutNow = false
            if watch, let m = lock.withLock({ marker }), Self.contains(chunk, m) {
                lock.withLock { marker = nil; cutCount += 1 }
                muted.set()
                cutNow = true
            }
            if !watch && muted.isOn { continue }
            if cutNow && lock.withLock({ drop }) {
                shutdown(source, Int32(SHUT_RDWR))
                shutdown(destination, Int32(SHUT_RDWR))
                break
            }
            if !Self.writeAll(destination, chunk) { break }
            if cutNow {
                // The server reads what was sent before it notices the client gone: it commits.
                usleep(300_000)
                shutdown(source, Int32(SHUT_RDWR))
                shutdown(destination, Int32(SHUT_RDWR))
                break
            }
        }
        shutdown(destination, Int32(SHUT_WR))
    }

    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard needle.count <= haystack.count else { return false }
        for i in 0...(haystack.count - needle.count) where haystack[i] == needle[0] {
            if Array(haystack[i..<(i + needle.count)]) == needle { return true }
        }
        return false
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n <= 0 { return false }
            offset += n
        }
        return true
    }
}
