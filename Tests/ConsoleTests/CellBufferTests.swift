import XCTest
@testable import Console

final class CellBufferTests: XCTestCase {
    func testWriteClipsAtTheEdgeAndTheLimit() {
        var b = CellBuffer(width: 10, height: 2)
        XCTAssertEqual(b.write("hello world", x: 2, y: 0, role: .body), 8)
        XCTAssertEqual(b.text(row: 0), "  hello wo")
        XCTAssertEqual(b.write("abcdef", x: 0, y: 1, role: .title, limit: 3), 3)
        XCTAssertEqual(b.text(row: 1), "abc       ")
        XCTAssertEqual(b[0, 1].role, .title)
        XCTAssertEqual(b[3, 1].role, .body)
    }

    func testFittedTextIsPaddedOrCutWithAnEllipsis() {
        var b = CellBuffer(width: 12, height: 3)
        b.write("short", x: 0, y: 0, width: 8, role: .body)
        XCTAssertEqual(b.text(row: 0), "short       ")
        b.write("much too long", x: 0, y: 1, width: 8, role: .body)
        XCTAssertEqual(b.text(row: 1), "much to…    ")
        b.write("42", x: 0, y: 2, width: 5, role: .body, align: .right)
        XCTAssertEqual(b.text(row: 2), "   42       ")
    }

    func testWideCharactersTakeTwoColumns() {
        XCTAssertEqual(TextWidth.of("東京"), 4)
        XCTAssertEqual(TextWidth.of("🚀"), 2)
        XCTAssertEqual(TextWidth.of("e\u{301}"), 1)          // e + combining acute: one column
        XCTAssertEqual(TextWidth.of("👍🏽"), 2)                  // emoji with a skin tone modifier
        XCTAssertEqual(TextWidth.of("❤️"), 2)                   // text-default heart with VS16
        XCTAssertEqual(TextWidth.of("abc"), 3)

        var b = CellBuffer(width: 8, height: 1)
        b.write("a東京b", x: 0, y: 0, role: .body)
        XCTAssertEqual(b[1, 0].text, "東")
        XCTAssertEqual(b[1, 0].width, 2)
        XCTAssertTrue(b[2, 0].isContinuation)
        XCTAssertEqual(b[5, 0].text, "b")
        XCTAssertEqual(b.text(row: 0), "a東京b  ")
    }

    func testWideCharacterThatDoesNotFitBecomesABlank() {
        var b = CellBuffer(width: 4, height: 1)
        b.write("ab東", x: 1, y: 0, role: .body)
        XCTAssertEqual(b.text(row: 0), " ab ")
        var c = CellBuffer(width: 10, height: 1)
        c.write("東京大阪", x: 0, y: 0, width: 5, role: .body)
        XCTAssertEqual(c.text(row: 0), "東京…     ")
    }

    func testOverwritingHalfAWideCharacterBlanksTheOtherHalf() {
        var b = CellBuffer(width: 6, height: 1)
        b.write("東京", x: 0, y: 0, role: .body)
        b.write("x", x: 1, y: 0, role: .body)
        XCTAssertEqual(b.text(row: 0), " x京  ")
        b.write("y", x: 2, y: 0, role: .body)
        XCTAssertEqual(b.text(row: 0), " xy   ")
    }

