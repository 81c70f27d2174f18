import Foundation
import Store
import Synchronization

/// A problem in a platform file: which file, which key, what is wrong.
public struct PlatformError: Error, CustomStringConvertible, Equatable, Sendable {
    public var file: String
    /// Dotted key path (`prompts.enable`, `error_patterns[2]`); empty for the whole file.
    public var key: String
    public var message: String

    public init(file: String, key: String, message: String) {
        self.file = file
        self.key = key
        self.message = message
    }

    public var description: String {
        key.isEmpty ? "\(file): \(message)" : "\(file): \(key): \(message)"
    }
}

/// Loads and validates platform definitions (`setup/platforms/<name>.json`).
public enum PlatformCatalog {
    /// The platforms switchboard ships.
    public static let shippedNames = ["cisco_ios", "cisco_xe", "cisco_xr", "cisco_nxos", "cisco_asa", "arista_eos", "juniper_junos",
                                      "huawei_vrp", "hp_comware", "hp_procurve", "aruba_aoscx", "fortinet", "paloalto_panos",
                                      "mikrotik_routeros", "nokia_sros", "extreme_exos", "dell_os10", "vyos", "linux", "generic"]

    /// `<name>.json` from `directory`.
    public static func load(_ name: String, directory: String) throws -> PlatformDefinition {
        try load(file: (directory as NSString).appendingPathComponent("\(name).json"))
    }

