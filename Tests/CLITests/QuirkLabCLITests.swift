import Foundation
import Lab
import XCTest

/// Switchboard against devices it did not write: the quirk lab (Tests/QuirkLab), whose simulated
/// devices misbehave the way real gear does (user mode, enable with and without a password, prompts
/// without `user@`, banners full of `#` and `>`, byte-at-a-time echo, no exec channel, one channel
/// only, a pager that ignores `terminal length 0`, colour in the prompt, LF-only line endings, a
/// peer that closes the channel), each served by two SSH implementations: asyncssh (password only,
/// RSA host key signed with rsa-sha2) and stock OpenSSH sshd (RSA host key only, RSA user key).
final class QuirkLabCLITests: XCTestCase {
    struct Device: Decodable {
        var name: String
        var server: String
        var port: Int
        var quirks: [String]
        var expected_platform: String
    }

    struct Status: Decodable {
        var known_hosts: String
        var user_key: String
        var login_user: String
        var password: String
        var password_user: String
        var enable_secret: String
        var devices: [Device]
    }

    static let python = CLI.repositoryRoot + "/.venv-quirklab/bin/python"
    static let launcher = CLI.repositoryRoot + "/Tests/QuirkLab/quirklab.py"

    var cli: CLI!
    var labDir = ""
    var status: Status!

