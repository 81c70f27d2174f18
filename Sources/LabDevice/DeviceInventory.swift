// devices.json and the rules for deciding which device a login is talking to.
//
// Schema (written by `switchboard lab up`):
//   {"devices": [{"name": "r1", "port": 2201, "platform": "cisco_ios",
//                 "faults": {"slow_ms": 0, "disconnect_after_bytes": 0, "huge_output": false,
//                            "hang_prompt": false, "escape_sequences": false, "login_delay_ms": 0}}]}
// `port` and `faults` (and each fault key) may be omitted.

struct Faults: Sendable, Equatable {
    var slowMilliseconds = 0
    var disconnectAfterBytes = 0
    var hugeOutput = false
    var hangPrompt = false
    var escapeSequences = false
    /// A device slow to greet: nothing at all is sent for this long after login (a busy router's
    /// CPU, an AAA server holding the session), then banner and prompt as usual.
    var loginDelayMilliseconds = 0

    init() {}

    init(json: JSONValue?) throws(LaunchError) {
        guard let json, json != .null else { return }
        guard case .object = json else { throw .malformedEntry("\"faults\" must be an object") }
        slowMilliseconds = try Faults.integer(json["slow_ms"], "slow_ms")
        disconnectAfterBytes = try Faults.integer(json["disconnect_after_bytes"], "disconnect_after_bytes")
        hugeOutput = try Faults.flag(json["huge_output"], "huge_output")
        hangPrompt = try Faults.flag(json["hang_prompt"], "hang_prompt")
        escapeSequences = try Faults.flag(json["escape_sequences"], "escape_sequences")
        loginDelayMilliseconds = try Faults.integer(json["login_delay_ms"], "login_delay_ms")
    }

    private static func integer(_ value: JSONValue?, _ key: String) throws(LaunchError) -> Int {
        switch value {
        case nil, .null: return 0
        case .number(let n) where n >= 0 && n == n.rounded(): return Int(n)
        default: throw .malformedEntry("\"\(key)\" must be a non-negative integer")
        }
    }

    private static func flag(_ value: JSONValue?, _ key: String) throws(LaunchError) -> Bool {
        switch value {
        case nil, .null: return false
        case .bool(let b): return b
        case .number(let n): return n != 0  // tolerate 0/1 from hand-written files
        default: throw .malformedEntry("\"\(key)\" must be true or false")
        }
    }
}

struct DeviceEntry: Sendable {
    var name: String
    var port: Int?
    /// Kept as text so one device with a typo does not take down logins to the others.
    var platformName: String
    var faults: Faults

    init(name: String, port: Int?, platformName: String, faults: Faults = Faults()) {
        self.name = name
        self.port = port
        self.platformName = platformName
        self.faults = faults
    }

    init(json: JSONValue) throws(LaunchError) {
        guard case .string(let name)? = json["name"], !name.isEmpty else {
            throw .malformedEntry("every device needs a non-empty \"name\"")
        }
        self.name = name
        switch json["port"] {
        case nil, .null: port = nil
        case .number(let n)? where n == n.rounded() && n > 0 && n < 65536: port = Int(n)
        default: throw .malformedEntry("device \"\(name)\": \"port\" must be a TCP port number")
        }
        switch json["platform"] {
        case nil, .null: platformName = PlatformKind.ciscoIOS.rawValue
        case .string(let platform)?: platformName = platform
        default: throw .malformedEntry("device \"\(name)\": \"platform\" must be a string")
        }
        // Faults are only checked for the device this login is about (see Identity.resolve).
        faults = Faults()
    }
}

struct DeviceInventory: Sendable {
    var devices: [(entry: DeviceEntry, faults: JSONValue?)]

    static func load(labDirectory: String) throws(LaunchError) -> DeviceInventory {
        let path = labDirectory + "/devices.json"
        guard let bytes = FileIO.readAll(path) else { throw .unreadable(path) }
        let json: JSONValue
        do {
            json = try JSONReader.parse(bytes)
        } catch {
            throw .malformed(path, error.description)
        }
        guard case .array(let list)? = json["devices"] else {
            throw .malformed(path, "expected {\"devices\": [...]}")
        }
        var devices: [(DeviceEntry, JSONValue?)] = []
        for item in list {
            do {
                devices.append((try DeviceEntry(json: item), item["faults"]))
            } catch {
                throw .malformed(path, error.description)
            }
        }
        return DeviceInventory(devices: devices)
    }
}

enum LaunchError: Error, CustomStringConvertible {
    case usage(String)
    case noLabDirectory
    case unreadable(String)
    case malformed(String, String)
    case unknownDevice(String, String)
    case noDeviceOnPort(Int, String)
    case noSelector
    case unknownPlatform(String, String)
    case malformedEntry(String)

