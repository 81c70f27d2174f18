import Foundation
#if canImport(_FoundationICU)
import _FoundationICU
#endif

/// A line of input as UTF-16 code units (what ICU matches), converted once and shared by every rule.
public struct Line {
    public let text: String
    let units: [UInt16]
    /// The UTF-8 bytes when the line is ASCII (UTF-16 offsets are then byte offsets), else empty.
    let ascii: [UInt8]
    public init(_ text: String) {
        self.text = text
        var bytes: [UInt8] = []
        var text = text
        let isASCII = text.withUTF8 { b -> Bool in
            if b.allSatisfy({ $0 < 0x80 }) { bytes = Array(b); return true }
            return false
        }
        if isASCII {
            ascii = bytes
            units = bytes.map { UInt16($0) }
        } else {
            ascii = []
            units = Array(text.utf16)
        }
    }
    func substring(_ r: Range<Int>) -> String {
        if !ascii.isEmpty || units.isEmpty { return String(decoding: ascii[r], as: UTF8.self) }
        return String(decoding: units[r], as: UTF16.self)
    }
}

/// A compiled Python pattern, matched as Python's `re.match` does: anchored at the start of the text,
/// not at its end. Not thread-safe (ICU matchers keep the text they were last given); TextFSMTemplate
/// serialises its uses.
final class CompiledRegex: @unchecked Sendable {
    let python: PythonRegex
    /// Python group name → group number.
    let names: [(name: String, index: Int)]
    /// A literal every match starts with, when the pattern begins with one (checked before ICU runs).
    let literalPrefix: [UInt16]
    /// A literal every match contains (the longest run of literal characters in the pattern's top-level
    /// sequence), searched for before ICU runs: most rules fail on most lines, and this is cheaper.
    let requiredLiteral: [UInt16]
    #if canImport(_FoundationICU)
    private let re: OpaquePointer
    #else
    private let ns: NSRegularExpression
    #endif

    init(_ pattern: String) throws(PythonRegexError) {
        python = try PythonRegex(pattern)
        names = python.groupNames
        literalPrefix = CompiledRegex.prefix(of: python.icuPattern)
        requiredLiteral = CompiledRegex.required(in: python.icuPattern)
        #if canImport(_FoundationICU)
        var status = U_ZERO_ERROR
        var pe = UParseError()
        let units = Array(python.icuPattern.utf16)
        guard let r = swift_uregex_open(units, Int32(units.count), 0, &pe, &status), status.rawValue <= 0 else {
            throw PythonRegexError(message: "unsupported or invalid pattern (ICU error \(status.rawValue) at offset \(pe.offset) of \(python.icuPattern))")
        }
        re = r
        #else
        do { ns = try NSRegularExpression(pattern: python.icuPattern) } catch {
            throw PythonRegexError(message: "unsupported or invalid pattern (\(python.icuPattern))")
        }
        #endif
    }

    #if canImport(_FoundationICU)
    deinit { swift_uregex_close(re) }
    #endif

    /// The leading literal of an ICU pattern this translator wrote, if it is case-sensitive and not
    /// followed by a quantifier; empty otherwise.
    static func prefix(of icu: String) -> [UInt16] {
        var u = Array(icu.unicodeScalars)
        if u.contains("|") { return [] }
        var i = 0
        if u.first == "^" { i = 1 }
        if icu.hasPrefix("\\A") { i = 2 }
        var lit: [Unicode.Scalar] = []
        while i < u.count {
            let c = u[i]
            var next = i + 1
            var ch: Unicode.Scalar
            if c == "\\" {
                guard i + 1 < u.count else { break }
                let e = u[i + 1]
                if e.properties.isAlphabetic || ("0"..."9").contains(e) { break }
                ch = e; next = i + 2
            } else if c.properties.isAlphabetic && c.isASCII || ("0"..."9").contains(c) || c == " " {
                ch = c
            } else { break }
            if next < u.count, "*?+{".unicodeScalars.contains(u[next]) { break }
            lit.append(ch)
            i = next
        }
        u.removeAll()
        return Array(String(String.UnicodeScalarView(lit)).utf16)
    }

