import Foundation

/// The contents of `properties.json`: the custom device properties an organisation declares, and
/// the columns each console table shows.
///
/// The shipped `setup/properties.json` applies unless the user has
/// `$XDG_CONFIG_HOME/switchboard/properties.json`, which then replaces it entirely (column sets do
/// not merge well: a user reordering columns wants exactly their list).
public struct DeviceProperties: Sendable, Equatable {
    public enum PropertyType: String, Sendable, CaseIterable {
        case string, integer, boolean, float, select
    }

    /// A custom device property, stored in `Device.properties`.
    public struct Property: Sendable, Equatable {
        public var name: String
        public var type: PropertyType
        /// The value of a device that does not set the property.
        public var defaultValue: JSONValue
        /// The allowed values, for `select` only.
        public var choices: [String]

        public init(name: String, type: PropertyType, defaultValue: JSONValue? = nil, choices: [String] = []) {
            self.name = name; self.type = type; self.choices = choices
            self.defaultValue = defaultValue ?? Property.implicitDefault(type, choices: choices)
        }

        /// The default of a property declared without one.
        static func implicitDefault(_ type: PropertyType, choices: [String]) -> JSONValue {
            switch type {
            case .string: return .string("")
            case .integer: return .int(0)
            case .boolean: return .bool(false)
            case .float: return .double(0)
            case .select: return .string(choices.first ?? "")
            }
        }
    }

    /// One column of a console table.
    public struct Column: Sendable, Equatable {
        /// The record field (snake_case, e.g. `os_version`) or custom property shown.
        public var property: String
        public var title: String
        /// Characters.
        public var width: Int
        /// Hidden columns can be shown from the console without editing the file.
        public var visible: Bool

        public init(property: String, title: String? = nil, width: Int = 16, visible: Bool = true) {
            self.property = property; self.width = width; self.visible = visible
            self.title = title ?? Column.defaultTitle(property)
        }

        /// `os_version` → `Os Version`: readable enough for a column declared without a title.
        static func defaultTitle(_ property: String) -> String {
            property.split(separator: "_").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined(separator: " ")
        }
    }

    public var properties: [Property]
    /// Columns by table name (see `tableNames`).
    public var columns: [String: [Column]]

    public init(properties: [Property], columns: [String: [Column]]) {
        self.properties = properties
        self.columns = columns
    }

    /// The tables whose columns `properties.json` configures.
    public static let tableNames = ["device", "link", "pool", "credential", "service", "workflow",
                                    "run", "task", "session", "config"]

    public static let widthRange = 1...200

    /// The columns of a table; the built-in set for a table the file leaves out.
    public func columns(for table: String) -> [Column] {
        columns[table] ?? DeviceProperties.builtIn.columns[table] ?? []
    }

    public func property(named name: String) -> Property? { properties.first { $0.name == name } }

    /// The fields a column of each table may show: the records' fields in snake_case, plus a few
    /// values the console derives (`progress`, `duration`, `service`, `schedule`, `size`, names of
    /// linked records). Secrets are deliberately absent: a credential table never shows them.
    /// The device table also accepts the declared custom properties.
    public static let columnFields: [String: Set<String>] = {
        let service = ["id", "name", "kind", "description", "devices", "pools", "target_filter", "run_method",
                       "max_processes", "retries", "retry_delay", "timeout", "credential", "conversion",
                       "created_at", "updated_at"]
        return [
            "device": Set(Device.builtinFields + ["id", "last_run_time", "last_backup_time", "reachable",
                                                  "last_reachability_time"]),
            "link": ["id", "name", "source", "destination", "description"],
            "pool": ["id", "name", "description", "criteria", "member_count"],
            "credential": ["id", "name", "description", "username", "secret_kind", "key_file", "role",
                           "priority", "pools"],
            "service": Set(service),
            "workflow": Set(service + ["traversal", "max_node_runs"]),
            "run": ["id", "service_name", "trigger", "user", "status", "progress", "progress_done",
                    "progress_total", "progress_failed", "created_at", "started_at", "ended_at", "duration",
                    "engine_pid", "reason", "restart_of", "task_id"],
            "task": ["id", "name", "description", "service", "schedule_kind", "schedule", "interval_seconds",
                     "cron", "start_date", "end_date", "active", "devices", "pools", "timezone", "misfire_policy",
                     "misfire_grace_seconds", "max_instances", "next_fire", "last_fire", "last_run_id",
                     "last_run_status"],
            "session": ["id", "device_name", "user", "started_at", "ended_at", "duration", "bytes_in",
                        "bytes_out", "width", "height", "end_reason"],
            "config": ["id", "device_id", "device_name", "created_at", "run_id", "sha256", "size", "git_commit"],
        ]
    }()

