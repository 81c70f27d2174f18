import Foundation
import XCTest

@testable import LabDevice

/// Drives the real `switchboard-device` binary the way the lab's sshd does: a lab directory with
/// devices.json, the device picked by flag or SSH_CONNECTION, commands on stdin (shell channel)
/// or in SSH_ORIGINAL_COMMAND (exec channel), output on pipes (no PTY).
final class LabDeviceTests: XCTestCase {
    // MARK: Exec mode

    func testExecShowVersionPerPlatform() throws {
        let lab = try TestLab()
        let expectations: [(device: String, command: String, markers: [String])] = [
            ("r1", "show version", ["Cisco IOS Software", "r1 uptime is", "Processor board ID 9"]),
            ("sw1", "show version", ["Arista vEOS-lab", "Software image version: 4.28.3M", "Serial number: JPE"]),
            ("sw1", "show hostname", ["Hostname: sw1"]),  // EOS `show version` has no host name, like the real one
            ("n1", "show version", ["Cisco Nexus Operating System (NX-OS) Software", "Device name: n1"]),
            ("j1", "show version", ["Hostname: j1", "Model: vmx", "Junos: 21.4R3.15"]),
            ("h1", "uname -a", ["Linux h1 ", "GNU/Linux"]),
        ]
        for (device, command, markers) in expectations {
            let result = try lab.exec(device, command)
            XCTAssertEqual(result.status, 0, "\(device): \(command)\n\(result.stderr)")
            for marker in markers { XCTAssertTrue(result.stdout.contains(marker), "\(device) `\(command)` lacks \(marker):\n\(result.stdout)") }
            XCTAssertFalse(result.stdout.contains("\u{1b}"), "\(device) output has escape sequences without the fault")
        }
    }

    func testExecOutputIsDeterministicPerDevice() throws {
        let lab = try TestLab()
        let first = try lab.exec("r1", "show interfaces").stdout
        let second = try lab.exec("r1", "show interfaces").stdout
        XCTAssertEqual(first, second)
        XCTAssertTrue(first.contains("GigabitEthernet0/0 is up, line protocol is up"))
        let other = try lab.exec("r2", "show interfaces").stdout
        XCTAssertNotEqual(first, other, "different devices should have different MACs and counters")
    }

    func testAbbreviationsAndMultipleCommands() throws {
        let lab = try TestLab()
        let result = try lab.exec("r1", "sh ver; term len 0\nsh ip int br; sh ip ro; sh run | i hostname")
        XCTAssertEqual(result.status, 0, result.stdout)
        XCTAssertTrue(result.stdout.contains("Cisco IOS Software"))
        XCTAssertTrue(result.stdout.contains("Interface                  IP-Address      OK? Method Status"))
        XCTAssertTrue(result.stdout.contains("Gateway of last resort is"))
        XCTAssertTrue(result.stdout.contains("hostname r1\n"))

        let ambiguous = try lab.exec("r1", "sh in")
        XCTAssertEqual(ambiguous.status, 1)
        XCTAssertTrue(ambiguous.stdout.contains("% Ambiguous command:  \"sh in\""), ambiguous.stdout)

        let incomplete = try lab.exec("r1", "show")
        XCTAssertEqual(incomplete.status, 1)
        XCTAssertTrue(incomplete.stdout.contains("% Incomplete command."), incomplete.stdout)
    }

    func testRunningConfigHasVolatileLinesAndSecrets() throws {
        let lab = try TestLab()
        let ios = try lab.exec("r1", "show running-config").stdout
        for marker in ["Building configuration...", "! Last configuration change at ", "\nntp clock-period ",
                       "\nenable secret 5 $1$", "\nsnmp-server community s3cr3t RO\n", "\nusername admin privilege 15 secret 9 $9$",
                       "\nhostname r1\n", "\nend\n"] {
            XCTAssertTrue(ios.contains(marker), "IOS running-config lacks \(marker)")
        }
        let eos = try lab.exec("sw1", "show running-config").stdout
        XCTAssertTrue(eos.contains("! Time: ") && eos.contains("snmp-server community s3cr3t ro"), eos)
        let nxos = try lab.exec("n1", "show running-config").stdout
        XCTAssertTrue(nxos.contains("!Time: ") && nxos.contains("snmp-server community s3cr3t group network-operator"), nxos)
        let junos = try lab.exec("j1", "show configuration").stdout
        XCTAssertTrue(junos.hasPrefix("## Last commit: ") && junos.contains("community s3cr3t {"), junos)
        XCTAssertTrue(junos.contains("encrypted-password \"$6$"), junos)
    }

