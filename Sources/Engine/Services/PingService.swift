import Foundation
import Store

/// `ping`: the system `ping -c COUNT -W TIMEOUT ADDRESS`. Succeeds when ping exits 0 (a reply
/// came back); the output is ping's own text. Sets the device's `reachable` and
/// `last_reachability_time`. Parameters: `count` (default 3), `timeout` seconds per reply
/// (default 2), `address` (template; default the device's address).
struct PingService: ServiceKindRunner {
    func run(_ context: ServiceContext) async throws -> ServiceOutcome {
        let parameters = Parameters(context)
        let count = parameters.int("count") ?? 3
        guard count >= 1 else { throw parameters.fail("count must be at least 1") }
        let wait = parameters.double("timeout") ?? 2
        guard wait > 0 else { throw parameters.fail("timeout must be positive") }
        let address: String
        if let given = parameters.string("address") {
            address = try context.render(given).trimmingCharacters(in: .whitespaces)
        } else {
            address = try context.requireDevice().address
        }
        guard !address.isEmpty else { throw ServiceError("ping: no address to ping") }
        // Never an option: an address comes from the inventory, which may come from a file.
        guard !address.hasPrefix("-"), !address.contains(where: { $0.isWhitespace }) else {
            throw ServiceError("ping: '\(address)' is not an address")
        }
        guard let program = ["/usr/bin/ping", "/bin/ping"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw ServiceError("ping: the system ping is not installed (Debian package iputils-ping)")
        }
        let seconds = Int(wait.rounded(.up))
        let result = try await LocalCommand.run(program, ["-n", "-c", String(count), "-W", String(seconds), address],
                                                timeout: context.timeout)
        if result.cancelled { throw CancellationError() }
        if result.timedOut { throw ServiceError("ping \(address): no answer within the service timeout (\(context.timeout))") }
        let ok = result.status == 0
        if let device = context.device { try DeviceStatus.reachability(context.database, device: device, reachable: ok) }
        var output = result.output
        if !ok { output += (output.hasSuffix("\n") || output.isEmpty ? "" : "\n") + "ping exit status \(result.status)\n" }
        return ServiceOutcome(success: ok, output: output)
    }
}
