@testable import Engine
import Foundation
import Store
import XCTest

/// Transport behaviour that needs no SSH server: errors, algorithm lists, key inspection, the
/// loop threads, refused and silent TCP peers.
final class TransportUnitTests: XCTestCase {
    func testAuthenticationFailureMessageNamesMethodsNeverSecrets() {
        let error = SSHError.authenticationFailed(user: "admin", host: "10.0.0.1", port: 22, tried: ["publickey", "password"],
                                                  allowed: ["publickey", "password"], note: nil)
        XCTAssertEqual(error.description, "authentication failed for admin@10.0.0.1:22 (tried publickey, password; server allows publickey,password)")
        let secret = "hunter2-very-secret"
        for method in [SSHAuthentication.password(secret), .keyboardInteractive(password: secret), .inlineKey(privateKey: secret, passphrase: secret),
                       .keyFile(path: "/k", passphrase: secret)] {
            var dumped = ""
            dump(method, to: &dumped)
            XCTAssertFalse("\(method)".contains(secret))
            XCTAssertFalse(String(reflecting: method).contains(secret))
            XCTAssertFalse(dumped.contains(secret), dumped)
        }
    }

    func testHostKeyMessages() {
        let unknown = SSHError.unknownHostKey(host: "127.0.0.1", port: 2201, keyType: "ssh-ed25519", fingerprint: "SHA256:abc", device: "par-acc1")
        XCTAssertTrue(unknown.description.contains("127.0.0.1:2201"))
        XCTAssertTrue(unknown.description.contains("ssh-ed25519 SHA256:abc"))
        XCTAssertTrue(unknown.description.contains("switchboard trust par-acc1"))
        let changed = SSHError.changedHostKey(host: "::1", port: 22, keyType: "ssh-ed25519", fingerprint: "SHA256:abc",
                                              knownHostsFile: "/kh", line: 3, device: nil)
        XCTAssertTrue(changed.description.hasPrefix("WARNING: the host key of [::1]:22 has CHANGED"))
        XCTAssertTrue(changed.description.contains("man-in-the-middle"))
        XCTAssertTrue(changed.description.contains("/kh:3"))
        XCTAssertTrue(changed.description.contains("switchboard trust [::1]:22"))
    }

    func testLegacyAlgorithmsOnlyWhenAsked() {
        let modern = AlgorithmPreferences.lists(legacy: false, knownKeyTypes: [])
        let legacy = AlgorithmPreferences.lists(legacy: true, knownKeyTypes: [])
        let (kex, hostKey, cipher): (Int32, Int32, Int32) = (0, 1, 2)  // LIBSSH2_METHOD_KEX, _HOSTKEY, _CRYPT_CS
        XCTAssertEqual(modern[kex]?.first, "curve25519-sha256")
        XCTAssertFalse(modern[kex]!.contains("diffie-hellman-group14-sha1"))
        XCTAssertFalse(modern[kex]!.contains("diffie-hellman-group1-sha1"))
        XCTAssertTrue(legacy[kex]!.contains("diffie-hellman-group14-sha1"))
        XCTAssertTrue(legacy[kex]!.contains("diffie-hellman-group1-sha1"))
        XCTAssertEqual(modern[hostKey]?.first, "ssh-ed25519")
        XCTAssertFalse(modern[hostKey]!.contains("ssh-rsa"))
        XCTAssertFalse(modern[hostKey]!.contains("ssh-dss"))
        XCTAssertTrue(legacy[hostKey]!.contains("ssh-rsa"))
        XCTAssertFalse(modern[cipher]!.contains("aes128-cbc"))
        XCTAssertTrue(legacy[cipher]!.contains("aes128-cbc"))
        // Legacy ones come after the modern ones.
        XCTAssertLessThan(legacy[kex]!.firstIndex(of: "ecdh-sha2-nistp256")!, legacy[kex]!.firstIndex(of: "diffie-hellman-group1-sha1")!)
        // A host known by its ecdsa key gets ecdsa offered first.
        XCTAssertEqual(AlgorithmPreferences.lists(legacy: false, knownKeyTypes: [.ecdsa256])[hostKey]?.first, "ecdsa-sha2-nistp256")
    }

