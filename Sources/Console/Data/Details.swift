import Foundation
import Store

/// The scheduler's arithmetic, which lives in the engine: the console does not link it, so the
/// executable passes it in (as it does `TaskActivating`). Nil in the loader: the Describe view of a
/// task shows the stored next fire only.
public protocol TaskScheduleReading: Sendable {
    /// The schedule in words (`every 5m`, `cron 30 2 * * *`) and the task's next `count` due times
    /// as the scheduler computes them (an inactive task: as if enabled now), written in its zone.
    func upcoming(_ task: ScheduledTask, count: Int, now: Date) throws -> (summary: String, times: [String])
}

/// One line of a Describe or Xray tree and the lines under it. Texts are the store's, untrusted:
/// they are sanitised where they enter the cell buffer, like every other text.
struct DetailNode: Equatable {
    var text: String
    var role: Role = .body
    var children: [DetailNode] = []

    init(_ text: String, role: Role = .body, _ children: [DetailNode] = []) {
        self.text = text; self.role = role; self.children = children
    }

    /// A heading with its items, or `none` said under it when there are none.
    static func section(_ title: String, _ items: [DetailNode], none: String = "none") -> DetailNode {
        DetailNode(title, role: .title, items.isEmpty ? [DetailNode(none, role: .dim)] : items)
    }

    /// `label: value`, or nothing when the value is empty.
    static func field(_ label: String, _ value: String) -> [DetailNode] {
        value.isEmpty ? [] : [DetailNode(label + ": " + value)]
    }
}

/// The Describe (`d`) and Xray (`x`) views: read-only trees built from the store's detail reads
/// (`ConsoleStore.serviceDetail` …, Store/Console/ConsoleDetails.swift) and shown by the text view,
/// so they scroll, search (`/`) and save like any document. No secret is ever read: the store
/// hands over credentials as metadata only.
enum Details {
    /// The lines of a tree: roots flush left, their descendants under tree guides.
    static func lines(_ roots: [DetailNode]) -> [LogLine] {
        var out: [LogLine] = []
        func walk(_ node: DetailNode, guides: [Bool]?, isLast: Bool) {
            let tree = guides.map { TreeGuides(guides: $0, isLast: isLast) }
            out.append(LogLine(seq: Int64(out.count), text: node.text, role: node.role, tree: tree))
            let childGuides = guides.map { $0 + [!isLast] } ?? []
            for (i, child) in node.children.enumerated() {
                walk(child, guides: childGuides, isLast: i == node.children.count - 1)
            }
        }
        for (i, root) in roots.enumerated() {
            if i > 0 { out.append(LogLine(seq: Int64(out.count), text: "")) }
            walk(root, guides: nil, isLast: true)
        }
        return out
    }

    static func runLine(_ r: ConsoleStore.RunBrief) -> DetailNode {
        var text = "run \(r.id) \(r.status)"
        if r.total > 0 { text += " \(r.done)/\(r.total)" + (r.failed > 0 ? ", \(r.failed) failed" : "") }
        text += "  \(Formats.date(r.startedAt ?? r.createdAt))  \(r.trigger) by \(r.user)"
        if !r.reason.isEmpty { text += "  (\(r.reason))" }
        return DetailNode(text, role: Role.status(r.status))
    }

    /// A list shown inline, cut after `limit` names with the count of the rest.
    static func names(_ names: [String], total: Int? = nil, limit: Int = 12) -> String {
        let total = total ?? names.count
        let shown = names.prefix(limit).joined(separator: ", ")
        return total > min(limit, names.count) ? shown + ", … (\(total) in all)" : shown
    }

    // MARK: describe

