import Foundation
import Lab
import XCTest

/// The lab's login and command ledger, written by the real `switchboard-device` binary the way the
/// lab's sshd runs it (exec channel: SSH_ORIGINAL_COMMAND; shell channel: commands on stdin), many
/// sessions at once, and read back with `LabLedger`. Over real sshd it is checked by the fleet tests.
final class LabLedgerTests: XCTestCase {
    static let deviceBinary = (CLI.binary as NSString).deletingLastPathComponent + "/switchboard-device"
    var directory = ""

    override func setUpWithError() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.deviceBinary) else {
            throw XCTSkip("\(Self.deviceBinary) is missing: swift build --product switchboard-device")
        }
        directory = NSTemporaryDirectory() + "switchboard-ledger-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let devices = (1...4).map { #"{"name": "r\#($0)", "port": \#(2200 + $0), "platform": "cisco_ios"}"# }
        try #"{"devices": [\#(devices.joined(separator: ", "))]}"#.write(toFile: directory + "/devices.json", atomically: true, encoding: .utf8)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    /// One device session, as sshd starts it; returns the process, already running.
    func session(_ device: String, exec command: String? = nil, stdin: String = "") throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.deviceBinary)
        p.arguments = ["--lab-dir", directory, "--device", device]
        var env = ["USER": "admin", "PATH": "/usr/bin:/bin"]
        if let command { env["SSH_ORIGINAL_COMMAND"] = command }
        p.environment = env
        let input = Pipe()
        p.standardInput = input
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        try input.fileHandleForWriting.write(contentsOf: Data(stdin.utf8))
        try input.fileHandleForWriting.close()
        return p
    }

    /// 60 exec sessions and 4 shell sessions at once on 4 devices: every session's login and each of
    /// its commands is one well-formed line, in the session's order, none interleaved or lost.
    func testConcurrentSessionsAppendWholeLines() throws {
        FileManager.default.createFile(atPath: directory + "/ledger.log", contents: nil)
        var sessions: [Process] = []
        for i in 0..<60 { sessions.append(try session("r\(i % 4 + 1)", exec: "show version; show clock\nshow users")) }
        for i in 1...4 { sessions.append(try session("r\(i)", stdin: "terminal length 0\n\n  show version  \nexit\n")) }
        for p in sessions { p.waitUntilExit(); XCTAssertEqual(p.terminationStatus, 0) }

        let ledger = try LabLedger(path: directory + "/ledger.log")
        XCTAssertEqual(ledger.malformed, [], "no line broken or interleaved")
        XCTAssertEqual(ledger.logins.count, 64)
        XCTAssertEqual(Set(ledger.entries.map(\.pid)), Set(sessions.map(\.processIdentifier)), "every session recorded under its pid")
        let bySession = Dictionary(grouping: ledger.entries, by: \.pid)
        for p in sessions {
            let lines = try XCTUnwrap(bySession[p.processIdentifier])
            XCTAssertEqual(lines.first?.event, .login)
            XCTAssertEqual(Set(lines.map(\.device)).count, 1, "one device per session")
            let commands = lines.filter { $0.event == .command }.map(\.detail)
            if lines.first?.detail == "exec" {
                XCTAssertEqual(commands, ["show version", "show clock", "show users"])
            } else {
                XCTAssertEqual(lines.first?.detail, "shell")
                XCTAssertEqual(commands, ["terminal length 0", "show version", "exit"], "blank lines are not commands; commands are trimmed")
            }
            XCTAssertEqual(lines.map(\.time), lines.map(\.time).sorted(), "in the session's order")
        }
        XCTAssertEqual(ledger.count(of: "show version"), ["r1": 16, "r2": 16, "r3": 16, "r4": 16])
        XCTAssertEqual(ledger.duplicates(of: "show users").count, 4)
        let now = Date().timeIntervalSince1970
        XCTAssertTrue(ledger.entries.allSatisfy { abs($0.time - now) < 120 }, "times are epoch seconds")
    }

    /// Without the ledger file (a device run by hand, an older lab) nothing is recorded or created,
    /// and the session works as before.
    func testWithoutTheFileNothingIsRecorded() throws {
        let p = try session("r1", exec: "show version")
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/ledger.log"))
    }

    /// The parser: tabs separate exactly five fields (the command may hold anything else), and lines
    /// that are not ledger lines are reported, not dropped silently.
    func testParserKeepsCommandsWholeAndReportsStrayLines() {
        let ledger = LabLedger(text: "1733480000.000100\tr1\t42\tlogin\texec\n1733480000.250000\tr1\t42\tcommand\tshow run | i a b\nnoise\n")
        XCTAssertEqual(ledger.entries.count, 2)
        XCTAssertEqual(ledger.entries[1], .init(time: 1733480000.25, device: "r1", pid: 42, event: .command, detail: "show run | i a b"))
        XCTAssertEqual(ledger.malformed, ["noise"])
        XCTAssertEqual(ledger.firstTimes(of: "show run | i a b"), ["r1": 1733480000.25])
    }
}
