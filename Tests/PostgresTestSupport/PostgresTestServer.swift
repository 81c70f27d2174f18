import Foundation
import Store
import StorePostgres
#if canImport(Glibc)
import Glibc
#endif

/// A real PostgreSQL server for the tests: a throwaway cluster (scripts/pg-cluster) in a temporary
/// directory, on a loopback port and a socket directory, run as a non-root user, started once per test
/// process and stopped when it exits. `SWITCHBOARD_TEST_PG_DIR` names a cluster already running
/// (started by hand with scripts/pg-cluster) to reuse instead.
/// A library target of its own so that the store's tests and the CLI's (`db migrate`) share it.
public final class PostgresTestServer: @unchecked Sendable {
    public let env: [String: String]
    public let ownsCluster: Bool

    public static let repositoryRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    nonisolated(unsafe) static var startError: String?
    public static let shared: PostgresTestServer? = {
        do { return try PostgresTestServer() } catch { startError = "\(error)"; return nil }
    }()

    /// The shared server, or an error (which fails the test) that says why there is none.
    public static func require() throws -> PostgresTestServer {
        guard let server = shared else {
            throw StoreError(.database, "no PostgreSQL server for the tests: \(startError ?? "?") (scripts/install-deps installs postgresql)")
        }
        return server
    }

    init(env: [String: String], ownsCluster: Bool) {
        self.env = env
        self.ownsCluster = ownsCluster
    }

    convenience init() throws {
        if let dir = ProcessInfo.processInfo.environment["SWITCHBOARD_TEST_PG_DIR"], !dir.isEmpty {
            self.init(env: try Self.readEnv(dir + "/env"), ownsCluster: false)
            return
        }
        self.init(env: try Self.startCluster(), ownsCluster: true)
        Self.clusterToStop = directory
        atexit {
            guard let dir = PostgresTestServer.clusterToStop else { return }
            _ = PostgresTestServer.spawn(PostgresTestServer.repositoryRoot + "/scripts/pg-cluster", ["stop", dir], output: "/dev/null")
        }
    }

    /// A cluster of the caller's own, for a test that stops or restarts its server (the shared one
    /// serves other tests of the process): stopped by `stop()`.
    public static func startOwn() throws -> PostgresTestServer { PostgresTestServer(env: try startCluster(), ownsCluster: true) }

    /// Starts a cluster in a new temporary directory; returns its env file.
    static func startCluster() throws -> [String: String] {
        let dir = "/tmp/switchboard-pg-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let log = dir + ".log"
        defer { try? FileManager.default.removeItem(atPath: log) }
        let status = Self.spawn(Self.repositoryRoot + "/scripts/pg-cluster", ["start", dir], output: log)
        guard status == 0 else {
            let message = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            throw StoreError(.database, "scripts/pg-cluster start failed (\(status)): \(message)")
        }
        return try Self.readEnv(dir + "/env")
    }

    /// The cluster's directory (`scripts/pg-cluster`'s DIR).
    public var directory: String { env["SWITCHBOARD_TEST_PG_DIR"]! }

    /// A server restart: fast shutdown (every session terminated), down for `seconds`, then started
    /// again on the same port and socket with its data. Only for a cluster of one's own (`startOwn`).
    public func restart(downFor seconds: Double = 0) throws {
        precondition(ownsCluster && directory != Self.clusterToStop, "restart only a cluster of your own")
        let log = directory + ".restart.log"
        defer { try? FileManager.default.removeItem(atPath: log) }
        let status = Self.spawn(Self.repositoryRoot + "/scripts/pg-cluster", ["restart", directory, String(seconds)], output: log)
        guard status == 0 else {
            throw StoreError(.database, "scripts/pg-cluster restart failed (\(status)): \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        }
    }

    /// Stops and removes a cluster of one's own (`startOwn`).
    public func stop() {
        guard ownsCluster, directory != Self.clusterToStop else { return }
        _ = Self.spawn(Self.repositoryRoot + "/scripts/pg-cluster", ["stop", directory], output: "/dev/null")
    }

    /// posix_spawn + waitpid, output to a file: the server forks away from the script and would keep
    /// Foundation's Process waiting on a descriptor it inherited.
    static func spawn(_ path: String, _ arguments: [String], output: String) -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var argv = ([path] + arguments).map { strdup($0) } + [nil]
        var envp = ProcessInfo.processInfo.environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        guard posix_spawn(&pid, path, &actions, nil, &argv, &envp) == 0 else { return -1 }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return (status >> 8) & 0xff
    }

    nonisolated(unsafe) static var clusterToStop: String?

    static func readEnv(_ path: String) throws -> [String: String] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var env: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let eq = line.firstIndex(of: "=") else { continue }
            env[String(line[..<eq])] = String(line[line.index(after: eq)...])
        }
        return env
    }

    public var socketDirectory: String { env["SWITCHBOARD_TEST_PG_SOCKET"]! }
    public var port: Int { Int(env["SWITCHBOARD_TEST_PG_PORT"]!)! }
    public var passwordUser: String { env["SWITCHBOARD_TEST_PG_PASSWORD_USER"]! }
    public var password: String { env["SWITCHBOARD_TEST_PG_PASSWORD"]! }
    public var binDirectory: String { env["SWITCHBOARD_TEST_PG_BIN"]! }
    /// The CA that signed the server's certificate (for 127.0.0.1 and localhost).
    public var caFile: String { env["SWITCHBOARD_TEST_PG_CA"]! }

    /// The Unix socket URL of `database`, peer authentication as the OS user.
    public func socketURL(_ database: String) -> String {
        "postgres:///\(database)?host=\(socketDirectory)&port=\(port)"
    }

    /// The loopback TCP URL of `database` as the password user.
    public func tcpURL(_ database: String, sslmode: String = "disable") -> String {
        "postgres://\(passwordUser)@127.0.0.1:\(port)/\(database)?sslmode=\(sslmode)"
    }

    /// A new empty database, owned by the password user so both ways in can use it.
    public func createDatabase(_ prefix: String = "sb") throws -> String {
        let name = "\(prefix)_\(UUID().uuidString.prefix(8).lowercased())"
        let admin = try PGConnection.connect(try PostgresURL(parsing: socketURL("postgres"), source: "test"), environment: [:])
        defer { admin.close() }
        try admin.query("CREATE DATABASE \(name) OWNER \(passwordUser)")
        return name
    }

    /// psql as the OS user over the socket: what an engineer would look with.
    public func psql(_ database: String, _ sql: String) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binDirectory + "/psql")
        p.arguments = ["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", socketDirectory, "-p", String(port), "-d", database, "-c", sql]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
