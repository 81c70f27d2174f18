import Foundation
import Store

/// One line of a log or text view: a run log line (time, level, device), a line of device output,
/// or a line of a configuration diff (its role says added, removed or context).
public struct LogLine: Sendable, Equatable {
    public var seq: Int64
    public var time: Date?
    public var level: RunLogLine.Level?
    public var device: String
    /// The service the line is about: in a workflow, the node that logged it.
    public var service: String
    public var text: String
    public var role: Role
    /// For a line of a tree (the Describe and Xray views): the guides drawn before it, in the
    /// terminal's charset when the line is drawn.
    public var tree: TreeGuides?

    public init(seq: Int64, time: Date? = nil, level: RunLogLine.Level? = nil, device: String = "", service: String = "",
                text: String, role: Role = .body, tree: TreeGuides? = nil) {
        self.seq = seq; self.time = time; self.level = level; self.device = device; self.service = service
        self.text = text; self.role = role; self.tree = tree
    }

    /// `par-core1 [show version] `: who the line is about, as `switchboard logs` prints it (device,
    /// then the service in brackets); empty for a line that names neither.
    public var origin: String {
        var out = device
        if !service.isEmpty { out += (out.isEmpty ? "" : " ") + "[" + service + "]" }
        return out.isEmpty ? "" : out + " "
    }

    /// The role of the message: by level for run logs, the line's own role otherwise.
    public var messageRole: Role {
        switch level {
        case .debug?: return .logDebug
        case .info?: return .logInfo
        case .warning?: return .logWarning
        case .error?: return .logError
        case nil: return role
        }
    }
}

/// The last `capacity` lines of a log and the count of those dropped before them: memory stays
/// bounded whatever the log's length (a run with a million lines keeps `capacity`).
/// Lines have absolute positions (0 for the first line ever appended); the ring holds
/// positions `dropped ..< dropped + count`.
public struct LogRing: Sendable, Equatable {
    public let capacity: Int
    private var storage: [LogLine] = []
    private var head = 0
    public private(set) var dropped = 0

    public init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    public var count: Int { storage.count }
    /// Absolute position of the first held line.
    public var firstPosition: Int { dropped }
    /// Absolute position after the last held line (lines ever appended).
    public var endPosition: Int { dropped + storage.count }
    public var isEmpty: Bool { storage.isEmpty }

    public mutating func append(_ line: LogLine) {
        if storage.count < capacity {
            storage.append(line)
        } else {
            storage[head] = line
            head = (head + 1) % capacity
            dropped += 1
        }
    }

    public mutating func append<S: Sequence>(contentsOf lines: S) where S.Element == LogLine {
        for l in lines { append(l) }
    }

    /// Counts lines that were never held (the start of a log loaded from its end).
    public mutating func noteSkipped(_ n: Int) { dropped += max(0, n) }

    /// The line at an absolute position (must be held).
    public subscript(position p: Int) -> LogLine {
        storage[(head + (p - dropped)) % storage.count]
    }

    public func contains(position p: Int) -> Bool { p >= dropped && p < endPosition }

    public var last: LogLine? { storage.isEmpty ? nil : self[position: endPosition - 1] }

    public var lines: [LogLine] { (dropped..<endPosition).map { self[position: $0] } }

    public mutating func removeAll() {
        storage.removeAll(keepingCapacity: true)
        head = 0
        dropped = 0
    }
}

/// A workflow as the tree view draws it.
public struct WorkflowGraph: Sendable, Equatable {
    public struct Node: Sendable, Equatable {
        public var id: Int64
        public var name: String
        public var kind: String
        public var isStart: Bool
    }
    public struct Edge: Sendable, Equatable {
        public var source: Int64
        public var destination: Int64
        public var success: Bool
    }
    public var name: String
    public var nodes: [Node]
    public var edges: [Edge]

    public init(name: String, nodes: [Node], edges: [Edge]) {
        self.name = name; self.nodes = nodes; self.edges = edges
    }

    /// One line of the tree: depth, the edge it was reached by (nil for a root), the node, and
    /// whether it was already drawn above (a loop or a join: not expanded again).
    public struct Line: Sendable, Equatable {
        public var depth: Int
        public var edge: Bool?
        public var node: Node
        public var repeated: Bool
        /// For each depth above, whether a vertical guide continues there.
        public var guides: [Bool]
        public var isLast: Bool
    }

