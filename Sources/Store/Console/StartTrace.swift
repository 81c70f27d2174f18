import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `SWITCHBOARD_TRACE_START=PATH`: where a console start spends its time. Each `mark` appends
/// `UNIX-TIME NAME` to PATH (the process start is the first line); bench/console/starts.py reads
/// them beside the frame trace. Marks cost nothing when the variable is unset, so they stay in
/// the code paths the first frame takes (open, connect, the first loads, the first frame).
public enum StartTrace {
    private static let fd: Int32 = {
        guard let path = ProcessInfo.processInfo.environment["SWITCHBOARD_TRACE_START"], !path.isEmpty else { return -1 }
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        if fd >= 0 {
            // When the kernel started this process (its /proc stat's start time, in clock ticks since boot).
            let started = processStart()
            if let started { write(fd, "\(started) process-start") }
        }
        return fd
    }()

    public static var isOn: Bool { fd >= 0 }

    /// Appends `NAME` with the current time, when tracing.
    public static func mark(_ name: @autoclosure () -> String) {
        guard fd >= 0 else { return }
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        write(fd, "\(ts.tv_sec).\(String(format: "%09ld", ts.tv_nsec)) \(name())")
    }

    private static func write(_ fd: Int32, _ line: String) {
        let text = line + "\n"
        _ = text.withCString { Glibc.write(fd, $0, strlen($0)) }
    }

    /// The process's start as a Unix time: boot time plus /proc/self/stat's field 22.
    private static func processStart() -> String? {
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // Fields after the command name start at field 3 (state): field 22 is index 19.
        guard fields.count > 19, let ticks = Double(fields[19]),
              let uptime = try? String(contentsOfFile: "/proc/uptime", encoding: .utf8),
              let up = Double(uptime.split(separator: " ").first ?? "") else { return nil }
        let hz = Double(sysconf(Int32(_SC_CLK_TCK)))
        let start = Date().timeIntervalSince1970 - up + ticks / hz
        return String(format: "%.3f", start)
    }
}
