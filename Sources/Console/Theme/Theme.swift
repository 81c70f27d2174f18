import Foundation
import Store

/// A colour as a theme file writes it: a name (`red`, `bright_blue`), an index (0–255), `#rrggbb`,
/// or `default` (the terminal's own foreground or background).
public enum ThemeColor: Equatable, Sendable {
    case terminalDefault
    case index(Int)
    case rgb(UInt8, UInt8, UInt8)

    public static let names: [String: Int] = [
        "black": 0, "red": 1, "green": 2, "yellow": 3, "blue": 4, "magenta": 5, "cyan": 6, "white": 7,
        "bright_black": 8, "gray": 8, "grey": 8, "bright_red": 9, "bright_green": 10, "bright_yellow": 11,
        "bright_blue": 12, "bright_magenta": 13, "bright_cyan": 14, "bright_white": 15,
    ]

    /// Parses a colour; nil when the text is none of the accepted forms.
    public static func parse(_ value: JSONValue) -> ThemeColor? {
        switch value {
        case .int(let i): return (0...255).contains(i) ? .index(i) : nil
        case .string(let raw):
            let s = raw.trimmingCharacters(in: .whitespaces).lowercased().replacingOccurrences(of: "-", with: "_")
            if s == "default" { return .terminalDefault }
            if let i = names[s] { return .index(i) }
            if let i = Int(s) { return (0...255).contains(i) ? .index(i) : nil }
            if s.hasPrefix("#"), s.count == 7, let v = UInt32(s.dropFirst(), radix: 16) {
                return .rgb(UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF))
            }
            return nil
        default: return nil
        }
    }

    /// The standard xterm palette of the 16 basic colours.
    static let basic16: [(Int, Int, Int)] = [
        (0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0), (0, 0, 238), (205, 0, 205), (0, 205, 205), (229, 229, 229),
        (127, 127, 127), (255, 0, 0), (0, 255, 0), (255, 255, 0), (92, 92, 255), (255, 0, 255), (0, 255, 255), (255, 255, 255),
    ]
    static let cubeLevels = [0, 95, 135, 175, 215, 255]

    /// The RGB value of a palette index, as xterm defines the 256-colour palette.
    static func rgb(ofIndex i: Int) -> (Int, Int, Int) {
        if i < 16 { return basic16[i] }
        if i < 232 {
            let n = i - 16
            return (cubeLevels[n / 36], cubeLevels[(n / 6) % 6], cubeLevels[n % 6])
        }
        let g = 8 + 10 * (i - 232)
        return (g, g, g)
    }

    static func distance(_ a: (Int, Int, Int), _ b: (Int, Int, Int)) -> Int {
        // Weighted: the eye is most sensitive to green, least to blue.
        let dr = a.0 - b.0, dg = a.1 - b.1, db = a.2 - b.2
        return 3 * dr * dr + 4 * dg * dg + 2 * db * db
    }

    static func nearest(_ c: (Int, Int, Int), in range: Range<Int>) -> Int {
        var best = range.lowerBound, bestD = Int.max
        for i in range {
            let d = distance(c, rgb(ofIndex: i))
            if d < bestD { best = i; bestD = d }
        }
        return best
    }

    /// The palette index to use on a terminal of `depth` colours; -1 for the terminal's default,
    /// nil in monochrome.
    public func resolve(_ depth: ColorDepth) -> Int? {
        switch (self, depth) {
        case (_, .mono): return nil
        case (.terminalDefault, _): return -1
        case (.index(let i), .c256): return i
        case (.index(let i), .c16): return i < 16 ? i : ThemeColor.nearest(ThemeColor.rgb(ofIndex: i), in: 0..<16)
        case (.index(let i), .c8): return (i < 16 ? i : ThemeColor.nearest(ThemeColor.rgb(ofIndex: i), in: 0..<16)) & 7
        case (.rgb(let r, let g, let b), .c256):
            // Only the cube and the grey ramp: the first 16 are redefined by many terminal themes.
            return ThemeColor.nearest((Int(r), Int(g), Int(b)), in: 16..<256)
        case (.rgb(let r, let g, let b), .c16): return ThemeColor.nearest((Int(r), Int(g), Int(b)), in: 0..<16)
        case (.rgb(let r, let g, let b), .c8): return ThemeColor.nearest((Int(r), Int(g), Int(b)), in: 0..<16) & 7
        }
    }

    /// Whether the colour degrades to a bright one (8–15) on 16 colours: on 8 colours the bright
    /// half is lost, and bold brings some of it back for foregrounds.
    func isBright16() -> Bool {
        switch self {
        case .terminalDefault: return false
        case .index(let i): return (i < 16 ? i : ThemeColor.nearest(ThemeColor.rgb(ofIndex: i), in: 0..<16)) >= 8
        case .rgb(let r, let g, let b): return ThemeColor.nearest((Int(r), Int(g), Int(b)), in: 0..<16) >= 8
        }
    }
}

/// How many colours the terminal offers.
public enum ColorDepth: Sendable, Equatable {
    case c256, c16, c8, mono

    /// From the terminal's `COLORS` (and `NO_COLOR`, which wins).
    public static func from(colors: Int, noColor: Bool) -> ColorDepth {
        if noColor || colors < 8 { return .mono }
        if colors >= 256 { return .c256 }
        if colors >= 16 { return .c16 }
        return .c8
    }
}