    /// The tree: roots are start nodes (or nodes no edge reaches), children follow success edges
    /// then failure edges. A node reached twice is shown again but not expanded.
    public func lines() -> [Line] {
        let byId = Dictionary(nodes.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var outgoing: [Int64: [Edge]] = [:]
        for e in edges { outgoing[e.source, default: []].append(e) }
        for k in outgoing.keys {
            outgoing[k]!.sort { a, b in
                if a.success != b.success { return a.success }
                return (byId[a.destination]?.name ?? "") < (byId[b.destination]?.name ?? "")
            }
        }
        let reached = Set(edges.map(\.destination))
        var roots = nodes.filter(\.isStart)
        roots += nodes.filter { !$0.isStart && !reached.contains($0.id) }
        var out: [Line] = []
        var expanded = Set<Int64>()

        func visit(_ node: Node, depth: Int, edge: Bool?, guides: [Bool], isLast: Bool) {
            let repeated = expanded.contains(node.id)
            out.append(Line(depth: depth, edge: edge, node: node, repeated: repeated, guides: guides, isLast: isLast))
            if repeated { return }
            expanded.insert(node.id)
            let children = outgoing[node.id] ?? []
            for (i, e) in children.enumerated() {
                guard let child = byId[e.destination] else { continue }
                let last = i == children.count - 1
                visit(child, depth: depth + 1, edge: e.success, guides: depth == 0 && edge == nil ? [] : guides + [!isLast], isLast: last)
            }
        }
        for (i, r) in roots.enumerated() { visit(r, depth: 0, edge: nil, guides: [], isLast: i == roots.count - 1) }
        // Nodes only reachable through a cycle that has no entry: show them too.
        for n in nodes where !expanded.contains(n.id) { visit(n, depth: 0, edge: nil, guides: [], isLast: true) }
        return out
    }
}

/// The header's facts, loaded in the background.
public struct HeaderInfo: Sendable, Equatable {
    public var database: String
    public var user: String
    /// The engine's state as the header shows it: its pid, `off`, or `-` before the first look.
    public var engine: String
    public var running: Int
    /// The pid holding the database's engine lock (nil: no engine runs).
    public var enginePid: Int32?
    /// Runs waiting for an engine.
    public var queued: Int

    public init(database: String, user: String, engine: String = "-", running: Int = 0, enginePid: Int32? = nil,
                queued: Int = 0) {
        self.database = database; self.user = user; self.engine = engine; self.running = running
        self.enginePid = enginePid; self.queued = queued
    }

    /// A status-line warning when runs wait for an engine that is not there.
    public var engineProblem: String? {
        guard engine != "-", enginePid == nil, queued + running > 0 else { return nil }
        var waiting: [String] = []
        if queued > 0 { waiting.append("\(queued) queued") }
        if running > 0 { waiting.append("\(running) marked running") }
        return "engine not running: \(waiting.joined(separator: ", ")) run\(queued + running == 1 ? "" : "s") wait for it (r on a service starts it)"
    }
}

/// A run's state, for the header of its log view.
public struct RunSummary: Sendable, Equatable {
    public var id: Int64
    public var service: String
    public var status: String
    public var done: Int
    public var total: Int
    public var failed: Int
    public var startedAt: Date?
    public var endedAt: Date?

    public var progressText: String {
        var s = "\(done)/\(total)"
        if failed > 0 { s += " (\(failed) failed)" }
        return s
    }
}

/// Where a line sits in a tree: for each ancestor below the root, whether its branch goes on (a
/// vertical guide), and whether the line is its parent's last child. Root lines have no guides.
public struct TreeGuides: Sendable, Equatable {
    public var guides: [Bool]
    public var isLast: Bool

    public init(guides: [Bool], isLast: Bool) { self.guides = guides; self.isLast = isLast }

    /// The prefix as text: `│  ├─ `, or `|  +- ` in ASCII.
    public func prefix(_ g: LineGlyphs) -> String {
        guides.map { $0 ? g.pipe : "   " }.joined() + (isLast ? g.lastBranch : g.branch) + " "
    }

    /// What a wrapped line's next rows start with: the same guides, and its own branch going on.
    public func continuation(_ g: LineGlyphs) -> String {
        guides.map { $0 ? g.pipe : "   " }.joined() + (isLast ? "   " : g.pipe)
    }
}
