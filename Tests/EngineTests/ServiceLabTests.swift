import Crypto
import Engine
import Foundation
import GRDB
import Lab
import Store
import XCTest

/// Every service kind against real things: the lab's sshd and simulated devices, the system
/// ping, real TCP sockets, a real HTTP server on 127.0.0.1, /bin/sh. Success and failure each.
final class ServiceLabTests: LabBackedTestCase {
    override class var labDeviceCount: Int { 24 }  // lab-0024 is NX-OS

    /// A database with the lab registered, its credential given an enable secret, a transport and
    /// per-run sessions, as the run executor builds them.
    final class Fixture: @unchecked Sendable {
        let store: TestStore
        var database: any StoreBackend { store.backend }
        let secrets = SecretBox(key: SymmetricKey(data: Data(repeating: 3, count: 32)))
        let transport: SSHTransport
        let sessions: DeviceSessions
        var settings = Settings.defaults
        let logLock = NSLock()
        var logLines: [(RunLogLine.Level, String)] = []

        init(_ lab: LabFixture, _ backend: BackendKind) throws {
            store = try TestStore(backend, prefix: "services")
            let database = store.backend
            try LabInventory.register(lab.status, database: database, secrets: secrets)
            let secrets = self.secrets
            try database.transaction { store in
                var credential = try store.credential(named: "lab-key")!
                credential.enableSecret = try secrets.seal("lab-enable")
                try store.upsert(credential: credential)
            }
            transport = try SSHTransport(configuration: lab.configuration())
            sessions = DeviceSessions(transport: transport,
                                      targets: DeviceTargets(database: database, secrets: secrets, settings: Settings.defaults, environment: [:]))
        }

        func close() async {
            await sessions.closeAll()
            transport.shutdown()
        }

        func device(_ name: String) throws -> Device {
            try database.query { store in
                guard let d = try store.device(named: name) else { throw EnvironmentFailure("no device \(name)") }
                return d
            }
        }

        func run(_ kind: Service.Kind, _ parameters: [String: JSONValue], on deviceName: String?,
                 payload: [String: JSONValue] = [:], previous: String? = nil, validation: [String: JSONValue] = [:],
                 timeout: Duration = .seconds(20)) async throws -> ServiceOutcome {
            var service = Service(name: "test \(kind.rawValue)", kind: kind, parameters: parameters)
            service.validation = validation
            try ServiceValidation.validate(service)
            let device = try deviceName.map { try self.device($0) }
            let context = ServiceContext(runId: 1, service: service, device: device, payload: payload, previousOutput: previous,
                                         settings: settings, database: database, sessions: sessions, timeout: timeout,
                                         log: { [self] level, message in logLock.lock(); logLines.append((level, message)); logLock.unlock() })
            guard let runner = ServiceKinds.runner(for: kind) else { throw EnvironmentFailure("no runner for \(kind)") }
            return try await runner.run(context)
        }

        func snapshots(_ deviceName: String) throws -> [ConfigSnapshot] {
            try database.query { store in try store.configSnapshots(device: deviceName) }
        }
    }

    func withFixture(_ backend: BackendKind = .sqlite, _ body: (Fixture) async throws -> Void) async throws {
        let fixture = try Fixture(try lab, backend)
        do {
            try await body(fixture)
        } catch {
            await fixture.close()
            throw error
        }
        await fixture.close()
    }

    func message(_ body: () async throws -> ServiceOutcome) async -> String {
        do {
            let outcome = try await body()
            return "no error: \(outcome)"
        } catch {
            return "\(error)"
        }
    }

    // MARK: cli

