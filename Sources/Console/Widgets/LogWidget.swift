import Foundation

/// Draws a log or text: wrapped or cut (with horizontal scrolling), following the end or from a
/// position, timestamps on or off, one device's lines only, search matches highlighted. Only the
/// lines on screen are laid out, so a ring of any size costs the same per frame.
public enum LogWidget {
    /// The glyphs of one line as displayed: prefix (time, device), message, search highlights.
    static func glyphs(_ line: LogLine, log: LogState, charset: Charset, limit: Int) -> [Sanitizer.Glyph] {
        var out: [Sanitizer.Glyph] = []
        out.reserveCapacity(min(limit, 256))
        func add(_ text: String, _ role: Role) -> Bool {
            var more = true
            Sanitizer.forEachGlyph(text, role: role, charset: charset, column: out.count) { g in
                if out.count >= limit { more = false; return false }
                out.append(g)
                return true
            }
            return more
        }
        if log.timestamps, let t = line.time {
            if !add(Formats.logTime(t) + " ", .logTime) { return out }
        }
        // Device and service (the workflow node), as the CLI's `logs` prints them.
        let origin = line.origin
        if !origin.isEmpty {
            if !add(origin, .logDevice) { return out }
        }
        if let tree = line.tree {
            if !add(tree.prefix(LineGlyphs(charset)), .border) { return out }
        }
        let role = line.messageRole
        guard let needle = log.search, !needle.isEmpty else {
            _ = add(line.text, role)
            return out
        }
        // Split the message around the matches; each part is sanitised as it is added.
        let text = line.text
        var from = text.startIndex
        while from < text.endIndex, let r = text.range(of: needle, options: .caseInsensitive, range: from..<text.endIndex) {
            if r.isEmpty { break }
            if !add(String(text[from..<r.lowerBound]), role) { return out }
            if !add(String(text[r]), .searchMatch) { return out }
            from = r.upperBound
        }
        _ = add(String(text[from...]), role)
        return out
    }

    /// The screen rows of a line: wrapped into `width`, or one row from column `hscroll`.
    static func rows(_ line: LogLine, log: LogState, charset: Charset, width: Int, maxRows: Int) -> [[Sanitizer.Glyph]] {
        guard width > 0 else { return [] }
        if !log.wrap {
            let all = glyphs(line, log: log, charset: charset, limit: log.hscroll + width + 1)
            var cols = 0
            var row: [Sanitizer.Glyph] = []
            for g in all {
                if cols >= log.hscroll && cols + Int(g.width) <= log.hscroll + width { row.append(g) }
                cols += Int(g.width)
            }
            return [row]
        }
        let all = glyphs(line, log: log, charset: charset, limit: width * maxRows)
        // A tree line's continuation rows go on under its guides, so the tree keeps its shape.
        var indent: [Sanitizer.Glyph] = []
        if let tree = line.tree {
            Sanitizer.forEachGlyph(tree.continuation(LineGlyphs(charset)), role: .border, charset: charset) { indent.append($0); return true }
            if indent.count * 2 > width { indent = [] }
        }
        var out: [[Sanitizer.Glyph]] = []
        var row: [Sanitizer.Glyph] = []
        var used = 0
        for g in all {
            if used + Int(g.width) > width {
                out.append(row); row = indent; used = indent.count
                if out.count >= maxRows { return out }
            }
            row.append(g)
            used += Int(g.width)
        }
        out.append(row)
        return out
    }

