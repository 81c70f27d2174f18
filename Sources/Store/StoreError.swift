import Foundation

/// Errors the store raises for bad input or a database it must not touch.
/// Every message names the file, record, line or field an engineer has to look at.
public struct StoreError: Error, CustomStringConvertible, LocalizedError, Equatable {
    public enum Kind: String, Sendable { case settings, importFile, database, notFound, invalid, encryption, conflict
        /// A launch with nothing to run on: the service needs devices and its targets give none.
        case noTargets
        /// The database stayed locked by another writer past the backend's wait (SQLite BUSY/LOCKED,
        /// PostgreSQL lock timeout or serialization failure): trying again later may work.
        case busy
        /// The connection to the database went away (a PostgreSQL server restart, an SQLite file
        /// removed or unreadable under the process): reopening may work, retrying at once will not.
        case connectionLost
    }
    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
    public var errorDescription: String? { message }

    public static func invalid(_ message: String) -> StoreError { StoreError(.invalid, message) }
    public static func notFound(_ message: String) -> StoreError { StoreError(.notFound, message) }
    public static func conflict(_ message: String) -> StoreError { StoreError(.conflict, message) }

    /// Any error as one line an engineer can read (a backend's own errors included).
    public static func describe(_ error: Error) -> String { AppDatabase.describe(error) }

    /// Whether waiting and trying the same operation again may succeed.
    public var isTransient: Bool { kind == .busy || kind == .connectionLost }
}
