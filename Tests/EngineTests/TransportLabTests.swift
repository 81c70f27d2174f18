import Engine
import Foundation
import Lab
import Store
import XCTest

/// Exec and CLI sessions against the lab's real sshd: every platform, paging, errors, enable and
/// configuration, timeouts, the 10 MB output, disconnects, escape sequences, interactive use.
final class TransportLabTests: LabBackedTestCase {
    override class var labDeviceCount: Int { 24 }

    /// (device, platform, a command every platform answers, text its output must contain)
    static let platforms: [(String, String, String, String)] = [
        ("par-acc1", "cisco_ios", "show version", "Cisco IOS Software"),
        ("par-dist1", "arista_eos", "show version", "Arista"),
        ("lab-0024", "cisco_nxos", "show version", "NX-OS"),
        ("par-core1", "juniper_junos", "show version", "JUNOS"),
        ("bastion", "linux", "uname -a", "Linux bastion"),
    ]

    func withTransport<T>(commandTimeout: Duration = .seconds(20), _ body: (SSHTransport) async throws -> T) async throws -> T {
        let transport = try SSHTransport(configuration: lab.configuration(commandTimeout: commandTimeout))
        defer { transport.shutdown() }
        return try await body(transport)
    }

    // MARK: exec

    func testExecOnEachPlatform() async throws {
        let lab = try lab
        try await withTransport { transport in
            for (device, platform, command, expected) in Self.platforms {
                XCTAssertEqual(lab.device(device).platform, platform)
                let connection = try await transport.connect(lab.endpoint(device))
                XCTAssertEqual(connection.authenticationMethod, "publickey")
                let result = try await connection.exec(command)
                XCTAssertEqual(result.exitStatus, 0, "\(device): \(result.output)")
                XCTAssertTrue(result.output.contains(expected), "\(device): \(result.output.prefix(300))")
                // Several commands on one connection.
                let second = try await connection.exec(command)
                XCTAssertEqual(second.output, result.output.replacingOccurrences(of: "\r", with: ""), device)
                await connection.close()
                XCTAssertTrue(connection.isClosed)
            }
        }
    }

    func testExecReportsExitStatusAndStderr() async throws {
        let lab = try lab
        try await withTransport { transport in
            let ios = try await transport.connect(lab.endpoint("par-acc1"))
            let rejected = try await ios.exec("show no-such-thing")
            XCTAssertEqual(rejected.exitStatus, 1, "a rejected command fails the exec")
            XCTAssertTrue(rejected.output.contains("% Invalid input"), rejected.output)
            await ios.close()
            let linux = try await transport.connect(lab.endpoint("bastion"))
            let missing = try await linux.exec("no-such-command")
            XCTAssertNotEqual(missing.exitStatus, 0)
            XCTAssertTrue(missing.errorOutput.contains("command not found"), "stderr: \(missing.errorOutput) stdout: \(missing.output)")
            XCTAssertFalse(missing.output.contains("command not found"), "stderr stays separate from stdout")
            await linux.close()
        }
    }

    // MARK: CLI

    func testCLIOnEachPlatform() async throws {
        let lab = try lab
        try await withTransport { transport in
            for (device, platformName, command, expected) in Self.platforms {
                let connection = try await transport.connect(lab.endpoint(device))
                let cli = try await connection.openCLI(platform: try lab.platform(platformName))
                let prompt = await cli.prompt
                XCTAssertTrue(prompt.contains(device), "\(device) prompt: \(prompt)")
                let mode = await cli.mode
                // NX-OS logins land in privileged mode, like the real thing; the others in user mode.
                XCTAssertTrue(platformName == "cisco_nxos" ? mode == .enable || mode == .user : mode == .user, "\(device): \(String(describing: mode))")
                let output = try await cli.send(command)
                XCTAssertTrue(output.contains(expected), "\(device): \(output.prefix(300))")
                XCTAssertFalse(output.hasPrefix(command), "\(device): the echoed command is stripped")
                XCTAssertFalse(output.contains(prompt), "\(device): the prompt is stripped: \(output.suffix(200))")
                XCTAssertFalse(output.contains("\r"), device)
                // The same session answers again, identically.
                let again = try await cli.send(command)
                XCTAssertEqual(again.count, output.count, device)
                await cli.close()
                await connection.close()
            }
        }
    }

