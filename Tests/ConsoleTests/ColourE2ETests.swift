import Foundation
import XCTest
@testable import Store

/// Issue #13, item 10, in tmux: on 8-colour terminals (`TERM=screen`, `TERM=linux`) no theme draws
/// timestamps or key hints in black (bold or not) where the background is dark or the terminal's
/// own, and a mistyped `:theme` keeps the theme on screen.
final class ColourE2ETests: XCTestCase {
    var console: TmuxConsole!

    override func setUpWithError() throws { console = try TmuxConsole(width: 100, height: 30) }
    override func tearDown() { console?.stop(); console = nil }

    /// One cell of `capture-pane -e`: its character and the SGR state it was drawn in (nil: default colour).
    struct Cell: Equatable { var char: Character; var fg: Int?; var bg: Int?; var bold: Bool; var dim: Bool }

    /// Parses `capture-pane -p -e` output into rows of cells. tmux writes only the changes from the
    /// previous cell, across lines, so the state carries over.
    static func cells(_ escaped: String) -> [[Cell]] {
        var rows: [[Cell]] = [[]]
        var fg: Int?, bg: Int?, bold = false, dim = false
        var chars = Array(escaped)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c == "\u{1b}", i + 1 < chars.count, chars[i + 1] == "[" {
                var j = i + 2
                var params = ""
                while j < chars.count, !(chars[j].isLetter) { params.append(chars[j]); j += 1 }
                if j < chars.count, chars[j] == "m" {
                    var codes = params.split(separator: ";", omittingEmptySubsequences: false).map { Int($0) ?? 0 }
                    if codes.isEmpty { codes = [0] }
                    var k = 0
                    while k < codes.count {
                        let n = codes[k]
                        switch n {
                        case 0: fg = nil; bg = nil; bold = false; dim = false
                        case 1: bold = true
                        case 2: dim = true
                        case 22: bold = false; dim = false
                        case 30...37: fg = n - 30
                        case 39: fg = nil
                        case 40...47: bg = n - 40
                        case 49: bg = nil
                        case 90...97: fg = n - 90 + 8
                        case 100...107: bg = n - 100 + 8
                        case 38, 48:
                            if k + 2 < codes.count, codes[k + 1] == 5 { if n == 38 { fg = codes[k + 2] } else { bg = codes[k + 2] }; k += 2 }
                        default: break
                        }
                        k += 1
                    }
                }
                i = j + 1
                continue
            }
            if c == "\n" { rows.append([]) } else { rows[rows.count - 1].append(Cell(char: c, fg: fg, bg: bg, bold: bold, dim: dim)) }
            i += 1
        }
        chars = []
        return rows
    }

    /// Why a cell's text would vanish: black on the terminal's own or a dark background, or the
    /// same colour as its background. nil when legible.
    static func illegible(_ c: Cell) -> String? {
        let lightBackgrounds: Set<Int> = [2, 3, 6, 7]
        if let fg = c.fg, let bg = c.bg, fg == bg { return "colour \(fg) on itself" }
        if c.fg == 0 && !(c.bg.map(lightBackgrounds.contains) ?? false) {
            return "\(c.bold ? "bold " : "")black on \(c.bg.map { "colour \($0)" } ?? "the terminal's background")"
        }
        return nil
    }

    func testTimestampsAndHintsStayLegibleOnEightColoursInEveryTheme() throws {
        let c = console!
        // A finished run with log lines, whose tail shows timestamps.
        let database = try AppDatabase(path: c.databasePath)
        let run = try database.writer.write { db -> Int64 in
            var r = Run(serviceId: 1, serviceName: "show version", trigger: .cli, user: "alice")
            r.status = .completed
            r.startedAt = Date(timeIntervalSince1970: 1_700_000_000); r.endedAt = r.startedAt
            try r.insert(db)
            for seq in 1...3 {
                try RunLogLine(runId: r.id!, seq: Int64(seq), time: Date(timeIntervalSince1970: 1_700_000_000 + Double(seq)),
                               level: .info, device: "par-core1", service: "show version", message: "line \(seq)").insert(db)
            }
            return r.id!
        }
        let time = try NSRegularExpression(pattern: "[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}")
        for term in ["screen", "linux"] {
            c.type("clear; TERM=\(term) switchboard console")
            c.press("Enter")
            XCTAssertTrue(c.wait(for: "par-core1"), "\(term): \(c.screen())")
            c.command("runs")
            XCTAssertTrue(c.wait(for: "show version"), c.screen())
            c.type("L")
            XCTAssertTrue(c.wait { $0.contains("run \(run) show version") && $0.contains("line 3") }, c.screen())
            var lastHints: [Cell] = []
            for theme in ["default", "dark", "light", "solarized", "high-contrast"] {
                c.command("theme \(theme)")
                XCTAssertTrue(c.wait(for: "theme \(theme)"), "\(term) \(theme): \(c.screen())")
                usleep(200_000)
                let escaped = try c.tmux(["capture-pane", "-p", "-e", "-t", "e2e"])
                let rows = ColourE2ETests.cells(escaped)
                var checked = 0
                // Timestamps: the cells of HH:MM:SS.mmm on the log's lines.
                for row in rows {
                    let text = String(row.map(\.char))
                    let ns = text as NSString
                    for m in time.matches(in: text, range: NSRange(location: 0, length: ns.length)) {
                        // Character offsets: the line before the match is ASCII here.
                        for cell in row[m.range.location..<(m.range.location + m.range.length)] {
                            checked += 1
                            if let why = ColourE2ETests.illegible(cell) { XCTFail("\(term) \(theme): timestamp \(text): \(why)") ; break }
                        }
                    }
                }
                XCTAssertGreaterThanOrEqual(checked, 36, "\(term) \(theme): three timestamps checked:\n\(c.screen())")
                // Hints: every visible cell of the last line.
                let hintRow = rows.lastIndex { String($0.map(\.char)).contains("help") } ?? rows.count - 1
                let hints = rows[hintRow].filter { $0.char != " " }
                XCTAssertGreaterThan(hints.count, 20, "\(term) \(theme): \(String(rows[hintRow].map(\.char)))")
                for cell in hints {
                    if let why = ColourE2ETests.illegible(cell) { XCTFail("\(term) \(theme): hint '\(cell.char)': \(why)"); break }
                }
                lastHints = rows[hintRow]
            }
            // A mistyped theme: the current one (high-contrast) stays, and the status line says so.
            c.command("theme hihg-contrast")
            XCTAssertTrue(c.wait(for: "keeping theme high-contrast"), "\(term): \(c.screen())")
            let after = ColourE2ETests.cells(try c.tmux(["capture-pane", "-p", "-e", "-t", "e2e"]))
            let hintRow = after.lastIndex { String($0.map(\.char)).contains("help") } ?? after.count - 1
            XCTAssertEqual(after[hintRow], lastHints, "\(term): the hints keep high-contrast's colours")
            XCTAssertEqual(after[hintRow].first?.bg, 0, "\(term): high-contrast's black background")
            c.type("q")
            XCTAssertTrue(c.wait { $0.contains("e2e$") && !$0.contains("line 3") }, c.screen())
        }
    }
}
