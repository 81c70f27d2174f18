// Output modifiers after `|`: `show run | include ntp`, `show configuration | display set`,
// `| no-more`. Automation uses them constantly to keep parsing simple.

struct OutputFilter: Sendable, Equatable {
    enum Kind: Sendable {
        case include, exclude, begin, section, count, noMore, displaySet, last
    }

    var kind: Kind
    var argument: String

    /// Filter keywords per CLI family, in the platform's own vocabulary.
    static func keywords(for style: PlatformStyle) -> [String: Kind] {
        switch style.kind {
        case .juniperJunos:
            return ["match": .include, "except": .exclude, "find": .begin, "count": .count, "no-more": .noMore,
                    "display": .displaySet, "last": .last]
        case .aristaEOS, .ciscoNXOS:
            return ["include": .include, "exclude": .exclude, "begin": .begin, "section": .section, "count": .count,
                    "no-more": .noMore, "grep": .include, "last": .last]
        default:
            return ["include": .include, "exclude": .exclude, "begin": .begin, "section": .section, "count": .count]
        }
    }

    enum ParseError: Error { case invalid(tokenIndex: Int), incomplete, ambiguous(tokenIndex: Int, [String]) }

    /// Splits `tokens` at `|` into the command and its filters.
    static func split(_ tokens: [Token], style: PlatformStyle) -> (command: [Token], filters: [OutputFilter], error: (ParseError, Int)?) {
        guard let bar = tokens.firstIndex(where: { $0.text == "|" }) else { return (tokens, [], nil) }
        let command = Array(tokens[..<bar])
        let table = keywords(for: style)
        var filters: [OutputFilter] = []
        var index = bar + 1
        while index <= tokens.count {
            let end = tokens[index...].firstIndex { $0.text == "|" } ?? tokens.count
            guard index < end else { return (command, filters, (.incomplete, index)) }
            let word = tokens[index].text
            let kind: Kind
            switch Abbreviation.resolve(word, among: Array(table.keys)) {
            case .keyword(let keyword): kind = table[keyword]!
            case .unknown: return (command, filters, (.invalid(tokenIndex: index), index))
            case .ambiguous(let options): return (command, filters, (.ambiguous(tokenIndex: index, options), index))
            }
            let argument = tokens[(index + 1)..<end].map(\.text).joined(separator: " ")
            switch kind {
            case .noMore, .count:
                break
            case .displaySet:
                guard argument == "set" else { return (command, filters, (.invalid(tokenIndex: min(index + 1, end - 1)), index)) }
            case .last:
                guard Int(argument) != nil else { return (command, filters, (.incomplete, index)) }
            default:
                guard !argument.isEmpty else { return (command, filters, (.incomplete, index)) }
            }
            filters.append(OutputFilter(kind: kind, argument: Text.unquote(argument)))
            index = end + 1
        }
        return (command, filters, nil)
    }

    /// Applies the filter to whole output text. `caseInsensitive` for Junos `match`.
    func apply(_ text: String, style: PlatformStyle) -> String {
        let lines = Text.lines(text)
        let pattern = LinePattern(argument, caseInsensitive: style.kind == .juniperJunos)
        switch kind {
        case .include:
            return joined(lines.filter { pattern.matches($0) })
        case .exclude:
            return joined(lines.filter { !pattern.matches($0) })
        case .begin:
            guard let start = lines.firstIndex(where: { pattern.matches($0) }) else { return "" }
            return joined(Array(lines[start...]))
        case .section:
            var kept: [String] = []
            var index = 0
            while index < lines.count {
                let header = lines[index]
                var end = index + 1
                while end < lines.count, lines[end].first == " " { end += 1 }
                let block = lines[index..<end]
                if !header.hasPrefix(" "), block.contains(where: { pattern.matches($0) }) { kept += block }
                index = end
            }
            return joined(kept)
        case .count:
            let matching = argument.isEmpty ? lines.count : lines.filter { pattern.matches($0) }.count
            return style.kind == .juniperJunos ? "Count: \(matching) lines\n" : "Number of lines which match regexp = \(matching)\n"
        case .last:
            return joined(Array(lines.suffix(Int(argument) ?? lines.count)))
        case .noMore, .displaySet:
            return text  // handled by the session (paging) and the Junos shell (format)
        }
    }

