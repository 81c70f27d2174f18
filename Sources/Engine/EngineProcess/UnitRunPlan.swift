import Foundation
import Store

/// What every unit of a spread run needs from the store besides its device: the run, its service, and
/// for a workflow its graph (from the node a restart names). Read once per run by the engine that
/// works on its units, not once per unit: on PostgreSQL each read is a round trip, and a workflow's
/// graph alone took five per device walk (nodes, edges, each node's service). A whole run reads them
/// once at its start too, so a service or workflow edited mid-run changes neither.
struct UnitRunPlan: Sendable {
    /// Runs whose plan an engine keeps at most (all dropped past it; a run's plan is dropped when it
    /// ends here, and read again by its next unit if it had not ended).
    static let kept = 64

    let run: Run
    let service: Service
    /// nil for a service, or when the workflow's graph cannot be read (its unit reads it again, to
    /// fail with the reason as a whole run does).
    let graph: WorkflowGraph?

    static func load(_ store: any StoreReader, run id: Int64, service serviceId: Int64) throws -> UnitRunPlan? {
        guard let run = try store.run(id: id), let service = try store.service(id: serviceId) else { return nil }
        let graph = service.kind == .workflow ? try? WorkflowGraph.load(store, service, startAt: run.restartFrom) : nil
        return UnitRunPlan(run: run, service: service, graph: graph)
    }
}
