import Foundation
import GRDB
import Store
import XCTest

/// `switchboard config history` and `config diff` on snapshots seeded through the store API; history
/// and diff on SQLite and on PostgreSQL.
final class ConfigCLITests: XCTestCase {
    /// A database of `backend` with edge1 (three snapshots, the newest carrying an escape sequence)
    /// and edge2 (one), recorded through the backend-neutral API as a backup records them.
    func seeded(_ backend: ParityBackend = .sqlite) throws -> (CLI, [Int64]) {
        let cli = try CLI.on(backend)
        let csv = try cli.write("devices.csv", "name,address,platform\nedge1,192.0.2.1,cisco_ios\nedge2,192.0.2.2,cisco_ios\n")
        let imported = try cli.run(["import", csv])
        XCTAssertEqual(imported.status, 0, imported.stderr)
        let database = try cli.backend()
        let base = "hostname edge1\n!\ninterface Gi0/1\n description uplink\n!\nntp server 192.0.2.123\nend\n"
        let ids: [Int64] = try database.transaction { store in
            let edge1 = try store.device(named: "edge1")!.id!
            let edge2 = try store.device(named: "edge2")!.id!
            let a = try store.recordConfig(deviceId: edge1, runId: 7, content: base)!
            XCTAssertNil(try store.recordConfig(deviceId: edge1, runId: 8, content: base), "unchanged: not stored")
            let b = try store.recordConfig(deviceId: edge1, runId: 9, content: base.replacingOccurrences(of: "uplink", with: "uplink to core"))!
            let c = try store.recordConfig(deviceId: edge1, runId: nil,
                                           content: base.replacingOccurrences(of: "uplink", with: "uplink to core")
                                               .replacingOccurrences(of: "ntp server 192.0.2.123", with: "banner motd \u{1b}[2J^C"))!
            _ = try store.recordConfig(deviceId: edge2, runId: 7, content: "hostname edge2\n")
            return [a.id!, b.id!, c.id!]
        }
        return (cli, ids)
    }

    func testHistoryNewestFirstAsTableAndJSON() throws { try historyNewestFirstAsTableAndJSON(.sqlite) }
    func testHistoryNewestFirstAsTableAndJSONOnPostgreSQL() throws { try historyNewestFirstAsTableAndJSON(.postgres) }
    func testDiffDefaultsToTheTwoLatestAndTakesIds() throws { try diffDefaultsToTheTwoLatestAndTakesIds(.sqlite) }
    func testDiffDefaultsToTheTwoLatestAndTakesIdsOnPostgreSQL() throws { try diffDefaultsToTheTwoLatestAndTakesIds(.postgres) }

    func historyNewestFirstAsTableAndJSON(_ backend: ParityBackend) throws {
        let (cli, ids) = try seeded(backend)
        let table = try cli.run(["config", "history", "edge1"])
        XCTAssertEqual(table.status, 0, table.stderr)
        let lines = table.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, 4, table.stdout)
        XCTAssertTrue(lines[0].hasPrefix("ID"))
        XCTAssertEqual(lines.dropFirst().map { Int64($0.split(separator: " ")[0])! }, ids.reversed())
        XCTAssertTrue(lines[3].contains(" 7 "), "run id shown: \(lines[3])")
        let json = try cli.run(["config", "history", "edge1", "--json"])
        XCTAssertEqual(json.status, 0, json.stderr)
        let rows = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as! [[String: Any]]
        XCTAssertEqual(rows.map { ($0["id"] as! NSNumber).int64Value }, ids.reversed())
        XCTAssertEqual(rows.last?["lines"] as? Int, 7)
        XCTAssertEqual((rows.last?["sha256"] as? String)?.count, 64)
        XCTAssertTrue(rows.first?["run"] is NSNull)

        let empty = try cli.run(["config", "history", "edge2"])
        XCTAssertEqual(empty.status, 0)
        XCTAssertEqual(empty.stdout.split(separator: "\n").count, 2)
    }

    func diffDefaultsToTheTwoLatestAndTakesIds(_ backend: ParityBackend) throws {
        let (cli, ids) = try seeded(backend)
        let latest = try cli.run(["config", "diff", "edge1"])
        XCTAssertEqual(latest.status, 0, latest.stderr)
        XCTAssertTrue(latest.stdout.hasPrefix("--- snapshot \(ids[1]) ("), latest.stdout)
        XCTAssertTrue(latest.stdout.contains("+++ snapshot \(ids[2]) ("), latest.stdout)
        XCTAssertTrue(latest.stdout.contains("-ntp server 192.0.2.123\n+banner motd \\x1b[2J^C\n"), "inert output: \(latest.stdout)")
        XCTAssertFalse(latest.stdout.contains("\u{1b}"), "no escape sequence reaches the terminal")
        XCTAssertTrue(latest.stdout.contains("@@ -3,5 +3,5 @@\n interface Gi0/1\n"), latest.stdout)
        XCTAssertFalse(latest.stdout.contains("hostname edge1"), "more than 3 lines away: out of context")

        let firstToLast = try cli.run(["config", "diff", "edge1", String(ids[0]), String(ids[2])])
        XCTAssertEqual(firstToLast.status, 0, firstToLast.stderr)
        XCTAssertTrue(firstToLast.stdout.contains("@@ -1,7 +1,7 @@\n hostname edge1\n !\n interface Gi0/1\n- description uplink\n+ description uplink to core\n"), firstToLast.stdout)
        let oneGiven = try cli.run(["config", "diff", "edge1", String(ids[0])])
        XCTAssertEqual(oneGiven.stdout, firstToLast.stdout, "one id: against the latest")
        let same = try cli.run(["config", "diff", "edge1", String(ids[1]), String(ids[1])])
        XCTAssertEqual(same.status, 0)
        XCTAssertEqual(same.stdout, "")
    }

    func testErrorsAndExitCodes() throws {
        let (cli, ids) = try seeded()
        let unknown = try cli.run(["config", "history", "nosuch"])
        XCTAssertEqual(unknown.status, 1)
        XCTAssertTrue(unknown.stderr.contains("no device named 'nosuch'"), unknown.stderr)
        XCTAssertEqual(try cli.run(["config", "diff", "nosuch"]).status, 1)
        let single = try cli.run(["config", "diff", "edge2"])
        XCTAssertEqual(single.status, 1)
        XCTAssertTrue(single.stderr.contains("has 1 configuration snapshot; a diff needs two"), single.stderr)
        let foreign = try cli.run(["config", "diff", "edge2", String(ids[0])])
        XCTAssertEqual(foreign.status, 1, "another device's snapshot")
        XCTAssertTrue(foreign.stderr.contains("has no configuration snapshot \(ids[0])"), foreign.stderr)
        XCTAssertEqual(try cli.run(["config", "diff", "edge1", "latest"]).status, 2, "not an id: usage")
        XCTAssertEqual(try cli.run(["config", "history"]).status, 2)
        XCTAssertEqual(try cli.run(["config", "frobnicate"]).status, 2)
    }
}
