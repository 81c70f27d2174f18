import Foundation

// The unit-level queue (several engines, stage 2): a run's units (one service on one device, or one
// device's whole walk through a workflow with device traversal) in `run_unit`, claimed by engines in batches under a lease kept
// by the database's clock. Every write of a claimed unit carries its lease (`UnitLease`) and is
// refused once the unit is no longer that claim's: an engine that lost its lease (killed, stopped,
// cut off) can never write a result or a log line for it again.

/// A unit as the engine enqueues it.
public struct RunUnitSpec: Sendable, Equatable {
    public var serviceId: Int64
    public var serviceName: String
    public var deviceId: Int64?
    public var deviceName: String
    /// Configuration-changing (kinds `config`, `unix`, a service marked mutating): never two in
    /// flight on one device, and never retried once its engine is lost (it ends `lost`).
    public var mutating: Bool
    /// The service's `max_processes`: its units of one run in flight at once across every engine
    /// (0: no cap).
    public var maxProcesses: Int

    public init(serviceId: Int64, serviceName: String, deviceId: Int64?, deviceName: String, mutating: Bool, maxProcesses: Int) {
        self.serviceId = serviceId; self.serviceName = serviceName; self.deviceId = deviceId; self.deviceName = deviceName
        self.mutating = mutating; self.maxProcesses = maxProcesses
    }
}

/// The claim that lets an engine write for a unit: the unit, the engine's registration and the
/// claim's epoch (the unit's claim count when it was claimed). Any other claim of the unit since
/// (after a requeue) has a higher epoch, so a stale lease never matches.
public struct UnitLease: Sendable, Hashable, Codable {
    public var unitId: Int64
    public var engineId: Int64
    public var epoch: Int
    public init(unitId: Int64, engineId: Int64, epoch: Int) { self.unitId = unitId; self.engineId = engineId; self.epoch = epoch }
}

/// A unit of the queue.
public struct RunUnit: Sendable, Equatable, Codable {
    public enum Status: String, Codable, Sendable, CaseIterable {
        /// `interrupted`: never run: its run was stopped, or the last engine that could take it left
        /// (SIGTERM, or stopped at once) while it waited in the queue. Not counted in progress (as a
        /// whole run counts only the devices that ran); a run left with such units ends `aborted`
        /// (stopped) or `interrupted` with their reason.
        case queued, claimed, succeeded, failed, lost, interrupted
        public var isFinished: Bool { [.succeeded, .failed, .lost, .interrupted].contains(self) }
    }
    public var id: Int64
    public var runId: Int64
    public var serviceId: Int64
    public var serviceName: String
    public var deviceId: Int64?
    public var deviceName: String
    public var mutating: Bool
    public var maxProcesses: Int
    public var status: Status
    /// Times it was claimed: the attempt a claim is (a read-only unit requeued after its engine was
    /// lost is claimed again, and the result counts it).
    public var attempts: Int
    /// The engine that holds it (claimed) or finished it.
    public var engineId: Int64?
    public var reason: String

    public init(id: Int64, runId: Int64, serviceId: Int64, serviceName: String, deviceId: Int64?, deviceName: String, mutating: Bool,
                maxProcesses: Int, status: Status, attempts: Int, engineId: Int64?, reason: String) {
        self.id = id; self.runId = runId; self.serviceId = serviceId; self.serviceName = serviceName; self.deviceId = deviceId
        self.deviceName = deviceName; self.mutating = mutating; self.maxProcesses = maxProcesses; self.status = status
        self.attempts = attempts; self.engineId = engineId; self.reason = reason
    }

    /// The lease of a claimed unit.
    public var lease: UnitLease? {
        guard status == .claimed, let engineId else { return nil }
        return UnitLease(unitId: id, engineId: engineId, epoch: attempts)
    }
}

/// What finishing a unit did.
public struct UnitFinish: Sendable, Equatable {
    /// False: the lease was no longer held (the unit was requeued, ended lost, or finished by another
    /// claim); nothing was written and the engine must stop the unit's device work.
    public var accepted: Bool
    /// The run's end when this unit was its last (recorded once, by this call), else nil.
    public var runEnded: Run.Status?
    public init(accepted: Bool, runEnded: Run.Status?) { self.accepted = accepted; self.runEnded = runEnded }
}

/// What an engine leaving did to the queued units no other engine could take.
public struct LeftUnits: Sendable, Equatable {
    /// Units ended `interrupted`, by run.
    public var interrupted: [Int64: Int]
    /// Runs this ended (no unit of theirs left in flight), with their end.
    public var endedRuns: [Int64: Run.Status]
    public init(interrupted: [Int64: Int] = [:], endedRuns: [Int64: Run.Status] = [:]) {
        self.interrupted = interrupted; self.endedRuns = endedRuns
    }
}

