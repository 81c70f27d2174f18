import Foundation
import GRDB

/// Keeps pool membership current. Criteria are evaluated per distinct criteria set (the
/// `member_set` table), so 4,000 pools with the same criteria cost one evaluation and one row.
/// Every function here runs inside the caller's write transaction.
public enum PoolMembership {
    /// A compiled criterion, ready to test devices.
    struct Compiled {
        let criterion: PoolCriterion
        let pattern: Pattern?
        let lowered: String

        init(_ c: PoolCriterion) throws {
            criterion = c
            lowered = c.value.lowercased()
            if c.match == .regex {
                do { pattern = try PatternCache.shared.regex(c.value) }
                catch { throw StoreError.invalid("pool criterion \(c.property): invalid regular expression '\(c.value)'") }
            } else {
                pattern = nil
            }
        }

        func matches(_ device: Device) -> Bool {
            let v = device.value(of: criterion.property) ?? ""
            let hit: Bool
            switch criterion.match {
            case .inclusion: hit = v.range(of: criterion.value, options: .caseInsensitive) != nil
            case .equality: hit = v == criterion.value
            case .regex: hit = pattern!.matches(v)
            case .empty: hit = v.isEmpty
            }
            return hit != criterion.invert
        }
    }

    static func compile(_ criteria: [PoolCriterion]) throws -> [Compiled] {
        try criteria.filter(\.isActive).map(Compiled.init)
    }

    /// Decodes the criteria of a canonical key.
    static func criteria(ofKey key: String) -> [PoolCriterion] {
        guard !key.isEmpty else { return [] }
        return (try? JSONDecoder().decode([PoolCriterion].self, from: Data(key.utf8))) ?? []
    }

    /// Checks criteria before they are saved: a bad regex is refused with the pool's name.
    public static func validate(_ pool: Pool) throws {
        for c in pool.criteria where c.match == .regex && c.isActive {
            do { _ = try PatternCache.shared.regex(c.value) }
            catch { throw StoreError.invalid("pool \(pool.name): criterion \(c.property): invalid regular expression '\(c.value)'") }
        }
    }

    // MARK: pure parts, shared by every backend

    /// The member set of a canonical criteria key over `devices` (which carry their ids).
    public static func memberSet(criteriaKey key: String, devices: [Device]) throws -> MemberSet {
        let compiled = try compile(criteria(ofKey: key))
        var ids: [UInt32] = []
        for d in devices where compiled.allSatisfy({ $0.matches(d) }) {
            ids.append(UInt32(truncatingIfNeeded: d.id!))
        }
        ids.sort()
        return MemberSet(sortedIds: ids)
    }

    /// Whether `device` belongs to the set of `criteriaKey`.
    public static func matches(criteriaKey key: String, device: Device) throws -> Bool {
        try compile(criteria(ofKey: key)).allSatisfy { $0.matches(device) }
    }

    /// A pool's member count: its criteria set plus the manual devices outside it (`set` is read only
    /// when needed).
    public static func memberCount(criteriaKey key: String, setCount: Int?, manual: [Int64], set: () throws -> MemberSet) rethrows -> Int {
        var count = key.isEmpty ? 0 : (setCount ?? 0)
        if !manual.isEmpty {
            if key.isEmpty { return manual.count }
            let members = try set()
            count += manual.filter { !members.contains($0) }.count
        }
        return count
    }

    // MARK: full recomputation (after an import)

    /// Recomputes every member set from scratch and every pool's size.
    public static func recomputeAll(_ db: Database) throws {
        let devices = try Device.fetchAll(db)
        let keys = try String.fetchAll(db, sql: "SELECT DISTINCT criteria_key FROM pool WHERE criteria_key != ''")
        // Update sets in place (ids stay stable, so a re-import that changes nothing writes nothing new).
        let existing = try Dictionary(uniqueKeysWithValues: Row.fetchAll(db, sql: "SELECT criteria_key, members FROM member_set").map { ($0["criteria_key"] as String, $0["members"] as Data) })
        for key in keys {
            let set = try memberSet(criteriaKey: key, devices: devices)
            let blob = set.encoded()
            if let old = existing[key] {
                if old != blob {
                    try db.execute(sql: "UPDATE member_set SET members = ?, count = ? WHERE criteria_key = ?", arguments: [blob, set.count, key])
                }
            } else {
                try db.execute(sql: "INSERT INTO member_set(criteria_key, members, count) VALUES (?, ?, ?)",
                               arguments: [key, blob, set.count])
            }
        }
        try dropUnusedSets(db)
        try recountPools(db, poolIds: nil)
    }

    // MARK: incremental updates

    /// Ensures the member set for a pool's criteria exists (computing it if new), drops sets no pool
    /// uses any more, and recounts the pool. Call after inserting or updating a pool.
    public static func poolChanged(_ db: Database, _ pool: Pool) throws {
        try validate(pool)
        let key = pool.criteriaKey
        if !key.isEmpty {
            let exists = try Bool.fetchOne(db, sql: "SELECT 1 FROM member_set WHERE criteria_key = ?", arguments: [key]) ?? false
            if !exists {
                let set = try memberSet(criteriaKey: key, devices: try Device.fetchAll(db))
                try db.execute(sql: "INSERT INTO member_set(criteria_key, members, count) VALUES (?, ?, ?)",
                               arguments: [key, set.encoded(), set.count])
            }
        }
        try dropUnusedSets(db)
        if let id = pool.id { try recountPools(db, poolIds: [id]) }
    }

