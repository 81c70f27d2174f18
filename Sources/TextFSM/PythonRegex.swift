import Foundation

/// A Python `re` pattern translated to ICU syntax (what NSRegularExpression and uregex read).
///
/// Python and ICU agree on most syntax; the translation covers where they differ:
/// `(?P<name>…)` and `(?P=name)` (named groups become numbered groups, the names kept in `groupNames`,
/// since ICU names allow neither `_` nor Python's identifiers), `\Z` (ICU's `\z`), `\v` (a character in
/// Python, a class in ICU), Python-only escapes (`\x41`, octal, `\U0001F600`), braces that are not a
/// repetition (literal in Python, an error in ICU), `{,n}`, character classes (`[` and `&&` are set
/// syntax in ICU, literals in Python), the verbose flag (handled here) and the ASCII flag (`\d` `\w`
/// `\s` `\b` become ASCII classes). What Python rejects is rejected with Python's message where it is
/// cheap to tell (bad escapes, unbalanced parentheses, nothing to repeat, multiple repeat, unknown
/// or duplicate group names, global flags not at the start).
public struct PythonRegex: Sendable {
    public let pattern: String
    public let icuPattern: String
    /// Python's group names, in group order, with their (1-based) group numbers.
    public let groupNames: [(name: String, index: Int)]
    public let groupCount: Int

    public init(_ pattern: String) throws(PythonRegexError) {
        self.pattern = pattern
        var t = Translator(Array(pattern.unicodeScalars))
        try t.run()
        icuPattern = t.out
        groupNames = t.names
        groupCount = t.groups
    }
}

public struct PythonRegexError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public var description: String { message }
}

private struct Translator {
    let s: [Unicode.Scalar]
    var i = 0
    var out = ""
    var names: [(name: String, index: Int)] = []
    var groups = 0
    var openGroups: Set<Int> = []
    // Flags: verbose and ASCII are handled here; i, m, s go to ICU.
    var verbose = false
    var ascii = false
    var lastWasBackref = false
    var lastGroupWasLookaround = false

    init(_ s: [Unicode.Scalar]) { self.s = s }

    func err(_ m: String) -> PythonRegexError { PythonRegexError(message: m) }

    var atEnd: Bool { i >= s.count }
    func peek(_ k: Int = 0) -> Unicode.Scalar? { i + k < s.count ? s[i + k] : nil }

    mutating func run() throws(PythonRegexError) {
        // Global flags are only allowed at the very start (Python 3.11).
        var global = ""
        while peek() == "(" && peek(1) == "?" {
            var j = i + 2
            var flags = ""
            while j < s.count, "aiLmsux".unicodeScalars.contains(s[j]) { flags.unicodeScalars.append(s[j]); j += 1 }
            guard j < s.count, s[j] == ")", !flags.isEmpty else { break }
            try applyGlobal(flags, &global)
            i = j + 1
        }
        if !global.isEmpty { out += "(?\(global))" }
        try parseAlternation(depth: 0)
        if !atEnd { throw err("unbalanced parenthesis at position \(i)") }
    }

    mutating func applyGlobal(_ flags: String, _ global: inout String) throws(PythonRegexError) {
        for f in flags {
            switch f {
            case "x": verbose = true
            case "a": ascii = true
            case "u": break
            case "L": throw err("bad inline flags: cannot use 'L' flag with a str pattern")
            default: if !global.contains(f) { global.append(f) }
            }
        }
        if flags.contains("a") && flags.contains("u") { throw err("bad inline flags: flags 'a', 'u' and 'L' are incompatible") }
    }

    mutating func skipVerbose() {
        guard verbose else { return }
        while let c = peek() {
            if c == " " || c == "\t" || c == "\n" || c == "\r" || c == "\u{0B}" || c == "\u{0C}" { i += 1; continue }
            if c == "#" { while let d = peek(), d != "\n" { _ = d; i += 1 }; continue }
            break
        }
    }

    mutating func parseAlternation(depth: Int) throws(PythonRegexError) {
        try parseSequence(depth: depth)
        while peek() == "|" {
            i += 1
            out += "|"
            lastWasBackref = false
            try parseSequence(depth: depth)
        }
    }

