import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension AppModel {
    /// Whether the top view tails a run that is still queued or running.
    public var tailsLiveRun: Bool {
        guard case .runLog = top.content else { return false }
        guard let run = top.run else { return true }
        return run.status == "running" || run.status == "queued"
    }

    /// How long the main loop waits for a key or a result before it looks at the clock again: short
    /// while a live run is tailed (its log is polled every 100 ms), otherwise 100 ms.
    public var pollMilliseconds: Int32 { tailsLiveRun ? 25 : 100 }
}

/// `SWITCHBOARD_TRACE_FRAMES=PATH`: the runtime appends one line per frame it writes to the terminal:
/// `UNIX-TIME CELLS COMPLETE ROWS` (COMPLETE is 1 once the header and the top view have loaded; ROWS is
/// the top table's visible row count). bench/console reads it; it costs one write per frame.
final class FrameTrace: @unchecked Sendable {
    private let fd: Int32

    init?(path: String) {
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        if fd < 0 { return nil }
    }

    static func fromEnvironment() -> FrameTrace? {
        guard let path = ProcessInfo.processInfo.environment["SWITCHBOARD_TRACE_FRAMES"], !path.isEmpty else { return nil }
        return FrameTrace(path: path)
    }

    func frame(_ model: AppModel, cells: Int) {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        let complete = model.headerLastLoad != nil && model.top.lastLoad != nil
        let rows = model.top.tableKind != nil ? model.top.table.visible.count : model.top.log.ring.count
        let line = "\(ts.tv_sec).\(String(format: "%09ld", ts.tv_nsec)) \(cells) \(complete ? 1 : 0) \(rows)\n"
        _ = line.withCString { write(fd, $0, strlen($0)) }
    }

    deinit { close(fd) }
}
