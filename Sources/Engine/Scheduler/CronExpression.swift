import Foundation

/// A parse error that names the field and the value at fault, e.g. `minute: 61 is out of range 0–59`.
public struct ScheduleError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A 5-field crontab expression (`minute hour day-of-month month day-of-week`) as Vixie cron / cronie
/// read it: `*`, values, ranges `a-b`, lists `a,b`, steps `*/n`, `a-b/n` and `a/n` (from a to the
/// field's end), month names `jan`–`dec`, weekday names `sun`–`sat`, weekday 0–7 (0 and 7 are Sunday),
/// and the macros `@yearly` (`@annually`), `@monthly`, `@weekly`, `@daily` (`@midnight`), `@hourly`.
///
/// Day matching follows cron: when both day-of-month and day-of-week are restricted, a day matches
/// if *either* does (`0 0 13 * fri` fires on every 13th and every Friday); a field that starts with
/// `*` (including `*/2`) counts as unrestricted, as in Vixie cron, and then both must hold.
///
/// Times are wall-clock times in a time zone. Across DST changes (the choice cronie makes for
/// fixed-time jobs, and the one APScheduler's documentation describes):
/// - spring forward: a time inside the gap (02:30 in Europe/Paris on the last Sunday of March) does not
///   exist; the job fires once at the first valid instant after it (03:00 CEST, the transition). Several
///   matching times inside one gap coalesce into that one fire.
/// - fall back: a wall-clock time that occurs twice (01:30 in America/New_York in November) fires once,
///   at its first occurrence (EDT). The repeated hour does not fire again, wildcard fields included.
///
/// A schedule that can never fire (`0 0 30 2 *`, `0 0 31 4 *`) is refused when parsed: the day rule is
/// checked against every day of a 28-year window, which holds every combination of leap year and
/// weekday the Gregorian calendar has between 1901 and 2099.
public struct CronExpression: Sendable, Equatable, CustomStringConvertible {
    public let minutes: UInt64
    public let hours: UInt64
    public let daysOfMonth: UInt64
    public let months: UInt64
    /// Bit 0 = Sunday … bit 6 = Saturday (7 folded into 0).
    public let daysOfWeek: UInt64
    public let domRestricted: Bool
    public let dowRestricted: Bool
    /// The expression as written (trimmed).
    public let source: String

    public var description: String { source }

    static let fieldNames = ["minute", "hour", "day-of-month", "month", "day-of-week"]
    static let bounds: [ClosedRange<Int>] = [0...59, 0...23, 1...31, 1...12, 0...7]
    static let monthNames = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    static let dayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
    static let macros: [String: String] = [
        "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
        "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
    ]

    public init(_ text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        source = trimmed
        var body = trimmed
        if trimmed.hasPrefix("@") {
            guard let expansion = Self.macros[trimmed.lowercased()] else {
                throw ScheduleError("cron: unknown macro '\(trimmed)' (use @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly)")
            }
            body = expansion
        }
        let fields = body.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        if fields.isEmpty { throw ScheduleError("cron: the expression is empty (5 fields: minute hour day-of-month month day-of-week)") }
        if fields.count != 5 {
            throw ScheduleError("cron: '\(trimmed)' has \(fields.count) field\(fields.count == 1 ? "" : "s"), expected 5 (minute hour day-of-month month day-of-week)")
        }
        var sets: [UInt64] = []
        for (i, f) in fields.enumerated() { sets.append(try Self.parseField(f, index: i)) }
        minutes = sets[0]; hours = sets[1]; daysOfMonth = sets[2]; months = sets[3]
        var dow = sets[4]
        if dow & (1 << 7) != 0 { dow = (dow & ~(1 << 7)) | 1 }
        daysOfWeek = dow
        domRestricted = !fields[2].hasPrefix("*")
        dowRestricted = !fields[4].hasPrefix("*")
        if !Self.canFire(dom: daysOfMonth, months: months, dow: daysOfWeek, domRestricted: domRestricted, dowRestricted: dowRestricted) {
            throw ScheduleError("cron: '\(trimmed)' can never fire: no day has day-of-month \(fields[2]) in month \(fields[3])" + (domRestricted && !dowRestricted && fields[4] != "*" ? " on day-of-week \(fields[4])" : ""))
        }
    }

