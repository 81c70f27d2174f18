import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Store
import Synchronization

/// What a run notification says: status, counts, failed devices, the command that shows the log,
/// and, for `change`, the unified diffs of the configurations that changed.
public struct RunNotification: Sendable {
    public var runId: Int64
    public var service: String
    public var status: String
    public var user: String
    public var trigger: String
    public var done: Int
    public var total: Int
    public var failed: Int
    public var failedDevices: [String]
    public var reason: String
    public var changes: [RunEvents.ConfigChange]
    /// Set for `switchboard notify test`.
    public var test: Bool = false

    /// Lines of diff a notification carries at most (per device, and in all).
    static let maxDiffLinesPerDevice = 400
    static let maxDiffLines = 4_000

    public init(run: Run, failedDevices: [String], changes: [RunEvents.ConfigChange]) {
        runId = run.id ?? 0; service = run.serviceName; status = run.status.rawValue; user = run.user
        trigger = run.trigger.rawValue; done = run.progressDone; total = run.progressTotal; failed = run.progressFailed
        self.failedDevices = failedDevices; reason = run.reason; self.changes = changes
    }

    public static func test(user: String) -> RunNotification {
        var r = Run(serviceId: 0, serviceName: "notify test", trigger: .cli, user: user)
        r.id = 0
        r.status = .completed
        var n = RunNotification(run: r, failedDevices: [], changes: [])
        n.test = true
        return n
    }

    public var logCommand: String { "switchboard logs \(runId)" }

    public var subject: String {
        if test { return "switchboard: test notification" }
        var s = "switchboard: run \(runId) '\(service)' \(status)"
        if !changes.isEmpty { s += ", \(changes.count) configuration\(changes.count == 1 ? "" : "s") changed" }
        return s
    }

    public var text: String {
        if test { return "switchboard: test notification sent by \(user) from \(ConfigRepository.host)." }
        var lines = ["\(subject): \(done)/\(total) done, \(failed) failed."]
        if !failedDevices.isEmpty {
            let shown = failedDevices.prefix(50)
            lines.append("Failed devices: \(shown.joined(separator: ", "))\(failedDevices.count > shown.count ? " … and \(failedDevices.count - shown.count) more" : "")")
        }
        if !reason.isEmpty { lines.append("Reason: \(reason)") }
        lines.append("Started by \(user) (\(trigger)). Log: \(logCommand)")
        if !changes.isEmpty {
            lines.append("")
            var budget = Self.maxDiffLines
            for change in changes {
                lines.append("Configuration of \(change.device) changed\(change.commit.map { " (git \($0.prefix(10)))" } ?? ""):")
                var diff = change.diff.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                if diff.last == "" { diff.removeLast() }
                let keep = min(diff.count, Self.maxDiffLinesPerDevice, max(0, budget))
                lines += diff.prefix(keep)
                if keep < diff.count { lines.append("[… \(diff.count - keep) more diff lines: switchboard config diff \(change.device)]") }
                budget -= keep
                lines.append("")
            }
        }
        return lines.joined(separator: "\n")
    }

    /// The generic webhook's body.
    public var json: JSONValue {
        .object([
            "run": .int(Int(runId)), "service": .string(service), "status": .string(status), "user": .string(user),
            "trigger": .string(trigger), "done": .int(done), "total": .int(total), "failed": .int(failed),
            "failed_devices": .array(failedDevices.map(JSONValue.string)), "reason": .string(reason),
            "log_command": .string(logCommand), "test": .bool(test), "text": .string(text),
            "changes": .array(changes.map { .object(["device": .string($0.device), "diff": .string($0.diff),
                                                       "commit": $0.commit.map(JSONValue.string) ?? .null]) }),
        ])
    }
}

