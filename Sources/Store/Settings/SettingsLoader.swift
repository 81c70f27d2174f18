import Foundation

/// Loads `Settings` from its layers, later ones winning key by key:
/// compiled-in defaults < shipped `setup/settings.json` < user `settings.json`
/// < `SWITCHBOARD_*` environment variables < `--set key.path=value` overrides.
///
/// Every layer is validated on its own, so each problem names where it came from; all problems
/// of all layers are reported together in one `StoreError(.settings, …)`, one per line.
public struct SettingsLoader {
    public var paths: Paths
    /// The shipped defaults file; nil to use the compiled-in defaults alone.
    public var shippedPath: String?

    public init(paths: Paths, shippedPath: String?) {
        self.paths = paths
        self.shippedPath = shippedPath
    }

    /// A loader using the shipped file found by `locateSetupFile(_:environment:)`.
    public init(paths: Paths = Paths()) {
        self.init(paths: paths, shippedPath: SettingsLoader.locateSetupFile("settings.json", environment: paths.environment))
    }

    /// - Parameter overrides: `key.path=value` strings from `--set`, applied in order.
    public func load(overrides: [String] = []) throws -> Settings {
        var problems: [String] = []
        var document = Settings.defaultDocument

        if let shippedPath {
            let display = paths.displayPath(shippedPath)
            switch SettingsJSON.read(shippedPath, displayPath: display) {
            case .missing: problems.append("\(display): shipped settings file not found")
            case .problem(let p): problems.append(p)
            case .value(let layer): document = apply(layer, from: display, over: document, problems: &problems)
            }
        }

        let userPath = paths.userSettingsPath
        let userDisplay = paths.displayPath(userPath)
        switch SettingsJSON.read(userPath, displayPath: userDisplay) {
        case .missing: break   // A user file is optional.
        case .problem(let p): problems.append(p)
        case .value(let layer): document = apply(layer, from: userDisplay, over: document, problems: &problems)
        }

        document = SettingsJSON.merge(document, environmentLayer(problems: &problems))
        document = SettingsJSON.merge(document, overrideLayer(overrides, problems: &problems))

        if !problems.isEmpty { throw StoreError(.settings, problems.joined(separator: "\n")) }
        let settings = Settings(document: document)
        if settings.engine.dropThresholdS <= settings.engine.activeThresholdS {
            throw StoreError(.settings, "engine.drop_threshold_s (\(String(format: "%g", settings.engine.dropThresholdS))) must be greater than engine.active_threshold_s (\(String(format: "%g", settings.engine.activeThresholdS))): an engine is lost before it is dropped")
        }
        return settings
    }

    /// Validates a file layer and merges it. An invalid layer is not merged at all: the load fails
    /// anyway, and half-applied files would only confuse later problems.
    private func apply(_ layer: JSONValue, from source: String, over document: JSONValue,
                       problems: inout [String]) -> JSONValue {
        let found = SettingsValidator.problems(in: layer).map { "\(source): \($0)" }
        problems += found
        return found.isEmpty ? SettingsJSON.merge(document, layer) : document
    }

    // MARK: - Environment

    /// The settings set by `SWITCHBOARD_*` variables, as a tree.
    ///
    /// Names are matched against the names the schema derives (`automation.max_process` →
    /// `SWITCHBOARD_AUTOMATION_MAX_PROCESS`), never split on `_`, since key names contain
    /// underscores themselves; the schema guarantees the derived names are unique. Open maps take
    /// entries by prefix: `SWITCHBOARD_CONSOLE_KEYS_QUIT=x` sets `console.keys.quit`.
    ///
    /// Other `SWITCHBOARD_*` variables (`SWITCHBOARD_DB`, `SWITCHBOARD_SETUP_DIR`, variables the
    /// engine passes to its children…) are not settings and are ignored, except that one naming a
    /// settings section with a near miss of a key (`SWITCHBOARD_AUTOMATION_MAX_PROCES`) is reported:
    /// silently ignoring a typo would leave the engineer wondering why the setting has no effect.
    func environmentLayer(problems: inout [String]) -> JSONValue {
        let index = Settings.index
        var layer = JSONValue.object([:])
        for (name, text) in paths.environment.sorted(by: { $0.key < $1.key })
        where name.hasPrefix("SWITCHBOARD_") && !Settings.secretEnvironment.contains(name) {
            let source = "environment \(name)"
            if let path = index.environment[name], let key = index.keys[path] {
                switch key.type.parse(text: text) {
                case .success(let value): layer = SettingsJSON.setting(value, at: key.components, in: layer)
                case .failure(let error): problems.append("\(source): \(error.message)")
                }
            } else if let map = index.environmentMapPrefixes.first(where: { name.hasPrefix($0.prefix) }) {
                let entry = name.dropFirst(map.prefix.count).lowercased()
                guard !entry.isEmpty else {
                    problems.append("\(source): name the entry, as \(map.prefix)<ENTRY>")
                    continue
                }
                let components = map.path.split(separator: ".").map(String.init) + [entry]
                layer = SettingsJSON.setting(.string(text), at: components, in: layer)
            } else if let near = nearMiss(name) {
                problems.append("\(source): not a setting; did you mean \(near)?")
            }
        }
        return layer
    }

    /// The environment name of a setting `name` is probably a typo of, if any.
    private func nearMiss(_ name: String) -> String? {
        let index = Settings.index
        let sections = index.sections[""] ?? []
        guard sections.contains(where: { name.hasPrefix("SWITCHBOARD_" + $0.uppercased() + "_") }) else { return nil }
        return SettingsJSON.closest(to: name, among: Array(index.environment.keys))
    }

