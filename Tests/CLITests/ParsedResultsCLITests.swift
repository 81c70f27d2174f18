import Foundation
import Lab
import XCTest

/// Parsed results end to end: a lab run of a `cli` service with `parse: textfsm` (ntc-templates from
/// the set-up), a workflow that validates and extracts on the rows, and `results --rows` as one
/// table across devices, against the lab (real sshd).
final class ParsedResultsCLITests: XCTestCase {
    static let services = """
    {
      "services": [
        {"name": "ip brief", "kind": "cli", "parameters": {"commands": ["show ip interface brief"], "parse": "textfsm"},
         "devices": ["par-acc1", "par-acc2", "par-dist1"], "validation": {"kind": "rows", "count": ">= 2"}},
        {"name": "no template", "kind": "cli", "parameters": {"commands": ["show running-config"], "parse": "textfsm"}, "devices": ["par-acc1"]},
        {"name": "brief", "kind": "cli", "parameters": {"commands": ["show ip interface brief"], "parse": "textfsm"}},
        {"name": "some loopback", "kind": "validate", "validation": {"kind": "rows", "some": "interface~^Loopback"}},
        {"name": "first interface", "kind": "extract", "parameters": {"field": "interface", "where": "status=up", "variable": "first_up"}},
        {"name": "audit interfaces", "kind": "workflow", "traversal": "device", "devices": ["par-acc1", "par-acc2"],
         "members": ["brief", "some loopback", "first interface"], "start": "brief"}
      ],
      "workflow_edges": [
        {"name": "b-v", "workflow": "audit interfaces", "source": "brief", "destination": "some loopback", "subtype": "success"},
        {"name": "v-e", "workflow": "audit interfaces", "source": "some loopback", "destination": "first interface", "subtype": "success"}
      ]
    }
    """

    func testAParsedRunIsOneTableAcrossDevicesAndLaterServicesSeeTheRows() throws { try parsedRun(.sqlite) }
    /// On PostgreSQL a result's rows are `jsonb`, not JSON text: the same table comes out.
    func testAParsedRunIsOneTableAcrossDevicesAndLaterServicesSeeTheRowsOnPostgreSQL() throws { try parsedRun(.postgres) }

    func parsedRun(_ backend: ParityBackend) throws {
        var cli = try CLI.on(backend)
        cli.environment.removeValue(forKey: "SSH_AUTH_SOCK")
        let demo = try cli.run(["demo", "--no-console", "--base-port", String(LabPorts.freeBasePort(devices: 20))])
        defer {
            _ = try? cli.run(["engine", "--stop"])  // `run` started one for this database
            _ = try? cli.run(["lab", "down"])
        }
        XCTAssertEqual(demo.status, 0, demo.stderr)
        // demo goes on without its lab (a warning, exit 0); the devices would then fail as unknown hosts.
        XCTAssertFalse(demo.stderr.contains("the lab did not start"), demo.stderr)
        let imported = try cli.run(["import", try cli.write("parse-services.json", Self.services)])
        XCTAssertEqual(imported.status, 0, imported.stderr)

        let run = try cli.run(["run", "ip brief", "--follow", "--json"])
        if run.status != 0 {
            // Why the devices failed: their results and the run's log.
            let results = try cli.run(["results", "1"]), logs = try cli.run(["logs", "1"])
            // On one line and first: CI shows only a part of a failing test's output.
            let why = "\(run.stderr) | \(results.stdout)\(results.stderr) | \(logs.stdout)\(logs.stderr) | \(PostgresEngineCLITests.engineLog(cli))"
            XCTFail("\(backend): the run failed (demo said: \(demo.stderr.suffix(300))): " + why.replacingOccurrences(of: "\n", with: " ⏎ ").prefix(3000))
            return
        }
        let id = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])?["id"] as? Int)

        // One table: a device column, then the template's fields, every device's rows together.
        let table = try cli.run(["results", String(id), "--rows"])
        XCTAssertEqual(table.status, 0, table.stderr)
        let header = table.stdout.split(separator: "\n").first.map(String.init) ?? ""
        XCTAssertTrue(header.hasPrefix("DEVICE"), header)
        for column in ["INTERFACE", "IP_ADDRESS", "STATUS", "PROTO"] { XCTAssertTrue(header.contains(column), header) }
        for device in ["par-acc1", "par-acc2", "par-dist1"] { XCTAssertTrue(table.stdout.contains(device), device) }
        // JSON and CSV of the same rows; a filter on any field.
        let json = try cli.run(["results", String(id), "--rows", "--json"])
        let rows = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        XCTAssertGreaterThan(rows.count, 6)
        XCTAssertTrue(rows.allSatisfy { $0["device"] is String && $0["interface"] is String }, "\(rows.first ?? [:])")
        let csv = try cli.run(["results", String(id), "--rows", "--csv"])
        XCTAssertTrue(csv.stdout.hasPrefix("device,interface,"), csv.stdout)
        XCTAssertEqual(csv.stdout.split(separator: "\n").count, rows.count + 1)
        let down = try cli.run(["results", String(id), "--rows", "--json", "--filter", "status!=up"])
        let downRows = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(down.stdout.utf8)) as? [[String: Any]])
        XCTAssertTrue(downRows.allSatisfy { ($0["status"] as? String)?.lowercased() != "up" }, "\(downRows)")
        XCTAssertLessThan(downRows.count, rows.count)
        // The raw text is kept too.
        let raw = try cli.run(["results", String(id), "--device", "par-acc1"])
        XCTAssertTrue(raw.stdout.contains("IP-Address"), raw.stdout)

        // A command without a template fails that device's result with the reason, not the run.
        let missing = try cli.run(["run", "no template", "--follow"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stdout.contains("no template for command 'show running-config' on platform cisco_ios"), missing.stdout)

        // A workflow: parse, validate on the rows, extract a field of a row into the payload.
        let flow = try cli.run(["run", "audit interfaces", "--follow", "--json"])
        XCTAssertEqual(flow.status, 0, flow.stdout + flow.stderr)
        let flowId = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(flow.stdout.utf8)) as? [String: Any])?["id"] as? Int)
        let results = try cli.run(["results", String(flowId), "--device", "par-acc1"])
        XCTAssertTrue(results.stdout.contains("first_up = "), results.stdout)
        let logs = try cli.run(["logs", String(flowId)])
        XCTAssertTrue(logs.stdout.contains("some row has 'interface~^Loopback'"), logs.stdout)

        // Usage errors.
        XCTAssertEqual(try cli.run(["results", String(id), "--csv"]).status, 2)
        XCTAssertEqual(try cli.run(["results", String(id), "--rows", "--filter", "nosuch~("]).status, 2)
        XCTAssertEqual(try cli.run(["results", String(id - 1 + 100), "--rows"]).status, 1)
        let bad = try cli.write("bad-validation.json", """
            {"services": [{"name": "bad rows", "kind": "cli", "parameters": {"commands": ["show version"], "parse": "textfsm"},
              "validation": {"kind": "rows", "every": "status=up", "count": 3}}]}
            """)
        let refused = try cli.run(["import", bad])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stderr.contains("exactly one of every, some, none and count"), refused.stderr)
    }
}
