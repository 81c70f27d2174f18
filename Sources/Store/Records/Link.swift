import Foundation
import GRDB

/// A link between two devices (eNMS `Link`).
public struct Link: Codable, Equatable, Sendable, Identifiable {
    public var id: Int64?
    public var name: String
    public var sourceId: Int64
    public var destinationId: Int64
    public var description: String = ""
    public var properties: [String: JSONValue] = [:]

    public init(id: Int64? = nil, name: String, sourceId: Int64, destinationId: Int64, description: String = "",
                properties: [String: JSONValue] = [:]) {
        self.id = id; self.name = name; self.sourceId = sourceId; self.destinationId = destinationId
        self.description = description; self.properties = properties
    }
}

extension Link: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "link"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase
    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// A link with its endpoint names, as listed and exported.
public struct LinkView: Codable, Equatable, Sendable, FetchableRecord {
    public var id: Int64
    public var name: String
    public var source: String
    public var destination: String
    public var description: String
    public var properties: [String: JSONValue]
}
