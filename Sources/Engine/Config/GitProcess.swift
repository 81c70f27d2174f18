import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs the system `git` with arguments as an array (never a shell) and a controlled environment:
/// nothing of the caller's `GIT_*` variables, no system or global configuration
/// (`GIT_CONFIG_NOSYSTEM=1`, `GIT_CONFIG_GLOBAL=/dev/null`), a private `HOME`, no prompts, the C
/// locale, and identity given with `-c user.name=… -c user.email=…` by the caller.
struct GitProcess: Sendable {
    struct Result: Sendable {
        var status: Int32
        var stdout: String
        var stderr: String
        var ok: Bool { status == 0 }
        /// stderr, else stdout, trimmed: what to show when git failed.
        var message: String {
            let e = stderr.trimmingCharacters(in: .whitespacesAndNewlines)
            return e.isEmpty ? stdout.trimmingCharacters(in: .whitespacesAndNewlines) : e
        }
    }

    /// The `git` executable: the first on PATH (or /usr/bin/git).
    static let executable: String? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in path.split(separator: ":").map(String.init) + ["/usr/bin", "/usr/local/bin"] {
            let candidate = dir + "/git"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }()

    let home: String

    /// The environment git runs with: PATH, the private HOME, the C locale, and, for ssh remotes,
    /// the agent socket; plus `extra` (dates of a commit, the merge driver's other side).
    func environment(_ extra: [String: String]) -> [String] {
        let inherited = ProcessInfo.processInfo.environment
        var env: [String: String] = [
            "PATH": inherited["PATH"] ?? "/usr/local/bin:/usr/bin:/bin",
            "HOME": home,
            "LC_ALL": "C",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": "/dev/null",
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_ASKPASS": "/bin/false",
            "GIT_SSH_COMMAND": "ssh -o BatchMode=yes -o ConnectTimeout=15",
        ]
        if let agent = inherited["SSH_AUTH_SOCK"] { env["SSH_AUTH_SOCK"] = agent }
        for (k, v) in extra { env[k] = v }
        return env.map { "\($0.key)=\($0.value)" }
    }

    /// Runs `git ARGS`; kills it after `timeout` seconds.
    func run(_ arguments: [String], environment extra: [String: String] = [:], timeout: Double = 120) throws -> Result {
        guard let git = Self.executable else { throw ServiceError("git is not installed (Debian: apt-get install git)") }
        var out: [Int32] = [0, 0], err: [Int32] = [0, 0]
        guard pipe(&out) == 0 else { throw ServiceError("cannot create a pipe: \(String(cString: strerror(errno)))") }
        guard pipe(&err) == 0 else { close(out[0]); close(out[1]); throw ServiceError("cannot create a pipe") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, out[1], 1)
        posix_spawn_file_actions_adddup2(&actions, err[1], 2)
        for fd in out + err { posix_spawn_file_actions_addclose(&actions, fd) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        let argv: [UnsafeMutablePointer<CChar>?] = ([git] + arguments).map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        let envp: [UnsafeMutablePointer<CChar>?] = environment(extra).map { strdup($0) } + [nil]
        defer { for p in envp { free(p) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, git, &actions, &attributes, argv, envp)
        close(out[1]); close(err[1])
        defer { close(out[0]); close(err[0]) }
        guard spawned == 0 else { throw ServiceError("cannot run git: \(String(cString: strerror(spawned)))") }
        var stdout: [UInt8] = [], stderr: [UInt8] = []
        var open = [true, true]
        var buffer = [UInt8](repeating: 0, count: 65536)
        let deadline = Date().addingTimeInterval(timeout)
        var killed = false
        while open[0] || open[1] {
            if !killed && Date() > deadline { kill(pid, SIGKILL); killed = true }
            var fds = [pollfd(fd: open[0] ? out[0] : -1, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: open[1] ? err[0] : -1, events: Int16(POLLIN), revents: 0)]
            let ready = poll(&fds, 2, 200)
            if ready < 0 { if errno == EINTR { continue }; break }
            if ready == 0 { if killed { break }; continue }
            for i in 0..<2 where open[i] && fds[i].revents != 0 {
                let n = buffer.withUnsafeMutableBytes { read(fds[i].fd, $0.baseAddress, $0.count) }
                if n <= 0 { if n < 0 && errno == EINTR { continue }; open[i] = false; continue }
                if i == 0 { stdout.append(contentsOf: buffer[0..<n]) } else { stderr.append(contentsOf: buffer[0..<n]) }
            }
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let code: Int32 = status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        var result = Result(status: code, stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self))
        if killed { result.stderr += "\n(git killed after \(Int(timeout)) s)" }
        return result
    }
}
