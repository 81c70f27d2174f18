import Foundation
import XCTest
@testable import Console
import Store

final class ThemeTests: XCTestCase {
    func parse(_ json: String, file: String = "test.json") -> (Theme, [String]) {
        ThemeLoader.parse(Data(json.utf8), file: file, name: "test")
    }

    func testEveryColourForm() {
        XCTAssertEqual(ThemeColor.parse(.string("red")), .index(1))
        XCTAssertEqual(ThemeColor.parse(.string("Bright-Blue")), .index(12))
        XCTAssertEqual(ThemeColor.parse(.string("grey")), .index(8))
        XCTAssertEqual(ThemeColor.parse(.int(208)), .index(208))
        XCTAssertEqual(ThemeColor.parse(.string("208")), .index(208))
        XCTAssertEqual(ThemeColor.parse(.string("#5fafd7")), .rgb(0x5f, 0xaf, 0xd7))
        XCTAssertEqual(ThemeColor.parse(.string("default")), .terminalDefault)
        XCTAssertNil(ThemeColor.parse(.int(256)))
        XCTAssertNil(ThemeColor.parse(.string("#12345")))
        XCTAssertNil(ThemeColor.parse(.string("mauve")))
        XCTAssertNil(ThemeColor.parse(.bool(true)))
    }

    func testColoursDegradeTo256_16_8AndMonochrome() {
        let orange = ThemeColor.rgb(0xff, 0x87, 0x00)
        XCTAssertEqual(orange.resolve(.c256), 208)
        XCTAssertEqual(ThemeColor.rgb(0x5f, 0xaf, 0xd7).resolve(.c256), 74)
        XCTAssertEqual(ThemeColor.rgb(0x80, 0x80, 0x80).resolve(.c256), 244)
        XCTAssertEqual(ThemeColor.rgb(0xdc, 0x32, 0x2f).resolve(.c16), 1)      // solarized red → red
        XCTAssertEqual(ThemeColor.index(196).resolve(.c16), 9)                   // 256-colour red → bright red
        XCTAssertEqual(ThemeColor.index(196).resolve(.c8), 1)                    // … → red
        XCTAssertEqual(ThemeColor.index(12).resolve(.c8), 4)                     // bright blue → blue
        XCTAssertEqual(ThemeColor.terminalDefault.resolve(.c8), -1)
        XCTAssertNil(ThemeColor.index(3).resolve(.mono))

        var theme = Theme.builtInDefault
        theme.styles[.title] = RoleStyle(fg: .index(14), bg: .terminalDefault, attributes: [], mono: [.underline])
        // On 8 colours a bright foreground loses its brightness; bold brings some back.
        XCTAssertEqual(theme.resolved(.title, depth: .c8), ResolvedStyle(fg: 6, bg: -1, attributes: [.bold]))
        XCTAssertEqual(theme.resolved(.title, depth: .c16), ResolvedStyle(fg: 14, bg: -1, attributes: []))
        // Monochrome: no colours, the role's mono attributes.
        XCTAssertEqual(theme.resolved(.title, depth: .mono), ResolvedStyle(fg: nil, bg: nil, attributes: [.underline]))
        XCTAssertEqual(Theme.builtInDefault.resolved(.selectedRow, depth: .mono).attributes, [.reverse])
    }

    func testNoColorMeansMonochrome() {
        XCTAssertEqual(ColorDepth.from(colors: 256, noColor: true), .mono)
        XCTAssertEqual(ColorDepth.from(colors: 256, noColor: false), .c256)
        XCTAssertEqual(ColorDepth.from(colors: 16, noColor: false), .c16)
        XCTAssertEqual(ColorDepth.from(colors: 8, noColor: false), .c8)
        XCTAssertEqual(ColorDepth.from(colors: 0, noColor: false), .mono)
    }

    func testAThemeFileSetsRolesAndKeepsTheRestDefault() {
        let (theme, problems) = parse("""
            {"name": "t", "roles": {"header": {"fg": "#000000", "bg": 33, "attrs": ["bold", "underline"], "mono": ["reverse"]}}}
            """)
        XCTAssertEqual(problems, [])
        XCTAssertEqual(theme.style(.header), RoleStyle(fg: .rgb(0, 0, 0), bg: .index(33), attributes: [.bold, .underline], mono: [.reverse]))
        XCTAssertEqual(theme.style(.body), Theme.builtInDefault.style(.body))
    }

    func testMalformedThemesAreReportedWithFileAndKeyAndTheDefaultIsUsed() {
        var (theme, problems) = parse("{\"roles\": {\"header\": {\"fg\": \"mauve\"}}}", file: "broken.json")
        XCTAssertEqual(theme, Theme.builtInDefault)
        XCTAssertEqual(problems.count, 1)
        XCTAssertTrue(problems[0].hasPrefix("broken.json: roles.header.fg:"), problems[0])

        (theme, problems) = parse("{\"roles\": {\"headr\": {}}}", file: "typo.json")
        XCTAssertEqual(problems, ["typo.json: roles.headr: unknown role"])
        XCTAssertEqual(theme, Theme.builtInDefault)

        (theme, problems) = parse("{\"roles\": {\"body\": {\"attrs\": [\"blinking\"]}}}", file: "a.json")
        XCTAssertTrue(problems[0].contains("a.json: roles.body.attrs: unknown attribute 'blinking'"), problems[0])

        (theme, problems) = parse("{\"roles\": {\"body\": {\"fg\": \"red\",}}", file: "syntax.json")
        XCTAssertTrue(problems[0].hasPrefix("syntax.json: malformed JSON"), problems[0])
        XCTAssertEqual(theme, Theme.builtInDefault)

        (_, problems) = parse("{\"colours\": {}, \"roles\": {}}", file: "top.json")
        XCTAssertEqual(problems, ["top.json: colours: unknown key (known: name, description, roles)"])
    }

