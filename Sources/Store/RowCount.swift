import Foundation

/// A count condition on parsed rows: `3`, `"3"`, `">= 3"`, `"< 10"`, `"== 0"`, `"!= 0"`.
public struct RowCount: Sendable, Equatable, CustomStringConvertible {
    public enum Comparison: String, Sendable, CaseIterable { case atLeast = ">=", atMost = "<=", notEqual = "!=", equal = "==", more = ">", fewer = "<" }
    public var comparison: Comparison
    public var value: Int

    public init?(_ json: JSONValue) {
        if let n = json.intValue, n >= 0 { self.init(comparison: .equal, value: n); return }
        guard let text = json.stringValue?.trimmingCharacters(in: .whitespaces) else { return nil }
        self.init(text)
    }

    public init(comparison: Comparison, value: Int) { self.comparison = comparison; self.value = value }

    public init?(_ text: String) {
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        var comparison = Comparison.equal
        // Two-character operators first, so ">=" is not read as ">".
        for c in Comparison.allCases where rest.hasPrefix(c.rawValue) {
            comparison = c
            rest = rest.dropFirst(c.rawValue.count)
            break
        }
        if rest.hasPrefix("=") && comparison == .equal { rest = rest.dropFirst() }
        guard let n = Int(rest.trimmingCharacters(in: .whitespaces)), n >= 0 else { return nil }
        self.init(comparison: comparison, value: n)
    }

    public func holds(for count: Int) -> Bool {
        switch comparison {
        case .atLeast: return count >= value
        case .atMost: return count <= value
        case .notEqual: return count != value
        case .equal: return count == value
        case .more: return count > value
        case .fewer: return count < value
        }
    }

    public var description: String { "\(comparison.rawValue) \(value)" }
}
