import Foundation
import Store
import XCTest
@testable import Engine

final class ScheduleTests: XCTestCase {
    let utc = TimeZone(identifier: "UTC")!
    let paris = TimeZone(identifier: "Europe/Paris")!
    let newYork = TimeZone(identifier: "America/New_York")!

    func date(_ text: String) -> Date { try! ScheduleTime.parse(text, field: "test", zone: utc) }

    func testDurations() throws {
        XCTAssertEqual(try DurationParser.parse("30s"), 30)
        XCTAssertEqual(try DurationParser.parse("5m"), 300)
        XCTAssertEqual(try DurationParser.parse("2h"), 7200)
        XCTAssertEqual(try DurationParser.parse("1d"), 86400)
        XCTAssertEqual(try DurationParser.parse("1w"), 604_800)
        XCTAssertEqual(try DurationParser.parse("1h30m"), 5400)
        XCTAssertEqual(try DurationParser.parse("1d2h3m4s"), 93784)
        XCTAssertEqual(try DurationParser.parse(" 2H "), 7200)
        for (bad, message) in [("", "every: empty duration"), ("30", "ends without a unit"), ("5x", "unknown unit 'x'"),
                               ("h", "without a number"), ("0s", "is zero"), ("1h1h", "twice"), ("-5m", "unknown unit '-'"),
                               ("99999999999999w", "longer than 100 years"), ("1.5h", "unknown unit '.'")] {
            XCTAssertThrowsError(try DurationParser.parse(bad), bad) { e in
                XCTAssertTrue("\(e)".contains(message), "\(bad): \(e)")
            }
        }
        for s in [1, 59, 60, 3600, 5400, 86400, 93784, 604_800, 1_300_000] {
            XCTAssertEqual(try DurationParser.parse(DurationParser.format(s)), s)
        }
        XCTAssertEqual(DurationParser.format(5400), "1h30m")
    }

    func testISOTimesWithAndWithoutOffset() throws {
        XCTAssertEqual(try ScheduleTime.parse("2026-06-01T02:30", field: "at", zone: paris), date("2026-06-01T00:30:00Z"))
        XCTAssertEqual(try ScheduleTime.parse("2026-06-01 02:30:15", field: "at", zone: paris), date("2026-06-01T00:30:15Z"))
        XCTAssertEqual(try ScheduleTime.parse("2026-06-01T02:30:00Z", field: "at", zone: paris), date("2026-06-01T02:30:00Z"))
        XCTAssertEqual(try ScheduleTime.parse("2026-06-01T02:30:00+05:30", field: "at", zone: paris), date("2026-05-31T21:00:00Z"))
        XCTAssertEqual(try ScheduleTime.parse("2026-06-01T02:30-0400", field: "at", zone: paris), date("2026-06-01T06:30:00Z"))
        XCTAssertEqual(try ScheduleTime.parse("2026-06-01T02:30:00.750+02", field: "at", zone: utc), date("2026-06-01T00:30:00Z"))
        XCTAssertEqual(try ScheduleTime.parse("2026-01-15", field: "at", zone: newYork), date("2026-01-15T05:00:00Z"))
        // Without an offset, the zone's DST rules: inside the gap the first valid instant after; a
        // repeated time its first occurrence.
        XCTAssertEqual(try ScheduleTime.parse("2026-03-29T02:30", field: "at", zone: paris), date("2026-03-29T01:00:00Z"))
        XCTAssertEqual(try ScheduleTime.parse("2026-10-25T02:30", field: "at", zone: paris), date("2026-10-25T00:30:00Z"))
        XCTAssertEqual(try ScheduleTime.parse("2026-11-01T01:30", field: "at", zone: newYork), date("2026-11-01T05:30:00Z"))
        for (bad, message) in [("tomorrow", "start: 'tomorrow' is not an ISO 8601 time"), ("2026-13-01", "month 13"),
                               ("2026-02-29", "day 29 in '2026-02-29' does not exist in 2026-02"), ("2026-06-01T25:00", "hour 25"),
                               ("2026-06-01T10:60", "minute 60"), ("2026-06-01T10:00+25:00", "offset"),
                               ("2026-06-01T10:00 junk", "not an ISO 8601 time"), ("01/06/2026", "not an ISO 8601 time")] {
            XCTAssertThrowsError(try ScheduleTime.parse(bad, field: "start", zone: utc), bad) { e in
                XCTAssertTrue("\(e)".contains(message), "\(bad): \(e)")
            }
        }
        XCTAssertNoThrow(try ScheduleTime.parse("2028-02-29", field: "start", zone: utc))
    }

