import Foundation

/// The settings a running engine uses, written beside the database (`<database>.engine.settings.json`,
/// 0600) when it starts and whenever it reloads them, so a command that queues a run can say where
/// its own settings differ: environment variables and `--set` reach only an engine they start.
public enum EngineSettingsFile {
    public static func path(forDatabase databasePath: String) -> String { databasePath + ".engine.settings.json" }

    struct Content: Codable {
        var pid: Int32
        var settings: [String: String]
    }

    public static func write(_ settings: Settings, pid: Int32, databasePath: String) {
        let path = path(forDatabase: databasePath)
        guard let data = try? JSONEncoder().encode(Content(pid: pid, settings: settings.flattened)) else { return }
        let temporary = path + ".\(pid).tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: data, attributes: [.posixPermissions: 0o600]) else { return }
        _ = rename(temporary, path)
    }

    /// The engine's pid and flattened settings, if the file exists and parses.
    public static func read(databasePath: String) -> (pid: Int32, settings: [String: String])? {
        guard let data = FileManager.default.contents(atPath: path(forDatabase: databasePath)),
              let content = try? JSONDecoder().decode(Content.self, from: data) else { return nil }
        return (content.pid, content.settings)
    }
}
