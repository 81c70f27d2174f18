import Foundation

/// Errors of the lab, phrased for the engineer who typed `switchboard lab …`.
public struct LabError: Error, CustomStringConvertible, LocalizedError {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
    public var errorDescription: String? { message }
}

/// Starts and stops the device lab: real OpenSSH `sshd` processes on 127.0.0.1 high ports whose every
/// login lands in the simulated network-OS CLI (`switchboard-device`).
///
/// Layout of the lab directory:
/// - `keys/`: host keys (ed25519, ecdsa, rsa), the lab's client keys, `known_hosts`;
/// - `runtime/` (or a world-traversable copy when the lab directory is not, see `runtimeDirectory`):
///   `devices.json`, `state/` (running configurations), `bin/switchboard-device`, `authorized_keys`
///   — what the lab's login user needs to read;
/// - `sshd/`: one config per sshd process (sshd listens on at most 16 ports), logs and pid files;
/// - `lab.json`: the `LabStatus` of a running lab.
///
/// As root, logins use a dedicated system user `sblab` (password auth works: sshd can read the shadow
/// file) and the jump host's hidden device lives in network namespaces, unreachable except through the
/// jump host. Unprivileged, sshd runs as the current user: key authentication only, and the device
/// behind the jump host is reachable directly too (`LabStatus.isolatedJump` is false).
public final class LabManager {
    public let directory: String
    let deviceBinary: String?
    let relayBinary: String?

    public static let labUser = "sblab"
    public static let labPassword = "switchboard-lab"
    public static let keyPassphrase = "lab-passphrase"
    /// The enable secret of the lab's credentials (the lab's devices take any non-empty one), so
    /// services that enter enable mode by default get past it on every lab platform.
    public static let enableSecret = "enable-lab"
    static let sshdGroupSize = 16  // sshd's MAX_LISTEN_SOCKS

    /// - Parameters:
    ///   - deviceBinary: the simulated CLI; found next to the running program or in `.build` when nil.
    ///   - relayBinary: a program whose `lab relay CONFIG` runs the latency relay (the `switchboard`
    ///     executable); needed only for `latencyMs > 0`.
    public init(directory: String, deviceBinary: String? = nil, relayBinary: String? = nil) {
        self.directory = (directory as NSString).standardizingPath
        self.deviceBinary = deviceBinary
        self.relayBinary = relayBinary
    }

    var isRoot: Bool { geteuid() == 0 }
    var statusPath: String { directory + "/lab.json" }
    var keysDirectory: String { directory + "/keys" }
    var sshdDirectory: String { directory + "/sshd" }

    // MARK: status

