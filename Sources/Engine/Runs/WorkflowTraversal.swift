import Foundation
import Store

/// A workflow's graph as the traversal needs it.
struct WorkflowGraph: Sendable {
    let workflow: Service
    let services: [Int64: Service]
    let start: Int64
    let success: [Int64: [Int64]]
    let failure: [Int64: [Int64]]

    static func load(_ store: any StoreReader, _ workflow: Service, startAt: String = "") throws -> WorkflowGraph {
        let nodes = try store.workflowNodes(workflowId: workflow.id!)
        let edges = try store.workflowEdges(workflowId: workflow.id!)
        var services: [Int64: Service] = [:]
        for node in nodes {
            guard let s = try store.service(id: node.serviceId) else {
                throw StoreError.notFound("workflow '\(workflow.name)': a node's service (id \(node.serviceId)) no longer exists")
            }
            services[node.serviceId] = s
        }
        var success: [Int64: [Int64]] = [:], failure: [Int64: [Int64]] = [:]
        for e in edges {
            if e.subtype == .success { success[e.sourceId, default: []].append(e.destinationId) }
            else { failure[e.sourceId, default: []].append(e.destinationId) }
        }
        let start: Int64
        if !startAt.isEmpty {
            guard let node = services.first(where: { $0.value.name == startAt })?.key else {
                throw StoreError.notFound("workflow '\(workflow.name)' has no node '\(startAt)'")
            }
            start = node
        } else {
            guard let node = nodes.first(where: \.isStart)?.serviceId else {
                throw StoreError.invalid("workflow '\(workflow.name)' has no start node")
            }
            start = node
        }
        return WorkflowGraph(workflow: workflow, services: services, start: start, success: success, failure: failure)
    }

    func next(_ node: Int64, success ok: Bool) -> [Int64] { (ok ? success[node] : failure[node]) ?? [] }
}

/// A device's state as it flows through a workflow: its payload and the last output it produced.
struct DeviceFlow: Sendable {
    var device: Device?
    var payload: [String: JSONValue]
    var previous: String?
    var success = true
}

extension RunExecution {
    static let maxWorkflowDepth = 8

    /// A workflow run: devices flow through the graph (device by device, or service by service),
    /// and each device's outcome is what it ended on.
    func runWorkflowRun(_ workflow: Service, devices: [Device], payload: [String: JSONValue]) async throws {
        let graph = try await env.database.query { [run] store in
            try WorkflowGraph.load(store, workflow, startAt: run.restartFrom)
        }
        if !run.restartFrom.isEmpty {
            log(.info, service: workflow.name, "restarting from '\(run.restartFrom)' (restart of run \(run.restartOf.map(String.init) ?? "?"))")
        }
        let flows = devices.isEmpty ? [DeviceFlow(device: nil, payload: payload)]
                                    : devices.map { DeviceFlow(device: $0, payload: payload) }
        if workflow.traversal == "service" {
            let ended = await walkByService(graph, flows, depth: 0)
            for f in ended where f.device != nil || devices.isEmpty {
                recordWorkflowOutcome(workflow, f)
            }
        } else {
            await forEachConcurrently(flows, limit: maxProcesses(workflow), shouldStart: { [self] in mayStart }) { [self] flow in
                if let f = await walkDevice(graph, flow, depth: 0) {
                    recordWorkflowOutcome(workflow, f)
                }
                if let d = flow.device { await sessions.release(d.name) }
            }
        }
    }

    private func recordWorkflowOutcome(_ workflow: Service, _ f: DeviceFlow) {
        if endingStatus != nil { return }
        recordWorkflowResult(workflow, f)
        deviceDoneForWorkflow(f)
    }

    /// A device's workflow outcome as a result row; a whole run also counts it in its progress, a
    /// spread walk's unit is counted by the queue (`runWorkflowUnit`).
    func recordWorkflowResult(_ workflow: Service, _ f: DeviceFlow) {
        record(workflow, f.device, success: f.success, output: f.success ? "workflow completed" : "workflow failed", ms: 0, attempts: 1)
    }

    private func deviceDoneForWorkflow(_ f: DeviceFlow) {
        // Reuses the same counters as plain services.
        deviceFinished(f.device, success: f.success)
    }

    /// One device through the graph, node after node, following the edge its outcome chose.
    /// Nil when the run ended (stop or drain) before the device finished.
    func walkDevice(_ graph: WorkflowGraph, _ start: DeviceFlow, depth: Int) async -> DeviceFlow? {
        var flow = start
        var queue = [graph.start]
        var runs: [Int64: Int] = [:]
        var endedOK = true
        let name = flow.device?.name ?? ""
        while !queue.isEmpty {
            if !mayStart { return nil }
            let node = queue.removeFirst()
            runs[node, default: 0] += 1
            guard let service = graph.services[node] else { continue }
            if runs[node]! > max(1, graph.workflow.maxNodeRuns) {
                log(.error, device: name, service: service.name,
                    "loop guard: '\(service.name)' already ran \(graph.workflow.maxNodeRuns) times on this device; it stops here")
                endedOK = false
                continue
            }
            let ok: Bool
            if service.kind == .workflow {
                guard let sub = await subWorkflow(service, depth: depth) else { endedOK = false; continue }
                guard let result = await walkDevice(sub, flow, depth: depth + 1) else { return nil }
                flow.payload = result.payload
                flow.previous = result.previous
                ok = result.success
                record(service, flow.device, success: ok, output: ok ? "workflow completed" : "workflow failed", ms: 0, attempts: 1)
            } else {
                let outcome = await runUnit(service, device: flow.device, payload: flow.payload, previous: flow.previous)
                if !outcome.recorded { return nil }
                flow.payload.merge(outcome.payload) { _, new in new }
                flow.previous = outcome.output
                ok = outcome.success
            }
            let next = graph.next(node, success: ok)
            if next.isEmpty {
                if !ok { endedOK = false }
            } else {
                queue += next
            }
        }
        flow.success = endedOK
        return flow
    }