    /// Names a custom property may not take: `Device.value(of:)` answers these from the record
    /// itself, so a property of that name would never be seen by filters or pools.
    static let reservedPropertyNames: Set<String> =
        Set(Device.builtinFields + ["id", "ip_address", "operating_system"])
            .union(columnFields["device"] ?? [])

    /// The compiled-in `properties.json`, used when no shipped file is found. A unit test checks
    /// that `setup/properties.json` says exactly the same.
    public static let builtIn: DeviceProperties = {
        typealias C = Column
        return DeviceProperties(
            properties: [
                Property(name: "site", type: .string, defaultValue: .string("")),
                Property(name: "role", type: .select, defaultValue: .string("access"),
                         choices: ["core", "distribution", "access", "edge"]),
                Property(name: "rack", type: .string, defaultValue: .string("")),
            ],
            columns: [
                "device": [
                    C(property: "name", title: "Name", width: 24),
                    C(property: "address", title: "Address", width: 16),
                    C(property: "platform", title: "Platform", width: 13),
                    C(property: "vendor", title: "Vendor", width: 10),
                    C(property: "model", title: "Model", width: 12),
                    C(property: "os_version", title: "OS version", width: 12),
                    C(property: "location", title: "Location", width: 14),
                    C(property: "site", title: "Site", width: 10),
                    C(property: "role", title: "Role", width: 12),
                    C(property: "rack", title: "Rack", width: 8, visible: false),
                    C(property: "category", title: "Category", width: 12, visible: false),
                    C(property: "port", title: "Port", width: 5, visible: false),
                    C(property: "jump", title: "Jump", width: 20, visible: false),
                    C(property: "last_run_status", title: "Last run", width: 10),
                    C(property: "last_backup_status", title: "Last backup", width: 11, visible: false),
                    C(property: "description", title: "Description", width: 30, visible: false),
                ],
                "link": [
                    C(property: "name", title: "Name", width: 24),
                    C(property: "source", title: "Source", width: 20),
                    C(property: "destination", title: "Destination", width: 20),
                    C(property: "description", title: "Description", width: 40),
                ],
                "pool": [
                    C(property: "name", title: "Name", width: 24),
                    C(property: "member_count", title: "Devices", width: 8),
                    C(property: "description", title: "Description", width: 40),
                    C(property: "criteria", title: "Criteria", width: 40, visible: false),
                ],
                "credential": [
                    C(property: "name", title: "Name", width: 20),
                    C(property: "username", title: "Username", width: 16),
                    C(property: "secret_kind", title: "Kind", width: 9),
                    C(property: "role", title: "Role", width: 10),
                    C(property: "priority", title: "Priority", width: 8),
                    C(property: "pools", title: "Pools", width: 30),
                    C(property: "description", title: "Description", width: 30, visible: false),
                ],
                "service": [
                    C(property: "name", title: "Name", width: 30),
                    C(property: "kind", title: "Kind", width: 9),
                    C(property: "run_method", title: "Method", width: 10),
                    C(property: "max_processes", title: "Procs", width: 6),
                    C(property: "timeout", title: "Timeout", width: 8),
                    C(property: "retries", title: "Retries", width: 7),
                    C(property: "description", title: "Description", width: 30),
                    C(property: "updated_at", title: "Updated", width: 20, visible: false),
                ],
                "workflow": [
                    C(property: "name", title: "Name", width: 30),
                    C(property: "traversal", title: "Traversal", width: 9),
                    C(property: "max_node_runs", title: "Max runs", width: 8),
                    C(property: "description", title: "Description", width: 30),
                    C(property: "updated_at", title: "Updated", width: 20),
                ],
                "run": [
                    C(property: "id", title: "Run", width: 6),
                    C(property: "service_name", title: "Service", width: 28),
                    C(property: "status", title: "Status", width: 11),
                    C(property: "progress", title: "Progress", width: 14),
                    C(property: "trigger", title: "Trigger", width: 9),
                    C(property: "user", title: "User", width: 10),
                    C(property: "started_at", title: "Started", width: 20),
                    C(property: "duration", title: "Duration", width: 10),
                    C(property: "reason", title: "Reason", width: 40),
                ],
                "task": [
                    C(property: "name", title: "Name", width: 24),
                    C(property: "service", title: "Service", width: 24),
                    C(property: "schedule", title: "Schedule", width: 20),
                    C(property: "active", title: "Active", width: 6),
                    C(property: "next_fire", title: "Next", width: 26),
                    C(property: "last_run_status", title: "Last run", width: 10),
                    C(property: "description", title: "Description", width: 30, visible: false),
                ],
                "session": [
                    C(property: "id", title: "Session", width: 7),
                    C(property: "device_name", title: "Device", width: 20),
                    C(property: "user", title: "User", width: 10),
                    C(property: "started_at", title: "Started", width: 20),
                    C(property: "duration", title: "Duration", width: 10),
                    C(property: "bytes_out", title: "Bytes out", width: 10, visible: false),
                    C(property: "end_reason", title: "End", width: 20),
                ],
                "config": [
                    C(property: "id", title: "Version", width: 7),
                    C(property: "device_name", title: "Device", width: 24),
                    C(property: "created_at", title: "Saved", width: 20),
                    C(property: "run_id", title: "Run", width: 6),
                    C(property: "size", title: "Size", width: 8),
                    C(property: "git_commit", title: "Commit", width: 10, visible: true),
                    C(property: "sha256", title: "SHA-256", width: 16, visible: false),
                ],
            ])
    }()
}