    func testCLIOnIOSEOSJunosAndNXOS() async throws {
        try await withFixture { f in
            for (device, marker, second, hostname) in [("par-acc1", "IOS", "show running-config | include hostname", "hostname par-acc1"),
                                                       ("par-dist1", "Arista", "show running-config | include hostname", "hostname par-dist1"),
                                                       ("par-core1", "JUNOS", "show configuration system", "host-name par-core1;"),
                                                       ("lab-0024", "NX-OS", "show running-config | include hostname", "hostname lab-0024")] {
                let outcome = try await f.run(.cli, ["commands": ["show version", .string(second)]], on: device)
                XCTAssertTrue(outcome.success, "\(device): \(outcome.output)")
                XCTAssertTrue(outcome.output.contains(marker), "\(device): \(outcome.output)")
                XCTAssertTrue(outcome.output.contains(hostname), "\(device): both outputs, concatenated: \(outcome.output)")
            }
            // Templates in commands.
            let templated = try await f.run(.cli, ["commands": ["show interfaces {{payload.port}}"]], on: "par-acc1",
                                            payload: ["port": "GigabitEthernet0/0"])
            XCTAssertTrue(templated.output.contains("GigabitEthernet0/0"), templated.output)
            // Exec channels.
            let exec = try await f.run(.cli, ["commands": ["show version"], "mode": "exec"], on: "par-dist1")
            XCTAssertTrue(exec.success && exec.output.contains("Arista"), exec.output)
        }
    }

    func testCLIFailures() async throws {
        try await withFixture { f in
            let rejected = try await f.run(.cli, ["commands": ["show version", "show frobnicate"]], on: "par-acc1")
            XCTAssertFalse(rejected.success)
            XCTAssertTrue(rejected.output.contains("`show frobnicate` rejected"), rejected.output)
            XCTAssertTrue(rejected.output.contains("IOS"), "the output before the rejected command is kept")
            // The session stays usable after a rejected command.
            let after = try await f.run(.cli, ["commands": ["show clock"]], on: "par-acc1")
            XCTAssertTrue(after.success, after.output)
            let execFailed = try await f.run(.cli, ["commands": ["show frobnicate"], "mode": "exec"], on: "par-acc1")
            XCTAssertFalse(execFailed.success)
            XCTAssertTrue(execFailed.output.contains("exit status 1"), execFailed.output)
            // An unknown platform is driven as generic (prompt discovery), with a warning: no crash, no timeout.
            try await f.database.transaction { store in
                var d = try store.device(named: "par-acc2")!
                d.platform = "frobos"
                try store.upsert(device: d)
            }
            let started = Date()
            let unknown = try await f.run(.cli, ["commands": ["show version"]], on: "par-acc2")
            XCTAssertTrue(unknown.success, unknown.output)
            XCTAssertTrue(unknown.output.contains("Cisco IOS"), unknown.output)
            XCTAssertLessThan(Date().timeIntervalSince(started), 5, "no prompt timeout")
            XCTAssertTrue(f.logLines.contains { $0.0 == .warning && $0.1.contains("unknown platform 'frobos'; using generic") }, "\(f.logLines)")
            let missingVariable = await message { try await f.run(.cli, ["commands": ["show {{payload.nope}}"]], on: "par-acc1") }
            XCTAssertTrue(missingVariable.contains("{{payload.nope}}"), missingVariable)
            let noDevice = await message { try await f.run(.cli, ["commands": ["show version"]], on: nil) }
            XCTAssertTrue(noDevice.contains("needs a target device"), noDevice)
        }
    }

    // MARK: config

    func testConfigDryRunSendsNothingThenRealRunConfiguresAndSaves() async throws {
        try await withFixture { f in
            let lines: [JSONValue] = ["interface Loopback55", " description set for {{device.name}}"]
            let dry = try await f.run(.config, ["lines": .array(lines), "dry_run": true, "save": true], on: "par-acc2")
            XCTAssertTrue(dry.success)
            XCTAssertTrue(dry.output.contains("nothing sent"), dry.output)
            XCTAssertTrue(dry.output.contains("  configure terminal\n  interface Loopback55\n   description set for par-acc2\n  end\n  write memory\n"), dry.output)
            let before = try await f.run(.cli, ["commands": ["show running-config"]], on: "par-acc2")
            XCTAssertFalse(before.output.contains("Loopback55"), "a dry run sends nothing")

            let real = try await f.run(.config, ["lines": .array(lines), "save": true], on: "par-acc2")
            XCTAssertTrue(real.success, real.output)
            let running = try await f.run(.cli, ["commands": ["show running-config interface Loopback55"]], on: "par-acc2")
            XCTAssertTrue(running.output.contains("description set for par-acc2"), running.output)
            let startup = try await f.run(.cli, ["commands": ["show startup-config"]], on: "par-acc2")
            XCTAssertTrue(startup.output.contains("description set for par-acc2"), "saved: \(startup.output)")

            // Junos: committed.
            let junos = try await f.run(.config, ["lines": ["set interfaces lo0 description by-{{device.name}}"]], on: "par-core2")
            XCTAssertTrue(junos.success, junos.output)
            let shown = try await f.run(.cli, ["commands": ["show configuration interfaces lo0"]], on: "par-core2")
            XCTAssertTrue(shown.output.contains("by-par-core2"), shown.output)

            // A line the device rejects fails the service, naming the line by position.
            let bad = try await f.run(.config, ["lines": ["interface Loopback56", "frobnicate the widget"]], on: "par-acc2")
            XCTAssertFalse(bad.success)
            XCTAssertTrue(bad.output.contains("configuration line 2 of 2 rejected"), bad.output)
            // Secrets in configuration lines are masked in the output.
            let secret = try await f.run(.config, ["lines": ["snmp-server community t0ps3cret RO"]], on: "par-acc2")
            XCTAssertTrue(secret.success, secret.output)
            XCTAssertFalse(secret.output.contains("t0ps3cret"), secret.output)
        }
    }