    func testEscapeSequencesBecomeInertPlaceholders() {
        var b = CellBuffer(width: 40, height: 1)
        b.write("\u{1b}[31mred\u{1b}[0m\u{7}\u{9b}2J", x: 0, y: 0, role: .body)
        let row = b.text(row: 0)
        XCTAssertTrue(row.hasPrefix("^[[31mred^[[0m^GM-^[2J"), row)
        XCTAssertEqual(b[0, 0].role, .controlChar)
        XCTAssertEqual(b[1, 0].role, .controlChar)
        XCTAssertEqual(b[2, 0].role, .body)
        // Nothing in the buffer is a control character any more.
        for cell in b.cells {
            XCTAssertFalse(cell.text.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) })
        }
    }

    func testBidiOverridesAndNewlinesAreShownNotObeyed() {
        var b = CellBuffer(width: 40, height: 1)
        b.write("abc\u{202E}def\r\nx", x: 0, y: 0, role: .body)
        XCTAssertEqual(b.text(row: 0).trimmingCharacters(in: .whitespaces), "abc<U+202E>def^M^Jx")
        XCTAssertEqual(Sanitizer.inert("a\u{1b}b"), "a^[b")
    }

    func testTabsExpandToTheNextStop() {
        var b = CellBuffer(width: 20, height: 1)
        b.write("ab\tc", x: 0, y: 0, role: .body)
        XCTAssertEqual(b.text(row: 0), "ab      c           ")
    }

    func testASCIIFallbackReplacesWhatTheTerminalCannotShow() {
        var b = CellBuffer(width: 12, height: 4, charset: .ascii)
        b.write("café 東", x: 0, y: 0, role: .body)
        XCTAssertEqual(b.text(row: 0), "caf? ?      ")
        b.write("truncated text", x: 0, y: 1, width: 6, role: .body)
        XCTAssertEqual(b.text(row: 1), "trunc~      ")
        b.box(Rect(x: 0, y: 2, width: 4, height: 2), role: .border)
        XCTAssertEqual(b.text(row: 2), "+--+        ")
        XCTAssertTrue(b.lines.joined().allSatisfy { $0.isASCII })
    }

    func testOrphanCombiningMarkGetsABase() {
        var b = CellBuffer(width: 4, height: 1)
        b.write("\u{301}", x: 0, y: 0, role: .body)
        XCTAssertEqual(b[0, 0].width, 1)
        XCTAssertEqual(b[0, 0].text, "\u{25CC}\u{301}")
    }

    func testDiffOfIdenticalFramesIsEmpty() {
        var a = CellBuffer(width: 20, height: 3)
        a.write("hello", x: 0, y: 0, role: .title)
        let b = a
        XCTAssertEqual(CellBuffer.diff(a, b), [])
    }

    func testDiffReportsOnlyTheChangedRuns() {
        var a = CellBuffer(width: 20, height: 3)
        a.write("status: ok", x: 0, y: 1, role: .body)
        var b = a
        b.write("no", x: 8, y: 1, role: .body)
        b.write("X", x: 19, y: 2, role: .body)
        let runs = CellBuffer.diff(a, b)
        XCTAssertEqual(runs.count, 2)
        XCTAssertEqual(runs[0].x, 8); XCTAssertEqual(runs[0].y, 1); XCTAssertEqual(runs[0].text, "no")
        XCTAssertEqual(runs[1].x, 19); XCTAssertEqual(runs[1].text, "X")
        // A role change alone is a change.
        var c = a
        c.paint(Rect(x: 0, y: 0, width: 2, height: 1), role: .selectedRow)
        XCTAssertEqual(CellBuffer.diff(a, c).map(\.x), [0])
    }

    func testDiffKeepsWideCharactersWhole() {
        var a = CellBuffer(width: 10, height: 1)
        a.write("ab東c", x: 0, y: 0, role: .body)
        var b = a
        b.paint(Rect(x: 3, y: 0, width: 1, height: 1), role: .title)   // only the continuation changed
        let runs = CellBuffer.diff(a, b)
        XCTAssertEqual(runs.count, 1)
        XCTAssertEqual(runs[0].x, 2)
        XCTAssertEqual(runs[0].cells.count, 2)
    }

    func testDiffAfterAResizeRedrawsEverything() {
        let a = CellBuffer(width: 10, height: 2)
        let b = CellBuffer(width: 12, height: 2)
        let runs = CellBuffer.diff(a, b)
        XCTAssertEqual(runs.count, 2)
        XCTAssertEqual(runs[0].cells.count, 12)
        XCTAssertEqual(CellBuffer.diff(nil, a).count, 2)
    }

    /// The configuration diff view's lines, from Store's `LineDiff.unified` (the console has no diff of its own).
    func testDiffLines() {
        func d(_ a: [String], _ b: [String]) -> [String] {
            Array(DiffDocument.lines(old: a.joined(separator: "\n"), new: b.joined(separator: "\n"), oldLabel: "a", newLabel: "b").map(\.text).dropFirst(3))
        }
        XCTAssertEqual(d(["a", "b", "c", "d"], ["a", "c", "d", "e"]), ["  a", "- b", "  c", "  d", "+ e"])
        XCTAssertEqual(d([], ["x"]), ["+ x"])
        XCTAssertEqual(d(["x"], []), ["- x"])
        XCTAssertEqual(d(["a", "b"], ["c", "d"]).filter { $0.hasPrefix("  ") }, [])
        XCTAssertEqual(DiffDocument.lines(old: "a", new: "b", oldLabel: "o", newLabel: "n").map(\.role), [.diffHeader, .diffHeader, .diffHeader, .diffRemoved, .diffAdded])
        XCTAssertEqual(DiffDocument.lines(old: "a", new: "b", oldLabel: "o", newLabel: "n")[2].text, "@@ -1 +1 @@")
    }

    func testLogRingKeepsTheLastLinesAndCountsTheRest() {
        var ring = LogRing(capacity: 1000)
        for i in 0..<1_000_000 {
            ring.append(LogLine(seq: Int64(i), text: "l"))
        }
        XCTAssertEqual(ring.count, 1000)
        XCTAssertEqual(ring.dropped, 999_000)
        XCTAssertEqual(ring[position: ring.firstPosition].seq, 999_000)
        XCTAssertEqual(ring.last?.seq, 999_999)
    }
}
