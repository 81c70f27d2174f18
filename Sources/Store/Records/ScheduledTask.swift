import Foundation
import GRDB

/// A schedule that launches a service or workflow (eNMS `Task`).
public struct ScheduledTask: Codable, Equatable, Sendable, Identifiable {
    public enum ScheduleKind: String, Codable, Sendable, CaseIterable { case interval, cron, once }
    public enum MisfirePolicy: String, Codable, Sendable, CaseIterable { case skip, once }

    public var id: Int64?
    public var name: String
    public var description: String = ""
    /// Nil for a task imported without a service (eNMS allows it); such a task never fires.
    public var serviceId: Int64?
    public var scheduleKind: ScheduleKind
    public var intervalSeconds: Int?
    public var cron: String = ""
    public var startDate: Date?
    public var endDate: Date?
    /// New tasks are inactive until enabled, as in eNMS.
    public var active: Bool = false
    public var devices: [String] = []
    public var pools: [String] = []
    public var payload: [String: JSONValue] = [:]
    /// IANA time zone name; empty means the engine's local zone.
    public var timezone: String = ""
    public var misfirePolicy: MisfirePolicy = .skip
    public var misfireGraceSeconds: Int = 60
    public var maxInstances: Int = 1
    public var nextFire: Date?
    public var lastFire: Date?
    public var lastRunId: Int64?
    public var lastRunStatus: String?

    public init(id: Int64? = nil, name: String, serviceId: Int64?, scheduleKind: ScheduleKind) {
        self.id = id; self.name = name; self.serviceId = serviceId; self.scheduleKind = scheduleKind
    }
}

extension ScheduledTask: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "task"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase
    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}
