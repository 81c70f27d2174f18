import Foundation

/// Errors the store raises for bad input or a database it must not touch.
/// Every message names the file, record, line or field an engineer has to look at.
public struct StoreError: Error, CustomStringConvertible, LocalizedError, Equatable {
    public enum Kind: String, Sendable { case settings, importFile, database, notFound, invalid, encryption, conflict
        /// A launch with nothing to run on: the service needs devices and its targets give none.
        case noTargets
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
}