    /// One branch: atoms with their quantifiers, up to `|`, `)` or the end.
    mutating func parseSequence(depth: Int) throws(PythonRegexError) {
        var canRepeat = false   // the previous item is an atom that takes a quantifier
        var lookaroundStart: Int? = nil // where the previous atom, a lookaround, starts in `out`
        var afterRepeat = false // the previous item was a quantifier
        while true {
            skipVerbose()
            guard let c = peek() else { return }
            if c == "|" || c == ")" {
                if c == ")" && depth == 0 { throw err("unbalanced parenthesis at position \(i)") }
                return
            }
            if c == "*" || c == "+" || c == "?" || (c == "{" && quantifierAhead() != nil) {
                if afterRepeat { throw err("multiple repeat at position \(i)") }
                if !canRepeat { throw err("nothing to repeat at position \(i)") }
                var text = String(c), minimum = c == "+" ? 1 : 0
                if c == "{" {
                    let (t, end) = quantifierAhead()!
                    i = end
                    text = t
                    minimum = Int(t.dropFirst().prefix { $0 != "," && $0 != "}" }) ?? 0
                } else {
                    i += 1
                }
                // Lazy or possessive suffix.
                if let d = peek(), d == "?" || d == "+" { text.unicodeScalars.append(d); i += 1 }
                if let start = lookaroundStart {
                    // Python repeats a lookaround (zero-width: once is as good as many); ICU refuses.
                    if minimum == 0 { out = String(out.unicodeScalars.prefix(start)) }
                } else {
                    out += text
                }
                afterRepeat = true; lookaroundStart = nil
                canRepeat = false
                lastWasBackref = false
                continue
            }
            afterRepeat = false
            let before = out.unicodeScalars.count
            lastGroupWasLookaround = false
            canRepeat = try parseAtom(depth: depth)
            lookaroundStart = lastGroupWasLookaround ? before : nil
        }
    }

    /// `{m}`, `{m,}`, `{,n}`, `{m,n}`, `{,}` as Python reads them; nil when the brace is a literal.
    func quantifierAhead() -> (String, Int)? {
        var j = i + 1
        var lo = "", hi = ""
        while j < s.count, s[j].properties.numericType == .decimal, s[j].isASCII { lo.unicodeScalars.append(s[j]); j += 1 }
        var comma = false
        if j < s.count, s[j] == "," {
            comma = true; j += 1
            while j < s.count, s[j].isASCII, s[j].properties.numericType == .decimal { hi.unicodeScalars.append(s[j]); j += 1 }
        }
        guard j < s.count, s[j] == "}" else { return nil }
        if !comma && lo.isEmpty { return nil } // `{}` is a literal
        let min = lo.isEmpty ? "0" : String(Int(lo) ?? 0)
        if !comma { return ("{\(min)}", j + 1) }
        if hi.isEmpty { return ("{\(min),}", j + 1) }
        return ("{\(min),\(Int(hi) ?? 0)}", j + 1)
    }

    mutating func emitLiteral(_ c: Unicode.Scalar) {
        let v = c.value
        if (v >= 0x61 && v <= 0x7A) || (v >= 0x41 && v <= 0x5A) || (v >= 0x30 && v <= 0x39 && !lastWasBackref) {
            out.unicodeScalars.append(c)
        } else if v >= 0x21 && v < 0x7F && !(v >= 0x30 && v <= 0x39) {
            out += "\\"; out.unicodeScalars.append(c)
        } else if v == 0x20 {
            out += " "
        } else {
            out += "\\x{" + String(v, radix: 16) + "}"
        }
        lastWasBackref = false
    }

    /// Returns whether the atom can be repeated.
    mutating func parseAtom(depth: Int) throws(PythonRegexError) -> Bool {
        let c = s[i]
        switch c {
        case "(":
            try parseGroup(depth: depth)
            return true
        case "[":
            try parseClass()
            lastWasBackref = false
            return true
        case ".":
            i += 1; out += "."; lastWasBackref = false
            return true
        case "^", "$":
            i += 1; out.unicodeScalars.append(c); lastWasBackref = false
            return false
        case "\\":
            return try parseEscape()
        default:
            i += 1
            emitLiteral(c)
            return true
        }
    }