    func testCommandRejectedCarriesTheDeviceMessage() async throws {
        let lab = try lab
        try await withTransport { transport in
            for (device, platformName, message) in [("par-acc1", "cisco_ios", "% Invalid input"), ("par-core1", "juniper_junos", "syntax error"),
                                                    ("par-dist1", "arista_eos", "% Invalid input")] {
                let connection = try await transport.connect(lab.endpoint(device))
                let cli = try await connection.openCLI(platform: try lab.platform(platformName))
                do {
                    _ = try await cli.send("show frobnicate")
                    XCTFail("\(device) accepted a bad command")
                } catch let error as SSHError {
                    guard case .commandRejected(_, _, let command, let text) = error else { return XCTFail("\(error)") }
                    XCTAssertEqual(command, "show frobnicate")
                    XCTAssertTrue(text.contains(message), "\(device): \(text)")
                }
                // Still usable afterwards.
                let output = try await cli.send("show version")
                XCTAssertFalse(output.isEmpty)
                await connection.close()
            }
        }
    }

    func testPagingWithAndWithoutTerminalLengthZero() async throws {
        let lab = try lab
        try await withTransport { transport in
            // Configurations, not counters: they must not change between the two reads.
            for (device, platformName, command) in [("par-acc1", "cisco_ios", "show running-config"), ("par-core1", "juniper_junos", "show configuration")] {
                let platform = try lab.platform(platformName)
                let connection = try await transport.connect(lab.endpoint(device))
                let plain = try await connection.openCLI(platform: platform, disablePaging: true)
                try await plain.enable(secret: "x")
                let reference = try await plain.send(command)
                let paged = try await connection.openCLI(platform: platform, disablePaging: false)
                try await paged.enable(secret: "x")
                let answered = try await paged.send(command)
                XCTAssertGreaterThan(reference.split(separator: "\n").count, 30, "\(device): long enough to page")
                XCTAssertFalse(answered.contains("--More--") || answered.contains("(more"), "\(device): pager prompts removed")
                // The lab stamps the read's time into a few lines (as devices do): those may differ
                // when the two reads straddle a second.
                func steady(_ text: String) -> [Substring] {
                    text.split(separator: "\n", omittingEmptySubsequences: false).filter {
                        !($0.hasPrefix("## Last commit") || $0.hasPrefix("! Last configuration change") || $0.hasPrefix("ntp clock-period"))
                    }
                }
                XCTAssertEqual(steady(answered), steady(reference), "\(device): paged output is the whole output")
                await plain.close()
                await paged.close()
                await connection.close()
            }
        }
    }

    func testEnableAndConfigure() async throws {
        let lab = try lab
        try await withTransport { transport in
            let connection = try await transport.connect(lab.endpoint("par-acc2"))
            let cli = try await connection.openCLI(platform: try lab.platform("cisco_ios"))
            do {
                _ = try await cli.configure(["interface Loopback77"])
                XCTFail("configured from user mode")
            } catch let error as SSHError {
                XCTAssertTrue(error.description.contains("privileged"), error.description)
            }
            try await cli.enable(secret: "lab-enable")
            var mode = await cli.mode
            XCTAssertEqual(mode, .enable)
            let enabledPrompt = await cli.prompt
            XCTAssertTrue(enabledPrompt.hasSuffix("#"), enabledPrompt)
            _ = try await cli.configure(["interface Loopback77", " description set by switchboard", " ip address 10.77.77.1 255.255.255.255"])
            mode = await cli.mode
            XCTAssertEqual(mode, .enable, "left configuration mode")
            let running = try await cli.send("show running-config interface Loopback77")
            XCTAssertTrue(running.contains("description set by switchboard"), running)
            // A rejected line is named by position (lines may hold secrets) and config mode is left.
            do {
                _ = try await cli.configure(["interface Loopback78", "frobnicate secret-value-123"])
                XCTFail("accepted a bad line")
            } catch let error as SSHError {
                guard case .commandRejected(_, _, let command, _) = error else { return XCTFail("\(error)") }
                XCTAssertEqual(command, "configuration line 2 of 2")
                XCTAssertFalse(error.description.contains("secret-value-123"))
            }
            mode = await cli.mode
            XCTAssertEqual(mode, .enable)
            await connection.close()

            // Junos: configure, commit, leave; a renamed host changes the prompt.
            let junos = try await transport.connect(lab.endpoint("lon-core1"))
            let jcli = try await junos.openCLI(platform: try lab.platform("juniper_junos"))
            let transcript = try await jcli.configure(["set interfaces lo0 description sb-test", "set system host-name lon-core1-renamed"])
            XCTAssertTrue(transcript.contains("commit complete"), transcript)
            let renamed = await jcli.prompt
            XCTAssertTrue(renamed.contains("lon-core1-renamed"), renamed)
            let shown = try await jcli.send("show configuration interfaces lo0")
            XCTAssertTrue(shown.contains("sb-test"), shown)
            _ = try await jcli.configure(["set system host-name lon-core1"])
            await junos.close()
        }
    }

