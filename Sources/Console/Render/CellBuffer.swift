/// Whether the terminal can show Unicode (a UTF-8 locale) or only ASCII.
public enum Charset: Sendable, Equatable {
    case unicode, ascii
}

/// A rectangle of cells.
public struct Rect: Equatable, Sendable {
    public var x: Int, y: Int, width: Int, height: Int
    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x; self.y = y; self.width = max(0, width); self.height = max(0, height)
    }
    public var maxX: Int { x + width }
    public var maxY: Int { y + height }
    public var isEmpty: Bool { width <= 0 || height <= 0 }

    /// The rectangle minus `n` cells on every side.
    public func inset(_ n: Int) -> Rect { Rect(x: x + n, y: y + n, width: width - 2 * n, height: height - 2 * n) }
    /// One row of the rectangle.
    public func row(_ i: Int) -> Rect { Rect(x: x, y: y + i, width: width, height: 1) }
}

/// One screen cell: a grapheme cluster and its role. A wide character occupies its cell (width 2)
/// and the next, which holds an empty continuation (width 0).
public struct Cell: Equatable, Sendable {
    public var text: String
    public var width: UInt8
    public var role: Role

    public init(text: String, width: UInt8 = 1, role: Role) {
        self.text = text; self.width = width; self.role = role
    }

    public static func blank(_ role: Role = .body) -> Cell { Cell(text: " ", width: 1, role: role) }
    public var isContinuation: Bool { width == 0 }
}

/// Changed cells of one row, as `diff` reports them: what the terminal backend writes.
public struct CellRun: Equatable, Sendable {
    public var x: Int
    public var y: Int
    public var cells: [Cell]
    /// The run's text, continuation cells skipped.
    public var text: String { cells.filter { !$0.isContinuation }.map(\.text).joined() }
}

/// The frame a view renders into: width × height cells. Rendering is pure (state in, buffer out);
/// the runtime diffs consecutive frames and sends only the changed runs to the terminal.
public struct CellBuffer: Equatable, Sendable {
    public let width: Int
    public let height: Int
    public var charset: Charset
    public private(set) var cells: [Cell]

    public init(width: Int, height: Int, charset: Charset = .unicode, role: Role = .body) {
        self.width = max(0, width)
        self.height = max(0, height)
        self.charset = charset
        cells = Array(repeating: .blank(role), count: self.width * self.height)
    }

    public var bounds: Rect { Rect(x: 0, y: 0, width: width, height: height) }

    public subscript(x: Int, y: Int) -> Cell {
        get { cells[y * width + x] }
    }

