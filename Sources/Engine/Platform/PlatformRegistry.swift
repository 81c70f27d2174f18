import Foundation
import Store
import Synchronization

/// What a device's platform name turned into: the definition to drive the session with, and why
/// when it is not the one named (an alias, an unknown or broken platform, `autodetect`).
public struct PlatformResolution: Sendable {
    public var definition: PlatformDefinition
    /// The name as the device has it.
    public var requested: String
    /// Set when the engine should tell the engineer something (unknown or broken platform).
    public var warning: String?
    /// The device's platform is `autodetect` (or empty): detect it after login.
    public var autodetect: Bool
}

/// Every platform definition a process can use: the shipped ones (`setup/platforms`) and the
/// user's (`$XDG_CONFIG_HOME/switchboard/platforms`, which win by name). A file that fails to
/// load is refused on its own, with its file and key; the others load.
public struct PlatformRegistry: Sendable {
    public var definitions: [String: PlatformDefinition]
    /// Alias (lower case) → platform name.
    public var aliases: [String: String]
    /// Files refused, with the reason.
    public var errors: [PlatformError]
    /// Platform name → the file it was loaded from.
    public var files: [String: String]

    public static let autodetectName = "autodetect"
    public static let genericName = "generic"

    /// The directories searched, user's first.
    public static func directories(environment: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        var result: [String] = [Paths(environment: environment).configDirectory + "/platforms"]
        if let shipped = SettingsLoader.locateSetupFile("platforms/generic.json", environment: environment)
            ?? SettingsLoader.locateSetupFile("platforms/cisco_ios.json", environment: environment) {
            result.append((shipped as NSString).deletingLastPathComponent)
        }
        return result
    }

    /// Loads every `*.json` of `directories` (earlier directories win by platform name).
    public static func load(directories: [String]) -> PlatformRegistry {
        var registry = PlatformRegistry(definitions: [:], aliases: [:], errors: [], files: [:])
        for directory in directories.reversed() {  // shipped first, so the user's replace them
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
            for file in names.sorted() where file.hasSuffix(".json") {
                let path = (directory as NSString).appendingPathComponent(file)
                do {
                    let definition = try PlatformCatalog.load(file: path)
                    registry.definitions[definition.name] = definition
                    registry.files[definition.name] = path
                    registry.errors.removeAll { ($0.file as NSString).lastPathComponent == file }
                } catch let error as PlatformError {
                    registry.errors.append(error)
                } catch {
                    registry.errors.append(PlatformError(file: path, key: "", message: "\(error)"))
                }
            }
        }
        if registry.definitions[genericName] == nil { registry.definitions[genericName] = builtinGeneric }
        for definition in registry.definitions.values.sorted(by: { $0.name < $1.name }) {
            for alias in definition.aliases where registry.definitions[alias] == nil && registry.aliases[alias] == nil {
                registry.aliases[alias] = definition.name
            }
        }
        return registry
    }

    public static func load(environment: [String: String] = ProcessInfo.processInfo.environment) -> PlatformRegistry {
        load(directories: directories(environment: environment))
    }

    /// The registry for a long-lived process: loaded once, then again after `cacheSeconds`, so an
    /// edited or added platform file is picked up without a restart.
    public static func current() -> PlatformRegistry {
        let now = Date()
        if let hit = cache.withLock({ $0 }), now.timeIntervalSince(hit.loaded) < PlatformCatalog.cacheSeconds { return hit.registry }
        let registry = load()
        cache.withLock { $0 = (registry, now) }
        return registry
    }

    /// Forgets the cached registry (tests, and after `detect --save` wrote a device's platform).
    public static func invalidate() { cache.withLock { $0 = nil } }

    private static let cache = Mutex<(registry: PlatformRegistry, loaded: Date)?>(nil)

    /// The definition for a device's platform name. Never fails: an unknown or broken platform is
    /// driven as `generic` (prompt discovery works on any prompt-driven CLI), with a warning.
    public func resolve(_ name: String) -> PlatformResolution {
        let wanted = name.trimmingCharacters(in: .whitespaces).lowercased()
        let generic = definitions[Self.genericName] ?? Self.builtinGeneric
        if wanted.isEmpty || wanted == Self.autodetectName {
            return PlatformResolution(definition: generic, requested: name, warning: nil, autodetect: true)
        }
        if let found = definitions[wanted] ?? aliases[wanted].flatMap({ definitions[$0] }) {
            return PlatformResolution(definition: found, requested: name, warning: nil, autodetect: false)
        }
        if let broken = errors.first(where: { (($0.file as NSString).lastPathComponent as NSString).deletingPathExtension == wanted }) {
            return PlatformResolution(definition: generic, requested: name,
                                      warning: "platform '\(name)' was refused (\(broken)); using generic", autodetect: false)
        }
        return PlatformResolution(definition: generic, requested: name,
                                  warning: "unknown platform '\(name)'; using generic (the prompt is discovered after login)",
                                  autodetect: false)
    }

    /// The platforms that can be detected, best first.
    public var detectable: [PlatformDefinition] {
        definitions.values.filter { $0.detect != nil }.sorted {
            ($0.detect!.priority, $1.name) > ($1.detect!.priority, $0.name)
        }
    }

    /// `generic` when no file provides it: any prompt ending in `>`, `#`, `$` or `%`.
    static let builtinGeneric: PlatformDefinition = {
        // Patterns are constants known to compile.
        let prompt = try! CLIPattern(#"^\S.{0,100}[>#$%\]]\s*$"#)
        var definition = PlatformDefinition(
            name: genericName, description: "Any prompt-driven CLI (built in)",
            prompts: [.user: prompt], promptPreamble: nil, pagingDisable: [], enable: nil, configMode: nil,
            errorPatterns: [], pagerPatterns: [try! CLIPattern(#"-+ ?\(?[Mm]ore\b.*-*\s*$"#)],
            pagerResponse: " ", lineEnding: "\n", sourcePath: nil)
        definition.promptTerminators = ">#$%]"
        return definition
    }()
}
