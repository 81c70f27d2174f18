import Foundation
import Store

/// `cli`: commands on the device through its platform CLI (prompt-aware, paging off), or with
/// `mode: exec` on SSH exec channels. The output is the commands' outputs, concatenated.
/// Parameters: `commands` [String] (templates), `mode` cli|exec, `enable_mode` Bool (enter
/// privileged mode first when the platform has one and the session is in user mode; default
/// true, as eNMS's Netmiko services do; `enable` is the older name), `parse: textfsm` (each
/// command's output becomes rows, with the template ntc-templates' index gives for the device's
/// platform and the command, or `template: FILE`; the result keeps the text and the rows, and the
/// rows go to the payload as `rows`; a parse failure fails that device's result).
struct CLIService: ServiceKindRunner {
    func run(_ context: ServiceContext) async throws -> ServiceOutcome {
        let device = try context.requireDevice()
        let parameters = Parameters(context)
        let commands = try parameters.strings("commands").map { try context.render($0) }
        if commands.isEmpty { throw parameters.fail("commands is empty: nothing to run") }
        let mode = parameters.string("mode") ?? "cli"
        var output = ""
        let parse = parameters.string("parse") == "textfsm"
        let templateFile = parameters.string("template")
        var rows = ParsedRows()
        /// Parses one command's output; a failure fails this device's result with the reason.
        func parsed(_ command: String, _ text: String, platform: String) -> String? {
            guard parse else { return nil }
            do {
                rows.append(try OutputParser.rows(platform: platform, command: command, text: text, templateFile: templateFile))
                return nil
            } catch {
                return "% `\(command)` could not be parsed: \(error)\n"
            }
        }
        if mode == "exec" {
            let connection = try await context.sessions.connection(for: device, credential: context.service.credential)
            let platform = context.platform(of: device).name
            for command in commands {
                let result = try await connection.exec(command, timeout: context.timeout)
                let text = String(decoding: result.stdout, as: UTF8.self) + String(decoding: result.stderr, as: UTF8.self)
                output += text
                if result.exitStatus != 0 {
                    return ServiceOutcome(success: false, output: output + "\n`\(command)` failed: exit status \(result.exitStatus)\n")
                }
                if let failure = parsed(command, text, platform: platform) { return ServiceOutcome(success: false, output: failure + output) }
            }
            return Self.outcome(output, rows: parse ? rows : nil)
        }
        guard mode == "cli" else { throw parameters.fail("mode '\(mode)' is not cli or exec") }
        let session = try await context.cliSession(device, privileged: parameters.enableMode)
        let platform = await session.platform.name
        for command in commands {
            do {
                let text = try await session.send(command, timeout: context.timeout)
                output += text
                if let failure = parsed(command, text, platform: platform) { return ServiceOutcome(success: false, output: failure + output) }
            } catch let error as SSHError {
                await context.cliFailed(device, error)
                if case .commandRejected(_, _, let rejected, let message) = error {
                    // Definite: the device refused the command; a retry would be refused too.
                    return ServiceOutcome(success: false, output: output + "% `\(rejected)` rejected: \(message)\n")
                }
                throw error
            }
        }
        return Self.outcome(output, rows: parse ? rows : nil)
    }

    /// A successful outcome; parsed rows also go to the payload (`rows`) for later services.
    static func outcome(_ output: String, rows: ParsedRows?) -> ServiceOutcome {
        guard let rows else { return ServiceOutcome(success: true, output: output) }
        return ServiceOutcome(success: true, output: output, payload: ["rows": .array(rows.rows.map { .object($0) })], rows: rows)
    }
}
