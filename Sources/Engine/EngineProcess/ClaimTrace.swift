import Foundation

/// `SWITCHBOARD_TRACE_CLAIMS=1`: the engine writes one line to its standard error per pass of its unit
/// claim (`claimUnits`, the idle probe included): `claim <start epoch ms> <wall µs> <thread CPU µs>`.
/// bench/fleet sums them over a run's window for the claim overhead per unit. Off, it costs one
/// branch per engine loop.
enum ClaimTrace {
    static let on = ProcessInfo.processInfo.environment["SWITCHBOARD_TRACE_CLAIMS"] != nil

    static func measure(_ body: () -> Void) {
        guard on else { return body() }
        // The claim runs synchronously on this thread, so the thread's CPU clock is the claim's CPU.
        var cpu0 = timespec(), cpu1 = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu0)
        let started = Date()
        body()
        let wall = Date().timeIntervalSince(started)
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu1)
        let cpu = (cpu1.tv_sec - cpu0.tv_sec) * 1_000_000 + (cpu1.tv_nsec - cpu0.tv_nsec) / 1000
        FileHandle.standardError.write(Data("claim \(Int(started.timeIntervalSince1970 * 1000)) \(Int(wall * 1_000_000)) \(cpu)\n".utf8))
    }
}