    override func setUpWithError() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.python) else {
            XCTFail("\(Self.python) is missing: scripts/install-deps creates the quirk lab's virtualenv")
            throw CocoaError(.fileNoSuchFile)
        }
        cli = try CLI()
        cli.environment.removeValue(forKey: "SSH_AUTH_SOCK")
        labDir = cli.dir + "/quirklab"
        // Free ports of its own (asyncssh from the base, sshd 100 above), below the ephemeral range.
        // Another lab can take a port between the check and the bind: try a fresh base then.
        var up: (status: Int32, output: String) = (1, "")
        for _ in 0..<3 where up.status != 0 {
            let base = LabPorts.freeBasePort(count: 40, secondRangeOffset: 100)
            up = try Self.launch(["up", "--dir", labDir, "--base-port", String(base)])
        }
        XCTAssertEqual(up.status, 0, up.output)
        status = try JSONDecoder().decode(Status.self, from: Data(contentsOf: URL(fileURLWithPath: labDir + "/status.json")))

        // The inventory a user would write: the platform each device really is.
        var devices: [[String: Any]] = []
        var byServer: [String: [String]] = [:]
        for d in status.devices {
            devices.append(["name": d.name, "address": "127.0.0.1", "port": d.port, "platform": d.expected_platform])
            byServer[d.server, default: []].append(d.name)
        }
        let inventory: [String: Any] = [
            "devices": devices,
            "pools": [["name": "quirk-asyncssh", "manual_devices": byServer["asyncssh"] ?? []],
                      ["name": "quirk-openssh", "manual_devices": byServer["openssh"] ?? []]],
            "credentials": [
                ["name": "netops", "username": status.password_user, "secret_kind": "password", "secret": status.password,
                 "enable_secret": status.enable_secret, "priority": 10, "pools": ["quirk-asyncssh"]],
                ["name": "rsa-key", "username": status.login_user, "secret_kind": "key_file", "key_file": status.user_key,
                 "enable_secret": status.enable_secret, "priority": 10, "pools": ["quirk-openssh"]],
            ],
        ]
        let path = try cli.write("quirk.json", String(decoding: try JSONSerialization.data(withJSONObject: inventory), as: UTF8.self))
        let imported = try cli.run(["import", path])
        XCTAssertEqual(imported.status, 0, imported.stderr)
        _ = try cli.write("config/switchboard/settings.json", #"{"ssh": {"known_hosts": ["\#(status.known_hosts)"]}}"#)
    }

    override func tearDownWithError() throws {
        // `run` starts an engine for the test's database: it goes with the test.
        _ = try? cli.run(["engine", "--stop"])
        _ = try? Self.launch(["down", "--dir", labDir])
    }

    static func launch(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = [launcher] + arguments
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// The servers whose interactive sessions work here: sshd allocates terminals only as root in
    /// containers whose /dev/pts lacks gid=5 (CI runs as root).
    var servers: [String] { geteuid() == 0 ? ["asyncssh", "openssh"] : ["asyncssh"] }

    func name(_ base: String, _ server: String) -> String { server == "openssh" ? base + "-o" : base }

    /// `exec` on one device: succeeds quickly (no prompt timeout anywhere on the way).
    @discardableResult
    func exec(_ arguments: [String], expect status: Int32 = 0, within seconds: Double = 8,
              file: StaticString = #filePath, line: UInt = #line) throws -> CLI.Result {
        let started = Date()
        let result = try cli.run(["exec"] + arguments)
        XCTAssertEqual(result.status, status, "\(arguments): \(result.stdout)\n\(result.stderr)", file: file, line: line)
        XCTAssertLessThan(Date().timeIntervalSince(started), seconds, "\(arguments) took too long", file: file, line: line)
        XCTAssertFalse(result.stdout.contains("\u{1b}"), "an escape sequence reached the terminal", file: file, line: line)
        return result
    }

    func testEveryQuirkWorksOnBothSSHServers() throws {
        for server in servers {
            // RSA host keys (rsa-sha2) on both servers, passwords on asyncssh, an RSA user key on sshd.
            for base in ["q-ios-user", "q-ios-enpw", "q-banner", "q-slow-echo", "q-pager", "q-ansi", "q-lf", "q-one-channel", "q-no-exec", "q-double-prompt"] {
                let r = try exec([name(base, server), "show", "version"], within: base == "q-slow-echo" ? 15 : 8)
                XCTAssertTrue(r.stdout.contains("Cisco IOS Software"), "\(base)/\(server): \(r.stdout)")
                // Neither the echoed command, nor the paging commands typed ahead of it, nor the
                // prompt is part of the output.
                XCTAssertFalse(r.stdout.hasPrefix("show version"), "\(base)/\(server): the echo leaked: \(r.stdout.prefix(200))")
                XCTAssertFalse(r.stdout.contains("terminal length") || r.stdout.contains("terminal width"),
                               "\(base)/\(server): the paging commands leaked: \(r.stdout.prefix(300))")
                let last = r.stdout.split(separator: "\n").last.map(String.init) ?? ""
                XCTAssertFalse(last.hasSuffix("#") || last.hasSuffix(">"), "\(base)/\(server): the prompt leaked: \(last)")
            }
            // User mode: enable is entered (with and without a password question), so the
            // configuration can be read; the pager that ignores `terminal length 0` is answered.
            for base in ["q-ios-user", "q-ios-enpw", "q-pager"] {
                let r = try exec([name(base, server), "show", "running-config"])
                XCTAssertTrue(r.stdout.contains("hostname \(name(base, server))"), "\(base)/\(server): \(r.stdout.prefix(300))")
                XCTAssertFalse(r.stdout.contains("More"), "\(base)/\(server): a pager prompt reached the output")
                XCTAssertFalse(r.stdout.contains("Invalid input"), "\(base)/\(server): not in enable mode")
            }
            let paged = try exec([name("q-pager", server), "show", "running-config"])
            XCTAssertGreaterThan(paged.stdout.split(separator: "\n").count, 150, "every page")
            XCTAssertTrue(paged.stdout.hasSuffix("end\n"), String(paged.stdout.suffix(200)))

            // A Junos-like prompt without user@: the literal prompt, with a warning naming both.
            let junos = try exec([name("q-junos-bare", server), "show", "version"])
            XCTAssertTrue(junos.stdout.contains("Junos: "), junos.stdout)
            XCTAssertTrue(junos.stderr.contains("does not match platform juniper_junos's prompt patterns"), junos.stderr)
            XCTAssertTrue(junos.stderr.contains("using the prompt as discovered"), junos.stderr)

            // Other platforms' natural commands.
            XCTAssertTrue(try exec([name("q-eos-user", server), "show", "running-config"]).stdout.contains("hostname"))
            XCTAssertTrue(try exec([name("q-huawei", server), "display", "version"]).stdout.contains("VRP (R) software"))
            XCTAssertTrue(try exec([name("q-nxos", server), "show", "version"]).stdout.contains("NX-OS"))
            XCTAssertTrue(try exec([name("q-xe", server), "show", "version"]).stdout.contains("IOS XE"))
            XCTAssertTrue(try exec([name("q-linux", server), "uname", "-a"]).stdout.contains("Linux"))
            // A rejected command is reported as the device said it.
            let rejected = try exec([name("q-huawei", server), "show", "version"], expect: 1)
            XCTAssertTrue(rejected.stdout.contains("Error: Unrecognized command"), rejected.stdout)

            // A peer that closes the channel is reported at once, not after a timeout.
            let closed = try exec([name("q-close", server), "show", "version"], expect: 1, within: 5)
            XCTAssertTrue(closed.stderr.contains("closed the connection"), closed.stderr)
        }
        // asyncssh refuses exec requests: the shell is used instead, saying so once.
        let noExec = try exec(["--mode", "exec", "q-no-exec", "show", "version"])
        XCTAssertTrue(noExec.stdout.contains("Cisco IOS Software"), noExec.stdout)
        XCTAssertEqual(noExec.stderr.components(separatedBy: "refuses exec channels").count - 1, 1, noExec.stderr)
        // One channel per connection: exec mode opens exactly one.
        XCTAssertTrue(try exec(["--mode", "exec", "q-one-channel", "show", "version"]).stdout.contains("Cisco IOS Software"))
        // Password only: a key is refused, and the error names what was tried and what is allowed.
        let keyOnly = try cli.write("key-cred.json", """
            {"credentials": [{"name": "wrong-key", "username": "netops", "secret_kind": "key_file", "key_file": "\(status.user_key)", "priority": 1}]}
            """)
        XCTAssertEqual(try cli.run(["import", keyOnly]).status, 0)
        let refused = try exec(["--credential", "wrong-key", "q-ios-user", "show", "version"], expect: 1)
        XCTAssertTrue(refused.stderr.contains("authentication failed") && refused.stderr.contains("server allows password"), refused.stderr)
    }

    func testDetectRecognisesEveryDeviceOnBothServers() throws {
        let started = Date()
        let report = try cli.run(["detect", "--filter", "name~^q-", "--json"])
        XCTAssertLessThan(Date().timeIntervalSince(started), 30)
        var seen = 0
        for line in report.stdout.split(separator: "\n") {
            let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let device = try XCTUnwrap(object["device"] as? String)
            guard let expected = status.devices.first(where: { $0.name == device }) else { continue }
            if expected.server == "openssh" && geteuid() != 0 { continue }
            if device.hasPrefix("q-close") { continue }  // it closes after its first command
            seen += 1
            XCTAssertEqual(object["platform"] as? String, expected.expected_platform, "\(device): \(object)")
        }
        XCTAssertGreaterThanOrEqual(seen, 15, report.stdout + report.stderr)
    }

    func testServicesEnterEnableByDefaultAndARefusalNamesTheCredential() throws {
        let services = try cli.write("services.json", """
            {"services": [
              {"name": "ios version", "kind": "cli", "parameters": {"commands": ["show version"]},
               "devices": ["q-ios-user", "q-ios-enpw", "q-banner", "q-slow-echo", "q-pager", "q-ansi", "q-lf", "q-no-exec", "q-one-channel", "q-junos-bare", "q-eos-user", "q-nxos", "q-xe"]},
              {"name": "ios backup", "kind": "backup", "devices": ["q-ios-user", "q-ios-enpw", "q-pager", "q-eos-user"]}
            ]}
            """)
        XCTAssertEqual(try cli.run(["import", services]).status, 0)
        let run = try cli.run(["run", "ios version", "--follow"])
        XCTAssertEqual(run.status, 0, run.stdout + run.stderr)
        XCTAssertTrue(run.stdout.contains("13/13 done, 0 failed"), run.stdout)
        let backup = try cli.run(["run", "ios backup", "--follow"])
        XCTAssertEqual(backup.status, 0, backup.stdout + backup.stderr)
        let history = try cli.run(["config", "history", "q-pager"])
        XCTAssertEqual(history.status, 0, history.stderr)

        // Without an enable secret: the device's refusal and the credential, in the run's log.
        let noSecret = try cli.write("nosecret.json", """
            {"credentials": [{"name": "netops", "username": "\(status.password_user)", "secret_kind": "password", "secret": "\(status.password)",
              "enable_secret": "", "priority": 10, "pools": ["quirk-asyncssh"]}]}
            """)
        XCTAssertEqual(try cli.run(["import", noSecret]).status, 0)
        let refused = try cli.run(["run", "ios version", "--devices", "q-ios-enpw", "--follow"])
        XCTAssertEqual(refused.status, 1, refused.stdout)
        XCTAssertTrue(refused.stdout.contains("enable refused: % Access denied"), refused.stdout)
        XCTAssertTrue(refused.stdout.contains("credential 'netops' has no enable secret"), refused.stdout)
        XCTAssertFalse(refused.stdout.contains(status.password), "a secret reached the log")
        // exec enters enable only when a command is refused in user mode: show version needs none.
        let userOnly = try cli.run(["exec", "q-ios-enpw", "show", "version"])
        XCTAssertEqual(userOnly.status, 0, userOnly.stderr)
        XCTAssertFalse(userOnly.stderr.contains("enable refused"), userOnly.stderr)
        let needsEnable = try cli.run(["exec", "q-ios-enpw", "show", "running-config"])
        XCTAssertEqual(needsEnable.status, 1)
        XCTAssertTrue(needsEnable.stderr.contains("enable refused: % Access denied; credential 'netops' has no enable secret"), needsEnable.stderr)
        XCTAssertTrue(needsEnable.stdout.contains("Invalid input"), needsEnable.stdout)
        // enable_mode false: user mode is enough for show version.
        let userMode = try cli.write("usermode.json", """
            {"services": [{"name": "user mode", "kind": "cli", "parameters": {"commands": ["show version"], "enable_mode": false}, "devices": ["q-ios-enpw"]}]}
            """)
        XCTAssertEqual(try cli.run(["import", userMode]).status, 0)
        let plain = try cli.run(["run", "user mode", "--follow"])
        XCTAssertEqual(plain.status, 0, plain.stdout)
    }
}