    static func required(in icu: String) -> [UInt16] {
        let u = Array(icu.unicodeScalars)
        // Case-insensitive anywhere (`(?i)`, `(?mi)`, `(?i:`…): no literal is required as written.
        for k in u.indices.dropLast() where u[k] == "(" && u[k + 1] == "?" && (k == 0 || u[k - 1] != "\\") {
            var j = k + 2
            while j < u.count, ("a"..."z").contains(u[j]) || u[j] == "-" { if u[j] == "i" { return [] }; j += 1 }
        }
        var best: [Unicode.Scalar] = [], run: [Unicode.Scalar] = []
        func endRun() { if run.count > best.count { best = run }; run = [] }
        func isQuantifier(_ k: Int) -> Bool { k < u.count && "*?+{".unicodeScalars.contains(u[k]) }
        var i = 0
        while i < u.count {
            let c = u[i]
            switch c {
            case "|": return []   // an alternative at the top level: nothing is required
            case "(":
                endRun()
                var depth = 0, j = i, inClass = 0
                while j < u.count {
                    let d = u[j]
                    if d == "\\" { j += 2; continue }
                    if d == "[" { inClass += 1 } else if d == "]" && inClass > 0 { inClass -= 1 }
                    else if inClass == 0 && d == "(" { depth += 1 } else if inClass == 0 && d == ")" { depth -= 1; if depth == 0 { break } }
                    j += 1
                }
                i = j + 1
            case "[":
                endRun()
                var depth = 0, j = i
                while j < u.count {
                    let d = u[j]
                    if d == "\\" { j += 2; continue }
                    if d == "[" { depth += 1 } else if d == "]" { depth -= 1; if depth == 0 { break } }
                    j += 1
                }
                i = j + 1
            case "\\":
                guard i + 1 < u.count else { return [] }
                let e = u[i + 1]
                if e.isASCII && !(e.properties.isAlphabetic || ("0"..."9").contains(e)) {
                    if isQuantifier(i + 2) { endRun() } else { run.append(e) }
                    i += 2
                } else {
                    endRun()
                    i += 2
                    if ("0"..."9").contains(e) { while i < u.count, ("0"..."9").contains(u[i]) { i += 1 } }
                    if e == "x" || e == "N" || e == "p" { while i < u.count, u[i - 1] != "}" { i += 1 } }
                }
            case "*", "+", "?", "{", ".", "^", "$", ")":
                endRun()
                if c == "{" { while i < u.count, u[i] != "}" { i += 1 } }
                i += 1
            default:
                if (c.isASCII && (c.properties.isAlphabetic || ("0"..."9").contains(c))) || c == " " {
                    if isQuantifier(i + 1) { endRun() } else { run.append(c) }
                } else { endRun() }
                i += 1
            }
        }
        endRun()
        return best.count >= 2 ? Array(String(String.UnicodeScalarView(best)).utf16) : []
    }

    @inline(__always) static func contains(_ hay: [UInt16], _ needle: [UInt16]) -> Bool {
        let n = needle.count, h = hay.count
        if n > h { return false }
        let first = needle[0]
        return hay.withUnsafeBufferPointer { hp in
            needle.withUnsafeBufferPointer { np in
                var i = 0
                while i <= h - n {
                    if hp[i] == first {
                        var k = 1
                        while k < n && hp[i + k] == np[k] { k += 1 }
                        if k == n { return true }
                    }
                    i += 1
                }
                return false
            }
        }
    }

    /// Group ranges (UTF-16 offsets; nil for a group that did not take part), index 0 the whole match.
    func match(_ line: Line) -> [Range<Int>?]? {
        if !literalPrefix.isEmpty {
            guard line.units.count >= literalPrefix.count else { return nil }
            for k in 0..<literalPrefix.count where line.units[k] != literalPrefix[k] { return nil }
        }
        if !requiredLiteral.isEmpty && !CompiledRegex.contains(line.units, requiredLiteral) { return nil }
        #if canImport(_FoundationICU)
        var status = U_ZERO_ERROR
        return line.units.withUnsafeBufferPointer { p -> [Range<Int>?]? in
            swift_uregex_setText(re, p.baseAddress ?? UnsafePointer(bitPattern: 1)!, Int32(p.count), &status)
            guard swift_uregex_lookingAt(re, 0, &status) != 0, status.rawValue <= 0 else { return nil }
            var out: [Range<Int>?] = []
            out.reserveCapacity(python.groupCount + 1)
            for g in 0...python.groupCount {
                let s = swift_uregex_start(re, Int32(g), &status), e = swift_uregex_end(re, Int32(g), &status)
                out.append(s < 0 ? nil : Int(s)..<Int(e))
            }
            return out
        }
        #else
        guard let m = ns.firstMatch(in: line.text, options: .anchored, range: NSRange(location: 0, length: line.units.count)) else { return nil }
        return (0...python.groupCount).map { g in
            let r = m.range(at: g)
            return r.location == NSNotFound ? nil : r.location..<(r.location + r.length)
        }
        #endif
    }

    /// Python's `re.match(...).groupdict()`: every named group, in group order (nil: did not take part).
    func groupDict(_ line: Line) -> [(String, String?)]? {
        guard let m = match(line) else { return nil }
        return names.map { ($0.name, m[$0.index].map { line.substring($0) }) }
    }
}
