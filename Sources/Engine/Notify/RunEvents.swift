import Foundation
import Synchronization

/// What the services of one run report for its end: configurations that changed (with their diff,
/// for `change` notifications) and whether a backup wrote to the git repository (so the run pushes).
public final class RunEvents: Sendable {
    public struct ConfigChange: Sendable, Equatable {
        public var device: String
        public var diff: String
        public var commit: String?
    }

    private let state = Mutex<(changes: [ConfigChange], gitUsed: Bool)>(([], false))

    public init() {}

    public func configChanged(device: String, diff: String, commit: String?) {
        state.withLock { $0.changes.append(ConfigChange(device: device, diff: diff, commit: commit)) }
    }

    public func usedGit() { state.withLock { $0.gitUsed = true } }

    public var changes: [ConfigChange] { state.withLock { $0.changes } }
    public var gitUsed: Bool { state.withLock { $0.gitUsed } }
}
