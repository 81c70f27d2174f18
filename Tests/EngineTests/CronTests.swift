import Foundation
import XCTest
@testable import Engine

final class CronTests: XCTestCase {
    let utc = TimeZone(identifier: "UTC")!
    let paris = TimeZone(identifier: "Europe/Paris")!
    let newYork = TimeZone(identifier: "America/New_York")!

    func utcDate(_ text: String) -> Date {
        try! ScheduleTime.parse(text + "Z", field: "test", zone: utc)
    }

    func assertError(_ expression: String, _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try CronExpression(expression), file: file, line: line) { error in
            guard let e = error as? ScheduleError else { return XCTFail("not a ScheduleError: \(error)", file: file, line: line) }
            XCTAssertTrue(e.message.contains(expected), "'\(expression)': \(e.message) does not contain \(expected)", file: file, line: line)
        }
    }

    func testErrorsNameTheFieldAndTheValue() {
        assertError("61 * * * *", "minute: 61 is out of range 0–59")
        assertError("* 24 * * *", "hour: 24 is out of range 0–23")
        assertError("* * 0 * *", "day-of-month: 0 is out of range 1–31")
        assertError("* * 32 * *", "day-of-month: 32 is out of range 1–31")
        assertError("* * * 13 *", "month: 13 is out of range 1–12")
        assertError("* * * * 8", "day-of-week: 8 is out of range 0–7")
        assertError("* * * foo *", "month: 'foo' is not a valid value")
        assertError("* * * * funday", "day-of-week: 'funday' is not a valid value")
        assertError("*/0 * * * *", "minute: step 0")
        assertError("*/x * * * *", "minute: step 'x'")
        assertError("30-10 * * * *", "minute: range 30-10 runs backwards")
        assertError("1,,2 * * * *", "minute: empty list item")
        assertError("5- * * * *", "minute: missing value")
        assertError("-5 * * * *", "minute: missing value")
        assertError("* * * *", "has 4 fields, expected 5")
        assertError("* * * * * *", "has 6 fields, expected 5")
        assertError("", "empty")
        assertError("@reboot", "unknown macro '@reboot'")
        assertError("1.5 * * * *", "minute: '1.5' is not a valid value")
    }

    func testImpossibleSchedulesAreRefusedAtParseTime() {
        assertError("0 0 30 2 *", "can never fire")
        assertError("0 0 31 4 *", "can never fire")
        assertError("0 0 31 apr,jun,sep,nov *", "can never fire")
        assertError("0 0 30,31 feb *", "can never fire")
        // Possible: Feb 29 (leap years), and the 31st or any Monday (both restricted: either matches).
        XCTAssertNoThrow(try CronExpression("0 0 29 2 *"))
        XCTAssertNoThrow(try CronExpression("0 0 31 2 mon"))
        // Day 31 in a month that has one, and Friday the 13th (the dow `*/…` form makes it AND).
        XCTAssertNoThrow(try CronExpression("0 0 31 1-4 *"))
        XCTAssertNoThrow(try CronExpression("0 0 13 * */5"))
    }

    func testNamesRangesStepsAndSundayAsSeven() throws {
        let c = try CronExpression("0,30 9-17/2 * JAN-mar Mon-FRI")
        XCTAssertEqual(c.minutes, 1 << 0 | 1 << 30)
        XCTAssertEqual(c.hours, [9, 11, 13, 15, 17].reduce(0) { $0 | 1 << UInt64($1) })
        XCTAssertEqual(c.months, [1, 2, 3].reduce(0) { $0 | 1 << UInt64($1) })
        XCTAssertEqual(c.daysOfWeek, [1, 2, 3, 4, 5].reduce(0) { $0 | 1 << UInt64($1) })
        XCTAssertEqual(try CronExpression("0 0 * * 7").daysOfWeek, try CronExpression("0 0 * * 0").daysOfWeek)
        XCTAssertEqual(try CronExpression("0 0 * * sun").daysOfWeek, 1)
        XCTAssertEqual(try CronExpression("0 0 * * fri-sun").daysOfWeek, 1 | 1 << 5 | 1 << 6)
        XCTAssertEqual(try CronExpression("0 0 * * 5-7").daysOfWeek, 1 | 1 << 5 | 1 << 6)
        XCTAssertEqual(try CronExpression("10/20 * * * *").minutes, 1 << 10 | 1 << 30 | 1 << 50)
        XCTAssertEqual(try CronExpression("*/15 * * * *").minutes, 1 << 0 | 1 << 15 | 1 << 30 | 1 << 45)
        XCTAssertEqual(try CronExpression("0 0 * * */2").daysOfWeek, 1 | 1 << 2 | 1 << 4 | 1 << 6)
    }

    func testMacros() throws {
        let pairs = ["@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
                     "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"]
        let from = utcDate("2026-05-17T13:45:00")
        for (macro, expansion) in pairs {
            let a = try CronExpression(macro), b = try CronExpression(expansion)
            XCTAssertEqual(a.next(after: from, in: utc), b.next(after: from, in: utc), macro)
            XCTAssertEqual(a.source, macro)
        }
        XCTAssertEqual(try CronExpression("@HOURLY").next(after: from, in: utc), utcDate("2026-05-17T14:00:00"))
    }

    func testNextFireAcrossMonthEndsAndYearEnds() throws {
        let c = try CronExpression("0 0 31 * *")
        XCTAssertEqual(c.next(after: utcDate("2026-01-31T00:00:00"), in: utc), utcDate("2026-03-31T00:00:00"))
        XCTAssertEqual(c.next(after: utcDate("2026-03-31T00:00:00"), in: utc), utcDate("2026-05-31T00:00:00"))
        let newYear = try CronExpression("59 23 31 12 *")
        XCTAssertEqual(newYear.next(after: utcDate("2026-12-31T23:59:00"), in: utc), utcDate("2027-12-31T23:59:00"))
        let firstMinute = try CronExpression("0 0 1 1 *")
        XCTAssertEqual(firstMinute.next(after: utcDate("2026-12-31T23:59:59"), in: utc), utcDate("2027-01-01T00:00:00"))
        // Either rule: the 1st of the month or a Monday.
        let either = try CronExpression("0 8 1 * mon")
        XCTAssertEqual(either.next(after: utcDate("2026-06-01T08:00:00"), in: utc), utcDate("2026-06-08T08:00:00"))
        XCTAssertEqual(either.next(after: utcDate("2026-06-29T08:00:00"), in: utc), utcDate("2026-07-01T08:00:00"))
        // A `*`-led weekday field: both must hold (Friday the 13th, Vixie cron's reading).
        let friday13 = try CronExpression("0 0 13 * */5")
        XCTAssertEqual(friday13.daysOfWeek, 1 | 1 << 5)
        let fri = try CronExpression("0 0 13 * 5")
        XCTAssertEqual(fri.next(after: utcDate("2026-02-13T00:00:00"), in: utc), utcDate("2026-02-20T00:00:00"), "13th OR Friday")
        // Seconds are dropped: a fire is strictly after, at second 0.
        XCTAssertEqual(try CronExpression("* * * * *").next(after: utcDate("2026-06-01T10:00:30"), in: utc), utcDate("2026-06-01T10:01:00"))
    }

    func testLeapYears() throws {
        let c = try CronExpression("0 12 29 feb *")
        XCTAssertEqual(c.next(after: utcDate("2025-03-01T00:00:00"), in: utc), utcDate("2028-02-29T12:00:00"))
        XCTAssertEqual(c.next(after: utcDate("2028-02-29T12:00:00"), in: utc), utcDate("2032-02-29T12:00:00"))
        // 2100 is not a leap year.
        XCTAssertEqual(c.next(after: utcDate("2096-02-29T12:00:00"), in: utc), utcDate("2104-02-29T12:00:00"))
        let lastOfFeb = try CronExpression("0 0 28,29 2 *")
        XCTAssertEqual(lastOfFeb.next(after: utcDate("2028-02-28T00:00:00"), in: utc), utcDate("2028-02-29T00:00:00"))
        XCTAssertEqual(lastOfFeb.next(after: utcDate("2027-02-28T00:00:00"), in: utc), utcDate("2028-02-28T00:00:00"))
    }

    func testSpringForwardFiresAtTheFirstValidInstantAfterTheGap() throws {
        // Europe/Paris, 2026-03-29: 02:00 CET becomes 03:00 CEST (01:00 UTC).
        let c = try CronExpression("30 2 * * *")
        let before = c.next(after: utcDate("2026-03-28T01:30:00"), in: paris)
        XCTAssertEqual(before, utcDate("2026-03-29T01:00:00"), "02:30 does not exist: fires at 03:00 CEST")
        XCTAssertEqual(c.next(after: before!, in: paris), utcDate("2026-03-30T00:30:00"), "then 02:30 CEST the next day")
        // Every minute: the gap's 60 matches coalesce into one fire at the transition.
        let every = try CronExpression("* * * * *")
        let t1 = every.next(after: utcDate("2026-03-29T00:59:00"), in: paris)
        XCTAssertEqual(t1, utcDate("2026-03-29T01:00:00"))
        XCTAssertEqual(every.next(after: t1!, in: paris), utcDate("2026-03-29T01:01:00"))
        // New York, 2026-03-08: 02:00 EST becomes 03:00 EDT (07:00 UTC).
        let ny = try CronExpression("15 2 * * *")
        XCTAssertEqual(ny.next(after: utcDate("2026-03-07T12:00:00"), in: newYork), utcDate("2026-03-08T07:00:00"))
        XCTAssertEqual(ny.next(after: utcDate("2026-03-08T07:00:00"), in: newYork), utcDate("2026-03-09T06:15:00"))
        // A fixed time outside the gap keeps its wall-clock time on both sides.
        let nine = try CronExpression("0 9 * * *")
        XCTAssertEqual(nine.next(after: utcDate("2026-03-07T15:00:00"), in: newYork), utcDate("2026-03-08T13:00:00"))
        XCTAssertEqual(nine.next(after: utcDate("2026-03-06T15:00:00"), in: newYork), utcDate("2026-03-07T14:00:00"))
    }

    func testFallBackFiresOnceAtTheFirstOccurrence() throws {
        // America/New_York, 2026-11-01: 02:00 EDT becomes 01:00 EST; 01:30 happens twice.
        let c = try CronExpression("30 1 * * *")
        let first = c.next(after: utcDate("2026-10-31T12:00:00"), in: newYork)
        XCTAssertEqual(first, utcDate("2026-11-01T05:30:00"), "01:30 EDT")
        XCTAssertEqual(c.next(after: first!, in: newYork), utcDate("2026-11-02T06:30:00"), "not again at 01:30 EST")
        // Every half hour: the repeated hour does not fire again.
        let half = try CronExpression("*/30 * * * *")
        var t = utcDate("2026-11-01T04:45:00")
        var fires: [Date] = []
        for _ in 0..<4 { t = half.next(after: t, in: newYork)!; fires.append(t) }
        XCTAssertEqual(fires, [utcDate("2026-11-01T05:00:00"), utcDate("2026-11-01T05:30:00"),
                               utcDate("2026-11-01T07:00:00"), utcDate("2026-11-01T07:30:00")])
        // Asked from inside the second 01:xx hour, the next fire is after it.
        XCTAssertEqual(c.next(after: utcDate("2026-11-01T06:10:00"), in: newYork), utcDate("2026-11-02T06:30:00"))
        // Europe/Paris, 2026-10-25: 03:00 CEST becomes 02:00 CET.
        let p = try CronExpression("30 2 * * *")
        let pf = p.next(after: utcDate("2026-10-24T12:00:00"), in: paris)
        XCTAssertEqual(pf, utcDate("2026-10-25T00:30:00"))
        XCTAssertEqual(p.next(after: pf!, in: paris), utcDate("2026-10-26T01:30:00"))
    }

    // MARK: property-based

    /// SplitMix64: a seeded generator, so a failure reproduces.
    struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static func randomField(_ index: Int, _ g: inout SeededGenerator) -> String {
        let lo = [0, 0, 1, 1, 0][index], hi = [59, 23, 31, 12, 7][index]
        func v() -> String {
            // Mostly valid values, sometimes out of range or names, to exercise errors.
            let roll = Int.random(in: 0..<90, using: &g)
            if roll == 0 { return String(Int.random(in: (hi + 1)...(hi + 5), using: &g)) }
            if roll < 12 && index == 3 { return CronExpression.monthNames.randomElement(using: &g)!.uppercased() }
            if roll < 12 && index == 4 { return CronExpression.dayNames.randomElement(using: &g)! }
            if roll == 2 { return ["x", "", "-1", "1-", "/"].randomElement(using: &g)! }
            return String(Int.random(in: lo...hi, using: &g))
        }
        func range() -> String {
            var a = v(), b = v()
            // Mostly in order; now and then backwards, to exercise the error.
            if let x = Int(a), let y = Int(b), x > y, Int.random(in: 0..<10, using: &g) != 0 { swap(&a, &b) }
            return "\(a)-\(b)"
        }
        func item() -> String {
            switch Int.random(in: 0..<7, using: &g) {
            case 0: return "*"
            case 1: return "*/\(Int.random(in: (Int.random(in: 0..<40, using: &g) == 0 ? 0 : 1)...(hi / 2 + 1), using: &g))"
            case 2: return v()
            case 3: return range()
            case 4: return "\(range())/\(Int.random(in: 1...5, using: &g))"
            case 5: return "\(v())/\(Int.random(in: 1...10, using: &g))"
            default: return v()
            }
        }
        let n = Int.random(in: 1...3, using: &g)
        return (0..<n).map { _ in item() }.joined(separator: ",")
    }

    static func randomExpression(_ g: inout SeededGenerator) -> String {
        if Int.random(in: 0..<30, using: &g) == 0 {
            return ["@hourly", "@daily", "@weekly", "@monthly", "@yearly", "@annually", "@midnight", "@never"].randomElement(using: &g)!
        }
        return (0..<5).map { randomField($0, &g) }.joined(separator: " ")
    }

    func testRandomExpressionsNeverCrashAndEveryFireMatchesInOrder() throws {
        var g = SeededGenerator(state: 20_260_517)
        let zones = [utc, paris, newYork, TimeZone(identifier: "Australia/Lord_Howe")!, TimeZone(identifier: "Asia/Kolkata")!]
        var parsed = 0, refused = 0, checked = 0
        for _ in 0..<1500 {
            let text = Self.randomExpression(&g)
            let cron: CronExpression
            do { cron = try CronExpression(text) } catch let e as ScheduleError {
                XCTAssertFalse(e.message.isEmpty)
                refused += 1
                continue
            }
            parsed += 1
            let zone = zones.randomElement(using: &g)!
            // A start in 2000–2040, at any second.
            var t = Date(timeIntervalSince1970: TimeInterval(Int64.random(in: 946_684_800...2_208_988_800, using: &g)))
            for _ in 0..<25 {
                guard let n = cron.next(after: t, in: zone) else {
                    return XCTFail("'\(text)' parsed but has no next fire after \(t) in \(zone.identifier)")
                }
                XCTAssertGreaterThan(n, t, "'\(text)' in \(zone.identifier)")
                let matches = cron.matches(n, in: zone)
                // Or it is the first instant after a spring-forward gap holding a matching time.
                let offsetBefore = zone.secondsFromGMT(for: n.addingTimeInterval(-1))
                let gapFire = offsetBefore < zone.secondsFromGMT(for: n) && {
                    var s = CivilDateTime(n.addingTimeInterval(-1), in: zone).localSeconds + 1
                    let endOfGap = CivilDateTime(n, in: zone).localSeconds
                    while s < endOfGap { if s % 60 == 0 && cron.matches(CivilDateTime(localSeconds: s)) { return true }; s += 1 }
                    return false
                }()
                XCTAssertTrue(matches || gapFire, "'\(text)' fired at \(n) in \(zone.identifier), which does not match")
                checked += 1
                t = n
            }
        }
        XCTAssertGreaterThan(parsed, 300); XCTAssertGreaterThan(refused, 100)
        XCTAssertGreaterThan(checked, 7000)
    }

    /// In UTC (no DST) the next fire must be exactly the first matching minute a brute-force scan finds.
    func testNextFireEqualsBruteForceScanInUTC() throws {
        var g = SeededGenerator(state: 42)
        var compared = 0
        for _ in 0..<400 {
            let text = Self.randomExpression(&g)
            guard let cron = try? CronExpression(text) else { continue }
            var t = Date(timeIntervalSince1970: TimeInterval(Int64.random(in: 946_684_800...2_208_988_800, using: &g)))
            for _ in 0..<5 {
                let n = cron.next(after: t, in: utc)!
                // Scan minute by minute for up to 3 days.
                var minute = (Int64(t.timeIntervalSince1970) / 60 + 1) * 60
                var found: Int64? = nil
                for _ in 0..<(3 * 1440) {
                    if cron.matches(CivilDateTime(localSeconds: minute)) { found = minute; break }
                    minute += 60
                }
                if let found {
                    XCTAssertEqual(Int64(n.timeIntervalSince1970), found, "'\(text)' after \(t)")
                    compared += 1
                } else {
                    XCTAssertGreaterThan(Int64(n.timeIntervalSince1970), minute - 60, "'\(text)' skipped a match")
                }
                t = n
            }
        }
        XCTAssertGreaterThan(compared, 300)
    }
}