    /// Re-evaluates one inserted or updated device against every criteria set.
    public static func deviceChanged(_ db: Database, _ device: Device) throws {
        guard let id = device.id else { return }
        var changedKeys: [String] = []
        let rows = try Row.fetchAll(db, sql: "SELECT id, criteria_key, members FROM member_set")
        for row in rows {
            let key: String = row["criteria_key"]
            let compiled = try compile(criteria(ofKey: key))
            let should = compiled.allSatisfy { $0.matches(device) }
            var set = MemberSet(encoded: row["members"])
            let changed = should ? set.insert(id) : set.remove(id)
            if changed {
                try db.execute(sql: "UPDATE member_set SET members = ?, count = ? WHERE id = ?",
                               arguments: [set.encoded(), set.count, row["id"] as Int64])
                changedKeys.append(key)
            }
        }
        try recountPools(db, keys: changedKeys, device: id)
    }

    /// Removes a device from every member set. Call before deleting the device row.
    public static func deviceDeleted(_ db: Database, id: Int64) throws {
        var changedKeys: [String] = []
        for row in try Row.fetchAll(db, sql: "SELECT id, criteria_key, members FROM member_set") {
            var set = MemberSet(encoded: row["members"])
            if set.remove(id) {
                try db.execute(sql: "UPDATE member_set SET members = ?, count = ? WHERE id = ?",
                               arguments: [set.encoded(), set.count, row["id"] as Int64])
                changedKeys.append(row["criteria_key"])
            }
        }
        let manualPools = try Int64.fetchAll(db, sql: "SELECT pool_id FROM pool_manual WHERE device_id = ?", arguments: [id])
        try db.execute(sql: "DELETE FROM pool_manual WHERE device_id = ?", arguments: [id])
        try recountPools(db, keys: changedKeys, device: nil, extraPools: manualPools)
    }

    static func recountPools(_ db: Database, keys: [String], device: Int64?, extraPools: [Int64] = []) throws {
        var ids = Set(extraPools)
        for key in keys {
            ids.formUnion(try Int64.fetchAll(db, sql: "SELECT id FROM pool WHERE criteria_key = ?", arguments: [key]))
        }
        if let device {
            ids.formUnion(try Int64.fetchAll(db, sql: "SELECT pool_id FROM pool_manual WHERE device_id = ?", arguments: [device]))
        }
        if !ids.isEmpty { try recountPools(db, poolIds: Array(ids)) }
    }

    /// Sets `member_count` for the given pools (all when nil): the member set plus manual devices outside it.
    static func recountPools(_ db: Database, poolIds: [Int64]?) throws {
        var sets: [String: MemberSet] = [:]
        let pools: [Row]
        if let poolIds {
            pools = try Row.fetchAll(db, sql: "SELECT id, criteria_key FROM pool WHERE id IN (\(poolIds.map { String($0) }.joined(separator: ",")))")
        } else {
            pools = try Row.fetchAll(db, sql: "SELECT id, criteria_key FROM pool")
        }
        var manual: [Int64: [Int64]] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT pool_id, device_id FROM pool_manual") {
            manual[row["pool_id"], default: []].append(row["device_id"])
        }
        var counts: [String: Int] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT criteria_key, count FROM member_set") {
            counts[row["criteria_key"]] = row["count"]
        }
        let update = try db.makeStatement(sql: "UPDATE pool SET member_count = ? WHERE id = ?")
        for row in pools {
            let id: Int64 = row["id"]
            let key: String = row["criteria_key"]
            let count = try memberCount(criteriaKey: key, setCount: counts[key], manual: manual[id] ?? []) {
                if sets[key] == nil {
                    let blob = try Data.fetchOne(db, sql: "SELECT members FROM member_set WHERE criteria_key = ?", arguments: [key]) ?? Data([0])
                    sets[key] = MemberSet(encoded: blob)
                }
                return sets[key]!
            }
            try update.execute(arguments: [count, id])
        }
    }

    static func dropUnusedSets(_ db: Database) throws {
        try db.execute(sql: "DELETE FROM member_set WHERE criteria_key NOT IN (SELECT DISTINCT criteria_key FROM pool)")
    }

    // MARK: questions

    /// The ids of a pool's devices, sorted.
    public static func memberIds(_ db: Database, poolId: Int64) throws -> [Int64] {
        guard let key = try String.fetchOne(db, sql: "SELECT criteria_key FROM pool WHERE id = ?", arguments: [poolId]) else {
            return []
        }
        var set = MemberSet(sortedIds: [])
        if !key.isEmpty, let blob = try Data.fetchOne(db, sql: "SELECT members FROM member_set WHERE criteria_key = ?", arguments: [key]) {
            set = MemberSet(encoded: blob)
        }
        for id in try Int64.fetchAll(db, sql: "SELECT device_id FROM pool_manual WHERE pool_id = ?", arguments: [poolId]) {
            set.insert(id)
        }
        return set.ids.map { Int64($0) }
    }

    /// The names of the pools a device belongs to.
    public static func poolNames(_ db: Database, deviceId: Int64) throws -> [String] {
        var keys: [String] = []
        for row in try Row.fetchAll(db.cachedStatement(sql: "SELECT criteria_key, members FROM member_set")) {
            if MemberSet(encoded: row["members"]).contains(deviceId) { keys.append(row["criteria_key"]) }
        }
        var names = Set<String>()
        for chunk in stride(from: 0, to: keys.count, by: 500) {
            let part = Array(keys[chunk..<min(chunk + 500, keys.count)])
            let marks = part.map { _ in "?" }.joined(separator: ",")
            names.formUnion(try String.fetchAll(db, sql: "SELECT name FROM pool WHERE criteria_key IN (\(marks))", arguments: StatementArguments(part)))
        }
        names.formUnion(try String.fetchAll(db.cachedStatement(sql: "SELECT pool.name FROM pool JOIN pool_manual ON pool_manual.pool_id = pool.id WHERE pool_manual.device_id = ?"),
                                            arguments: [deviceId]))
        return names.sorted()
    }
}
