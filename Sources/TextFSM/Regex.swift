import Foundation
#if canImport(_FoundationICU)
import _FoundationICU
#endif

/// A line of input as UTF-16 code units (what ICU matches), converted once and shared by every rule.
public struct Line {
    public let text: String
    let units: [UInt16]
    public init(_ text: String) { self.text = text; units = Array(text.utf16) }
    func substring(_ r: Range<Int>) -> String { String(decoding: units[r], as: UTF16.self) }
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
    #if canImport(_FoundationICU)
    private let re: OpaquePointer
    #else
    private let ns: NSRegularExpression
    #endif

    init(_ pattern: String) throws(PythonRegexError) {
        python = try PythonRegex(pattern)
        names = python.groupNames
        literalPrefix = CompiledRegex.prefix(of: python.icuPattern)
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

    /// Group ranges (UTF-16 offsets; nil for a group that did not take part), index 0 the whole match.
    func match(_ line: Line) -> [Range<Int>?]? {
        if !literalPrefix.isEmpty {
            guard line.units.count >= literalPrefix.count else { return nil }
            for k in 0..<literalPrefix.count where line.units[k] != literalPrefix[k] { return nil }
        }
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
