import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs a local program in its own process group, stdout and stderr into one pipe, killed (the
/// whole group) when the time limit passes or the calling task is cancelled. The blocking wait
/// runs on its own thread, never on the cooperative pool.
enum LocalCommand {
    struct Result: Sendable {
        var status: Int32
        var output: String
        var timedOut: Bool
        var cancelled: Bool
        /// The output was cut at `maxOutput` bytes.
        var truncated: Bool
    }

    /// The process group to kill, shared with the cancellation handler.
    final class Handle: @unchecked Sendable {
        private let lock = NSLock()
        private var pid: pid_t = 0
        private var cancelled = false
        func set(_ p: pid_t) -> Bool { lock.lock(); defer { lock.unlock() }; pid = p; return !cancelled }
        var isCancelled: Bool { lock.lock(); defer { lock.unlock() }; return cancelled }
        func cancel() {
            lock.lock(); cancelled = true; let p = pid; lock.unlock()
            if p > 0 { kill(-p, SIGKILL) }
        }
    }

    static func run(_ executable: String, _ arguments: [String], timeout: Duration, maxOutput: Int = 16 << 20) async throws -> Result {
        let handle = Handle()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Result, Error>) in
                let thread = Thread {
                    continuation.resume(with: Result_ { try runBlocking(executable, arguments, timeout: timeout, maxOutput: maxOutput, handle: handle) })
                }
                thread.start()
            }
        } onCancel: {
            handle.cancel()
        }
    }

    private static func Result_(_ body: () throws -> Result) -> Swift.Result<Result, Error> {
        do { return .success(try body()) } catch { return .failure(error) }
    }

    private static func runBlocking(_ executable: String, _ arguments: [String], timeout: Duration, maxOutput: Int,
                                    handle: Handle) throws -> Result {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw ServiceError("cannot create a pipe: \(String(cString: strerror(errno)))") }
        let readEnd = fds[0], writeEnd = fds[1]
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, writeEnd, 1)
        posix_spawn_file_actions_adddup2(&actions, writeEnd, 2)
        posix_spawn_file_actions_addclose(&actions, readEnd)
        posix_spawn_file_actions_addclose(&actions, writeEnd)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setpgroup(&attributes, 0)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        sigaddset(&defaults, SIGINT)
        sigaddset(&defaults, SIGQUIT)
        sigaddset(&defaults, SIGTERM)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        close(writeEnd)
        guard spawned == 0 else {
            close(readEnd)
            throw ServiceError("cannot run \(executable): \(String(cString: strerror(spawned)))")
        }
        defer { close(readEnd) }
        if !handle.set(pid) { kill(-pid, SIGKILL) }
        let deadline = DispatchTime.now().uptimeNanoseconds &+ UInt64(max(0, timeout.secondsDouble) * 1e9)
        var output: [UInt8] = []
        var truncated = false
        var timedOut = false
        var killedAt: UInt64?
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let now = DispatchTime.now().uptimeNanoseconds
            if killedAt == nil && now >= deadline {
                timedOut = true
                kill(-pid, SIGKILL)
                killedAt = now
            }
            // After a kill, a descendant that left the group may hold the pipe: stop reading soon.
            if let killedAt, now > killedAt + 1_000_000_000 { break }
            let wait = killedAt != nil ? 100 : Int32(min(100, max(1, (deadline - min(deadline, now)) / 1_000_000)))
            var poller = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, wait)
            if ready < 0 { if errno == EINTR { continue }; break }
            if ready == 0 { continue }
            let n = buffer.withUnsafeMutableBytes { read(readEnd, $0.baseAddress, $0.count) }
            if n < 0 { if errno == EINTR || errno == EAGAIN { continue }; break }
            if n == 0 { break }
            if output.count < maxOutput {
                output.append(contentsOf: buffer[0..<min(n, maxOutput - output.count)])
                if output.count >= maxOutput { truncated = true }
            }
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exitCode: Int32
        if status & 0x7f == 0 { exitCode = (status >> 8) & 0xff } else { exitCode = 128 + (status & 0x7f) }
        return Result(status: exitCode, output: String(decoding: output, as: UTF8.self), timedOut: timedOut,
                      cancelled: handle.isCancelled, truncated: truncated)
    }
}
