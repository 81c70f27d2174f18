import Engine
import Foundation
import XCTest

/// The configurations' git repository with the system git: commits, pushes to a local bare
/// remote, two repositories converging through the `newest` merge driver, a push failure.
final class ConfigRepositoryTests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "switchboard-git-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// Plain git (no switchboard), to look at what a repository holds.
    @discardableResult
    func git(_ args: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        p.arguments = args
        p.environment = ["PATH": "/usr/bin:/bin", "HOME": dir, "GIT_CONFIG_NOSYSTEM": "1", "LC_ALL": "C"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, "git \(args.joined(separator: " "))")
        return String(decoding: data, as: UTF8.self)
    }

    func bareRemote(_ name: String = "remote.git") throws -> String {
        let path = dir + "/" + name
        try git(["init", "-q", "--bare", "-b", "main", path])
        return path
    }

    /// Several engines sharing one data directory find no repository at once: each creates it (on
    /// its own descriptor, as separate processes do; flock locks conflict between descriptors), and
    /// every one's commit lands. Before, two `git init`s raced and one failed, losing its commit.
    func testConcurrentFirstCommitsAllLandWhenTheRepositoryIsCreatedAtOnce() throws {
        for round in 0..<5 {
            let path = dir + "/network_data_\(round)"
            let failures = Failures()
            DispatchQueue.concurrentPerform(iterations: 6) { i in
                let repo = ConfigRepository(path: path)
                do { _ = try repo.locked { try repo.commit(device: "d\(i)", content: "hostname d\(i)\n", author: "ann", message: "d\(i)") } }
                catch { failures.add("d\(i): \(error)") }
            }
            XCTAssertEqual(failures.all, [], "round \(round)")
            let files = try git(["-C", path, "ls-tree", "-r", "--name-only", "HEAD"]).split(separator: "\n").map(String.init)
            XCTAssertEqual(Set(files), Set((0..<6).map { "configurations/d\($0)" } + [".gitattributes"]), "round \(round)")
        }
    }

    final class Failures: @unchecked Sendable {
        private let lock = NSLock()
        private var items: [String] = []
        func add(_ s: String) { lock.lock(); items.append(s); lock.unlock() }
        var all: [String] { lock.lock(); defer { lock.unlock() }; return items }
    }

    func testCommitsOnlyChangesWithAuthorAndMessage() throws {
        let repo = ConfigRepository(path: dir + "/network_data")
        let first = try repo.locked { try repo.commit(device: "edge1", content: "hostname edge1\n", author: "alice", message: "edge1: service 'b', run 1") }
        XCTAssertNotNil(first)
        XCTAssertNil(try repo.locked { try repo.commit(device: "edge1", content: "hostname edge1\n", author: "alice", message: "again") },
                     "unchanged: no commit")
        let second = try repo.locked { try repo.commit(device: "edge1", content: "hostname edge1\nntp server 1.2.3.4\n", author: "bob", message: "edge1: service 'b', run 2") }
        XCTAssertNotNil(second)
        XCTAssertEqual(try git(["-C", repo.path, "rev-list", "--count", "HEAD"]).trimmingCharacters(in: .whitespacesAndNewlines), "3",
                       ".gitattributes, then two configurations")
        XCTAssertEqual(try git(["-C", repo.path, "log", "-1", "--format=%an|%s"]).trimmingCharacters(in: .newlines), "bob|edge1: service 'b', run 2")
        XCTAssertTrue(try git(["-C", repo.path, "show", "HEAD"]).contains("+ntp server 1.2.3.4"))
        XCTAssertEqual(try String(contentsOfFile: repo.path + "/.gitattributes", encoding: .utf8).contains("configurations/* merge=newest"), true)
        XCTAssertTrue(try git(["-C", repo.path, "config", "merge.newest.driver"]).contains("switchboard-merge-newest"))
        let (commits, _) = try repo.locked { try repo.log(device: "edge1") }
        XCTAssertEqual(commits.map(\.author), ["bob", "alice"])
        // Dated commits (export-git).
        let dated = try repo.locked { try repo.commit(device: "edge2", content: "x\n", author: "carol", message: "m", date: Date(timeIntervalSince1970: 1_700_000_000)) }
        XCTAssertNotNil(dated)
        XCTAssertEqual(try git(["-C", repo.path, "log", "-1", "--format=%at %ct"]).trimmingCharacters(in: .newlines), "1700000000 1700000000")
        XCTAssertEqual(ConfigRepository.file(for: "../etc/passwd"), "configurations/_._etc_passwd", "names stay inside configurations/")
    }

    func testTwoRepositoriesConvergeThroughTheNewestMergeDriver() throws {
        let remote = try bareRemote()
        let a = ConfigRepository(path: dir + "/a"), b = ConfigRepository(path: dir + "/b")
        let t0 = Date(timeIntervalSince1970: 1_700_000_000)
        // A: shared at t0+10, only-a; pushes first.
        _ = try a.locked { try a.commit(device: "shared", content: "version a (older)\n", author: "a", message: "a1", date: t0 + 10) }
        _ = try a.locked { try a.commit(device: "only-a", content: "a\n", author: "a", message: "a2", date: t0 + 11) }
        XCTAssertEqual(try a.locked { try a.push(remote: remote) }, .pushed(merged: false))
        // B: shared at t0+20 (newer), only-b, and late (older than A's next change); its push must merge.
        _ = try b.locked { try b.commit(device: "shared", content: "version b (newer)\n", author: "b", message: "b1", date: t0 + 20) }
        _ = try b.locked { try b.commit(device: "only-b", content: "b\n", author: "b", message: "b2", date: t0 + 21) }
        _ = try b.locked { try b.commit(device: "late", content: "late b (older)\n", author: "b", message: "b3", date: t0 + 22) }
        XCTAssertEqual(try b.locked { try b.push(remote: remote) }, .pushed(merged: true))
        // A changes `late` after B did (newer), and pushes: merges B's work, keeps its own `late`.
        _ = try a.locked { try a.commit(device: "late", content: "late a (newer)\n", author: "a", message: "a3", date: t0 + 30) }
        XCTAssertEqual(try a.locked { try a.push(remote: remote) }, .pushed(merged: true))
        // B pushes again (nothing new of its own): fast-forwards to the remote.
        XCTAssertEqual(try b.locked { try b.push(remote: remote) }, .pushed(merged: true))
        func remoteFile(_ device: String) throws -> String { try git(["--git-dir", remote, "show", "main:configurations/\(device)"]) }
        XCTAssertEqual(try remoteFile("shared"), "version b (newer)\n", "the newest commit's version wins")
        XCTAssertEqual(try remoteFile("late"), "late a (newer)\n")
        XCTAssertEqual(try remoteFile("only-a"), "a\n")
        XCTAssertEqual(try remoteFile("only-b"), "b\n")
        let remoteHead = try git(["--git-dir", remote, "rev-parse", "main"])
        XCTAssertEqual(try git(["-C", a.path, "rev-parse", "HEAD"]), remoteHead)
        XCTAssertEqual(try git(["-C", b.path, "rev-parse", "HEAD"]), remoteHead, "both repositories converged")
        XCTAssertEqual(try git(["-C", a.path, "status", "--porcelain"]), "", "no conflict left behind")
    }

    func testAPushFailureIsReportedAndTheNextPushCarriesTheCommits() throws {
        let remote = try bareRemote()
        let repo = ConfigRepository(path: dir + "/network_data")
        _ = try repo.locked { try repo.commit(device: "edge1", content: "v1\n", author: "a", message: "m1") }
        XCTAssertEqual(try repo.locked { try repo.push(remote: remote) }, .pushed(merged: false))
        XCTAssertEqual(try repo.locked { try repo.push(remote: remote) }, .upToDate)
        try FileManager.default.moveItem(atPath: remote, toPath: remote + ".away")
        _ = try repo.locked { try repo.commit(device: "edge1", content: "v2\n", author: "a", message: "m2") }
        XCTAssertThrowsError(try repo.locked { try repo.push(remote: remote) }) { error in
            XCTAssertTrue("\(error)".contains("git push"), "\(error)")
        }
        try FileManager.default.moveItem(atPath: remote + ".away", toPath: remote)
        XCTAssertEqual(try repo.locked { try repo.push(remote: remote) }, .pushed(merged: false))
        XCTAssertEqual(try git(["--git-dir", remote, "show", "main:configurations/edge1"]), "v2\n")
    }
}
