import Foundation

/// Where a record came from, for error messages: `file:line`.
public struct SourceLocation: Equatable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public init(file: String, line: Int? = nil) { self.file = file; self.line = line }
    public var description: String { line.map { "\(file):\($0)" } ?? file }
}

/// What an importer read from files, before anything touches the database. Parsers (eNMS, CSV, JSON,
/// Ansible, ssh_config) produce one; `InventoryWriter` applies it in a single transaction.
public struct InventoryDocument: Sendable {
    public struct DeviceEntry: Sendable {
        public var device: Device
        public var at: SourceLocation
        /// The device fields (`InventoryDocument.deviceFields`) the record carries; nil: all of them.
        /// On an existing device only these change: a field the file does not have keeps its stored value.
        /// A new device gets defaults for the rest, and platform `autodetect` when none is given.
        public var given: Set<String>?
        /// Custom properties the record explicitly empties (a blank CSV cell, a JSON `null`): removed.
        public var removedProperties: Set<String> = []
        public init(_ device: Device, at: SourceLocation, given: Set<String>? = nil, removedProperties: Set<String> = []) {
            self.device = device; self.at = at; self.given = given; self.removedProperties = removedProperties
        }
        public func gives(_ field: String) -> Bool { given?.contains(field) ?? true }
    }
    public struct LinkEntry: Sendable {
        public var name: String, source: String, destination: String
        public var description: String = ""
        public var properties: [String: JSONValue] = [:]
        public var at: SourceLocation
        public init(name: String, source: String, destination: String, description: String = "",
                    properties: [String: JSONValue] = [:], at: SourceLocation) {
            self.name = name; self.source = source; self.destination = destination
            self.description = description; self.properties = properties; self.at = at
        }
    }
    public struct PoolEntry: Sendable {
        public var pool: Pool
        /// Manually added devices, by name; nil leaves existing manual members as they are.
        public var manualDevices: [String]?
        public var at: SourceLocation
        public init(_ pool: Pool, manualDevices: [String]?, at: SourceLocation) {
            self.pool = pool; self.manualDevices = manualDevices; self.at = at
        }
    }
    /// A credential whose secrets are plaintext, or already sealed (`sb1:`) when coming from our own export.
    public struct CredentialEntry: Sendable {
        public var credential: Credential
        public var at: SourceLocation
        public init(_ credential: Credential, at: SourceLocation) { self.credential = credential; self.at = at }
    }
    public struct ServiceEntry: Sendable {
        public var service: Service
        /// For workflows: member services by name, and the start service.
        public var members: [String] = []
        public var start: String?
        public var at: SourceLocation
        public init(_ service: Service, members: [String] = [], start: String? = nil, at: SourceLocation) {
            self.service = service; self.members = members; self.start = start; self.at = at
        }
    }
    public struct EdgeEntry: Sendable {
        public var name: String, workflow: String, source: String, destination: String
        public var subtype: WorkflowEdge.Subtype
        public var at: SourceLocation
        public init(name: String, workflow: String, source: String, destination: String,
                    subtype: WorkflowEdge.Subtype, at: SourceLocation) {
            self.name = name; self.workflow = workflow; self.source = source; self.destination = destination
            self.subtype = subtype; self.at = at
        }
    }
    public struct TaskEntry: Sendable {
        public var task: ScheduledTask
        /// The service by name (nil: the task names none and is imported inactive).
        public var service: String?
        public var at: SourceLocation
        public init(_ task: ScheduledTask, service: String?, at: SourceLocation) {
            self.task = task; self.service = service; self.at = at
        }
    }

    public var devices: [DeviceEntry] = []
    public var links: [LinkEntry] = []
    public var pools: [PoolEntry] = []
    public var credentials: [CredentialEntry] = []
    public var services: [ServiceEntry] = []
    public var edges: [EdgeEntry] = []
    public var tasks: [TaskEntry] = []
    /// Counted warnings: what was skipped and how often ("skipped field icon" → 69).
    public var warnings: [String: Int] = [:]
    /// Records (or parts of records) skipped because they name something that does not exist, each
    /// with its file, line and record.
    public var skipped: [ImportSkip] = []

    /// The device fields an import record may carry (`DeviceEntry.given`).
    public static let deviceFields: Set<String> = ["address", "port", "platform", "vendor", "model", "os_version",
                                                   "category", "location", "description", "jump"]
    /// The platform of a device whose import carries none: the engine detects it on first connection.
    public static let defaultPlatform = "autodetect"

    public init() {}

    public mutating func warn(_ message: String, count: Int = 1) { warnings[message, default: 0] += count }

    /// Notes a record skipped for a reason the user can fix in the file (`link.yaml:12: link 'x' skipped: …`).
    public mutating func skip(_ at: SourceLocation, _ record: String, _ reason: String, category: String, kind: String? = nil) {
        skipped.append(ImportSkip(category: category, message: "\(at): \(record) skipped: \(reason)", kind: kind))
    }

    public mutating func merge(_ other: InventoryDocument) {
        devices += other.devices; links += other.links; pools += other.pools; credentials += other.credentials
        services += other.services; edges += other.edges; tasks += other.tasks
        for (k, v) in other.warnings { warnings[k, default: 0] += v }
        skipped += other.skipped
    }
}

/// One skipped record (or member of a record): `message` names the file, line and record; `category`
/// groups similar ones for the summary ("links skipped: source or destination device missing");
/// `kind` is the record kind when a whole record was left out ("link"), for the import's counts.
public struct ImportSkip: Sendable, Equatable {
    public var category: String
    public var message: String
    public var kind: String?
    public init(category: String, message: String, kind: String? = nil) {
        self.category = category; self.message = message; self.kind = kind
    }
}

/// An import error: names the file, line and record.
public func importError(_ at: SourceLocation, _ message: String) -> StoreError {
    StoreError(.importFile, "\(at): \(message)")
}