    private func joined(_ lines: [String]) -> String {
        lines.isEmpty ? "" : lines.joined(separator: "\n") + "\n"
    }
}

/// The regular-expression subset used in filters on real gear: alternation `a|b`, anchors `^`/`$`,
/// `.`, classes `[0-9a-f]` / `[^x]`, quantifiers `*` `+` `?`, and `\` escapes. (Swift Regex would
/// do, but costs startup time and is slow on 10 MB outputs in debug builds.)
struct LinePattern: Sendable {
    private let alternatives: [[UInt8]]
    private let caseInsensitive: Bool

    init(_ pattern: String, caseInsensitive: Bool) {
        self.caseInsensitive = caseInsensitive
        let source = caseInsensitive ? pattern.lowercased() : pattern
        alternatives = source.split(separator: "|", omittingEmptySubsequences: false).map { Array($0.utf8) }
    }

    func matches(_ line: String) -> Bool {
        let text = Array((caseInsensitive ? line.lowercased() : line).utf8)
        return alternatives.contains { LinePattern.search($0, text) }
    }

    private static func search(_ pattern: [UInt8], _ text: [UInt8]) -> Bool {
        if pattern.first == UInt8(ascii: "^") { return matchHere(pattern, 1, text, 0) }
        for start in 0...text.count where matchHere(pattern, 0, text, start) { return true }
        return false
    }

    /// Pattern bytes taken by the atom at `pi`: a literal, `.`, `\x` or a `[...]` class.
    private static func atomLength(_ p: [UInt8], _ pi: Int) -> Int {
        switch p[pi] {
        case UInt8(ascii: "\\"): return pi + 1 < p.count ? 2 : 1
        case UInt8(ascii: "["):
            var end = pi + 1
            if end < p.count, p[end] == UInt8(ascii: "^") { end += 1 }
            if end < p.count, p[end] == UInt8(ascii: "]") { end += 1 }  // `[]a]`: leading ] is literal
            while end < p.count, p[end] != UInt8(ascii: "]") { end += 1 }
            return end < p.count ? end - pi + 1 : 1  // unterminated: a literal `[`
        default: return 1
        }
    }

    private static func atomMatches(_ p: [UInt8], _ pi: Int, _ length: Int, _ c: UInt8) -> Bool {
        switch p[pi] {
        case UInt8(ascii: "."): return true
        case UInt8(ascii: "\\") where length == 2: return p[pi + 1] == c
        case UInt8(ascii: "[") where length > 1:
            var i = pi + 1
            let negated = p[i] == UInt8(ascii: "^")
            if negated { i += 1 }
            let end = pi + length - 1
            var found = false
            while i < end {
                if i + 2 < end, p[i + 1] == UInt8(ascii: "-") {
                    if p[i] <= c && c <= p[i + 2] { found = true }
                    i += 3
                } else {
                    if p[i] == c { found = true }
                    i += 1
                }
            }
            return found != negated
        default: return p[pi] == c
        }
    }

    /// Backtracking matcher in the style of Pike's: small and fast enough for one-line patterns.
    private static func matchHere(_ p: [UInt8], _ pi: Int, _ t: [UInt8], _ ti: Int) -> Bool {
        if pi == p.count { return true }
        if p[pi] == UInt8(ascii: "$"), pi + 1 == p.count { return ti == t.count }
        let length = atomLength(p, pi)
        let next = pi + length
        if next < p.count, [UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "?")].contains(p[next]) {
            let quantifier = p[next]
            let maximum = quantifier == UInt8(ascii: "?") ? 1 : Int.max
            var count = 0
            var i = ti
            while count < maximum, i < t.count, atomMatches(p, pi, length, t[i]) { i += 1; count += 1 }
            let minimum = quantifier == UInt8(ascii: "+") ? 1 : 0
            while count >= minimum {
                if matchHere(p, next + 1, t, ti + count) { return true }
                count -= 1
            }
            return false
        }
        if ti < t.count, atomMatches(p, pi, length, t[ti]) { return matchHere(p, next, t, ti + 1) }
        return false
    }
}
