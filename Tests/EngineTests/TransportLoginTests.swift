@testable import Engine
import Foundation
import Lab
import Store
import XCTest

/// Host key checking, every authentication method and its failure, and jump hosts, against the lab.
final class TransportLoginTests: LabBackedTestCase {

    var scratch = ""

    override func setUpWithError() throws {
        scratch = try TransportTestSupport.temporaryDirectory("switchboard-login")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: scratch)
    }

    /// The lab's known_hosts lines, optionally without the given devices' or key types.
    func knownHostsLines(excluding devices: [String] = [], onlyType: String? = nil) throws -> [String] {
        let lab = try lab
        let excluded = devices.map { KnownHosts.entryName(host: lab.device($0).address, port: lab.device($0).port) + " " }
        return try String(contentsOfFile: lab.status.knownHostsPath, encoding: .utf8)
            .split(separator: "\n").map(String.init)
            .filter { line in !excluded.contains { line.hasPrefix($0) } }
            .filter { line in onlyType.map { line.contains(" \($0) ") } ?? true }
    }

    func writeKnownHosts(_ lines: [String], name: String = "known_hosts") throws -> String {
        let path = scratch + "/" + name
        try (lines.joined(separator: "\n") + (lines.isEmpty ? "" : "\n")).write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The lab's ed25519 host key for a device, from its known_hosts.
    func labHostKey(_ device: String, type: String = "ssh-ed25519") throws -> SSHHostKey {
        let lab = try lab
        let name = KnownHosts.entryName(host: lab.device(device).address, port: lab.device(device).port)
        let line = try XCTUnwrap(try knownHostsLines().first { $0.hasPrefix(name + " \(type) ") })
        return try XCTUnwrap(SSHHostKey(openSSHLine: line))
    }

    func connectError(_ transport: SSHTransport, _ target: SSHTarget) async -> SSHError? {
        do {
            let connection = try await transport.connect(target)
            await connection.close()
            XCTFail("connected to \(target)")
            return nil
        } catch let error as SSHError {
            return error
        } catch {
            XCTFail("\(error)")
            return nil
        }
    }

    // MARK: host keys

    func testUnknownHostKeyUnderStrictIsRefusedWithFingerprint() async throws {
        let lab = try lab
        let empty = try writeKnownHosts([])
        let transport = try SSHTransport(configuration: lab.configuration(knownHosts: [empty]))
        defer { transport.shutdown() }
        let d = lab.device("par-acc1")
        let expected = try labHostKey("par-acc1")
        let error = await connectError(transport, lab.target("par-acc1"))
        XCTAssertEqual(error, .unknownHostKey(host: d.address, port: d.port, keyType: "ssh-ed25519", fingerprint: expected.fingerprint, device: "par-acc1"))
        XCTAssertTrue(error?.description.contains("switchboard trust par-acc1") == true)
        XCTAssertEqual(try String(contentsOfFile: empty, encoding: .utf8), "", "strict records nothing")
    }

    func testAcceptNewRecordsThenAcceptsOnTheNextConnect() async throws {
        let lab = try lab
        let recorded = scratch + "/data/switchboard/known_hosts"
        let acceptNew = try SSHTransport(configuration: lab.configuration(policy: .acceptNew, knownHosts: [], writable: recorded))
        defer { acceptNew.shutdown() }
        let first = try await acceptNew.connect(lab.target("par-dist1"))
        let key = first.hostKey
        XCTAssertEqual(key, try labHostKey("par-dist1"))
        await first.close()
        let d = lab.device("par-dist1")
        XCTAssertEqual(try String(contentsOfFile: recorded, encoding: .utf8), "[\(d.address)]:\(d.port) \(key.openSSHLine)\n")
        let mode = (try FileManager.default.attributesOfItem(atPath: recorded)[.posixPermissions] as? NSNumber)?.intValue
        XCTAssertEqual(mode, 0o600)

        // Strict, with only that file: now known.
        let strict = try SSHTransport(configuration: lab.configuration(policy: .strict, knownHosts: [recorded]))
        defer { strict.shutdown() }
        let second = try await strict.connect(lab.target("par-dist1"))
        XCTAssertEqual(second.hostKey, key)
        await second.close()
        // Recorded once, not on every connect.
        let again = try await acceptNew.connect(lab.target("par-dist1"))
        await again.close()
        XCTAssertEqual(try String(contentsOfFile: recorded, encoding: .utf8).split(separator: "\n").count, 1)
    }

    func testChangedHostKeyIsRefusedEvenUnderAcceptNew() async throws {
        let lab = try lab
        let impostor = try TransportTestSupport.makeKey("ed25519", in: scratch, name: "impostor")
        let impostorLine = try String(contentsOfFile: impostor + ".pub", encoding: .utf8).split(separator: " ").prefix(2).joined(separator: " ")
        let d = lab.device("par-acc2")
        let name = KnownHosts.entryName(host: d.address, port: d.port)
        let file = try writeKnownHosts(["# devices", "\(name) \(impostorLine)"])
        let before = try String(contentsOfFile: file, encoding: .utf8)
        let transport = try SSHTransport(configuration: lab.configuration(policy: .acceptNew, knownHosts: [], writable: file))
        defer { transport.shutdown() }
        let error = await connectError(transport, lab.target("par-acc2"))
        let real = try labHostKey("par-acc2")
        XCTAssertEqual(error, .changedHostKey(host: d.address, port: d.port, keyType: "ssh-ed25519", fingerprint: real.fingerprint,
                                              knownHostsFile: file, line: 2, device: "par-acc2"))
        let text = error?.description ?? ""
        XCTAssertTrue(text.hasPrefix("WARNING: the host key of \(d.address):\(d.port) has CHANGED"), text)
        XCTAssertTrue(text.contains("man-in-the-middle"), text)
        XCTAssertEqual(try String(contentsOfFile: file, encoding: .utf8), before, "a changed key is never recorded")
    }

    func testHostKnownOnlyByItsECDSAKeyNegotiatesECDSA() async throws {
        let lab = try lab
        let file = try writeKnownHosts(try knownHostsLines(onlyType: "ecdsa-sha2-nistp256"))
        let transport = try SSHTransport(configuration: lab.configuration(knownHosts: [file]))
        defer { transport.shutdown() }
        let connection = try await transport.connect(lab.target("lon-acc1"))
        XCTAssertEqual(connection.hostKey.type, .ecdsa256)
        XCTAssertEqual(connection.hostKey, try labHostKey("lon-acc1", type: "ecdsa-sha2-nistp256"))
        await connection.close()
    }

    func testHashedKnownHostsWork() async throws {
        let lab = try lab
        let file = try writeKnownHosts(try knownHostsLines())
        let (status, output) = try TransportTestSupport.run("/usr/bin/ssh-keygen", ["-H", "-f", file])
        XCTAssertEqual(status, 0, output)
        XCTAssertFalse(try String(contentsOfFile: file, encoding: .utf8).contains("127.0.0.1"))
        let transport = try SSHTransport(configuration: lab.configuration(knownHosts: [file]))
        defer { transport.shutdown() }
        let connection = try await transport.connect(lab.target("nyc-acc1"))
        await connection.close()
    }

    func testFetchAndTrustAHostKey() async throws {
        let lab = try lab
        let file = scratch + "/trusted_hosts"
        let transport = try SSHTransport(configuration: lab.configuration(policy: .strict, knownHosts: [], writable: file))
        defer { transport.shutdown() }
        let refused = await connectError(transport, lab.target("nyc-acc2"))
        XCTAssertNotNil(refused)
        // `switchboard trust`: fetch without logging in (no credentials at all), show, record.
        let key = try await transport.fetchHostKey(lab.target("nyc-acc2", authentication: []))
        XCTAssertEqual(key, try labHostKey("nyc-acc2"))
        let d = lab.device("nyc-acc2")
        try transport.trust(key, host: d.address, port: d.port)
        let connection = try await transport.connect(lab.target("nyc-acc2"))
        XCTAssertEqual(connection.hostKey, key)
        await connection.close()
    }

    // MARK: authentication

    func testKeyFileWithAndWithoutPassphrase() async throws {
        let lab = try lab
        let transport = try SSHTransport(configuration: lab.configuration())
        defer { transport.shutdown() }
        let status = lab.status
        let plain = try await transport.connect(lab.target("par-acc1", authentication: [.keyFile(path: status.userKeyPath)]))
        XCTAssertEqual(plain.authenticationMethod, "publickey")
        await plain.close()
        let protected = try await transport.connect(lab.target("par-acc1", authentication: [
            .keyFile(path: status.passphraseKeyPath, passphrase: status.keyPassphrase)]))
        XCTAssertEqual(protected.authenticationMethod, "publickey")
        await protected.close()

        let wrong = "not-the-passphrase-42"
        let error = await connectError(transport, lab.target("par-acc1", authentication: [.keyFile(path: status.passphraseKeyPath, passphrase: wrong)]))
        guard case .authenticationFailed(let user, _, _, let tried, let allowed, let note)? = error else { return XCTFail("\(String(describing: error))") }
        XCTAssertEqual(user, status.username)
        XCTAssertEqual(tried, ["publickey"])
        XCTAssertTrue(allowed.contains("publickey"))
        XCTAssertTrue(note?.contains(status.passphraseKeyPath) == true, note ?? "")
        XCTAssertFalse(error!.description.contains(wrong))
        XCTAssertFalse(error!.description.contains(status.keyPassphrase))

        let missing = await connectError(transport, lab.target("par-acc1", authentication: [.keyFile(path: scratch + "/nope")]))
        XCTAssertTrue(missing?.description.contains("does not exist") == true, "\(String(describing: missing))")
    }

    func testInlineKeyLeavesNoFileBehind() async throws {
        let lab = try lab
        let transport = try SSHTransport(configuration: lab.configuration())
        defer { transport.shutdown() }
        let pem = try String(contentsOfFile: lab.status.userKeyPath, encoding: .utf8)
        let filesBefore = TemporaryKeyFile.created.load(ordering: .relaxed)
        let connection = try await transport.connect(lab.target("par-acc1", authentication: [.inlineKey(privateKey: pem)]))
        XCTAssertEqual(connection.authenticationMethod, "publickey (inline key)")
        await connection.close()
        // Parsed in process (KeySigner), or by libssh2 from memory: no file needed.
        XCTAssertEqual(TemporaryKeyFile.created.load(ordering: .relaxed), filesBefore, "the key never went to a file")
        let protectedPEM = try String(contentsOfFile: lab.status.passphraseKeyPath, encoding: .utf8)
        let protected = try await transport.connect(lab.target("par-acc1", authentication: [
            .inlineKey(privateKey: protectedPEM, passphrase: lab.status.keyPassphrase)]))
        await protected.close()
        // Something libssh2 cannot parse from memory takes the file route, which is cleaned up too.
        let garbage = "-----BEGIN OPENSSH PRIVATE KEY-----\nbm90IGEga2V5\n-----END OPENSSH PRIVATE KEY-----\n"
        let error = await connectError(transport, lab.target("par-acc1", authentication: [.inlineKey(privateKey: garbage)]))
        guard case .authenticationFailed(_, _, _, let tried, _, let note)? = error else { return XCTFail("\(String(describing: error))") }
        XCTAssertEqual(tried, ["publickey (inline key)"])
        XCTAssertTrue(note?.contains("cannot use the inline key") == true, note ?? "")
        XCTAssertGreaterThan(TemporaryKeyFile.created.load(ordering: .relaxed), filesBefore, "the fallback wrote a file")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory()).filter { $0.hasPrefix("switchboard-key-") }
        XCTAssertEqual(leftovers, [], "temporary key files are removed at once")
    }

    func testPasswordAndFallbackOrder() async throws {
        let lab = try lab
        guard let password = lab.status.password else {
            throw XCTSkip("the lab runs unprivileged: its sshd cannot check passwords")
        }
        let transport = try SSHTransport(configuration: lab.configuration())
        defer { transport.shutdown() }
        let connection = try await transport.connect(lab.target("par-acc1", authentication: [.password(password)]))
        XCTAssertEqual(connection.authenticationMethod, "password")
        await connection.close()

        let wrong = "Wr0ng-Passw0rd!"
        let error = await connectError(transport, lab.target("par-acc1", authentication: [.password(wrong)]))
        let d = lab.device("par-acc1")
        XCTAssertEqual(error?.description,
                       "authentication failed for \(lab.status.username)@\(d.address):\(d.port) (tried password; server allows publickey,password)")
        XCTAssertFalse(error?.description.contains(wrong) ?? true)

        // Methods are tried in order: a wrong password, then the key.
        let fallback = try await transport.connect(lab.target("par-acc1", authentication: [.password(wrong), .keyFile(path: lab.status.userKeyPath)]))
        XCTAssertEqual(fallback.authenticationMethod, "publickey")
        await fallback.close()
    }

    /// The first method goes out before the server's list is asked for; when it is refused, the list
    /// decides which of the others are tried, and the error names only methods the server allows.
    func testFirstMethodRefusedThenTheList() async throws {
        let lab = try lab
        let transport = try SSHTransport(configuration: lab.configuration())
        defer { transport.shutdown() }
        let stranger = try TransportTestSupport.makeKey("ed25519", in: scratch, name: "stranger")
        // A first method that works: no method list asked for, and the key signed in process.
        let (lists, signatures) = (Authenticator.methodListRequests.load(ordering: .relaxed), KeySigner.signatures.load(ordering: .relaxed))
        let first = try await transport.connect(lab.target("par-acc1", authentication: [.keyFile(path: lab.status.userKeyPath)]))
        await first.close()
        XCTAssertEqual(Authenticator.methodListRequests.load(ordering: .relaxed), lists, "the list costs a round trip")
        XCTAssertEqual(KeySigner.signatures.load(ordering: .relaxed), signatures + 1, "signed by KeySigner, not libssh2's file reader")
        // Refused first: then the list decides.
        let second = try await transport.connect(lab.target("par-acc1", authentication: [.keyFile(path: stranger), .keyFile(path: lab.status.userKeyPath)]))
        XCTAssertEqual(second.authenticationMethod, "publickey")
        await second.close()
        XCTAssertEqual(Authenticator.methodListRequests.load(ordering: .relaxed), lists + 1)
        // keyboard-interactive first: the device's sshd does not offer it, so it is not reported as tried.
        let error = await connectError(transport, lab.target("par-acc1", authentication: [.keyboardInteractive(password: "x"), .keyFile(path: stranger)]))
        guard case .authenticationFailed(_, _, _, let tried, let allowed, _)? = error else { return XCTFail("\(String(describing: error))") }
        XCTAssertEqual(tried, ["publickey"])
        XCTAssertFalse(allowed.contains("keyboard-interactive"), "\(allowed)")
        XCTAssertTrue(allowed.contains("publickey"), "\(allowed)")
    }

    func testKeyboardInteractive() async throws {
        let lab = try lab
        guard let device = lab.status.keyboardInteractiveDevice, let password = lab.status.password else {
            throw XCTSkip("the lab has no keyboard-interactive device (needs root and a working PAM)")
        }
        let transport = try SSHTransport(configuration: lab.configuration())
        defer { transport.shutdown() }
        let connection = try await transport.connect(lab.target(device, authentication: [.keyboardInteractive(password: password)]))
        XCTAssertEqual(connection.authenticationMethod, "keyboard-interactive")
        let result = try await connection.exec("show version")
        XCTAssertTrue(result.output.contains("Cisco IOS Software"))
        await connection.close()
        let error = await connectError(transport, lab.target(device, authentication: [.keyboardInteractive(password: "nope-nope")]))
        guard case .authenticationFailed(_, _, _, let tried, _, _)? = error else { return XCTFail("\(String(describing: error))") }
        XCTAssertEqual(tried, ["keyboard-interactive"])
    }

    func testAgent() async throws {
        let lab = try lab
        let socket = scratch + "/agent.sock"
        // In the foreground (-D), as our child: a daemonized agent would hold our output pipe open.
        let agent = Process()
        agent.executableURL = URL(fileURLWithPath: "/usr/bin/ssh-agent")
        agent.arguments = ["-D", "-a", socket]
        agent.standardOutput = FileHandle.nullDevice
        agent.standardError = FileHandle.nullDevice
        try agent.run()
        // SIGKILL: the agent inherits the test process's blocked signals (SIGTERM among them).
        defer { kill(agent.processIdentifier, SIGKILL) }
        let deadline = Date().addingTimeInterval(5)
        while !FileManager.default.fileExists(atPath: socket) && Date() < deadline { usleep(20_000) }
        guard FileManager.default.fileExists(atPath: socket) else { throw EnvironmentFailure("ssh-agent did not create \(socket)") }
        let transport = try SSHTransport(configuration: lab.configuration())
        defer { transport.shutdown() }

        // No keys yet.
        let empty = await connectError(transport, lab.target("par-acc1", authentication: [.agent(socketPath: socket)]))
        guard case .authenticationFailed(_, _, _, let tried, _, let note)? = empty else { return XCTFail("\(String(describing: empty))") }
        XCTAssertEqual(tried, ["publickey (agent)"])
        XCTAssertTrue(note?.contains("holds no keys") == true, note ?? "")

        var environment = ProcessInfo.processInfo.environment
        environment["SSH_AUTH_SOCK"] = socket
        let (added, addOutput) = try TransportTestSupport.run("/usr/bin/ssh-add", [lab.status.userKeyPath], environment: environment)
        XCTAssertEqual(added, 0, addOutput)
        let connection = try await transport.connect(lab.target("par-acc1", authentication: [.agent(socketPath: socket)]))
        XCTAssertEqual(connection.authenticationMethod, "publickey (agent)")
        await connection.close()

        let dead = await connectError(transport, lab.target("par-acc1", authentication: [.agent(socketPath: scratch + "/no-agent.sock")]))
        XCTAssertTrue(dead?.description.contains("cannot connect to ssh-agent") == true, "\(String(describing: dead))")
    }

    func testEveryAuthenticationFailsOnFaultAuth() async throws {
        let lab = try lab
        let transport = try SSHTransport(configuration: lab.configuration())
        defer { transport.shutdown() }
        let methods: [SSHAuthentication] = [.keyFile(path: lab.status.userKeyPath)] + (lab.status.password.map { [.password($0)] } ?? [])
        let error = await connectError(transport, lab.target("fault-auth", authentication: methods))
        guard case .authenticationFailed(let user, let host, _, _, _, _)? = error else { return XCTFail("\(String(describing: error))") }
        XCTAssertEqual(user, lab.status.username)
        XCTAssertEqual(host, lab.device("fault-auth").address)
        XCTAssertTrue(error!.description.hasPrefix("authentication failed for \(lab.status.username)@"), error!.description)
    }

    func testRSAKeyRefusalIsExplained() async throws {
        let lab = try lab
        let rsa = try TransportTestSupport.makeKey("rsa", in: scratch, name: "id_rsa")
        let transport = try SSHTransport(configuration: lab.configuration())
        defer { transport.shutdown() }
        let error = await connectError(transport, lab.target("par-acc1", authentication: [.keyFile(path: rsa)]))
        guard case .authenticationFailed(_, _, _, _, _, let note)? = error else { return XCTFail("\(String(describing: error))") }
        XCTAssertTrue(note?.contains("RSA") == true && note?.contains("ed25519 or ecdsa") == true, note ?? "")
    }

    // MARK: jump hosts

    func testJumpHost() async throws {
        let lab = try lab
        let behind = lab.device("oob-par-1")
        XCTAssertEqual(behind.jump, "bastion")
        let transport = try SSHTransport(configuration: lab.configuration())
        defer { transport.shutdown() }
        if lab.status.isolatedJump {
            let error = await connectError(transport, SSHTarget(lab.endpoint("oob-par-1")))
            guard case .unreachable(let host, _, _)? = error else { return XCTFail("\(String(describing: error))") }
            XCTAssertEqual(host, behind.address)
        }
        let connection = try await transport.connect(lab.target("oob-par-1"))
        let result = try await connection.exec("show version")
        XCTAssertTrue(result.output.contains("oob-par-1"), result.output.prefix(300).description)
        let cli = try await connection.openCLI(platform: try lab.platform("cisco_ios"))
        let prompt = await cli.prompt
        XCTAssertEqual(prompt, "oob-par-1>")
        let output = try await cli.send("show clock")
        XCTAssertFalse(output.isEmpty)
        await cli.close()
        XCTAssertEqual(transport.openJumpSessions, 1)
        await connection.close()
        XCTAssertEqual(transport.openJumpSessions, 0, "the last target closed the jump session")
    }

    func testOneJumpSessionCarriesManyTargets() async throws {
        let lab = try lab
        let transport = try SSHTransport(configuration: lab.configuration())
        defer { transport.shutdown() }
        let connections = try await withThrowingTaskGroup(of: SSHConnection.self) { group in
            for _ in 0..<6 { group.addTask { try await transport.connect(lab.target("oob-par-1")) } }
            var all: [SSHConnection] = []
            for try await connection in group { all.append(connection) }
            return all
        }
        XCTAssertEqual(transport.openJumpSessions, 1, "six targets, one login to the jump host")
        // Traffic on all tunnels at once, including one big transfer.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for connection in connections {
                group.addTask {
                    let result = try await connection.exec("show running-config")
                    XCTAssertTrue(result.output.contains("hostname oob-par-1"), result.output.prefix(200).description)
                }
            }
            try await group.waitForAll()
        }
        for connection in connections.dropLast() { await connection.close() }
        XCTAssertEqual(transport.openJumpSessions, 1)
        let last = try XCTUnwrap(connections.last)
        let status = try await last.exec("show clock").exitStatus
        XCTAssertEqual(status, 0, "closing the others left this tunnel alone")
        await last.close()
        XCTAssertEqual(transport.openJumpSessions, 0)
    }

    func testEveryHopsHostKeyIsChecked() async throws {
        let lab = try lab
        let bastion = lab.device("bastion")
        let behind = lab.device("oob-par-1")
        let withoutJump = try writeKnownHosts(try knownHostsLines(excluding: ["bastion"]), name: "no_jump")
        let t1 = try SSHTransport(configuration: lab.configuration(knownHosts: [withoutJump]))
        defer { t1.shutdown() }
        let error1 = await connectError(t1, lab.target("oob-par-1"))
        guard case .unknownHostKey(let host1, let port1, _, _, let device1)? = error1 else { return XCTFail("\(String(describing: error1))") }
        XCTAssertEqual([host1, String(port1), device1], [bastion.address, String(bastion.port), "bastion"])

        let withoutTarget = try writeKnownHosts(try knownHostsLines(excluding: ["oob-par-1"]), name: "no_target")
        let t2 = try SSHTransport(configuration: lab.configuration(knownHosts: [withoutTarget]))
        defer { t2.shutdown() }
        let error2 = await connectError(t2, lab.target("oob-par-1"))
        guard case .unknownHostKey(let host2, let port2, _, _, let device2)? = error2 else { return XCTFail("\(String(describing: error2))") }
        XCTAssertEqual([host2, String(port2), device2], [behind.address, String(behind.port), "oob-par-1"])
        XCTAssertEqual(t2.openJumpSessions, 0, "the failed target released the jump session")
    }

    func testJumpHostRefusingForwardingAndFailingLogin() async throws {
        let lab = try lab
        let transport = try SSHTransport(configuration: lab.configuration())
        defer { transport.shutdown() }
        // par-acc1's sshd does not allow TCP forwarding.
        let relay = lab.device("par-acc1")
        let target = SSHTarget(lab.endpoint("par-acc2"), jumps: [lab.endpoint("par-acc1")])
        let error = await connectError(transport, target)
        guard case .channelRefused(let host, let port, let purpose, let message)? = error else { return XCTFail("\(String(describing: error))") }
        XCTAssertEqual(host, relay.address)
        XCTAssertEqual(port, relay.port)
        XCTAssertTrue(purpose.contains(String(lab.device("par-acc2").port)), purpose)
        XCTAssertTrue(message.lowercased().contains("prohibited"), message)

        let badJump = lab.target("oob-par-1", jumpAuthentication: [.keyFile(path: lab.status.userKeyPath + ".nope")])
        let authError = await connectError(transport, badJump)
        guard case .authenticationFailed(_, let jumpHost, _, _, _, _)? = authError else { return XCTFail("\(String(describing: authError))") }
        XCTAssertEqual(jumpHost, lab.device("bastion").address)
        XCTAssertEqual(transport.openJumpSessions, 0)
    }
}