    func testWriteMemorySavesStartupConfig() throws {
        let lab = try TestLab()
        let before = try lab.exec("r1", "configure terminal; hostname saved1; end; show startup-config | include hostname")
        XCTAssertTrue(before.stdout.contains("hostname r1\n"), "startup config is the boot config until saved:\n\(before.stdout)")
        let saved = try lab.exec("r1", "write memory; show startup-config | include hostname")
        XCTAssertEqual(saved.status, 0)
        XCTAssertTrue(saved.stdout.contains("Building configuration...\n[OK]\n"), saved.stdout)
        XCTAssertTrue(saved.stdout.contains("hostname saved1\n"), saved.stdout)
        let copy = try lab.run(["--device", "r1"], stdin: "enable\nx\ncopy run start\n\nexit\n")
        XCTAssertTrue(copy.stdout.contains("Destination filename [startup-config]? \nBuilding configuration...\n[OK]\n"), copy.stdout)
    }

    func testInvalidCommandExitsOneWithPlatformError() throws {
        let lab = try TestLab()
        let ios = try lab.exec("r1", "show version; show bogus")
        XCTAssertEqual(ios.status, 1)
        XCTAssertTrue(ios.stdout.contains("Cisco IOS Software"), "valid commands before the bad one still run")
        XCTAssertTrue(ios.stdout.contains("     ^\n% Invalid input detected at '^' marker."), ios.stdout)

        let eos = try lab.exec("sw1", "show bogus")
        XCTAssertEqual(eos.status, 1)
        XCTAssertTrue(eos.stdout.contains("% Invalid input"), eos.stdout)

        let nxos = try lab.exec("n1", "show bogus")
        XCTAssertEqual(nxos.status, 1)
        XCTAssertTrue(nxos.stdout.contains("% Invalid command at '^' marker."), nxos.stdout)

        let junos = try lab.exec("j1", "show bogus")
        XCTAssertEqual(junos.status, 1)
        XCTAssertTrue(junos.stdout.contains("syntax error, expecting <command>."), junos.stdout)

        let linux = try lab.exec("h1", "bogus")
        XCTAssertEqual(linux.status, 1)
        XCTAssertTrue(linux.stderr.contains("-bash: bogus: command not found"), linux.stderr)
    }

    // MARK: Identity

