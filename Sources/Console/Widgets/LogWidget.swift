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
        if !line.device.isEmpty {
            if !add("[" + line.device + "] ", .logDevice) { return out }
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

    /// Draws the lines of `log` into `rect`.
    public static func render(_ log: LogState, into buffer: inout CellBuffer, rect: Rect) {
        buffer.fill(rect, role: .body)
        guard rect.height > 0, rect.width > 0 else { return }
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
}