/// Loads `DeviceProperties`: the user's `properties.json` if present, else the shipped one, else
/// the compiled-in `DeviceProperties.builtIn`. Problems are reported like settings problems:
/// file and key path, all of them at once, in one `StoreError(.settings, …)`.
public struct DevicePropertiesLoader {
    public var paths: Paths
    /// The shipped file; nil to fall back to the compiled-in properties.
    public var shippedPath: String?

    public init(paths: Paths, shippedPath: String?) {
        self.paths = paths
        self.shippedPath = shippedPath
    }

    /// A loader using the shipped file found by `SettingsLoader.locateSetupFile(_:environment:)`.
    public init(paths: Paths = Paths()) {
        self.init(paths: paths,
                  shippedPath: SettingsLoader.locateSetupFile("properties.json", environment: paths.environment))
    }

    public func load() throws -> DeviceProperties {
        var candidates = [paths.userPropertiesPath]
        if let shippedPath { candidates.append(shippedPath) }
        for (i, path) in candidates.enumerated() {
            let display = paths.displayPath(path)
            switch SettingsJSON.read(path, displayPath: display) {
            case .missing:
                // Only the user file is optional; a shipped path given explicitly must exist.
                if i == 0 { continue }
                throw StoreError(.settings, "\(display): shipped properties file not found")
            case .problem(let problem):
                throw StoreError(.settings, problem)
            case .value(let tree):
                let (properties, problems) = PropertiesValidator.read(tree)
                if !problems.isEmpty {
                    throw StoreError(.settings, problems.map { "\(display): \($0)" }.joined(separator: "\n"))
                }
                return properties
            }
        }
        return .builtIn
    }
}

