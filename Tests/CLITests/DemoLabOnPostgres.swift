import Foundation
import Lab
import PostgresTestSupport
import XCTest

/// The example network on the lab (real sshd) in a fresh database of the test server, as `demo`
/// sets it up: what the Fleet tests over the lab start from (each had its own copy of these steps).
struct DemoLabOnPostgres {
    /// The CLI on the database (`SWITCHBOARD_DB`), with the caller's extra environment.
    let cli: CLI
    let database: String
    let url: String
    /// The 18 example devices on the lab (`par-`, `lon-`, `nyc-`), by name.
    let devices: [String]

    /// Creates the database `name`, runs `demo --no-console` on free lab ports and reads the example
    /// devices back. Call `down()` when done (a `defer` right after), which stops the lab.
    static func start(_ server: PostgresTestServer, name: String, environment: [String: String] = [:],
                      file: StaticString = #filePath, line: UInt = #line) throws -> DemoLabOnPostgres {
        var cli = try CLI()
        let database = try server.createDatabase(name)
        let url = server.socketURL(database)
        cli.environment["SWITCHBOARD_DB"] = url
        for (key, value) in environment { cli.environment[key] = value }
        let demo = try cli.run(["demo", "--no-console", "--base-port", String(LabPorts.freeBasePort(devices: 20))])
        XCTAssertEqual(demo.status, 0, demo.stdout + demo.stderr, file: file, line: line)
        let devices = try server.psql(database, "SELECT string_agg(name, ',' ORDER BY name) FROM device WHERE name ~ '^(par|lon|nyc)-'")
            .trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",").map(String.init)
        XCTAssertEqual(devices.count, 18, "the example devices: \(devices)", file: file, line: line)
        return DemoLabOnPostgres(cli: cli, database: database, url: url, devices: devices)
    }

    /// Stops the lab.
    func down() { _ = try? cli.run(["lab", "down"], limit: 60) }
}
