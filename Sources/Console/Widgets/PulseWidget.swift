import Foundation
import Store

/// The glyphs of the pulse's sparklines and bars: Unicode block elements where the console shows
/// Unicode (a UTF-8 locale, the same test as its box drawing: `Charset`), ASCII otherwise.
public struct PulseGlyphs: Sendable {
    /// Sparkline levels: 0 (nothing) to 8 (the highest value shown).
    public let levels: [String]
    /// A full bar cell, and the cells of 1/8 to 7/8 (none in ASCII: a bar rounds to whole cells).
    public let full: String
    public let partials: [String]
    /// The rest of a bar's track.
    public let track: String
    /// The second and third segments of a stacked bar (the first is `full`).
    public let second: String
    public let third: String

    public init(_ charset: Charset) {
        if charset == .unicode {
            levels = [" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]
            full = "█"; partials = ["▏", "▎", "▍", "▌", "▋", "▊", "▉"]
            track = "░"; second = "▓"; third = "░"
        } else {
            levels = [" ", ".", ",", ":", "-", "=", "+", "*", "#"]
            full = "#"; partials = []
            track = "-"; second = "x"; third = "."
        }
    }

    /// One glyph per value, scaled so that `max` is the full block; any value above zero shows.
    public func sparkline(_ values: [Int], max top: Int) -> String {
        values.map { v -> String in
            guard v > 0, top > 0 else { return levels[0] }
            return levels[min(8, max(1, Int((Double(v) * 8 / Double(top)).rounded(.up))))]
        }.joined()
    }

    /// A bar of `fraction` of `width` cells (to the eighth of a cell in Unicode), then the track or
    /// blanks. Anything above zero shows at least a sliver.
    public func bar(_ fraction: Double, width: Int, track withTrack: Bool) -> (filled: String, rest: String) {
        guard width > 0 else { return ("", "") }
        let f = min(1, max(0, fraction.isFinite ? fraction : 0))
        var filled = ""
        var used = 0
        if partials.isEmpty {
            var cells = Int((f * Double(width)).rounded())
            if f > 0 && cells == 0 { cells = 1 }
            filled = String(repeating: full, count: cells)
            used = cells
        } else {
            var eighths = Int((f * Double(width) * 8).rounded())
            if f > 0 && eighths == 0 { eighths = 1 }
            let whole = min(width, eighths / 8)
            filled = String(repeating: full, count: whole)
            used = whole
            if whole < width && eighths % 8 > 0 {
                filled += partials[eighths % 8 - 1]
                used += 1
            }
        }
        return (filled, String(repeating: withTrack ? track : " ", count: width - used))
    }

    /// Cells per segment of a stacked bar: proportional (largest remainders), at least one for
    /// any segment above zero when there is room.
    public static func split(_ counts: [Int], width: Int) -> [Int] {
        let total = counts.reduce(0, +)
        guard total > 0, width > 0 else { return counts.map { _ in 0 } }
        let exact = counts.map { Double($0) * Double(width) / Double(total) }
        var cells = exact.map { Int($0.rounded(.down)) }
        var left = width - cells.reduce(0, +)
        for i in exact.indices.sorted(by: { exact[$0] - Double(cells[$0]) > exact[$1] - Double(cells[$1]) }) where left > 0 {
            cells[i] += 1; left -= 1
        }
        // A segment above zero that got no cell takes one from the largest.
        for i in counts.indices where counts[i] > 0 && cells[i] == 0 {
            if let big = cells.indices.max(by: { cells[$0] < cells[$1] }), cells[big] > 1 { cells[big] -= 1; cells[i] = 1 }
        }
        return cells
    }
}

/// `:pulse`: finished runs per quarter hour (succeeded and failed sparklines), devices by last-run
/// status and reachability, the engine's queue and running runs, today's changed backups and the
/// slowest devices. Drawn from the figures of the last read (`ConsoleStore.Pulse`) and the clock:
/// the histogram moves with time without reading again (no write, no run ended).
public enum PulseWidget {
    static let labelWidth = 12

