import Foundation

/// When and where a run's notification goes: the `notify` parameter of a service (every kind), or
/// of a run (`switchboard run --param`, a task's payload), which then wins over the service's.
///
/// `{"when": "failure" | "success" | "always" | "change", "channels": ["mail:ops@example.com", "slack", "mattermost", "webhook"]}`
public struct NotifySpec: Sendable, Equatable {
    public enum When: String, Sendable, CaseIterable {
        /// The run did not complete (failed, aborted, interrupted).
        case failure
        /// The run completed.
        case success
        case always
        /// A backup stored a changed configuration (the notification carries the diff).
        case change
    }

    public enum Channel: Sendable, Equatable, CustomStringConvertible {
        /// Recipients; empty: `mail.recipients`.
        case mail([String])
        case slack
        case mattermost
        case webhook

        public var description: String {
            switch self {
            case .mail(let to): return to.isEmpty ? "mail" : "mail:" + to.joined(separator: ",")
            case .slack: return "slack"
            case .mattermost: return "mattermost"
            case .webhook: return "webhook"
            }
        }

        public static func parse(_ text: String) throws -> Channel {
            let t = text.trimmingCharacters(in: .whitespaces)
            switch t.lowercased() {
            case "mail": return .mail([])
            case "slack": return .slack
            case "mattermost": return .mattermost
            case "webhook": return .webhook
            default:
                if t.lowercased().hasPrefix("mail:") {
                    let to = t.dropFirst(5).split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                    for address in to where !address.contains("@") || address.contains(where: { $0.isWhitespace || $0 == "<" || $0 == ">" }) {
                        throw StoreError.invalid("notify channel '\(t)': '\(address)' is not a mail address")
                    }
                    if to.isEmpty { throw StoreError.invalid("notify channel '\(t)': no address after mail:") }
                    return .mail(to)
                }
                throw StoreError.invalid("notify channel '\(t)' is not mail, mail:ADDRESS, slack, mattermost or webhook")
            }
        }
    }

    public var when: When
    public var channels: [Channel]

    public init(when: When, channels: [Channel]) { self.when = when; self.channels = channels }

    /// Parses a `notify` value: an object `{when, channels}`; `channels` may be a list or a
    /// comma-separated string. Throws `StoreError.invalid` naming the problem.
    public static func parse(_ value: JSONValue) throws -> NotifySpec {
        var object: [String: JSONValue]
        if let o = value.objectValue {
            object = o
        } else if let text = value.stringValue, let data = text.data(using: .utf8),
                  let decoded = try? JSONDecoder().decode(JSONValue.self, from: data), let o = decoded.objectValue {
            // `--param notify='{"when": …}'` arrives as text.
            object = o
        } else {
            throw StoreError.invalid("notify must be an object {when, channels}")
        }
        for key in object.keys.sorted() where !["when", "channels"].contains(key) {
            throw StoreError.invalid("notify: '\(key)' is not when or channels")
        }
        let whenText = object["when"]?.stringValue ?? "failure"
        guard let when = When(rawValue: whenText) else {
            throw StoreError.invalid("notify.when '\(whenText)' is not \(When.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        var names: [String] = []
        switch object["channels"] {
        case .array(let items)?:
            for (i, item) in items.enumerated() {
                guard let s = item.stringValue else { throw StoreError.invalid("notify.channels[\(i)] must be a string") }
                names.append(s)
            }
        case .string(let s)?:
            names = s.split(separator: ";").map(String.init)
        case nil, .null?:
            break
        default:
            throw StoreError.invalid("notify.channels must be a list of strings")
        }
        if names.isEmpty { throw StoreError.invalid("notify.channels is empty") }
        return NotifySpec(when: when, channels: try names.map(Channel.parse))
    }

    /// Whether a run that ended with `status` (and stored `changes` changed configurations) notifies.
    public func fires(status: Run.Status, changes: Int) -> Bool {
        switch when {
        case .always: return true
        case .success: return status == .completed
        case .failure: return status != .completed
        case .change: return changes > 0
        }
    }
}