    static func service(_ d: ConsoleStore.ServiceDetail) -> [DetailNode] {
        let s = d.service
        var children: [DetailNode] = DetailNode.field("description", s.description)
        // What it sends: commands for cli, lines for config, then every other parameter.
        let listed = ["commands", "lines"]
        for key in listed {
            guard let value = s.parameters[key] else { continue }
            let items: [DetailNode]
            if case .array(let a) = value { items = a.map { DetailNode($0.description) } } else { items = [DetailNode(value.description)] }
            children.append(.section(key, items))
        }
        let parameters = s.parameters.filter { !listed.contains($0.key) }.sorted { $0.key < $1.key }
            .map { DetailNode("\($0.key): \(Redaction.value(key: $0.key, $0.value))") }
        if !parameters.isEmpty { children.append(.section("parameters", parameters)) }
        if !s.validation.isEmpty {
            children.append(.section("validation", s.validation.sorted { $0.key < $1.key }.map { DetailNode("\($0.key): \($0.value.description)") }))
        }
        var targets: [DetailNode] = []
        targets += DetailNode.field("devices", s.devices.joined(separator: ", "))
        targets += DetailNode.field("pools", s.pools.joined(separator: ", "))
        targets += DetailNode.field("filter", s.targetFilter)
        if let e = d.targetsError {
            targets.append(DetailNode("do not resolve: \(e)", role: .logError))
        } else if let names = d.targets {
            targets.append(DetailNode("resolve now to \(names.count) device\(names.count == 1 ? "" : "s")" + (names.isEmpty ? "" : ": " + Details.names(names)),
                                      role: names.isEmpty ? .logWarning : .body))
        }
        children.append(.section("targets", targets, none: d.needsDevices ? "none: a launch gives them (it needs devices)"
                                                                          : "none: runs once, or on the targets given at launch"))
        var settings = ["run \(s.runMethod.rawValue)", "max processes \(s.maxProcesses)", "retries \(s.retries)"]
        if s.retries > 0 { settings.append("retry delay \(Formats.duration(seconds: s.retryDelay))") }
        settings.append("timeout \(Formats.duration(seconds: s.timeout))")
        settings.append(s.credential.isEmpty ? "credential by priority" : "credential \(s.credential)")
        settings.append("conversion \(s.conversion)")
        if s.kind == .workflow { settings += ["traversal \(s.traversal)", "max node runs \(s.maxNodeRuns)"] }
        children.append(.section("settings", settings.map { DetailNode($0) }))
        if s.kind == .workflow {
            children.append(.section("services", d.members.map { DetailNode("\($0.name) (\($0.kind))" + ($0.isStart ? " start" : "")) }))
        }
        if !d.workflows.isEmpty { children.append(.section("in workflows", d.workflows.map { DetailNode($0) })) }
        children.append(.section("tasks", d.tasks.map { DetailNode($0) }))
        children.append(.section("last runs", d.lastRuns.map(runLine)))
        children.append(DetailNode("created \(Formats.date(s.createdAt)), updated \(Formats.date(s.updatedAt))", role: .dim))
        return [DetailNode("\(s.kind == .workflow ? "workflow" : "service") \(s.name) (\(s.kind.rawValue))", role: .title, children)]
    }

    static func credential(_ d: ConsoleStore.CredentialDetail) -> [DetailNode] {
        let c = d.credential
        var children = DetailNode.field("description", c.description)
        children.append(DetailNode("username: \(c.username)"))
        let kind: String
        switch c.secretKind {
        case "key": kind = "inline private key"
        case "key_file": kind = "key file \(c.keyFile)" + (c.hasSecret ? ", with a passphrase" : "")
        default: kind = "password"
        }
        // Only whether a secret is set: its value never leaves the store.
        children.append(DetailNode("authentication: \(kind)" + (c.secretKind == "key_file" ? "" : (c.hasSecret ? " (set, sealed)" : " (not set)"))))
        children.append(DetailNode("enable secret: " + (c.hasEnableSecret ? "set (sealed)" : "none")))
        children.append(DetailNode("role: \(c.role)"))
        children.append(DetailNode("priority: \(c.priority)"))
        let scope = d.pools.map { p in DetailNode(p.name + (p.size.map { " (\($0) device\($0 == 1 ? "" : "s"))" } ?? " (no longer exists)")) }
        children.append(.section("pools", scope, none: "none: applies to every device"))
        children.append(.section("named by services", d.services.map { DetailNode($0) }))
        children.append(DetailNode("chosen for a device when no service names one: the highest priority whose pools hold it, ties by name", role: .dim))
        return [DetailNode("credential \(c.name)", role: .title, children)]
    }

