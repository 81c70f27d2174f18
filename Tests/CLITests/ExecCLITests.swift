import Crypto
import Foundation
import Lab
import XCTest

/// `switchboard exec` and `trust` against the lab (real sshd), through the real binary.
final class ExecCLITests: XCTestCase {
    func testExecTrustAndTheirFailuresAgainstTheLab() throws {
        var cli = try CLI()
        cli.environment.removeValue(forKey: "SSH_AUTH_SOCK")
        let demo = try cli.run(["demo", "--no-console"])
        defer { _ = try? cli.run(["lab", "down"]) }
        XCTAssertEqual(demo.status, 0, demo.stderr)

        // One device, exec channel; through the jump host; the platform CLI on a PTY.
        let one = try cli.run(["exec", "par-core1", "show", "version"])
        XCTAssertEqual(one.status, 0, one.stderr)
        XCTAssertTrue(one.stdout.contains("par-core1"), one.stdout)
        let behind = try cli.run(["exec", "oob-par-1", "show", "version"])
        XCTAssertEqual(behind.status, 0, behind.stderr)
        XCTAssertTrue(behind.stdout.contains("Cisco IOS"), behind.stdout)
        let pty = try cli.run(["exec", "--mode", "cli", "par-acc1", "show", "interfaces"])
        XCTAssertEqual(pty.status, 0, pty.stderr)
        XCTAssertGreaterThan(pty.stdout.split(separator: "\n").count, 30, "long enough to page")
        XCTAssertFalse(pty.stdout.contains("--More--"), "paging was disabled or answered")

        // Device output is inert: escape sequences are shown, never sent.
        let escape = try cli.run(["exec", "--mode", "exec", "fault-escape", "show", "version"])
        XCTAssertFalse(escape.stdout.contains("\u{1b}"), "a raw ESC reached the terminal")
        XCTAssertTrue(escape.stdout.contains("\\x1b"), escape.stdout)

        // Failures: a rejected command, authentication, an unknown device; none shows a secret.
        let bad = try cli.run(["exec", "par-acc1", "show", "bogus"])
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.stdout.contains("Invalid input"), bad.stdout)
        let auth = try cli.run(["exec", "fault-auth", "show", "version"])
        XCTAssertEqual(auth.status, 1)
        XCTAssertTrue(auth.stderr.contains("authentication failed"), auth.stderr)
        XCTAssertFalse(auth.stderr.contains("switchboard-lab"), "a password leaked into an error")
        XCTAssertEqual(try cli.run(["exec", "ghost", "show", "version"]).status, 1)
        XCTAssertEqual(try cli.run(["exec", "par-core1"]).status, 2, "a device and no command is a usage error")

