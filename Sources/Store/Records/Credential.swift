import Foundation
import GRDB

/// Login material for devices (eNMS `Credential`). `secret` and `enableSecret` hold ciphertext
/// (see `SecretBox`); plaintext only exists in memory, at the moment of use.
public struct Credential: Codable, Equatable, Sendable, Identifiable {
    public enum SecretKind: String, Codable, Sendable, CaseIterable {
        case password, key, keyFile = "key_file"
    }
    public enum Role: String, Codable, Sendable, CaseIterable {
        case readOnly = "read-only", readWrite = "read-write"
    }

    public var id: Int64?
    public var name: String
    public var description: String = ""
    public var username: String
    public var secretKind: SecretKind = .password
    /// Encrypted password or inline private key; for `key_file`, the encrypted passphrase (may be empty).
    public var secret: String = ""
    /// Path of the private key file, for `key_file`.
    public var keyFile: String = ""
    public var enableSecret: String = ""
    public var role: Role = .readWrite
    public var priority: Int = 1
    /// Pools whose devices this credential applies to; empty means every device.
    public var pools: [String] = []

    public init(id: Int64? = nil, name: String, description: String = "", username: String,
                secretKind: SecretKind = .password, secret: String = "", keyFile: String = "",
                enableSecret: String = "", role: Role = .readWrite, priority: Int = 1, pools: [String] = []) {
        self.id = id; self.name = name; self.description = description; self.username = username
        self.secretKind = secretKind; self.secret = secret; self.keyFile = keyFile; self.enableSecret = enableSecret
        self.role = role; self.priority = priority; self.pools = pools
    }
}

extension Credential: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "credential"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase
    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}
