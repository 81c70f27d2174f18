/// The one boundary between untrusted text (device output, names from imports, log lines) and the
/// screen. Every write into a `CellBuffer` goes through here, so nothing from data can reach the
/// terminal as a control byte: control characters and escape sequences become visible, inert
/// placeholders in the `controlChar` role (`ESC` → `^[`, `DEL` → `^?`, C1 `0x9b` → `M-^[`,
/// bidirectional overrides → `<U+202E>`).
public enum Sanitizer {
    /// One screen glyph: a grapheme cluster with its width in columns (1 or 2) and its role.
    public struct Glyph: Equatable, Sendable {
        public var text: String
        public var width: UInt8
        public var role: Role
    }

    /// The placeholder shown for a scalar that must not reach the terminal, or nil for a printable one.
    public static func placeholder(for s: Unicode.Scalar) -> String? {
        let v = s.value
        if v < 0x20 { return "^" + String(UnicodeScalar(UInt8(v + 0x40))) }
        if v == 0x7F { return "^?" }
        if v < 0xA0 && v >= 0x80 {
            let low = v - 0x80
            return low < 0x20 ? "M-^" + String(UnicodeScalar(UInt8(low + 0x40))) : "M-^?"
        }
        if v < 0x300 { return nil }
        switch v {
        case 0x2028, 0x2029, 0x061C, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069, 0xFFF9...0xFFFB:
            return "<U+" + hex(v) + ">"
        default:
            break
        }
        // Other invisible format characters (except the joiner emoji need, and tag characters of
        // flag sequences) could hide text; show them.
        if s.properties.generalCategory == .format && v != 0x200D && v != 0xFEFF && !(0xE0020...0xE007F).contains(v) {
            return "<U+" + hex(v) + ">"
        }
        return nil
    }

    private static func hex(_ v: UInt32) -> String {
        let s = String(v, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - s.count)) + s
    }

    /// Whether the text is plain printable ASCII, which needs no work at all.
    @inline(__always)
    static func isPlainASCII(_ text: String) -> Bool {
        text.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F }
    }

    /// Calls `body` with each glyph of `text`, sanitised, until it returns false.
    /// - Parameters:
    ///   - role: the role of ordinary glyphs; placeholders take `controlChar`.
    ///   - charset: `.ascii` (a locale that is not UTF-8) shows every non-ASCII cluster as `?`.
    ///   - column: the column the text starts at, for expanding tabs to the next multiple of 8.
    public static func forEachGlyph(_ text: String, role: Role, charset: Charset, column: Int = 0,
                                    _ body: (Glyph) -> Bool) {
        if isPlainASCII(text) {
            for b in text.utf8 {
                if !body(Glyph(text: String(UnicodeScalar(b)), width: 1, role: role)) { return }
            }
            return
        }
        var col = column
        var pending = String.UnicodeScalarView()
        var stopped = false

        func emit(_ g: Glyph) -> Bool {
            if stopped { return false }
            col += Int(g.width)
            if !body(g) { stopped = true }
            return !stopped
        }

        func flush() -> Bool {
            if pending.isEmpty { return !stopped }
            let run = String(pending)
            pending = String.UnicodeScalarView()
            for ch in run {
                var w = TextWidth.of(cluster: ch)
                var t = String(ch)
                if charset == .ascii && !(ch.isASCII) {
                    t = "?"; w = 1
                } else if w == 0 {
                    // A combining mark with nothing to combine with: show it on a dotted circle.
                    t = charset == .ascii ? "?" : "\u{25CC}" + t
                    w = 1
                }
                if !emit(Glyph(text: t, width: UInt8(w), role: role)) { return false }
            }
            return true
        }

        for s in text.unicodeScalars {
            if s.value == 0x09 {
                if !flush() { return }
                let spaces = 8 - (col % 8)
                for _ in 0..<spaces where !stopped { _ = emit(Glyph(text: " ", width: 1, role: role)) }
                if stopped { return }
            } else if let p = placeholder(for: s) {
                if !flush() { return }
                for ch in p.unicodeScalars {
                    if !emit(Glyph(text: String(ch), width: 1, role: .controlChar)) { return }
                }
            } else {
                pending.append(s)
            }
        }
        _ = flush()
    }

    /// The text with every unsafe character replaced by its placeholder: for files written by the
    /// console (saved logs) and anywhere text leaves the buffer.
    public static func inert(_ text: String) -> String {
        if isPlainASCII(text) { return text }
        var out = ""
        for s in text.unicodeScalars {
            if s.value == 0x09 { out.unicodeScalars.append(s) }
            else if let p = placeholder(for: s) { out += p }
            else { out.unicodeScalars.append(s) }
        }
        return out
    }
}