        // Many devices at once.
        let many = try cli.run(["exec", "--filter", "platform=arista_eos", "--concurrency", "3", "--summary", "show", "version"])
        XCTAssertEqual(many.status, 0, many.stderr)
        let summary = try JSONSerialization.jsonObject(with: Data(many.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(summary["successes"] as? Int, 6)

        // Host keys: forget the lab's keys, be refused with the fingerprint and the trust command,
        // trust one device, then see a changed key refused.
        let knownHosts = cli.dir + "/data/switchboard/known_hosts"
        try "".write(toFile: knownHosts, atomically: true, encoding: .utf8)
        let unknown = try cli.run(["exec", "par-dist1", "show", "version"])
        XCTAssertEqual(unknown.status, 1)
        XCTAssertTrue(unknown.stderr.contains("SHA256:"), unknown.stderr)
        XCTAssertTrue(unknown.stderr.contains("switchboard trust par-dist1"), unknown.stderr)
        let trust = try cli.run(["trust", "--yes", "par-dist1"])
        XCTAssertEqual(trust.status, 0, trust.stderr)
        XCTAssertTrue(trust.stdout.contains("SHA256:"), trust.stdout)
        XCTAssertEqual(try cli.run(["exec", "par-dist1", "show", "version"]).status, 0)
        XCTAssertTrue(try cli.run(["trust", "--yes", "par-dist1"]).stdout.contains("already trusted"))
        let recorded = try String(contentsOfFile: knownHosts, encoding: .utf8)
        let keyType = recorded.split(separator: " ")[1]
        let forged = "[127.0.0.1]:2203 \(keyType) " + (keyType == "ssh-ed25519" ? "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl" : "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBEmKSENjQEezOmxkZMy7opKgwFB9nkt5YRrYMjNuG5N87uRgg6CLrbo5wAdT/y6v0mKV0U2w0WZ2YB/++Tpockg=") + "\n"
        try forged.write(toFile: knownHosts, atomically: true, encoding: .utf8)
        let changed = try cli.run(["exec", "par-dist1", "show", "version"])
        XCTAssertEqual(changed.status, 1)
        XCTAssertTrue(changed.stderr.uppercased().contains("CHANGED"), changed.stderr)
        let retrust = try cli.run(["trust", "--yes", "par-dist1"])
        XCTAssertEqual(retrust.status, 1, "trust never replaces a changed key")
        XCTAssertTrue(retrust.stderr.contains("WARNING"), retrust.stderr)
    }

    func testLabUpRefusesBadCryptoAndRelayPortsOutOfRange() throws {
        let cli = try CLI()
        let crypto = try cli.run(["lab", "up", "--crypto", "nist"])
        XCTAssertEqual(crypto.status, 2, crypto.stderr)
        XCTAssertTrue(crypto.stderr.contains("--crypto") && crypto.stderr.contains("nist"), crypto.stderr)
        let high = try cli.run(["lab", "up", "--latency", "25ms", "--base-port", "60000"])
        XCTAssertEqual(high.status, 1, high.stderr)
        XCTAssertTrue(high.stderr.contains("--base-port must be at most"), high.stderr)
        // Nothing started, nothing written.
        let status = try cli.run(["lab", "status"])
        XCTAssertEqual(status.status, 1)
        XCTAssertTrue(status.stdout.contains("lab is down"), status.stdout)
    }

    /// `lab up --latency`: every byte passes through the relay late by the latency each way, and
    /// 10 MB arrive intact (the device's last line carries the digest of everything before it).
    func testLatencyRelayDelaysEveryRoundTripAndKeepsEveryByte() throws {
        var cli = try CLI()
        cli.environment.removeValue(forKey: "SSH_AUTH_SOCK")
        let base = LabPorts.freeBasePort(devices: 20, relay: true)
        let up = try cli.run(["lab", "up", "--devices", "20", "--latency", "40ms", "--base-port", String(base)])
        defer { _ = try? cli.run(["lab", "down"]) }
        XCTAssertEqual(up.status, 0, up.stderr)
        XCTAssertTrue(up.stdout.contains("latency: 40 ms each way"), up.stdout)

        let start = Date()
        let one = try cli.run(["exec", "par-acc1", "show", "version"])
        let elapsed = Date().timeIntervalSince(start)
        XCTAssertEqual(one.status, 0, one.stderr)
        XCTAssertTrue(one.stdout.contains("Cisco IOS"), one.stdout)
        // At least 7 round trips of 80 ms: TCP, key exchange (2), authentication (2), channel, command.
        XCTAssertGreaterThan(elapsed, 0.56)
        XCTAssertLessThan(elapsed, 10)

        let huge = try cli.run(["exec", "--mode", "exec", "--timeout", "120", "fault-huge", "show", "running-config"])
        XCTAssertEqual(huge.status, 0, huge.stderr)
        let bytes = Array(huge.stdout.utf8)
        XCTAssertGreaterThan(bytes.count, 10_000_000)
        var end = bytes.count
        while end > 0 && bytes[end - 1] == 0x0a { end -= 1 }
        var lineStart = end
        while lineStart > 0 && bytes[lineStart - 1] != 0x0a { lineStart -= 1 }
        let last = String(decoding: bytes[lineStart..<end], as: UTF8.self)
        XCTAssertTrue(last.hasPrefix("! END sha256="), last)
        let digest = SHA256.hash(data: Data(bytes[..<lineStart])).map { String(format: "%02x", $0) }.joined()
        XCTAssertEqual(String(last.dropFirst("! END sha256=".count)), digest, "bytes lost or changed in the relay")

        // `lab down` stops the relay with the rest.
        let status = try JSONSerialization.jsonObject(with: Data(try cli.run(["lab", "status", "--json"]).stdout.utf8)) as! [String: Any]
        let acc = (status["devices"] as! [[String: Any]]).first { $0["name"] as? String == "par-acc1" }!
        let relayPort = acc["port"] as! Int
        XCTAssertEqual(relayPort, acc["listenPort"] as! Int + LabPorts.relayOffset, "clients reach the device through the relay")
        XCTAssertFalse(LabPorts.isFree(relayPort), "the relay listens")
        XCTAssertEqual(try cli.run(["lab", "down"]).status, 0)
        XCTAssertTrue(LabPorts.isFree(relayPort), "the relay stopped")
    }
}
