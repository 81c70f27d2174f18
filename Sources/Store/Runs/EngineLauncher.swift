import Foundation

/// Starts `switchboard engine` in the background when no engine holds the database's lock, so runs
/// queued by the console or the CLI get executed, and keep going when that console exits or its SSH
/// connection drops: the engine runs in its own session (setsid), with no terminal, and its output goes
/// to a log file beside the database.
public enum EngineLauncher {
    public static func logPath(forDatabase databasePath: String) -> String { databasePath + ".engine.log" }

    /// Where an engine started for a database without a file to put its log beside (a PostgreSQL
    /// URL, never holding a password) writes its log: the state directory.
    public static func logPath(forLocation location: String, paths: Paths) -> String {
        let name = String(location.map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" ? $0 : "_" })
        return paths.stateDirectory + "/engine-" + name.prefix(120) + ".log"
    }

    /// The running engine's pid, starting one first when there is none. `executable` defaults to this
    /// process's own binary (the console and the CLI are both `switchboard`).
    @discardableResult
    public static func ensureRunning(databasePath: String, executable: String? = nil,
                                     extraArguments: [String] = [], waitSeconds: Double = 5) throws -> Int32 {
        try ensureRunning(databaseArgument: databasePath, log: logPath(forDatabase: databasePath),
                          lockHolder: { EngineLock.holder(databasePath: databasePath) }, executable: executable,
                          extraArguments: extraArguments, waitSeconds: waitSeconds)
    }

    /// The same for any backend: `databaseArgument` is what the engine is given as `--db` (a path, or a
    /// PostgreSQL URL, which never holds a password: the engine inherits PGPASSWORD or reads
    /// ~/.pgpass as this process does), `lockHolder` the backend's engine lock holder.
    @discardableResult
    public static func ensureRunning(databaseArgument: String, log: String, lockHolder: () -> Int32?,
                                     executable: String? = nil, extraArguments: [String] = [],
                                     waitSeconds: Double = 5) throws -> Int32 {
        if let pid = lockHolder() { return pid }
        let binary = executable ?? currentExecutable()
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // Nothing else of ours may live on in the daemon: a console's database files, or the pipe a
        // parent waits on to see us exit (Foundation's Process does), would stay open for its lifetime.
        for fd in openDescriptors() where fd > 2 { posix_spawn_file_actions_addclose(&actions, fd) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // A new session: no controlling terminal, so a hang-up of the engineer's link never reaches it.
        posix_spawnattr_setflags(&attributes, Int16(0x80 /* POSIX_SPAWN_SETSID */ | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for s in [SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGQUIT, SIGCHLD] { sigaddset(&defaults, s) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        let arguments = [binary, "engine", "--db", databaseArgument, "--quiet-if-running"] + extraArguments
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, binary, &actions, &attributes, &argv, environ)
        if rc != 0 {
            throw StoreError(.database, "cannot start the engine (\(binary)): \(String(cString: strerror(rc)))")
        }
        // Reap it in the background if it exits at once (another engine won the race), and wait until
        // someone holds the lock so callers can report a pid.
        let deadline = Date().addingTimeInterval(waitSeconds)
        while Date() < deadline {
            if let holder = lockHolder() { reap(pid); return holder }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                if let holder = lockHolder() { return holder }
                throw StoreError(.database, "the engine exited at once; see \(log)")
            }
            usleep(20_000)
        }
        reap(pid)
        throw StoreError(.database, "the engine did not start within \(Int(waitSeconds)) s; see \(log)")
    }

    /// The descriptors open in this process (the directory's own one is closed by the time we return).
    static func openDescriptors() -> [Int32] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return names.compactMap { Int32($0) }.filter { fcntl($0, F_GETFD) != -1 }
    }

    /// This process's binary.
    public static func currentExecutable() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        if n > 0 { return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        return CommandLine.arguments[0]
    }

    /// The child is a daemon in its own session; a thread waits for it so it never lingers as a zombie
    /// while this process (a console, say) lives on.
    private static func reap(_ pid: pid_t) {
        Thread.detachNewThread {
            var status: Int32 = 0
            _ = waitpid(pid, &status, 0)
        }
    }
}
