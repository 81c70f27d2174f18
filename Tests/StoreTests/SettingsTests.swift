import XCTest
@testable import Store

/// Settings and properties loading. Every test works in its own temporary directory with a
/// `Paths` built from a dictionary, so none reads or writes the real home directory.
final class SettingsTests: XCTestCase {
    private var root: URL!

    /// `HOME` is the temp directory and `XDG_CONFIG_HOME` lives under it, so messages show
    /// `~/.config/switchboard/...` exactly as an engineer would see them.
    private func paths(_ extra: [String: String] = [:]) -> Paths {
        Paths(environment: ["HOME": root.path, "XDG_CONFIG_HOME": root.path + "/.config"]
              .merging(extra) { $1 })
    }

    private let userFile = "~/.config/switchboard/settings.json"
    private let userPropertiesFile = "~/.config/switchboard/properties.json"

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory
            .appendingPathComponent("switchboard-settings-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: root)
    }

    /// Writes a file under the temp root and returns its absolute path.
    @discardableResult
    private func write(_ relative: String, _ text: String) throws -> String {
        let url = root.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
        return url.path
    }

    private func writeUserSettings(_ text: String) throws { try write(".config/switchboard/settings.json", text) }

    /// The message of the settings error `body` throws.
    private func settingsError(_ body: () throws -> Any) -> String {
        do {
            _ = try body()
            XCTFail("expected a settings error")
            return ""
        } catch let error as StoreError {
            XCTAssertEqual(error.kind, .settings)
            return error.message
        } catch {
            XCTFail("unexpected error \(error)")
            return ""
        }
    }

    private func loadError(env: [String: String] = [:], overrides: [String] = [], shipped: String? = nil) -> String {
        settingsError { try SettingsLoader(paths: paths(env), shippedPath: shipped).load(overrides: overrides) }
    }

    private func lines(_ message: String) -> [String] { message.split(separator: "\n").map(String.init) }

