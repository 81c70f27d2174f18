import Foundation
import GRDB

/// How a pool criterion compares a device property with its value (eNMS's match types).
public enum MatchType: String, Codable, Sendable, CaseIterable {
    case inclusion, equality, regex, empty
}

/// One criterion of a pool: a device property, a value, a match type and an optional inversion.
public struct PoolCriterion: Codable, Hashable, Sendable {
    public var property: String
    public var value: String
    public var match: MatchType
    public var invert: Bool

    public init(property: String, value: String, match: MatchType = .inclusion, invert: Bool = false) {
        self.property = property; self.value = value; self.match = match; self.invert = invert
    }

    /// A criterion with an empty value selects nothing, unless its match type is `empty`.
    public var isActive: Bool { match == .empty || !value.isEmpty }
}

/// A group of devices: those matching every active criterion, plus those added by hand.
/// Pools with identical criteria share one stored member set (see `MemberSet`).
public struct Pool: Codable, Equatable, Sendable, Identifiable {
    public var id: Int64?
    public var name: String
    public var description: String = ""
    public var criteria: [PoolCriterion] = []
    /// Canonical text of the active criteria; empty when the pool has none (manual members only).
    public var criteriaKey: String = ""
    /// Number of devices in the pool (computed members and manual ones), kept current.
    public var memberCount: Int = 0

    public init(id: Int64? = nil, name: String, description: String = "", criteria: [PoolCriterion] = []) {
        self.id = id; self.name = name; self.description = description; self.criteria = criteria
        self.criteriaKey = Pool.canonicalKey(criteria)
    }

    public var activeCriteria: [PoolCriterion] { criteria.filter(\.isActive) }

    /// Canonical, order-independent text for the active criteria: pools with equal keys have equal members.
    public static func canonicalKey(_ criteria: [PoolCriterion]) -> String {
        let active = criteria.filter(\.isActive).sorted {
            ($0.property, $0.match.rawValue, $0.value, $0.invert ? 1 : 0) < ($1.property, $1.match.rawValue, $1.value, $1.invert ? 1 : 0)
        }
        if active.isEmpty { return "" }
        let data = (try? JSONEncoder.sorted.encode(active)) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}

extension Pool: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "pool"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase
    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}