    func testConfigurationFromSettings() throws {
        let paths = Paths(environment: ["HOME": "/home/eng", "XDG_DATA_HOME": "/data", "XDG_CONFIG_HOME": "/nonexistent-config"])
        let settings = try SettingsLoader(paths: paths, shippedPath: nil)
            .load(overrides: ["ssh.legacy_algorithms=true", "ssh.host_key_policy=accept-new", "ssh.known_hosts=~/extra_hosts",
                              "ssh.connect_timeout=4", "ssh.command_timeout=90", "ssh.keepalive=15"])
        let configuration = SSHTransportConfiguration(settings: settings, paths: paths)
        XCTAssertEqual(configuration.knownHosts.writableFile, "/data/switchboard/known_hosts")
        XCTAssertEqual(configuration.knownHosts.readFiles, ["/data/switchboard/known_hosts", "/home/eng/extra_hosts", "/home/eng/.ssh/known_hosts"])
        XCTAssertEqual(configuration.hostKeyPolicy, .acceptNew)
        XCTAssertTrue(configuration.legacyAlgorithms)
        XCTAssertEqual(configuration.connectTimeout, .seconds(4))
        XCTAssertEqual(configuration.commandTimeout, .seconds(90))
        XCTAssertEqual(configuration.keepaliveInterval, 15)
    }

    func testPrivateKeyTypes() throws {
        let dir = try TransportTestSupport.temporaryDirectory("switchboard-keytypes")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let rsa = try TransportTestSupport.makeKey("rsa", in: dir, name: "rsa", passphrase: "pass phrase")
        let ed = try TransportTestSupport.makeKey("ed25519", in: dir, name: "ed")
        let ec = try TransportTestSupport.makeKey("ecdsa", in: dir, name: "ec")
        XCTAssertEqual(PrivateKeyInspector.keyType(file: rsa), "ssh-rsa", "even encrypted: the public part is in clear")
        XCTAssertEqual(PrivateKeyInspector.keyType(file: ed), "ssh-ed25519")
        XCTAssertEqual(PrivateKeyInspector.keyType(file: ec), "ecdsa-sha2-nistp256")
        XCTAssertEqual(PrivateKeyInspector.keyType(pem: "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n"), "ssh-rsa")
        XCTAssertNil(PrivateKeyInspector.keyType(pem: "not a key"))
    }

    func testLoopThreadsAreJoinedOnShutdown() throws {
        let before = TransportTestSupport.threadCount()
        let transport = try SSHTransport(configuration: SSHTransportConfiguration(ioThreads: 3))
        XCTAssertEqual(TransportTestSupport.threadCount(), before + 3)
        transport.shutdown()
        XCTAssertEqual(TransportTestSupport.threadCount(), before)
        transport.shutdown()  // idempotent
    }

    func testRefusedPortIsUnreachableWithTheOSReason() async throws {
        let server = try SilentServer()
        let port = server.port
        server.stop()  // nothing listens there any more
        let transport = try SSHTransport(configuration: SSHTransportConfiguration(ioThreads: 1))
        defer { transport.shutdown() }
        do {
            _ = try await transport.connect(SSHEndpoint(host: "127.0.0.1", port: port, username: "u", authentication: []))
            XCTFail("connected to a closed port")
        } catch let error as SSHError {
            XCTAssertEqual(error, .unreachable(host: "127.0.0.1", port: port, reason: "Connection refused"))
            XCTAssertEqual(error.description, "cannot reach 127.0.0.1:\(port): Connection refused")
        }
        await assertThrowsUnreachable(transport, host: "no-such-host.invalid")
    }

