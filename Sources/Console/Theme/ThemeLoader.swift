import Foundation
import Store

/// Reads `themes/NAME.json`. A theme file is
/// ```json
/// {"name": "dark", "description": "…",
///  "roles": {"header": {"fg": "black", "bg": "#5fafd7", "attrs": ["bold"], "mono": ["reverse"]}, …}}
/// ```
/// Roles a file leaves out keep the built-in default style. A malformed theme is reported with its
/// file and key, and the built-in default theme is used instead: the console always starts.
public struct ThemeLoader: Sendable {
    /// Directories searched in order (the user's first); the first holding `NAME.json` wins.
    public var directories: [String]

    public init(directories: [String]) { self.directories = directories }

    /// The directories to search: the one given (`--theme-dir` or the caller's choice), the user's
    /// `$XDG_CONFIG_HOME/switchboard/themes`, `$SWITCHBOARD_THEME_DIR`, and the shipped `themes/`
    /// next to the executable's checkout or install prefix.
    public static func standardDirectories(explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        var dirs: [String] = []
        if let explicit, !explicit.isEmpty { dirs.append(explicit) }
        dirs.append(Paths(environment: environment).configDirectory + "/themes")
        if let env = environment["SWITCHBOARD_THEME_DIR"], !env.isEmpty { dirs.append(env) }
        if let setup = SettingsLoader.locateSetupFile("settings.json", environment: environment) {
            // setup/settings.json → ../themes
            let root = URL(fileURLWithPath: setup).deletingLastPathComponent().deletingLastPathComponent()
            dirs.append(root.appendingPathComponent("themes").path)
            dirs.append(URL(fileURLWithPath: setup).deletingLastPathComponent().appendingPathComponent("themes").path)
        }
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            let bin = URL(fileURLWithPath: exe).deletingLastPathComponent()
            dirs.append(bin.appendingPathComponent("../../themes").standardized.path)
            dirs.append(bin.appendingPathComponent("../../../themes").standardized.path)
            dirs.append(bin.appendingPathComponent("../share/switchboard/themes").standardized.path)
        }
        var seen = Set<String>()
        return dirs.filter { seen.insert($0).inserted }
    }

    /// Names of the themes found (file names without `.json`), sorted.
    public func available() -> [String] {
        var names = Set(["default"])
        for dir in directories {
            for f in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where f.hasSuffix(".json") {
                names.insert(String(f.dropLast(5)))
            }
        }
        return names.sorted()
    }

    /// Loads a theme by name. Problems (missing file, bad JSON, unknown key, bad colour) come back
    /// as messages naming the file and key, with the built-in default theme.
    public func load(_ name: String) -> (Theme, [String]) {
        let safe = !name.isEmpty && name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." } && !name.hasPrefix(".")
        guard safe else { return (Theme.builtInDefault, ["theme \(SanitizedName(name)): not a theme name"]) }
        for dir in directories {
            let path = dir + "/" + name + ".json"
            guard FileManager.default.fileExists(atPath: path) else { continue }
            return ThemeLoader.load(path: path, name: name)
        }
        if name == "default" { return (Theme.builtInDefault, []) }
        return (Theme.builtInDefault, ["theme '\(name)' not found (available: \(available().joined(separator: ", ")))"])
    }

    /// Loads a theme file; on any problem, the built-in default theme and the problems.
    public static func load(path: String, name: String) -> (Theme, [String]) {
        let display = (path as NSString).lastPathComponent
        guard let data = FileManager.default.contents(atPath: path) else {
            return (Theme.builtInDefault, ["\(display): cannot read the file"])
        }
        return parse(data, file: display, name: name)
    }

    /// Parses theme JSON. `file` names the source in messages.
    public static func parse(_ data: Data, file: String, name: String) -> (Theme, [String]) {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data, options: [])
        } catch {
            let ns = error as NSError
            let detail = (ns.userInfo["NSDebugDescription"] as? String) ?? ns.localizedDescription
            return (Theme.builtInDefault, ["\(file): malformed JSON: \(detail)"])
        }
        let tree = JSONValue(any: object)
        var problems: [String] = []
        guard case .object(let top) = tree else {
            return (Theme.builtInDefault, ["\(file): expected an object with \"roles\""])
        }
        for key in top.keys.sorted() where !["name", "description", "roles"].contains(key) {
            problems.append("\(file): \(key): unknown key (known: name, description, roles)")
        }
        var styles = Theme.builtInDefault.styles
        switch top["roles"] {
        case nil:
            problems.append("\(file): roles: missing")
        case .object(let roles)?:
            for (key, value) in roles.sorted(by: { $0.key < $1.key }) {
                guard let role = Role(rawValue: key) else {
                    problems.append("\(file): roles.\(key): unknown role")
                    continue
                }
                guard case .object(let spec) = value else {
                    problems.append("\(file): roles.\(key): expected an object with fg, bg, attrs, mono")
                    continue
                }
                var style = styles[role] ?? RoleStyle()
                for k in spec.keys.sorted() where !["fg", "bg", "attrs", "mono"].contains(k) {
                    problems.append("\(file): roles.\(key).\(k): unknown key (known: fg, bg, attrs, mono)")
                }
                for (k, path) in [("fg", \RoleStyle.fg), ("bg", \RoleStyle.bg)] {
                    guard let v = spec[k] else { continue }
                    if let c = ThemeColor.parse(v) {
                        style[keyPath: path] = c
                    } else {
                        problems.append("\(file): roles.\(key).\(k): \(v.description.isEmpty ? "empty" : "'\(v.description)'") is not a colour (a name, 0-255, #rrggbb or default)")
                    }
                }
                for (k, path) in [("attrs", \RoleStyle.attributes), ("mono", \RoleStyle.mono)] {
                    guard let v = spec[k] else { continue }
                    if let list = v.arrayValue, list.allSatisfy({ $0.stringValue != nil }) {
                        var attrs: TextAttributes = []
                        for item in list.compactMap(\.stringValue) {
                            if let a = TextAttributes.names[item.lowercased()] { attrs.insert(a) }
                            else { problems.append("\(file): roles.\(key).\(k): unknown attribute '\(item)' (known: bold, dim, reverse, underline, italic)") }
                        }
                        style[keyPath: path] = attrs
                    } else {
                        problems.append("\(file): roles.\(key).\(k): expected a list of attribute names")
                    }
                }
                styles[role] = style
            }
        case let other?:
            problems.append("\(file): roles: expected an object of role styles, got \(other.description)")
        }
        if !problems.isEmpty { return (Theme.builtInDefault, problems) }
        return (Theme(name: name, styles: styles), [])
    }
}

