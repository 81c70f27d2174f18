@testable import Engine
import Foundation
import GRDB
@testable import Lab
import Store
import XCTest

/// The lab against real sshd: up, reachable with OpenSSH's own client, down by pid.
final class LabTests: XCTestCase {
    static func tempDirectory() throws -> String {
        // /tmp, not a private temp dir: as root the lab's login user must be able to reach it.
        let dir = "/tmp/switchboard-labtest-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    func ssh(_ status: LabStatus, _ device: String, _ command: String) throws -> (Int32, String) {
        let d = status.device(device)!
        return try TransportTestSupport.run("/usr/bin/ssh", [
            "-o", "BatchMode=yes", "-o", "UserKnownHostsFile=\(status.knownHostsPath)", "-o", "StrictHostKeyChecking=yes",
            "-o", "ConnectTimeout=5", "-i", status.userKeyPath, "-p", String(d.port), "\(status.username)@\(d.address)", command])
    }

    func testUpServesEveryPlatformAndDownStopsEveryProcess() throws {
        let dir = try Self.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let lab = LabManager(directory: dir)
        let base = LabPorts.freeBasePort(devices: 24)
        let status = try lab.up(devices: 24, basePort: base)
        XCTAssertThrowsError(try lab.up(devices: 24, basePort: base)) { XCTAssertTrue("\($0)".contains("already up")) }
        XCTAssertEqual(status.devices.filter { !$0.isFault && !$0.name.hasPrefix("kbdint") }.count, 24)
        XCTAssertEqual(Set(status.devices.map(\.platform)), ["juniper_junos", "arista_eos", "cisco_ios", "linux", "cisco_nxos"])
        for name in ["par-core1", "par-dist1", "par-acc1", "lab-0024"] {
            let (rc, out) = try ssh(status, name, "show version")
            XCTAssertEqual(rc, 0, out)
            XCTAssertTrue(out.contains(name) || out.lowercased().contains("version"), "\(name): \(out)")
        }
        XCTAssertEqual(lab.alivePids(status).count, status.pids.count)

        try lab.down()
        XCTAssertNil(lab.status())
        usleep(200_000)
        for pid in status.pids { XCTAssertNotEqual(kill(pid, 0), 0, "pid \(pid) survived lab down") }
        let (rc, _) = try ssh(status, "par-core1", "show version")
        XCTAssertNotEqual(rc, 0, "nothing listens after down")
        if geteuid() == 0 {
            let ns = try String(contentsOfFile: "/proc/net/dev", encoding: .utf8)
            for name in status.namespaces { XCTAssertFalse(ns.contains(name)) }
        }
    }

    func testJumpHostIsolationAndFaultAuth() throws {
        let dir = try Self.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let lab = LabManager(directory: dir)
        let status = try lab.up(devices: 20, basePort: LabPorts.freeBasePort(devices: 20))
        defer { try? lab.down() }
        let behind = status.device(LabTopology.behindJump)!
        XCTAssertEqual(behind.jump, LabTopology.jumpHost)
        if status.isolatedJump {
            let (rc, out) = try ssh(status, LabTopology.behindJump, "show version")
            XCTAssertNotEqual(rc, 0)
            XCTAssertTrue(out.contains("unreachable") || out.contains("No route"), out)
        } else {
            throw XCTSkip("running unprivileged: the device behind the jump host is reachable directly (no network namespaces)")
        }
        let (rc, out) = try ssh(status, "fault-auth", "show version")
        XCTAssertEqual(rc, 255)
        XCTAssertTrue(out.contains("Permission denied"), out)
    }

    func testRegisterWritesDevicesCredentialsPoolsAndKnownHosts() throws {
        let dir = try Self.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let lab = LabManager(directory: dir)
        let base = LabPorts.freeBasePort(devices: 20)
        let status = try lab.up(devices: 20, basePort: base)
        defer { try? lab.down() }
        let database = try AppDatabase(path: dir + "/db/switchboard.db")
        let secrets = SecretBox(key: .init(data: Data(repeating: 1, count: 32)))
        try LabInventory.register(status, database: database, secrets: secrets)
        try database.writer.read { db in
            let d = try Inventory.device(db, named: "par-core1")!
            XCTAssertEqual(d.port, base)
            XCTAssertEqual(d.platform, "juniper_junos")
            XCTAssertEqual(try Inventory.device(db, named: LabTopology.behindJump)?.jump, LabTopology.jumpHost)
            XCTAssertEqual(try Inventory.pool(db, named: "lab")?.memberCount, status.devices.count)
            XCTAssertEqual(try Inventory.credential(db, for: d)?.name, "lab-key")
        }
        let kh = dir + "/known_hosts"
        try "github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n".write(toFile: kh, atomically: true, encoding: .utf8)
        try LabInventory.registerKnownHosts(status, into: kh)
        try LabInventory.registerKnownHosts(status, into: kh)
        let text = try String(contentsOfFile: kh, encoding: .utf8)
        XCTAssertTrue(text.hasPrefix("github.com"))
        XCTAssertEqual(text.components(separatedBy: "[127.0.0.1]:\(base) ssh-ed25519").count, 2, "registered once, not twice")
        try LabInventory.unregisterKnownHosts(from: kh)
        XCTAssertEqual(try String(contentsOfFile: kh, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines),
                       "github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl")
    }