    func testEscapeSequencesAreStrippedFromCLIOutputButNotFromExec() async throws {
        let lab = try lab
        try await withTransport { transport in
            let connection = try await transport.connect(lab.endpoint("fault-escape"))
            let raw = try await connection.exec("show version")
            XCTAssertTrue(raw.stdout.contains(0x1b), "exec output is raw")
            let cli = try await connection.openCLI(platform: try lab.platform("cisco_ios"))
            let output = try await cli.send("show version")
            XCTAssertFalse(output.unicodeScalars.contains("\u{1b}"), output)
            XCTAssertFalse(output.contains("pwned"), "window-title sequences are removed whole")
            XCTAssertTrue(output.contains("Cisco IOS Software"), output)
            await connection.close()
        }
    }

    // MARK: timeouts and faults

    func testHungPromptTimesOutWithTheCommandNamed() async throws {
        let lab = try lab
        try await withTransport { transport in
            let connection = try await transport.connect(lab.endpoint("fault-hang"))
            // fault-hang answers its first command, then never prompts again.
            let cli = try await connection.openCLI(platform: try lab.platform("cisco_ios"), disablePaging: false)
            let start = Date()
            do {
                _ = try await cli.send("show clock", timeout: .milliseconds(800))
                XCTFail("the prompt came back")
            } catch let error as SSHError {
                // What was awaited and the last line received are named.
                XCTAssertEqual(error, .timeout(host: connection.host, port: connection.port, phase: .command, seconds: 0.8,
                                               detail: "show clock; awaited the prompt \"fault-hang>\"; last line received: nothing"))
                XCTAssertTrue(error.description.contains("command (show clock; awaited the prompt \"fault-hang>\"; last line received: nothing) timed out after 0.8 s"),
                              error.description)
            }
            let elapsed = Date().timeIntervalSince(start)
            XCTAssertGreaterThan(elapsed, 0.75)
            XCTAssertLessThan(elapsed, 3)
            do {
                _ = try await cli.send("show version")
                XCTFail("a session that timed out was reused")
            } catch let error as SSHError {
                XCTAssertTrue(error.description.contains("unusable"), error.description)
            }
            // The connection itself is fine: exec still works.
            let result = try await connection.exec("show clock")
            XCTAssertEqual(result.exitStatus, 0)
            await connection.close()
        }
    }

    /// A device silent for 4.5 s after login (a busy router, an AAA server holding the session) is
    /// slow, not broken: the prompt is awaited up to the command timeout, nudging less often, instead
    /// of giving up after three quick line endings (under load the lab's devices were taken for dead).
    func testADeviceSlowToGreetIsWaitedFor() async throws {
        let lab = try lab
        try await withTransport { transport in
            let connection = try await transport.connect(lab.endpoint("fault-slow"))
            let start = Date()
            let cli = try await connection.openCLI(platform: try lab.platform("cisco_ios"), disablePaging: false)
            XCTAssertGreaterThan(Date().timeIntervalSince(start), 4, "the device really was silent")
            let prompt = await cli.prompt
            XCTAssertEqual(prompt, "fault-slow>")
            let output = try await cli.send("show version")
            XCTAssertTrue(output.contains("Cisco IOS Software"), output)
            await connection.close()
        }
    }