    public static func render(_ model: AppModel, into buffer: inout CellBuffer, rect: Rect) {
        buffer.fill(rect, role: .body)
        let v = model.top
        guard let p = v.pulse else {
            TableWidget.message(v.lastLoad == nil ? "loading…" : (v.error ?? "no figures"), into: &buffer, rect: rect, error: v.error != nil)
            return
        }
        var out = Lines(rect: rect)
        let g = PulseGlyphs(buffer.charset)
        let lg = LineGlyphs(buffer.charset)

        // Runs per bucket: the latest buckets up to now, as many whole hours as fit.
        let bs = p.bucketSeconds
        let perHour = max(1, 3600 / bs)
        var n = rect.width - 1 - labelWidth - 8
        n = min(p.succeeded.count, max(perHour, n - n % perHour))
        let nowSeconds = Int(model.now.timeIntervalSince1970.rounded(.down))
        let current = nowSeconds - ((nowSeconds % bs) + bs) % bs
        let firstShown = current - (n - 1) * bs
        let firstStored = Int(p.firstBucket.timeIntervalSince1970)
        func counts(_ stored: [Int]) -> [Int] {
            (0..<n).map { i in
                let k = (firstShown + i * bs - firstStored) / bs
                return k >= 0 && k < stored.count && (firstShown + i * bs - firstStored) % bs == 0 ? stored[k] : 0
            }
        }
        let ok = counts(p.succeeded), bad = counts(p.failed)
        let top = max(ok.max() ?? 0, bad.max() ?? 0)
        let hours = n * bs / 3600
        out.line { l in
            l.put("Runs ended, last \(hours)h, per \(bs / 60) min", .title)
            l.put("   \(ok.reduce(0, +)) succeeded, \(bad.reduce(0, +)) failed", .body)
            if top > 0 { l.put(", at most \(top) in \(bs / 60) min", .dim) }
        }
        for (label, values, role) in [("succeeded", ok, Role.statusCompleted), ("failed", bad, Role.statusFailed)] {
            out.line { l in
                l.put(pad("  " + label, labelWidth), .body)
                l.put(g.sparkline(values, max: top), role)
                l.put(" " + String(values.reduce(0, +)), .body)
            }
        }
        out.line { l in
            let left = "-\(hours)h", right = "now"
            l.put(String(repeating: " ", count: labelWidth), .dim)
            l.put(left + String(repeating: " ", count: max(1, n - left.count - right.count)) + right, .dim)
        }
        out.blank()

        // Devices: two stacked bars.
        let barWidth = min(40, max(10, (rect.width - 16) / 2))
        out.line { l in l.put("Devices \(p.devices)", .title) }
        var success = 0, failure = 0, never = 0, other = 0
        for c in p.lastRun {
            switch c.name.lowercased() {
            case "success", "completed", "true": success += c.count
            case "failure", "failed", "false": failure += c.count
            case "": never += c.count
            default: other += c.count
            }
        }
        stacked(&out, "  last run", [("success", success, g.full, .statusCompleted), ("failure", failure, g.second, .statusFailed),
                                     ("other", other, g.third, .body), ("never", never, g.third, .dim)], width: barWidth)
        stacked(&out, "  reachable", [("yes", p.reachable, g.full, .statusCompleted), ("no", p.unreachable, g.second, .statusFailed),
                                      ("unknown", p.reachabilityUnknown, g.third, .dim)], width: barWidth)
        out.blank()

        // The engine: its queue, and the runs in flight with their progress.
        let left = p.running.reduce(0) { $0 + max(0, $1.total - $1.done) }
        let inFlight = p.running.reduce(0) { $0 + $1.inFlight }
        out.line { l in
            l.put("Engine", .title)
            l.put(" " + (model.header.enginePid.map { "pid \($0)" } ?? "off"), model.header.enginePid == nil ? .dim : .body)
            l.put("   queued \(p.queued)   running \(p.running.count)", .body)
            if !p.running.isEmpty {
                l.put("   \(inFlight) in flight", .body)
                l.put("   \(left) device operation\(left == 1 ? "" : "s") left", .body)
            }
        }
        // Rows below the engine's: two blanks, two for backups, the slowest devices' title and at
        // least one device; runs get up to half of what is left.
        let fixedBelow = 6
        let runRows = p.running.isEmpty ? 1 : min(p.running.count, max(1, (out.remaining - fixedBelow) / 2))
        if p.running.isEmpty {
            out.line { l in l.put("  nothing running", .dim) }
        } else {
            let shown = p.running.count > runRows ? runRows - 1 : runRows
            let nameWidth = min(28, p.running.prefix(shown).map { TextWidth.of("run \($0.id) \($0.service)") }.max() ?? 0)
            for r in p.running.prefix(shown) {
                out.line { l in
                    l.put("  " + pad(fit("run \(r.id) \(r.service)", nameWidth, lg.ellipsis), nameWidth) + " ", .body)
                    let (filled, rest) = g.bar(r.total > 0 ? Double(r.done) / Double(r.total) : 0, width: 20, track: true)
                    l.put(filled, .statusRunning)
                    l.put(rest, .dim)
                    l.put(" \(r.done)/\(r.total)", .body)
                    if r.failed > 0 { l.put(" \(r.failed)\(lg.failure)", .statusFailed) }
                    if let s = r.startedAt { l.put("  since " + Formats.clock(s), .dim) }
                }
            }
            if shown < p.running.count { out.line { l in l.put("  +\(p.running.count - shown) more running (:runs)", .dim) } }
        }
        out.blank()

        // Backups of today (figures of another day mean none yet today: the day turned since the read).
        let today = Calendar.current.startOfDay(for: model.now) == p.day
        let changed = today ? p.changedDeviceCount : 0, versions = today ? p.changedVersions : 0
        let backedUp = today ? p.backedUp : 0, failedBackups = today ? p.backupsFailed : 0
        out.line { l in
            l.put("Backups changed today", .title)
            l.put("   \(changed) device\(changed == 1 ? "" : "s")", .body)
            if versions != changed { l.put(" (\(versions) versions)", .body) }
            l.put(" of \(backedUp) backed up", .body)
            if failedBackups > 0 { l.put("   \(failedBackups) failed", .statusFailed) }
        }
        out.line { l in
            l.put(String(repeating: " ", count: labelWidth), .body)
            let (filled, rest) = g.bar(backedUp > 0 ? Double(changed) / Double(backedUp) : 0, width: barWidth, track: true)
            l.put(filled, .diffAdded)
            l.put(rest, .dim)
            let names = today ? p.changedDevices : []
            if !names.isEmpty {
                l.put("  " + names.joined(separator: ", ") + (changed > names.count ? ", " + lg.ellipsis : ""), .body)
            }
        }
        out.blank()

        // The slowest devices, in the rows that are left.
        out.line { l in
            l.put("Slowest devices", .title)
            l.put("   average per operation, runs of the last \(Int(p.slowestWindow / 3600))h", .dim)
        }
        if p.slowest.isEmpty {
            out.line { l in l.put("  no results yet", .dim) }
        } else {
            let shown = p.slowest.prefix(max(1, out.remaining))
            let nameWidth = min(28, shown.map { TextWidth.of($0.device) }.max() ?? 0)
            let slowest = Double(shown.first?.averageMs ?? 1)
            for d in shown {
                out.line { l in
                    l.put("  " + pad(fit(d.device, nameWidth, lg.ellipsis), nameWidth) + " ", .body)
                    let (filled, rest) = g.bar(slowest > 0 ? Double(d.averageMs) / slowest : 0, width: barWidth - 8, track: false)
                    l.put(filled, .statusRunning)
                    l.put(rest, .body)
                    l.put(" " + pad(Formats.duration(seconds: Double(d.averageMs) / 1000), 7), .body)
                    l.put(" max " + Formats.duration(seconds: Double(d.maxMs) / 1000) + "  \(d.operations) op\(d.operations == 1 ? "" : "s")", .dim)
                }
            }
        }
        out.flush(into: &buffer)
    }

