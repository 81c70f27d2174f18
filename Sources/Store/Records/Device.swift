import Foundation
import GRDB

/// A network device (eNMS `Device`): what the engine connects to and pools select from.
public struct Device: Codable, Equatable, Sendable, Identifiable {
    public var id: Int64?
    public var name: String
    public var address: String
    public var port: Int = 22
    public var platform: String = "cisco_ios"
    public var vendor: String = ""
    public var model: String = ""
    public var osVersion: String = ""
    public var category: String = ""
    public var location: String = ""
    public var description: String = ""
    /// The jump host chain, outermost hop first, comma separated: device names or `[user@]host[:port]`.
    public var jump: String = ""
    /// Custom properties declared in `properties.json`.
    public var properties: [String: JSONValue] = [:]
    public var lastRunStatus: String?
    public var lastRunTime: Date?
    public var lastBackupStatus: String?
    public var lastBackupTime: Date?
    public var reachable: Bool?
    public var lastReachabilityTime: Date?

    public init(id: Int64? = nil, name: String, address: String, port: Int = 22, platform: String = "cisco_ios",
                vendor: String = "", model: String = "", osVersion: String = "", category: String = "",
                location: String = "", description: String = "", jump: String = "",
                properties: [String: JSONValue] = [:]) {
        self.id = id; self.name = name; self.address = address; self.port = port; self.platform = platform
        self.vendor = vendor; self.model = model; self.osVersion = osVersion; self.category = category
        self.location = location; self.description = description; self.jump = jump; self.properties = properties
    }

    /// The built-in fields an engineer can filter on, with their values as text.
    public static let builtinFields = ["name", "address", "port", "platform", "vendor", "model", "os_version",
                                       "category", "location", "description", "jump", "last_run_status",
                                       "last_backup_status"]

    /// The value of a field (built-in or custom property) as text, `nil` when the device has no such field.
    public func value(of field: String) -> String? {
        switch field {
        case "name": return name
        case "address", "ip_address": return address
        case "port": return String(port)
        case "platform", "operating_system": return platform
        case "vendor": return vendor
        case "model": return model
        case "os_version": return osVersion
        case "category": return category
        case "location": return location
        case "description": return description
        case "jump": return jump
        case "last_run_status": return lastRunStatus ?? ""
        case "last_backup_status": return lastBackupStatus ?? ""
        case "id": return id.map { String($0) }
        default: return properties[field].map { $0.description }
        }
    }
}

extension Device: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "device"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase
    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

    /// Encoded by hand: importing 80,000 devices through Codable and snake-case key conversion
    /// spent most of the import's time converting key names.
    public func encode(to container: inout PersistenceContainer) throws {
        container["id"] = id
        container["name"] = name
        container["address"] = address
        container["port"] = port
        container["platform"] = platform
        container["vendor"] = vendor
        container["model"] = model
        container["os_version"] = osVersion
        container["category"] = category
        container["location"] = location
        container["description"] = description
        container["jump"] = jump
        if properties.isEmpty {
            container["properties"] = "{}"
        } else {
            container["properties"] = String(decoding: try JSONEncoder.sorted.encode(properties), as: UTF8.self)
        }
        container["last_run_status"] = lastRunStatus
        container["last_run_time"] = lastRunTime
        container["last_backup_status"] = lastBackupStatus
        container["last_backup_time"] = lastBackupTime
        container["reachable"] = reachable
        container["last_reachability_time"] = lastReachabilityTime
    }

    /// Decoded by hand: listing 80,000 devices through Codable costs several times more.
    public init(row: Row) throws {
        id = row["id"]
        name = row["name"]
        address = row["address"]
        port = row["port"]
        platform = row["platform"]
        vendor = row["vendor"]
        model = row["model"]
        osVersion = row["os_version"]
        category = row["category"]
        location = row["location"]
        description = row["description"]
        jump = row["jump"]
        let props: String = row["properties"] ?? "{}"
        if props == "{}" || props.isEmpty {
            properties = [:]
        } else if let object = try? JSONSerialization.jsonObject(with: Data(props.utf8)) as? [String: Any] {
            properties = object.mapValues { JSONValue(any: $0) }
        } else {
            properties = [:]
        }
        lastRunStatus = row["last_run_status"]
        lastRunTime = row["last_run_time"]
        lastBackupStatus = row["last_backup_status"]
        lastBackupTime = row["last_backup_time"]
        reachable = row["reachable"]
        lastReachabilityTime = row["last_reachability_time"]
    }
}