/// Text attributes a role may carry.
public struct TextAttributes: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let bold = TextAttributes(rawValue: 1)
    public static let dim = TextAttributes(rawValue: 2)
    public static let reverse = TextAttributes(rawValue: 4)
    public static let underline = TextAttributes(rawValue: 8)
    public static let italic = TextAttributes(rawValue: 16)

    public static let names: [String: TextAttributes] = [
        "bold": .bold, "dim": .dim, "reverse": .reverse, "underline": .underline, "italic": .italic,
    ]
}

/// How one role looks: colours, attributes, and the attributes it takes in monochrome.
public struct RoleStyle: Equatable, Sendable {
    public var fg: ThemeColor
    public var bg: ThemeColor
    public var attributes: TextAttributes
    /// Attributes on a terminal without colour (or with `NO_COLOR`), added to `attributes`.
    public var mono: TextAttributes

    public init(fg: ThemeColor = .terminalDefault, bg: ThemeColor = .terminalDefault,
                attributes: TextAttributes = [], mono: TextAttributes = []) {
        self.fg = fg; self.bg = bg; self.attributes = attributes; self.mono = mono
    }
}

/// A role's style resolved for one terminal: palette indexes (-1 the terminal's default colour,
/// nil none at all) and attributes.
public struct ResolvedStyle: Equatable, Hashable, Sendable {
    public var fg: Int?
    public var bg: Int?
    public var attributes: TextAttributes
}

/// A colour theme: a style for every role.
public struct Theme: Equatable, Sendable {
    public var name: String
    public var styles: [Role: RoleStyle]

    public init(name: String, styles: [Role: RoleStyle]) {
        self.name = name; self.styles = styles
    }

    public func style(_ role: Role) -> RoleStyle {
        styles[role] ?? Theme.builtInDefault.styles[role] ?? RoleStyle()
    }

    /// The style of a role on a terminal of `depth` colours.
    public func resolved(_ role: Role, depth: ColorDepth) -> ResolvedStyle {
        let s = style(role)
        if depth == .mono {
            return ResolvedStyle(fg: nil, bg: nil, attributes: s.attributes.union(s.mono))
        }
        if depth == .c8 { return Theme.legible8(s) }
        return ResolvedStyle(fg: s.fg.resolve(depth), bg: s.bg.resolve(depth), attributes: s.attributes)
    }

    /// Approximate luminance (0–255) of the 8 basic colours as xterm draws them.
    static func luminance8(_ i: Int) -> Int {
        let (r, g, b) = ThemeColor.rgb(ofIndex: i)
        return (30 * r + 59 * g + 11 * b) / 100
    }

    /// The least difference in luminance between a foreground and its background on 8 colours.
    static let minimumContrast8 = 40

    /// A style on 8 colours, kept legible whatever the terminal's own background. Folding 256 or 16
    /// colours into 8 loses the bright half: grey (`bright_black`, and the greys of the RGB themes)
    /// becomes black, which vanishes on a dark background, and black or white text on the terminal's
    /// default background vanishes on one kind of terminal or the other. So:
    /// - on the default background, text too dark for a black one or too light for a white one
    ///   (black, white, blue) takes the terminal's default foreground (blue: cyan);
    /// - on a background of the theme's, text too close to it in luminance (and the terminal's
    ///   default foreground, which may be either) takes black or white, whichever contrasts;
    /// - greys keep their "secondary" look with `dim`, never with bold black; other bright colours
    ///   get bold, which many terminals draw bright.
    static func legible8(_ s: RoleStyle) -> ResolvedStyle {
        var attrs = s.attributes
        let bg = s.bg.resolve(.c8) ?? -1
        var fg = s.fg.resolve(.c8) ?? -1
        // Grey: a colour that folds to black from the bright half (index 8 on 16 colours).
        let grey = s.fg != .terminalDefault && s.fg.isBright16() && fg == 0
        func contrasts(_ c: Int, _ background: Int) -> Bool { abs(luminance8(c) - luminance8(background)) >= minimumContrast8 }
        if bg == -1 {
            // Legible on black and on white alike, or the terminal's own foreground (blue, too dark
            // for a black background, becomes cyan, its nearest hue that is not).
            if fg != -1 && !(contrasts(fg, 0) && contrasts(fg, 7)) { fg = fg == 4 ? 6 : -1 }
        } else if fg == -1 || !contrasts(fg, bg) {
            fg = fg == 4 && contrasts(6, bg) ? 6 : (luminance8(bg) > 110 ? 0 : 7)
        }
        if grey {
            attrs.insert(.dim)
        } else if s.fg.isBright16() {
            attrs.insert(.bold)
        }
        return ResolvedStyle(fg: fg, bg: bg, attributes: attrs)
    }

    /// Every role resolved for a terminal: what the backend turns into colour pairs, once per theme switch.
    public func resolvedAll(depth: ColorDepth) -> [Role: ResolvedStyle] {
        var out: [Role: ResolvedStyle] = [:]
        for role in Role.allCases { out[role] = resolved(role, depth: depth) }
        return out
    }
}