    func testDeviceChosenFromSSHConnectionServerPort() throws {
        let lab = try TestLab()
        let junos = try lab.run(command: "show version", environment: ["SSH_CONNECTION": "192.0.2.9 50123 127.0.0.1 2203"])
        XCTAssertEqual(junos.status, 0, junos.stderr)
        XCTAssertTrue(junos.stdout.contains("Hostname: j1"), junos.stdout)

        let ios = try lab.run(command: "show version", environment: ["SSH_CONNECTION": "192.0.2.9 50123 127.0.0.1 2201"])
        XCTAssertTrue(ios.stdout.contains("r1 uptime is"), ios.stdout)

        // Precedence: --device, then SWITCHBOARD_LAB_DEVICE, then the port.
        let byEnvironment = try lab.run(command: "show version",
                                        environment: ["SSH_CONNECTION": "192.0.2.9 50123 127.0.0.1 2203", "SWITCHBOARD_LAB_DEVICE": "n1"])
        XCTAssertTrue(byEnvironment.stdout.contains("Device name: n1"))
        let byFlag = try lab.run(["--device", "r1"], command: "show version",
                                 environment: ["SWITCHBOARD_LAB_DEVICE": "n1"])
        XCTAssertTrue(byFlag.stdout.contains("r1 uptime is"))

        let unknownPort = try lab.run(command: "show version", environment: ["SSH_CONNECTION": "192.0.2.9 50123 127.0.0.1 9999"])
        XCTAssertEqual(unknownPort.status, 1)
        XCTAssertTrue(unknownPort.stderr.contains("port 9999"), unknownPort.stderr)
        XCTAssertEqual(unknownPort.stdout, "")

        let nothing = try lab.run(command: "show version")
        XCTAssertEqual(nothing.status, 1)
        XCTAssertFalse(nothing.stderr.isEmpty)

        let unknownName = try lab.run(["--device", "nope"], command: "show version")
        XCTAssertEqual(unknownName.status, 1)
        XCTAssertTrue(unknownName.stderr.contains("nope"))

        // --lab-dir instead of the environment variable.
        let flagDir = try lab.run(["--lab-dir", lab.directory, "--device", "r1"], command: "show clock", labDirectoryInEnvironment: false)
        XCTAssertEqual(flagDir.status, 0, flagDir.stderr)
    }

    func testSelfTestPrintsNothing() throws {
        let lab = try TestLab()
        let result = try lab.run(["--self-test"], labDirectoryInEnvironment: false)
        XCTAssertEqual(result.status, 0)
        XCTAssertEqual(result.stdout, "")
        XCTAssertEqual(result.stderr, "")
    }

    // MARK: Interactive mode

    func testInteractiveEnableConfigureAndPersistence() throws {
        let lab = try TestLab()
        let session = try lab.run(["--device", "r1"], stdin: """
            show running-config
            enable
            whatever
            conf t
            hostname edge9
            interface Gi0/1
            description set by test
            exit
            ntp server 192.0.2.77
            end
            show privilege
            exit

            """)
        XCTAssertEqual(session.status, 0, session.stderr)
        let out = session.stdout
        XCTAssertTrue(out.hasPrefix("\n"), "banner first")
        XCTAssertTrue(out.contains("r1>"), out)
        XCTAssertTrue(out.contains("% Invalid input detected"), "show running-config needs enable:\n\(out)")
        XCTAssertTrue(out.contains("r1>Password: \nr1#"), out)
        XCTAssertTrue(out.contains("r1#Enter configuration commands, one per line.  End with CNTL/Z.\nr1(config)#"), out)
        XCTAssertTrue(out.contains("edge9(config)#edge9(config-if)#edge9(config-if)#edge9(config)#"), out)
        XCTAssertTrue(out.contains("edge9#Current privilege level is 15"), out)
        XCTAssertFalse(out.contains("conf t"), "input must not be echoed without a PTY")

        // The change persists for the next login to the same lab directory.
        let later = try lab.exec("r1", "show running-config")
        XCTAssertTrue(later.stdout.contains("\nhostname edge9\n"), later.stdout)
        XCTAssertTrue(later.stdout.contains("interface GigabitEthernet0/1\n description set by test\n"), later.stdout)
        XCTAssertTrue(later.stdout.contains("\nntp server 192.0.2.77\n"), later.stdout)
        XCTAssertTrue(FileManager.default.fileExists(atPath: lab.directory + "/state/r1.cfg"))

        // `no` removes it again.
        let undo = try lab.exec("r1", "configure terminal; no ntp server 192.0.2.77; interface GigabitEthernet0/1; no description; end")
        XCTAssertEqual(undo.status, 0, undo.stdout)
        let after = try lab.exec("r1", "show running-config").stdout
        XCTAssertFalse(after.contains("192.0.2.77"))
        XCTAssertFalse(after.contains("set by test"))
    }

