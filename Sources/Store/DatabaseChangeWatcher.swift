import CLinux
import Foundation

/// Wakes a reader in another process as soon as the database is written, instead of on its next poll.
///
/// Watches the database's directory with inotify for writes to the database or its WAL (every
/// commit appends to the WAL with `write`, which inotify reports). A tailing reader then sees a
/// line within a scheduling delay of its commit; `wait` still returns after `timeoutMs` when nothing
/// happened, so a missed event (or a file system without inotify) costs at most one timeout.
public final class DatabaseChangeWatcher {
    private let fd: Int32
    private let prefix: String
    private var buffer = [UInt8](repeating: 0, count: 8192)

    /// nil when inotify is unavailable (limits reached, unsupported file system): poll instead.
    public init?(databasePath: String) {
        let directory = (databasePath as NSString).deletingLastPathComponent
        prefix = (databasePath as NSString).lastPathComponent
        fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard fd >= 0 else { return nil }
        let mask = UInt32(IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE)
        if inotify_add_watch(fd, directory.isEmpty ? "." : directory, mask) < 0 {
            close(fd)
            return nil
        }
    }

    deinit { close(fd) }

    /// Blocks until the database (or its WAL) was written, or `timeoutMs` passed. True on a change.
    @discardableResult
    public func wait(timeoutMs: Int32) -> Bool {
        if drain() { return true }
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(max(0, timeoutMs)) * 1_000_000
        while true {
            let left = Int64(deadline) - Int64(DispatchTime.now().uptimeNanoseconds)
            if left <= 0 { return false }
            let n = poll(&pfd, 1, Int32((left + 999_999) / 1_000_000))
            if n < 0 && errno != EINTR { return false }
            if n > 0 && drain() { return true }
        }
    }

    /// Reads every pending event; true if one named the database or one of its companions
    /// (`-wal`, `-shm`, `-journal`).
    private func drain() -> Bool {
        var changed = false
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { return changed }
            var offset = 0
            let header = MemoryLayout<inotify_event>.size
            while offset + header <= n {
                let length = buffer.withUnsafeBytes { raw -> Int in
                    Int(raw.loadUnaligned(fromByteOffset: offset, as: inotify_event.self).len)
                }
                let nameBytes = buffer[(offset + header)..<min(n, offset + header + length)].prefix { $0 != 0 }
                if String(decoding: nameBytes, as: UTF8.self).hasPrefix(prefix) { changed = true }
                offset += header + length
            }
        }
    }
}