    // MARK: backup

    /// On both backends (issue #14): snapshots, the unchanged check and the device's backup status are the store's.
    func testBackupStoresOnlyChangesMasksSecretsAndUpdatesTheDeviceOnSQLite() async throws { try await backup(.sqlite) }
    func testBackupStoresOnlyChangesMasksSecretsAndUpdatesTheDeviceOnPostgreSQL() async throws { try await backup(.postgres) }

    func backup(_ backend: BackendKind) async throws {
        try await withFixture(backend) { f in
            let first = try await f.run(.backup, [:], on: "lon-acc1")
            XCTAssertTrue(first.success, first.output)
            XCTAssertTrue(first.output.contains("configuration stored"), first.output)
            var snapshots = try f.snapshots("lon-acc1")
            XCTAssertEqual(snapshots.count, 1)
            let content = snapshots[0].content
            XCTAssertTrue(content.contains("hostname lon-acc1"), content)
            XCTAssertTrue(content.contains("snmp-server community <removed> RO"), content)
            XCTAssertTrue(content.contains("enable secret 5 <removed>"), content)
            for volatile in ["s3cr3t", "Last configuration change", "ntp clock-period", "Current configuration", "$1$", "$9$"] {
                XCTAssertFalse(content.contains(volatile), "\(volatile) in the snapshot")
            }
            XCTAssertEqual(snapshots[0].sha256, ConfigHistory.sha256(content))
            XCTAssertEqual(snapshots[0].runId, 1)
            var device = try f.device("lon-acc1")
            XCTAssertEqual(device.lastBackupStatus, "success")
            XCTAssertNotNil(device.lastBackupTime)

            // A second backup a second later: timestamps and clock-period moved, nothing else.
            try await Task.sleep(for: .milliseconds(1100))
            let second = try await f.run(.backup, [:], on: "lon-acc1")
            XCTAssertTrue(second.success && second.output.contains("unchanged"), second.output)
            XCTAssertEqual(try f.snapshots("lon-acc1").count, 1)

            // A real change: stored, and the diff shows it.
            // (The lab device keeps its configuration from one test to the next: a location of this backend's own.)
            _ = try await f.run(.config, ["lines": .array([.string("snmp-server location moved to rack 9 by \(backend)")])], on: "lon-acc1")
            let third = try await f.run(.backup, [:], on: "lon-acc1")
            XCTAssertTrue(third.output.contains("stored"), third.output)
            snapshots = try f.snapshots("lon-acc1")
            XCTAssertEqual(snapshots.count, 2)
            let diff = ConfigHistory.diff(snapshots[1], snapshots[0])
            XCTAssertTrue(diff.contains("-snmp-server location ") && diff.contains("+snmp-server location moved to rack 9 by \(backend)\n"), diff)

            // Junos (hierarchical), EOS over an exec channel, NX-OS.
            for (name, mode, masked) in [("lon-core1", "cli", "encrypted-password \"<removed>\""), ("lon-dist1", "exec", "snmp-server community <removed> ro"),
                                         ("lab-0024", "cli", "snmp-server community <removed> group")] {
                let outcome = try await f.run(.backup, ["mode": .string(mode)], on: name)
                XCTAssertTrue(outcome.success, "\(name): \(outcome.output)")
                let again = try await f.run(.backup, ["mode": .string(mode)], on: name)
                XCTAssertTrue(again.output.contains("unchanged"), "\(name): \(again.output)")
                let stored = try f.snapshots(name)
                XCTAssertEqual(stored.count, 1, name)
                XCTAssertTrue(stored[0].content.contains(masked), "\(name): \(stored[0].content)")
                XCTAssertFalse(stored[0].content.contains("s3cr3t"), name)
                XCTAssertFalse(stored[0].content.contains("## Last commit") || stored[0].content.contains("Time:"), name)
            }

            // Failure: a platform without a backup command; the device records it.
            let linux = await message { try await f.run(.backup, [:], on: "bastion") }
            XCTAssertTrue(linux.contains("has no backup command"), linux)
            device = try f.device("bastion")
            XCTAssertEqual(device.lastBackupStatus, "failure")
            XCTAssertEqual(try f.snapshots("bastion").count, 0)
        }
    }

