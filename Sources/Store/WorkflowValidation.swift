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

    /// The same through the neutral reads (every backend; the import calls it in its transaction).
    public static func check(_ db: any StoreReader, workflowId: Int64) throws {
        guard let workflow = try db.service(id: workflowId), workflow.kind == .workflow else { return }
        func fail(_ m: String) -> StoreError { StoreError.invalid("workflow '\(workflow.name)': \(m)") }
        let nodes = try db.workflowNodes(workflowId: workflowId)
        if nodes.isEmpty { throw NoStartNode(workflow: workflow.name) }
        var names: [Int64: String] = [:]
        for n in nodes {
            guard let s = try db.service(id: n.serviceId) else { throw fail("a node refers to a missing service (id \(n.serviceId))") }
            names[n.serviceId] = s.name
        }
        let starts = nodes.filter(\.isStart)
        guard let start = starts.first?.serviceId else { throw NoStartNode(workflow: workflow.name) }
        let edges = try db.workflowEdges(workflowId: workflowId)
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

    private static func checkNesting(_ db: any StoreReader, _ id: Int64, _ visiting: inout Set<Int64>, _ fail: (String) -> StoreError) throws {
        let subs = try db.workflowNodes(workflowId: id).compactMap { node in
            try db.service(id: node.serviceId).flatMap { $0.kind == .workflow ? $0.id : nil }
        }
        for sub in subs {
            if !visiting.insert(sub).inserted {
                let name = try db.service(id: sub)?.name ?? "?"
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