/// Reads a `properties.json` tree, collecting every problem as "key.path: what is wrong".
enum PropertiesValidator {
    static func read(_ tree: JSONValue) -> (DeviceProperties, [String]) {
        var problems: [String] = []
        guard case .object(let top) = tree else {
            return (.builtIn, ["(top level): expected an object with \"properties\" and \"tables\", got \(SettingsJSON.describe(tree))"])
        }
        unknownKeys(in: top, known: ["properties", "tables"], at: "", problems: &problems)

        var properties: [DeviceProperties.Property] = []
        // Names as declared, valid or not, so a column showing a property with a bad default
        // is not reported a second time as an unknown field.
        var declaredNames = Set<String>()
        if let list = top["properties"] {
            declaredNames = Set(list.arrayValue?.compactMap { $0.objectValue?["name"]?.stringValue } ?? [])
            if case .array(let items) = list {
                for (i, item) in items.enumerated() {
                    if let property = readProperty(item, at: "properties[\(i)]", problems: &problems) {
                        if properties.contains(where: { $0.name == property.name }) {
                            problems.append("properties[\(i)].name: duplicate property \(SettingsJSON.quote(property.name))")
                        } else {
                            properties.append(property)
                        }
                    }
                }
            } else {
                problems.append("properties: expected a list of properties, got \(SettingsJSON.describe(list))")
            }
        }

        var columns: [String: [DeviceProperties.Column]] = [:]
        if let tables = top["tables"] {
            if case .object(let byTable) = tables {
                for (table, list) in byTable.sorted(by: { $0.key < $1.key }) {
                    guard DeviceProperties.tableNames.contains(table) else {
                        let hint = SettingsJSON.closest(to: table, among: DeviceProperties.tableNames)
                            .map { "did you mean \($0)?" }
                            ?? "known tables: " + DeviceProperties.tableNames.joined(separator: ", ")
                        problems.append("tables.\(table): unknown table; \(hint)")
                        continue
                    }
                    var fields = DeviceProperties.columnFields[table] ?? []
                    if table == "device" { fields.formUnion(declaredNames) }
                    columns[table] = readColumns(list, at: "tables.\(table)", fields: fields, problems: &problems)
                }
            } else {
                problems.append("tables: expected an object of column lists by table, got \(SettingsJSON.describe(tables))")
            }
        }
        return (DeviceProperties(properties: properties, columns: columns), problems)
    }

    private static func readProperty(_ item: JSONValue, at path: String,
                                     problems: inout [String]) -> DeviceProperties.Property? {
        guard case .object(let fields) = item else {
            problems.append("\(path): expected an object with name and type, got \(SettingsJSON.describe(item))")
            return nil
        }
        let before = problems.count
        unknownKeys(in: fields, known: ["name", "type", "default", "choices"], at: path, problems: &problems)

        let name = fields["name"]?.stringValue
        if fields["name"] == nil {
            problems.append("\(path).name: missing")
        } else if let name {
            if name.range(of: "^[a-z][a-z0-9_]*$", options: .regularExpression) == nil {
                problems.append("\(path).name: expected lower case letters, digits and _, starting with a letter, got \(SettingsJSON.quote(name))")
            } else if DeviceProperties.reservedPropertyNames.contains(name) {
                problems.append("\(path).name: \(SettingsJSON.quote(name)) is a built-in device field")
            }
        } else {
            problems.append("\(path).name: expected a string, got \(SettingsJSON.describe(fields["name"]!))")
        }

        let typeNames = DeviceProperties.PropertyType.allCases.map(\.rawValue)
        var type: DeviceProperties.PropertyType?
        if let value = fields["type"] {
            type = value.stringValue.flatMap(DeviceProperties.PropertyType.init(rawValue:))
            if type == nil {
                problems.append("\(path).type: expected one of \(typeNames.joined(separator: ", ")), got \(SettingsJSON.describe(value))")
            }
        } else {
            problems.append("\(path).type: missing (one of \(typeNames.joined(separator: ", ")))")
        }

        var choices: [String] = []
        if let value = fields["choices"] {
            if type != nil && type != .select {
                problems.append("\(path).choices: only a select property has choices")
            } else if case .array(let items) = value, !items.isEmpty, items.allSatisfy({ $0.stringValue != nil }) {
                choices = items.compactMap(\.stringValue)
                var seen = Set<String>()
                for choice in choices where !seen.insert(choice).inserted {
                    problems.append("\(path).choices: \(SettingsJSON.quote(choice)) is listed twice")
                }
            } else {
                problems.append("\(path).choices: expected a non-empty list of strings, got \(SettingsJSON.describe(value))")
            }
        } else if type == .select {
            problems.append("\(path).choices: missing (a select property needs its list of choices)")
        }

        var defaultValue: JSONValue?
        if let value = fields["default"], let type {
            switch (type, value) {
            case (.string, .string), (.integer, .int), (.boolean, .bool), (.float, .double):
                defaultValue = value
            case (.float, .int(let i)):
                defaultValue = .double(Double(i))
            case (.select, .string(let s)):
                if choices.isEmpty || choices.contains(s) {
                    defaultValue = value
                } else {
                    problems.append("\(path).default: \(SettingsJSON.quote(s)) is not among the choices: \(choices.joined(separator: ", "))")
                }
            default:
                let expected: String
                switch type {
                case .string: expected = "a string"
                case .integer: expected = "an integer"
                case .boolean: expected = "true or false"
                case .float: expected = "a number"
                case .select: expected = "one of the choices"
                }
                problems.append("\(path).default: expected \(expected), got \(SettingsJSON.describe(value))")
            }
        }

        guard problems.count == before, let name, let type else { return nil }
        return DeviceProperties.Property(name: name, type: type, defaultValue: defaultValue, choices: choices)
    }