    func testEnablePasswordFromEnvironment() throws {
        let lab = try TestLab()
        let result = try lab.run(["--device", "sw1"], stdin: "enable\nwrong\nshow privilege\nenable\nright\nshow privilege\nexit\n",
                                 environment: ["SWITCHBOARD_LAB_ENABLE": "right"])
        XCTAssertTrue(result.stdout.contains("% Access denied"), result.stdout)
        XCTAssertTrue(result.stdout.contains("sw1>Current privilege level is 1"), result.stdout)
        XCTAssertTrue(result.stdout.contains("sw1#Current privilege level is 15"), result.stdout)
    }

    func testEmptyPasswordIsDenied() throws {
        let lab = try TestLab()
        let result = try lab.run(["--device", "r1"], stdin: "enable\n\nexit\n")
        XCTAssertTrue(result.stdout.contains("Password: \n% Access denied\nr1>"), result.stdout)
    }

    func testEndOfInputEndsSession() throws {
        let lab = try TestLab()
        let result = try lab.run(["--device", "r1"], stdin: "enable\nx\nconfigure terminal\n")
        XCTAssertEqual(result.status, 0)
        XCTAssertTrue(result.stdout.hasSuffix("r1(config)#"), result.stdout)
    }

    func testPromptsPerPlatform() throws {
        let lab = try TestLab()
        let junos = try lab.run(["--device", "j1"], stdin: "configure\nexit\nexit\n", environment: ["USER": "netops"])
        XCTAssertTrue(junos.stdout.contains("netops@j1> Entering configuration mode\n\n[edit]\nnetops@j1# Exiting configuration mode\nnetops@j1> "),
                      junos.stdout)
        let linux = try lab.run(["--device", "h1"], stdin: "hostname\nlogout\n", environment: ["USER": "netops"])
        XCTAssertTrue(linux.stdout.contains("netops@h1:~$ h1\nnetops@h1:~$ "), linux.stdout)
    }

    func testJunosCandidateCommitPersists() throws {
        let lab = try TestLab()
        let result = try lab.run(["--device", "j1"], stdin: """
            configure
            set system host-name j9
            set interfaces ge-0/0/3 description "added by test"
            show | compare
            commit
            exit
            show configuration interfaces ge-0/0/3
            exit

            """, environment: ["USER": "admin"])
        XCTAssertEqual(result.status, 0)
        XCTAssertTrue(result.stdout.contains("+ set system host-name j9"), result.stdout)
        XCTAssertTrue(result.stdout.contains("commit complete\n\n[edit]\nadmin@j9# "), result.stdout)
        XCTAssertTrue(result.stdout.contains("description \"added by test\";"), result.stdout)
        let later = try lab.exec("j1", "show configuration | display set")
        XCTAssertTrue(later.stdout.contains("set system host-name j9\n"), later.stdout)

        // Uncommitted changes are not applied.
        _ = try lab.run(["--device", "j1"], stdin: "configure\nset system host-name never\nexit\nyes\nexit\n")
        XCTAssertFalse(try lab.exec("j1", "show configuration").stdout.contains("never"))
    }

    func testConcurrentSessionsKeepEveryChange() throws {
        let lab = try TestLab()
        let done = DispatchSemaphore(value: 0)
        let failures = LockedCounter()
        for n in 1...8 {
            Thread.detachNewThread {
                defer { done.signal() }
                let result = try? lab.exec("r1", "configure terminal; ntp server 198.51.100.\(n); end")
                if result?.status != 0 { failures.increment() }
            }
        }
        for _ in 1...8 { XCTAssertEqual(done.wait(timeout: .now() + 60), .success) }
        XCTAssertEqual(failures.value, 0)
        let config = try lab.exec("r1", "show running-config").stdout
        for n in 1...8 { XCTAssertTrue(config.contains("ntp server 198.51.100.\(n)\n"), "lost change \(n):\n\(config)") }
    }

    // MARK: Paging

