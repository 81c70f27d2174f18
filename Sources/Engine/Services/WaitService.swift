import Foundation
import Store

/// `wait`: pauses for `seconds` (a fraction allowed); a stopped run ends it at once.
struct WaitService: ServiceKindRunner {
    func run(_ context: ServiceContext) async throws -> ServiceOutcome {
        let parameters = Parameters(context)
        guard let seconds = parameters.double("seconds"), seconds >= 0 else { throw parameters.fail("seconds must be a non-negative number") }
        if seconds > 0 { try await Task.sleep(for: .milliseconds(Int64((seconds * 1000).rounded()))) }
        return ServiceOutcome(success: true, output: "waited \(seconds.formatted()) s\n")
    }
}