    mutating func parseGroup(depth: Int) throws(PythonRegexError) {
        let start = i
        i += 1
        var capture = true
        var name: String?
        let savedVerbose = verbose
        let savedAscii = ascii
        var isLookaround = false
        if peek() == "?" {
            i += 1
            guard let d = peek() else { throw err("unexpected end of pattern") }
            switch d {
            case "P":
                i += 1
                if peek() == "<" {
                    i += 1
                    var n = ""
                    while let e = peek(), e != ">" { n.unicodeScalars.append(e); i += 1 }
                    if atEnd { throw err("missing >, unterminated name at position \(start + 4)") }
                    i += 1
                    if n.isEmpty { throw err("missing group name at position \(start + 4)") }
                    if !isIdentifier(n) { throw err("bad character in group name '\(n)' at position \(start + 4)") }
                    if names.contains(where: { $0.name == n }) { throw err("redefinition of group name '\(n)' as group \(groups + 1); was group \(names.first { $0.name == n }!.index) at position \(start + 4)") }
                    name = n
                } else if peek() == "=" {
                    i += 1
                    var n = ""
                    while let e = peek(), e != ")" { n.unicodeScalars.append(e); i += 1 }
                    if atEnd { throw err("missing ), unterminated name at position \(start + 4)") }
                    i += 1
                    guard let g = names.first(where: { $0.name == n }) else { throw err("unknown group name '\(n)' at position \(start + 4)") }
                    if openGroups.contains(g.index) { throw err("cannot refer to an open group at position \(start)") }
                    out += "\\\(g.index)"
                    lastWasBackref = true
                    return
                } else {
                    throw err("unknown extension ?P\(peek().map { String($0) } ?? "") at position \(start + 1)")
                }
            case ":":
                i += 1; capture = false; out += "(?:"
            case "=", "!":
                i += 1; capture = false; out += "(?"; out.unicodeScalars.append(d); isLookaround = true
            case ">":
                i += 1; capture = false; out += "(?>"
            case "<":
                i += 1
                guard let e = peek(), e == "=" || e == "!" else { throw err("unknown extension ?<\(peek().map { String($0) } ?? "") at position \(start + 1)") }
                i += 1; capture = false; out += "(?<"; out.unicodeScalars.append(e); isLookaround = true
            case "#":
                while let e = peek(), e != ")" { _ = e; i += 1 }
                if atEnd { throw err("missing ), unterminated comment at position \(start)") }
                i += 1
                return
            case "(":
                throw err("conditional groups (?(…)…) are not supported")
            default:
                // Scoped flags (?imsx-imsx:…); global flags here are an error in Python 3.11.
                var on = "", off = ""
                var minus = false
                while let e = peek(), "aiLmsux".unicodeScalars.contains(e) || e == "-" {
                    if e == "-" { if minus { throw err("bad inline flags") }; minus = true } else if minus { off.unicodeScalars.append(e) } else { on.unicodeScalars.append(e) }
                    i += 1
                }
                if peek() == ")" {
                    throw err("global flags not at the start of the expression at position \(start)")
                }
                guard peek() == ":" else { throw err("unknown extension ?\(peek().map { String($0) } ?? "") at position \(start + 1)") }
                if on.isEmpty && off.isEmpty && !minus { throw err("unknown extension ?: at position \(start + 1)") }
                i += 1
                if on.contains("x") { verbose = true }
                if off.contains("x") { verbose = false }
                if on.contains("a") { ascii = true }
                let icuOn = on.filter { "ims".contains($0) }, icuOff = off.filter { "ims".contains($0) }
                capture = false
                out += "(?" + icuOn + (icuOff.isEmpty ? "" : "-" + icuOff) + ":"
            }
        }
        var index = 0
        if capture {
            groups += 1
            index = groups
            openGroups.insert(index)
            if let name { names.append((name, index)) }
            out += "("
        }
        lastWasBackref = false
        try parseAlternation(depth: depth + 1)
        guard peek() == ")" else { throw err("missing ), unterminated subpattern at position \(start)") }
        i += 1
        out += ")"
        lastWasBackref = false
        if capture { openGroups.remove(index) }
        verbose = savedVerbose
        ascii = savedAscii
        lastGroupWasLookaround = isLookaround
    }

