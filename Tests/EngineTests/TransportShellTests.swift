import Engine
import Foundation
import Store
import XCTest

/// Exec and interactive sessions against a private sshd with a real shell (the lab's logins all
/// land in the simulated CLI): exit statuses and signals, stderr, window-change, exit reporting.
final class TransportShellTests: XCTestCase {
    nonisolated(unsafe) static var server: ShellServer?
    nonisolated(unsafe) static var serverError: (any Error)?

    override class func setUp() {
        super.setUp()
        do { server = try ShellServer() } catch { serverError = error }
    }

    override class func tearDown() {
        server?.stop()
        server = nil
        super.tearDown()
    }

    var server: ShellServer {
        get throws {
            if let server = Self.server { return server }
            throw EnvironmentFailure("no private sshd: \(Self.serverError.map { "\($0)" } ?? "unknown error")")
        }
    }

    func connect() async throws -> (SSHTransport, SSHConnection) {
        let server = try server
        let transport = try SSHTransport(configuration: SSHTransportConfiguration(
            ioThreads: 2, commandTimeout: .seconds(10), knownHosts: KnownHosts(files: [server.knownHosts])))
        let connection = try await transport.connect(SSHEndpoint(host: "127.0.0.1", port: server.port, username: server.user,
                                                                 authentication: [.keyFile(path: server.userKey)]))
        return (transport, connection)
    }

    func testExecStatusSignalAndStreams() async throws {
        let (transport, connection) = try await connect()
        defer { transport.shutdown() }
        let streams = try await connection.exec("echo out; echo err >&2; exit 7")
        XCTAssertEqual(streams.output, "out\n")
        XCTAssertEqual(streams.errorOutput, "err\n")
        XCTAssertEqual(streams.exitStatus, 7)
        XCTAssertNil(streams.exitSignal)
        let killed = try await connection.exec("kill -TERM $$")
        XCTAssertEqual(killed.exitSignal, "TERM")
        // Binary-safe and large: 3 MB of every byte value.
        let bytes = try await connection.exec("head -c 3000000 /dev/zero | tr '\\0' '\\377'")
        XCTAssertEqual(bytes.stdout.count, 3_000_000)
        XCTAssertTrue(bytes.stdout.allSatisfy { $0 == 0xff })
        await connection.close()
    }

    func testWindowChangeReachesThePTYAndExitIsReported() async throws {
        let (transport, connection) = try await connect()
        defer { transport.shutdown() }
        let session = try await connection.openInteractive(terminal: "xterm-256color", columns: 100, rows: 30)
        let collector = EventCollector(session.events)
        // Markers the shell computes, so the PTY's echo of the command line does not match them.
        try await session.write("stty size; echo TERM=$TERM; echo MARK-$((40+2))\n")
        let first = try await collector.waitFor("MARK-42")
        XCTAssertTrue(first.contains("30 100"), first)
        XCTAssertTrue(first.contains("TERM=xterm-256color"), first)
        try await session.resize(columns: 132, rows: 43)
        let offset = collector.text.count
        try await session.write("stty size; echo MARK-$((40+3))\n")
        let second = try await collector.waitFor("MARK-43", after: offset)
        XCTAssertTrue(second.contains("43 132"), second)
        try await session.write("exit 3\n")
        let status = try await collector.waitForClose()
        XCTAssertEqual(status, 3)
        await session.close()
        await connection.close()
    }
}