    private static func readColumns(_ list: JSONValue, at path: String, fields: Set<String>,
                                    problems: inout [String]) -> [DeviceProperties.Column] {
        guard case .array(let items) = list, !items.isEmpty else {
            problems.append("\(path): expected a non-empty list of columns, got \(SettingsJSON.describe(list))")
            return []
        }
        var columns: [DeviceProperties.Column] = []
        // Every property named so far, including those of invalid columns, to catch duplicates.
        var seen = Set<String>()
        for (i, item) in items.enumerated() {
            let at = "\(path)[\(i)]"
            guard case .object(let spec) = item else {
                problems.append("\(at): expected an object with property, title, width and visible, got \(SettingsJSON.describe(item))")
                continue
            }
            let before = problems.count
            unknownKeys(in: spec, known: ["property", "title", "width", "visible"], at: at, problems: &problems)

            let property = spec["property"]?.stringValue
            switch spec["property"] {
            case nil: problems.append("\(at).property: missing")
            case .string(let name) where !fields.contains(name):
                let hint = SettingsJSON.closest(to: name, among: fields.sorted()).map { "; did you mean \($0)?" } ?? ""
                problems.append("\(at).property: \(SettingsJSON.quote(name)) is not a field of this table\(hint)")
            case .string(let name) where seen.contains(name):
                problems.append("\(at).property: \(SettingsJSON.quote(name)) already has a column")
            case .string(let name): seen.insert(name)
            case let other?: problems.append("\(at).property: expected a string, got \(SettingsJSON.describe(other))")
            }

            var title: String?
            if let value = spec["title"] {
                title = value.stringValue
                if title == nil { problems.append("\(at).title: expected a string, got \(SettingsJSON.describe(value))") }
            }
            var width = 16
            if let value = spec["width"] {
                if case .int(let w) = value, DeviceProperties.widthRange.contains(w) {
                    width = w
                } else {
                    let range = DeviceProperties.widthRange
                    problems.append("\(at).width: expected an integer in \(range.lowerBound)...\(range.upperBound), got \(SettingsJSON.describe(value))")
                }
            }
            var visible = true
            if let value = spec["visible"] {
                if case .bool(let v) = value { visible = v }
                else { problems.append("\(at).visible: expected true or false, got \(SettingsJSON.describe(value))") }
            }
            if problems.count == before, let property {
                columns.append(DeviceProperties.Column(property: property, title: title, width: width, visible: visible))
            }
        }
        return columns
    }

    private static func unknownKeys(in object: [String: JSONValue], known: [String], at path: String,
                                    problems: inout [String]) {
        for key in object.keys.sorted() where !known.contains(key) {
            let hint = SettingsJSON.closest(to: key, among: known).map { "did you mean \($0)?" }
                ?? "known keys: " + known.joined(separator: ", ")
            problems.append("\(path.isEmpty ? key : path + "." + key): unknown key; \(hint)")
        }
    }
}
