import Foundation
import GRDB

/// A unit of automation (eNMS `Service`); a workflow is a service of kind `workflow` whose
/// nodes and edges live in `workflow_node` / `workflow_edge`.
public struct Service: Codable, Equatable, Sendable, Identifiable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case cli, config, backup, ping, tcp, rest, extract, validate, unix, wait, workflow
    }
    public enum RunMethod: String, Codable, Sendable, CaseIterable {
        case perDevice = "per_device", once
    }

    public var id: Int64?
    public var name: String
    public var kind: Kind
    public var description: String = ""
    /// Kind-specific parameters (`commands`, `url`, `seconds`…), validated by the engine on save.
    public var parameters: [String: JSONValue] = [:]
    /// Targets, resolved when the run starts: device names, pool names and a filter expression.
    public var devices: [String] = []
    public var pools: [String] = []
    public var targetFilter: String = ""
    public var runMethod: RunMethod = .perDevice
    public var maxProcesses: Int = 15
    public var retries: Int = 0
    public var retryDelay: Double = 0
    public var timeout: Double = 30
    /// A named credential, or empty to choose by priority.
    public var credential: String = ""
    public var conversion: String = "text"
    /// Validation applied to every result: `{"kind": "contains"|"regex"|"json", "value": ..., "negate": bool}`.
    public var validation: [String: JSONValue] = [:]
    /// Workflow traversal, for kind `workflow`: `device` (devices flow one by one) or `service`.
    public var traversal: String = "device"
    /// Loop guard, for kind `workflow`: the maximum runs of any node per device.
    public var maxNodeRuns: Int = 10
    public var createdAt: Date = Date()
    public var updatedAt: Date = Date()

    public init(id: Int64? = nil, name: String, kind: Kind, description: String = "",
                parameters: [String: JSONValue] = [:], devices: [String] = [], pools: [String] = []) {
        self.id = id; self.name = name; self.kind = kind; self.description = description
        self.parameters = parameters; self.devices = devices; self.pools = pools
    }
}

extension Service: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "service"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase
    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// A service placed in a workflow.
public struct WorkflowNode: Codable, Equatable, Sendable {
    public var id: Int64?
    public var workflowId: Int64
    public var serviceId: Int64
    public var isStart: Bool = false

    public init(id: Int64? = nil, workflowId: Int64, serviceId: Int64, isStart: Bool = false) {
        self.id = id; self.workflowId = workflowId; self.serviceId = serviceId; self.isStart = isStart
    }
}

extension WorkflowNode: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "workflow_node"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase
    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// A success or failure edge between two nodes of a workflow.
public struct WorkflowEdge: Codable, Equatable, Sendable {
    public enum Subtype: String, Codable, Sendable, CaseIterable { case success, failure }
    public var id: Int64?
    public var name: String
    public var workflowId: Int64
    public var sourceId: Int64
    public var destinationId: Int64
    public var subtype: Subtype

    public init(id: Int64? = nil, name: String, workflowId: Int64, sourceId: Int64, destinationId: Int64,
                subtype: Subtype) {
        self.id = id; self.name = name; self.workflowId = workflowId; self.sourceId = sourceId
        self.destinationId = destinationId; self.subtype = subtype
    }
}

extension WorkflowEdge: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "workflow_edge"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase
    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}