    func testIntervalFromAStartDate() throws {
        let start = date("2026-06-01T00:00:00Z")
        let s = try TaskSchedule(rule: .interval(seconds: 3600), start: start, timeZone: utc)
        XCTAssertEqual(s.firstFire(now: date("2026-05-31T12:00:00Z")), start, "a start ahead is the first fire")
        XCTAssertEqual(s.firstFire(now: date("2026-06-01T05:20:00Z")), date("2026-06-01T06:00:00Z"), "a past start: next step on its grid")
        XCTAssertEqual(s.firstFire(now: date("2026-06-01T06:00:00Z")), date("2026-06-01T07:00:00Z"))
        XCTAssertEqual(s.next(after: date("2026-06-01T06:00:00Z")), date("2026-06-01T07:00:00Z"))
        XCTAssertEqual(s.upcoming(now: date("2026-06-01T00:30:00Z"), count: 3),
                       [date("2026-06-01T01:00:00Z"), date("2026-06-01T02:00:00Z"), date("2026-06-01T03:00:00Z")])
        // An interval is elapsed time: across a DST change it stays 24 h, not "same wall clock".
        let daily = try TaskSchedule(rule: .interval(seconds: 86400), start: date("2026-03-28T09:00:00+01:00"), timeZone: paris)
        XCTAssertEqual(daily.next(after: date("2026-03-28T09:00:00+01:00")), date("2026-03-29T10:00:00+02:00"))
    }

    func testIntervalWithoutStartRunsFromNowAndEndsAtItsEndDate() throws {
        let now = date("2026-06-01T10:00:00Z").addingTimeInterval(0.4)
        let end = date("2026-06-01T10:05:00Z")
        let s = try TaskSchedule(rule: .interval(seconds: 120), end: end, timeZone: utc)
        let first = s.firstFire(now: now)!
        XCTAssertEqual(first, date("2026-06-01T10:02:01Z"), "whole seconds, one interval from now")
        XCTAssertEqual(s.next(after: first, anchor: first), date("2026-06-01T10:04:01Z"))
        XCTAssertNil(s.next(after: date("2026-06-01T10:04:01Z"), anchor: first), "10:06:01 is after the end")
        XCTAssertEqual(s.upcoming(now: now, count: 10).count, 2)
    }

    func testCronWithStartEndAndZone() throws {
        let s = try TaskSchedule(rule: .cron(try CronExpression("0 9 * * mon-fri")), start: date("2026-06-03T00:00:00Z"),
                                 end: date("2026-06-09T00:00:00Z"), timeZone: newYork)
        let fires = s.upcoming(now: date("2026-06-01T00:00:00Z"), count: 10)
        XCTAssertEqual(fires, [date("2026-06-03T13:00:00Z"), date("2026-06-04T13:00:00Z"), date("2026-06-05T13:00:00Z"),
                               date("2026-06-08T13:00:00Z")])
        XCTAssertEqual(s.summary, "cron 0 9 * * mon-fri")
    }

    func testOneShotAndBadCombinations() throws {
        let at = date("2026-06-01T12:00:00Z")
        let once = try TaskSchedule(rule: .once(at), timeZone: paris)
        XCTAssertEqual(once.firstFire(now: date("2026-05-01T00:00:00Z")), at)
        XCTAssertNil(once.next(after: at))
        XCTAssertEqual(once.summary, "once at 2026-06-01 14:00:00 +02:00")
        XCTAssertThrowsError(try TaskSchedule(rule: .interval(seconds: 60), start: at, end: at.addingTimeInterval(-1), timeZone: utc)) { e in
            XCTAssertTrue("\(e)".hasPrefix("end: 2026-06-01 11:59:59 +00:00 is not after start"), "\(e)")
        }
        XCTAssertThrowsError(try TaskSchedule(rule: .once(at), end: at.addingTimeInterval(-60), timeZone: utc))
        XCTAssertThrowsError(try TaskSchedule(rule: .interval(seconds: 0), timeZone: utc))
        XCTAssertThrowsError(try TaskSchedule.zone("Mars/Olympus")) { e in
            XCTAssertTrue("\(e)".contains("timezone: 'Mars/Olympus' is not a known time zone"), "\(e)")
        }
        XCTAssertEqual(TaskSchedule.zoneLabel(""), "local (\(TimeZone.current.identifier))")
    }

    func testStoredTasksBecomeSchedules() throws {
        var t = ScheduledTask(name: "t", serviceId: 1, scheduleKind: .cron)
        t.cron = "61 * * * *"
        XCTAssertThrowsError(try TaskSchedule(task: t)) { e in XCTAssertEqual("\(e)", "minute: 61 is out of range 0–59") }
        t.cron = "0 3 * * *"; t.timezone = "Europe/Paris"
        let s = try TaskSchedule(task: t)
        XCTAssertEqual(s.timeZone.identifier, "Europe/Paris")
        var once = ScheduledTask(name: "o", serviceId: 1, scheduleKind: .once)
        XCTAssertThrowsError(try TaskSchedule(task: once))
        once.startDate = date("2026-06-01T12:00:00.123456Z")
        XCTAssertEqual(try TaskSchedule(task: once).rule, .once(date("2026-06-01T12:00:00Z")), "fractions dropped")
        var interval = ScheduledTask(name: "i", serviceId: 1, scheduleKind: .interval)
        XCTAssertThrowsError(try TaskSchedule(task: interval))
        interval.intervalSeconds = 90
        XCTAssertEqual(try TaskSchedule(task: interval).summary, "every 1m30s")
    }
}
