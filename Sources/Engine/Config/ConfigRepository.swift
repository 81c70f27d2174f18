import Foundation
import Store
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The configurations' git repository (eNMS's `network_data`): one file per device under
/// `configurations/`, one commit per changed configuration, authored by the user who launched
/// the run. Every operation holds an exclusive `flock` on `.git/switchboard.lock`, so the engine's
/// backups and `switchboard config export-git` never interleave, in one process or several.
///
/// Several instances may push to one remote: `.gitattributes` gives configuration files the
/// `newest` merge driver (eNMS's install guide: "newest commit wins"), which keeps, of two
/// conflicting versions of a device's file, the one whose last commit is the most recent.
public final class ConfigRepository: Sendable {
    public let path: String
    public let branch: String
    let git: GitProcess

    public init(path: String, branch: String = "main") {
        self.path = path
        self.branch = branch.isEmpty ? "main" : branch
        self.git = GitProcess(home: path + "/.git/switchboard-home")
    }

    public convenience init(settings: Settings, paths: Paths) {
        self.init(path: paths.gitRepository(settings.git.repository), branch: settings.git.branch)
    }

    public struct Commit: Sendable, Equatable {
        public var sha: String
        public var author: String
        public var date: Date
        public var message: String
    }

    public struct GitError: Error, CustomStringConvertible {
        public var description: String
        init(_ d: String) { description = d }
    }

    /// The committer: switchboard on this host. The author is the user, per commit.
    static let host: String = {
        var buffer = [CChar](repeating: 0, count: 256)
        gethostname(&buffer, buffer.count - 1)
        let h = String(cString: buffer)
        return h.isEmpty ? "localhost" : h
    }()

    func identity(_ name: String = "switchboard") -> [String] {
        ["-c", "user.name=\(name)", "-c", "user.email=\(name)@\(Self.host)", "-c", "core.hooksPath=/dev/null",
         "-c", "commit.gpgSign=false", "-c", "core.quotePath=false"]
    }

    func run(_ args: [String], environment: [String: String] = [:], timeout: Double = 120) throws -> GitProcess.Result {
        try git.run(["-C", path] + identity() + args, environment: environment, timeout: timeout)
    }

    @discardableResult
    func must(_ args: [String], environment: [String: String] = [:], timeout: Double = 120) throws -> GitProcess.Result {
        let r = try run(args, environment: environment, timeout: timeout)
        guard r.ok else { throw GitError("git \(args.first ?? ""): \(r.message)") }
        return r
    }

