import Foundation

/// A regular expression with search semantics (as Python's `re.search`, which eNMS uses), plus fast
/// paths for the shapes pool criteria mostly take: `.*`, literals, `^prefix`, `suffix$`.
/// At 80,000 devices × thousands of pools, ICU for `.*` would cost minutes; these cost nanoseconds.
public struct Pattern: @unchecked Sendable {
    enum Shape {
        case everything
        case contains(String)
        case prefix(String)
        case suffix(String)
        case exact(String)
        case general(NSRegularExpression)
    }
    let shape: Shape
    public let source: String

    /// Compiles `source`; a syntax error is reported with the pattern.
    public init(_ source: String) throws {
        self.source = source
        if let shape = Pattern.fastShape(source) {
            self.shape = shape
        } else {
            do {
                shape = .general(try NSRegularExpression(pattern: source, options: []))
            } catch {
                throw StoreError.invalid("invalid regular expression '\(source)'")
            }
        }
    }

    public func matches(_ text: String) -> Bool {
        switch shape {
        case .everything: return true
        case .contains(let s): return s.isEmpty || text.contains(s)
        case .prefix(let s): return text.hasPrefix(s)
        case .suffix(let s): return text.hasSuffix(s)
        case .exact(let s): return text == s
        case .general(let re):
            let ns = text as NSString
            return re.firstMatch(in: text, options: [], range: NSRange(location: 0, length: ns.length)) != nil
        }
    }

    static let metacharacters: Set<Character> = [".", "^", "$", "*", "+", "?", "(", ")", "[", "]", "{", "}", "|", "\\"]

    static func fastShape(_ p: String) -> Shape? {
        if p == ".*" || p == "^.*" || p == ".*$" || p == "^.*$" || p == "" { return .everything }
        var body = Substring(p)
        var anchoredStart = false, anchoredEnd = false
        if body.hasPrefix("^") { anchoredStart = true; body = body.dropFirst() }
        if body.hasSuffix("$") && !body.hasSuffix("\\$") { anchoredEnd = true; body = body.dropLast() }
        // A trailing `.*` adds nothing under search semantics; a leading one neither.
        while body.hasSuffix(".*") && !anchoredEnd { body = body.dropLast(2) }
        while body.hasPrefix(".*") && !anchoredStart { body = body.dropFirst(2) }
        if body.contains(where: { metacharacters.contains($0) }) { return nil }
        let literal = String(body)
        switch (anchoredStart, anchoredEnd) {
        case (false, false): return literal.isEmpty ? .everything : .contains(literal)
        case (true, false): return .prefix(literal)
        case (false, true): return .suffix(literal)
        case (true, true): return .exact(literal)
        }
    }
}

/// Compiled patterns, shared across threads; pool evaluation and SQL `REGEXP` compile each pattern once.
public final class PatternCache: @unchecked Sendable {
    public static let shared = PatternCache()
    private let lock = NSLock()
    private var cache: [String: Pattern] = [:]

    public func regex(_ source: String) throws -> Pattern {
        lock.lock()
        if let p = cache[source] { lock.unlock(); return p }
        lock.unlock()
        let p = try Pattern(source)
        lock.lock()
        if cache.count > 10_000 { cache.removeAll() }
        cache[source] = p
        lock.unlock()
        return p
    }
}