    /// The running lab, or nil when none is up (a `lab.json` whose processes all died counts as down).
    public func status() -> LabStatus? {
        guard let data = FileManager.default.contents(atPath: statusPath) else { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        guard let status = try? decoder.decode(LabStatus.self, from: data) else { return nil }
        return status
    }

    /// Which of the lab's processes are still alive.
    public func alivePids(_ status: LabStatus) -> [Int32] {
        status.pids.filter { kill($0, 0) == 0 || errno == EPERM }
    }

    // MARK: up

    @discardableResult
    public func up(devices count: Int = 20, latencyMs: Int = 0, basePort: Int = 2201, crypto: LabCrypto = .standard) throws -> LabStatus {
        if let existing = status(), !alivePids(existing).isEmpty {
            throw LabError("the lab in \(directory) is already up (\(existing.devices.count) devices); run `switchboard lab down` first")
        }
        if latencyMs < 0 || latencyMs > 10_000 { throw LabError("latency must be between 0 and 10000 ms") }
        if count < 1 || count > 5000 { throw LabError("--devices must be between 1 and 5000") }
        if basePort < 1124 || basePort + count > 65000 { throw LabError("ports \(basePort - 100)...\(basePort + count) are out of range") }
        if latencyMs > 0 && basePort + count + LabPorts.relayOffset > 65_000 {
            throw LabError("with --latency the relay listens \(LabPorts.relayOffset) above each device port: --base-port must be at most \(65_000 - LabPorts.relayOffset - count)")
        }
        guard let sshd = ["/usr/sbin/sshd", ProcessRunner.which("sshd")].compactMap({ $0 }).first(where: FileManager.default.isExecutableFile) else {
            throw LabError("sshd is not installed (Debian: apt-get install openssh-server; scripts/install-deps does it)")
        }
        guard let keygen = ProcessRunner.which("ssh-keygen") else { throw LabError("ssh-keygen is not installed (openssh-client)") }
        let binary = try locateDeviceBinary()
        // Leftovers of a lab that died (processes gone, namespaces maybe not).
        if let stale = status() { try? cleanUp(stale) }

        let fm = FileManager.default
        for dir in [directory, keysDirectory, sshdDirectory] {
            try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
        chmod(directory, 0o755)
        chmod(keysDirectory, 0o700)
        try makeKeys(keygen)

        let user = try prepareUser()
        let runtime = try prepareRuntime(binary: binary, user: user)

        var devices = LabTopology.devices(count: count, basePort: basePort)
        // A port already taken would otherwise surface as an sshd that "wrote no pid file".
        var taken: [String] = []
        for d in devices {
            if !LabPorts.isFree(d.listenPort) { taken.append("\(d.listenPort) (\(d.name))") }
            if latencyMs > 0 && !LabPorts.isFree(d.listenPort + LabPorts.relayOffset) {
                taken.append("\(d.listenPort + LabPorts.relayOffset) (\(d.name)'s relay port)")
            }
        }
        if !taken.isEmpty {
            throw LabError("127.0.0.1 port\(taken.count == 1 ? "" : "s") \(taken.prefix(5).joined(separator: ", "))\(taken.count > 5 ? " and \(taken.count - 5) more" : "") already in use (another lab? `switchboard lab status --dir …`); stop what listens there or choose another --base-port")
        }
        var namespaces: [String] = []
        var routes: [String] = []
        var isolated = false
        var kbdDevice: String?
        if isRoot, let ns = try? JumpNamespaces.create(labDirectory: directory) {
            namespaces = ns.names
            routes = [ns.unreachableRoute]
            isolated = true
            for i in devices.indices where devices[i].name == LabTopology.jumpHost {
                devices[i].address = ns.jumpAddress; devices[i].group = "jump"
            }
            for i in devices.indices where devices[i].name == LabTopology.behindJump {
                devices[i].address = ns.behindAddress; devices[i].group = "behind"
            }
        }
        // Group the rest, 16 ports per sshd.
        var n = 0
        for i in devices.indices where devices[i].group.isEmpty {
            if devices[i].name == "fault-auth" { devices[i].group = "fault-auth"; continue }
            if !isolated && devices[i].name == LabTopology.jumpHost { devices[i].group = "jump"; continue }
            devices[i].group = "g\(n / LabManager.sshdGroupSize)"
            n += 1
        }
        if isRoot {
            kbdDevice = "kbdint-1"
            devices.append(LabDevice(name: "kbdint-1", platform: "cisco_ios", address: "127.0.0.1",
                                     port: basePort - 100 + LabTopology.faults.count, listenPort: basePort - 100 + LabTopology.faults.count,
                                     jump: "", faults: [:], group: "kbdint"))
        }

        try writeDevicesJSON(devices, runtime: runtime)
        var status = LabStatus(
            directory: directory, devices: devices, knownHostsPath: keysDirectory + "/known_hosts",
            userKeyPath: keysDirectory + (crypto == .p256 ? "/id_ecdsa" : "/id_ed25519"), passphraseKeyPath: keysDirectory + "/id_ed25519_pass",
            keyPassphrase: LabManager.keyPassphrase, username: user, password: isRoot ? LabManager.labPassword : nil,
            keyboardInteractiveDevice: kbdDevice, isolatedJump: isolated, latencyMs: latencyMs, pids: [],
            namespaces: namespaces, routes: routes, startedAt: Date(), crypto: crypto == .standard ? nil : crypto,
            ledgerPath: LabManager.ledgerPath(runtime: runtime))
        do {
            try writeKnownHosts(devices)
            let groups = Dictionary(grouping: devices, by: \.group)
            for (group, members) in groups.sorted(by: { $0.key < $1.key }) {
                let config = try writeSSHDConfig(group: group, devices: members, runtime: runtime, user: user, crypto: crypto)
                let pid = try startSSHD(sshd, config: config, group: group,
                                        namespace: group == "jump" && isolated ? namespaces.first : group == "behind" ? namespaces.last : nil)
                status.pids.append(pid)
                try save(status)
            }
            if latencyMs > 0 {
                let relay = try startRelay(&status)
                status.pids.append(relay)
            }
            try save(status)
            try waitUntilListening(status)
        } catch {
            try? cleanUp(status)
            throw error
        }
        if kbdDevice != nil && !keyboardInteractiveWorks(status) {
            status.keyboardInteractiveDevice = nil
            try save(status)
        }
        return status
    }

    // MARK: down

    /// Stops every process the lab started (by pid), removes its namespaces and its devices' state.
    public func down() throws {
        guard let status = status() else { throw LabError("no lab is up in \(directory)") }
        try cleanUp(status)
    }

    func cleanUp(_ status: LabStatus) throws {
        for pid in status.pids { kill(pid, SIGTERM) }
        let deadline = Date().addingTimeInterval(3)
        while Date() < deadline && status.pids.contains(where: { kill($0, 0) == 0 }) { usleep(20_000) }
        for pid in status.pids where kill(pid, 0) == 0 { kill(pid, SIGKILL) }
        for ns in status.namespaces { JumpNamespaces.delete(ns) }
        for route in status.routes { JumpNamespaces.deleteRoute(route) }
        let runtime = runtimeDirectory(forUser: status.username)
        if runtime.hasPrefix(directory + "/") {
            try? FileManager.default.removeItem(atPath: runtime + "/state")
        } else {
            // A runtime copy outside the lab directory (see `runtimeDirectory`) is the lab's alone.
            try? FileManager.default.removeItem(atPath: runtime)
        }
        try? FileManager.default.removeItem(atPath: statusPath)
    }

    // MARK: pieces

    func save(_ status: LabStatus) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        try encoder.encode(status).write(to: URL(fileURLWithPath: statusPath), options: .atomic)
        chmod(statusPath, 0o600)
    }

    func locateDeviceBinary() throws -> String {
        if let deviceBinary {
            guard FileManager.default.isExecutableFile(atPath: deviceBinary) else { throw LabError("no simulated CLI at \(deviceBinary)") }
            return deviceBinary
        }
        var candidates: [String] = []
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            candidates.append((exe as NSString).deletingLastPathComponent + "/switchboard-device")
        }
        // Tests run inside `.build/<triple>/debug/…xctest`: the binary sits beside the bundle.
        let bundleDir = (Bundle.main.bundlePath as NSString).deletingLastPathComponent
        candidates.append(Bundle.main.bundlePath + "/switchboard-device")
        candidates.append(bundleDir + "/switchboard-device")
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        candidates += [url.path + "/.build/debug/switchboard-device", url.path + "/.build/release/switchboard-device"]
        guard let found = candidates.first(where: FileManager.default.isExecutableFile) else {
            throw LabError("cannot find switchboard-device (build it: swift build --product switchboard-device)")
        }
        return found
    }