    /// Sets one cell, keeping wide characters whole: overwriting half of one blanks the other half.
    @inline(__always)
    mutating func set(_ x: Int, _ y: Int, _ cell: Cell) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        let i = y * width + x
        let old = cells[i]
        if old.width == 0 && x > 0 && cells[i - 1].width == 2 {
            cells[i - 1] = .blank(cells[i - 1].role)
        }
        if old.width == 2 && x + 1 < width && cell.width != 2 {
            cells[i + 1] = .blank(cells[i + 1].role)
        }
        cells[i] = cell
    }

    /// Fills a rectangle with blanks of a role.
    public mutating func fill(_ rect: Rect, role: Role) {
        let r = clip(rect)
        guard !r.isEmpty else { return }
        for y in r.y..<r.maxY {
            for x in r.x..<r.maxX { set(x, y, .blank(role)) }
        }
    }

    /// Gives every cell of a rectangle a role, keeping its text (a selected row, a highlight).
    /// Placeholders for control characters keep their role, so they stay recognisable.
    public mutating func paint(_ rect: Rect, role: Role, keepingSpecial: Bool = true) {
        let r = clip(rect)
        guard !r.isEmpty else { return }
        for y in r.y..<r.maxY {
            for x in r.x..<r.maxX {
                let i = y * width + x
                if keepingSpecial && (cells[i].role == .controlChar || cells[i].role == .searchMatch) { continue }
                cells[i].role = role
            }
        }
    }

    func clip(_ rect: Rect) -> Rect {
        let x0 = max(0, rect.x), y0 = max(0, rect.y)
        let x1 = min(width, rect.maxX), y1 = min(height, rect.maxY)
        return Rect(x: x0, y: y0, width: x1 - x0, height: y1 - y0)
    }

    /// Writes text from (x, y), sanitised, clipped to `limit` columns and the buffer's edge.
    /// A wide character that does not fit in the last column becomes a blank.
    /// - Returns: the columns written.
    @discardableResult
    public mutating func write(_ text: String, x: Int, y: Int, role: Role, limit: Int? = nil) -> Int {
        guard y >= 0, y < height, x < width else { return 0 }
        let end = min(width, x + (limit ?? width))
        var col = x
        Sanitizer.forEachGlyph(text, role: role, charset: charset, column: 0) { g in
            let w = Int(g.width)
            if col + w > end {
                if col < end && w == 2 { self.set(col, y, .blank(role)); col += 1 }
                return false
            }
            if col >= 0 {
                self.set(col, y, Cell(text: g.text, width: g.width, role: g.role))
                if w == 2 { self.set(col + 1, y, Cell(text: "", width: 0, role: g.role)) }
            }
            col += w
            return true
        }
        return col - x
    }

    public enum Alignment: Sendable { case left, right }

    /// Writes text into exactly `width` columns: padded with blanks, or cut with an ellipsis
    /// (`…`, `~` in ASCII) when it is too long.
    public mutating func write(_ text: String, x: Int, y: Int, width w: Int, role: Role, align: Alignment = .left) {
        guard w > 0 else { return }
        let (glyphs, overflow) = CellBuffer.glyphs(text, role: role, charset: charset, fitting: w)
        var shown = glyphs
        var used = shown.reduce(0) { $0 + Int($1.width) }
        if overflow {
            while used > w - 1, let last = shown.popLast() { used -= Int(last.width) }
            shown.append(Sanitizer.Glyph(text: charset == .ascii ? "~" : "\u{2026}", width: 1, role: role))
            used += 1
        }
        var col = x
        if align == .right && used < w {
            for _ in 0..<(w - used) { set(col, y, .blank(role)); col += 1 }
        }
        for g in shown {
            set(col, y, Cell(text: g.text, width: g.width, role: g.role))
            if g.width == 2 { set(col + 1, y, Cell(text: "", width: 0, role: g.role)) }
            col += Int(g.width)
        }
        while col < x + w { set(col, y, .blank(role)); col += 1 }
    }

    /// The glyphs of a text up to `fitting` columns, and whether more would follow.
    static func glyphs(_ text: String, role: Role, charset: Charset, fitting w: Int) -> ([Sanitizer.Glyph], Bool) {
        var out: [Sanitizer.Glyph] = []
        var used = 0
        var overflow = false
        Sanitizer.forEachGlyph(text, role: role, charset: charset) { g in
            if used + Int(g.width) > w { overflow = true; return false }
            out.append(g)
            used += Int(g.width)
            return true
        }
        return (out, overflow)
    }

    /// Draws a box border with an optional title.
    public mutating func box(_ rect: Rect, role: Role, title: String? = nil, titleRole: Role = .title) {
        guard rect.width >= 2, rect.height >= 2 else { return }
        let g = LineGlyphs(charset)
        let x1 = rect.maxX - 1, y1 = rect.maxY - 1
        for x in rect.x...x1 {
            set(x, rect.y, Cell(text: g.horizontal, role: role))
            set(x, y1, Cell(text: g.horizontal, role: role))
        }
        for y in rect.y...y1 {
            set(rect.x, y, Cell(text: g.vertical, role: role))
            set(x1, y, Cell(text: g.vertical, role: role))
        }
        set(rect.x, rect.y, Cell(text: g.topLeft, role: role))
        set(x1, rect.y, Cell(text: g.topRight, role: role))
        set(rect.x, y1, Cell(text: g.bottomLeft, role: role))
        set(x1, y1, Cell(text: g.bottomRight, role: role))
        if let title, rect.width > 6 {
            write(" " + title + " ", x: rect.x + 2, y: rect.y, role: titleRole, limit: rect.width - 4)
        }
    }

    // MARK: reading back (tests, the ASCII dump of a frame)

    /// A row's text, continuation cells skipped.
    public func text(row y: Int) -> String {
        guard y >= 0, y < height else { return "" }
        var s = ""
        for x in 0..<width {
            let c = self[x, y]
            if !c.isContinuation { s += c.text }
        }
        return s
    }

    /// The whole frame as lines of text.
    public var lines: [String] { (0..<height).map { text(row: $0) } }

    /// The role of each column of a row.
    public func roles(row y: Int) -> [Role] { (0..<width).map { self[$0, y].role } }

    /// The column at which `needle` starts on row `y`, if present.
    public func column(of needle: String, row y: Int) -> Int? {
        guard y >= 0, y < height else { return nil }
        var xs: [Int] = []
        var chars: [Character] = []
        for x in 0..<width where !self[x, y].isContinuation {
            for ch in self[x, y].text { xs.append(x); chars.append(ch) }
        }
        let target = Array(needle)
        guard !target.isEmpty, target.count <= chars.count else { return nil }
        for i in 0...(chars.count - target.count) where Array(chars[i..<(i + target.count)]) == target {
            return xs[i]
        }
        return nil
    }

    // MARK: diff

    /// The runs of cells that differ between two frames: what must be written to turn `previous`
    /// into `next`. A different size (or no previous frame) redraws everything.
    public static func diff(_ previous: CellBuffer?, _ next: CellBuffer) -> [CellRun] {
        var runs: [CellRun] = []
        guard let previous, previous.width == next.width, previous.height == next.height,
              previous.charset == next.charset else {
            for y in 0..<next.height {
                runs.append(CellRun(x: 0, y: y, cells: Array(next.cells[(y * next.width)..<((y + 1) * next.width)])))
            }
            return runs
        }
        let w = next.width
        for y in 0..<next.height {
            let base = y * w
            var x = 0
            while x < w {
                if previous.cells[base + x] == next.cells[base + x] { x += 1; continue }
                var start = x
                // A run starts on a whole character: back up over a continuation cell.
                while start > 0 && next.cells[base + start].isContinuation { start -= 1 }
                var end = x + 1
                while end < w && previous.cells[base + end] != next.cells[base + end] { end += 1 }
                // …and ends after one: include the right half of a wide character.
                while end < w && next.cells[base + end].isContinuation { end += 1 }
                if let last = runs.last, last.y == y, last.x + last.cells.count >= start {
                    let overlap = last.x + last.cells.count - start
                    runs[runs.count - 1].cells += next.cells[(base + start + overlap)..<(base + end)]
                } else {
                    runs.append(CellRun(x: start, y: y, cells: Array(next.cells[(base + start)..<(base + end)])))
                }
                x = end
            }
        }
        return runs
    }
}