    func testExecTimeoutAndCancellation() async throws {
        let lab = try lab
        try await withTransport { transport in
            // fault-slow takes 1.5 s per command (and 4.5 s to greet).
            let connection = try await transport.connect(lab.endpoint("fault-slow"))
            let start = Date()
            do {
                _ = try await connection.exec("show version", timeout: .milliseconds(400))
                XCTFail("no timeout")
            } catch let error as SSHError {
                guard case .timeout(_, _, .command, 0.4, "show version") = error else { return XCTFail("\(error)") }
            }
            XCTAssertLessThan(Date().timeIntervalSince(start), 1.2, "the timeout does not wait for the device")
            let task = Task { try await connection.exec("show version") }
            try await Task.sleep(for: .milliseconds(200))
            task.cancel()
            do {
                _ = try await task.value
                XCTFail("not cancelled")
            } catch {
                XCTAssertTrue(error is CancellationError, "\(error)")
            }
            // Given the time, the same connection answers.
            let result = try await connection.exec("show version", timeout: .seconds(10))
            XCTAssertTrue(result.output.contains("Cisco IOS Software"))
            await connection.close()
        }
    }

    func testTenMegabyteOutputArrivesIntact() async throws {
        let lab = try lab
        try await withTransport(commandTimeout: .seconds(120)) { transport in
            let connection = try await transport.connect(lab.endpoint("fault-huge"))
            let result = try await connection.exec("show running-config")
            XCTAssertEqual(result.exitStatus, 0)
            XCTAssertGreaterThan(result.stdout.count, 10_000_000)
            try Self.assertEndChecksum(result.stdout, "exec")

            let cli = try await connection.openCLI(platform: try lab.platform("cisco_ios"))
            try await cli.enable(secret: "x")
            let output = try await cli.send("show running-config")
            XCTAssertGreaterThan(output.utf8.count, 10_000_000)
            try Self.assertEndChecksum(Array(output.utf8), "CLI")
            await connection.close()
        }
    }

    /// The last line is `! END sha256=<hex of every byte before that line>`.
    static func assertEndChecksum(_ bytes: [UInt8], _ label: String, file: StaticString = #filePath, line: UInt = #line) throws {
        var end = bytes.count
        while end > 0 && (bytes[end - 1] == 0x0a || bytes[end - 1] == 0x0d) { end -= 1 }
        var start = end
        while start > 0 && bytes[start - 1] != 0x0a { start -= 1 }
        let last = String(decoding: bytes[start..<end], as: UTF8.self)
        guard last.hasPrefix("! END sha256=") else { return XCTFail("\(label): last line is \(last)", file: file, line: line) }
        let expected = String(last.dropFirst("! END sha256=".count))
        XCTAssertEqual(try sha256(Array(bytes[..<start])), expected, "\(label): content differs from what the device sent", file: file, line: line)
    }

    static func sha256(_ bytes: [UInt8]) throws -> String {
        let path = try TransportTestSupport.temporaryDirectory("switchboard-sha") + "/data"
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let (status, output) = try TransportTestSupport.run("/usr/bin/sha256sum", [path])
        XCTAssertEqual(status, 0)
        return String(output.prefix(64))
    }

    func testDisconnectMidOutputIsATypedError() async throws {
        let lab = try lab
        try await withTransport { transport in
            // fault-disconnect drops the session after 3000 bytes of output.
            let connection = try await transport.connect(lab.endpoint("fault-disconnect"))
            let cli = try await connection.openCLI(platform: try lab.platform("cisco_ios"))
            try await cli.enable(secret: "x")
            do {
                _ = try await cli.send("show tech-support")
                XCTFail("no disconnect")
            } catch let error as SSHError {
                guard case .disconnected(_, _, let bytes, let detail) = error else { return XCTFail("\(error)") }
                XCTAssertGreaterThan(bytes, 0, "counts what had arrived")
                XCTAssertLessThan(bytes, 3000)
                XCTAssertTrue(detail.contains("show tech-support"), detail)
            }
            await connection.close()
        }
    }

