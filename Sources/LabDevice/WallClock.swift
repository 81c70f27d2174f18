#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Current time in the layouts the platforms print. Lab devices always run on UTC, which keeps
// output independent of the host's TZ and avoids Foundation's date formatting (ICU) at startup.

struct WallClock: Sendable {
    let year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, millisecond: Int
    /// 0 = Sunday.
    let weekday: Int
    let epochSeconds: Int

    static func now() -> WallClock {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return WallClock(epochSeconds: Int(spec.tv_sec), millisecond: Int(spec.tv_nsec / 1_000_000))
    }

    init(epochSeconds: Int, millisecond: Int = 0) {
        var seconds = time_t(epochSeconds)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        year = Int(parts.tm_year) + 1900
        month = Int(parts.tm_mon) + 1
        day = Int(parts.tm_mday)
        hour = Int(parts.tm_hour)
        minute = Int(parts.tm_min)
        second = Int(parts.tm_sec)
        weekday = Int(parts.tm_wday)
        self.epochSeconds = epochSeconds
        self.millisecond = millisecond
    }

    /// The same clock `minutes` earlier (for "last flapped" style timestamps).
    func minus(minutes: Int) -> WallClock { WallClock(epochSeconds: epochSeconds - minutes * 60) }

    private static let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    var weekdayName: String { WallClock.weekdays[weekday] }
    var monthName: String { WallClock.months[month - 1] }
    var hms: String { "\(Text.twoDigits(hour)):\(Text.twoDigits(minute)):\(Text.twoDigits(second))" }
    var milliseconds: String { Text.zeroPad(millisecond, 3) }

    /// IOS `show clock`: `*10:15:32.123 UTC Mon Mar 1 2024`.
    var iosClock: String { "*\(hms).\(milliseconds) UTC \(weekdayName) \(monthName) \(day) \(year)" }
    /// IOS running-config header: `10:15:32 UTC Mon Mar 1 2024`.
    var iosStamp: String { "\(hms) UTC \(weekdayName) \(monthName) \(day) \(year)" }
    /// ctime style used by EOS and NX-OS: `Mon Mar  1 10:15:32 2024`.
    var ctime: String { "\(weekdayName) \(monthName) \(Text.padLeft(String(day), 2)) \(hms) \(year)" }
    /// NX-OS `show clock`: `10:15:32.123 UTC Mon Mar 01 2024`.
    var nxosClock: String { "\(hms).\(milliseconds) UTC \(weekdayName) \(monthName) \(Text.twoDigits(day)) \(year)" }
    /// Junos: `2024-03-01 10:15:32 UTC`.
    var junosStamp: String {
        "\(year)-\(Text.twoDigits(month))-\(Text.twoDigits(day)) \(hms) UTC"
    }
    /// `date` on Linux: `Mon Mar  1 10:15:32 UTC 2024`.
    var unixDate: String { "\(weekdayName) \(monthName) \(Text.padLeft(String(day), 2)) \(hms) UTC \(year)" }
}