/// Line-drawing characters: Unicode box drawing in a UTF-8 locale, ASCII otherwise.
public struct LineGlyphs: Sendable {
    public let horizontal, vertical, topLeft, topRight, bottomLeft, bottomRight: String
    public let teeRight, branch, lastBranch, pipe: String
    public let ellipsis, up, down, marked, success, failure, separator, cycle: String
    /// At a table header's right edge: more columns lie to the right.
    public let more: String

    public init(_ charset: Charset) {
        if charset == .unicode {
            horizontal = "─"; vertical = "│"; topLeft = "┌"; topRight = "┐"; bottomLeft = "└"; bottomRight = "┘"
            teeRight = "├"; branch = "├─"; lastBranch = "└─"; pipe = "│  "
            ellipsis = "…"; up = "▲"; down = "▼"; marked = "●"; success = "✓"; failure = "✗"
            separator = "›"; cycle = "↺"; more = "»"
        } else {
            horizontal = "-"; vertical = "|"; topLeft = "+"; topRight = "+"; bottomLeft = "+"; bottomRight = "+"
            teeRight = "+"; branch = "+-"; lastBranch = "`-"; pipe = "|  "
            ellipsis = "~"; up = "^"; down = "v"; marked = "*"; success = "+"; failure = "x"
            separator = ">"; cycle = "@"; more = ">"
        }
    }
}