    /// A device's file, relative to the repository: `configurations/<name>`, with `/` and leading
    /// dots made safe.
    public static func file(for device: String) -> String {
        var name = device.replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "\0", with: "_")
        if name.hasPrefix(".") { name = "_" + name.dropFirst() }
        if name.isEmpty { name = "_" }
        return "configurations/" + name
    }

    // MARK: locking

    /// Runs `body` holding the repository's lock (created with the repository when missing).
    public func locked<T>(_ body: () throws -> T) throws -> T {
        if !FileManager.default.fileExists(atPath: path + "/.git/switchboard.lock") { try create() }
        let fd = open(path + "/.git/switchboard.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw GitError("cannot open \(path)/.git/switchboard.lock: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 { if errno != EINTR { break } }
        defer { flock(fd, LOCK_UN) }
        try prepare()
        return try body()
    }

    /// Creates the repository, once, whoever else is creating it. Two engines on one host that share
    /// the data directory found no repository at the same moment (their first backups at once, as
    /// in a run spread over both): both ran `git init`, and one failed on the other's half-made
    /// `.git`, losing that backup's commit. The creation is serialised by a lock beside the
    /// repository, and is done only by whoever finds no lock file inside it (made last).
    private func create() throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let guardPath = (path as NSString).standardizingPath + ".init.lock"
        let fd = open(guardPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw GitError("cannot open \(guardPath): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 { if errno != EINTR { break } }
        defer { flock(fd, LOCK_UN) }
        if FileManager.default.fileExists(atPath: path + "/.git/switchboard.lock") { return }
        if !FileManager.default.fileExists(atPath: path + "/.git/HEAD") {
            let r = try git.run(["-C", path] + identity() + ["init", "-q", "-b", branch])
            guard r.ok else { throw GitError("git init \(path): \(r.message)") }
        }
        let made = open(path + "/.git/switchboard.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard made >= 0 else { throw GitError("cannot create \(path)/.git/switchboard.lock: \(String(cString: strerror(errno)))") }
        close(made)
    }

    /// Serial queues by repository path: blocking git work never runs on the cooperative pool.
    private static let queues = Mutex<[String: DispatchQueue]>([:])

    /// Runs `body` on the repository's serial queue, holding its lock.
    public func perform<T: Sendable>(_ body: @escaping @Sendable (ConfigRepository) throws -> T) async throws -> T {
        let queue = Self.queues.withLock { q -> DispatchQueue in
            if let existing = q[path] { return existing }
            let created = DispatchQueue(label: "switchboard.git." + path)
            q[path] = created
            return created
        }
        return try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { try self.locked { try body(self) } })
            }
        }
    }

    // MARK: set-up

    /// The merge driver git runs as `newest %O %A %B %P`: keeps the side (ours `%A` or theirs
    /// `%B`) whose last commit touching the file is newer; theirs is `$SWITCHBOARD_MERGE_THEIRS`
    /// (set by `push`), else `MERGE_HEAD`, else `FETCH_HEAD`. Ties keep ours.
    static let mergeDriver = """
        #!/bin/sh
        # switchboard: the "newest" merge driver (eNMS network_data: newest commit wins).
        # git runs it as: switchboard-merge-newest %O %A %B %P
        ours="$2"; theirs_file="$3"; file="$4"
        theirs="${SWITCHBOARD_MERGE_THEIRS:-}"
        if [ -z "$theirs" ]; then
          if git rev-parse -q --verify MERGE_HEAD >/dev/null 2>&1; then theirs=MERGE_HEAD; else theirs=FETCH_HEAD; fi
        fi
        t_ours=$(git log -1 --format=%ct HEAD -- "$file" 2>/dev/null)
        t_theirs=$(git log -1 --format=%ct "$theirs" -- "$file" 2>/dev/null)
        if [ "${t_theirs:-0}" -gt "${t_ours:-0}" ]; then
          cat "$theirs_file" > "$ours" || exit 1
        fi
        exit 0

        """

    static let attributes = """
        # switchboard: several instances push to one remote; a conflicting configuration keeps the newest commit's version.
        configurations/* merge=newest

        """

    /// Creates the repository when missing (branch, `.gitattributes`, first commit) and installs the
    /// merge driver in its configuration. Idempotent.
    public func prepare() throws {
        let fm = FileManager.default
        if !fm.fileExists(atPath: path + "/.git") {
            try fm.createDirectory(atPath: path, withIntermediateDirectories: true)
            let r = try git.run(["-C", path] + identity() + ["init", "-q", "-b", branch])
            guard r.ok else { throw GitError("git init \(path): \(r.message)") }
        }
        try? fm.createDirectory(atPath: git.home, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let driver = path + "/.git/switchboard-merge-newest"
        if (try? String(contentsOfFile: driver, encoding: .utf8)) != Self.mergeDriver {
            try Self.mergeDriver.write(toFile: driver, atomically: true, encoding: .utf8)
            chmod(driver, 0o755)
        }
        let command = "'\(driver.replacingOccurrences(of: "'", with: "'\\''"))' %O %A %B %P"
        if (try? run(["config", "--local", "merge.newest.driver"]))?.stdout.trimmingCharacters(in: .newlines) != command {
            try must(["config", "--local", "merge.newest.name", "newest commit wins"])
            try must(["config", "--local", "merge.newest.driver", command])
        }
        let attributesPath = path + "/.gitattributes"
        if (try? String(contentsOfFile: attributesPath, encoding: .utf8)) != Self.attributes {
            try Self.attributes.write(toFile: attributesPath, atomically: true, encoding: .utf8)
            try must(["add", "--", ".gitattributes"])
            try must(["commit", "-q", "--no-verify", "-m", "switchboard: configurations keep the newest commit's version on merge (merge=newest)"])
        }
    }

    // MARK: commits

    /// Writes `content` as the device's configuration and commits it, unless the file already
    /// holds exactly that. Returns the commit, or nil when nothing changed. Call inside `locked`.
    public func commit(device: String, content: String, author: String, message: String, date: Date? = nil) throws -> String? {
        let relative = Self.file(for: device)
        let full = path + "/" + relative
        // The working tree is switchboard's own: a file that already holds the text is committed.
        if let current = FileManager.default.contents(atPath: full), current == Data(content.utf8) { return nil }
        try FileManager.default.createDirectory(atPath: path + "/configurations", withIntermediateDirectories: true)
        try Data(content.utf8).write(to: URL(fileURLWithPath: full), options: .atomic)
        try must(["add", "--", relative])
        var environment: [String: String] = [:]
        if let date {
            let stamp = "@\(Int64(date.timeIntervalSince1970)) +0000"
            environment = ["GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp]
        }
        let name = author.isEmpty ? "switchboard" : author
        let who = "\(Self.authorName(name)) <\(Self.authorName(name).replacingOccurrences(of: " ", with: "."))@\(Self.host)>"
        let r = try run(["commit", "-q", "--no-verify", "--author", who, "-m", message, "--", relative], environment: environment)
        if !r.ok {
            if r.stdout.contains("nothing to commit") || r.stderr.contains("nothing to commit") { return nil }
            throw GitError("git commit \(relative): \(r.message)")
        }
        return try must(["rev-parse", "HEAD"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func authorName(_ user: String) -> String {
        String(user.filter { $0 != "<" && $0 != ">" && $0 != "\n" && $0 != "@" })
    }

    /// A device's commits, newest first (`git log` of its file).
    public func log(device: String, limit: Int = 0, patch: Bool = false) throws -> (commits: [Commit], text: String) {
        let relative = Self.file(for: device)
        guard FileManager.default.fileExists(atPath: path + "/.git") else { return ([], "") }
        let separator = "\u{1e}"
        var args = ["log", "--format=\(separator)%H%x1f%an%x1f%at%x1f%s"]
        if limit > 0 { args.append("-n\(limit)") }
        let r = try run(args + ["--", relative])
        guard r.ok else {
            if r.stderr.contains("does not have any commits") { return ([], "") }
            throw GitError("git log: \(r.message)")
        }
        var text = r.stdout
        if patch {
            var args = ["log", "-p", "--format=commit %H%nAuthor: %an <%ae>%nDate:   %aD%n%n    %s%n"]
            if limit > 0 { args.append("-n\(limit)") }
            text = try must(args + ["--", relative]).stdout
        }
        var commits: [Commit] = []
        for chunk in r.stdout.split(separator: Character(separator), omittingEmptySubsequences: true) {
            let head = chunk.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
            let f = head[0].split(separator: "\u{1f}", omittingEmptySubsequences: false).map(String.init)
            guard f.count >= 4 else { continue }
            commits.append(Commit(sha: f[0], author: f[1], date: Date(timeIntervalSince1970: Double(f[2]) ?? 0), message: f[3]))
        }
        return (commits, text)
    }

    /// The time of the last commit touching each file (`configurations/…`), from one `git log`.
    public func lastCommitTimes() throws -> [String: Double] {
        let r = try run(["log", "--format=\u{1e}%ct", "--name-only", "--", "configurations"])
        guard r.ok else { return [:] }
        var out: [String: Double] = [:]
        var time = 0.0
        for line in r.stdout.split(separator: "\n") {
            if line.hasPrefix("\u{1e}") { time = Double(line.dropFirst()) ?? 0; continue }
            let file = String(line)
            if out[file] == nil { out[file] = time }
        }
        return out
    }

    // MARK: remote

    public enum PushOutcome: Sendable, Equatable {
        case pushed(merged: Bool)
        case upToDate
    }

    /// Pushes the branch to `remote` (a path or URL). When the remote moved: fetches, merges
    /// (configuration conflicts resolved by the `newest` driver) and pushes again, up to 3 times.
    /// Call inside `locked`.
    public func push(remote: String, timeout: Double = 60) throws -> PushOutcome {
        let current = try run(["remote", "get-url", "origin"])
        if !current.ok {
            try must(["remote", "add", "origin", remote])
        } else if current.stdout.trimmingCharacters(in: .whitespacesAndNewlines) != remote {
            try must(["remote", "set-url", "origin", remote])
        }
        var merged = false
        for _ in 0..<3 {
            let r = try run(["push", "--porcelain", "origin", "HEAD:refs/heads/\(branch)"], timeout: timeout)
            if r.ok { return r.stdout.contains("[up to date]") && !merged ? .upToDate : .pushed(merged: merged) }
            let rejected = r.stdout.contains("[rejected]") || r.stderr.contains("[rejected]") || r.stderr.contains("fetch first")
                || r.stderr.contains("non-fast-forward")
            guard rejected else { throw GitError("git push to \(remote): \(r.message)") }
            try must(["fetch", "-q", "origin", branch], timeout: timeout)
            let theirs = try must(["rev-parse", "FETCH_HEAD"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let m = try run(["merge", "-q", "--no-edit", "--allow-unrelated-histories", "-m", "switchboard: merge \(remote) \(branch)", theirs],
                            environment: ["SWITCHBOARD_MERGE_THEIRS": theirs])
            if !m.ok {
                _ = try? run(["merge", "--abort"])
                throw GitError("git merge of \(remote) \(branch): \(m.message)")
            }
            merged = true
        }
        throw GitError("git push to \(remote): the remote kept moving (3 attempts)")
    }
}
