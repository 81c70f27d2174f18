// Small string helpers. Deliberately stdlib-only: the binary links FoundationEssentials just for
// JSON, and Foundation's string API is not available there.

/// One word of a command line, with the column it started at (for the IOS `^` marker).
struct Token: Equatable, Sendable {
    var text: String
    var column: Int
}

enum Text {
    /// Splits a command line on blanks. A double-quoted run is one token, quotes kept, because
    /// Junos and IOS descriptions carry them through to the configuration verbatim.
    static func tokenize(_ line: String) -> [Token] {
        var tokens: [Token] = []
        var current = ""
        var start = 0
        var inQuotes = false
        for (column, ch) in line.enumerated() {
            if ch == "\"" { inQuotes.toggle() }
            if !inQuotes && (ch == " " || ch == "\t") {
                if !current.isEmpty { tokens.append(Token(text: current, column: start)); current = "" }
                continue
            }
            if current.isEmpty { start = column }
            current.append(ch)
        }
        if !current.isEmpty { tokens.append(Token(text: current, column: start)) }
        return tokens
    }

    static func words(_ line: String) -> [String] { tokenize(line).map(\.text) }

    static func trim(_ s: some StringProtocol) -> String {
        var view = Substring(s)
        while let first = view.first, first == " " || first == "\t" || first == "\r" || first == "\n" { view.removeFirst() }
        while let last = view.last, last == " " || last == "\t" || last == "\r" || last == "\n" { view.removeLast() }
        return String(view)
    }

    static func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
    }

    static func padLeft(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : String(repeating: " ", count: width - s.count) + s
    }

    static func twoDigits(_ n: Int) -> String { zeroPad(n, 2) }

    static func zeroPad(_ n: Int, _ width: Int) -> String {
        let digits = String(n)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }

    /// `ab` -> "0ab" etc.; lowercase hex with a fixed number of digits.
    static func hex(_ value: UInt64, digits: Int) -> String {
        let raw = String(value, radix: 16)
        return raw.count >= digits ? String(raw.suffix(digits)) : String(repeating: "0", count: digits - raw.count) + raw
    }

    /// Lines of `text` without their terminators; a trailing newline does not add an empty line.
    static func lines(_ text: String) -> [String] {
        var result = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if result.last == "" { result.removeLast() }
        return result
    }

    /// Removes one pair of surrounding double quotes, if present.
    static func unquote(_ s: String) -> String {
        if s.count >= 2, s.hasPrefix("\""), s.hasSuffix("\"") { return String(s.dropFirst().dropLast()) }
        return s
    }
}