/// What recovering expired leases did.
public struct ExpiredUnits: Sendable, Equatable {
    /// Read-only units back in the queue, for another engine.
    public var requeued: [RunUnit]
    /// Configuration-changing units ended `lost`, never repeated.
    public var lost: [RunUnit]
    /// Runs whose last unit this ended, with their end.
    public var endedRuns: [Int64: Run.Status]
    public init(requeued: [RunUnit] = [], lost: [RunUnit] = [], endedRuns: [Int64: Run.Status] = [:]) {
        self.requeued = requeued; self.lost = lost; self.endedRuns = endedRuns
    }
}

/// The unit-level queue: each backend implements it on its own SQL (PostgreSQL with `FOR UPDATE SKIP
/// LOCKED` under several engines; SQLite's one writer serialises its claims).
public protocol StoreUnitQueue: AnyObject, Sendable {
    /// Puts a `running` run's units in the queue, in order, and sets its progress total; `lines`
    /// (the run's opening lines) get the run's next sequence numbers. Returns the units.
    func enqueueUnits(run: Int64, _ units: [RunUnitSpec], lines: [RunLogLine]) throws -> [RunUnit]
    /// Claims up to `limit` queued units of running runs for `engine`, oldest first, each under a
    /// lease of `leaseSeconds` by the database's clock. Never more units of one run's service in
    /// flight than its `maxProcesses` (across every engine), never two mutating units of one device;
    /// an engine with a region (`recordEngineRegion`) takes only units of its devices, or of none.
    func claimUnits(engine: EngineClaimant, limit: Int, leaseSeconds: Double) throws -> [RunUnit]
    /// The heartbeat: extends the leases of `units` that `engineId` still holds (the units it works
    /// on, never every unit it holds: one it no longer tracks must lapse, not live on); returns how many.
    @discardableResult func renewUnitLeases(engineId: Int64, units: [Int64], leaseSeconds: Double) throws -> Int
    /// Units `engineId` holds but no longer works on (every claimed one not in `keeping`), handled at
    /// once as an expired lease is (read-only ones requeued, mutating ones `lost` with `reason(unit)`),
    /// rather than a lease length later.
    func releaseUnits(engineId: Int64, keeping: [Int64], reason: @escaping (RunUnit) -> String) throws -> ExpiredUnits
    /// Writes a claimed unit's journal (lines get the run's next sequence numbers, whatever theirs
    /// were) if `lease` still holds; false (nothing written) when it does not. Results count the
    /// unit's earlier claims in their attempts (an attempt of the lease's epoch 2 after one of its own
    /// is stored as 2), and name the engine that produced them (the lease's, with its host).
    func writeUnitJournal(_ batch: JournalBatch, lease: UnitLease) throws -> Bool
    /// Several claimed units' journals in one transaction (an engine's periodic flush of every unit
    /// it works on, at the journal's cadence): each batch as `writeUnitJournal` writes it when its
    /// lease holds, every lease checked at once. Returns the units whose lease did not hold: nothing of
    /// theirs is written; the others' are. Lines of one run get its next sequence numbers in the
    /// order given. On PostgreSQL the commit's NOTIFY carries the lines (as a journal flush's does).
    func writeUnitJournals(_ batches: [(lease: UnitLease, batch: JournalBatch)]) throws -> Set<Int64>
    /// Ends a claimed unit with its last journal (results, lines, device status; results as
    /// `writeUnitJournal` writes them), if `lease` holds: the run's progress comes from its units, and
    /// the engine finishing its last unit ends it.
    func finishUnit(_ lease: UnitLease, success: Bool, batch: JournalBatch) throws -> UnitFinish
    /// Ends a claimed unit stopped by its run's stop before its end, if `lease` holds: `interrupted`
    /// with its last lines, not counted in progress (as a whole run does not count a device
    /// operation its stop cut short); the engine finishing the run's last unit ends it.
    func stopUnit(_ lease: UnitLease, batch: JournalBatch) throws -> UnitFinish
    /// Units whose lease expired (their engine killed, stopped or cut off): read-only ones go back to
    /// the queue, mutating ones end `lost` with `reason(unit)` as their failed result.
    func recoverExpiredUnits(reason: @escaping (RunUnit) -> String) throws -> ExpiredUnits
    /// Spread runs whose stop was requested: their queued units end `interrupted` (never started), and a run
    /// with no unit left in flight ends `aborted` with its stop's reason (else its last unit's finish
    /// ends it so). Returns the runs ended.
    func endStoppedUnitRuns() throws -> [Int64]
    /// A run's units, in order.
    func units(run: Int64) throws -> [RunUnit]
    /// A shutting-down engine (SIGTERM) says so: from now on it counts as serving nothing, for
    /// `leaveUnits` of the other engines and for `unservedUnits`. PostgreSQL only (SQLite: nothing).
    func markEngineDraining(engineId: Int64) throws
    /// An engine leaves (drained, aborted, or out of grace time; its own units already ended or
    /// released): each running, unstopped run whose queued units no other engine that is active
    /// (heartbeat within `thresholds.active`) and not draining could take (none serves any of them)
    /// has those units ended `interrupted`, with the reason `reason(units interrupted, units of the
    /// run)`, and a line saying so in its log; the run ends `interrupted` with that reason once none
    /// of its units is in flight (now, or by its last unit's finish). One transaction, serialised
    /// with claims: an engine that registered before it goes on with the run, one registering after
    /// finds the units ended. SQLite's one engine: every queued unit of a running run.
    func leaveUnits(engineId: Int64, thresholds: EngineThresholds, reason: @escaping (_ interrupted: Int, _ total: Int) -> String) throws -> LeftUnits
    /// Records an engine's region: the pools and filter it serves and the devices they hold now
    /// (replacing the ones recorded before; writes only what changed). Its claims then take only
    /// units of those devices (or of none). PostgreSQL updates the registration (gone: nothing);
    /// SQLite, whose one engine registers nowhere and never has a region in use, writes the row.
    func recordEngineRegion(engineId: Int64, pools: [String], filter: String, devices: Set<Int64>) throws
    /// The queued units of running runs that no active engine serves (each engine with a region
    /// serves its devices only): what `runs` and the console say a run waits for. Read only when
    /// some unit is queued. SQLite: none (one engine serves every device).
    func unservedUnits(_ thresholds: EngineThresholds) throws -> UnservedUnits
}