extension TransportShellTests {
    /// An old device: only SHA-1 key exchange, an RSA host key signed with ssh-rsa, CBC ciphers.
    func testLegacyAlgorithmsAreOfferedOnlyWhenAsked() async throws {
        let old = try ShellServer(hostKeyType: "rsa", extraConfig: [
            "KexAlgorithms diffie-hellman-group14-sha1", "HostKeyAlgorithms ssh-rsa", "Ciphers aes128-cbc"])
        defer { old.stop() }
        let endpoint = SSHEndpoint(host: "127.0.0.1", port: old.port, username: old.user, authentication: [.keyFile(path: old.userKey)])
        let modern = try SSHTransport(configuration: SSHTransportConfiguration(ioThreads: 1, knownHosts: KnownHosts(files: [old.knownHosts])))
        defer { modern.shutdown() }
        do {
            _ = try await modern.connect(endpoint)
            XCTFail("negotiated legacy algorithms without being asked")
        } catch let error as SSHError {
            XCTAssertTrue(error.description.contains("ssh.legacy_algorithms"), error.description)
        }
        // Per device…
        var legacyDevice = endpoint
        legacyDevice.legacyAlgorithms = true
        let perDevice = try await modern.connect(legacyDevice)
        XCTAssertEqual(perDevice.hostKey.type, .rsa)
        let echoed = try await perDevice.exec("echo old").output
        XCTAssertEqual(echoed, "old\n")
        await perDevice.close()
        // …or for every device (the ssh.legacy_algorithms setting).
        let everywhere = try SSHTransport(configuration: SSHTransportConfiguration(
            ioThreads: 1, legacyAlgorithms: true, knownHosts: KnownHosts(files: [old.knownHosts])))
        defer { everywhere.shutdown() }
        let connection = try await everywhere.connect(endpoint)
        await connection.close()
    }
}

/// An sshd of our own on a free port, logging the current user in with a fresh key to a real shell.
final class ShellServer: @unchecked Sendable {
    let directory: String
    let port: Int
    let user: String
    let userKey: String
    let knownHosts: String
    private var pid: Int32 = 0

    init(hostKeyType: String = "ed25519", extraConfig: [String] = []) throws {
        guard let sshd = ["/usr/sbin/sshd"].first(where: FileManager.default.isExecutableFile) else { throw EnvironmentFailure("sshd is not installed") }
        directory = try TransportTestSupport.temporaryDirectory("switchboard-shell")
        chmod(directory, 0o755)
        user = String(cString: getpwuid(geteuid()).pointee.pw_name)
        let hostKey = try TransportTestSupport.makeKey(hostKeyType, in: directory, name: "host_key")
        userKey = try TransportTestSupport.makeKey("ed25519", in: directory, name: "user_key")
        try FileManager.default.copyItem(atPath: userKey + ".pub", toPath: directory + "/authorized_keys")
        chmod(directory + "/authorized_keys", 0o644)
        port = TransportTestSupport.freeBasePort(devices: 1)
        let config = [
            "Port \(port)", "ListenAddress 127.0.0.1", "HostKey \(hostKey)", "PidFile \(directory)/sshd.pid",
            "AuthorizedKeysFile \(directory)/authorized_keys", "StrictModes no", "UsePAM no", "PubkeyAuthentication yes",
            "PasswordAuthentication no", "KbdInteractiveAuthentication no", "PermitRootLogin prohibit-password",
            "AllowUsers \(user)", "PermitTTY yes", "PrintMotd no", "PrintLastLog no", "UseDNS no", "LogLevel ERROR",
        ].joined(separator: "\n") + "\n" + extraConfig.map { $0 + "\n" }.joined()
        try config.write(toFile: directory + "/sshd_config", atomically: true, encoding: .utf8)
        if geteuid() == 0 { try? FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true) }
        let (status, output) = try TransportTestSupport.run(sshd, ["-f", directory + "/sshd_config", "-E", directory + "/sshd.log"])
        guard status == 0 else { throw EnvironmentFailure("sshd did not start: \(output)") }
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            if let text = try? String(contentsOfFile: directory + "/sshd.pid", encoding: .utf8),
               let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                self.pid = pid
                break
            }
            usleep(20_000)
        }
        guard pid > 0 else { throw EnvironmentFailure("sshd wrote no pid file") }
        let line = try String(contentsOfFile: hostKey + ".pub", encoding: .utf8).split(separator: " ").prefix(2).joined(separator: " ")
        knownHosts = directory + "/known_hosts"
        try "[127.0.0.1]:\(port) \(line)\n".write(toFile: knownHosts, atomically: true, encoding: .utf8)
    }

    func stop() {
        if pid > 0 { kill(pid, SIGKILL) }
        try? FileManager.default.removeItem(atPath: directory)
    }
}
