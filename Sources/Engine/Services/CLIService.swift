import Foundation
import Store

/// `cli`: commands on the device through its platform CLI (prompt-aware, paging off), or with
/// `mode: exec` on SSH exec channels. The output is the commands' outputs, concatenated.
/// Parameters: `commands` [String] (templates), `mode` cli|exec, `enable_mode` Bool (enter
/// privileged mode first when the platform has one and the session is in user mode; default
/// true, as eNMS's Netmiko services do; `enable` is the older name).
struct CLIService: ServiceKindRunner {
    func run(_ context: ServiceContext) async throws -> ServiceOutcome {
        let device = try context.requireDevice()
        let parameters = Parameters(context)
        let commands = try parameters.strings("commands").map { try context.render($0) }
        if commands.isEmpty { throw parameters.fail("commands is empty: nothing to run") }
        let mode = parameters.string("mode") ?? "cli"
        var output = ""
        if mode == "exec" {
            let connection = try await context.sessions.connection(for: device, credential: context.service.credential)
            for command in commands {
                let result = try await connection.exec(command, timeout: context.timeout)
                output += String(decoding: result.stdout, as: UTF8.self) + String(decoding: result.stderr, as: UTF8.self)
                if result.exitStatus != 0 {
                    return ServiceOutcome(success: false, output: output + "\n`\(command)` failed: exit status \(result.exitStatus)\n")
                }
            }
            return ServiceOutcome(success: true, output: output)
        }
        guard mode == "cli" else { throw parameters.fail("mode '\(mode)' is not cli or exec") }
        let session = try await context.cliSession(device, privileged: parameters.enableMode)
        for command in commands {
            do {
                output += try await session.send(command, timeout: context.timeout)
            } catch let error as SSHError {
                await context.cliFailed(device, error)
                if case .commandRejected(_, _, let rejected, let message) = error {
                    // Definite: the device refused the command; a retry would be refused too.
                    return ServiceOutcome(success: false, output: output + "% `\(rejected)` rejected: \(message)\n")
                }
                throw error
            }
        }
        return ServiceOutcome(success: true, output: output)
    }
}