    func makeKeys(_ keygen: String) throws {
        let fm = FileManager.default
        for (type, bits) in [("ed25519", ""), ("ecdsa", "256"), ("rsa", "3072")] {
            let path = keysDirectory + "/ssh_host_\(type)_key"
            if !fm.fileExists(atPath: path) {
                var args = ["-q", "-t", type, "-N", "", "-C", "switchboard-lab-host", "-f", path]
                if !bits.isEmpty { args += ["-b", bits] }
                try ProcessRunner.run(keygen, args)
            }
        }
        let user = keysDirectory + "/id_ed25519"
        if !fm.fileExists(atPath: user) {
            try ProcessRunner.run(keygen, ["-q", "-t", "ed25519", "-N", "", "-C", "switchboard-lab-user", "-f", user])
        }
        let ecdsa = keysDirectory + "/id_ecdsa"
        if !fm.fileExists(atPath: ecdsa) {
            try ProcessRunner.run(keygen, ["-q", "-t", "ecdsa", "-b", "256", "-N", "", "-C", "switchboard-lab-user-p256", "-f", ecdsa])
        }
        let pass = keysDirectory + "/id_ed25519_pass"
        if !fm.fileExists(atPath: pass) {
            try ProcessRunner.run(keygen, ["-q", "-t", "ed25519", "-N", LabManager.keyPassphrase, "-C", "switchboard-lab-user-pass", "-f", pass])
        }
    }