    /// Draws the lines of `log` into `rect`; a diff `sideBySide` when asked (the caller checks the width).
    public static func render(_ log: LogState, into buffer: inout CellBuffer, rect: Rect, sideBySide: Bool = false) {
        buffer.fill(rect, role: .body)
        guard rect.height > 0, rect.width > 0 else { return }
        if sideBySide, let rows = log.sideRows {
            renderSideBySide(rows, log: log, into: &buffer, rect: rect)
            return
        }
        let ring = log.ring
        var screen: [(rows: [[Sanitizer.Glyph]], position: Int)] = []
        if log.follow {
            var p = ring.endPosition
            var used = 0
            while p > ring.firstPosition && used < rect.height {
                p -= 1
                let line = ring[position: p]
                guard log.shows(line) else { continue }
                let r = rows(line, log: log, charset: buffer.charset, width: rect.width, maxRows: rect.height)
                screen.insert((r, p), at: 0)
                used += r.count
            }
            // Too many rows: drop from the top of the first line.
            var extra = screen.reduce(0) { $0 + $1.rows.count } - rect.height
            while extra > 0, !screen.isEmpty {
                let n = min(extra, screen[0].rows.count)
                screen[0].rows.removeFirst(n)
                extra -= n
                if screen[0].rows.isEmpty { screen.removeFirst() }
            }
        } else {
            var p = max(log.top, ring.firstPosition)
            var used = 0
            while p < ring.endPosition && used < rect.height {
                let line = ring[position: p]
                if log.shows(line) {
                    let r = rows(line, log: log, charset: buffer.charset, width: rect.width, maxRows: rect.height - used)
                    screen.append((r, p))
                    used += r.count
                }
                p += 1
            }
        }
        var y = rect.y
        for (lineRows, position) in screen {
            for row in lineRows where y < rect.maxY {
                var x = rect.x
                for g in row {
                    buffer.set(x, y, Cell(text: g.text, width: g.width, role: g.role))
                    if g.width == 2 { buffer.set(x + 1, y, Cell(text: "", width: 0, role: g.role)) }
                    x += Int(g.width)
                }
                if position == log.match {
                    // The current match's line: mark its first column.
                    buffer.paint(Rect(x: rect.x, y: y, width: 1, height: 1), role: .searchMatch, keepingSpecial: false)
                }
                y += 1
            }
        }
    }

    /// A diff's rows side by side: `  12 - old text  │   12 + new text`, hunk headers across.
    static func renderSideBySide(_ rows: [DiffDocument.Row], log: LogState, into buffer: inout CellBuffer, rect: Rect) {
        guard !rows.isEmpty else { return }
        let g = LineGlyphs(buffer.charset)
        let start = log.follow ? max(0, rows.count - rect.height) : DiffDocument.rowIndex(rows, at: max(log.top, log.ring.firstPosition))
        let leftWidth = (rect.width - 3) / 2
        let rightX = rect.x + leftWidth + 3
        let rightWidth = rect.maxX - rightX
        func side(_ cell: (number: Int?, text: String, role: Role)?, marker: String, x: Int, y: Int, width: Int) {
            guard let cell, width > 0 else { return }
            var used = 0
            if let n = cell.number {
                // The line number, then the +/- a monochrome terminal needs to tell the sides apart.
                let number = String(n)
                let label = String(repeating: " ", count: max(0, 5 - number.count)) + number + " "
                used += buffer.write(label, x: x, y: y, role: .dim, limit: width)
                used += buffer.write(cell.role == .diffContext ? "  " : marker + " ", x: x + used, y: y, role: cell.role, limit: width - used)
            }
            if width - used > 0 { buffer.write(cell.text, x: x + used, y: y, width: width - used, role: cell.role) }
        }
        for (r, row) in rows[start...].prefix(rect.height).enumerated() {
            let y = rect.y + r
            switch row.kind {
            case .hunk:
                if let l = row.left { buffer.write(l.text, x: rect.x, y: y, width: rect.width, role: l.role) }
            case .pair:
                side(row.left, marker: "-", x: rect.x, y: y, width: leftWidth)
                buffer.write(g.vertical, x: rect.x + leftWidth + 1, y: y, role: .border)
                side(row.right, marker: "+", x: rightX, y: y, width: rightWidth)
            }
        }
    }
}
