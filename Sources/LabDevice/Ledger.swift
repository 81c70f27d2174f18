#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The lab's own record of what reached its devices: one line per session start and one per command,
/// appended to `<lab dir>/ledger.log` (`switchboard lab up` creates the file, empty, owned by the login
/// user). Tests and benchmarks hold it against what a client says it did: a unit executed twice
/// shows up here as two `show version` lines on one device, whatever the client's own records say.
///
/// Format (the Lab module's `LabLedger` parses it), tab-separated, one line per event:
/// `<epoch seconds with microseconds>\t<device>\t<pid>\tlogin\t<shell|exec>` and
/// `<epoch seconds with microseconds>\t<device>\t<pid>\tcommand\t<command line>`.
///
/// Each line is a single write(2) to a descriptor opened with O_APPEND, so the kernel places it at
/// the end of the file under the inode's lock: concurrent sessions never interleave within a line and
/// never overwrite each other. Cost per login: one open, one write per command, no fsync, no lock.
/// Without the file (a device run by hand, a lab from an older build) nothing is recorded.
final class Ledger {
    private let fd: Int32
    private let device: String
    private let pid = getpid()

    static func opened(labDirectory: String, device: String) -> Ledger? {
        let fd = open(labDirectory + "/ledger.log", O_WRONLY | O_APPEND | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        return Ledger(fd: fd, device: device)
    }

    private init(fd: Int32, device: String) {
        self.fd = fd
        self.device = Ledger.field(device)
    }

    deinit { close(fd) }

    func login(interactive: Bool) { append("login", interactive ? "shell" : "exec") }

    /// A command line as the device read it (blank lines are not commands).
    func command(_ line: String) {
        let text = Text.trim(line)
        if !text.isEmpty { append("command", text) }
    }

    private func append(_ event: String, _ detail: String) {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        let micros = Text.zeroPad(Int(spec.tv_nsec / 1000), 6)
        // Bounded, so that a line stays far below anything a reader or the page cache would split.
        let line = "\(spec.tv_sec).\(micros)\t\(device)\t\(pid)\t\(event)\t\(Ledger.field(String(detail.prefix(512))))\n"
        var bytes = Array(line.utf8)
        // A short write to a regular file happens only on a full disk; the record is best effort.
        _ = bytes.withUnsafeMutableBytes { write(fd, $0.baseAddress, $0.count) }
    }

    /// Tabs and line breaks would break the format: they become spaces.
    private static func field(_ text: String) -> String {
        String(text.map { $0 == "\t" || $0 == "\n" || $0 == "\r" ? " " : $0 })
    }
}