    // MARK: - Command line

    /// The settings set by `--set key.path=value` overrides, as a tree; later overrides win.
    func overrideLayer(_ overrides: [String], problems: inout [String]) -> JSONValue {
        let index = Settings.index
        var layer = JSONValue.object([:])
        for override in overrides {
            guard let equals = override.firstIndex(of: "=") else {
                problems.append("--set \(override): expected key.path=value")
                continue
            }
            let path = override[..<equals].trimmingCharacters(in: .whitespaces)
            let text = String(override[override.index(after: equals)...])
            let source = "--set \(path)"
            let components = path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)

            if let key = index.keys[path] {
                switch key.type.parse(text: text) {
                case .success(let value): layer = SettingsJSON.setting(value, at: components, in: layer)
                case .failure(let error): problems.append("\(source): \(error.message)")
                }
            } else if components.count > 1, !components.last!.isEmpty,
                      let map = index.keys[components.dropLast().joined(separator: ".")], map.type == .stringMap {
                layer = SettingsJSON.setting(.string(text), at: components, in: layer)
            } else if index.isSection(path) {
                problems.append("\(source): is a section; set one of its keys: "
                                + (index.sections[path] ?? []).map { "\(path).\($0)" }.joined(separator: ", "))
            } else {
                let hint = SettingsJSON.closest(to: path, among: Array(index.keys.keys)).map { "; did you mean \($0)?" } ?? ""
                problems.append("\(source): unknown setting\(hint)")
            }
        }
        return layer
    }

    // MARK: - Locating the shipped files

    /// Finds a file shipped in the `setup` directory (`settings.json`, `properties.json`):
    /// 1. `$SWITCHBOARD_SETUP_DIR/<name>`;
    /// 2. `<exe dir>/../../setup/<name>`, for `.build/debug/switchboard` runs from a checkout
    ///    (and `<exe dir>/../../../setup` when the build directory's symlink was resolved,
    ///    `.build/<triple>/debug`);
    /// 3. `<exe dir>/../share/switchboard/setup/<name>`, for installs under a prefix.
    /// Returns nil when none exists; callers then use the compiled-in defaults.
    public static func locateSetupFile(_ name: String,
                                       environment: [String: String] = ProcessInfo.processInfo.environment,
                                       executablePath: String? = nil) -> String? {
        candidateSetupDirectories(environment: environment, executablePath: executablePath)
            .map { $0 + "/" + name }
            .first { FileManager.default.isReadableFile(atPath: $0) }
    }

    static func candidateSetupDirectories(environment: [String: String], executablePath: String?) -> [String] {
        var directories: [String] = []
        if let dir = environment["SWITCHBOARD_SETUP_DIR"], !dir.isEmpty { directories.append(dir) }
        let executables = executablePath.map { [$0] } ?? currentExecutablePaths()
        for exe in executables {
            let bin = URL(fileURLWithPath: exe).deletingLastPathComponent().standardized
            directories.append(bin.appendingPathComponent("../../setup").standardized.path)
            // `.build`, or a scratch path beside it (`swift build --scratch-path .build-store`).
            if bin.deletingLastPathComponent().deletingLastPathComponent().lastPathComponent.hasPrefix(".build") {
                directories.append(bin.appendingPathComponent("../../../setup").standardized.path)
            }
            directories.append(bin.appendingPathComponent("../share/switchboard/setup").standardized.path)
        }
        var seen = Set<String>()
        return directories.filter { seen.insert($0).inserted }
    }

    /// The executable as invoked (keeps `.build/debug`, a symlink) and as resolved by the kernel.
    private static func currentExecutablePaths() -> [String] {
        var paths: [String] = []
        if let arg0 = CommandLine.arguments.first, arg0.contains("/") {
            paths.append(arg0.hasPrefix("/") ? arg0 : FileManager.default.currentDirectoryPath + "/" + arg0)
        }
        if let resolved = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            paths.append(resolved)
        }
        if let bundle = Bundle.main.executablePath { paths.append(bundle) }
        return paths
    }
}

/// Checks a settings tree read from a file against the schema.
enum SettingsValidator {
    /// Every problem in `tree`, each as "key.path: what is wrong", sorted by key path.
    static func problems(in tree: JSONValue) -> [String] {
        guard case .object = tree else {
            return ["(top level): expected an object of settings sections, got \(SettingsJSON.describe(tree))"]
        }
        var problems: [String] = []
        check(tree, at: [], problems: &problems)
        return problems
    }

    private static func check(_ value: JSONValue, at path: [String], problems: inout [String]) {
        let index = Settings.index
        let dotted = path.joined(separator: ".")
        if let key = index.keys[dotted] {
            if let problem = key.type.problem(with: value) {
                problems.append("\(dotted): \(problem)")
            } else if key.type == .stringMap, case .object(let entries) = value {
                // An open map: any entry name, but each value must be a string.
                for (name, entry) in entries.sorted(by: { $0.key < $1.key }) where entry.stringValue == nil {
                    problems.append("\(dotted).\(name): expected a string, got \(SettingsJSON.describe(entry))")
                }
            }
            return
        }
        guard case .object(let children) = value else {
            problems.append("\(dotted): expected an object (a settings section), got \(SettingsJSON.describe(value))")
            return
        }
        for (name, child) in children.sorted(by: { $0.key < $1.key }) {
            let childPath = path + [name]
            let childDotted = childPath.joined(separator: ".")
            if index.keys[childDotted] != nil || index.isSection(childDotted) {
                check(child, at: childPath, problems: &problems)
            } else {
                problems.append("\(childDotted): unknown key; \(index.hint(for: name, in: dotted))")
            }
        }
    }
}
