import Foundation
import Store

/// When a task fires: its rule (an interval from a start date, a cron expression, or one date), an
/// optional start and end, in a time zone. Every instant a schedule yields is a whole second, so the
/// stored `next_fire` (millisecond text in SQLite) reads back as exactly the same `Date`.
public struct TaskSchedule: Sendable, Equatable {
    public enum Rule: Sendable, Equatable {
        /// Every N seconds from the start date (or, without one, from the first time it is scheduled).
        case interval(seconds: Int)
        case cron(CronExpression)
        /// Once, at a date (stored as the task's `start_date`, as eNMS does).
        case once(Date)
    }

    public let rule: Rule
    public let start: Date?
    public let end: Date?
    public let timeZone: TimeZone

    public init(rule: Rule, start: Date? = nil, end: Date? = nil, timeZone: TimeZone = .current) throws {
        self.rule = rule
        self.start = start.map(Self.wholeSecond)
        self.end = end.map(Self.wholeSecond)
        self.timeZone = timeZone
        if case .interval(let s) = rule, s < 1 { throw ScheduleError("every: the interval must be at least 1 second") }
        if let s = self.start, let e = self.end, e <= s {
            throw ScheduleError("end: \(Self.describe(e, in: timeZone)) is not after start \(Self.describe(s, in: timeZone))")
        }
        if case .once(let at) = rule, let e = self.end, e < Self.wholeSecond(at) {
            throw ScheduleError("end: \(Self.describe(e, in: timeZone)) is before the one-shot time \(Self.describe(at, in: timeZone))")
        }
    }

    /// The schedule a stored task describes; a task imported with a broken schedule throws, naming the field.
    public init(task: ScheduledTask) throws {
        let zone = try Self.zone(task.timezone)
        let rule: Rule
        switch task.scheduleKind {
        case .interval:
            guard let s = task.intervalSeconds, s > 0 else { throw ScheduleError("interval_seconds: \(task.intervalSeconds.map(String.init) ?? "missing") is not a positive number of seconds") }
            rule = .interval(seconds: s)
        case .cron:
            rule = .cron(try CronExpression(task.cron))
        case .once:
            guard let at = task.startDate else { throw ScheduleError("start_date: a one-shot task needs the date it runs at") }
            rule = .once(Self.wholeSecond(at))
        }
        if case .once = rule {
            try self.init(rule: rule, start: nil, end: task.endDate, timeZone: zone)
        } else {
            try self.init(rule: rule, start: task.startDate, end: task.endDate, timeZone: zone)
        }
    }

    /// A task's zone: an IANA name, or empty for the local zone.
    public static func zone(_ name: String) throws -> TimeZone {
        if name.isEmpty { return .current }
        guard let z = TimeZone(identifier: name) else {
            throw ScheduleError("timezone: '\(name)' is not a known time zone (an IANA name such as Europe/Paris or UTC)")
        }
        return z
    }

    /// The zone's name as `task list` shows it: always shown, `local (X)` when the task names none.
    public static func zoneLabel(_ name: String) -> String {
        name.isEmpty ? "local (\(TimeZone.current.identifier))" : name
    }

    static func wholeSecond(_ d: Date) -> Date { Date(timeIntervalSince1970: floor(d.timeIntervalSince1970)) }
    static func ceilSecond(_ d: Date) -> Date { Date(timeIntervalSince1970: ceil(d.timeIntervalSince1970)) }

    /// The first due time when the task is scheduled at `now` (enabled, created enabled, or met by the
    /// scheduler with no next fire): an interval fires at its start if that is now or ahead, else at the next
    /// step from the start, else (no start) one interval from now; cron at its first match at or after
    /// the start; a one-shot at its date, even past (the misfire policy then decides). Nil: never again.
    public func firstFire(now: Date) -> Date? {
        let due: Date?
        switch rule {
        case .interval(let seconds):
            if let start {
                due = start >= now ? start : next(after: now, anchor: start)
            } else {
                due = Self.ceilSecond(now).addingTimeInterval(TimeInterval(seconds))
            }
        case .cron(let cron):
            var after = now
            if let start, start > now { after = start.addingTimeInterval(-1) }
            due = cron.next(after: after, in: timeZone)
        case .once(let at):
            due = at
        }
        return bounded(due)
    }