    // MARK: ping and tcp

    func testPingReachableAndUnreachable() async throws {
        try await withFixture { f in
            let ok = try await f.run(.ping, ["count": 1, "timeout": 1], on: "par-acc1")
            XCTAssertTrue(ok.success, ok.output)
            XCTAssertTrue(ok.output.contains("1 received"), ok.output)
            var device = try f.device("par-acc1")
            XCTAssertEqual(device.reachable, true)
            XCTAssertNotNil(device.lastReachabilityTime)
            // The broadcast address: ping refuses it at once without -b, and no packet leaves the host.
            let failed = try await f.run(.ping, ["count": 1, "timeout": 1, "address": "255.255.255.255"], on: "par-acc1")
            XCTAssertFalse(failed.success)
            XCTAssertTrue(failed.output.contains("exit status 2"), failed.output)
            device = try f.device("par-acc1")
            XCTAssertEqual(device.reachable, false)
            let option = await message { try await f.run(.ping, ["address": "-f"], on: "par-acc1") }
            XCTAssertTrue(option.contains("not an address"), option)
        }
    }

    func testTCPOpenAndClosedPorts() async throws {
        try await withFixture { f in
            let open = try await f.run(.tcp, ["timeout": 2], on: "par-acc1")
            XCTAssertTrue(open.success, open.output)
            XCTAssertTrue(open.output.contains("open"), open.output)
            let closedPort = try Self.unusedPort()
            let closed = try await f.run(.tcp, ["port": .int(closedPort), "timeout": 2], on: "par-acc1")
            XCTAssertFalse(closed.success)
            XCTAssertTrue(closed.output.contains("Connection refused"), closed.output)
            let templated = try await f.run(.tcp, ["address": "{{payload.host}}", "port": .int(try f.device("par-dist1").port)], on: nil,
                                            payload: ["host": "127.0.0.1"])
            XCTAssertTrue(templated.success, templated.output)
        }
    }

    /// A port nothing listens on: bound, then closed.
    static func unusedPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw EnvironmentFailure("cannot bind a port on 127.0.0.1") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    // MARK: rest

