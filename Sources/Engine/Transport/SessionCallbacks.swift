import CLibSSH2
import Glibc

/// State libssh2's C callbacks reach through the session's abstract pointer
/// (`libssh2_session_abstract`): C function pointers cannot capture Swift context.
///
/// Thread confinement: libssh2 calls the callbacks from inside libssh2 calls, which only the
/// session's loop thread makes; the fields are touched by that thread alone.
final class SessionCallbacks: @unchecked Sendable {
    /// Bytes read from the socket so far. The loop compares it before and after stepping the
    /// operations: if an operation pulled packets that belong to another one into libssh2's
    /// buffers, no poll would announce them, so the others are stepped again.
    var bytesReceived: UInt64 = 0
    /// The peer closed the TCP connection (recv returned 0).
    var peerClosed = false
    /// Whether libssh2 may see that end of file yet. libssh2 reads ahead until EAGAIN and, on
    /// EOF, fails the call at once, dropping packets it had already queued: the last output of a
    /// device that closes right after it, the bytes before a cut. So EOF is first reported as
    /// EAGAIN; once the operations have drained everything queued, the driver lets it through.
    var deliverEOF = false
    /// The password keyboard-interactive prompts are answered with, set only for that attempt.
    var keyboardInteractivePassword: [UInt8]?
    /// Prompts seen during keyboard-interactive, and how many were answered.
    var promptsSeen = 0
    var promptsAnswered = 0

    var abstractPointer: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }

    static func from(_ abstract: UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> SessionCallbacks? {
        guard let raw = abstract?.pointee else { return nil }
        return Unmanaged<SessionCallbacks>.fromOpaque(raw).takeUnretainedValue()
    }

    /// Installs the receive callback on a new session.
    static func install(on session: OpaquePointer) {
        _ = libssh2_session_callback_set(session, LIBSSH2_CALLBACK_RECV, unsafeBitCast(receive, to: UnsafeMutableRawPointer.self))
    }

    /// libssh2's default recv, plus byte counting and the deferred end of file. libssh2 expects
    /// `-errno` on failure.
    private static let receive: @convention(c) (libssh2_socket_t, UnsafeMutableRawPointer?, Int, Int32,
                                                UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> Int = { socket, buffer, length, flags, abstract in
        let n = recv(socket, buffer, length, flags)
        if n < 0 { return -Int(errno == EWOULDBLOCK ? EAGAIN : errno) }
        guard let callbacks = SessionCallbacks.from(abstract) else { return n }
        if n > 0 {
            callbacks.bytesReceived &+= UInt64(n)
        } else if length > 0 {
            callbacks.peerClosed = true
            if !callbacks.deliverEOF { return -Int(EAGAIN) }
        }
        return n
    }

    /// Answers every prompt whose text contains "assword" with the password; others get an empty
    /// answer (a banner-like "press enter"). Responses are malloc'd: libssh2 frees them.
    static let keyboardInteractive: @convention(c) (UnsafePointer<CChar>?, Int32, UnsafePointer<CChar>?, Int32, Int32,
                                                    UnsafePointer<LIBSSH2_USERAUTH_KBDINT_PROMPT>?,
                                                    UnsafeMutablePointer<LIBSSH2_USERAUTH_KBDINT_RESPONSE>?,
                                                    UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> Void = {
        _, _, _, _, count, prompts, responses, abstract in
        guard let callbacks = SessionCallbacks.from(abstract), let prompts, let responses, count > 0 else { return }
        for i in 0..<Int(count) {
            callbacks.promptsSeen += 1
            let prompt = prompts[i]
            let text = prompt.text.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: Int(prompt.length)), as: UTF8.self) } ?? ""
            let answer: [UInt8] = text.lowercased().contains("assword") ? (callbacks.keyboardInteractivePassword ?? []) : []
            if text.lowercased().contains("assword") { callbacks.promptsAnswered += 1 }
            let memory = malloc(max(answer.count, 1))!.assumingMemoryBound(to: CChar.self)
            answer.withUnsafeBytes { raw in
                if let base = raw.baseAddress { memcpy(memory, base, answer.count) }
            }
            responses[i].text = memory
            responses[i].length = UInt32(answer.count)
        }
    }
}