    /// The first due time strictly after `after`. `anchor` is a due time of the same series (for an
    /// interval without a start date: the current `next_fire`), so intervals stay on their grid.
    public func next(after: Date, anchor: Date? = nil) -> Date? {
        switch rule {
        case .interval(let seconds):
            guard let base = start ?? anchor else {
                return bounded(Self.ceilSecond(after).addingTimeInterval(TimeInterval(seconds)))
            }
            if after < base { return bounded(base) }
            let steps = floor(after.timeIntervalSince(base) / TimeInterval(seconds)) + 1
            return bounded(base.addingTimeInterval(steps * TimeInterval(seconds)))
        case .cron(let cron):
            var from = after
            if let start, start > after { from = start.addingTimeInterval(-1) }
            return bounded(cron.next(after: from, in: timeZone))
        case .once(let at):
            return at > after ? bounded(at) : nil
        }
    }

    /// The next `count` due times after `now` (the first as `firstFire` gives it, unless `from` is set).
    public func upcoming(now: Date, count: Int, from first: Date? = nil) -> [Date] {
        var out: [Date] = []
        var t = first ?? firstFire(now: now)
        let anchor = t
        while let d = t, out.count < count {
            out.append(d)
            t = next(after: d, anchor: anchor)
        }
        return out
    }

    func bounded(_ d: Date?) -> Date? {
        guard let d else { return nil }
        if let end, d > end { return nil }
        return d
    }

    /// A readable form: `every 1h30m`, `cron 0 2 * * *`, `once at 2026-06-01 02:30:00 +02:00`.
    public var summary: String {
        switch rule {
        case .interval(let s): return "every " + DurationParser.format(s)
        case .cron(let c): return "cron " + c.source
        case .once(let at): return "once at " + Self.describe(at, in: timeZone)
        }
    }

    /// `2026-06-01 02:30:00 +02:00`: wall clock in the zone, with its offset.
    public static func describe(_ d: Date, in zone: TimeZone) -> String {
        let t = CivilDateTime(d, in: zone)
        let offset = zone.secondsFromGMT(for: d)
        let sign = offset < 0 ? "-" : "+"
        let a = abs(offset)
        return t.description + String(format: " %@%02d:%02d", sign, a / 3600, a % 3600 / 60)
    }
}

