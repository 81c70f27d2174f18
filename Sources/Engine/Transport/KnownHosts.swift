import CLibSSH2
import Foundation
import Store

/// OpenSSH known_hosts files, checked through libssh2's knownhost API.
///
/// Names follow OpenSSH: `host` for port 22, `[host]:port` otherwise, and each is matched exactly
/// (libssh2's own port handling would also accept a bare-host entry for another port, which
/// OpenSSH does not and which would report a false "changed key" when several devices share an
/// address). Hashed (`|1|…`) entries work because libssh2 hashes the same name.
public struct KnownHosts: Sendable {
    /// Files to read, in order. Missing files are simply empty.
    public var files: [String]
    /// Where `record` (policy accept-new, `switchboard trust`) appends; also read.
    public var writableFile: String?

    public init(files: [String], writableFile: String? = nil) {
        self.files = files
        self.writableFile = writableFile
    }

    /// Every file consulted: the writable one first, then the others, without duplicates.
    public var readFiles: [String] {
        var result: [String] = []
        for file in (writableFile.map { [$0] } ?? []) + files where !result.contains(file) { result.append(file) }
        return result
    }

    public enum Verdict: Sendable, Equatable {
        /// A file holds exactly this key.
        case known(file: String)
        /// No file knows the host with this key type.
        case unknown
        /// A file holds a different key of the same type (and none holds this one).
        case changed(file: String, line: Int?)
    }

    /// The name OpenSSH uses for a host in known_hosts.
    public static func entryName(host: String, port: Int) -> String {
        port == 22 ? host : "[\(host)]:\(port)"
    }

    public func check(host: String, port: Int, key: SSHHostKey) -> Verdict {
        let name = KnownHosts.entryName(host: host, port: port)
        var changed: (file: String, line: Int?)?
        for file in readFiles {
            guard let result = KnownHostCache.shared.with(file, { $0.check(name: name, blob: key.blob, typeMask: key.type.knownHostMask) }) else { continue }
            switch result {
            case LIBSSH2_KNOWNHOST_CHECK_MATCH:
                return .known(file: file)
            case LIBSSH2_KNOWNHOST_CHECK_MISMATCH:
                if changed == nil { changed = (file, KnownHosts.offendingLine(in: file, name: name, key: key)) }
            default:
                break
            }
        }
        // As OpenSSH: a matching entry anywhere wins over a stale one elsewhere.
        if let changed { return .changed(file: changed.file, line: changed.line) }
        return .unknown
    }

    /// Key types some file has an entry for, for this host: offered first in the handshake, as
    /// OpenSSH does, so a host known by its ecdsa key is not refused for offering ed25519 first.
    public func knownKeyTypes(host: String, port: Int) -> [SSHHostKeyType] {
        let name = KnownHosts.entryName(host: host, port: port)
        let files = readFiles
        return SSHHostKeyType.allCases.filter { type in
            // A one-byte key never matches, so MISMATCH means "an entry of this type exists".
            files.contains { file in
                KnownHostCache.shared.with(file, { $0.check(name: name, blob: [0], typeMask: type.knownHostMask) }) == LIBSSH2_KNOWNHOST_CHECK_MISMATCH
            }
        }
    }

    /// Appends `[host]:port keytype base64` (bare host for port 22) to the writable file, creating
    /// it 0600 (and its directory 0700). An exclusive `flock` keeps concurrent switchboard
    /// processes from interleaving lines; an entry already present is not added twice.
    public func record(host: String, port: Int, key: SSHHostKey) throws {
        guard let path = writableFile else {
            throw SSHError.protocolError(host: host, port: port, message: "no writable known_hosts file is configured to record the host key in")
        }
        try KnownHosts.append(line: "\(KnownHosts.entryName(host: host, port: port)) \(key.openSSHLine)", to: path,
                              unlessPresent: { KnownHosts(files: [path]).check(host: host, port: port, key: key) == .known(file: path) },
                              host: host, port: port)
    }