    func isIdentifier(_ n: String) -> Bool {
        guard let f = n.unicodeScalars.first, f == "_" || f.properties.isXIDStart else { return false }
        return n.unicodeScalars.allSatisfy { $0 == "_" || $0.properties.isXIDContinue }
    }

    static let hex: Set<Unicode.Scalar> = Set("0123456789abcdefABCDEF".unicodeScalars)
    static let oct: Set<Unicode.Scalar> = Set("01234567".unicodeScalars)
    static let dig: Set<Unicode.Scalar> = Set("0123456789".unicodeScalars)

    /// `\x`, `\u`, `\U`, `\N{…}`, simple escapes: the code point; nil when it is not a character escape.
    mutating func characterEscape(_ c: Unicode.Scalar, inClass: Bool) throws(PythonRegexError) -> UInt32? {
        func hexDigits(_ n: Int, _ label: String) throws(PythonRegexError) -> UInt32 {
            var t = ""
            while t.count < n, let d = peek(), Translator.hex.contains(d) { t.unicodeScalars.append(d); i += 1 }
            if t.count != n { throw err("incomplete escape \\\(label)\(t) at position \(i - t.count - 2)") }
            return UInt32(t, radix: 16)!
        }
        switch c {
        case "a": return 7
        case "f": return 12
        case "n": return 10
        case "r": return 13
        case "t": return 9
        case "v": return 11
        case "b" where inClass: return 8
        case "x": return try hexDigits(2, "x")
        case "u": return try hexDigits(4, "u")
        case "U":
            let v = try hexDigits(8, "U")
            if v > 0x10FFFF { throw err("bad escape \\U") }
            return v
        default: return nil
        }
    }

    /// `\N{NAME}`: ICU reads the same syntax; the name is checked when ICU compiles the pattern.
    mutating func namedCharacter() throws(PythonRegexError) -> String {
        guard peek() == "{" else { throw err("missing {") }
        i += 1
        var n = ""
        while let d = peek(), d != "}" { n.unicodeScalars.append(d); i += 1 }
        if atEnd { throw err("missing }, unterminated name") }
        i += 1
        return "\\N{" + n + "}"
    }

    static let asciiClasses: [Unicode.Scalar: String] = [
        "d": "[0-9]", "D": "[^0-9]", "w": "[a-zA-Z0-9_]", "W": "[^a-zA-Z0-9_]",
        "s": "[\\t\\n\\x{0b}\\f\\r ]", "S": "[^\\t\\n\\x{0b}\\f\\r ]",
    ]
    static let asciiClassBodies: [Unicode.Scalar: String] = [
        "d": "0-9", "w": "a-zA-Z0-9_", "s": "\\t\\n\\x{0b}\\f\\r ",
    ]