    func testPagerWaitsForSpaceAndTerminalLengthZeroDisablesIt() throws {
        let lab = try TestLab()
        let device = try lab.start("r1")
        defer { device.terminate() }
        let promptEnd = try device.waitFor("r1>")
        device.send("show interfaces\n")
        let firstMore = try device.waitFor(" --More-- ", after: promptEnd)
        let firstPage = device.text(from: promptEnd, to: firstMore)
        XCTAssertEqual(firstPage.filter { $0 == "\n" }.count, 23, "one screen is 23 lines + the pager prompt:\n\(firstPage)")
        Thread.sleep(forTimeInterval: 0.2)
        XCTAssertEqual(device.count, firstMore, "nothing more until a key is pressed")

        device.send(" ")
        let secondMore = try device.waitFor(" --More-- ", after: firstMore)
        let secondPage = device.text(from: firstMore, to: secondMore)
        XCTAssertTrue(secondPage.hasPrefix("\r          \r"), "the pager prompt is erased: \(secondPage.debugDescription.prefix(40))")
        XCTAssertEqual(secondPage.filter { $0 == "\n" }.count, 23)

        device.send("\n")  // Enter: one more line
        let thirdMore = try device.waitFor(" --More-- ", after: secondMore)
        XCTAssertEqual(device.text(from: secondMore, to: thirdMore).filter { $0 == "\n" }.count, 1)

        device.send("q")
        let prompt = try device.waitFor("r1>", after: thirdMore)
        XCTAssertEqual(device.text(from: thirdMore, to: prompt), "\r          \rr1>")

        device.send("terminal length 0\nshow interfaces\n")
        let lengthSet = try device.waitFor("r1>", after: prompt)
        let done = try device.waitFor("r1>", after: lengthSet)
        let unpaged = device.text(from: lengthSet, to: done)
        XCTAssertFalse(unpaged.contains("--More--"), unpaged)
        XCTAssertTrue(unpaged.contains("Loopback0 is up"))
        XCTAssertTrue(unpaged.contains("GigabitEthernet0/3 is up"))
        device.send("exit\n")
        XCTAssertEqual(try device.waitForExit(), 0)
    }

    func testJunosPagerAndNoMore() throws {
        let lab = try TestLab()
        let paged = try lab.run(["--device", "j1"], stdin: "show configuration\nq\nexit\n")
        XCTAssertTrue(paged.stdout.contains("---(more)---"), paged.stdout)
        let unpaged = try lab.run(["--device", "j1"], stdin: "show configuration | no-more\nexit\n")
        XCTAssertFalse(unpaged.stdout.contains("---(more)---"))
        let screen = try lab.run(["--device", "j1"], stdin: "set cli screen-length 0\nshow configuration\nexit\n")
        XCTAssertFalse(screen.stdout.contains("---(more)---"))
        XCTAssertTrue(screen.stdout.contains("Screen length set to 0"))
    }

    func testExecModeNeverPages() throws {
        let lab = try TestLab()
        let result = try lab.exec("r1", "show interfaces")
        XCTAssertGreaterThan(result.stdout.split(separator: "\n").count, 24)
        XCTAssertFalse(result.stdout.contains("--More--"))
    }

    // MARK: Faults

    func testHugeOutputEndsWithVerifiableHash() throws {
        let lab = try TestLab()
        for (device, command) in [("big", "show running-config"), ("bigj", "show configuration")] {
            let result = try lab.exec(device, command)
            XCTAssertEqual(result.status, 0)
            let bytes = [UInt8](result.data)
            XCTAssertGreaterThan(bytes.count, 10_000_000)
            XCTAssertEqual(bytes.last, 0x0a)
            let lastLineStart = bytes.dropLast().lastIndex(of: 0x0a)! + 1
            let lastLine = String(decoding: bytes[lastLineStart...].dropLast(), as: UTF8.self)
            XCTAssertTrue(lastLine.hasPrefix("! END sha256="), lastLine)
            let claimed = String(lastLine.dropFirst("! END sha256=".count))
            XCTAssertEqual(claimed.count, 64)
            let body = Data(bytes[..<lastLineStart])
            XCTAssertEqual(claimed, try independentSHA256(body), "\(device): digest must cover everything before the END line")
        }
        let techSupport = try lab.exec("big", "show tech-support")
        XCTAssertTrue(String(decoding: techSupport.data.suffix(80), as: UTF8.self).contains("! END sha256="))
    }

