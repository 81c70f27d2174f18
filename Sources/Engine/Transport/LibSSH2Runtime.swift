import CLibSSH2
import Glibc

/// Process-wide libssh2 facts: one-time initialisation, the algorithms this build supports, and
/// the small conversions every libssh2 call site needs.
enum LibSSH2 {
    /// `libssh2_init` must run once before any session exists and is not itself thread-safe; a
    /// Swift global `let` is initialised exactly once, under a lock, on first use.
    private static let initResult: Int32 = libssh2_init(0)

    static func ensureInitialized() {
        precondition(initResult == 0, "libssh2_init failed (\(initResult))")
    }

    /// Algorithms the linked libssh2 implements, per method type, so preference lists never name
    /// one it would reject.
    static let supported: [Int32: Set<String>] = {
        ensureInitialized()
        var result: [Int32: Set<String>] = [:]
        guard let session = libssh2_session_init_ex(nil, nil, nil, nil) else { return result }
        defer { libssh2_session_free(session) }
        for type in [LIBSSH2_METHOD_KEX, LIBSSH2_METHOD_HOSTKEY, LIBSSH2_METHOD_CRYPT_CS, LIBSSH2_METHOD_MAC_CS] {
            var names: UnsafeMutablePointer<UnsafePointer<CChar>?>?
            let count = libssh2_session_supported_algs(session, type, &names)
            guard count > 0, let names else { continue }
            var set = Set<String>()
            for i in 0..<Int(count) { if let name = names[i] { set.insert(String(cString: name)) } }
            libssh2_free(session, names)
            result[type] = set
        }
        return result
    }()

    /// The last error libssh2 recorded on a session: its code and message.
    static func lastError(_ session: OpaquePointer) -> (code: Int32, message: String) {
        var message: UnsafeMutablePointer<CChar>?
        var length: Int32 = 0
        let code = libssh2_session_last_error(session, &message, &length, 0)
        guard let message, length > 0 else { return (code, "libssh2 error \(code)") }
        return (code, String(decoding: UnsafeRawBufferPointer(start: message, count: Int(length)), as: UTF8.self))
    }

    /// Default channel window and packet sizes (the header's macros are expressions Swift does not
    /// import). A larger window lets a 10 MB `show running-config` stream without a stall per 2 MB.
    static let channelWindow: UInt32 = 4 * 1024 * 1024
    static let channelPacket: UInt32 = 32_768

    static func strerror(_ code: Int32) -> String { String(cString: Glibc.strerror(code)) }
}

/// Monotonic nanoseconds: deadlines must not move when the wall clock does.
enum Monotonic {
    static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    static func deadline(after duration: Duration) -> UInt64 {
        now() &+ duration.nanoseconds
    }
}

extension Duration {
    var nanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        guard seconds >= 0 else { return 0 }
        return UInt64(seconds) * 1_000_000_000 + UInt64(attoseconds / 1_000_000_000)
    }

    /// Seconds as a Double, for messages.
    var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }
}