/// Durations as engineers type them: `30s`, `5m`, `2h`, `1d`, `1w`, and combinations such as `1h30m`.
public enum DurationParser {
    static let units: [Character: Int] = ["s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800]

    public static func parse(_ text: String, field: String = "every") throws -> Int {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        if t.isEmpty { throw ScheduleError("\(field): empty duration (e.g. 30s, 5m, 2h, 1d, 1w or 1h30m)") }
        var total = 0
        var digits = ""
        var seen = Set<Character>()
        for c in t {
            if c.isASCII && c.isNumber { digits.append(c); continue }
            guard let factor = units[c] else {
                throw ScheduleError("\(field): '\(text)' has an unknown unit '\(c)' (use s, m, h, d or w)")
            }
            guard !digits.isEmpty, let n = Int(digits) else {
                throw ScheduleError("\(field): '\(text)' has a unit '\(c)' without a number before it")
            }
            if seen.contains(c) { throw ScheduleError("\(field): '\(text)' gives the unit '\(c)' twice") }
            seen.insert(c)
            let (product, o1) = n.multipliedReportingOverflow(by: factor)
            let (sum, o2) = total.addingReportingOverflow(product)
            if o1 || o2 || sum > 100 * 365 * 86400 { throw ScheduleError("\(field): '\(text)' is longer than 100 years") }
            total = sum
            digits = ""
        }
        if !digits.isEmpty {
            throw ScheduleError("\(field): '\(text)' ends without a unit (use s, m, h, d or w, e.g. \(digits)s)")
        }
        if total < 1 { throw ScheduleError("\(field): '\(text)' is zero; the interval must be at least 1s") }
        return total
    }

    /// `5400` → `1h30m`.
    public static func format(_ seconds: Int) -> String {
        if seconds <= 0 { return "\(seconds)s" }
        var rest = seconds
        var out = ""
        for (unit, size) in [("w", 604800), ("d", 86400), ("h", 3600), ("m", 60), ("s", 1)] where rest >= size {
            out += "\(rest / size)\(unit)"
            rest %= size
        }
        return out
    }
}

/// ISO 8601 times: `2026-06-01`, `2026-06-01T02:30`, `2026-06-01 02:30:15`, with an optional offset
/// (`Z`, `+02:00`, `+0200`, `+02`). Without an offset the time is read in the task's zone, by the
/// scheduler's DST rules (inside a spring-forward gap: the first valid instant after; in a repeated hour:
/// the first occurrence). Fractions of a second are dropped: schedules run on whole seconds.
public enum ScheduleTime {
    public static func parse(_ text: String, field: String, zone: TimeZone) throws -> Date {
        let t = text.trimmingCharacters(in: .whitespaces)
        let fail = ScheduleError("\(field): '\(text)' is not an ISO 8601 time (e.g. 2026-06-01T02:30, 2026-06-01 02:30:00 or 2026-06-01T02:30:00+02:00)")
        let chars = Array(t)
        var i = 0
        func number(_ n: Int) throws -> Int {
            guard i + n <= chars.count else { throw fail }
            let s = String(chars[i..<i + n])
            guard s.allSatisfy({ $0.isASCII && $0.isNumber }), let v = Int(s) else { throw fail }
            i += n
            return v
        }
        func expect(_ c: Character) throws { guard i < chars.count, chars[i] == c else { throw fail }; i += 1 }
        let year = try number(4); try expect("-")
        let month = try number(2); try expect("-")
        let day = try number(2)
        var hour = 0, minute = 0, second = 0
        if i < chars.count, chars[i] == "T" || chars[i] == "t" || chars[i] == " " {
            i += 1
            hour = try number(2); try expect(":")
            minute = try number(2)
            if i < chars.count, chars[i] == ":" {
                i += 1
                second = try number(2)
                if i < chars.count, chars[i] == "." || chars[i] == "," {
                    i += 1
                    let s = i
                    while i < chars.count, chars[i].isASCII, chars[i].isNumber { i += 1 }
                    if i == s { throw fail }
                }
            }
        }
        var offset: Int? = nil
        if i < chars.count {
            if chars[i] == "Z" || chars[i] == "z" {
                offset = 0; i += 1
            } else if chars[i] == "+" || chars[i] == "-" {
                let sign = chars[i] == "-" ? -1 : 1
                i += 1
                let oh = try number(2)
                var om = 0
                if i < chars.count {
                    if chars[i] == ":" { i += 1 }
                    om = try number(2)
                }
                if oh > 23 || om > 59 { throw ScheduleError("\(field): offset in '\(text)' is out of range") }
                offset = sign * (oh * 3600 + om * 60)
            } else {
                throw fail
            }
        }
        if i != chars.count { throw fail }
        if !(1...12).contains(month) { throw ScheduleError("\(field): month \(month) in '\(text)' is out of range 1–12") }
        if day < 1 || day > CivilDate.daysIn(year: year, month: month) {
            throw ScheduleError("\(field): day \(day) in '\(text)' does not exist in \(String(format: "%04d-%02d", year, month))")
        }
        if hour > 23 { throw ScheduleError("\(field): hour \(hour) in '\(text)' is out of range 0–23") }
        if minute > 59 { throw ScheduleError("\(field): minute \(minute) in '\(text)' is out of range 0–59") }
        if second > 59 { throw ScheduleError("\(field): second \(second) in '\(text)' is out of range 0–59") }
        let local = CivilDateTime(year: year, month: month, day: day, hour: hour, minute: minute, second: second).localSeconds
        if let offset { return Date(timeIntervalSince1970: TimeInterval(local - Int64(offset))) }
        return ZoneConversion.instant(forLocalSeconds: local, in: zone)
    }
}
