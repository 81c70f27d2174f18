#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Persistence of each device's running configuration for the lifetime of the lab, in
// `<lab dir>/state/<device>.cfg`. Many sessions to one device can run at once (benchmarks open
// hundreds), so every change is a read-modify-write under an exclusive flock on
// `<device>.lock`, and the file is replaced by rename so a reader never sees half a file.

enum FileIO {
    static func readAll(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 { if errno == EINTR { continue }; return nil }
            if n == 0 { return result }
            result.append(contentsOf: chunk[0..<n])
        }
    }

    static func readText(_ path: String) -> String? {
        readAll(path).map { String(decoding: $0, as: UTF8.self) }
    }

    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    static func makeDirectory(_ path: String) throws(StateError) {
        if mkdir(path, 0o755) != 0 && errno != EEXIST { throw StateError(operation: "create \(path)", code: errno) }
    }

    /// Temp file in the same directory, then rename: atomic for readers. No fsync: the state only
    /// has to outlive the lab, not a host crash, and fsync would cost every config line a disk
    /// flush.
    static func writeAtomically(_ path: String, _ text: String) throws(StateError) {
        let temporary = "\(path).tmp.\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StateError(operation: "create \(temporary)", code: errno) }
        var bytes = Array(text.utf8)
        var failure: Int32 = 0
        bytes.withUnsafeMutableBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 { if errno == EINTR { continue }; failure = errno; return }
                offset += n
            }
        }
        close(fd)
        if failure != 0 { unlink(temporary); throw StateError(operation: "write \(temporary)", code: failure) }
        if rename(temporary, path) != 0 {
            let code = errno
            unlink(temporary)
            throw StateError(operation: "rename \(temporary)", code: code)
        }
    }

    /// Runs `body` holding an exclusive flock on `path` (created if needed). The lock is advisory
    /// and only guards against other switchboard-device processes, which is all that writes here.
    static func withExclusiveLock<T>(_ path: String, _ body: () throws(StateError) -> T) throws(StateError) -> T {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StateError(operation: "open \(path)", code: errno) }
        defer { close(fd) }  // closing releases the lock too, even if body throws
        while flock(fd, LOCK_EX) != 0 {
            if errno != EINTR { throw StateError(operation: "lock \(path)", code: errno) }
        }
        return try body()
    }
}

struct StateError: Error, CustomStringConvertible {
    var operation: String
    var code: Int32
    var description: String { "cannot \(operation): \(String(cString: strerror(code)))" }
}

struct StateStore: Sendable {
    let directory: String
    let device: String
    /// The configuration a device boots with, used until the first change is saved.
    let factoryConfig: String

    init(labDirectory: String, device: String, factoryConfig: String) {
        directory = labDirectory + "/state"
        // Device names come from a file we do not control; keep them inside the state directory.
        self.device = String(device.map { $0 == "/" || $0 == "\0" ? "_" : $0 }).replacingDotDot()
        self.factoryConfig = factoryConfig
    }

    var runningPath: String { "\(directory)/\(device).cfg" }
    var startupPath: String { "\(directory)/\(device).startup.cfg" }
    private var lockPath: String { "\(directory)/\(device).lock" }

    /// The current running configuration. Read fresh on every use, so a session sees changes made
    /// by other sessions to the same device. No lock needed: writers replace the file by rename.
    func running() -> String {
        FileIO.readText(runningPath) ?? factoryConfig
    }

    /// Applies `change` to the latest running configuration and persists the result. Returns
    /// what `change` returned.
    @discardableResult
    func update<T>(_ change: (inout String) -> T) throws(StateError) -> T {
        try FileIO.makeDirectory(directory)
        return try FileIO.withExclusiveLock(lockPath) { () throws(StateError) -> T in
            var text = running()
            let before = text
            let result = change(&text)
            if text != before || !FileIO.exists(runningPath) {
                try FileIO.writeAtomically(runningPath, text)
            }
            return result
        }
    }

    /// `write memory`: the running configuration becomes the startup configuration.
    func saveStartup() throws(StateError) {
        try FileIO.makeDirectory(directory)
        try FileIO.withExclusiveLock(lockPath) { () throws(StateError) in
            try FileIO.writeAtomically(startupPath, running())
        }
    }

    /// The saved startup configuration; the factory one until the first `write memory`.
    func startup() -> String {
        FileIO.readText(startupPath) ?? factoryConfig
    }
}

private extension String {
    func replacingDotDot() -> String { self == ".." || self == "." || isEmpty ? "_\(self)" : self }
}