    static func parseField(_ text: String, index: Int) throws -> UInt64 {
        let name = fieldNames[index], range = bounds[index]
        var set: UInt64 = 0
        if text.isEmpty { throw ScheduleError("\(name): empty") }
        for item in text.split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
            if item.isEmpty { throw ScheduleError("\(name): empty list item in '\(text)'") }
            var rangePart = item
            var step = 1
            var stepGiven = false
            if let slash = item.firstIndex(of: "/") {
                rangePart = String(item[..<slash])
                let stepText = String(item[item.index(after: slash)...])
                guard let s = Int(stepText), stepText.allSatisfy(\.isASCII) else {
                    throw ScheduleError("\(name): step '\(stepText)' in '\(item)' is not a number")
                }
                if s < 1 { throw ScheduleError("\(name): step \(s) in '\(item)' must be at least 1") }
                if s > range.upperBound {
                    throw ScheduleError("\(name): step \(s) in '\(item)' is larger than the field's range \(range.lowerBound)–\(range.upperBound)")
                }
                step = s; stepGiven = true
            }
            var lo: Int, hi: Int
            if rangePart == "*" {
                lo = range.lowerBound; hi = index == 4 ? 6 : range.upperBound
            } else if let dash = rangePart.firstIndex(of: "-") {
                let a = String(rangePart[..<dash]), b = String(rangePart[rangePart.index(after: dash)...])
                lo = try value(a, index: index, item: item)
                hi = try value(b, index: index, item: item)
                if lo > hi {
                    // `sun` written as 7 at the end of a weekday range (`fri-sun`) reads as 7.
                    if index == 4 && hi == 0 && b.lowercased() == "sun" { hi = 7 }
                    else { throw ScheduleError("\(name): range \(a)-\(b) runs backwards (\(lo) > \(hi))") }
                }
            } else {
                lo = try value(rangePart, index: index, item: item)
                hi = stepGiven ? (index == 4 ? 6 : range.upperBound) : lo
                if stepGiven && index == 4 && lo == 7 { hi = 7 }
            }
            var v = lo
            while v <= hi { set |= 1 << UInt64(v); v += step }
        }
        return set
    }

    static func value(_ text: String, index: Int, item: String) throws -> Int {
        let name = fieldNames[index], range = bounds[index]
        let lower = text.lowercased()
        if index == 3, let i = monthNames.firstIndex(of: lower) { return i + 1 }
        if index == 4, let i = dayNames.firstIndex(of: lower) { return i }
        guard !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(text) else {
            let hint = index == 3 ? " (a number or jan–dec)" : index == 4 ? " (a number or sun–sat)" : ""
            if text.isEmpty { throw ScheduleError("\(name): missing value in '\(item)'") }
            throw ScheduleError("\(name): '\(text)' is not a valid value\(hint)")
        }
        if !range.contains(n) {
            throw ScheduleError("\(name): \(n) is out of range \(range.lowerBound)–\(range.upperBound)")
        }
        return n
    }

    /// Whether some day in a 28-year window (2000–2027) matches the day rule.
    static func canFire(dom: UInt64, months: UInt64, dow: UInt64, domRestricted: Bool, dowRestricted: Bool) -> Bool {
        var weekday = CivilDate.weekday(year: 2000, month: 1, day: 1)
        for year in 2000..<2028 {
            for month in 1...12 {
                let n = CivilDate.daysIn(year: year, month: month)
                for day in 1...n {
                    if months & (1 << UInt64(month)) != 0
                        && dayMatches(day: day, weekday: weekday, dom: dom, dow: dow, domRestricted: domRestricted, dowRestricted: dowRestricted) {
                        return true
                    }
                    weekday = (weekday + 1) % 7
                }
            }
        }
        return false
    }

    @inline(__always)
    static func dayMatches(day: Int, weekday: Int, dom: UInt64, dow: UInt64, domRestricted: Bool, dowRestricted: Bool) -> Bool {
        let d = dom & (1 << UInt64(day)) != 0
        let w = dow & (1 << UInt64(weekday)) != 0
        if domRestricted && dowRestricted { return d || w }
        return d && w
    }

    // MARK: evaluation

    /// Whether a wall-clock minute matches (seconds ignored).
    public func matches(_ t: CivilDateTime) -> Bool {
        months & (1 << UInt64(t.month)) != 0
            && Self.dayMatches(day: t.day, weekday: CivilDate.weekday(year: t.year, month: t.month, day: t.day),
                               dom: daysOfMonth, dow: daysOfWeek, domRestricted: domRestricted, dowRestricted: dowRestricted)
            && hours & (1 << UInt64(t.hour)) != 0
            && minutes & (1 << UInt64(t.minute)) != 0
    }

    /// Whether an instant is a firing time in `zone`: its wall-clock minute matches, at second 0.
    public func matches(_ date: Date, in zone: TimeZone) -> Bool {
        let t = CivilDateTime(date, in: zone)
        return t.second == 0 && matches(t)
    }

    /// The first firing instant strictly after `after`, or nil if none within the next 30 years.
    public func next(after: Date, in zone: TimeZone) -> Date? {
        var local = CivilDateTime(after, in: zone)
        local.second = 0
        var minuteStamp = local.minuteStamp + 1
        let limit = local.year + 30
        while true {
            guard let candidate = nextMatch(fromMinute: minuteStamp, yearLimit: limit) else { return nil }
            let instant = ZoneConversion.instant(forLocalSeconds: candidate * 60, in: zone)
            if instant > after { return instant }
            minuteStamp = candidate + 1
        }
    }

    /// The first matching wall-clock minute at or after `start` (minutes since 1970-01-01 00:00 wall clock).
    func nextMatch(fromMinute start: Int64, yearLimit: Int) -> Int64? {
        var t = CivilDateTime(minuteStamp: start)
        while t.year <= yearLimit {
            if months & (1 << UInt64(t.month)) == 0 {
                // First day of the next month.
                t = CivilDateTime(year: t.month == 12 ? t.year + 1 : t.year, month: t.month == 12 ? 1 : t.month + 1, day: 1, hour: 0, minute: 0)
                continue
            }
            let weekday = CivilDate.weekday(year: t.year, month: t.month, day: t.day)
            if !Self.dayMatches(day: t.day, weekday: weekday, dom: daysOfMonth, dow: daysOfWeek, domRestricted: domRestricted, dowRestricted: dowRestricted) {
                t = t.nextDay()
                continue
            }
            guard let h = Self.firstBit(hours, from: t.hour, to: 23) else { t = t.nextDay(); continue }
            if h != t.hour { t.hour = h; t.minute = 0 }
            guard let m = Self.firstBit(minutes, from: t.minute, to: 59) else {
                if t.hour == 23 { t = t.nextDay() } else { t.hour += 1; t.minute = 0 }
                continue
            }
            t.minute = m
            return t.minuteStamp
        }
        return nil
    }

    @inline(__always)
    static func firstBit(_ set: UInt64, from: Int, to: Int) -> Int? {
        if from > to { return nil }
        let masked = set >> UInt64(from)
        if masked == 0 { return nil }
        let v = from + masked.trailingZeroBitCount
        return v <= to ? v : nil
    }
}

