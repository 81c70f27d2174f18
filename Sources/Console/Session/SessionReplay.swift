import Foundation
import CCursesShim
#if canImport(Glibc)
import Glibc
#endif

/// Plays a recording's output on the real terminal with its timing: `1` real time, `4` four times
/// faster, `i` instant (the rest at once), `space` pause, `q` or `Esc` stop. Pauses longer than
/// `idleLimit` seconds are shortened to it, as `asciinema play -i` does.
struct Replayer {
    enum End: Equatable { case finished, stopped, terminalGone, signal(Int32) }

    var input: Int32 = STDIN_FILENO
    var output: Int32 = STDOUT_FILENO
    var wakeDescriptor: Int32?
    /// nil: instant.
    var speed: Double? = 1
    var idleLimit: Double = 2

    /// The keys, for the banner.
    static let keysText = "1 real time   4 four times faster   i instant   space pause   q stop"

    mutating func play(_ cast: Asciicast) -> End {
        var last = 0.0
        var paused = false
        for event in cast.events where event.kind == "o" {
            var remaining = min(max(0, event.time - last), idleLimit)
            last = event.time
            while speed != nil && (remaining > 0.0005 || paused) {
                let timeout = paused ? 1000 : max(1, Int32(min(remaining / speed!, 1) * 1000))
                let started = DispatchTime.now().uptimeNanoseconds
                switch waitKey(timeout: timeout) {
                case .none: break
                case .key(let k):
                    switch k {
                    case UInt8(ascii: "1"): speed = 1
                    case UInt8(ascii: "4"): speed = 4
                    case UInt8(ascii: "i"), UInt8(ascii: "0"): speed = nil
                    case UInt8(ascii: " "): paused.toggle()
                    case UInt8(ascii: "q"), 0x1B: return .stopped
                    default: break
                    }
                case .end(let end): return end
                }
                if !paused, let s = speed {
                    remaining -= Double(DispatchTime.now().uptimeNanoseconds &- started) / 1e9 * s
                }
            }
            if !TerminalPump.writeAll(output, Array(event.data.utf8)) { return .terminalGone }
        }
        return .finished
    }

    enum Wait { case none, key(UInt8), end(End) }

    /// Waits up to `timeout` ms for a key (a lone Esc counts; a longer escape sequence does not).
    func waitKey(timeout: Int32) -> Wait {
        var fds = [pollfd(fd: input, events: Int16(POLLIN), revents: 0)]
        if let wake = wakeDescriptor { fds.append(pollfd(fd: wake, events: Int16(POLLIN), revents: 0)) }
        let ready = poll(&fds, nfds_t(fds.count), timeout)
        let signals = sb_signals_take()
        if signals >> 8 != 0 { return .end(.signal(Int32(signals >> 8))) }
        var buffer = [UInt8](repeating: 0, count: 256)
        if fds.count > 1 && fds[1].revents & Int16(POLLIN) != 0 {
            while read(fds[1].fd, &buffer, buffer.count) > 0 {}
        }
        guard ready > 0 else { return .none }
        if fds[0].revents & Int16(POLLIN) != 0 {
            let n = read(input, &buffer, buffer.count)
            if n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN) { return .end(.terminalGone) }
            if n == 1 { return .key(buffer[0]) }
            if n > 1 && buffer[0] != 0x1B { return .key(buffer[n - 1]) }
            return .none
        }
        if fds[0].revents & Int16(POLLHUP | POLLERR | POLLNVAL) != 0 { return .end(.terminalGone) }
        return .none
    }

    /// After the last event: waits for any key (so the last screen can be read).
    func waitAnyKey() -> End {
        while true {
            switch waitKey(timeout: 1000) {
            case .none: continue
            case .key: return .finished
            case .end(let end): return end
            }
        }
    }
}
