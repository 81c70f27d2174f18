import Foundation

/// A regular expression from a platform file (ICU syntax, search semantics, `^`/`$` per line).
///
/// `@unchecked Sendable`: `NSRegularExpression` is immutable after creation and documented as
/// safe to use from several threads at once.
public struct CLIPattern: @unchecked Sendable, CustomStringConvertible {
    public let pattern: String
    private let regex: NSRegularExpression

    public init(_ pattern: String) throws {
        self.pattern = pattern
        self.regex = try NSRegularExpression(pattern: pattern, options: [.anchorsMatchLines])
    }

    /// Whether the pattern matches anywhere in `text`.
    public func matches(_ text: String) -> Bool {
        regex.firstMatch(in: text, options: [], range: NSRange(text.startIndex..., in: text)) != nil
    }

    public var description: String { pattern }
}