    func assertThrowsUnreachable(_ transport: SSHTransport, host: String) async {
        do {
            _ = try await transport.connect(SSHEndpoint(host: host, port: 22, username: "u", authentication: []))
            XCTFail("resolved \(host)")
        } catch let error as SSHError {
            guard case .unreachable(let h, _, let reason) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(h, host)
            XCTAssertFalse(reason.isEmpty)
        } catch { XCTFail("\(error)") }
    }

    func testSilentServerTimesOutInTheHandshake() async throws {
        let server = try SilentServer()
        defer { server.stop() }
        let transport = try SSHTransport(configuration: SSHTransportConfiguration(ioThreads: 1, connectTimeout: .milliseconds(700)))
        defer { transport.shutdown() }
        let start = Date()
        do {
            _ = try await transport.connect(SSHEndpoint(host: "127.0.0.1", port: server.port, username: "u", authentication: []))
            XCTFail("handshake with a silent server")
        } catch let error as SSHError {
            XCTAssertEqual(error, .timeout(host: "127.0.0.1", port: server.port, phase: .handshake, seconds: 0.7, detail: ""))
            XCTAssertTrue(error.description.contains("SSH handshake timed out after 0.7 s"), error.description)
        }
        let elapsed = Date().timeIntervalSince(start)
        XCTAssertGreaterThan(elapsed, 0.6)
        XCTAssertLessThan(elapsed, 3)
    }

    /// A listener whose backlog is full drops further SYNs: the TCP connect itself never completes.
    func testConnectTimeout() async throws {
        let server = try SilentServer(backlog: 0)
        defer { server.stop() }
        var fillers: [Int32] = []
        defer { fillers.forEach { close($0) } }
        for _ in 0..<3 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(server.port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            _ = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            fillers.append(fd)
            usleep(100_000)
        }
        let transport = try SSHTransport(configuration: SSHTransportConfiguration(ioThreads: 1, connectTimeout: .milliseconds(500)))
        defer { transport.shutdown() }
        do {
            _ = try await transport.connect(SSHEndpoint(host: "127.0.0.1", port: server.port, username: "u", authentication: []))
            XCTFail("connected")
        } catch let error as SSHError {
            XCTAssertEqual(error, .timeout(host: "127.0.0.1", port: server.port, phase: .connect, seconds: 0.5, detail: ""))
            XCTAssertEqual(error.description, "127.0.0.1:\(server.port): TCP connect timed out after 0.5 s")
        }
    }

    func testCancellingAConnectEndsItPromptly() async throws {
        let server = try SilentServer()
        defer { server.stop() }
        let transport = try SSHTransport(configuration: SSHTransportConfiguration(ioThreads: 1, connectTimeout: .seconds(30)))
        defer { transport.shutdown() }
        let port = server.port
        let task = Task { try await transport.connect(SSHEndpoint(host: "127.0.0.1", port: port, username: "u", authentication: [])) }
        try await Task.sleep(for: .milliseconds(200))
        let start = Date()
        task.cancel()
        do {
            _ = try await task.value
            XCTFail("connected")
        } catch {
            XCTAssertTrue(error is CancellationError, "\(error)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 2)
    }

    func testOperationsAfterShutdownFailCleanly() async throws {
        let transport = try SSHTransport(configuration: SSHTransportConfiguration(ioThreads: 1))
        transport.shutdown()
        do {
            _ = try await transport.connect(SSHEndpoint(host: "127.0.0.1", port: 22, username: "u", authentication: []))
            XCTFail("connected after shutdown")
        } catch let error as SSHError {
            XCTAssertEqual(error, .closed(host: "127.0.0.1", port: 22))
        }
    }
}

/// A TCP listener that accepts nothing and says nothing: the kernel completes connections into
/// its backlog, and clients wait forever for the SSH banner.
final class SilentServer: @unchecked Sendable {
    let fd: Int32
    let port: Int

    init(backlog: Int32 = 16) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Bool in
                bind(fd, pointer, length) == 0 && listen(fd, backlog) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else {
            close(fd)
            throw EnvironmentFailure("cannot listen on 127.0.0.1")
        }
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    func stop() { close(fd) }
}