    static func pool(_ d: ConsoleStore.PoolDetail) -> [DetailNode] {
        let p = d.pool
        var children = DetailNode.field("description", p.description)
        children.append(.section("criteria", p.activeCriteria.map { DetailNode(criterion($0)) }, none: "none: manual members only"))
        children.append(DetailNode("size: \(p.memberCount) device\(p.memberCount == 1 ? "" : "s")"))
        if !d.manual.isEmpty { children.append(.section("added by hand", [DetailNode(names(d.manual))])) }
        var members = d.members.map { DetailNode($0) }
        if p.memberCount > d.members.count { members.append(DetailNode("… \(p.memberCount - d.members.count) more (enter on the pool lists them all)", role: .dim)) }
        children.append(.section("devices", members))
        children.append(.section("credentials scoped to it", d.credentials.map { DetailNode($0) }))
        children.append(.section("services targeting it", d.services.map { DetailNode($0) }))
        children.append(.section("tasks targeting it", d.tasks.map { DetailNode($0) }))
        return [DetailNode("pool \(p.name)", role: .title, children)]
    }

    static func criterion(_ c: PoolCriterion) -> String { PoolsTable.criteriaText([c]) }

    static func task(_ d: ConsoleStore.TaskDetail, schedules: (any TaskScheduleReading)?, now: Date) -> [DetailNode] {
        let t = d.task
        var children = DetailNode.field("description", t.description)
        children.append(DetailNode("service: " + (d.serviceName.isEmpty ? "none (it never fires)" : d.serviceName)))
        var schedule = [DetailNode(Formats.schedule(kind: t.scheduleKind.rawValue, interval: t.intervalSeconds, cron: t.cron, start: t.startDate))]
        schedule += DetailNode.field("zone", t.timezone.isEmpty ? "the engine's local zone" : t.timezone)
        schedule += DetailNode.field("from", Formats.date(t.startDate))
        schedule += DetailNode.field("until", Formats.date(t.endDate))
        schedule.append(DetailNode("misfires: \(t.misfirePolicy.rawValue) within \(t.misfireGraceSeconds)s; at most \(t.maxInstances) run\(t.maxInstances == 1 ? "" : "s") at once"))
        children.append(.section("schedule", schedule))
        children.append(DetailNode("active: " + (t.active ? "yes" : "no"), role: t.active ? .statusCompleted : .dim))
        var fires: [DetailNode] = []
        if t.active { fires.append(DetailNode("stored next fire: " + (t.nextFire.map { Formats.date($0) } ?? "none"))) }
        if let schedules {
            do {
                let (_, times) = try schedules.upcoming(t, count: 5, now: now)
                if !t.active && !times.isEmpty { fires.append(DetailNode("inactive: the due times if enabled now", role: .dim)) }
                fires += times.map { DetailNode($0) }
                if times.isEmpty { fires.append(DetailNode("no due time left", role: .dim)) }
            } catch {
                fires.append(DetailNode("unusable schedule: \(error)", role: .logError))
            }
        }
        children.append(.section("next fires", fires))
        var targets = DetailNode.field("devices", t.devices.joined(separator: ", "))
        targets += DetailNode.field("pools", t.pools.joined(separator: ", "))
        children.append(.section("targets", targets, none: "the service's own"))
        if !t.payload.isEmpty {
            children.append(.section("payload", t.payload.sorted { $0.key < $1.key }.map { DetailNode("\($0.key): \(Redaction.value(key: $0.key, $0.value))") }))
        }
        var last: [DetailNode] = []
        if let f = t.lastFire { last.append(DetailNode("last fire: \(Formats.date(f))" + (t.lastRunStatus.map { ", \($0)" } ?? ""))) }
        last += d.lastRuns.map(runLine)
        children.append(.section("last runs", last))
        return [DetailNode("task \(t.name)", role: .title, children)]
    }

    // MARK: xray

