import Engine
import Foundation
import XCTest

/// known_hosts handling with hand-written files and keys from ssh-keygen; no server needed.
final class KnownHostsTests: XCTestCase {
    var directory = ""

    override func setUpWithError() throws {
        directory = try TransportTestSupport.temporaryDirectory("switchboard-knownhosts")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// A host key made by ssh-keygen, as SSHHostKey.
    func hostKey(_ type: String, _ name: String) throws -> (SSHHostKey, String) {
        let path = try TransportTestSupport.makeKey(type, in: directory, name: name)
        let line = try String(contentsOfFile: path + ".pub", encoding: .utf8)
        return (try XCTUnwrap(SSHHostKey(openSSHLine: line)), path)
    }

    func write(_ lines: [String], to name: String) throws -> String {
        let path = directory + "/" + name
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func testFingerprintMatchesSSHKeygen() throws {
        for type in ["ed25519", "ecdsa", "rsa"] {
            let (key, path) = try hostKey(type, "fp-\(type)")
            let (status, output) = try TransportTestSupport.run("/usr/bin/ssh-keygen", ["-l", "-E", "sha256", "-f", path + ".pub"])
            XCTAssertEqual(status, 0, output)
            // "256 SHA256:abc… comment (ED25519)"
            let expected = output.split(separator: " ")[1]
            XCTAssertEqual(key.fingerprint, String(expected), type)
            XCTAssertFalse(key.fingerprint.hasSuffix("="), "no base64 padding, as OpenSSH shows it")
        }
    }

    func testKnownUnknownAndChangedWithBracketedPorts() throws {
        let (good, _) = try hostKey("ed25519", "good")
        let (other, _) = try hostKey("ed25519", "other")
        let (ecdsa, _) = try hostKey("ecdsa", "ecdsa")
        let file = try write([
            "# a comment, then an empty line",
            "",
            "[10.0.0.1]:2201 \(good.openSSHLine)",
            "10.0.0.1 \(other.openSSHLine)",
            "[10.0.0.2]:2202 \(other.openSSHLine) some comment",
        ], to: "known_hosts")
        let known = KnownHosts(files: [file])

        XCTAssertEqual(known.check(host: "10.0.0.1", port: 2201, key: good), .known(file: file))
        // Port 22 uses the bare host name, and only it.
        XCTAssertEqual(known.check(host: "10.0.0.1", port: 22, key: other), .known(file: file))
        XCTAssertEqual(known.check(host: "10.0.0.1", port: 22, key: good), .changed(file: file, line: 4))
        // A bare-host entry says nothing about another port (as OpenSSH): no false "changed".
        XCTAssertEqual(known.check(host: "10.0.0.1", port: 2299, key: good), .unknown)
        XCTAssertEqual(known.check(host: "10.0.0.2", port: 2202, key: good), .changed(file: file, line: 5))
        // Another key type for a known host is unknown, not changed.
        XCTAssertEqual(known.check(host: "10.0.0.1", port: 2201, key: ecdsa), .unknown)
        XCTAssertEqual(known.check(host: "10.9.9.9", port: 22, key: good), .unknown)
        XCTAssertEqual(known.knownKeyTypes(host: "10.0.0.1", port: 2201), [.ed25519])
        XCTAssertEqual(known.knownKeyTypes(host: "10.9.9.9", port: 22), [])
    }

    func testHashedEntriesWork() throws {
        let (good, _) = try hostKey("ed25519", "hashed")
        let (other, _) = try hostKey("ed25519", "hashed-other")
        let file = try write(["[192.0.2.7]:2222 \(good.openSSHLine)", "192.0.2.8 \(good.openSSHLine)"], to: "hashed_hosts")
        let (status, output) = try TransportTestSupport.run("/usr/bin/ssh-keygen", ["-H", "-f", file])
        XCTAssertEqual(status, 0, output)
        let text = try String(contentsOfFile: file, encoding: .utf8)
        XCTAssertFalse(text.contains("192.0.2.7"), "ssh-keygen -H hashed the names")
        XCTAssertTrue(text.hasPrefix("|1|"))
        let known = KnownHosts(files: [file])
        XCTAssertEqual(known.check(host: "192.0.2.7", port: 2222, key: good), .known(file: file))
        XCTAssertEqual(known.check(host: "192.0.2.8", port: 22, key: good), .known(file: file))
        XCTAssertEqual(known.check(host: "192.0.2.7", port: 2222, key: other), .changed(file: file, line: 1))
        XCTAssertEqual(known.check(host: "192.0.2.7", port: 22, key: good), .unknown)
    }

    func testUnparsableLinesDoNotHideLaterEntries() throws {
        let (good, _) = try hostKey("ed25519", "late")
        // libssh2's readfile stops at the first line it cannot parse; entries after it must still count.
        let file = try write([
            "@cert-authority *.example.com \(good.openSSHLine)",
            "host.example sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAIA==",
            "garbage",
            "[198.51.100.1]:830 \(good.openSSHLine)",
        ], to: "mixed")
        XCTAssertEqual(KnownHosts(files: [file]).check(host: "198.51.100.1", port: 830, key: good), .known(file: file))
    }

    func testMatchInAnyFileWinsOverAStaleEntryElsewhere() throws {
        let (good, _) = try hostKey("ed25519", "current")
        let (stale, _) = try hostKey("ed25519", "stale")
        let old = try write(["[203.0.113.5]:22022 \(stale.openSSHLine)"], to: "old_hosts")
        let current = try write(["[203.0.113.5]:22022 \(good.openSSHLine)"], to: "current_hosts")
        XCTAssertEqual(KnownHosts(files: [old, current]).check(host: "203.0.113.5", port: 22022, key: good), .known(file: current))
        XCTAssertEqual(KnownHosts(files: [old, directory + "/missing"]).check(host: "203.0.113.5", port: 22022, key: good),
                       .changed(file: old, line: 1))
    }

    func testRecordCreatesPrivateFileAndAppendsOnce() throws {
        let (key, _) = try hostKey("ed25519", "recorded")
        let (key22, _) = try hostKey("ecdsa", "recorded22")
        let path = directory + "/state/switchboard/known_hosts"
        let known = KnownHosts(files: [], writableFile: path)
        try known.record(host: "10.1.2.3", port: 2201, key: key)
        try known.record(host: "10.1.2.3", port: 2201, key: key)  // already there: not twice
        try known.record(host: "10.1.2.3", port: 22, key: key22)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertEqual(text, "[10.1.2.3]:2201 \(key.openSSHLine)\n10.1.2.3 \(key22.openSSHLine)\n")
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o600)
        let dirAttributes = try FileManager.default.attributesOfItem(atPath: directory + "/state/switchboard")
        XCTAssertEqual((dirAttributes[.posixPermissions] as? NSNumber)?.intValue, 0o700)
        XCTAssertEqual(known.check(host: "10.1.2.3", port: 2201, key: key), .known(file: path))
        XCTAssertEqual(known.check(host: "10.1.2.3", port: 22, key: key22), .known(file: path))
        // OpenSSH agrees with what we wrote.
        let (status, output) = try TransportTestSupport.run("/usr/bin/ssh-keygen", ["-F", "[10.1.2.3]:2201", "-f", path])
        XCTAssertEqual(status, 0, output)
    }

    func testRecordDoesNotGlueOntoALastLineWithoutNewline() throws {
        let (key, _) = try hostKey("ed25519", "glue")
        let path = directory + "/no_newline"
        try "10.0.0.9 \(key.openSSHLine)".write(toFile: path, atomically: true, encoding: .utf8)
        try KnownHosts(files: [], writableFile: path).record(host: "10.0.0.10", port: 22, key: key)
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 2)
    }

    /// Concurrent recorders (threads standing in for processes; flock is per open file) never
    /// interleave partial lines.
    func testConcurrentRecordsDoNotInterleave() throws {
        let (key, _) = try hostKey("ed25519", "concurrent")
        let path = directory + "/concurrent_hosts"
        let known = KnownHosts(files: [], writableFile: path)
        DispatchQueue.concurrentPerform(iterations: 64) { i in
            try? known.record(host: "10.2.\(i / 256).\(i % 256)", port: 2000 + i, key: key)
        }
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 64)
        for line in lines { XCTAssertTrue(line.hasSuffix(key.openSSHLine), String(line)) }
        XCTAssertEqual(Set(lines).count, 64)
    }
}