    /// `platforms/<name>.json` from the setup directory, located as the other setup files are
    /// (`SWITCHBOARD_SETUP_DIR`, next to the executable, the source tree).
    public static func load(_ name: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> PlatformDefinition {
        guard isValidName(name) else {
            throw PlatformError(file: "platforms/\(name).json", key: "", message: "not a platform name (letters, digits, _ and - only)")
        }
        guard let path = SettingsLoader.locateSetupFile("platforms/\(name).json", environment: environment) else {
            throw PlatformError(file: "platforms/\(name).json", key: "",
                                message: "no such platform definition in the setup directory (known: \(shippedNames.joined(separator: ", ")))")
        }
        return try load(file: path)
    }

    /// The definition a long-lived process (the engine) drives a device's platform with: through
    /// `PlatformRegistry.current()` (read once, refreshed after `cacheSeconds`), aliases resolved,
    /// `generic` for an unknown or broken platform.
    public static func cached(_ name: String) -> PlatformDefinition {
        PlatformRegistry.current().resolve(name).definition
    }

    public static let cacheSeconds: TimeInterval = 10

    /// Every `*.json` in `directory`, by name.
    public static func loadAll(directory: String) throws -> [String: PlatformDefinition] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var result: [String: PlatformDefinition] = [:]
        for file in names.sorted() where file.hasSuffix(".json") {
            let definition = try load(file: (directory as NSString).appendingPathComponent(file))
            result[definition.name] = definition
        }
        return result
    }

    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }
    }

    /// Reads and validates one file. Every key is checked; unknown keys are refused, so a typo
    /// (`pager_pattern`) is an error instead of a silently ignored setting.
    public static func load(file: String) throws -> PlatformDefinition {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw PlatformError(file: file, key: "", message: "cannot read the file")
        }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw PlatformError(file: file, key: "", message: "malformed JSON: \(describe(error, in: data))")
        }
        let fileName = ((file as NSString).lastPathComponent as NSString).deletingPathExtension
        var reader = Reader(file: file)
        return try reader.definition(object, fileName: fileName)
    }

    /// Foundation's parse error, with the line and column of the byte offset it mentions.
    private static func describe(_ error: any Error, in data: Data) -> String {
        let text = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "\(error)"
        guard let range = text.range(of: #"character (\d+)"#, options: .regularExpression),
              let offset = Int(text[range].dropFirst("character ".count)) else {
            if text.lowercased().contains("end of file") {
                // Truncated: the problem is where the file stops.
                return "line \(data.split(separator: 0x0a, omittingEmptySubsequences: false).count), at the end of the file: \(text)"
            }
            return text
        }
        var line = 1
        var column = 1
        for byte in data.prefix(offset) {
            if byte == 0x0a { line += 1; column = 1 } else { column += 1 }
        }
        return "line \(line), column \(column): \(text)"
    }

    /// Walks the JSON with a key path for messages.
    private struct Reader {
        let file: String

        func fail(_ key: String, _ message: String) -> PlatformError {
            PlatformError(file: file, key: key, message: message)
        }

        func object(_ value: Any, _ key: String, allowed: [String]) throws -> [String: Any] {
            guard let dictionary = value as? [String: Any] else { throw fail(key, "expected an object") }
            for name in dictionary.keys.sorted() where !allowed.contains(name) {
                let path = key.isEmpty ? name : "\(key).\(name)"
                throw fail(path, "unknown key (known: \(allowed.joined(separator: ", ")))")
            }
            return dictionary
        }

        func string(_ value: Any?, _ key: String, required: Bool = true, allowEmpty: Bool = false) throws -> String? {
            guard let value, !(value is NSNull) else {
                if required { throw fail(key, "missing (expected a string)") }
                return nil
            }
            // JSONSerialization turns booleans and numbers into NSNumber; a string is a String.
            guard let text = value as? String, !(value is NSNumber) else { throw fail(key, "expected a string") }
            if !allowEmpty && text.isEmpty { throw fail(key, "must not be empty") }
            return text
        }

        func pattern(_ value: Any?, _ key: String, required: Bool = true) throws -> CLIPattern? {
            guard let text = try string(value, key, required: required) else { return nil }
            do { return try CLIPattern(text) } catch {
                throw fail(key, "not a valid regular expression: \(text)")
            }
        }

        func strings(_ value: Any?, _ key: String) throws -> [String] {
            guard let value, !(value is NSNull) else { return [] }
            guard let array = value as? [Any] else { throw fail(key, "expected a list of strings") }
            return try array.enumerated().map { try string($1, "\(key)[\($0)]")! }
        }

        func patterns(_ value: Any?, _ key: String) throws -> [CLIPattern] {
            guard let value, !(value is NSNull) else { return [] }
            guard let array = value as? [Any] else { throw fail(key, "expected a list of regular expressions") }
            return try array.enumerated().map { try pattern($1, "\(key)[\($0)]")! }
        }

        mutating func definition(_ value: Any, fileName: String) throws -> PlatformDefinition {
            let top = try object(value, "", allowed: ["name", "description", "prompts", "prompt_preamble", "paging_disable", "enable",
                                                     "config_mode", "error_patterns", "pager_patterns", "pager_response", "line_ending",
                                                     "save", "backup_command", "volatile_patterns", "natural_mode", "aliases",
                                                     "detect", "prompt_terminators"])
            let name = try string(top["name"], "name", required: false) ?? fileName
            if name != fileName { throw fail("name", "is \"\(name)\" but the file is \(fileName).json; they must agree") }

            let promptObject = try object(top["prompts"] ?? NSNull(), "prompts", allowed: PlatformDefinition.Mode.allCases.map(\.rawValue))
            var prompts: [PlatformDefinition.Mode: CLIPattern] = [:]
            for mode in PlatformDefinition.Mode.allCases {
                if let pattern = try pattern(promptObject[mode.rawValue], "prompts.\(mode.rawValue)", required: mode == .user) {
                    prompts[mode] = pattern
                }
            }

            var enable: PlatformDefinition.Enable?
            if let raw = top["enable"], !(raw is NSNull) {
                let e = try object(raw, "enable", allowed: ["command", "password_prompt"])
                enable = .init(command: try string(e["command"], "enable.command")!,
                               passwordPrompt: try pattern(e["password_prompt"], "enable.password_prompt")!)
                if prompts[.enable] == nil { throw fail("prompts.enable", "missing: the platform has an enable command, so it needs an enable prompt") }
            }

            var config: PlatformDefinition.ConfigMode?
            if let raw = top["config_mode"], !(raw is NSNull) {
                let c = try object(raw, "config_mode", allowed: ["enter", "exit", "commit"])
                config = .init(enter: try string(c["enter"], "config_mode.enter")!,
                               exit: try string(c["exit"], "config_mode.exit")!,
                               commit: try string(c["commit"], "config_mode.commit", required: false))
                if prompts[.config] == nil { throw fail("prompts.config", "missing: the platform has a configuration mode, so it needs its prompt") }
            }

            let pagerPatterns = try patterns(top["pager_patterns"], "pager_patterns")
            let pagerResponse = try string(top["pager_response"], "pager_response", required: false, allowEmpty: false) ?? " "
            let lineEnding = try string(top["line_ending"], "line_ending", required: false) ?? "\n"
            guard ["\n", "\r", "\r\n"].contains(lineEnding) else { throw fail("line_ending", "must be \"\\n\", \"\\r\" or \"\\r\\n\"") }

            var definition = PlatformDefinition(
                name: name,
                description: try string(top["description"], "description", required: false, allowEmpty: true) ?? "",
                prompts: prompts,
                promptPreamble: try pattern(top["prompt_preamble"], "prompt_preamble", required: false),
                pagingDisable: try strings(top["paging_disable"], "paging_disable"),
                enable: enable,
                configMode: config,
                errorPatterns: try patterns(top["error_patterns"], "error_patterns"),
                pagerPatterns: pagerPatterns,
                pagerResponse: pagerResponse,
                lineEnding: lineEnding,
                sourcePath: file)
            definition.save = try string(top["save"], "save", required: false)
            definition.backupCommand = try string(top["backup_command"], "backup_command", required: false)
            definition.volatilePatterns = try patterns(top["volatile_patterns"], "volatile_patterns")
            if let mode = try string(top["natural_mode"], "natural_mode", required: false) {
                guard let natural = PlatformDefinition.NaturalMode(rawValue: mode) else { throw fail("natural_mode", "must be \"cli\" or \"exec\"") }
                definition.naturalMode = natural
            }
            definition.aliases = try strings(top["aliases"], "aliases").map { $0.lowercased() }
            if let raw = top["detect"], !(raw is NSNull) {
                let d = try object(raw, "detect", allowed: ["command", "patterns", "priority"])
                let found = try patterns(d["patterns"], "detect.patterns")
                if found.isEmpty { throw fail("detect.patterns", "must list at least one regular expression") }
                var priority = 50
                if let value = d["priority"], !(value is NSNull) {
                    guard let number = value as? NSNumber, let p = Int(exactly: number.doubleValue), (0...99).contains(p) else {
                        throw fail("detect.priority", "must be a whole number from 0 to 99")
                    }
                    priority = p
                }
                definition.detect = .init(command: try string(d["command"], "detect.command")!, patterns: found, priority: priority)
            }
            if let terminators = try string(top["prompt_terminators"], "prompt_terminators", required: false) {
                definition.promptTerminators = terminators
            }
            return definition
        }
    }
}