    static func xray(_ x: ConsoleStore.DeviceXray) -> [DetailNode] {
        let d = x.device
        var children: [DetailNode] = [
            DetailNode("\(d.address):\(d.port)  \(d.platform)" + (d.location.isEmpty ? "" : "  \(d.location)")
                       + (d.jump.isEmpty ? "" : "  via \(d.jump)"), role: .dim),
        ]
        children.append(.section("pools (\(x.pools.count))", x.pools.map { p in
            var how = p.criteria.isEmpty ? "" : PoolsTable.criteriaText(p.criteria)
            if p.manual { how += how.isEmpty ? "added by hand" : "; added by hand" }
            return DetailNode("\(p.name) (\(p.size))" + (how.isEmpty ? "" : ": " + how))
        }))
        children.append(.section("links and neighbours (\(x.links.count))", x.links.map { l in
            DetailNode("\(l.outgoing ? "→" : "←") \(l.neighbour)  link \(l.link)" + (l.description.isEmpty ? "" : "  \(l.description)"))
        }))
        var credential: [DetailNode] = []
        if let c = x.credential.credential {
            credential.append(DetailNode("\(c.name): user \(c.username), \(c.secretKind), \(c.role), priority \(c.priority)", role: .statusCompleted))
        } else {
            credential.append(DetailNode("none", role: .logWarning))
        }
        credential.append(DetailNode("why: " + x.credential.reason))
        if x.credential.candidates.count > 1 || x.credential.credential == nil {
            credential.append(DetailNode("considered", role: .dim, x.credential.candidates.map { c in
                DetailNode("\(c.name) (priority \(c.priority), \(c.role.rawValue)): \(c.why)", role: c.applies ? .body : .dim)
            }))
        }
        children.append(DetailNode("credential that would be chosen", role: .title, credential))
        children.append(.section("services targeting it (\(x.services.count))", x.services.map { s in
            DetailNode("\(s.name) (\(s.kind)) by \(s.how.joined(separator: ", "))" + (s.note.isEmpty ? "" : "; \(s.note)"))
        }))
        children.append(.section("tasks targeting it (\(x.tasks.count))", x.tasks.map { t in
            var text = "\(t.name) \(t.note) by \(t.how.joined(separator: ", "))"
            text += t.active == true ? "; next fire \(Formats.date(t.nextFire))" : "; inactive"
            return DetailNode(text, role: t.active == true ? .body : .dim)
        }))
        children.append(.section("last results", x.results.map { r in
            DetailNode("run \(r.runId) \(r.serviceName): \(r.success ? "success" : "failure")  \(Formats.date(r.createdAt))  "
                       + Formats.duration(seconds: Double(r.durationMs) / 1000) + (r.runStatus.isEmpty ? "" : "  run \(r.runStatus)"),
                       role: r.success ? .statusCompleted : .statusFailed)
        }))
        children.append(.section("configuration snapshots", x.snapshots.map { s in
            DetailNode("version \(s.id)  \(Formats.date(s.createdAt))  \(Formats.size(s.size))" + (s.runId.map { "  run \($0)" } ?? "")
                       + (s.gitCommit.map { "  commit \($0.prefix(10))" } ?? ""))
        }))
        children.append(.section("sessions", x.sessions.map { s in
            DetailNode("session \(s.id)  \(s.user)  \(Formats.date(s.startedAt))  \(Formats.duration(from: s.startedAt, to: s.endedAt))"
                       + (s.endReason.isEmpty ? "" : "  \(s.endReason)"))
        }))
        return [DetailNode("device \(d.name)", role: .title, children)]
    }
}

/// Parameter values that may be secrets (a REST service's `Authorization` header, a `password`
/// parameter): shown as hidden. Credentials' secrets never reach the console at all; this is for
/// what engineers type into services and tasks.
enum Redaction {
    static let words = ["password", "passwd", "secret", "token", "authorization", "cookie", "api_key", "apikey", "private"]

    static func isSecret(_ key: String) -> Bool {
        let k = key.lowercased()
        return words.contains { k.contains($0) }
    }

    static func value(key: String, _ value: JSONValue) -> String {
        if isSecret(key) { return "(hidden)" }
        switch value {
        case .object(let o):
            return "{" + o.sorted { $0.key < $1.key }.map { "\($0.key): \(Redaction.value(key: $0.key, $0.value))" }.joined(separator: ", ") + "}"
        case .string(let s):
            return hideUserinfo(s)
        default:
            return value.description
        }
    }

    /// `https://user:pass@host/…` without the password.
    static func hideUserinfo(_ s: String) -> String {
        guard let scheme = s.range(of: "://"), let at = s[scheme.upperBound...].firstIndex(of: "@") else { return s }
        let userinfo = s[scheme.upperBound..<at]
        guard !userinfo.contains("/"), let colon = userinfo.firstIndex(of: ":") else { return s }
        return String(s[..<colon]) + ":(hidden)" + String(s[at...])
    }
}