extension RunUnit {
    /// Which run status the units' outcome gives once none is left: completed when all succeeded.
    public static func runStatus(failed: Int) -> Run.Status { failed == 0 ? .completed : .failed }
}

extension Service {
    /// Configuration-changing: kinds `config` and `unix`, or a service whose parameters say
    /// `"mutating": true`. Such a unit is never retried behind the user's back, and never two run on
    /// one device at once.
    public var changesConfiguration: Bool {
        if kind == .config || kind == .unix { return true }
        if case .bool(true)? = parameters["mutating"] { return true }
        return false
    }
}

/// The claim rules in one place, in the SQL both backends speak: the queued units of running,
/// unstopped runs, with how many of their run's service are already claimed (`busy`, for
/// `max_processes` across every engine) and whether a mutating unit already holds their device
/// (`busy_devices`). A backend adds its own locking around it (PostgreSQL `SKIP LOCKED`).
public enum RunUnitClaimSQL {
    /// `WITH busy …, busy_devices …, candidates …`: to be followed by more CTEs or a `SELECT`.
    /// `engine` is the backend's placeholder for the claiming engine's id (twice: SQLite's `?` is
    /// bound twice). An engine marked `restricted` (it has a region) takes a unit only when the unit
    /// has no device or its device is one of the engine's (`engine_device`).
    public static func candidates(engine: String) -> String {
        """
        WITH busy AS (
            SELECT run_id, service_id, count(*) AS n FROM run_unit WHERE status = 'claimed' GROUP BY run_id, service_id
        ), busy_devices AS (
            SELECT DISTINCT device_id FROM run_unit WHERE status = 'claimed' AND mutating AND device_id IS NOT NULL
        ), candidates AS (
            SELECT u.id, u.run_id, u.service_id, u.device_id, u.mutating, u.max_processes,
                   row_number() OVER (PARTITION BY u.run_id, u.service_id ORDER BY u.id) AS in_service,
                   row_number() OVER (PARTITION BY u.mutating, u.device_id ORDER BY u.id) AS on_device
            FROM run_unit u JOIN run r ON r.id = u.run_id
            WHERE u.status = 'queued' AND r.status = 'running' AND NOT r.stop_requested
              AND NOT (u.mutating AND u.device_id IS NOT NULL AND u.device_id IN (SELECT device_id FROM busy_devices))
              AND (u.device_id IS NULL
                   OR NOT EXISTS (SELECT 1 FROM engine e WHERE e.id = \(engine) AND e.restricted)
                   OR EXISTS (SELECT 1 FROM engine_device ed WHERE ed.engine_id = \(engine) AND ed.device_id = u.device_id))
        )
        """
    }

    /// The ids of the candidates a claim may take, oldest first, at most `limit` (the backend's
    /// placeholder): within the service's cap, and one mutating unit per device.
    public static func eligible(limit: String) -> String {
        """
        SELECT c.id FROM candidates c LEFT JOIN busy b ON b.run_id = c.run_id AND b.service_id = c.service_id
        WHERE (c.max_processes <= 0 OR COALESCE(b.n, 0) + c.in_service <= c.max_processes)
          AND (NOT c.mutating OR c.device_id IS NULL OR c.on_device = 1)
        ORDER BY c.id LIMIT \(limit)
        """
    }
}

extension UnitLease {
    /// `batch` as the store writes it under this lease: its results count the unit's earlier claims
    /// (each an attempt whose engine was lost) in their attempts. Done in the store, for every write
    /// of the lease, so a result flushed early and one written at the unit's end count alike.
    public func counted(_ batch: JournalBatch) -> JournalBatch {
        var out = batch
        for i in out.results.indices { out.results[i].attempts += max(0, epoch - 1) }
        return out
    }
}
