import Foundation
import Store

/// `backup`: fetches the running configuration (the platform's `backup_command`, in privileged
/// mode; `mode: exec` uses an exec channel instead, where the login's privileges apply), leaves
/// out the platform's volatile lines (`volatile_patterns`: timestamps, `ntp clock-period`), masks
/// secrets, and stores a ConfigSnapshot only when the result differs from the device's latest.
/// The device's `last_backup_status` / `last_backup_time` follow each attempt.
struct BackupService: ServiceKindRunner {
    func run(_ context: ServiceContext) async throws -> ServiceOutcome {
        let device = try context.requireDevice()
        do {
            let outcome = try await backup(context, device)
            try DeviceStatus.backup(context.database, device: device, success: outcome.success)
            return outcome
        } catch {
            try? DeviceStatus.backup(context.database, device: device, success: false)
            throw error
        }
    }

    private func backup(_ context: ServiceContext, _ device: Device) async throws -> ServiceOutcome {
        let parameters = Parameters(context)
        var platform = context.platform(of: device)
        let explicit = try parameters.string("command").map { try context.render($0) }
        func backupCommand(for platform: PlatformDefinition) throws -> String {
            guard let command = explicit ?? platform.backupCommand else {
                throw ServiceError("device \(device.name): platform \(platform.name) has no backup command (set the service's command)")
            }
            return command
        }
        let raw: String
        let command: String
        switch parameters.string("mode") ?? "cli" {
        case "exec":
            command = try backupCommand(for: platform)
            let connection = try await context.sessions.connection(for: device, credential: context.service.credential)
            let result = try await connection.exec(command, timeout: context.timeout)
            let text = String(decoding: result.stdout, as: UTF8.self)
            if result.exitStatus != 0 || platform.rejection(in: text) != nil {
                let reason = platform.rejection(in: text) ?? String(decoding: result.stderr, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                return ServiceOutcome(success: false, output: "% `\(command)` failed on \(device.name) (exit status \(result.exitStatus)): \(reason)\n")
            }
            raw = String(decoding: TerminalText.clean(Array(text.utf8)), as: UTF8.self)
        case "cli":
            let session = try await context.cliSession(device, privileged: parameters.enableMode)
            platform = await session.platform  // detected, for an `autodetect` device
            command = try backupCommand(for: platform)
            do {
                raw = try await session.send(command, timeout: context.timeout)
            } catch let error as SSHError {
                await context.cliFailed(device, error)
                if case .commandRejected(_, _, _, let message) = error {
                    return ServiceOutcome(success: false, output: "% `\(command)` rejected by \(device.name): \(message)\n")
                }
                throw error
            }
        case let other:
            throw parameters.fail("mode '\(other)' is not cli or exec")
        }
        let content = SecretMasking.mask(Self.stripVolatile(raw, platform: platform), platform: platform.name)
        if content.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            return ServiceOutcome(success: false, output: "% `\(command)` returned no configuration on \(device.name)\n")
        }
        var deviceId = device.id
        if deviceId == nil { deviceId = try await context.database.query { try $0.device(named: device.name)?.id } }
        guard let deviceId else {
            throw ServiceError("device \(device.name) is not in the inventory")
        }
        let runId = context.runId
        let (previous, stored) = try await context.database.transaction { store in
            let previous = try store.latestConfigSnapshot(deviceId: deviceId)
            return (previous, try store.recordConfig(deviceId: deviceId, runId: runId > 0 ? runId : nil, content: content))
        }
        let lines = LineDiff.lines(content).count
        let commit = await Self.commitToGit(context, device: device.name, content: content)
        let gitNote = commit.map { ", git \($0.prefix(10))" } ?? ""
        if let commit, let snapshot = stored?.id {
            // The console's history shows which commit holds each version.
            try await context.database.transaction { store in try store.setGitCommit(snapshot: snapshot, commit: commit) }
        }
        if let stored {
            let diff = LineDiff.unified(previous?.content ?? "", content,
                                        oldLabel: previous.map { "\(device.name) snapshot \($0.id ?? 0)" } ?? "/dev/null",
                                        newLabel: "\(device.name) snapshot \(stored.id ?? 0)")
            context.events?.configChanged(device: device.name, diff: diff, commit: commit)
            return ServiceOutcome(success: true, output: "configuration stored: snapshot \(stored.id ?? 0), \(lines) lines, sha256 \(stored.sha256.prefix(12))\(gitNote)\n")
        }
        return ServiceOutcome(success: true, output: "configuration unchanged: \(lines) lines, sha256 \(ConfigHistory.sha256(content).prefix(12))\(gitNote)\n")
    }

    /// Writes the configuration into the git repository (`git.enabled`): a commit when the file
    /// changed, authored by the run's user. A git failure is logged and never fails the backup.
    /// Only within a run (a context with run events): the commit names the run, and the run pushes.
    static func commitToGit(_ context: ServiceContext, device: String, content: String) async -> String? {
        guard context.settings.git.enabled, context.events != nil else { return nil }
        let repository = ConfigRepository(settings: context.settings, paths: Paths())
        context.events?.usedGit()
        let runId = context.runId, service = context.service.name, user = context.runUser
        do {
            return try await repository.perform { repo in
                try repo.commit(device: device, content: content, author: user,
                                message: "\(device): configuration from service '\(service)', run \(runId)")
            }
        } catch {
            context.log(.warning, "git: the configuration was not committed to \(repository.path): \(error)")
            return nil
        }
    }

    /// The configuration without volatile lines, leading and trailing blank lines, or trailing blanks.
    static func stripVolatile(_ text: String, platform: PlatformDefinition) -> String {
        var lines = text.replacingOccurrences(of: "\r", with: "").split(separator: "\n", omittingEmptySubsequences: false)
            .map { line -> String in
                var l = String(line)
                while l.last == " " || l.last == "\t" { l.removeLast() }
                return l
            }
            .filter { line in !platform.volatilePatterns.contains { $0.matches(line) } }
        while lines.first == "" { lines.removeFirst() }
        while lines.last == "" { lines.removeLast() }
        return lines.joined(separator: "\n") + "\n"
    }
}