    func testDisconnectAfterBytes() throws {
        let lab = try TestLab()
        let exec = try lab.exec("cut", "show running-config")
        XCTAssertEqual(exec.status, 255)
        XCTAssertEqual(exec.data.count, 500)
        let interactive = try lab.run(["--device", "cut"], stdin: "show version\nshow version\nexit\n")
        XCTAssertEqual(interactive.status, 255)
        XCTAssertEqual(interactive.data.count, 500)
        XCTAssertFalse(interactive.stdout.hasSuffix("cut>"), "no prompt after the cut")
    }

    func testEscapeSequencesInShowVersion() throws {
        let lab = try TestLab()
        let out = try lab.exec("evil", "show version").stdout
        XCTAssertTrue(out.contains("\u{1b}[2J"))
        XCTAssertTrue(out.contains("\u{1b}]0;pwned\u{07}"))
        XCTAssertTrue(out.contains("\u{1b}[1;31m"))
        XCTAssertTrue(out.contains("evil uptime is"))
    }

    func testHangPromptStopsPromptingAfterFirstCommand() throws {
        let lab = try TestLab()
        let result = try lab.run(["--device", "hang"], stdin: "\nshow clock\nshow clock\nexit\n")
        XCTAssertEqual(result.status, 0)
        XCTAssertEqual(result.stdout.components(separatedBy: "hang>").count - 1, 2, "initial prompt and the one after the empty line only:\n\(result.stdout)")
        XCTAssertEqual(result.stdout.components(separatedBy: " UTC ").count - 1, 2, "commands are still answered")
    }

