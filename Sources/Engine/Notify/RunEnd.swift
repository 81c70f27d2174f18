import Foundation
import Store

/// The end of a run beyond its status: pushing the configurations' repository, and notifications.
extension RunExecution {
    /// With `git.remote` set and a backup of this run having used the repository, pushes once
    /// (merging when the remote moved). A failure is logged; the next such run retries, since its
    /// push carries every commit not yet on the remote. Never fails the run.
    func pushConfigurations() async {
        let settings = env.settings
        guard settings.git.enabled, !settings.git.remote.isEmpty, events.gitUsed else { return }
        let repository = ConfigRepository(settings: settings, paths: Paths())
        let remote = settings.git.remote
        do {
            let outcome = try await repository.perform { try $0.push(remote: remote) }
            switch outcome {
            case .upToDate: log(.info, "git: \(remote) is up to date")
            case .pushed(let merged): log(.info, "git: pushed to \(remote)\(merged ? " (merged what the remote had first)" : "")")
            }
        } catch {
            log(.warning, "git: push to \(remote) failed (the next backup run retries): \(error)")
        }
    }

    /// The notification settings of this run: the run's `notify` parameter (from `--param` or a
    /// task's payload), else its service's.
    func notifySpec(_ service: Service?) -> NotifySpec? {
        let value = run.parameters["notify"] ?? service?.parameters["notify"]
        guard let value, !value.isNull else { return nil }
        do { return try NotifySpec.parse(value) } catch {
            log(.warning, "notify: \(error); no notification is sent")
            return nil
        }
    }

    /// Sends the run's notification when its `notify` asks for it, on a task of its own: the run has
    /// already ended. Each channel is tried `notify.retries` more times with backoff, each attempt
    /// within `notify.timeout`; failures are logged in the run.
    func notifyEnd(_ final: Run) {
        let service = try? env.database.query { [run] store in try store.service(id: run.serviceId) }
        guard let spec = notifySpec(service) else { return }
        let changes = events.changes
        guard let status = Optional(final.status), spec.fires(status: status, changes: changes.count) else { return }
        let failedDevices = (try? env.database.query { [runId] store in try store.failedDeviceNames(run: runId) }) ?? []
        let message = RunNotification(run: final, failedDevices: failedDevices, changes: spec.when == .change || spec.when == .always ? changes : [])
        let notifier = Notifier(settings: env.settings, redactor: env.journal.secretRedactor)
        let journal = env.journal, runId = self.runId, serviceName = run.serviceName
        Notifier.track {
            await notifier.deliver(message, to: spec.channels) { level, text in
                journal.log(run: runId, level, service: serviceName, text)
            }
        }
    }
}
