import Crypto
import Foundation
import GRDB

/// Per-device configuration history: the snapshots the backup service stores (only when the
/// content changed) and diffs between any two of them.
public enum ConfigHistory {
    /// The hex SHA-256 of a configuration's text.
    public static func sha256(_ content: String) -> String {
        SHA256.hash(data: Data(content.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// A device's snapshots, newest first.
    public static func snapshots(_ db: Database, deviceId: Int64) throws -> [ConfigSnapshot] {
        try ConfigSnapshot.fetchAll(db, sql: "SELECT * FROM config_snapshot WHERE device_id = ? ORDER BY created_at DESC, id DESC",
                                    arguments: [deviceId])
    }

    /// A device's snapshots by device name, newest first; throws `notFound` for an unknown device.
    public static func snapshots(_ db: Database, device name: String) throws -> [ConfigSnapshot] {
        guard let device = try Inventory.device(db, named: name), let id = device.id else {
            throw StoreError.notFound("no device named '\(name)'")
        }
        return try snapshots(db, deviceId: id)
    }

    public static func snapshot(_ db: Database, id: Int64) throws -> ConfigSnapshot? {
        try ConfigSnapshot.fetchOne(db, sql: "SELECT * FROM config_snapshot WHERE id = ?", arguments: [id])
    }

    /// The device's most recent snapshot.
    public static func latest(_ db: Database, deviceId: Int64) throws -> ConfigSnapshot? {
        try ConfigSnapshot.fetchOne(db, sql: "SELECT * FROM config_snapshot WHERE device_id = ? ORDER BY created_at DESC, id DESC LIMIT 1",
                                    arguments: [deviceId])
    }

    /// Stores `content` as the device's newest snapshot unless it equals the latest one.
    /// Returns the new snapshot, or nil when nothing changed.
    @discardableResult
    /// Records the git commit that holds a snapshot (configurations in git).
    public static func setGitCommit(_ db: Database, snapshot id: Int64, commit: String) throws {
        try db.execute(sql: "UPDATE config_snapshot SET git_commit = ? WHERE id = ?", arguments: [commit, id])
    }

    public static func record(_ db: Database, deviceId: Int64, runId: Int64?, content: String, at time: Date = Date()) throws -> ConfigSnapshot? {
        let digest = sha256(content)
        if let latest = try latest(db, deviceId: deviceId), latest.sha256 == digest { return nil }
        var snapshot = ConfigSnapshot(deviceId: deviceId, runId: runId, sha256: digest, content: content)
        snapshot.createdAt = time
        try snapshot.insert(db)
        return snapshot
    }

    /// A unified diff from `old` to `new`, labelled with the snapshots' ids and times; empty when equal.
    public static func diff(_ old: ConfigSnapshot, _ new: ConfigSnapshot, context: Int = 3) -> String {
        LineDiff.unified(old.content, new.content, oldLabel: label(old), newLabel: label(new), context: context)
    }

    static func label(_ s: ConfigSnapshot) -> String {
        "snapshot \(s.id.map(String.init) ?? "?") (\(ISO8601DateFormatter().string(from: s.createdAt)))"
    }
}