    /// A stacked bar with its legend: `  last run  ████▓▓░  success 15  failure 3  never 2`.
    static func stacked(_ out: inout Lines, _ label: String, _ segments: [(String, Int, String, Role)], width: Int) {
        let shown = segments.filter { $0.1 > 0 }
        let cells = PulseGlyphs.split(shown.map(\.1), width: width)
        out.line { l in
            l.put(pad(label, labelWidth), .body)
            for (s, c) in zip(shown, cells) { l.put(String(repeating: s.2, count: c), s.3) }
            if shown.isEmpty { l.put(String(repeating: " ", count: width), .dim) }
            for s in shown { l.put("  \(s.0) \(s.1)", s.3 == .dim ? .dim : .body) }
        }
    }

    static func pad(_ s: String, _ n: Int) -> String {
        let w = TextWidth.of(s)
        return w >= n ? s : s + String(repeating: " ", count: n - w)
    }

    /// Cuts a name to `n` columns (untrusted text: the buffer sanitises it when written).
    static func fit(_ s: String, _ n: Int, _ ellipsis: String) -> String {
        TextWidth.of(s) <= n ? s : String(s.prefix(max(0, n - 1))) + ellipsis
    }

    /// The dashboard's lines, top to bottom, cut at the bottom of the area.
    struct Lines {
        let rect: Rect
        var rows: [[(String, Role)]] = []
        init(rect: Rect) { self.rect = rect }

        var remaining: Int { max(0, rect.height - rows.count) }

        mutating func line(_ build: (inout Line) -> Void) {
            var l = Line()
            build(&l)
            rows.append(l.parts)
        }

        mutating func blank() { rows.append([]) }

        func flush(into buffer: inout CellBuffer) {
            for (i, parts) in rows.prefix(rect.height).enumerated() {
                var x = rect.x + 1
                for (text, role) in parts where x < rect.maxX {
                    x += buffer.write(text, x: x, y: rect.y + i, role: role, limit: rect.maxX - x)
                }
            }
        }
    }

    struct Line {
        var parts: [(String, Role)] = []
        mutating func put(_ text: String, _ role: Role) { parts.append((text, role)) }
    }
}
