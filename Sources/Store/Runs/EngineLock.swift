import Foundation

/// One engine per database: an exclusive `flock` on a file beside the database. The kernel drops the
/// lock when its process dies, so there is no stale lock to clean up after a kill -9.
/// The holder writes its pid into the file so others can name it.
public final class EngineLock: @unchecked Sendable {
    public let path: String
    private let fd: Int32

    public static func path(forDatabase databasePath: String) -> String { databasePath + ".engine.lock" }

    /// Takes the lock, or returns nil when another live process holds it.
    public static func acquire(databasePath: String) throws -> EngineLock? {
        let path = path(forDatabase: databasePath)
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        if fd < 0 { throw StoreError(.database, "cannot open engine lock \(path): \(String(cString: strerror(errno)))") }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            close(fd)
            return nil
        }
        let pid = "\(getpid())\n"
        _ = ftruncate(fd, 0)
        _ = pid.withCString { pwrite(fd, $0, strlen($0), 0) }
        return EngineLock(path: path, fd: fd)
    }

    private init(path: String, fd: Int32) { self.path = path; self.fd = fd }

    deinit { release() }

    private let released = NSLock()
    private nonisolated(unsafe) var isReleased = false

    public func release() {
        released.lock(); defer { released.unlock() }
        if isReleased { return }
        isReleased = true
        _ = ftruncate(fd, 0)
        flock(fd, LOCK_UN)
        close(fd)
    }

    /// The pid of the engine holding the lock, or nil when no engine runs on this database.
    /// Probing takes a shared lock for an instant; it never blocks and never disturbs the holder.
    public static func holder(databasePath: String) -> Int32? {
        let path = path(forDatabase: databasePath)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { return nil }
        defer { close(fd) }
        if flock(fd, LOCK_SH | LOCK_NB) == 0 {
            flock(fd, LOCK_UN)
            return nil
        }
        var buffer = [UInt8](repeating: 0, count: 32)
        let n = pread(fd, &buffer, 31, 0)
        let text = n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : ""
        return Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }
}