/// A name shown in a message without letting it carry control characters.
struct SanitizedName: CustomStringConvertible {
    let raw: String
    init(_ raw: String) { self.raw = raw }
    var description: String { "'" + Sanitizer.inert(raw) + "'" }
}

extension Theme {
    /// The default theme, compiled in (`themes/default.json` says the same; a test checks it):
    /// the terminal's own colours for text, colour only where it carries meaning.
    public static let builtInDefault: Theme = {
        typealias S = RoleStyle
        let c = ThemeColor.index
        let d = ThemeColor.terminalDefault
        let styles: [Role: RoleStyle] = [
            .body: S(),
            .header: S(fg: c(0), bg: c(6), mono: [.reverse]),
            .title: S(fg: c(6), attributes: [.bold], mono: [.bold]),
            .border: S(fg: c(8), mono: []),
            .breadcrumb: S(fg: c(6), mono: [.underline]),
            .selectedRow: S(fg: c(0), bg: c(6), mono: [.reverse]),
            .markedRow: S(fg: c(3), attributes: [.bold], mono: [.bold]),
            .columnHeader: S(fg: d, attributes: [.bold], mono: [.underline]),
            .sortedColumnHeader: S(fg: c(6), attributes: [.bold], mono: [.underline]),
            .statusQueued: S(fg: c(8), mono: [.dim]),
            .statusRunning: S(fg: c(4), attributes: [.bold], mono: [.bold]),
            .statusCompleted: S(fg: c(2)),
            .statusFailed: S(fg: c(1), attributes: [.bold], mono: [.bold]),
            .statusAborted: S(fg: c(5), mono: [.underline]),
            .statusInterrupted: S(fg: c(3), mono: [.underline]),
            .logDebug: S(fg: c(8), mono: [.dim]),
            .logInfo: S(),
            .logWarning: S(fg: c(3), mono: [.bold]),
            .logError: S(fg: c(1), attributes: [.bold], mono: [.bold]),
            .logTime: S(fg: c(8), mono: [.dim]),
            .logDevice: S(fg: c(6)),
            .keyHint: S(fg: c(8), mono: [.dim]),
            .keyName: S(fg: c(6), attributes: [.bold], mono: [.bold]),
            .flashInfo: S(fg: c(2), mono: [.bold]),
            .flashError: S(fg: c(15), bg: c(1), attributes: [.bold], mono: [.reverse]),
            .commandLine: S(fg: d, attributes: [.bold], mono: [.bold]),
            .dialog: S(fg: c(0), bg: c(7), mono: [.reverse]),
            .dialogTitle: S(fg: c(4), bg: c(7), attributes: [.bold], mono: [.reverse, .bold]),
            .diffAdded: S(fg: c(2), mono: [.bold]),
            .diffRemoved: S(fg: c(1), mono: [.dim]),
            .diffContext: S(),
            .diffHeader: S(fg: c(6), attributes: [.bold], mono: [.underline]),
            .treeSuccess: S(fg: c(2)),
            .treeFailure: S(fg: c(1), mono: [.underline]),
            .searchMatch: S(fg: c(0), bg: c(3), mono: [.reverse]),
            .controlChar: S(fg: c(5), attributes: [.bold], mono: [.reverse]),
            .dim: S(fg: c(8), mono: [.dim]),
        ]
        return Theme(name: "default", styles: styles)
    }()
}