    func testRESTAgainstALocalHTTPServer() async throws {
        let server = try TinyHTTPServer()
        defer { server.stop() }
        try await withFixture { f in
            let base = "http://127.0.0.1:\(server.port)"
            let ok = try await f.run(.rest, ["url": .string(base + "/status/{{device.name}}")], on: "par-acc1", validation: [:])
            XCTAssertTrue(ok.success, ok.output)
            XCTAssertEqual(try ResultConversion.convert(ok.output, to: "json"), "{\n  \"device\" : \"par-acc1\",\n  \"status\" : \"up\"\n}")
            XCTAssertTrue(ResultValidation.check(ok.output, rules: ["kind": "json", "value": .object(["status": "up"])]).ok)

            let posted = try await f.run(.rest, ["url": .string(base + "/echo"), "method": "POST",
                                                 "headers": .object(["X-Device": "{{device.name}}", "Content-Type": "application/json"]),
                                                 "body": "{\"vlan\": {{payload.vlan}}}"], on: "par-acc1", payload: ["vlan": 42])
            XCTAssertTrue(posted.success, posted.output)
            XCTAssertTrue(posted.output.contains("POST /echo"), posted.output)
            XCTAssertTrue(posted.output.lowercased().contains("x-device: par-acc1"), posted.output)
            XCTAssertTrue(posted.output.contains("{\"vlan\": 42}"), posted.output)

            let missing = try await f.run(.rest, ["url": .string(base + "/missing")], on: nil)
            XCTAssertFalse(missing.success)
            XCTAssertTrue(missing.output.hasPrefix("HTTP 404 (expected 2xx)"), missing.output)
            let expected = try await f.run(.rest, ["url": .string(base + "/missing"), "expected_status": [404, 410]], on: nil)
            XCTAssertTrue(expected.success, expected.output)

            let refused = await message { try await f.run(.rest, ["url": .string("http://127.0.0.1:\(try Self.unusedPort())/")], on: nil) }
            XCTAssertTrue(refused.contains("failed"), refused)
        }
    }

    // MARK: extract and validate

    func testExtractAndValidate() async throws {
        try await withFixture { f in
            let show = try await f.run(.cli, ["commands": ["show version"]], on: "par-acc1")
            let extracted = try await f.run(.extract, ["regex": "(?i)version[: ]+(?<version>[^ ,\\n]+)"], on: "par-acc1", previous: show.output)
            XCTAssertTrue(extracted.success, extracted.output)
            XCTAssertEqual(extracted.payload["version"]?.stringValue?.hasPrefix("15."), true, "\(extracted.payload)")
            let none = try await f.run(.extract, ["regex": "serial (?<serial>\\S+)"], on: "par-acc1", previous: "no such thing")
            XCTAssertFalse(none.success)
            XCTAssertTrue(none.payload.isEmpty)

            let json = #"{"interfaces": [{"name": "Gi0/0", "mtu": 1500}, {"name": "Gi0/1"}]}"#
            let path = try await f.run(.extract, ["json_path": "interfaces[0].mtu", "variable": "mtu", "source": "doc"], on: nil,
                                       payload: ["doc": .string(json)])
            XCTAssertEqual(path.payload, ["mtu": .int(1500)])
            let nothing = try await f.run(.extract, ["json_path": "interfaces[5].name", "variable": "n"], on: nil, previous: json)
            XCTAssertFalse(nothing.success)
            let noPrevious = await message { try await f.run(.extract, ["regex": "(?<x>.)"], on: nil) }
            XCTAssertTrue(noPrevious.contains("no previous output"), noPrevious)

            let passed = try await f.run(.validate, [:], on: "par-acc1", previous: show.output,
                                         validation: ["kind": "regex", "value": "Version \\d+\\.\\d+"])
            XCTAssertTrue(passed.success)
            XCTAssertEqual(passed.output, show.output, "validate passes its input on")
            let failed = try await f.run(.validate, [:], on: "par-acc1", previous: show.output,
                                         validation: ["kind": "contains", "value": "Arista"])
            XCTAssertFalse(failed.success)
            let negated = try await f.run(.validate, [:], on: "par-acc1", previous: show.output,
                                          validation: ["kind": "contains", "value": "Arista", "negate": true])
            XCTAssertTrue(negated.success)
            XCTAssertTrue(f.logLines.contains { $0.1.contains("does not contain 'Arista'") }, "\(f.logLines)")
        }
    }

    // MARK: unix and wait

    func testUnixRefusedUnlessAllowedThenRunsAndTimesOut() async throws {
        try await withFixture { f in
            let refused = await message { try await f.run(.unix, ["command": "echo hi"], on: nil) }
            XCTAssertTrue(refused.contains("automation.allow_unix"), refused)
            f.settings.automation.allowUnix = true
            let ok = try await f.run(.unix, ["command": "echo hello {{device.name}}; echo oops >&2"], on: "par-acc1")
            XCTAssertTrue(ok.success)
            XCTAssertEqual(ok.output, "hello par-acc1\noops\n")
            let failed = try await f.run(.unix, ["command": "echo partial; exit 3"], on: nil)
            XCTAssertFalse(failed.success)
            XCTAssertEqual(failed.output, "partial\nexit status 3\n")
            // The timeout kills the whole process group, the shell's children included.
            let marker = "31.\(Int.random(in: 100...999))"
            let slow = await message { try await f.run(.unix, ["command": .string("sleep \(marker); echo never")], on: nil, timeout: .seconds(1)) }
            XCTAssertTrue(slow.contains("timed out"), slow)
            XCTAssertFalse(Self.processRunning(withArgument: marker), "sleep \(marker) survived the timeout")
        }
    }

