import Foundation
import Store
import Synchronization
import TextFSM

/// Command output → rows, with TextFSM templates: the user's (`$XDG_CONFIG_HOME/switchboard/templates`,
/// with its own `index`) first, then ntc-templates' (installed by the set-up, never committed), looked
/// up by platform and command as ntc-templates' index says; or one template file.
public enum OutputParser {
    /// A parse that could not be done, worded for the run log.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var message: String
        public var description: String { message }
    }

    /// ntc-templates' directory: `SWITCHBOARD_NTC_TEMPLATES`, else the set-up's `.venv-textfsm` beside
    /// the `setup/` directory (found as the other setup files are).
    public static func ntcTemplatesDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL? {
        if let dir = environment["SWITCHBOARD_NTC_TEMPLATES"], !dir.isEmpty { return URL(fileURLWithPath: dir) }
        guard let settings = SettingsLoader.locateSetupFile("settings.json", environment: environment) else { return nil }
        let repo = URL(fileURLWithPath: settings).deletingLastPathComponent().deletingLastPathComponent()
        let lib = repo.appendingPathComponent(".venv-textfsm/lib")
        let pythons = ((try? FileManager.default.contentsOfDirectory(atPath: lib.path)) ?? []).filter { $0.hasPrefix("python") }.sorted()
        for p in pythons.reversed() {
            let dir = lib.appendingPathComponent("\(p)/site-packages/ntc_templates/templates")
            if FileManager.default.fileExists(atPath: dir.appendingPathComponent("index").path) { return dir }
        }
        return nil
    }

    /// The user's templates directory.
    public static func userTemplatesDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        URL(fileURLWithPath: Paths(environment: environment).configDirectory + "/templates")
    }

    /// The template library, read once and reused for `PlatformCatalog.cacheSeconds` (ntc-templates'
    /// index holds about a thousand entries; a run must not read it per device).
    public static func library() throws -> TemplateLibrary {
        let now = Date()
        if let hit = cache.withLock({ $0 }), now.timeIntervalSince(hit.loaded) < PlatformCatalog.cacheSeconds { return hit.library }
        let library: TemplateLibrary
        do {
            library = try TemplateLibrary(userDirectory: userTemplatesDirectory(), ntcDirectory: ntcTemplatesDirectory())
        } catch {
            throw Failure(message: "the templates index cannot be read: \(error)")
        }
        cache.withLock { $0 = (library, now) }
        return library
    }

    private static let cache = Mutex<(library: TemplateLibrary, loaded: Date)?>(nil)
    private static let templateCache = Mutex<[String: TextFSMTemplate]>([:])

    /// The rows of `text`, the output of `command` on a device of `platform`, as objects with
    /// lower-case keys; with `templateFile`, that template instead of the index.
    public static func rows(platform: String, command: String, text: String, templateFile: String? = nil) throws -> ParsedRows {
        let result: TextFSMResult
        do {
            if let templateFile {
                let template = try templateCache.withLock { cache -> TextFSMTemplate in
                    if let hit = cache[templateFile] { return hit }
                    let loaded = try TextFSMTemplate(contentsOf: URL(fileURLWithPath: templateFile))
                    cache[templateFile] = loaded
                    return loaded
                }
                result = try template.parse(text)
            } else {
                let library = try library()
                if library.indexes.isEmpty {
                    throw Failure(message: "no templates: ntc-templates is not installed (scripts/install-deps, or SWITCHBOARD_NTC_TEMPLATES) and \(userTemplatesDirectory().path) has no index")
                }
                guard let parsed = try library.parse(platform: platform, command: command, text: text) else {
                    throw Failure(message: "no template for command '\(command)' on platform \(platform)")
                }
                result = parsed
            }
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure(message: "`\(command)` could not be parsed: \(error)")
        }
        return ParsedRows(columns: result.header.map { $0.lowercased() }, rows: result.dictionaries.map { $0.mapValues(json) })
    }

    static func json(_ value: TextFSMValue) -> JSONValue {
        switch value {
        case .string(let s): return .string(s)
        case .null: return .null
        case .list(let items): return .array(items.map(json))
        case .dict(let d): return .object(d.mapValues(json))
        }
    }

    /// Whether `row` satisfies a filter expression (the CLI's `--filter` language: `status=up`,
    /// `name~^Gi`, `!down`, several terms all holding); field names are the row's keys.
    public static func matches(_ row: [String: JSONValue], _ filter: FilterExpression) -> Bool {
        filter.matches(value: { key in row[key.lowercased()].map { ParsedRows.text($0) } }, searchable: Array(row.keys))
    }
}
