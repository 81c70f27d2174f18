import Foundation
import Lab
import PostgresTestSupport
import XCTest

/// The backend a parity test runs on.
enum ParityBackend: String, CaseIterable {
    case sqlite, postgres
}

/// The same command-line flows on SQLite and on PostgreSQL (issue #14): each flow is one body,
/// `flow(_ backend:)`, run once per backend by a test per backend, and the outputs that must not
/// depend on the backend are compared between the two in the test that runs both. Real binary,
/// real engine (auto-started by `run`), the device lab on free ports, a throwaway PostgreSQL cluster.
final class BackendParityCLITests: XCTestCase {
    /// A CLI on a fresh database of `backend`: SQLite's default file, or a new PostgreSQL database
    /// given through SWITCHBOARD_DB (a URL without a password: the test cluster trusts its socket).
    func makeCLI(_ backend: ParityBackend) throws -> CLI {
        var cli = try CLI()
        cli.environment.removeValue(forKey: "SSH_AUTH_SOCK")
        if backend == .postgres {
            let server = try PostgresTestServer.require()
            cli.environment["SWITCHBOARD_DB"] = server.socketURL(try server.createDatabase("parity"))
        }
        return cli
    }

    // MARK: inventory: import, list, pools, show, export

    /// What `import`, `list` and `show` print for the example network: returned to compare backends.
    func inventoryFlow(_ backend: ParityBackend) throws -> [String] {
        let cli = try makeCLI(backend)
        let imported = try cli.run(["import", CLI.repositoryRoot + "/setup/examples/switchboard.json"])
        XCTAssertEqual(imported.status, 0, "\(backend): \(imported.stderr)")
        XCTAssertTrue(imported.stdout.contains("imported"), imported.stdout)
        // Imported again: nothing changes (one transaction, records matched by name).
        let again = try cli.run(["import", CLI.repositoryRoot + "/setup/examples/switchboard.json"])
        XCTAssertEqual(again.status, 0, again.stderr)
        // A bad record anywhere: nothing of that import is stored, not even the good line before it.
        let bad = try cli.write("bad.csv", "name,address,port\nzz-good,192.0.2.1,22\nzz-bad,192.0.2.2,notaport\n")
        let refused = try cli.run(["import", bad])
        XCTAssertEqual(refused.status, 1, refused.stderr)
        var outputs: [String] = [imported.stdout.replacingOccurrences(of: CLI.repositoryRoot, with: "")]
        for kind in ["devices", "pools", "links", "services", "workflows", "tasks"] {
            let listed = try cli.run(["list", kind])
            XCTAssertEqual(listed.status, 0, "\(backend) list \(kind): \(listed.stderr)")
            outputs.append(listed.stdout)
        }
        XCTAssertFalse(outputs[1].contains("zz-good"), "\(backend): a failed import left a record")
        // Pool membership: a pool's devices by filter.
        let pool = try cli.run(["list", "devices", "--filter", "name~^par-core"])
        XCTAssertEqual(pool.status, 0, pool.stderr)
        XCTAssertTrue(pool.stdout.contains("par-core1"), pool.stdout)
        outputs.append(pool.stdout)
        let show = try cli.run(["show", "device", "par-core1"])
        XCTAssertEqual(show.status, 0, "\(backend) show: \(show.stderr)")
        outputs.append(show.stdout)
        // Sealed secrets: a credential shows no secret, and export keeps them sealed.
        let credentials = try cli.run(["list", "credentials"])
        XCTAssertEqual(credentials.status, 0, credentials.stderr)
        outputs.append(credentials.stdout)
        let exportDir = cli.dir + "/export"
        let export = try cli.run(["export", "--format", "json", exportDir])
        XCTAssertEqual(export.status, 0, "\(backend) export: \(export.stderr)")
        let exported = try String(contentsOfFile: exportDir + "/switchboard.json", encoding: .utf8)
        XCTAssertTrue(exported.contains("par-core1"))
        for secret in ["switchboard-lab", "viewer-lab"] {
            XCTAssertFalse(exported.contains(secret), "\(backend): '\(secret)' exported in clear")
            XCTAssertFalse(outputs.joined().contains(secret), "\(backend): '\(secret)' printed")
        }
        XCTAssertTrue(exported.contains("sb1:"), "the secrets are exported sealed")
        return outputs
    }

    func testInventoryOnSQLite() throws { _ = try inventoryFlow(.sqlite) }
    func testInventoryOnPostgreSQL() throws { _ = try inventoryFlow(.postgres) }

    func testInventoryPrintsTheSameOnBothBackends() throws {
        let sqlite = try inventoryFlow(.sqlite), postgres = try inventoryFlow(.postgres)
        XCTAssertEqual(sqlite.count, postgres.count)
        for (a, b) in zip(sqlite, postgres) { XCTAssertEqual(a, b) }
    }

    // MARK: the engine on the lab: run, results, logs, backup, task, stop

    static let extraServices = """
        {"services": [{"name": "nothing", "kind": "wait", "parameters": {"seconds": 0}},
                      {"name": "long nap", "kind": "wait", "parameters": {"seconds": 30}, "devices": ["par-core1"]}]}
        """

