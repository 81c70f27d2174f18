import Foundation
import GRDB

/// The engine's credential rule with its reasoning: which credential a device logs in with when a
/// service names none, and why. `Inventory.credential(_:for:role:)`, which the engine calls
/// (`DeviceTargets`, the services' enable secret), is this choice's `credential`, so what the console
/// explains is what a run does.
public struct CredentialChoice: Sendable {
    /// A credential considered: whether its scope holds the device, and why (not).
    public struct Candidate: Sendable, Equatable {
        public var name: String
        public var priority: Int
        public var role: Credential.Role
        public var applies: Bool
        public var why: String
    }

    /// The credential chosen; nil when none applies. Holds sealed secrets: callers showing it
    /// show its metadata only.
    public var credential: Credential?
    /// Why it was chosen, or why none was.
    public var reason: String
    /// Every credential in the order the rule reads them (priority, then name).
    public var candidates: [Candidate]
}

extension Inventory {
    /// The credential for a device and why: the highest-priority one whose scope contains it (an
    /// empty scope contains every device); ties go to the name first in alphabetical order, so the
    /// choice is stable. With `role`, only credentials of that role are considered.
    public static func credentialChoice(_ db: Database, for device: Device, role: Credential.Role? = nil) throws -> CredentialChoice {
        try credentialChoice(SQLiteExecutor(db: db), for: device, role: role)
    }

    /// The same through the neutral reads: every backend makes this one choice.
    public static func credentialChoice(_ reader: any StoreReader, for device: Device, role: Credential.Role? = nil) throws -> CredentialChoice {
        guard let id = device.id else { return CredentialChoice(credential: nil, reason: "the device is not stored", candidates: []) }
        let pools = Set(try reader.poolNames(deviceId: id))
        // `credentials` reads them by priority (highest first), then name: the first that applies wins.
        let all = try reader.credentials()
        var candidates: [CredentialChoice.Candidate] = []
        var chosen: Credential?
        for c in all {
            let why: String
            var applies = false
            if let role, c.role != role {
                why = "role \(c.role.rawValue), not \(role.rawValue)"
            } else if c.pools.isEmpty {
                applies = true
                why = "no pools: applies to every device"
            } else if let hit = c.pools.sorted().first(where: { pools.contains($0) }) {
                applies = true
                why = "its pool \(hit) holds the device"
            } else {
                why = "none of its pools (\(c.pools.joined(separator: ", "))) holds the device"
            }
            if applies && chosen == nil { chosen = c }
            candidates.append(.init(name: c.name, priority: c.priority, role: c.role, applies: applies, why: why))
        }
        guard let chosen else {
            let reason = all.isEmpty ? "no credential is defined"
                : "none of the \(all.count) credential\(all.count == 1 ? "" : "s") applies to \(device.name)"
            return CredentialChoice(credential: nil, reason: reason, candidates: candidates)
        }
        let applying = candidates.filter(\.applies)
        let scope = candidates.first { $0.name == chosen.name }?.why ?? ""
        var reason = "priority \(chosen.priority), the highest of the \(applying.count) credential\(applying.count == 1 ? "" : "s") that apply; \(scope)"
        if applying.count == 1 { reason = "the only credential that applies (priority \(chosen.priority)); \(scope)" }
        let tied = applying.filter { $0.priority == chosen.priority && $0.name != chosen.name }.map(\.name)
        if !tied.isEmpty { reason += "; tied with \(tied.joined(separator: ", ")) at priority \(chosen.priority), first by name" }
        return CredentialChoice(credential: chosen, reason: reason, candidates: candidates)
    }
}
