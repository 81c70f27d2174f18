import Foundation
import Store

// A device's walk through a workflow as one unit of the queue (several engines, `engine.unit_queue`):
// the engine that claims a workflow run with device traversal enqueues one unit per device, and the
// engine that claims a unit walks that device through the graph from the start (or from the node a
// restart names), writing every node's result and lines as a whole run does, then the device's
// workflow outcome. Service traversal stays whole (see `WorkflowGraph.spreadsPerDevice`).

extension WorkflowGraph {
    /// Whether a run of this workflow can be split into one unit per device. Device traversal walks
    /// each device on its own (`walkDevice`): every node it reaches runs on that device alone, with
    /// that device's payload and previous output, nested workflows walked by device too, so the walk
    /// is the unit. Service traversal cannot be split: a node runs only once every device that reaches
    /// it has arrived, a run-once node runs once for the whole group, and the devices' paths merge at
    /// each node; those are decisions over all the run's devices together, which no one device's unit
    /// can make, so such a run executes whole on the engine that claims it.
    static func spreadsPerDevice(_ workflow: Service) -> Bool {
        workflow.kind == .workflow && workflow.traversal != "service"
    }

    /// Whether a walk of this graph from its start can change a device's configuration: any node it
    /// can reach (by success or failure edges) is configuration-changing (`changesConfiguration`), in
    /// nested workflows too, to the depth a walk goes (`RunExecution.maxWorkflowDepth`), or the
    /// workflow itself is marked `"mutating": true`. Such a walk is never repeated behind the user's
    /// back: its unit ends `lost` when its engine dies, whichever node it was on (the walk may have
    /// passed the changing node already). A sub-workflow that cannot be loaded is not walked (the walk
    /// logs its error and fails that node), so it changes nothing.
    func changesConfiguration(_ store: any StoreReader, depth: Int = 0) -> Bool {
        if workflow.changesConfiguration { return true }
        var seen: Set<Int64> = []
        var pending = [start]
        while let node = pending.popLast() {
            guard seen.insert(node).inserted, let service = services[node] else { continue }
            if service.kind == .workflow {
                if depth + 1 < RunExecution.maxWorkflowDepth, let sub = try? WorkflowGraph.load(store, service),
                   sub.changesConfiguration(store, depth: depth + 1) {
                    return true
                }
            } else if service.changesConfiguration {
                return true
            }
            pending += (success[node] ?? []) + (failure[node] ?? [])
        }
        return false
    }
}

extension RunExecution {
    /// One device's walk through `workflow`, as a unit: from the workflow's start, or from the node the
    /// run restarts from (`run.restartFrom`, with the run's parameters as the payload and no previous
    /// output, as a whole restart run does). Each node's result and lines go to the journal as in a
    /// whole run; the device's outcome is recorded as `recordWorkflowOutcome` records it. Not
    /// recorded when the unit was stopped before the walk ended (its unit is then ended by the caller).
    /// `loaded`: the graph as the engine read it for the run's units (`UnitRunPlan`); nil when that read
    /// failed, and it is read again here to report why.
    func runWorkflowUnit(_ workflow: Service, graph loaded: WorkflowGraph?, device: Device?, payload: [String: JSONValue]) async -> UnitOutcome {
        let graph: WorkflowGraph
        do {
            if let loaded { graph = loaded } else {
                graph = try await env.database.query { [run] store in try WorkflowGraph.load(store, workflow, startAt: run.restartFrom) }
            }
        } catch {
            let message = "workflow '\(workflow.name)': \(error)"
            log(.error, device: device?.name ?? "", service: workflow.name, message)
            record(workflow, device, success: false, output: message, ms: 0, attempts: 1)
            return UnitOutcome(success: false, output: message, payload: [:], recorded: true)
        }
        guard let flow = await walkDevice(graph, DeviceFlow(device: device, payload: payload), depth: 0), endingStatus == nil else {
            return UnitOutcome(success: false, output: "", payload: [:], recorded: false)
        }
        recordWorkflowResult(workflow, flow)
        return UnitOutcome(success: flow.success, output: flow.previous ?? "", payload: flow.payload, recorded: true)
    }
}