    var description: String {
        switch self {
        case .usage(let message): return message
        case .noLabDirectory: return "no lab directory: set SWITCHBOARD_LAB_DIR or pass --lab-dir DIR"
        case .unreadable(let path): return "cannot read \(path)"
        case .malformed(let path, let detail): return "\(path) is not valid: \(detail)"
        case .unknownDevice(let name, let path): return "no device named \"\(name)\" in \(path)"
        case .noDeviceOnPort(let port, let path): return "no device with port \(port) in \(path)"
        case .noSelector:
            return "cannot tell which device this is: pass --device NAME, set SWITCHBOARD_LAB_DEVICE, or log in over SSH (SSH_CONNECTION)"
        case .malformedEntry(let detail): return detail
        case .unknownPlatform(let platform, let name):
            return "device \"\(name)\" has unknown platform \"\(platform)\" (expected one of: "
                + PlatformKind.allCases.map(\.rawValue).joined(separator: ", ") + ")"
        }
    }
}

/// Who this login is: the lab, the device entry, and its platform.
struct Identity: Sendable {
    var labDirectory: String
    var device: DeviceEntry
    var platform: PlatformKind
    /// Address-plan slot, unique within the lab (see `Fingerprint.sites(for:)`).
    var site: Int

    /// `--device`, then `SWITCHBOARD_LAB_DEVICE`, then the server port of `SSH_CONNECTION`
    /// ("client_ip client_port server_ip server_port"), which is how one sshd listening on many
    /// ports tells its devices apart without per-device configuration.
    static func resolve(_ options: LaunchOptions, environment: [String: String]) throws(LaunchError) -> Identity {
        guard let labDirectory = options.labDirectory ?? environment["SWITCHBOARD_LAB_DIR"].flatMap({ $0.isEmpty ? nil : $0 })
        else { throw .noLabDirectory }
        let inventory = try DeviceInventory.load(labDirectory: labDirectory)
        let path = labDirectory + "/devices.json"

        var device: DeviceEntry
        let faults: JSONValue?
        if let name = options.deviceName ?? environment["SWITCHBOARD_LAB_DEVICE"].flatMap({ $0.isEmpty ? nil : $0 }) {
            guard let match = inventory.devices.first(where: { $0.entry.name == name }) else { throw .unknownDevice(name, path) }
            (device, faults) = match
        } else if let connection = environment["SSH_CONNECTION"] {
            let fields = connection.split(separator: " ")
            guard fields.count >= 4, let port = Int(fields[3]) else { throw .noSelector }
            guard let match = inventory.devices.first(where: { $0.entry.port == port }) else { throw .noDeviceOnPort(port, path) }
            (device, faults) = match
        } else {
            throw .noSelector
        }
        do {
            device.faults = try Faults(json: faults)
        } catch {
            throw .malformed(path, "device \"\(device.name)\": \(error)")
        }
        guard let platform = PlatformKind(lenient: device.platformName) else {
            throw .unknownPlatform(device.platformName, device.name)
        }
        let site = Fingerprint.sites(for: inventory.devices.map(\.entry.name))[device.name]
        return Identity(labDirectory: labDirectory, device: device, platform: platform, site: site ?? 1)
    }
}

/// Command-line flags. Hand-rolled: ArgumentParser would be a package dependency.
struct LaunchOptions: Sendable {
    var labDirectory: String?
    var deviceName: String?
    var selfTest = false
    var help = false

    static let usage = """
        usage: switchboard-device [--lab-dir DIR] [--device NAME] [--self-test]

        The simulated network-OS CLI run by the Switchboard device lab's sshd (ForceCommand).
        Environment: SWITCHBOARD_LAB_DIR, SWITCHBOARD_LAB_DEVICE, SSH_CONNECTION,
        SSH_ORIGINAL_COMMAND (exec mode), SWITCHBOARD_LAB_ENABLE, USER/LOGNAME.
        """

    static func parse(_ arguments: [String]) throws(LaunchError) -> LaunchOptions {
        var options = LaunchOptions()
        var index = 0
        func value(_ flag: String) throws(LaunchError) -> String {
            index += 1
            guard index < arguments.count, !arguments[index].isEmpty else { throw .usage("\(flag) needs a value\n\(usage)") }
            return arguments[index]
        }
        while index < arguments.count {
            let argument = arguments[index]
            switch argument {
            case "--lab-dir": options.labDirectory = try value(argument)
            case "--device": options.deviceName = try value(argument)
            case "--self-test": options.selfTest = true
            case "-h", "--help": options.help = true
            default:
                if argument.hasPrefix("--lab-dir=") {
                    options.labDirectory = String(argument.dropFirst("--lab-dir=".count))
                } else if argument.hasPrefix("--device=") {
                    options.deviceName = String(argument.dropFirst("--device=".count))
                } else {
                    throw .usage("unknown argument \"\(argument)\"\n\(usage)")
                }
            }
            index += 1
        }
        return options
    }
}
