import Foundation
import Store

/// A log or text view's operations on its own state: scrolling, following, searching, saving.
/// `rows` is how many lines the screen shows. Testable without an `AppModel`.
extension LogState {
    /// The first line on screen as it is drawn now (the follow position, when following).
    public func firstShownPosition(rows: Int) -> Int {
        if !follow { return top }
        var p = ring.endPosition
        var n = 0
        while p > ring.firstPosition && n < rows {
            p -= 1
            if shows(ring[position: p]) { n += 1 }
        }
        return p
    }

    /// Scrolls by `delta` shown lines. A document (`stopsAtEnd`) stops with its last line at the
    /// bottom; a live log (`live`) scrolled down past its last screenful follows again.
    public mutating func scroll(_ delta: Int, rows: Int, stopsAtEnd: Bool, live: Bool) {
        var p = firstShownPosition(rows: rows)
        follow = false
        var n = abs(delta)
        while n > 0 {
            let next = delta < 0 ? p - 1 : p + 1
            guard next >= ring.firstPosition && next < ring.endPosition else { break }
            p = next
            if shows(ring[position: p]) { n -= 1 }
        }
        if stopsAtEnd && device == nil {
            // Wrapped lines take more rows than lines: at the end, the view draws from the last
            // line up (as when following), which it measures, so the last lines are reachable.
            if wrap && delta > 0 && p >= ring.endPosition - rows { follow = true }
            p = max(ring.firstPosition, min(p, ring.endPosition - rows))
        }
        top = p
        if delta > 0 && ring.endPosition - p <= rows && live { follow = true }
    }

    /// Goes to the first line (and stops following) or to the end (and follows).
    public mutating func moveTo(start: Bool) {
        if start {
            follow = false
            top = ring.firstPosition
        } else {
            follow = true
        }
    }

    /// Finds the next (or previous) line holding the search text, wrapping around the held lines;
    /// returns what to say when there is none: (text, isError).
    public mutating func findMatch(forward: Bool, rows: Int) -> (String, Bool)? {
        guard let needle = search, !needle.isEmpty else { return ("no search: / searches", false) }
        guard !ring.isEmpty else { return nil }
        let start = match ?? firstShownPosition(rows: rows)
        let count = ring.count
        for step in 1...count {
            var p = start + (forward ? step : -step)
            p = ring.firstPosition + ((p - ring.firstPosition) % count + count) % count
            let line = ring[position: p]
            if shows(line) && line.text.range(of: needle, options: .caseInsensitive) != nil {
                match = p
                follow = false
                top = max(ring.firstPosition, p - rows / 3)
                return nil
            }
        }
        return ("'\(needle)' not found", true)
    }

    /// Moves to the next (or previous) `@@` hunk of a diff from the first line shown; returns what
    /// to say when there is none. With `sideBySide`, the first row shown is the reference.
    public mutating func jumpHunk(forward: Bool, rows: Int, sideBySide: Bool) -> String? {
        var from = firstShownPosition(rows: rows)
        if sideBySide, let sideRows, !sideRows.isEmpty { from = sideRows[DiffDocument.rowIndex(sideRows, at: from)].position }
        var p = from
        while true {
            p += forward ? 1 : -1
            guard p >= ring.firstPosition && p < ring.endPosition else { return forward ? "no later change" : "no earlier change" }
            if DiffDocument.isHunk(ring[position: p]) { break }
        }
        follow = false
        top = p
        return nil
    }

    /// Scrolls the side-by-side layout by `delta` rows; `top` stays a ring position (the first
    /// line of the row on top), so switching layouts keeps the place.
    public mutating func scrollSideBySide(_ delta: Int, rows: Int) {
        guard let sideRows, !sideRows.isEmpty else { return }
        let current = DiffDocument.rowIndex(sideRows, at: firstShownPosition(rows: rows))
        // Down stops with the last row at the bottom (or where a jump left it); up stops at the first.
        let target = delta < 0 ? max(0, current + delta) : min(current + delta, max(current, sideRows.count - rows))
        follow = false
        top = sideRows[max(0, target)].position
    }

    /// The held lines as plain, inert text, as shown (device filter, timestamps).
    public func text() -> String {
        var out = ""
        if ring.dropped > 0 { out += "[\(Formats.count(ring.dropped, "earlier line")) not held]\n" }
        for p in ring.firstPosition..<ring.endPosition {
            let l = ring[position: p]
            guard shows(l) else { continue }
            if timestamps, let t = l.time { out += Formats.logTime(t) + " " }
            if let level = l.level { out += level.rawValue.uppercased() + " " }
            out += Sanitizer.inert(l.origin) + Sanitizer.inert(l.text) + "\n"
        }
        return out
    }
}

extension AppModel {
    func firstShownPosition() -> Int { top.log.firstShownPosition(rows: layout.logRows) }

    /// Whether the top view shows a diff side by side (asked for, and the terminal is wide enough).
    var sideBySideShown: Bool { top.log.sideBySide && top.log.isDiff && width >= DiffDocument.sideBySideWidth }

    mutating func scrollLog(_ delta: Int) {
        if sideBySideShown { top.log.scrollSideBySide(delta, rows: layout.logRows); return }
        var stopsAtEnd = false, live = false
        if case .document = top.content { stopsAtEnd = true }
        if case .runLog = top.content { live = true }
        top.log.scroll(delta, rows: layout.logRows, stopsAtEnd: stopsAtEnd, live: live)
    }

    mutating func findMatch(forward: Bool) {
        if let (text, isError) = top.log.findMatch(forward: forward, rows: layout.logRows) { flash(text, error: isError) }
    }

    func logText() -> String { top.log.text() }
}