    /// A connection cut at the TCP level in the middle of a 10 MB exec: `.disconnected` with the
    /// byte count, not a hang and not a truncated success.
    func testConnectionCutMidExecIsATypedError() async throws {
        let lab = try lab
        let huge = lab.device("fault-huge")
        let proxy = try CuttingProxy(targetPort: huge.port, cutAfter: 400_000)
        defer { proxy.stop() }
        var endpoint = lab.endpoint("fault-huge")
        endpoint.port = proxy.port
        // The proxy's port is not in known_hosts; accept-new into a scratch file.
        let scratch = try TransportTestSupport.temporaryDirectory("switchboard-cut")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let transport = try SSHTransport(configuration: lab.configuration(policy: .acceptNew, writable: scratch + "/known_hosts"))
        defer { transport.shutdown() }
        let connection = try await transport.connect(endpoint)
        do {
            _ = try await connection.exec("show running-config")
            XCTFail("the exec survived the cut")
        } catch let error as SSHError {
            guard case .disconnected(_, _, let bytes, _) = error else { return XCTFail("\(error)") }
            // Everything that crossed the wire before the cut was delivered and counted: 400 kB
            // minus the handshake, authentication and SSH framing.
            XCTAssertGreaterThan(bytes, 300_000)
            XCTAssertLessThan(bytes, 400_000)
        }
        await connection.close()
    }

    // MARK: interactive

    func testInteractiveSessionPumpsBytesAndReportsExit() async throws {
        let lab = try lab
        try await withTransport { transport in
            let connection = try await transport.connect(lab.endpoint("par-acc1"))
            let session = try await connection.openInteractive(terminal: "xterm", columns: 100, rows: 30)
            let collector = EventCollector(session.events)
            let banner = try await collector.waitFor("par-acc1>")
            XCTAssertTrue(banner.contains("Cisco IOS simulation"), banner)
            try await session.write("show clock\n")
            let clock = try await collector.waitFor("par-acc1>", after: banner.count)
            XCTAssertTrue(clock.contains("show clock"), "the PTY echoes: \(clock)")
            try await session.resize(columns: 132, rows: 50)
            try await session.write("exit\n")
            let status = try await collector.waitForClose()
            XCTAssertEqual(status, 0)
            await session.close()
            // The connection outlives its interactive session.
            let result = try await connection.exec("show version")
            XCTAssertEqual(result.exitStatus, 0)
            await connection.close()
        }
    }

    // MARK: scale

    func testManyDevicesConcurrently() async throws {
        let lab = try lab
        let devices = lab.status.devices.filter { !$0.isFault && $0.jump.isEmpty && !$0.name.hasPrefix("kbdint") }
        XCTAssertGreaterThanOrEqual(devices.count, 20)
        /// A command whose output names the device, per platform.
        let commands = ["cisco_ios": "show version", "juniper_junos": "show version", "arista_eos": "show hostname",
                        "cisco_nxos": "show hostname", "linux": "hostname"]
        try await withTransport { transport in
            let outputs = try await withThrowingTaskGroup(of: (String, String).self) { group in
                for device in devices {
                    let name = device.name
                    let command = commands[device.platform] ?? "show version"
                    group.addTask {
                        let connection = try await transport.connect(lab.endpoint(name))
                        let first = try await connection.exec(command)
                        // Three channels at once on one connection.
                        async let a = connection.exec(command)
                        async let b = connection.exec(command)
                        let (ra, rb) = try await (a, b)
                        XCTAssertEqual(ra.output, first.output)
                        XCTAssertEqual(rb.output, first.output)
                        await connection.close()
                        return (name, first.output)
                    }
                }
                var result: [String: String] = [:]
                for try await (name, output) in group { result[name] = output }
                return result
            }
            XCTAssertEqual(outputs.count, devices.count)
            for (name, output) in outputs { XCTAssertTrue(output.contains(name), "\(name): \(output.prefix(200))") }
        }
    }