    /// Service by service: each node runs on all the devices that reached it before any device moves on.
    func walkByService(_ graph: WorkflowGraph, _ flows: [DeviceFlow], depth: Int) async -> [DeviceFlow] {
        var pending: [(node: Int64, flows: [DeviceFlow])] = [(graph.start, flows)]
        var runs: [Int64: Int] = [:]
        var ended: [String: DeviceFlow] = [:]
        func end(_ f: DeviceFlow, ok: Bool) {
            let key = f.device?.name ?? ""
            var f = f
            f.success = ok && (ended[key]?.success ?? true)
            ended[key] = f
        }
        while !pending.isEmpty {
            if !mayStart { break }
            let (node, group) = pending.removeFirst()
            guard let service = graph.services[node] else { continue }
            runs[node, default: 0] += 1
            if runs[node]! > max(1, graph.workflow.maxNodeRuns) {
                log(.error, service: service.name, "loop guard: '\(service.name)' already ran \(graph.workflow.maxNodeRuns) times; \(group.count) device(s) stop here")
                for f in group { end(f, ok: false) }
                continue
            }
            log(.info, service: service.name, "'\(service.name)' on \(group.count) device\(group.count == 1 ? "" : "s")")
            var results: [DeviceFlow] = []
            if service.kind == .workflow {
                guard let sub = await subWorkflow(service, depth: depth) else { for f in group { end(f, ok: false) }; continue }
                results = sub.workflow.traversal == "service"
                    ? await walkByService(sub, group, depth: depth + 1)
                    : await walkSubByDevice(sub, group, depth: depth + 1)
                for f in results { record(service, f.device, success: f.success, output: f.success ? "workflow completed" : "workflow failed", ms: 0, attempts: 1) }
            } else if service.runMethod == .once || group.allSatisfy({ $0.device == nil }) {
                let outcome = await runUnit(service, device: nil, payload: group.first?.payload ?? run.parameters, previous: group.first?.previous)
                if !outcome.recorded { break }
                results = group.map { f in
                    var f = f
                    f.payload.merge(outcome.payload) { _, new in new }
                    f.previous = outcome.output
                    f.success = outcome.success
                    return f
                }
            } else {
                let collected = ResultBox()
                await forEachConcurrently(group, limit: maxProcesses(service), shouldStart: { [self] in mayStart }) { [self] flow in
                    let outcome = await runUnit(service, device: flow.device, payload: flow.payload, previous: flow.previous)
                    if !outcome.recorded { return }
                    var f = flow
                    f.payload.merge(outcome.payload) { _, new in new }
                    f.previous = outcome.output
                    f.success = outcome.success
                    collected.append(f)
                }
                results = collected.all
            }
            if !mayStart { break }
            for ok in [true, false] {
                let subset = results.filter { $0.success == ok }
                if subset.isEmpty { continue }
                let next = graph.next(node, success: ok)
                if next.isEmpty {
                    for f in subset { end(f, ok: ok) }
                }
                for n in next {
                    if let i = pending.firstIndex(where: { $0.node == n }) {
                        let present = Set(pending[i].flows.compactMap { $0.device?.name })
                        pending[i].flows += subset.filter { !present.contains($0.device?.name ?? "") }
                    } else {
                        pending.append((n, subset))
                    }
                }
            }
        }
        return flows.compactMap { f in ended[f.device?.name ?? ""] }
    }

    private func walkSubByDevice(_ graph: WorkflowGraph, _ flows: [DeviceFlow], depth: Int) async -> [DeviceFlow] {
        let collected = ResultBox()
        await forEachConcurrently(flows, limit: maxProcesses(graph.workflow), shouldStart: { [self] in mayStart }) { [self] flow in
            if let f = await walkDevice(graph, flow, depth: depth) { collected.append(f) }
        }
        return collected.all
    }

    private func subWorkflow(_ service: Service, depth: Int) async -> WorkflowGraph? {
        if depth + 1 >= Self.maxWorkflowDepth {
            log(.error, service: service.name, "sub-workflows nest deeper than \(Self.maxWorkflowDepth) levels")
            return nil
        }
        do {
            return try await env.database.query { store in try WorkflowGraph.load(store, service) }
        } catch {
            log(.error, service: service.name, "sub-workflow: \(error)")
            return nil
        }
    }
}

/// Collects results from concurrent tasks.
final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [DeviceFlow] = []
    func append(_ f: DeviceFlow) { lock.lock(); items.append(f); lock.unlock() }
    var all: [DeviceFlow] { lock.lock(); defer { lock.unlock() }; return items }
}
