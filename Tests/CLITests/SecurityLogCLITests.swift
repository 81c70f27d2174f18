import Foundation
import Store
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The security log through the real binary: a line per action (imports, credential changes,
/// exports with revealed secrets, task changes, run launches and stops) in
/// `$XDG_STATE_HOME/switchboard/security.log` (0600, rotated by size), and the same events as
/// RFC 5424 datagrams to a UDP syslog receiver on loopback.
final class SecurityLogCLITests: XCTestCase {
    func testEachActionIsLoggedToTheFileAndToSyslogOverUDP() throws {
        // The syslog receiver: a UDP socket on loopback, read without blocking.
        let udp = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        defer { close(udp) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(udp, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(udp, $0, &length) } }
        let port = Int(UInt16(bigEndian: address.sin_port))

        var cli = try CLI()
        cli.environment["XDG_STATE_HOME"] = cli.dir + "/state"
        _ = try cli.write("config/switchboard/settings.json", #"{"security": {"syslog": "127.0.0.1:\#(port)"}}"#)
        let inventory = try cli.write("inventory.json", """
            {"format": "switchboard-inventory", "version": 1,
             "devices": [{"name": "edge1", "address": "192.0.2.1", "platform": "cisco_ios"}],
             "credentials": [{"name": "ops", "username": "ops", "secret_kind": "password", "secret": "hunter2-secret", "priority": 1}],
             "services": [{"name": "noop", "kind": "wait", "parameters": {"seconds": 30}}]}
            """)
        XCTAssertEqual(try cli.run(["import", inventory]).status, 0)
        XCTAssertEqual(try cli.run(["export", "--reveal-secrets", cli.dir + "/export"]).status, 0)
        XCTAssertEqual(try cli.run(["task", "add", "t1", "--service", "noop", "--every", "1h"]).status, 0)
        XCTAssertEqual(try cli.run(["task", "enable", "t1"]).status, 0)
        XCTAssertEqual(try cli.run(["task", "delete", "t1"]).status, 0)
        let run = try cli.run(["run", "noop", "--json"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(try cli.run(["stop", "1"]).status, 0)
        _ = try? cli.run(["engine", "--stop"])

        let path = cli.dir + "/state/switchboard/security.log"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let user = OSUser.name
        let lines = text.split(separator: "\n").map(String.init)
        func line(_ action: String) -> String? { lines.first { $0.contains(" action=\(action) ") } }
        for action in ["import", "credential.change", "export.reveal_secrets", "change.task", "run.launch", "run.stop"] {
            let l = line(action)
            XCTAssertNotNil(l, "\(action) in \(text)")
            XCTAssertTrue(l?.contains(" user=\(user) ") == true, l ?? "")
            XCTAssertTrue(l?.contains(" outcome=") == true, l ?? "")
        }
        XCTAssertTrue(line("credential.change")!.contains("targets=\"ops (created)\""), text)
        XCTAssertTrue(line("run.launch")!.contains("targets=\"run 1 service 'noop'\""), text)
        XCTAssertTrue(line("run.stop")!.contains("outcome=requested"), text)
        XCTAssertEqual(lines.filter { $0.contains("action=change.task") }.count, 3, "created, enabled, deleted")
        XCTAssertFalse(text.contains("hunter2-secret"), "no secret in the security log")
        let mode = (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue
        XCTAssertEqual(mode, 0o600)

        // The same events reached syslog: RFC 5424, authpriv, structured data with user and action.
        var datagrams: [String] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(udp, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            datagrams.append(String(decoding: buffer[0..<n], as: UTF8.self))
        }
        XCTAssertEqual(datagrams.count, lines.count, datagrams.joined(separator: "\n"))
        let launch = datagrams.first { $0.contains("action=\"run.launch\"") } ?? ""
        XCTAssertTrue(launch.hasPrefix("<85>1 "), launch)
        XCTAssertTrue(launch.contains(" switchboard "), launch)
        XCTAssertTrue(launch.contains("[switchboard@32473 user=\"\(user)\" action=\"run.launch\" outcome=\"queued\"]"), launch)
    }

    func testTheFileRotatesBySize() throws {
        var cli = try CLI()
        cli.environment["XDG_STATE_HOME"] = cli.dir + "/state"
        _ = try cli.write("config/switchboard/settings.json", #"{"security": {"log_max_bytes": 4096, "log_files": 2}}"#)
        let csv = try cli.write("d.csv", "name,address\nedge1,192.0.2.1\n")
        for _ in 0..<70 { XCTAssertEqual(try cli.run(["import", csv]).status, 0) }
        let base = cli.dir + "/state/switchboard/security.log"
        let fm = FileManager.default
        XCTAssertTrue(fm.fileExists(atPath: base + ".1"))
        XCTAssertTrue(fm.fileExists(atPath: base + ".2"))
        XCTAssertFalse(fm.fileExists(atPath: base + ".3"), "log_files 2: older ones are dropped")
        for file in [base, base + ".1", base + ".2"] {
            let size = (try fm.attributesOfItem(atPath: file)[.size] as? NSNumber)?.intValue ?? 0
            XCTAssertLessThanOrEqual(size, 4096, file)
        }
    }
}