    func testSlowResponses() throws {
        let lab = try TestLab()
        let started = Date()
        let result = try lab.exec("slow", "show clock; show clock")
        XCTAssertEqual(result.status, 0)
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 0.6)
    }

    // MARK: SHA-256 (known-answer tests for the in-tree implementation)

    func testSHA256KnownAnswers() {
        XCTAssertEqual(SHA256.hex(Array("".utf8)), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hex(Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(SHA256.hex(Array("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu".utf8)),
                       "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1")
        // One million "a", fed in uneven chunks to exercise the carry-over between updates.
        var sha = SHA256()
        var remaining = 1_000_000
        var chunk = 1
        while remaining > 0 {
            let n = min(chunk, remaining)
            sha.update([UInt8](repeating: 0x61, count: n))
            remaining -= n
            chunk = chunk * 3 % 1000 + 1
        }
        XCTAssertEqual(sha.finalizeHex(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        // Padding edge cases: 55, 56 and 64 byte messages.
        XCTAssertEqual(SHA256.hex([UInt8](repeating: 0x61, count: 55)), "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318")
        XCTAssertEqual(SHA256.hex([UInt8](repeating: 0x61, count: 56)), "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a")
        XCTAssertEqual(SHA256.hex([UInt8](repeating: 0x61, count: 64)), "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb")
    }

    /// SHA-256 from outside this code base when possible (coreutils), so the huge-output check
    /// does not only compare the implementation with itself.
    private func independentSHA256(_ data: Data) throws -> String {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/sha256sum") else { return SHA256.hex([UInt8](data)) }
        let result = try TestLab.launch("/usr/bin/sha256sum", [], environment: [:], stdin: data)
        return String(result.stdout.prefix(64))
    }
}

// MARK: - Harness

/// A throwaway lab directory with a fixed set of devices, removed when the test is done with it.
final class TestLab: Sendable {
    let directory: String

    static let binary: String = {
        if let override = ProcessInfo.processInfo.environment["SWITCHBOARD_DEVICE_BINARY"], !override.isEmpty { return override }
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path + "/.build/debug/switchboard-device"
    }()

    static let devicesJSON = """
        {"devices": [
          {"name": "r1", "port": 2201, "platform": "cisco_ios",
           "faults": {"slow_ms": 0, "disconnect_after_bytes": 0, "huge_output": false, "hang_prompt": false, "escape_sequences": false}},
          {"name": "r2", "port": 2210, "platform": "cisco_ios"},
          {"name": "sw1", "port": 2202, "platform": "arista_eos"},
          {"name": "j1", "port": 2203, "platform": "juniper_junos"},
          {"name": "n1", "port": 2204, "platform": "cisco_nxos"},
          {"name": "h1", "port": 2205, "platform": "linux"},
          {"name": "big", "port": 2206, "platform": "cisco_ios", "faults": {"huge_output": true}},
          {"name": "bigj", "port": 2207, "platform": "juniper_junos", "faults": {"huge_output": true}},
          {"name": "cut", "port": 2208, "platform": "cisco_ios", "faults": {"disconnect_after_bytes": 500}},
          {"name": "evil", "port": 2209, "platform": "cisco_ios", "faults": {"escape_sequences": true}},
          {"name": "hang", "port": 2211, "platform": "cisco_ios", "faults": {"hang_prompt": true}},
          {"name": "slow", "port": 2212, "platform": "arista_eos", "faults": {"slow_ms": 300}}
        ]}
        """

    init() throws {
        guard FileManager.default.isExecutableFile(atPath: TestLab.binary) else {
            throw EnvironmentFailure("\(TestLab.binary) is missing: run `swift build --product switchboard-device` first")
        }
        directory = NSTemporaryDirectory() + "switchboard-lab-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try TestLab.devicesJSON.write(toFile: directory + "/devices.json", atomically: true, encoding: .utf8)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: directory)
    }

    struct Result {
        var status: Int32
        var data: Data
        var stderr: String
        var stdout: String { String(decoding: data, as: UTF8.self) }
    }

    /// The environment sshd would give the ForceCommand, minus anything inherited from the test run.
    func environment(_ extra: [String: String], labDirectoryInEnvironment: Bool = true) -> [String: String] {
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SWITCHBOARD_") && !$0.key.hasPrefix("SSH_") }
        env["USER"] = "admin"
        if labDirectoryInEnvironment { env["SWITCHBOARD_LAB_DIR"] = directory }
        env.merge(extra) { $1 }
        return env
    }

    /// Exec channel: `ssh device '<command>'`.
    func exec(_ device: String, _ command: String) throws -> Result {
        try run(["--device", device], command: command)
    }

    func run(_ arguments: [String] = [], command: String? = nil, stdin: String = "", environment extra: [String: String] = [:],
             labDirectoryInEnvironment: Bool = true) throws -> Result {
        var env = environment(extra, labDirectoryInEnvironment: labDirectoryInEnvironment)
        if let command { env["SSH_ORIGINAL_COMMAND"] = command }
        return try TestLab.launch(TestLab.binary, arguments, environment: env, stdin: Data(stdin.utf8))
    }

    static func launch(_ path: String, _ arguments: [String], environment: [String: String], stdin: Data) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        if !environment.isEmpty { process.environment = environment }
        let input = Pipe(), output = Pipe(), error = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = error
        try process.run()
        // Inputs are small (well under a pipe buffer), so write them first; then drain stderr on
        // a thread and stdout here, so a large output cannot deadlock the child. Plain threads,
        // not the global dispatch queue: concurrent tests would starve its small pool.
        signal(SIGPIPE, SIG_IGN)  // the device may exit (or be cut off) before reading it all
        try? input.fileHandleForWriting.write(contentsOf: stdin)
        try? input.fileHandleForWriting.close()
        let collected = Collected()
        let stderrDone = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            collected.setError(error.fileHandleForReading.readDataToEndOfFile())
            stderrDone.signal()
        }
        collected.setOutput(output.fileHandleForReading.readDataToEndOfFile())
        guard stderrDone.wait(timeout: .now() + 60) == .success else {
            process.terminate()
            throw TestFailure("\(path) \(arguments) did not finish within 60 s")
        }
        process.waitUntilExit()
        return Result(status: process.terminationStatus, data: collected.output,
                      stderr: String(decoding: collected.error, as: UTF8.self))
    }

    /// Shell channel with a live conversation, for the pager.
    func start(_ device: String) throws -> LiveDevice {
        try LiveDevice(arguments: ["--device", device], environment: environment([:], labDirectoryInEnvironment: true))
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

final class Collected: @unchecked Sendable {
    private let lock = NSLock()
    private var out = Data(), err = Data()
    var output: Data { lock.withLock { out } }
    var error: Data { lock.withLock { err } }
    func setOutput(_ data: Data) { lock.withLock { out = data } }
    func setError(_ data: Data) { lock.withLock { err = data } }
}

final class LockedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    var value: Int { lock.withLock { count } }
    func increment() { lock.withLock { count += 1 } }
}

/// A running device whose output can be awaited piece by piece.
final class LiveDevice: @unchecked Sendable {
    private let process = Process()
    private let input = Pipe()
    private let pipe = Pipe()
    private let output = OutputCapture()

    init(arguments: [String], environment: [String: String]) throws {
        process.executableURL = URL(fileURLWithPath: TestLab.binary)
        process.arguments = arguments
        process.environment = environment
        process.standardInput = input
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let handle = pipe.fileHandleForReading
        let output = self.output
        Thread.detachNewThread {
            while true {
                let data = handle.availableData
                if data.isEmpty { output.finish(); return }
                output.append(data)
            }
        }
    }

    var count: Int { output.count }

    func text(from start: Int, to end: Int) -> String { output.text(from: start, to: end) }

    func send(_ text: String) {
        input.fileHandleForWriting.write(Data(text.utf8))
    }

    /// Waits for `needle` at or after byte `after`; returns the offset just past it.
    @discardableResult
    func waitFor(_ needle: String, after: Int = 0, timeout: TimeInterval = 10) throws -> Int {
        try output.waitFor(needle, after: after, timeout: timeout)
    }

    func waitForExit(timeout: TimeInterval = 10) throws -> Int32 {
        try? input.fileHandleForWriting.close()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        guard !process.isRunning else { throw TestFailure("device did not exit") }
        return process.terminationStatus
    }

    func terminate() {
        if process.isRunning { process.terminate() }
    }
}

/// A missing or broken test prerequisite (sshd, ssh-keygen, a port): a failure, not a skip — CI
/// installs all of them, and a skipped test would hide the breakage.
struct EnvironmentFailure: Error, CustomStringConvertible {
    let message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}

/// Output of a running device, gathered by a reader thread, that tests search as it arrives.
/// Shared by the pipe-driven (`LiveDevice`) and terminal-driven (`PTYDevice`) harnesses.
final class OutputCapture: @unchecked Sendable {
    private let lock = NSLock()
    private var buffer: [UInt8] = []
    private var finished = false

    func append<S: Sequence>(_ bytes: S) where S.Element == UInt8 { lock.withLock { buffer.append(contentsOf: bytes) } }
    func finish() { lock.withLock { finished = true } }

    var count: Int { lock.withLock { buffer.count } }

    func text(from start: Int, to end: Int) -> String {
        lock.withLock { String(decoding: buffer[max(0, start)..<min(end, buffer.count)], as: UTF8.self) }
    }

    /// Waits for `needle` at or after byte `after`; returns the offset just past it.
    func waitFor(_ needle: String, after: Int, timeout: TimeInterval) throws -> Int {
        let target = Array(needle.utf8)
        let from = max(0, after)
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let found: Int? = lock.withLock {
                guard buffer.count >= target.count, from <= buffer.count - target.count else { return nil }
                for start in from...(buffer.count - target.count) where buffer[start..<start + target.count].elementsEqual(target) {
                    return start + target.count
                }
                return nil
            }
            if let found { return found }
            if lock.withLock({ finished }) { break }
            Thread.sleep(forTimeInterval: 0.01)
        }
        throw TestFailure("timed out waiting for \(needle.debugDescription); output so far:\n\(text(from: 0, to: count).debugDescription)")
    }
}
