#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Buffered stdout with the `disconnect_after_bytes` fault built in.
///
/// Output is collected in a 64 KiB buffer and written with plain write(2): large outputs
/// (10 MB for `huge_output`) go out in a handful of system calls, and prompts are flushed
/// explicitly so a client waiting for one never waits on our buffer. Byte counting happens here,
/// below every report, so the disconnect fault cuts at an exact byte offset wherever it falls.
final class Output {
    private var buffer: [UInt8] = []
    private let capacity = 64 * 1024
    private let disconnectAfter: Int
    private(set) var bytesWritten = 0

    init(disconnectAfterBytes: Int) {
        disconnectAfter = max(0, disconnectAfterBytes)
        buffer.reserveCapacity(capacity)
    }

    func write(_ text: String) {
        var text = text
        text.withUTF8 { write($0) }
    }

    func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { write($0) }
    }

    func write(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard !bytes.isEmpty else { return }
        if disconnectAfter > 0 && bytesWritten + bytes.count >= disconnectAfter {
            let allowed = disconnectAfter - bytesWritten
            append(UnsafeBufferPointer(rebasing: bytes[0..<allowed]))
            bytesWritten += allowed
            disconnect()
        }
        bytesWritten += bytes.count
        append(bytes)
    }

    func flush() {
        guard !buffer.isEmpty else { return }
        buffer.withUnsafeBufferPointer { Output.writeAll(1, $0) }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Writes straight to stderr (after flushing stdout, to keep the interleaving a terminal
    /// would show). Not counted against the disconnect fault, which models the data stream.
    func writeError(_ text: String) {
        flush()
        var text = text
        text.withUTF8 { Output.writeAll(2, $0) }
    }

    /// The `disconnect_after_bytes` fault: drop the session mid-stream, as a crashed or
    /// rebooting device would. 255 is also what `ssh` exits with when the connection breaks.
    func disconnect() -> Never {
        flush()
        TerminalMode.restore()
        _exit(255)
    }

    private func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard !bytes.isEmpty else { return }
        if buffer.count + bytes.count > capacity {
            flush()
            if bytes.count >= capacity {
                Output.writeAll(1, bytes)  // big blocks bypass the buffer: no extra copy
                return
            }
        }
        buffer.append(contentsOf: bytes)
    }

    private static func writeAll(_ fd: Int32, _ bytes: UnsafeBufferPointer<UInt8>) {
        guard var pointer = bytes.baseAddress else { return }
        var remaining = bytes.count
        while remaining > 0 {
            let n = systemWrite(fd, pointer, remaining)
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                // The client went away (EPIPE with SIGPIPE ignored). Nobody is left to talk to.
                _exit(fd == 1 ? 0 : 1)
            }
            pointer += n
            remaining -= n
        }
    }
}

/// write(2), outside the class so `Output.write` does not shadow it.
private func systemWrite(_ fd: Int32, _ pointer: UnsafePointer<UInt8>, _ count: Int) -> Int {
    write(fd, pointer, count)
}