    mutating func parseEscape() throws(PythonRegexError) -> Bool {
        let start = i
        i += 1
        guard let c = peek() else { throw err("bad escape (end of pattern) at position \(start)") }
        i += 1
        switch c {
        case "A": out += "\\A"; lastWasBackref = false; return false
        case "Z": out += "\\z"; lastWasBackref = false; return false
        case "b", "B":
            if ascii {
                let w = "[a-zA-Z0-9_]"
                out += c == "b" ? "(?:(?<=\(w))(?!\(w))|(?<!\(w))(?=\(w)))" : "(?:(?<=\(w))(?=\(w))|(?<!\(w))(?!\(w)))"
            } else {
                out += "\\"; out.unicodeScalars.append(c)
            }
            lastWasBackref = false
            return false
        case "d", "D", "s", "S", "w", "W":
            if ascii { out += Translator.asciiClasses[c]! } else { out += "\\"; out.unicodeScalars.append(c) }
            lastWasBackref = false
            return true
        case "0":
            var t = "0"
            while t.count < 3, let d = peek(), Translator.oct.contains(d) { t.unicodeScalars.append(d); i += 1 }
            emitLiteral(Unicode.Scalar(UInt32(t, radix: 8)!)!)
            return true
        case "1"..."9":
            var t = String(c)
            if let d = peek(), Translator.dig.contains(d) {
                t.unicodeScalars.append(d); i += 1
                if Translator.oct.contains(c), Translator.oct.contains(d), let e = peek(), Translator.oct.contains(e) {
                    t.unicodeScalars.append(e); i += 1
                    let v = UInt32(t, radix: 8)!
                    if v > 0o377 { throw err("octal escape value \\\(t) outside of range 0-0o377 at position \(start)") }
                    emitLiteral(Unicode.Scalar(v)!)
                    return true
                }
            }
            let g = Int(t)!
            if g > groups { throw err("invalid group reference \(g) at position \(start + 1)") }
            if openGroups.contains(g) { throw err("cannot refer to an open group at position \(start)") }
            out += "\\\(g)"
            lastWasBackref = true
            return true
        case "N":
            out += try namedCharacter()
            lastWasBackref = false
            return true
        default:
            if let v = try characterEscape(c, inClass: false) {
                emitLiteral(Unicode.Scalar(v) ?? "?")
                return true
            }
            if c.isASCII && (c.properties.isAlphabetic || Translator.dig.contains(c)) {
                throw err("bad escape \\\(c) at position \(start)")
            }
            emitLiteral(c)
            return true
        }
    }

    /// A class item: a code point, or a class escape (`\d` …) as ICU text.
    enum ClassItem { case char(UInt32); case set(String) }

    mutating func classItem() throws(PythonRegexError) -> ClassItem {
        let start = i
        let c = s[i]
        i += 1
        guard c == "\\" else { return .char(c.value) }
        guard let e = peek() else { throw err("unterminated character set at position \(start)") }
        i += 1
        switch e {
        case "d", "D", "s", "S", "w", "W":
            if ascii {
                let lower = Unicode.Scalar(String(e).lowercased())!
                let body = Translator.asciiClassBodies[lower]!
                return .set(e == lower ? body : "[^" + body + "]")
            }
            return .set("\\" + String(e))
        case "0"..."7":
            var t = String(e)
            while t.count < 3, let d = peek(), Translator.oct.contains(d) { t.unicodeScalars.append(d); i += 1 }
            let v = UInt32(t, radix: 8)!
            if v > 0o377 { throw err("octal escape value \\\(t) outside of range 0-0o377 at position \(start)") }
            return .char(v)
        case "8", "9": throw err("bad escape \\\(e) at position \(start)")
        case "N": return .set(try namedCharacter())
        default:
            if let v = try characterEscape(e, inClass: true) { return .char(v) }
            if e.isASCII && e.properties.isAlphabetic { throw err("bad escape \\\(e) at position \(start)") }
            return .char(e.value)
        }
    }

    func classChar(_ v: UInt32) -> String {
        if (v >= 0x61 && v <= 0x7A) || (v >= 0x41 && v <= 0x5A) || (v >= 0x30 && v <= 0x39) { return String(Unicode.Scalar(v)!) }
        return "\\x{" + String(v, radix: 16) + "}"
    }

    mutating func parseClass() throws(PythonRegexError) {
        let start = i
        i += 1
        var text = "["
        if peek() == "^" { text += "^"; i += 1 }
        var first = true
        var items = 0
        while true {
            guard let c = peek() else { throw err("unterminated character set at position \(start)") }
            if c == "]" && !first { i += 1; break }
            first = false
            let a = try classItem()
            // A range?
            if peek() == "-", let n = peek(1), n != "]" {
                i += 1
                let b = try classItem()
                guard case .char(let lo) = a, case .char(let hi) = b else {
                    throw err("bad character range at position \(start)")
                }
                if hi < lo { throw err("bad character range \(Unicode.Scalar(lo).map { String($0) } ?? "")-\(Unicode.Scalar(hi).map { String($0) } ?? "") at position \(start)") }
                text += classChar(lo) + "-" + classChar(hi)
            } else {
                switch a {
                case .char(let v): text += classChar(v)
                case .set(let t): text += t
                }
            }
            items += 1
        }
        text += "]"
        out += text
    }
}