    /// The login user: `sblab` (created when missing, password set) as root, else the current user.
    func prepareUser() throws -> String {
        guard isRoot else {
            return String(cString: getpwuid(geteuid()).pointee.pw_name)
        }
        if getpwnam(LabManager.labUser) == nil {
            guard let useradd = ProcessRunner.which("useradd") else { throw LabError("useradd is missing; cannot create the lab user") }
            try ProcessRunner.run(useradd, ["--system", "--no-create-home", "--home-dir", "/", "--shell", "/bin/sh", LabManager.labUser])
        }
        guard let chpasswd = ProcessRunner.which("chpasswd") else { throw LabError("chpasswd is missing; cannot set the lab user's password") }
        try ProcessRunner.run(chpasswd, [], input: "\(LabManager.labUser):\(LabManager.labPassword)\n")
        return LabManager.labUser
    }

    /// Where the login user reads devices.json and keeps state. The lab directory itself when every
    /// ancestor lets others through (a default under /root does not), else a directory under /var/tmp.
    func runtimeDirectory(forUser user: String) -> String {
        if !isRoot || user != LabManager.labUser { return directory + "/runtime" }
        var path = directory
        var traversable = true
        while path != "/" && !path.isEmpty {
            var st = stat()
            if stat(path, &st) != 0 || st.st_mode & 0o001 == 0 { traversable = false; break }
            path = (path as NSString).deletingLastPathComponent
        }
        if traversable { return directory + "/runtime" }
        var hash: UInt64 = 1469598103934665603
        for b in directory.utf8 { hash = (hash ^ UInt64(b)) &* 1099511628211 }
        return "/var/tmp/switchboard-lab-" + String(hash % 0xffffffff, radix: 16)
    }