    static func append(line: String, to path: String, unlessPresent: () -> Bool, host: String, port: Int) throws {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            do { try Paths.ensurePrivateDirectory(directory) } catch {
                throw SSHError.protocolError(host: host, port: port, message: "cannot record the host key: \(error)")
            }
        }
        let fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw SSHError.protocolError(host: host, port: port, message: "cannot open \(path) to record the host key: \(LibSSH2.strerror(errno))")
        }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 && errno == EINTR {}
        defer { flock(fd, LOCK_UN) }
        // Under the lock: another process may have recorded it meanwhile.
        if unlessPresent() { return }
        var text = line + "\n"
        // Do not glue our line onto a last line that lacks its newline.
        let size = lseek(fd, 0, SEEK_END)
        if size > 0 {
            var last: UInt8 = 0
            if pread(fd, &last, 1, size - 1) == 1 && last != 0x0a { text = "\n" + text }
        }
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw SSHError.protocolError(host: host, port: port, message: "cannot write \(path): \(LibSSH2.strerror(errno))")
            }
            written += n
        }
    }

    /// The 1-based line of `file` holding a different key of this type for `name`, found by
    /// checking each line on its own (only done when reporting a changed key).
    static func offendingLine(in file: String, name: String, key: SSHHostKey) -> Int? {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return nil }
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            guard line.contains(key.type.rawValue), let collection = KnownHostCollection(lines: [String(line)]) else { continue }
            if collection.check(name: name, blob: key.blob, typeMask: key.type.knownHostMask) == LIBSSH2_KNOWNHOST_CHECK_MISMATCH {
                return index + 1
            }
        }
        return nil
    }
}

/// Parsed known_hosts files, shared by every connection of the process and re-read only when a
/// file's modification time or size changes (`record` appends, so both change). Parsing a lab's
/// few hundred lines twice per login was a large share of a login's client CPU.
/// Checks run under the lock: a libssh2 collection is not documented as safe for concurrent use.
final class KnownHostCache: @unchecked Sendable {
    static let shared = KnownHostCache()
    private let lock = NSLock()
    private var entries: [String: (stamp: [Int], collection: KnownHostCollection)] = [:]

    /// Runs `body` on the file's collection; nil when the file does not exist or cannot be read.
    func with<T>(_ file: String, _ body: (KnownHostCollection) -> T) -> T? {
        var st = stat()
        guard stat(file, &st) == 0 else { return nil }
        let stamp = [Int(st.st_mtim.tv_sec), Int(st.st_mtim.tv_nsec), Int(st.st_size), Int(st.st_ino)]
        lock.lock()
        defer { lock.unlock() }
        if let cached = entries[file], cached.stamp == stamp { return body(cached.collection) }
        guard let collection = KnownHostCollection(file: file) else {
            entries[file] = nil
            return nil
        }
        entries[file] = (stamp, collection)
        return body(collection)
    }
}

/// A libssh2 knownhost collection and the unconnected session libssh2 needs to own it.
final class KnownHostCollection {
    private let session: OpaquePointer
    private var hosts: OpaquePointer

    private init?() {
        LibSSH2.ensureInitialized()
        guard let session = libssh2_session_init_ex(nil, nil, nil, nil) else { return nil }
        guard let hosts = libssh2_knownhost_init(session) else {
            libssh2_session_free(session)
            return nil
        }
        self.session = session
        self.hosts = hosts
    }

    /// The entries of `file`; nil when it does not exist or cannot be read.
    ///
    /// `libssh2_knownhost_readfile` stops at the first line it cannot parse (`@cert-authority`,
    /// `sk-…` keys), silently dropping everything after it; when it reports such a failure the
    /// collection is rebuilt line by line, skipping only the lines libssh2 cannot represent.
    convenience init?(file: String) {
        guard FileManager.default.isReadableFile(atPath: file) else { return nil }
        self.init()
        if libssh2_knownhost_readfile(hosts, file, LIBSSH2_KNOWNHOST_FILE_OPENSSH) < 0 {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8),
                  let fresh = libssh2_knownhost_init(session) else { return nil }
            libssh2_knownhost_free(hosts)
            hosts = fresh
            add(lines: text.split(separator: "\n").map(String.init))
        }
    }

    convenience init?(lines: [String]) {
        self.init()
        add(lines: lines)
    }

    private func add(lines: [String]) {
        for line in lines {
            _ = line.withCString { libssh2_knownhost_readline(hosts, $0, strlen($0), LIBSSH2_KNOWNHOST_FILE_OPENSSH) }
        }
    }

    deinit {
        libssh2_knownhost_free(hosts)
        libssh2_session_free(session)
    }

    /// `LIBSSH2_KNOWNHOST_CHECK_*` for the exact entry name (port -1: no libssh2 port fallback).
    func check(name: String, blob: [UInt8], typeMask: Int32) -> Int32 {
        let mask = LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | typeMask
        return blob.withUnsafeBytes { raw in
            libssh2_knownhost_checkp(hosts, name, -1, raw.baseAddress?.assumingMemoryBound(to: CChar.self), raw.count, mask, nil)
        }
    }
}