    /// An idle interactive session and an idle jump tunnel leave the loop threads asleep in poll.
    func testIdleSessionsDoNotSpin() async throws {
        let lab = try lab
        try await withTransport { transport in
            let connection = try await transport.connect(lab.endpoint("par-acc1"))
            let session = try await connection.openInteractive()
            let collector = EventCollector(session.events)
            _ = try await collector.waitFor("par-acc1>")
            let behind = try await transport.connect(lab.target("oob-par-1"))
            _ = try await behind.exec("show clock")
            let closedTunnelTarget = try await transport.connect(lab.target("oob-par-1"))
            await closedTunnelTarget.close()  // its tunnel closes while the jump session stays
            try await Task.sleep(for: .milliseconds(200))
            let before = Self.cpuSeconds()
            try await Task.sleep(for: .seconds(2))
            let used = Self.cpuSeconds() - before
            XCTAssertLessThan(used, 0.2, "the process used \(used) s of CPU while idle")
            await session.close()
            await behind.close()
            await connection.close()
        }
    }

    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    func testKeepaliveKeepsAnIdleConnectionUsable() async throws {
        let lab = try lab
        var configuration = lab.configuration()
        configuration.keepaliveInterval = 1
        let transport = try SSHTransport(configuration: configuration)
        defer { transport.shutdown() }
        let connection = try await transport.connect(lab.endpoint("par-dist2"))
        try await Task.sleep(for: .milliseconds(2_600))  // two keepalives go out meanwhile
        let result = try await connection.exec("show version")
        XCTAssertEqual(result.exitStatus, 0)
        await connection.close()
    }
}

/// Collects an interactive session's events in the background so a test can wait for text.
final class EventCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var bytes: [UInt8] = []
    private var exit: Int32??
    private var task: Task<Void, Never>?

    init(_ events: AsyncStream<InteractiveSession.Event>) {
        task = Task { [weak self] in
            for await event in events {
                guard let self else { return }
                self.lock.withLock {
                    switch event {
                    case .output(let data): self.bytes += data
                    case .closed(let status, _): self.exit = .some(status)
                    }
                }
            }
        }
    }

    var text: String { lock.withLock { String(decoding: bytes, as: UTF8.self) } }

    func waitFor(_ needle: String, after offset: Int = 0, timeout: TimeInterval = 10) async throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let text = self.text
            let tail = String(text.dropFirst(offset))
            if tail.contains(needle) { return tail }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw EnvironmentFailure("timed out waiting for \(needle); got \(text.suffix(300))")
    }

    func waitForClose(timeout: TimeInterval = 10) async throws -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let exit = lock.withLock({ self.exit }) { return exit }
            try await Task.sleep(for: .milliseconds(20))
        }
        XCTFail("the session did not close")
        return nil
    }
}

/// A TCP relay to a lab port that closes both directions once `cutAfter` bytes went from the
/// server to the client, as a device that dies mid-output would.
final class CuttingProxy: @unchecked Sendable {
    private let listener: SilentServer
    private let targetPort: Int
    private let cutAfter: Int
    private var thread: Thread?
    private let stopped = NSLock()
    private var isStopped = false

    var port: Int { listener.port }

    init(targetPort: Int, cutAfter: Int) throws {
        listener = try SilentServer()
        self.targetPort = targetPort
        self.cutAfter = cutAfter
        let thread = Thread { [self] in self.serve() }
        self.thread = thread
        thread.start()
    }

    func stop() {
        stopped.lock()
        isStopped = true
        stopped.unlock()
        shutdown(listener.fd, Int32(SHUT_RDWR))
        listener.stop()
    }

    private func serve() {
        let client = accept(listener.fd, nil, nil)
        guard client >= 0 else { return }
        defer { close(client) }
        let server = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(server) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(targetPort).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(server, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return }
        var fromServer = 0
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while fromServer < cutAfter {
            var fds = [pollfd(fd: client, events: Int16(POLLIN), revents: 0), pollfd(fd: server, events: Int16(POLLIN), revents: 0)]
            guard poll(&fds, 2, 200) >= 0 else { return }
            stopped.lock()
            let stop = isStopped
            stopped.unlock()
            if stop { return }
            if fds[0].revents != 0 {
                let n = read(client, &buffer, buffer.count)
                if n <= 0 || write(server, buffer, n) != n { return }
            }
            if fds[1].revents != 0 {
                let n = read(server, &buffer, min(buffer.count, cutAfter - fromServer))
                if n <= 0 || write(client, buffer, n) != n { return }
                fromServer += n
            }
        }
        // Cut: both sockets close (the deferred closes), as when the far end's box dies.
    }
}