// MARK: - calendar arithmetic

/// Proleptic Gregorian dates without a time zone.
public enum CivilDate {
    public static func isLeap(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

    public static func daysIn(year: Int, month: Int) -> Int {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 (Howard Hinnant's `days_from_civil`).
    public static func days(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let m = Int64(month)
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    /// (year, month, day) of a day number since 1970-01-01.
    public static func civil(days z0: Int64) -> (Int, Int, Int) {
        let z = z0 + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (Int(m <= 2 ? y + 1 : y), Int(m), Int(d))
    }

    /// 0 = Sunday … 6 = Saturday.
    public static func weekday(year: Int, month: Int, day: Int) -> Int {
        let d = days(year: year, month: month, day: day)
        // 1970-01-01 was a Thursday (4).
        return Int(((d % 7) + 7 + 4) % 7)
    }
}

/// A wall-clock date and time, as a clock on the wall in some zone reads it.
public struct CivilDateTime: Equatable, Sendable, CustomStringConvertible {
    public var year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int

    public init(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int = 0) {
        self.year = year; self.month = month; self.day = day; self.hour = hour; self.minute = minute; self.second = second
    }

    /// The wall clock in `zone` at an instant.
    public init(_ date: Date, in zone: TimeZone) {
        let offset = zone.secondsFromGMT(for: date)
        let local = Int64(floor(date.timeIntervalSince1970)) + Int64(offset)
        self.init(localSeconds: local)
    }

    init(localSeconds s: Int64) {
        let days = s >= 0 ? s / 86400 : (s - 86399) / 86400
        let rem = Int(s - days * 86400)
        let (y, m, d) = CivilDate.civil(days: days)
        self.init(year: y, month: m, day: d, hour: rem / 3600, minute: rem % 3600 / 60, second: rem % 60)
    }

    init(minuteStamp: Int64) { self.init(localSeconds: minuteStamp * 60) }

    /// Seconds since 1970-01-01 00:00:00 on the same wall clock.
    public var localSeconds: Int64 {
        CivilDate.days(year: year, month: month, day: day) * 86400 + Int64(hour * 3600 + minute * 60 + second)
    }

    var minuteStamp: Int64 { (localSeconds - Int64(second)) / 60 }

    func nextDay() -> CivilDateTime {
        let n = CivilDate.daysIn(year: year, month: month)
        if day < n { return CivilDateTime(year: year, month: month, day: day + 1, hour: 0, minute: 0) }
        if month < 12 { return CivilDateTime(year: year, month: month + 1, day: 1, hour: 0, minute: 0) }
        return CivilDateTime(year: year + 1, month: 1, day: 1, hour: 0, minute: 0)
    }

    public var description: String {
        String(format: "%04d-%02d-%02d %02d:%02d:%02d", year, month, day, hour, minute, second)
    }
}

/// Wall clock → instant in a zone, with the DST rules the scheduler documents.
public enum ZoneConversion {
    /// The instant a wall-clock time (as seconds since 1970-01-01 on that clock) denotes in `zone`:
    /// the time itself if it exists once; its first occurrence if it occurs twice (fall back); and,
    /// inside a spring-forward gap, the first valid instant after it (the transition).
    public static func instant(forLocalSeconds local: Int64, in zone: TimeZone) -> Date {
        let probeBefore = zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(local - 86400)))
        let probeAfter = zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(local + 86400)))
        var valid: [Int64] = []
        for offset in Set([probeBefore, probeAfter]) {
            let t = local - Int64(offset)
            if zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(t))) == offset { valid.append(t) }
        }
        if valid.isEmpty {
            // Also try the offset in force near the time itself (zones with two changes within a day).
            let near = zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(local)))
            let t = local - Int64(near)
            if zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(t))) == near { valid.append(t) }
        }
        if let first = valid.min() { return Date(timeIntervalSince1970: TimeInterval(first)) }
        // A gap: the offset jumps from `small` to `large` somewhere in (local - large, local - small].
        let small = min(probeBefore, probeAfter), large = max(probeBefore, probeAfter)
        var lo = local - Int64(large), hi = local - Int64(small)   // offset(lo) == small, offset(hi) == large
        let smallOffset = zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(lo)))
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2
            if zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(mid))) == smallOffset { lo = mid } else { hi = mid }
        }
        return Date(timeIntervalSince1970: TimeInterval(hi))
    }
}
