import Foundation
import GRDB

/// Checks a workflow's graph when it is saved: a start node, every node reachable from it, no cycle
/// without a way out (the loop guard would fail every device that enters it), and no workflow that
/// contains itself through its sub-workflows.
public enum WorkflowValidation {
    /// A workflow without a start node is incomplete rather than wrong (eNMS exports hold such
    /// workflows, mid-edit); callers may accept it with a warning. It cannot run until it has one.
    public struct NoStartNode: Error, CustomStringConvertible {
        public var workflow: String
        public var description: String { "workflow '\(workflow)' has no start node; it cannot run until one is set" }
    }

    public static func check(_ db: Database, workflowId: Int64) throws {
        try check(SQLiteExecutor(db: db) as any StoreReader, workflowId: workflowId)
    }

    /// What the check reads: a service by id, a workflow's nodes, its edges.
    public final class Reads {
        let service: (Int64) throws -> Service?
        let nodes: (Int64) throws -> [WorkflowNode]
        let edges: (Int64) throws -> [WorkflowEdge]

        init(service: @escaping (Int64) throws -> Service?, nodes: @escaping (Int64) throws -> [WorkflowNode],
             edges: @escaping (Int64) throws -> [WorkflowEdge]) {
            self.service = service; self.nodes = nodes; self.edges = edges
        }

        /// Straight from the reader, each time.
        public static func direct(_ db: any StoreReader) -> Reads {
            Reads(service: { try db.service(id: $0) }, nodes: { try db.workflowNodes(workflowId: $0) },
                  edges: { try db.workflowEdges(workflowId: $0) })
        }

        /// Every service read once, each workflow's nodes and edges once: for checking many workflows
        /// while nothing is written (an import checks a thousand; on PostgreSQL each read is a round trip).
        public static func cached(_ db: any StoreReader) -> Reads {
            var services: [Int64: Service]?
            var nodes: [Int64: [WorkflowNode]] = [:]
            var edges: [Int64: [WorkflowEdge]] = [:]
            return Reads(service: { id in
                if services == nil {
                    services = [:]
                    for s in try db.services(workflows: true) + db.services(workflows: false) { if let i = s.id { services![i] = s } }
                }
                return services![id]
            }, nodes: { id in
                if let n = nodes[id] { return n }
                let n = try db.workflowNodes(workflowId: id)
                nodes[id] = n
                return n
            }, edges: { id in
                if let e = edges[id] { return e }
                let e = try db.workflowEdges(workflowId: id)
                edges[id] = e
                return e
            })
        }
    }

    /// The same through the neutral reads (every backend; the import calls it in its transaction).
    public static func check(_ db: any StoreReader, workflowId: Int64) throws {
        try check(Reads.direct(db), workflowId: workflowId)
    }

    public static func check(_ db: Reads, workflowId: Int64) throws {
        guard let workflow = try db.service(workflowId), workflow.kind == .workflow else { return }
        func fail(_ m: String) -> StoreError { StoreError.invalid("workflow '\(workflow.name)': \(m)") }
        let nodes = try db.nodes(workflowId)
        if nodes.isEmpty { throw NoStartNode(workflow: workflow.name) }
        var names: [Int64: String] = [:]
        for n in nodes {
            guard let s = try db.service(n.serviceId) else { throw fail("a node refers to a missing service (id \(n.serviceId))") }
            names[n.serviceId] = s.name
        }
        let starts = nodes.filter(\.isStart)
        guard let start = starts.first?.serviceId else { throw NoStartNode(workflow: workflow.name) }
        let edges = try db.edges(workflowId)
        var next: [Int64: [Int64]] = [:]
        for e in edges {
            guard names[e.sourceId] != nil, names[e.destinationId] != nil else { throw fail("edge '\(e.name)' joins a service that is not in the workflow") }
            next[e.sourceId, default: []].append(e.destinationId)
        }
        // Reachability from the start.
        var seen: Set<Int64> = [start]
        var stack = [start]
        while let n = stack.popLast() {
            for m in next[n] ?? [] where seen.insert(m).inserted { stack.append(m) }
        }
        let unreachable = names.keys.filter { !seen.contains($0) }.compactMap { names[$0] }.sorted()
        if !unreachable.isEmpty {
            throw fail("unreachable from the start node '\(names[start]!)': \(unreachable.joined(separator: ", "))")
        }
        // Cycles: every strongly connected component that loops must have an edge out of it, and
        // the loop guard must be set.
        for component in stronglyConnected(Array(names.keys), next) {
            let set = Set(component)
            let loops = component.count > 1 || (next[component[0]] ?? []).contains(component[0])
            if !loops { continue }
            let cycle = component.compactMap { names[$0] }.sorted().joined(separator: " → ")
            if workflow.maxNodeRuns < 1 { throw fail("has a cycle (\(cycle)) but no loop guard (max_node_runs must be at least 1)") }
            let exits = component.contains { n in (next[n] ?? []).contains { !set.contains($0) } }
            if !exits { throw fail("cycle \(cycle) has no edge leaving it: every device entering it would loop until the guard fails it") }
        }
        // Sub-workflows must not contain this workflow again.
        var visiting: Set<Int64> = [workflowId]
        try checkNesting(db, workflowId, &visiting, fail)
    }

    private static func checkNesting(_ db: Reads, _ id: Int64, _ visiting: inout Set<Int64>, _ fail: (String) -> StoreError) throws {
        let subs = try db.nodes(id).compactMap { node in
            try db.service(node.serviceId).flatMap { $0.kind == .workflow ? $0.id : nil }
        }
        for sub in subs {
            if !visiting.insert(sub).inserted {
                let name = try db.service(sub)?.name ?? "?"
                throw fail("contains itself through sub-workflow '\(name)'")
            }
            try checkNesting(db, sub, &visiting, fail)
            visiting.remove(sub)
        }
    }

    /// Tarjan's strongly connected components.
    static func stronglyConnected(_ nodes: [Int64], _ next: [Int64: [Int64]]) -> [[Int64]] {
        var index = 0
        var indices: [Int64: Int] = [:], low: [Int64: Int] = [:]
        var onStack: Set<Int64> = []
        var stack: [Int64] = []
        var out: [[Int64]] = []
        func visit(_ v: Int64) {
            indices[v] = index; low[v] = index; index += 1
            stack.append(v); onStack.insert(v)
            for w in next[v] ?? [] {
                if indices[w] == nil { visit(w); low[v] = min(low[v]!, low[w]!) }
                else if onStack.contains(w) { low[v] = min(low[v]!, indices[w]!) }
            }
            if low[v] == indices[v] {
                var component: [Int64] = []
                while let w = stack.popLast() {
                    onStack.remove(w)
                    component.append(w)
                    if w == v { break }
                }
                out.append(component)
            }
        }
        for n in nodes.sorted() where indices[n] == nil { visit(n) }
        return out
    }
}