    /// The repository's `setup` directory, found from this source file.
    private var setupDirectory: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("setup").path
    }

    // MARK: - Defaults

    func testDefaultsLoadWithoutAnyFile() throws {
        let settings = try SettingsLoader(paths: paths(), shippedPath: nil).load()
        XCTAssertEqual(settings, Settings.defaults)
        XCTAssertEqual(settings.tables.run, 5000)
        XCTAssertEqual(settings.tables.task, 3000)
        XCTAssertEqual(settings.tables.refreshInterval(for: "task"), 3000)
        XCTAssertEqual(settings.tables.refreshInterval(for: "pulse"), 5000)
        XCTAssertNil(settings.tables.refreshInterval(for: "nope"))
        XCTAssertEqual(settings.automation.maxProcess, 100)
        XCTAssertFalse(settings.automation.allowUnix)
        XCTAssertEqual(settings.ssh.hostKeyPolicy, .strict)
        XCTAssertEqual(settings.ssh.defaultJump, "")
        XCTAssertEqual(settings.ssh.connectTimeout, 10)
        XCTAssertEqual(settings.ssh.keepalive, 30)
        XCTAssertEqual(settings.ssh.commandTimeout, 30)
        XCTAssertFalse(settings.ssh.legacyAlgorithms)
        XCTAssertEqual(settings.console.theme, "default")
        XCTAssertEqual(settings.console.keys["quit"], "q")
        XCTAssertFalse(settings.console.readonly)
        XCTAssertEqual(settings.engine.logFlushMs, 25)
        XCTAssertEqual(settings.engine.pollMs, 100)
        XCTAssertEqual(settings.engine.stopGraceSeconds, 30)
    }

    func testShippedFileAgreesWithCompiledDefaults() throws {
        let shipped = setupDirectory + "/settings.json"
        guard case .value(let tree) = SettingsJSON.read(shipped, displayPath: shipped) else {
            return XCTFail("cannot read \(shipped)")
        }
        XCTAssertEqual(SettingsValidator.problems(in: tree), [])
        // Same keys and values; the file writes `30` where the schema holds the double 30.0.
        XCTAssertEqual(normalized(tree), normalized(Settings.defaultDocument))
        XCTAssertEqual(try SettingsLoader(paths: paths(), shippedPath: shipped).load(), Settings.defaults)
    }

    /// Integral doubles as ints, so `30` and `30.0` compare equal.
    private func normalized(_ value: JSONValue) -> JSONValue {
        switch value {
        case .double(let d) where d.rounded() == d: return .int(Int(d))
        case .array(let items): return .array(items.map(normalized))
        case .object(let object): return .object(object.mapValues(normalized))
        default: return value
        }
    }

    func testSchemaEnvironmentNamesAreUniqueAndDocumented() {
        let names = Settings.schema.map(\.environmentName)
        XCTAssertEqual(Set(names).count, names.count)
        XCTAssertEqual(Settings.index.environment["SWITCHBOARD_AUTOMATION_MAX_PROCESS"], "automation.max_process")
        XCTAssertEqual(Settings.index.environment["SWITCHBOARD_SSH_HOST_KEY_POLICY"], "ssh.host_key_policy")
        let listing = Settings.describeKeys()
        for key in Settings.schema {
            XCTAssertTrue(listing.contains(key.path), key.path)
            XCTAssertTrue(listing.contains(key.environmentName), key.environmentName)
        }
        XCTAssertTrue(listing.contains("integer 1...5000"))
        XCTAssertTrue(listing.contains("strict|accept-new"))
    }

    // MARK: - Precedence

    func testPrecedenceShippedUserEnvironmentCommandLine() throws {
        let shipped = try write("setup/settings.json", """
            {"engine": {"poll_ms": 200},
             "ssh": {"keepalive": 5, "connect_timeout": 1},
             "automation": {"max_process": 10}}
            """)
        try writeUserSettings("""
            {"ssh": {"keepalive": 6, "connect_timeout": 2},
             "automation": {"max_process": 20},
             "console": {"keys": {"help": "h"}}}
            """)
        let env = ["SWITCHBOARD_SSH_CONNECT_TIMEOUT": "3",
                   "SWITCHBOARD_AUTOMATION_MAX_PROCESS": "30",
                   "SWITCHBOARD_CONSOLE_KEYS_FILTER": "f"]
        let settings = try SettingsLoader(paths: paths(env), shippedPath: shipped)
            .load(overrides: ["automation.max_process=35", "automation.max_process=40", "console.keys.refresh=R"])

        XCTAssertEqual(settings.engine.pollMs, 200, "shipped only")
        XCTAssertEqual(settings.ssh.keepalive, 6, "user file beats shipped")
        XCTAssertEqual(settings.ssh.connectTimeout, 3, "environment beats user file")
        XCTAssertEqual(settings.automation.maxProcess, 40, "the last --set beats everything")
        // Keys no layer mentions keep their defaults, and sibling keys survive the merges.
        XCTAssertEqual(settings.tables.run, 5000)
        XCTAssertEqual(settings.engine.logFlushMs, 25)
        // console.keys merges entry by entry through all layers.
        XCTAssertEqual(settings.console.keys, ["quit": "q", "help": "h", "filter": "f", "refresh": "R"])
    }

    func testEnvironmentMappingAndConversions() throws {
        let env = ["SWITCHBOARD_AUTOMATION_MAX_PROCESS": "50",
                   "SWITCHBOARD_SSH_HOST_KEY_POLICY": "accept-new",
                   "SWITCHBOARD_SSH_KNOWN_HOSTS": "/etc/ssh/lab_hosts, ~/lab/known_hosts,",
                   "SWITCHBOARD_AUTOMATION_ALLOW_UNIX": "yes",
                   "SWITCHBOARD_SSH_LEGACY_ALGORITHMS": "1",
                   "SWITCHBOARD_CONSOLE_CLOCK": "No",
                   "SWITCHBOARD_AUTOMATION_RETRY_DELAY": "2.5",
                   "SWITCHBOARD_SSH_DEFAULT_JUMP": "bastion, core-jump",
                   // Not settings: must be ignored, not reported.
                   "SWITCHBOARD_DB": "/tmp/x.db", "SWITCHBOARD_SETUP_DIR": "/nowhere",
                   "SWITCHBOARD_ENGINE_CHILD_TOKEN": "abc"]
        let settings = try SettingsLoader(paths: paths(env), shippedPath: nil).load()
        XCTAssertEqual(settings.automation.maxProcess, 50)
        XCTAssertEqual(settings.ssh.hostKeyPolicy, .acceptNew)
        XCTAssertEqual(settings.ssh.knownHosts, ["/etc/ssh/lab_hosts", "~/lab/known_hosts"])
        XCTAssertTrue(settings.automation.allowUnix)
        XCTAssertTrue(settings.ssh.legacyAlgorithms)
        XCTAssertFalse(settings.console.clock)
        XCTAssertEqual(settings.automation.retryDelay, 2.5)
        XCTAssertEqual(settings.ssh.defaultJump, "bastion, core-jump")
        XCTAssertEqual(settings.ssh.knownHostsFiles(home: "/home/ops"),
                       ["/etc/ssh/lab_hosts", "/home/ops/lab/known_hosts", "/home/ops/.ssh/known_hosts"])
    }

    func testFileNumbersZeroAndOneAreNotBooleans() throws {
        // JSONSerialization hands back NSNumbers; on Linux 1 casts to Bool, which must not happen here.
        try writeUserSettings(#"{"automation": {"max_process": 1, "default_retries": 0}}"#)
        let settings = try SettingsLoader(paths: paths(), shippedPath: nil).load()
        XCTAssertEqual(settings.automation.maxProcess, 1)
        XCTAssertEqual(settings.automation.defaultRetries, 0)
    }

    // MARK: - Bad files

    func testMalformedJSONReportsLineAndColumn() {
        XCTAssertNoThrow(try writeUserSettings("{\n  \"tables\": {\n    \"run\": 5000,\n    \"task\": ,\n  }\n}\n"))
        XCTAssertEqual(loadError(), "\(userFile): line 4, column 13: malformed JSON: invalid value")

        // Columns count characters, not bytes.
        XCTAssertNoThrow(try writeUserSettings("{\n  \"console\": {\"theme\": \"é€\" \"clock\": true}\n}"))
        XCTAssertEqual(loadError(), "\(userFile): line 2, column 29: malformed JSON: invalid value")

        XCTAssertNoThrow(try writeUserSettings("{\n  \"tables\": {\"run\": 5000}\n"))
        XCTAssertEqual(loadError(), "\(userFile): line 3, column 1: malformed JSON: unexpected end of file")

        XCTAssertNoThrow(try writeUserSettings(""))
        XCTAssertEqual(loadError(), "\(userFile): line 1, column 1: malformed JSON: the file is empty")
    }

    func testMalformedShippedFileIsReportedWithItsPath() throws {
        let shipped = try write("share/settings.json", "{\"tables\": [1 2]}")
        XCTAssertEqual(loadError(shipped: shipped), "~/share/settings.json: line 1, column 15: malformed JSON: invalid value")
        XCTAssertEqual(loadError(shipped: root.path + "/missing.json"),
                       "~/missing.json: shipped settings file not found")
    }

    func testUnknownKeysAtTopLevelAndNested() throws {
        try writeUserSettings("""
            {"automaton": {"max_process": 5},
             "gui": true,
             "automation": {"max_procs": 5},
             "console": {"keys": {"any_action": "x"}, "colour": "red"}}
            """)
        XCTAssertEqual(lines(loadError()), [
            "\(userFile): automation.max_procs: unknown key; did you mean max_process?",
            "\(userFile): automaton: unknown key; did you mean automation?",
            "\(userFile): console.colour: unknown key; known keys in console: clock, keys, readonly, theme",
            "\(userFile): gui: unknown key; did you mean git?",
        ])
    }

    func testWrongTypesRangesAndChoices() throws {
        try writeUserSettings("""
            {"automation": {"max_process": "lots", "default_timeout": 0, "allow_unix": "yes"},
             "tables": {"run": 50},
             "ssh": {"host_key_policy": "ask", "known_hosts": "~/.ssh/other"},
             "console": {"keys": {"quit": 5}},
             "engine": 7}
            """)
        XCTAssertEqual(lines(loadError()), [
            "\(userFile): automation.allow_unix: expected true or false, got \"yes\"",
            "\(userFile): automation.default_timeout: expected a number greater than 0 and at most 86400, got 0",
            "\(userFile): automation.max_process: expected an integer in 1...5000, got \"lots\"",
            "\(userFile): console.keys.quit: expected a string, got 5",
            "\(userFile): engine: expected an object (a settings section), got 7",
            "\(userFile): ssh.host_key_policy: expected one of \"strict\", \"accept-new\", got \"ask\"",
            "\(userFile): ssh.known_hosts: expected a list of strings, got \"~/.ssh/other\"",
            "\(userFile): tables.run: expected an integer in 100...3600000, got 50",
        ])
    }

    func testTopLevelMustBeAnObject() throws {
        try writeUserSettings("[1, 2]")
        XCTAssertEqual(loadError(), "\(userFile): (top level): expected an object of settings sections, got a list")
    }

    // MARK: - Bad environment and --set values

    func testBadEnvironmentValues() {
        let message = loadError(env: ["SWITCHBOARD_AUTOMATION_MAX_PROCESS": "lots",
                                      "SWITCHBOARD_CONSOLE_READONLY": "maybe",
                                      "SWITCHBOARD_SSH_HOST_KEY_POLICY": "yolo",
                                      "SWITCHBOARD_TABLES_RUN": "99",
                                      "SWITCHBOARD_AUTOMATION_MAX_PROCES": "5"])
        XCTAssertEqual(lines(message), [
            "environment SWITCHBOARD_AUTOMATION_MAX_PROCES: not a setting; did you mean SWITCHBOARD_AUTOMATION_MAX_PROCESS?",
            "environment SWITCHBOARD_AUTOMATION_MAX_PROCESS: expected an integer in 1...5000, got \"lots\"",
            "environment SWITCHBOARD_CONSOLE_READONLY: expected true or false, got \"maybe\"",
            "environment SWITCHBOARD_SSH_HOST_KEY_POLICY: expected one of \"strict\", \"accept-new\", got \"yolo\"",
            "environment SWITCHBOARD_TABLES_RUN: expected an integer in 100...3600000, got \"99\"",
        ])
    }

    func testBadCommandLineOverrides() {
        let message = loadError(overrides: ["automation.max_process=0", "automation.max_procs=3", "nokey",
                                            "ssh=1", "console.keys=q", "ssh.connect_timeout=soon"])
        XCTAssertEqual(lines(message), [
            "--set automation.max_process: expected an integer in 1...5000, got \"0\"",
            "--set automation.max_procs: unknown setting; did you mean automation.max_process?",
            "--set nokey: expected key.path=value",
            "--set ssh: is a section; set one of its keys: ssh.command_timeout, ssh.connect_timeout, "
                + "ssh.default_jump, ssh.host_key_policy, ssh.keepalive, ssh.known_hosts, ssh.legacy_algorithms",
            "--set console.keys: set one entry at a time, as <key>.<entry>=<value>",
            "--set ssh.connect_timeout: expected a number greater than 0 and at most 3600, got \"soon\"",
        ])
    }

    /// An engine is lost before it is dropped: the drop threshold must be the greater.
    func testEngineThresholdsMustLeaveLostBeforeDropped() throws {
        let message = loadError(overrides: ["engine.active_threshold_s=30", "engine.drop_threshold_s=20"])
        XCTAssertEqual(lines(message), [
            "engine.drop_threshold_s (20) must be greater than engine.active_threshold_s (30): an engine is lost before it is dropped",
        ])
        let settings = try SettingsLoader(paths: paths(), shippedPath: nil).load(overrides: ["engine.active_threshold_s=2.5", "engine.drop_threshold_s=60"])
        XCTAssertEqual(EngineThresholds(settings), EngineThresholds(active: 2.5, drop: 60))
        XCTAssertEqual(EngineThresholds(try SettingsLoader(paths: paths(), shippedPath: nil).load()), EngineThresholds(active: 15, drop: 120), "the defaults")
    }

    func testAllLayersProblemsAreReportedTogether() throws {
        let shipped = try write("setup/settings.json", #"{"tables": {"run": "fast"}}"#)
        try writeUserSettings(#"{"ssh": {"keepalive": -1}}"#)
        let message = loadError(env: ["SWITCHBOARD_ENGINE_POLL_MS": "often"],
                                overrides: ["console.clock=perhaps"], shipped: shipped)
        XCTAssertEqual(lines(message), [
            "~/setup/settings.json: tables.run: expected an integer in 100...3600000, got \"fast\"",
            "\(userFile): ssh.keepalive: expected an integer in 0...86400, got -1",
            "environment SWITCHBOARD_ENGINE_POLL_MS: expected an integer in 10...60000, got \"often\"",
            "--set console.clock: expected true or false, got \"perhaps\"",
        ])
    }

    // MARK: - Locating setup files

    func testLocateSetupFile() throws {
        let explicit = try write("custom/settings.json", "{}")
        XCTAssertEqual(SettingsLoader.locateSetupFile("settings.json",
                                                      environment: ["SWITCHBOARD_SETUP_DIR": root.path + "/custom"],
                                                      executablePath: "/nonexistent/bin/switchboard"),
                       explicit)

        // A checkout: <repo>/.build/debug/switchboard finds <repo>/setup.
        let checkout = try write("repo/setup/settings.json", "{}")
        XCTAssertEqual(SettingsLoader.locateSetupFile("settings.json", environment: [:],
                                                      executablePath: root.path + "/repo/.build/debug/switchboard"),
                       checkout)
        // The same with the .build/debug symlink resolved.
        XCTAssertEqual(SettingsLoader.locateSetupFile("settings.json", environment: [:],
                                                      executablePath: root.path + "/repo/.build/x86_64-unknown-linux-gnu/debug/switchboard"),
                       checkout)

        // An install: <prefix>/bin/switchboard finds <prefix>/share/switchboard/setup.
        let installed = try write("prefix/share/switchboard/setup/properties.json", "{}")
        XCTAssertEqual(SettingsLoader.locateSetupFile("properties.json", environment: [:],
                                                      executablePath: root.path + "/prefix/bin/switchboard"),
                       installed)

        XCTAssertNil(SettingsLoader.locateSetupFile("settings.json", environment: [:],
                                                    executablePath: root.path + "/elsewhere/bin/switchboard"))
    }

    func testLocateSetupFileFromTestBinaryFindsTheRepository() {
        // The test bundle runs from .build/<triple>/debug, so the executable-relative search finds setup/.
        let found = SettingsLoader.locateSetupFile("settings.json", environment: [:])
        XCTAssertEqual(found.map { URL(fileURLWithPath: $0).standardized.path },
                       URL(fileURLWithPath: setupDirectory + "/settings.json").standardized.path)
    }

    // MARK: - JSON error positions

    func testFoundationErrorMessageParsing() {
        XCTAssertEqual(SettingsJSON.offsetAndReason(from: "Invalid value around character 19.", dataCount: 40).0, 19)
        XCTAssertEqual(SettingsJSON.offsetAndReason(from: "Invalid value around character 19.", dataCount: 40).1, "invalid value")
        XCTAssertEqual(SettingsJSON.offsetAndReason(from: "Invalid hex encoded sequence in \"12\"}\" at 11.", dataCount: 40).0, 11)
        XCTAssertEqual(SettingsJSON.offsetAndReason(from: "Unexpected end of file during JSON parse.", dataCount: 40).0, 40)
        XCTAssertEqual(SettingsJSON.offsetAndReason(from: "Unexpected end of file during JSON parse.", dataCount: 40).1,
                       "unexpected end of file")
    }

    // MARK: - properties.json

    private func writeUserProperties(_ text: String) throws { try write(".config/switchboard/properties.json", text) }

    private func propertiesError() -> String {
        settingsError { try DevicePropertiesLoader(paths: paths(), shippedPath: nil).load() }
    }

    func testShippedPropertiesAgreeWithBuiltIn() throws {
        let shipped = setupDirectory + "/properties.json"
        let loaded = try DevicePropertiesLoader(paths: paths(), shippedPath: shipped).load()
        XCTAssertEqual(loaded, DeviceProperties.builtIn)
        XCTAssertEqual(Set(loaded.columns.keys), Set(DeviceProperties.tableNames))
        XCTAssertEqual(loaded.property(named: "role")?.choices, ["core", "distribution", "access", "edge"])
        XCTAssertEqual(try DevicePropertiesLoader(paths: paths(), shippedPath: nil).load(), .builtIn)
    }

    func testUserPropertiesReplaceShippedEntirely() throws {
        let shipped = setupDirectory + "/properties.json"
        try writeUserProperties("""
            {"properties": [{"name": "tier", "type": "integer", "default": 2},
                            {"name": "dc", "type": "select", "choices": ["par", "lon"]},
                            {"name": "weight", "type": "float", "default": 1}],
             "tables": {"device": [{"property": "name", "width": 30}, {"property": "tier", "title": "T", "visible": false}]}}
            """)
        let loaded = try DevicePropertiesLoader(paths: paths(), shippedPath: shipped).load()
        XCTAssertEqual(loaded.properties.map(\.name), ["tier", "dc", "weight"])
        XCTAssertEqual(loaded.property(named: "dc")?.defaultValue, .string("par"), "a select defaults to its first choice")
        XCTAssertEqual(loaded.property(named: "weight")?.defaultValue, .double(1))
        XCTAssertNil(loaded.property(named: "site"), "nothing of the shipped file is kept")
        XCTAssertEqual(loaded.columns(for: "device"), [
            .init(property: "name", title: "Name", width: 30, visible: true),
            .init(property: "tier", title: "T", width: 16, visible: false),
        ])
        // A table the user file leaves out keeps the built-in columns rather than showing nothing.
        XCTAssertEqual(loaded.columns(for: "run"), DeviceProperties.builtIn.columns["run"])
    }

    func testMalformedPropertiesFile() throws {
        try writeUserProperties("{\n  \"properties\": [\n    {\"name\": \"site\" \"type\": \"string\"}\n  ]\n}")
        XCTAssertEqual(propertiesError(), "\(userPropertiesFile): line 3, column 21: malformed JSON: invalid value")
    }

    func testBadPropertiesAreAllReported() throws {
        try writeUserProperties("""
            {"properties": [
                {"name": "site", "type": "string"},
                {"name": "site", "type": "string"},
                {"name": "role", "type": "select", "default": "spine", "choices": ["core", "edge"]},
                {"name": "rack", "type": "text"},
                {"name": "tier", "type": "integer", "default": "two"},
                {"name": "vendor", "type": "string"},
                {"name": "Bad Name", "type": "string"},
                {"name": "floor", "type": "string", "choices": ["1"]},
                {"name": "zone", "type": "select"},
                {"name": "pod", "type": "string", "colour": "red"}
             ],
             "tables": {
                "device": [{"property": "name", "width": 0},
                           {"property": "address", "width": 500},
                           {"property": "adress"},
                           {"property": "role", "visible": "yes"},
                           {"property": "name"}],
                "devices": [{"property": "name"}],
                "link": []
             },
             "columns": {}}
            """)
        XCTAssertEqual(lines(propertiesError()).map { $0.replacingOccurrences(of: userPropertiesFile + ": ", with: "") }, [
            "columns: unknown key; known keys: properties, tables",
            "properties[1].name: duplicate property \"site\"",
            "properties[2].default: \"spine\" is not among the choices: core, edge",
            "properties[3].type: expected one of string, integer, boolean, float, select, got \"text\"",
            "properties[4].default: expected an integer, got \"two\"",
            "properties[5].name: \"vendor\" is a built-in device field",
            "properties[6].name: expected lower case letters, digits and _, starting with a letter, got \"Bad Name\"",
            "properties[7].choices: only a select property has choices",
            "properties[8].choices: missing (a select property needs its list of choices)",
            "properties[9].colour: unknown key; known keys: name, type, default, choices",
            "tables.device[0].width: expected an integer in 1...200, got 0",
            "tables.device[1].width: expected an integer in 1...200, got 500",
            "tables.device[2].property: \"adress\" is not a field of this table; did you mean address?",
            "tables.device[3].visible: expected true or false, got \"yes\"",
            "tables.device[4].property: \"name\" already has a column",
            "tables.devices: unknown table; did you mean device?",
            "tables.link: expected a non-empty list of columns, got a list",
        ])
    }

    func testCredentialColumnsCannotShowSecrets() throws {
        try writeUserProperties(#"{"tables": {"credential": [{"property": "name"}, {"property": "secret"}]}}"#)
        XCTAssertTrue(propertiesError().hasSuffix("tables.credential[1].property: \"secret\" is not a field of this table"))
    }
}
