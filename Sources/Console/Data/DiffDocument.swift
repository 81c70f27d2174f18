import Foundation
import Store

/// A configuration diff as the text view shows it: Store's unified diff (`LineDiff.unified`, hunks
/// with 3 lines of context and `@@` headers) turned into lines with roles, and the same hunks laid
/// out side by side (old on the left, new on the right) for wide terminals. Nothing here diffs:
/// both layouts are read off the unified text.
public enum DiffDocument {
    /// Lines of context around each change.
    public static let context = 3
    /// The narrowest terminal the side-by-side layout is offered on.
    public static let sideBySideWidth = 120

    /// The lines of the unified diff from `old` to `new`: `---`/`+++` headers, `@@` hunk headers,
    /// then `  ` same, `+ ` added, `- ` removed. Equal texts give the headers and one line saying so.
    public static func lines(old: String, new: String, oldLabel: String, newLabel: String) -> [LogLine] {
        // Documents.splitLines also ends a line at a lone `\r`; LineDiff splits on `\n` only.
        let a = Documents.splitLines(old).joined(separator: "\n"), b = Documents.splitLines(new).joined(separator: "\n")
        let unified = LineDiff.unified(a, b, oldLabel: oldLabel, newLabel: newLabel, context: context)
        var out: [LogLine] = []
        func add(_ text: String, _ role: Role) { out.append(LogLine(seq: Int64(out.count), text: text, role: role)) }
        guard !unified.isEmpty else {
            add("--- " + oldLabel, .diffHeader)
            add("+++ " + newLabel, .diffHeader)
            add("(no differences)", .dim)
            return out
        }
        for (i, line) in LineDiff.lines(unified).enumerated() {
            if i < 2 { add(line, .diffHeader); continue }
            switch line.first {
            case "@": add(line, .diffHeader)
            case "+": add("+ " + line.dropFirst(), .diffAdded)
            case "-": add("- " + line.dropFirst(), .diffRemoved)
            default: add("  " + line.dropFirst(), .diffContext)
            }
        }
        return out
    }

    /// Whether a line is a hunk's `@@` header.
    static func isHunk(_ line: LogLine) -> Bool { line.role == .diffHeader && line.text.hasPrefix("@@") }

    /// One screen row of the side-by-side layout.
    public struct Row: Equatable, Sendable {
        public enum Kind: Equatable, Sendable {
            /// Both sides: the `---`/`+++` labels, or a line the two versions share.
            case pair
            /// A `@@` header across the whole width.
            case hunk
        }
        public var kind: Kind
        /// The old side: its line number (nil for none), text and role; the same for the new side.
        public var left: (number: Int?, text: String, role: Role)?
        public var right: (number: Int?, text: String, role: Role)?
        /// The position (in the view's ring) of the first unified line this row shows.
        public var position: Int

        public static func == (a: Row, b: Row) -> Bool {
            a.kind == b.kind && a.position == b.position && a.left?.text == b.left?.text && a.right?.text == b.right?.text
                && a.left?.number == b.left?.number && a.right?.number == b.right?.number
        }
    }

    /// The side-by-side rows of the lines `lines` produced, held from ring position `first`:
    /// a run of removed lines faces the run of added lines that follows it, row by row.
    public static func sideBySide(_ lines: [LogLine], first: Int = 0) -> [Row] {
        var rows: [Row] = []
        var oldNo = 0, newNo = 0
        var removed: [(Int, String, Int)] = [], added: [(Int, String, Int)] = []  // (number, text, position)
        func flush() {
            for k in 0..<max(removed.count, added.count) {
                let l = k < removed.count ? removed[k] : nil, r = k < added.count ? added[k] : nil
                rows.append(Row(kind: .pair, left: l.map { ($0.0, $0.1, .diffRemoved) }, right: r.map { ($0.0, $0.1, .diffAdded) },
                                position: min(l?.2 ?? Int.max, r?.2 ?? Int.max)))
            }
            removed = []; added = []
        }
        var i = 0
        while i < lines.count {
            let line = lines[i], position = first + i
            let body = String(line.text.dropFirst(2))
            if i == 0 && line.text.hasPrefix("--- "), i + 1 < lines.count, lines[i + 1].text.hasPrefix("+++ ") {
                rows.append(Row(kind: .pair, left: (nil, line.text, .diffHeader), right: (nil, lines[i + 1].text, .diffHeader), position: position))
                i += 2
                continue
            }
            switch line.role {
            case .diffHeader where isHunk(line):
                flush()
                (oldNo, newNo) = hunkStarts(line.text)
                rows.append(Row(kind: .hunk, left: (nil, line.text, .diffHeader), right: nil, position: position))
            case .diffRemoved:
                if !added.isEmpty { flush() }
                removed.append((oldNo, body, position)); oldNo += 1
            case .diffAdded:
                added.append((newNo, body, position)); newNo += 1
            case .diffContext:
                flush()
                rows.append(Row(kind: .pair, left: (oldNo, body, .diffContext), right: (newNo, body, .diffContext), position: position))
                oldNo += 1; newNo += 1
            default:
                flush()
                rows.append(Row(kind: .hunk, left: (nil, line.text, line.role), right: nil, position: position))
            }
            i += 1
        }
        flush()
        return rows
    }

    /// The first old and new line numbers of a `@@ -a,b +c,d @@` header (a side with no lines
    /// names the line before; the next line is then that one plus one, which `max(1, …)` keeps right).
    static func hunkStarts(_ header: String) -> (Int, Int) {
        let parts = header.split(separator: " ")
        func start(_ prefix: Character) -> Int {
            guard let p = parts.first(where: { $0.first == prefix }) else { return 1 }
            let numbers = p.dropFirst().split(separator: ",")
            let from = Int(numbers.first ?? "") ?? 1
            let count = numbers.count > 1 ? Int(numbers[1]) ?? 1 : 1
            return count == 0 ? from + 1 : max(1, from)
        }
        return (start("-"), start("+"))
    }

    /// The index of the row showing ring position `position` (the last row starting at or before it).
    static func rowIndex(_ rows: [Row], at position: Int) -> Int {
        var lo = 0, hi = rows.count - 1, found = 0
        while lo <= hi {
            let mid = (lo + hi) / 2
            if rows[mid].position <= position { found = mid; lo = mid + 1 } else { hi = mid - 1 }
        }
        return found
    }
}
