import Foundation
import Store

/// `config`: configuration lines sent in configuration mode (committed where the platform
/// commits), optionally saved (`save`: the platform's save command). `dry_run` shows what would be
/// sent and sends nothing (a run's `dry_run` parameter, given at launch, overrides it). A line the device rejects fails the service (not retried). Secrets in
/// the lines are masked in the output.
struct ConfigService: ServiceKindRunner {
    func run(_ context: ServiceContext) async throws -> ServiceOutcome {
        let device = try context.requireDevice()
        let parameters = Parameters(context)
        let lines = try parameters.strings("lines").map { try context.render($0) }
        if lines.isEmpty { throw parameters.fail("lines is empty: nothing to configure") }
        var platform = context.platform(of: device)
        let save = parameters.bool("save", default: false)
        // A launch may set the run's `dry_run` (the console's dialog, `run --param dry_run=false`).
        let dryRun = context.payload["dry_run"]?.boolValue ?? parameters.bool("dry_run", default: false)
        var session: CLISession?
        if !dryRun {
            // Opened first: for an `autodetect` device, the platform is known only once logged in.
            session = try await context.cliSession(device, privileged: parameters.enableMode)
            platform = await session!.platform
        }
        guard let configMode = platform.configMode else {
            throw ServiceError("device \(device.name): platform \(platform.name) has no configuration mode")
        }
        guard let session else {
            var text = "dry run: nothing sent. \(device.name) (\(platform.name)) would receive:\n"
            if platform.enable != nil { text += "  \(platform.enable!.command)\n" }
            text += "  \(configMode.enter)\n"
            for line in lines { text += "  \(line)\n" }
            if let commit = configMode.commit { text += "  \(commit)\n" }
            text += "  \(configMode.exit)\n"
            if save { text += platform.save.map { "  \($0)\n" } ?? "  (no save command: \(configMode.commit == nil ? "the platform cannot save" : "the commit saves"))\n" }
            return ServiceOutcome(success: true, output: SecretMasking.mask(text, platform: platform.name))
        }
        var transcript: String
        do {
            transcript = try await session.configure(lines, timeout: context.timeout)
            if save, let command = platform.save {
                transcript += try await session.send(command, timeout: context.timeout)
            }
        } catch let error as SSHError {
            await context.cliFailed(device, error)
            if case .commandRejected(_, _, let rejected, let message) = error {
                return ServiceOutcome(success: false, output: "% \(rejected) rejected by \(device.name): \(SecretMasking.mask(message, platform: platform.name))\n")
            }
            throw error
        }
        if save && platform.save == nil && configMode.commit == nil {
            context.log(.warning, "platform \(platform.name) has no save command; the configuration was not saved")
        }
        return ServiceOutcome(success: true, output: SecretMasking.mask(transcript, platform: platform.name))
    }
}
