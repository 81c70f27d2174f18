import ArgumentParser
import Engine
import Foundation
import Store

/// `switchboard notify test CHANNEL`: sends a test message through the settings in force.
struct NotifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notify",
        abstract: "Run notifications: mail, Slack, Mattermost, a generic webhook.",
        discussion: """
            Services (and runs, through --param notify=…, and tasks, through their payload) take \
            notify: {"when": "failure|success|always|change", "channels": ["mail:ops@example.com", "slack", \
            "mattermost", "webhook"]}. Settings sections: mail, slack, mattermost, webhook, notify; the SMTP \
            password comes from SWITCHBOARD_MAIL_PASSWORD.
            """,
        subcommands: [Test.self])

    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Send a test message to a channel (one attempt, no retries).")
        @OptionGroup var global: GlobalOptions

        @Argument(help: "mail, mail:ADDRESS, slack, mattermost or webhook.")
        var channel: String

        func run() async throws {
            let settings = try global.settings()
            let parsed: NotifySpec.Channel
            do { parsed = try NotifySpec.Channel.parse(channel) } catch let e as StoreError { throw CommandFailure.usage(e.message) }
            let notifier = Notifier(settings: settings)
            do {
                try await notifier.send(RunNotification.test(user: OSUser.name), to: parsed)
            } catch {
                throw CommandFailure(message: "\(parsed): \(notifier.redactor.scrub("\(error)"))")
            }
            print("test notification sent to \(parsed)")
        }
    }
}