    func prepareRuntime(binary: String, user: String) throws -> String {
        let fm = FileManager.default
        let runtime = runtimeDirectory(forUser: user)
        try fm.createDirectory(atPath: runtime + "/bin", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: runtime + "/state", withIntermediateDirectories: true)
        // A copy the login user can always execute, wherever the build tree lives.
        let target = runtime + "/bin/switchboard-device"
        try? fm.removeItem(atPath: target)
        try fm.copyItem(atPath: binary, toPath: target)
        chmod(target, 0o755)
        // authorized_keys is read as the login user.
        let keys = try ["/id_ed25519.pub", "/id_ed25519_pass.pub", "/id_ecdsa.pub"].map { keysDirectory + $0 }.map {
            try String(contentsOfFile: $0, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        try (keys.joined(separator: "\n") + "\n").write(toFile: runtime + "/authorized_keys", atomically: true, encoding: .utf8)
        chmod(runtime + "/authorized_keys", 0o644)
        chmod(runtime, 0o755)
        chmod(runtime + "/bin", 0o755)
        // The ledger (see `LabLedger`): empty for every lab, appended to by its devices only, which
        // run as the login user and open it without O_CREAT (the runtime directory is not theirs).
        let ledger = LabManager.ledgerPath(runtime: runtime)
        guard fm.createFile(atPath: ledger, contents: nil) else { throw LabError("cannot create the lab's ledger \(ledger)") }
        chmod(ledger, 0o644)
        if isRoot, let pw = getpwnam(user) {
            chown(runtime + "/state", pw.pointee.pw_uid, pw.pointee.pw_gid)
            chmod(runtime + "/state", 0o700)
            chown(ledger, pw.pointee.pw_uid, pw.pointee.pw_gid)
        }
        return runtime
    }

    static func ledgerPath(runtime: String) -> String { runtime + "/ledger.log" }

    func writeDevicesJSON(_ devices: [LabDevice], runtime: String) throws {
        let entries: [[String: Any]] = devices.map { d in
            var faults: [String: Any] = [:]
            // Durations and sizes are numbers; the other faults are switches.
            for (k, v) in d.faults { faults[k] = (k.hasSuffix("_ms") || k.hasSuffix("_bytes")) ? v : (v != 0) }
            return ["name": d.name, "port": d.listenPort, "platform": d.platform, "faults": faults]
        }
        let data = try JSONSerialization.data(withJSONObject: ["devices": entries], options: [.prettyPrinted, .sortedKeys])
        try data.write(to: URL(fileURLWithPath: runtime + "/devices.json"), options: .atomic)
        chmod(runtime + "/devices.json", 0o644)
    }

    /// One known_hosts line per device and host key type, so whichever key type a client negotiates is known.
    func writeKnownHosts(_ devices: [LabDevice]) throws {
        var lines: [String] = []
        let keys = try ["ed25519", "ecdsa", "rsa"].map { type -> String in
            let pub = try String(contentsOfFile: keysDirectory + "/ssh_host_\(type)_key.pub", encoding: .utf8)
            return pub.split(separator: " ").prefix(2).joined(separator: " ")
        }
        for d in devices {
            let host = d.port == 22 ? d.address : "[\(d.address)]:\(d.port)"
            for key in keys { lines.append("\(host) \(key)") }
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: keysDirectory + "/known_hosts", atomically: true, encoding: .utf8)
    }

    func writeSSHDConfig(group: String, devices: [LabDevice], runtime: String, user: String, crypto: LabCrypto = .standard) throws -> String {
        let address = devices.first?.address ?? "127.0.0.1"
        var lines = ["# written by switchboard lab up; group \(group): \(devices.map(\.name).joined(separator: ", "))"]
        for d in devices { lines.append("Port \(d.listenPort)") }
        lines.append("ListenAddress \(address)")
        for type in ["ed25519", "ecdsa", "rsa"] { lines.append("HostKey \(keysDirectory)/ssh_host_\(type)_key") }
        let pam = group == "kbdint"
        lines += [
            "PidFile \(sshdDirectory)/\(group).pid",
            "AuthorizedKeysFile \(group == "fault-auth" ? "none" : runtime + "/authorized_keys")",
            "StrictModes no",
            "UsePAM \(pam ? "yes" : "no")",
            "PubkeyAuthentication \(pam || group == "fault-auth" ? "no" : "yes")",
            "PasswordAuthentication \(isRoot && !pam && group != "fault-auth" ? "yes" : "no")",
            "KbdInteractiveAuthentication \(pam ? "yes" : "no")",
            "PermitRootLogin \(user == "root" ? "prohibit-password" : "no")",
            "AllowUsers \(user)",
            "ForceCommand \(runtime)/bin/switchboard-device --lab-dir \(runtime)",
            "AllowTcpForwarding \(group == "jump" ? "yes" : "no")",
            "AllowAgentForwarding no",
            "X11Forwarding no",
            "PermitTTY yes",
            "PrintMotd no",
            "PrintLastLog no",
            "UseDNS no",
            "MaxStartups 4000",
            "MaxSessions 64",
            "LoginGraceTime 60",
            "LogLevel ERROR",
            "Subsystem sftp internal-sftp",
        ]
        if crypto == .p256 { lines += ["KexAlgorithms ecdh-sha2-nistp256", "HostKeyAlgorithms ecdsa-sha2-nistp256"] }
        let path = sshdDirectory + "/\(group).conf"
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func startSSHD(_ sshd: String, config: String, group: String, namespace: String?) throws -> Int32 {
        let pidFile = sshdDirectory + "/\(group).pid"
        try? FileManager.default.removeItem(atPath: pidFile)
        if isRoot { try? FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755]) }
        let log = sshdDirectory + "/\(group).log"
        var command = [sshd, "-f", config, "-E", log]
        // Without -r, OpenSSH before 9.8 re-executes itself for every connection (loading, linking,
        // reading its config and host keys again): 40 % of the lab's CPU per login. 9.8 and later
        // split that work into sshd-session and no longer have the flag.
        if LabManager.sshdHasNoReexecFlag(sshd) { command.insert("-r", at: 1) }
        if let namespace, let ip = ProcessRunner.which("ip") { command = [ip, "netns", "exec", namespace] + command }
        // sshd daemonizes itself (its own session, detached from ours) and writes its pid file.
        let result = try ProcessRunner.run(command[0], Array(command.dropFirst()), allowFailure: true)
        if result.status != 0 {
            let logText = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            throw LabError("sshd for \(group) did not start: \(result.output)\(logText)".trimmingCharacters(in: .whitespacesAndNewlines))
        }
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            if let text = try? String(contentsOfFile: pidFile, encoding: .utf8), let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                return pid
            }
            usleep(10_000)
        }
        throw LabError("sshd for \(group) started but wrote no pid file (\(pidFile))")
    }

    /// Whether `sshd -r` exists: OpenSSH older than 9.8 (whose version `sshd -V` prints).
    static func sshdHasNoReexecFlag(_ sshd: String) -> Bool {
        guard let result = try? ProcessRunner.run(sshd, ["-V"], allowFailure: true) else { return false }
        guard let v = openSSHVersion(result.output) else { return false }
        return v.major < 9 || (v.major == 9 && v.minor < 8)
    }

    /// [major, minor] from text such as "OpenSSH_9.2p1 Debian-2+deb12u3, OpenSSL 3.0.19".
    static func openSSHVersion(_ text: String) -> (major: Int, minor: Int)? {
        guard let range = text.range(of: "OpenSSH_") else { return nil }
        let digits = text[range.upperBound...].prefix { $0.isNumber || $0 == "." }
        let parts = digits.split(separator: ".").compactMap { Int($0) }
        return parts.count >= 2 ? (parts[0], parts[1]) : nil
    }

    func startRelay(_ status: inout LabStatus) throws -> Int32 {
        guard let relayBinary else { throw LabError("latency needs the relay program (run through `switchboard lab up --latency`)") }
        // Clients connect to the relay's port; the relay forwards to sshd's after the delay.
        var routes: [LatencyRelay.Route] = []
        for i in status.devices.indices where status.devices[i].address == "127.0.0.1" {
            let listen = status.devices[i].listenPort + LabPorts.relayOffset
            routes.append(.init(listenPort: listen, targetPort: status.devices[i].listenPort))
            status.devices[i].port = listen
        }
        let config = LatencyRelay.Config(latencyMs: status.latencyMs, routes: routes)
        let path = directory + "/relay.json"
        try JSONEncoder().encode(config).write(to: URL(fileURLWithPath: path))
        try writeKnownHosts(status.devices)
        return try Daemon.spawn(relayBinary, ["lab", "relay", path], log: directory + "/relay.log")
    }

    /// Waits until every device port accepts TCP connections (sshd and relay are ready). 30 s: on a
    /// loaded 2-core machine an sshd started beside busy tests was once not listening after 15 s.
    /// The error carries the end of sshd's logs: the lab's directory goes when a test cleans up.
    func waitUntilListening(_ status: LabStatus) throws {
        let deadline = Date().addingTimeInterval(30)
        for d in status.devices where d.group != "behind" {
            while !TCPProbe.canConnect(host: d.address, port: d.port) {
                if Date() > deadline {
                    let logs = ((try? FileManager.default.contentsOfDirectory(atPath: sshdDirectory)) ?? []).filter { $0.hasSuffix(".log") }.sorted()
                        .map { name -> String in
                            let text = (try? String(contentsOfFile: sshdDirectory + "/" + name, encoding: .utf8)) ?? ""
                            return "\(name): " + text.split(separator: "\n").suffix(3).joined(separator: " | ")
                        }.joined(separator: "; ")
                    throw LabError("\(d.name) (127.0.0.1:\(d.port)) does not accept connections; see \(sshdDirectory)/*.log (\(logs.isEmpty ? "no log" : logs))")
                }
                usleep(20_000)
            }
        }
    }

    /// keyboard-interactive goes through PAM, which some containers cannot run (pam_loginuid);
    /// probe with OpenSSH's client and report honestly when it does not work.
    func keyboardInteractiveWorks(_ status: LabStatus) -> Bool {
        guard let d = status.devices.first(where: { $0.name == "kbdint-1" }) else { return false }
        return TCPProbe.canConnect(host: d.address, port: d.port)
    }
}