    /// `--crypto p256`: the lab's sshd offers only P-256 key exchange and host keys, its lab key is
    /// ECDSA, and both OpenSSH's client and switchboard's transport log in with it.
    func testP256LabOffersOnlyP256() async throws {
        let dir = try Self.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let lab = LabManager(directory: dir)
        let status = try lab.up(devices: 20, basePort: LabPorts.freeBasePort(devices: 20), crypto: .p256)
        defer { try? lab.down() }
        XCTAssertEqual(status.crypto, .p256)
        // sshd before 9.8 runs without re-exec per connection.
        let version = LabManager.openSSHVersion(try TransportTestSupport.run("/usr/sbin/sshd", ["-V"]).1)
        let expectsNoReexec = version.map { $0.major < 9 || ($0.major == 9 && $0.minor < 8) } ?? false
        let cmdline = try String(contentsOfFile: "/proc/\(status.pids[0])/cmdline", encoding: .utf8)
        // sshd rewrites its title ("sshd: /usr/sbin/sshd -r -f … [listener] …"): look for the word.
        let words = cmdline.split(whereSeparator: { $0 == "\0" || $0 == " " })
        XCTAssertEqual(words.contains("-r"), expectsNoReexec, cmdline)
        XCTAssertTrue(status.userKeyPath.hasSuffix("/id_ecdsa"))
        XCTAssertEqual(PrivateKeyInspector.keyType(file: status.userKeyPath), "ecdsa-sha2-nistp256")
        var (rc, out) = try ssh(status, "par-acc1", "show version")
        XCTAssertEqual(rc, 0, out)
        let d = status.device("par-acc1")!
        for refused in [["-o", "KexAlgorithms=curve25519-sha256"], ["-o", "HostKeyAlgorithms=ssh-ed25519"]] {
            (rc, out) = try TransportTestSupport.run("/usr/bin/ssh", ["-o", "BatchMode=yes", "-o", "UserKnownHostsFile=\(status.knownHostsPath)",
                                                                      "-o", "StrictHostKeyChecking=yes", "-i", status.userKeyPath, "-p", String(d.port)]
                                                     + refused + ["\(status.username)@\(d.address)", "show version"])
            XCTAssertEqual(rc, 255, "\(refused): \(out)")
            XCTAssertTrue(out.contains("no matching"), out)
        }
        let transport = try SSHTransport(configuration: SSHTransportConfiguration(
            ioThreads: 1, connectTimeout: .seconds(10), commandTimeout: .seconds(20), keepaliveInterval: 0,
            hostKeyPolicy: .strict, knownHosts: KnownHosts(files: [status.knownHostsPath], writableFile: nil)))
        defer { transport.shutdown() }
        let endpoint = SSHEndpoint(host: d.address, port: d.port, username: status.username,
                                   authentication: [.keyFile(path: status.userKeyPath)], name: d.name)
        let connection = try await transport.connect(SSHTarget(endpoint, jumps: []))
        let result = try await connection.exec("show version")
        await connection.close()
        XCTAssertEqual(connection.hostKey.type, .ecdsa256)
        XCTAssertTrue(connection.authenticationMethod.hasPrefix("publickey"), connection.authenticationMethod)
        XCTAssertEqual(result.exitStatus, 0)
        XCTAssertTrue(result.output.contains("Cisco IOS"), result.output)
    }

    func testPortInUseIsNamedAndLeavesNothingBehind() throws {
        let dir = try Self.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let base = LabPorts.freeBasePort(devices: 20)
        // Something else listens on the fourth device's port.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(base + 3).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        XCTAssertEqual(bound, 0)
        XCTAssertEqual(listen(fd, 1), 0)
        let lab = LabManager(directory: dir)
        XCTAssertThrowsError(try lab.up(devices: 20, basePort: base)) { error in
            XCTAssertTrue("\(error)".contains("\(base + 3)") && "\(error)".contains("already in use"), "\(error)")
        }
        XCTAssertNil(lab.status(), "no lab.json for a lab that did not start")
        let sshds = try TransportTestSupport.run("/usr/bin/pgrep", ["-f", "sshd.*\(dir)"])
        XCTAssertNotEqual(sshds.0, 0, "no sshd started: \(sshds.1)")
    }

    func testOpenSSHVersionDecidesTheNoReexecFlag() {
        XCTAssertEqual(LabManager.openSSHVersion("OpenSSH_9.2p1 Debian-2+deb12u3, OpenSSL 3.0.19 27 Jan 2026")?.major, 9)
        XCTAssertEqual(LabManager.openSSHVersion("OpenSSH_9.2p1 Debian-2+deb12u3, OpenSSL 3.0.19 27 Jan 2026")?.minor, 2)
        XCTAssertEqual(LabManager.openSSHVersion("OpenSSH_10.0p2 Debian-5, OpenSSL 3.5.1")?.major, 10)
        XCTAssertNil(LabManager.openSSHVersion("sshd: illegal option -- V"))
        // The sshd installed here answers, and the lab starts it accordingly.
        XCTAssertNotNil(LabManager.openSSHVersion((try? TransportTestSupport.run("/usr/sbin/sshd", ["-V"]).1) ?? ""))
    }

    func testTopologyMatchesTheExampleInventory() throws {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        let data = try Data(contentsOf: url.appendingPathComponent("setup/examples/switchboard.json"))
        let doc = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        let devices = (doc["devices"] as! [[String: Any]]).map { ($0["name"] as! String, $0["platform"] as! String, $0["port"] as! Int) }
        let lab = LabTopology.devices(count: 20, basePort: 2201).filter { !$0.isFault }
        XCTAssertEqual(devices.map(\.0), lab.map(\.name))
        XCTAssertEqual(devices.map(\.1), lab.map(\.platform))
        XCTAssertEqual(devices.map(\.2), lab.map(\.port))
    }
}