    static func processRunning(withArgument argument: String) -> Bool {
        for pid in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] where Int(pid) != nil {
            if let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"),
               String(decoding: data, as: UTF8.self).split(separator: "\0").contains(Substring(argument)) {
                // A zombie not yet reaped has an empty cmdline, so this one is alive.
                return true
            }
        }
        return false
    }

    func testWaitAndItsCancellation() async throws {
        try await withFixture { f in
            let waited = try await f.run(.wait, ["seconds": 0.05], on: nil)
            XCTAssertTrue(waited.success)
            XCTAssertEqual(waited.output, "waited 0.05 s\n")
            let task = Task { try await f.run(.wait, ["seconds": 300], on: nil) }
            task.cancel()
            do {
                _ = try await task.value
                XCTFail("a cancelled wait completed")
            } catch {
                XCTAssertTrue(error is CancellationError, "\(error)")
            }
        }
    }
}

/// An HTTP/1.1 server on 127.0.0.1 for the rest service: `/status/NAME` answers JSON, `/echo`
/// echoes the request, anything else is 404. One thread, one connection at a time.
final class TinyHTTPServer: @unchecked Sendable {
    let port: Int
    private let listener: Int32
    private let thread: Thread

    init() throws {
        listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let fd = listener
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard ok, listen(listener, 16) == 0 else { throw EnvironmentFailure("cannot listen on 127.0.0.1") }
        port = Int(UInt16(bigEndian: address.sin_port))
        thread = Thread {
            while true {
                let client = accept(fd, nil, nil)
                if client < 0 { if errno == EINTR { continue }; return }
                TinyHTTPServer.serve(client)
                close(client)
            }
        }
        thread.start()
    }

    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    static func serve(_ client: Int32) {
        var data = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        var headerEnd: Int?
        var contentLength = 0
        while true {
            if let end = headerEnd, data.count >= end + contentLength { break }
            let n = buffer.withUnsafeMutableBytes { read(client, $0.baseAddress, $0.count) }
            if n <= 0 { return }
            data += buffer[0..<n]
            if headerEnd == nil, let range = Data(data).range(of: Data("\r\n\r\n".utf8)) {
                headerEnd = range.upperBound
                let head = String(decoding: data[0..<range.lowerBound], as: UTF8.self)
                for line in head.split(separator: "\r\n") where line.lowercased().hasPrefix("content-length:") {
                    contentLength = Int(line.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) ?? 0
                }
            }
        }
        let end = headerEnd!
        let head = String(decoding: data[0..<(end - 4)], as: UTF8.self)
        let body = String(decoding: data[end..<(end + contentLength)], as: UTF8.self)
        let requestLine = head.split(separator: "\r\n").first.map(String.init) ?? ""
        let parts = requestLine.split(separator: " ")
        let method = parts.first.map(String.init) ?? "", path = parts.count > 1 ? String(parts[1]) : "/"
        let status: String, reply: String
        if path.hasPrefix("/status/") {
            status = "200 OK"
            reply = "{\"status\": \"up\", \"device\": \"\(path.dropFirst("/status/".count))\"}"
        } else if path == "/echo" {
            status = "200 OK"
            reply = "\(method) \(path)\n" + head.split(separator: "\r\n").dropFirst().joined(separator: "\n") + "\n\n" + body
        } else {
            status = "404 Not Found"
            reply = "not here"
        }
        let response = "HTTP/1.1 \(status)\r\nContent-Type: text/plain\r\nContent-Length: \(reply.utf8.count)\r\nConnection: close\r\n\r\n\(reply)"
        var bytes = Array(response.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { write(client, $0.baseAddress! + offset, $0.count - offset) }
            if n <= 0 { return }
            offset += n
        }
    }
}
