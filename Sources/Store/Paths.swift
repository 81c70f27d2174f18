import Foundation

/// Where switchboard keeps its files, following the XDG base directory spec.
public struct Paths: Sendable {
    public var environment: [String: String]

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    var home: String { environment["HOME"] ?? NSHomeDirectory() }

    /// `$XDG_DATA_HOME/switchboard`, else `~/.local/share/switchboard`.
    public var dataDirectory: String {
        if let xdg = environment["XDG_DATA_HOME"], !xdg.isEmpty { return xdg + "/switchboard" }
        return home + "/.local/share/switchboard"
    }

    /// `$XDG_CONFIG_HOME/switchboard`, else `~/.config/switchboard`.
    public var configDirectory: String {
        if let xdg = environment["XDG_CONFIG_HOME"], !xdg.isEmpty { return xdg + "/switchboard" }
        return home + "/.config/switchboard"
    }

    /// The database path: `--db` wins over `SWITCHBOARD_DB`, which wins over the default.
    public func databasePath(flag: String? = nil) -> String {
        if let flag, !flag.isEmpty { return flag }
        if let env = environment["SWITCHBOARD_DB"], !env.isEmpty { return env }
        return dataDirectory + "/switchboard.db"
    }

    /// `$XDG_STATE_HOME/switchboard`, else `~/.local/state/switchboard`.
    public var stateDirectory: String {
        if let xdg = environment["XDG_STATE_HOME"], !xdg.isEmpty { return xdg + "/switchboard" }
        return home + "/.local/state/switchboard"
    }

    /// The security log: `$XDG_STATE_HOME/switchboard/security.log`.
    public var securityLogPath: String { stateDirectory + "/security.log" }

    /// The configurations' git repository: `git.repository` (`~` expanded), else
    /// `$XDG_DATA_HOME/switchboard/network_data`.
    public func gitRepository(_ setting: String) -> String {
        if setting.isEmpty { return dataDirectory + "/network_data" }
        if setting == "~" { return home }
        if setting.hasPrefix("~/") { return home + setting.dropFirst(1) }
        return setting
    }

    public var userSettingsPath: String { configDirectory + "/settings.json" }
    public var keyFilePath: String { configDirectory + "/key" }
    /// switchboard's own known_hosts: read first, and where `trust` and `accept-new` record keys.
    public var knownHostsPath: String { dataDirectory + "/known_hosts" }
    /// The device lab's default directory (`switchboard lab`).
    public var labDirectory: String { dataDirectory + "/lab" }
    public var homeDirectory: String { home }

    /// Creates a directory (and parents) with mode 0700 for the directories it creates.
    public static func ensurePrivateDirectory(_ path: String) throws {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: path, isDirectory: &isDir) {
            if !isDir.boolValue { throw StoreError(.database, "\(path) exists and is not a directory") }
            return
        }
        do {
            try fm.createDirectory(atPath: path, withIntermediateDirectories: true,
                                   attributes: [.posixPermissions: 0o700])
        } catch {
            throw StoreError(.database, "cannot create directory \(path): \(error.localizedDescription)")
        }
    }
}
