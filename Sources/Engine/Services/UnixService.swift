import Foundation
import Store

/// `unix`: a local shell command (`/bin/sh -c`), with the rights of whoever runs the engine, so
/// it is refused unless the setting `automation.allow_unix` is true. The output is stdout and
/// stderr together; success is exit status 0. The timeout kills the command's whole process group.
struct UnixService: ServiceKindRunner {
    func run(_ context: ServiceContext) async throws -> ServiceOutcome {
        guard context.settings.automation.allowUnix else {
            throw ServiceError("service '\(context.service.name)': unix commands are refused: they run with the engine user's rights (set automation.allow_unix to true to allow them)")
        }
        let parameters = Parameters(context)
        let command = try context.render(try parameters.requiredString("command"))
        let result = try await LocalCommand.run("/bin/sh", ["-c", command], timeout: context.timeout)
        if result.cancelled { throw CancellationError() }
        if result.timedOut {
            throw ServiceError("unix command timed out after \(context.timeout) and was killed")
        }
        var output = result.output
        if result.truncated { output += "\n[output cut at 16 MB]\n" }
        if result.status != 0 {
            output += (output.isEmpty || output.hasSuffix("\n") ? "" : "\n") + "exit status \(result.status)\n"
        }
        return ServiceOutcome(success: result.status == 0, output: output)
    }
}
