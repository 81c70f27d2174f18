import Foundation
import GRDB

/// A recorded interactive SSH session; `transcript` is the device's output in asciicast v2 form.
public struct SessionRecord: Codable, Equatable, Sendable, Identifiable {
    public var id: Int64?
    public var deviceId: Int64?
    public var deviceName: String
    public var user: String
    public var startedAt: Date = Date()
    public var endedAt: Date?
    public var bytesIn: Int = 0
    public var bytesOut: Int = 0
    public var width: Int = 80
    public var height: Int = 24
    public var transcript: String = ""
    public var endReason: String = ""

    public init(id: Int64? = nil, deviceId: Int64?, deviceName: String, user: String) {
        self.id = id; self.deviceId = deviceId; self.deviceName = deviceName; self.user = user
    }
}

extension SessionRecord: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "session"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase
    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// One stored version of a device's configuration; written only when the content changed.
public struct ConfigSnapshot: Codable, Equatable, Sendable, Identifiable {
    public var id: Int64?
    public var deviceId: Int64
    public var createdAt: Date = Date()
    public var runId: Int64?
    public var sha256: String
    public var content: String
    /// The git commit that holds this version (configurations in git), if any.
    public var gitCommit: String?

    public init(id: Int64? = nil, deviceId: Int64, runId: Int64?, sha256: String, content: String) {
        self.id = id; self.deviceId = deviceId; self.runId = runId; self.sha256 = sha256; self.content = content
    }
}

extension ConfigSnapshot: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "config_snapshot"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase
    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// An audit line: who changed what, when (eNMS `Changelog`).
public struct ChangelogEntry: Codable, Equatable, Sendable, Identifiable {
    public var id: Int64?
    public var time: Date = Date()
    public var user: String
    public var severity: String = "info"
    public var targetType: String = ""
    public var targetName: String = ""
    public var content: String

    public init(id: Int64? = nil, user: String, severity: String = "info", targetType: String = "",
                targetName: String = "", content: String) {
        self.id = id; self.user = user; self.severity = severity; self.targetType = targetType
        self.targetName = targetName; self.content = content
    }
}

extension ChangelogEntry: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "changelog"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase
    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}
