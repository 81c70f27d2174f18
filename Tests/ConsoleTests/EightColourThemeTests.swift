import Foundation
import XCTest
@testable import Console
@testable import Store

/// Issue #13, item 10: every shipped theme stays legible on 8 colours, on a dark terminal and a
/// light one; a `:theme` that does not load keeps the current theme.
final class EightColourThemeTests: XCTestCase {
    /// The luminance of a resolved colour on a terminal whose own colours are `dark` or light
    /// (-1: the terminal's default foreground or background).
    static func luminance(_ index: Int, background: Bool, darkTerminal: Bool) -> Int {
        if index == -1 {
            // A dark terminal: light text on black; a light one: dark text on white.
            return background == darkTerminal ? 0 : 229
        }
        return Theme.luminance8(index)
    }

    func testEveryShippedThemeIsLegibleOnEightColoursOnDarkAndLightTerminals() throws {
        let dir = repositoryRoot + "/themes"
        let names = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()
        XCTAssertEqual(names, ["dark", "default", "high-contrast", "light", "solarized"])
        for name in names {
            let (theme, problems) = ThemeLoader.load(path: dir + "/" + name + ".json", name: name)
            XCTAssertEqual(problems, [], name)
            for role in Role.allCases {
                let s = theme.resolved(role, depth: .c8)
                let fg = s.fg ?? -1, bg = s.bg ?? -1
                XCTAssertTrue((-1...7).contains(fg) && (-1...7).contains(bg), "\(name) \(role): \(s)")
                XCTAssertFalse(fg == 0 && bg == -1, "\(name) \(role): no black on the terminal's own background: \(s)")
                for dark in [true, false] {
                    // Text in the terminal's own colours on its own background is always legible.
                    if fg == -1 && bg == -1 { continue }
                    let lf = EightColourThemeTests.luminance(fg, background: false, darkTerminal: dark)
                    let lb = EightColourThemeTests.luminance(bg, background: true, darkTerminal: dark)
                    XCTAssertGreaterThanOrEqual(abs(lf - lb), Theme.minimumContrast8,
                                                "\(name) \(role) on a \(dark ? "dark" : "light") terminal: \(s)")
                }
            }
        }
    }

    func testGreysAreDimNotBoldBlack() {
        let t = Theme.builtInDefault
        for role in [Role.logTime, .keyHint, .dim, .border, .logDebug] {
            let s = t.resolved(role, depth: .c8)
            XCTAssertEqual(s.fg, -1, "\(role)")
            XCTAssertTrue(s.attributes.contains(.dim), "\(role)")
            XCTAssertFalse(s.attributes.contains(.bold), "\(role)")
        }
        // A grey on a theme's dark background is white and dim; on a white one, black and dim.
        let onDark = RoleStyle(fg: .index(8), bg: .rgb(0x1c, 0x1c, 0x1c))
        let onLight = RoleStyle(fg: .rgb(0x8a, 0x8a, 0x8a), bg: .rgb(0xff, 0xff, 0xff))
        XCTAssertEqual(Theme.legible8(onDark), ResolvedStyle(fg: 7, bg: 0, attributes: [.dim]))
        XCTAssertEqual(Theme.legible8(onLight), ResolvedStyle(fg: 0, bg: 7, attributes: [.dim]))
        // 16 and 256 colours are untouched.
        XCTAssertEqual(t.resolved(.logTime, depth: .c16), ResolvedStyle(fg: 8, bg: -1, attributes: []))
    }

    func testAThemeThatDoesNotLoadKeepsTheCurrentOne() {
        var m = syntheticModel(["a"])
        m = update(m, .themeLoaded(name: "dark", problems: [])).0
        XCTAssertEqual(m.themeName, "dark")
        m = update(m, .themeLoaded(name: "drak", problems: ["theme 'drak' not found (available: dark, default)"])).0
        XCTAssertEqual(m.themeName, "dark")
        XCTAssertEqual(m.activeFlash?.text, "keeping theme dark: theme 'drak' not found (available: dark, default)")
        XCTAssertEqual(m.activeFlash?.isError, true)
    }
}