    func testLoaderFindsThemesAndReportsAMissingOne() throws {
        let loader = ThemeLoader(directories: [repositoryRoot + "/themes"])
        XCTAssertEqual(loader.available(), ["dark", "default", "high-contrast", "light", "solarized"])
        for name in loader.available() {
            let (theme, problems) = loader.load(name)
            XCTAssertEqual(problems, [], name)
            XCTAssertEqual(theme.name, name)
            // Every shipped theme styles every role itself.
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: repositoryRoot + "/themes/\(name).json"))) as! [String: Any]
            XCTAssertEqual(Set((json["roles"] as! [String: Any]).keys), Set(Role.allCases.map(\.rawValue)), name)
        }
        let (theme, problems) = loader.load("nope")
        XCTAssertEqual(theme, Theme.builtInDefault)
        XCTAssertTrue(problems[0].contains("theme 'nope' not found"), problems[0])
        XCTAssertTrue(loader.load("../etc/passwd").1[0].contains("not a theme name"))
    }

    func testShippedDefaultThemeIsTheBuiltInOne() {
        let (theme, problems) = ThemeLoader(directories: [repositoryRoot + "/themes"]).load("default")
        XCTAssertEqual(problems, [])
        for role in Role.allCases {
            XCTAssertEqual(theme.style(role), Theme.builtInDefault.style(role), role.rawValue)
        }
    }

    /// A theme that does not load (malformed here, or mistyped) keeps the current one on a live switch.
    func testThemeSwitchLiveAndAMalformedOneKeepsTheCurrent() {
        var m = syntheticModel(["a"])
        var (next, effects) = update(m, .key(.char(":")))
        m = next
        for c in "theme dark" { m = update(m, .key(.char(c))).0 }
        (next, effects) = update(m, .key(.enter))
        XCTAssertTrue(effects.contains(.loadTheme("dark")))
        m = update(next, .themeLoaded(name: "dark", problems: [])).0
        XCTAssertEqual(m.themeName, "dark")
        m = update(m, .themeLoaded(name: "broken", problems: ["broken.json: roles.header.fg: 'mauve' is not a colour"])).0
        XCTAssertEqual(m.themeName, "dark")
        XCTAssertEqual(m.activeFlash?.isError, true)
        let status = view(m).buffer.text(row: m.height - 2)
        XCTAssertTrue(status.contains("broken.json: roles.header.fg"), status)
        XCTAssertTrue(status.hasPrefix("keeping theme dark: "), status)
    }
}

final class KeyMapTests: XCTestCase {
    func testKeyNames() {
        XCTAssertEqual(Key.parse("q"), .char("q"))
        XCTAssertEqual(Key.parse("ctrl+r"), .ctrl("r"))
        XCTAssertEqual(Key.parse("C-r"), .ctrl("r"))
        XCTAssertEqual(Key.parse("^R"), .ctrl("r"))
        XCTAssertEqual(Key.parse("F5"), .function(5))
        XCTAssertEqual(Key.parse("space"), .char(" "))
        XCTAssertEqual(Key.parse("PgDn"), .pageDown)
        XCTAssertEqual(Key.parse("enter"), .enter)
        XCTAssertNil(Key.parse("hyper+q"))
        XCTAssertEqual(Key.ctrl("r").description, "ctrl+r")
    }

    func testRemappingMovesAnActionToItsNewKey() {
        let (map, problems) = KeyMap.build(overrides: ["quit": "x", "help": "F1", "bogus": "z", "filter": "ctrl+meta+q"])
        XCTAssertEqual(problems.count, 2)
        XCTAssertTrue(problems.contains { $0.hasPrefix("console.keys.bogus: unknown action") })
        XCTAssertTrue(problems.contains { $0.hasPrefix("console.keys.filter:") })
        XCTAssertEqual(map.actions(for: .char("x")).first, .quit)
        XCTAssertFalse(map.actions(for: .char("q")).contains(.quit))
        XCTAssertEqual(map.actions(for: .function(1)), [.help])
        XCTAssertEqual(map.actions(for: .ctrl("c")).first, .quit)     // the fixed alternative stays
    }

    func testAnOverrideWinsAKeySharedWithADefault() {
        let (map, _) = KeyMap.build(overrides: ["pause": "j"])
        XCTAssertEqual(map.actions(for: .char("j")).first, .pause)
        var settings = Settings.defaults
        settings.console.keys = ["pause": "j", "quit": "x"]
        var m = syntheticModel(["a", "b", "c"], settings: settings)
        send(&m, .char("j"))
        XCTAssertTrue(m.paused)
        XCTAssertEqual(m.top.table.cursor, 0)
        send(&m, .down)                      // the arrow still moves
        XCTAssertEqual(m.top.table.cursor, 1)
        let (_, effects) = update(m, .key(.char("x")))
        XCTAssertEqual(effects, [.quit])
        let (m2, effects2) = update(m, .key(.char("q")))
        XCTAssertFalse(effects2.contains(.quit))
        XCTAssertFalse(m2.quitting)
    }

    func testBadKeySettingsAreReportedAtStart() {
        var settings = Settings.defaults
        settings.console.keys = ["launch_missiles": "m"]
        let m = AppModel(settings: settings, properties: .builtIn, readonly: false)
        XCTAssertEqual(m.flash?.isError, true)
        XCTAssertTrue(m.flash!.text.contains("console.keys.launch_missiles: unknown action"))
    }
}
