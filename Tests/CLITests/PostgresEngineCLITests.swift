import Foundation
import PostgresTestSupport
import Store
import StorePostgres
import XCTest

/// The engine on PostgreSQL where it differs from SQLite: engines on several hosts (the lock holder's
/// pid means something only on its host) and connections lost while a run goes on.
final class PostgresEngineCLITests: XCTestCase {
    func testEngineStopNeverSignalsAPidOfThisHostWhenTheEngineRunsOnAnother() throws {
        let server = try PostgresTestServer.require()
        var cli = try CLI()
        let url = server.socketURL(try server.createDatabase("hosts"))
        cli.environment["SWITCHBOARD_DB"] = url
        XCTAssertEqual(try cli.run(["list", "devices"]).status, 0)  // creates the schema
        // A process of this host whose pid another host's engine also has.
        let victim = Process()
        victim.executableURL = URL(fileURLWithPath: "/bin/sleep")
        victim.arguments = ["30"]
        try victim.run()
        defer { if victim.isRunning { victim.terminate(); victim.waitUntilExit() } }
        // That other host's engine: the engine lock held by a session named as an engine names itself.
        let other = try PGConnection.connect(try PostgresURL(parsing: url, source: "test"), environment: [:])
        defer { other.close() }
        try other.query("SELECT set_config('application_name', $1, false)", [.text("switchboard-engine \(victim.processIdentifier)@elsewhere.example.net")])
        try other.query("SELECT pg_advisory_lock($1)", [.int(0x5357_454E)])

        let status = try cli.run(["engine", "--status"])
        XCTAssertEqual(status.status, 0, status.stderr)
        XCTAssertTrue(status.stdout.contains("pid \(victim.processIdentifier) on host elsewhere.example.net"), status.stdout)
        let stop = try cli.run(["engine", "--stop"])
        XCTAssertEqual(stop.status, 1)
        XCTAssertTrue(stop.stderr.contains("runs on host elsewhere.example.net"), stop.stderr)
        usleep(200_000)
        XCTAssertTrue(victim.isRunning, "engine --stop signalled a process of this host")
    }
}