/// Delivers notifications to mail, Slack, Mattermost and a generic webhook. Every text is scrubbed
/// of the engine's known secrets and of the channels' own (the mail password, webhook URLs).
public struct Notifier: Sendable {
    public let settings: Settings
    public let redactor: SecretRedactor
    public let mailPassword: String
    /// Seconds before the 2nd, 3rd… attempt of a channel.
    public var backoff: [Double] = [1, 2, 4, 8]

    public init(settings: Settings, redactor: SecretRedactor = SecretRedactor(secrets: []),
                environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.settings = settings
        let password = environment["SWITCHBOARD_MAIL_PASSWORD"] ?? ""
        self.mailPassword = password
        let n = settings.notify
        self.redactor = redactor.adding([password, n.slackWebhookURL, n.mattermostURL, n.webhookURL] + Array(n.webhookHeaders.values))
    }

    // MARK: in flight

    private static let inFlight = Mutex(0)

    /// Runs a delivery on a task of its own, counted so the engine can wait for it when it stops.
    public static func track(_ body: @escaping @Sendable () async -> Void) {
        inFlight.withLock { $0 += 1 }
        Task.detached {
            await body()
            inFlight.withLock { $0 -= 1 }
        }
    }

    /// Waits until no delivery is in flight, at most `timeout` seconds. Returns how many remain.
    @discardableResult
    public static func drain(timeout: Double) async -> Int {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let n = inFlight.withLock { $0 }
            if n == 0 || Date() > deadline { return n }
            try? await Task.sleep(nanoseconds: 50_000_000)
        }
    }

    // MARK: delivery

    /// Delivers to every channel (concurrently), retrying each; `log` receives what happened.
    public func deliver(_ notification: RunNotification, to channels: [NotifySpec.Channel],
                        log: @escaping @Sendable (RunLogLine.Level, String) -> Void) async {
        await withTaskGroup(of: Void.self) { group in
            for channel in channels {
                group.addTask {
                    let attempts = 1 + settings.notify.retries
                    for attempt in 1...attempts {
                        do {
                            try await send(notification, to: channel)
                            log(.info, "notify: sent to \(channel)\(attempt > 1 ? " (attempt \(attempt))" : "")")
                            return
                        } catch {
                            let why = redactor.scrub("\(error)")
                            if attempt == attempts {
                                log(.error, "notify: \(channel) not delivered after \(attempts) attempt\(attempts == 1 ? "" : "s"): \(why)")
                            } else {
                                let wait = backoff[min(attempt - 1, backoff.count - 1)]
                                log(.warning, "notify: \(channel) attempt \(attempt) of \(attempts) failed: \(why); retrying in \(Int(wait)) s")
                                try? await Task.sleep(nanoseconds: UInt64(wait * 1e9))
                            }
                        }
                    }
                }
            }
        }
    }

    public struct DeliveryError: Error, CustomStringConvertible {
        public var description: String
        init(_ d: String) { description = d }
    }

    /// One attempt on one channel.
    public func send(_ notification: RunNotification, to channel: NotifySpec.Channel) async throws {
        let text = redactor.scrub(notification.text)
        let n = settings.notify
        switch channel {
        case .mail(let to):
            let recipients = to.isEmpty ? settings.mail.recipients : to
            guard !settings.mail.server.isEmpty else { throw DeliveryError("mail.server is not set") }
            guard !recipients.isEmpty else { throw DeliveryError("no recipient: use mail:ADDRESS or set mail.recipients") }
            let mail = SMTPMessage(sender: settings.mail.sender, replyTo: settings.mail.replyTo, recipients: recipients,
                                   subject: redactor.scrub(notification.subject), body: text)
            let client = SMTPClient(server: settings.mail.server, port: settings.mail.port, useTLS: settings.mail.useTLS,
                                    caFile: settings.mail.caFile,
                                    username: settings.mail.username, password: mailPassword, timeout: n.timeout)
            try await client.send(mail)
        case .slack:
            guard !n.slackWebhookURL.isEmpty else { throw DeliveryError("slack.webhook_url is not set") }
            try await post(n.slackWebhookURL, .object(["text": .string(text)]))
        case .mattermost:
            guard !n.mattermostURL.isEmpty else { throw DeliveryError("mattermost.url is not set") }
            var body: [String: JSONValue] = ["text": .string(text)]
            if !n.mattermostChannel.isEmpty { body["channel"] = .string(n.mattermostChannel) }
            try await post(n.mattermostURL, .object(body), verifyCertificate: n.mattermostVerifyCertificate)
        case .webhook:
            guard !n.webhookURL.isEmpty else { throw DeliveryError("webhook.url is not set") }
            let body = JSONValue.object((notification.json.objectValue ?? [:]).merging(["text": .string(text)]) { $1 })
            try await post(n.webhookURL, scrubbed(body), headers: n.webhookHeaders)
        }
    }

    func scrubbed(_ value: JSONValue) -> JSONValue {
        switch value {
        case .string(let s): return .string(redactor.scrub(s))
        case .array(let a): return .array(a.map(scrubbed))
        case .object(let o): return .object(o.mapValues(scrubbed))
        default: return value
        }
    }

    /// POSTs JSON; a status outside 200...299 is a failure.
    func post(_ url: String, _ body: JSONValue, headers: [String: String] = [:], verifyCertificate: Bool = true) async throws {
        guard let target = URL(string: url), let scheme = target.scheme?.lowercased(), ["http", "https"].contains(scheme) else {
            throw DeliveryError("'\(url)' is not an http(s) URL")
        }
        var request = URLRequest(url: target, timeoutInterval: settings.notify.timeout)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        request.httpBody = try encoder.encode(body)
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = settings.notify.timeout
        configuration.timeoutIntervalForResource = settings.notify.timeout
        if !verifyCertificate && scheme == "https" {
            let data = request.httpBody ?? Data()
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, Error>) in
                Thread { c.resume(with: Result { try postWithCurl(url, body: data, headers: headers) }) }.start()
            }
            return
        }
        let session = URLSession(configuration: configuration)
        defer { session.finishTasksAndInvalidate() }
        let (data, response) = try await withCheckedThrowingContinuation { (c: CheckedContinuation<(Data, URLResponse), Error>) in
            session.dataTask(with: request) { data, response, error in
                if let error { c.resume(throwing: DeliveryError("POST failed: \(error.localizedDescription)")) }
                else if let response { c.resume(returning: (data ?? Data(), response)) }
                else { c.resume(throwing: DeliveryError("POST failed: no response")) }
            }.resume()
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard (200...299).contains(status) else {
            let snippet = String(decoding: data.prefix(200), as: UTF8.self)
            throw DeliveryError("HTTP \(status)\(snippet.isEmpty ? "" : ": \(snippet)")")
        }
    }
}

extension Notifier {
    /// `mattermost.verify_certificate: false`. swift-corelibs-foundation cannot skip certificate
    /// checks, so the post goes through the system curl with `--insecure`; the URL and headers are
    /// passed in a private config file, never on the command line.
    func postWithCurl(_ url: String, body: Data, headers: [String: String]) throws {
        guard Curl.path != nil else { throw DeliveryError("verify_certificate false needs the system curl (not found)") }
        let failure = try Curl.run(options: { dir in
            var config = ["url = \(Curl.quote(url))", "insecure", "silent", "show-error", "fail", "request = \"POST\"",
                          "header = \"Content-Type: application/json\"", "data-binary = \(Curl.quote("@" + dir + "/body"))",
                          "max-time = \(Int(self.settings.notify.timeout.rounded(.up)))", "output = \"/dev/null\""]
            for (k, v) in headers.sorted(by: { $0.key < $1.key }) { config.append("header = \(Curl.quote(k + ": " + v))") }
            return config
        }, files: ["body": body])
        if let failure { throw DeliveryError("POST (curl --insecure) failed \(failure)") }
    }
}