    func runId(_ result: CLI.Result) -> Int64? {
        let text = result.stderr + result.stdout
        guard let r = text.range(of: #"run (\d+) queued"#, options: .regularExpression) else { return nil }
        return Int64(text[r].split(separator: " ")[1])
    }

    /// A run's outcome lines as the backends must agree on them: `results` rows with times removed.
    func engineFlow(_ backend: ParityBackend) throws -> [String] {
        let cli = try makeCLI(backend)
        let demo = try cli.run(["demo", "--no-console", "--base-port", String(LabPorts.freeBasePort(devices: 20))])
        defer {
            _ = try? cli.run(["engine", "--stop"])
            _ = try? cli.run(["lab", "down"])
        }
        XCTAssertEqual(demo.status, 0, "\(backend) demo: \(demo.stdout)\(demo.stderr)")
        XCTAssertEqual(try cli.run(["import", try cli.write("extra.json", Self.extraServices)]).status, 0)

        // A cli service on the lab's devices, followed to its end by the engine `run` starts.
        let run = try cli.run(["run", "show version", "--follow", "--timeout", "120"])
        XCTAssertEqual(run.status, 0, "\(backend) run: \(run.stdout)\(run.stderr)")
        XCTAssertTrue(run.stdout.contains("completed"), run.stdout)
        let status = try cli.run(["engine", "--status"])
        XCTAssertEqual(status.status, 0, status.stdout + status.stderr)
        XCTAssertTrue(status.stdout.contains("engine running on"), status.stdout)
        XCTAssertFalse(status.stdout.contains("on host"), "the engine runs on this host: \(status.stdout)")
        guard let id = runId(run) else { XCTFail("no run id in \(run.stderr)"); return [] }
        let results = try cli.run(["results", String(id)])
        XCTAssertEqual(results.status, 0, results.stderr)
        XCTAssertTrue(results.stdout.contains("par-core1"), results.stdout)
        let logs = try cli.run(["logs", String(id)])
        XCTAssertEqual(logs.status, 0, logs.stderr)
        XCTAssertFalse(logs.stdout.isEmpty)

        // A backup stores a configuration snapshot.
        let backup = try cli.run(["run", "backup configuration", "--follow", "--timeout", "120"])
        XCTAssertEqual(backup.status, 0, "\(backend) backup: \(backup.stdout)\(backup.stderr)")
        let history = try cli.run(["config", "history", "par-core1"])
        XCTAssertEqual(history.status, 0, history.stderr)
        XCTAssertGreaterThan(history.stdout.split(separator: "\n").count, 1, "\(backend) no snapshot: \(history.stdout)")

        // A task fires in the running engine, then stops firing when disabled.
        let start = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: floor(Date().timeIntervalSince1970) + 1))
        let add = try cli.run(["task", "add", "tick", "--service", "nothing", "--every", "2s", "--start", start, "--enable"])
        XCTAssertEqual(add.status, 0, add.stderr)
        var fired = 0
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            let runs = try cli.run(["runs", "--json"])
            fired = runs.stdout.components(separatedBy: "\"scheduler\"").count - 1
            if fired >= 1 { break }
            usleep(200_000)
        }
        XCTAssertGreaterThanOrEqual(fired, 1, "\(backend): the task never fired")
        XCTAssertEqual(try cli.run(["task", "disable", "tick"]).status, 0)

        // stop: a running run is aborted.
        let nap = try cli.run(["run", "long nap"])
        XCTAssertEqual(nap.status, 0, nap.stderr)
        guard let napId = runId(nap) else { XCTFail("no run id in \(nap.stdout)"); return [] }
        let stop = try cli.run(["stop", String(napId)])
        XCTAssertEqual(stop.status, 0, stop.stdout + stop.stderr)
        let followed = try cli.run(["logs", String(napId), "--follow"])
        XCTAssertEqual(followed.status == 0 || followed.status == 1, true, followed.stderr)
        let shown = try cli.run(["show", "run", String(napId)])
        XCTAssertTrue(shown.stdout.contains("aborted"), "\(backend) stopped run: \(shown.stdout)")

        let stopped = try cli.run(["engine", "--stop"])
        XCTAssertEqual(stopped.status, 0, stopped.stdout + stopped.stderr)
        XCTAssertTrue(stopped.stdout.contains("stopped"), stopped.stdout)
        XCTAssertNotEqual(try cli.run(["engine", "--status"]).status, 0)
        // What must not depend on the backend: which devices the run reached and how each ended.
        return results.stdout.split(separator: "\n").map { line in
            line.split(separator: " ", omittingEmptySubsequences: true).prefix(3).joined(separator: " ")
        }
    }

    func testEngineOnSQLite() throws { _ = try engineFlow(.sqlite) }
    func testEngineOnPostgreSQL() throws { _ = try engineFlow(.postgres) }

    // MARK: what still needs SQLite says so

    /// The console, `ssh` and `session export` open PostgreSQL as they open SQLite (no "needs SQLite"
    /// refusal left): without a terminal the console and `ssh` say so, a missing session is named.
    func testConsoleSSHAndSessionExportOpenPostgreSQLAndNeverShowThePassword() throws {
        var cli = try makeCLI(.postgres)
        cli.environment["PGPASSWORD"] = "s3cret-not-shown"
        let console = try cli.run(["console"])
        XCTAssertEqual(console.status, 1)
        XCTAssertTrue(console.stderr.contains("the console needs a terminal"), console.stderr)
        XCTAssertFalse(console.stderr.contains("PostgreSQL database yet"), console.stderr)
        XCTAssertFalse(console.stderr.contains("s3cret"))
        let export = try cli.run(["session", "export", "99", "-"])
        XCTAssertEqual(export.status, 1)
        XCTAssertTrue(export.stderr.contains("no session 99"), export.stderr)
        XCTAssertFalse(export.stderr.contains("s3cret"))
        // A server that is not there: the error names where it was going, never the password.
        cli.environment["SWITCHBOARD_DB"] = "postgres://nobody@127.0.0.1:1/nowhere"
        let list = try cli.run(["list", "devices"])
        XCTAssertNotEqual(list.status, 0)
        XCTAssertTrue(list.stderr.contains("127.0.0.1") && list.stderr.contains("nowhere"), list.stderr)
        XCTAssertFalse(list.stderr.contains("s3cret"), list.stderr)
    }
}
