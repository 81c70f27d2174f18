import Foundation
import Store

/// The unit-level queue (several engines, stage 2), the same checks on every backend.
extension StoreBackendConformance {
    /// A running run with `units` queued, and its id.
    static func runningRun(_ backend: any StoreBackend, _ specs: (_ devices: [String: Int64], _ service: Service) -> [RunUnitSpec]) throws
        -> (run: Int64, units: [RunUnit]) {
        let service = try seed(backend)
        try backend.transaction { tx in try tx.upsert(device: Device(name: "r3", address: "192.0.2.3")) }
        let run = try backend.transaction { tx in try tx.enqueueRun(service: "show", trigger: .cli, user: "ann", devices: ["r1", "r2", "r3"]).id! }
        _ = try backend.claimQueuedRuns(limit: 1, enginePid: 4242, at: Date())
        let devices = try backend.query { q in
            Dictionary(uniqueKeysWithValues: try ["r1", "r2", "r3"].map { ($0, try q.device(named: $0)!.id!) })
        }
        let opening = [RunLogLine(runId: run, seq: 0, time: Date(), level: .info, device: "", service: "", message: "run started")]
        let units = try backend.enqueueUnits(run: run, specs(devices, service), lines: opening)
        return (run, units)
    }

    static func claimant(_ id: Int64) -> EngineClaimant { EngineClaimant(pid: Int32(1000 + id), host: "h\(id)", id: id) }

    static func result(_ unit: RunUnit, success: Bool = true, attempts: Int = 1) -> RunResult {
        RunResult(runId: unit.runId, serviceId: unit.serviceId, serviceName: unit.serviceName, deviceId: unit.deviceId,
                  deviceName: unit.deviceName, success: success, output: "out of \(unit.id)", durationMs: 5, attempts: attempts)
    }

    static func line(_ unit: RunUnit, _ text: String) -> RunLogLine {
        // seq 1 on purpose: the store numbers a unit's lines itself, per run, across engines.
        RunLogLine(runId: unit.runId, seq: 1, time: Date(), level: .info, device: unit.deviceName, service: unit.serviceName, message: text)
    }

    /// Units are claimed once, oldest first, within a service's `max_processes` across engines and
    /// one mutating unit per device; a stale lease writes nothing; the last unit's finish ends the
    /// run once, with progress, results and gap-free log sequence numbers as one engine would leave.
    public static func unitsAreClaimedOnceWithinTheirCaps(_ backend: any StoreBackend) throws {
        let (run, units) = try runningRun(backend) { d, s in
            ["r1", "r2", "r3"].map { RunUnitSpec(serviceId: s.id!, serviceName: "show", deviceId: d[$0], deviceName: $0, mutating: false, maxProcesses: 2) }
                + [1, 2].map { _ in RunUnitSpec(serviceId: 99, serviceName: "push", deviceId: d["r1"], deviceName: "r1", mutating: true, maxProcesses: 0) }
        }
        try expect(units.count == 5 && units.allSatisfy { $0.status == .queued && $0.attempts == 0 && $0.runId == run }, "enqueued: \(units)")
        try expect(try backend.query { try $0.run(id: run)?.progressTotal } == 5, "the run's total is its units")

        let first = try backend.claimUnits(engine: claimant(1), limit: 10, leaseSeconds: 30)
        try expect(first.map(\.id) == [units[0].id, units[1].id, units[3].id],
                   "two of show (max_processes 2) and one push on r1: \(first.map(\.id)) of \(units.map(\.id))")
        try expect(first.allSatisfy { $0.status == .claimed && $0.engineId == 1 && $0.attempts == 1 && $0.lease != nil }, "claimed for engine 1")
        try expect(try backend.claimUnits(engine: claimant(2), limit: 10, leaseSeconds: 30).isEmpty,
                   "another engine gets nothing: the caps hold across engines")

        // A lease that is not the claim's writes nothing.
        let held = first[0].lease!
        for stale in [UnitLease(unitId: held.unitId, engineId: 2, epoch: 1), UnitLease(unitId: held.unitId, engineId: 1, epoch: 2)] {
            try expect(!(try backend.writeUnitJournal(JournalBatch(lines: [line(first[0], "stale")]), lease: stale)), "stale \(stale) refused")
            try expect(!(try backend.finishUnit(stale, success: true, batch: JournalBatch(results: [result(first[0])]))).accepted, "stale finish refused")
        }
        try expect(try backend.writeUnitJournal(JournalBatch(lines: [line(first[0], "connected")]), lease: held), "the holder writes")
        let f = try backend.finishUnit(held, success: true, batch: JournalBatch(lines: [line(first[0], "done")], results: [result(first[0])]))
        try expect(f.accepted && f.runEnded == nil, "finished, the run goes on: \(f)")
        try expect(!(try backend.finishUnit(held, success: true, batch: JournalBatch(results: [result(first[0])]))).accepted, "finished once")
        try expect(try backend.query { try $0.run(id: run)?.progressDone } == 1, "progress from the units")

        let second = try backend.claimUnits(engine: claimant(2), limit: 10, leaseSeconds: 30)
        try expect(second.map(\.id) == [units[2].id], "a show slot came free (the second push waits for r1): \(second.map(\.id))")
        let push = first[2].lease!
        try expect(try backend.finishUnit(push, success: false, batch: JournalBatch(results: [result(first[2], success: false)])).accepted, "push 1")
        let third = try backend.claimUnits(engine: claimant(3), limit: 10, leaseSeconds: 30)
        try expect(third.map(\.id) == [units[4].id], "r1 free for the second push: \(third.map(\.id))")

        var ends: [Run.Status] = []
        for unit in [first[1], second[0], third[0]] {
            let finish = try backend.finishUnit(unit.lease!, success: true, batch: JournalBatch(lines: [line(unit, "done")], results: [result(unit)]))
            try expect(finish.accepted, "finished \(unit.id)")
            if let end = finish.runEnded { ends.append(end) }
        }
        try expect(ends == [.failed], "the run ended once, failed (one push failed): \(ends)")
        let (r, lines, results) = try backend.query { q in
            (try q.run(id: run)!, try q.logLines(run: run, after: 0, device: nil, limit: 100), try q.results(run: run, device: nil))
        }
        try expect(r.status == .failed && r.progressDone == 5 && r.progressTotal == 5 && r.progressFailed == 1 && r.endedAt != nil
                   && r.reason == "1 of 5 devices failed", "the run's end: \(r)")
        try expect(lines.map(\.seq) == Array(1...Int64(lines.count)), "log sequence numbers without gaps: \(lines.map(\.seq))")
        try expect(lines.first?.message == "run started" && lines.last?.message.contains("failed") == true && !lines.contains { $0.message == "stale" },
                   "opening, unit and closing lines, nothing stale: \(lines.map(\.message))")
        try expect(results.count == 5 && Set(results.map(\.deviceName)) == ["r1", "r2", "r3"], "one result per unit: \(results.count)")
        try expect(try backend.units(run: run).map(\.status) == [.succeeded, .succeeded, .succeeded, .failed, .succeeded], "the units' ends")
        try expect(try backend.claimUnits(engine: claimant(1), limit: 10, leaseSeconds: 30).isEmpty, "nothing left")
    }

    /// A lease not renewed expires by the database's clock: its writes are refused; recovery puts
    /// read-only units back in the queue (claimed again, the attempt counted) and ends mutating ones
    /// `lost`, never repeated.
    public static func expiredLeasesRequeueReadOnlyUnitsAndLoseMutatingOnes(_ backend: any StoreBackend) throws {
        let (run, units) = try runningRun(backend) { d, s in
            [RunUnitSpec(serviceId: s.id!, serviceName: "show", deviceId: d["r1"], deviceName: "r1", mutating: false, maxProcesses: 0),
             RunUnitSpec(serviceId: 99, serviceName: "push", deviceId: d["r2"], deviceName: "r2", mutating: true, maxProcesses: 0),
             RunUnitSpec(serviceId: s.id!, serviceName: "show", deviceId: d["r3"], deviceName: "r3", mutating: false, maxProcesses: 0)]
        }
        let claimed = try backend.claimUnits(engine: claimant(7), limit: 2, leaseSeconds: 0.6)
        try expect(claimed.map(\.id) == [units[0].id, units[1].id], "engine 7 holds two: \(claimed.map(\.id))")
        try expect(try backend.renewUnitLeases(engineId: 7, units: claimed.map(\.id), leaseSeconds: 0.6) == 2, "its heartbeat renews both")
        try expect(try backend.recoverExpiredUnits { _ in "x" } == ExpiredUnits(), "nothing expired yet")
        usleep(1_000_000)
        try expect(try backend.renewUnitLeases(engineId: 7, units: claimed.map(\.id), leaseSeconds: 30) == 0, "an expired lease is not revived")
        try expect(!(try backend.writeUnitJournal(JournalBatch(lines: [line(claimed[0], "late")]), lease: claimed[0].lease!)),
                   "a write under an expired lease is refused")
        let recovered = try backend.recoverExpiredUnits { "the engine #\($0.engineId ?? 0) was lost" }
        try expect(recovered.requeued.map(\.id) == [units[0].id] && recovered.lost.map(\.id) == [units[1].id] && recovered.endedRuns.isEmpty,
                   "read-only requeued, mutating lost: \(recovered)")
        try expect(try backend.recoverExpiredUnits { _ in "x" } == ExpiredUnits(), "recovered once")

        let retry = try backend.claimUnits(engine: claimant(8), limit: 10, leaseSeconds: 30)
        try expect(retry.map(\.id) == [units[0].id, units[2].id] && retry[0].attempts == 2 && retry[1].attempts == 1,
                   "another engine takes the requeued unit as its second attempt: \(retry)")
        try expect(!(try backend.finishUnit(claimed[0].lease!, success: true, batch: JournalBatch(results: [result(claimed[0])]))).accepted,
                   "the old claim's finish is refused")
        var end: Run.Status?
        for unit in retry {
            // The execution counts its own attempts (1); the store adds the unit's earlier claims.
            let f = try backend.finishUnit(unit.lease!, success: true, batch: JournalBatch(results: [result(unit)]))
            try expect(f.accepted, "finished \(unit.id)")
            end = f.runEnded ?? end
        }
        try expect(end == .failed, "the lost unit fails the run: \(String(describing: end))")
        let (results, lines) = try backend.query { q in (try q.results(run: run, device: nil), try q.logLines(run: run, after: 0, device: nil, limit: 100)) }
        try expect(results.count == 3, "one result per unit, none for the late writes: \(results.map(\.deviceName))")
        let lost = results.first { $0.deviceName == "r2" }
        try expect(lost?.success == false && lost?.output.contains("the engine #7 was lost") == true, "the lost unit's result names why: \(String(describing: lost))")
        try expect(results.first { $0.deviceName == "r1" }?.attempts == 2, "the retry's attempt is counted")
        try expect(lines.contains { $0.message.contains("requeued after attempt 1") } && !lines.contains { $0.message == "late" },
                   "the requeue is logged, the late line is not: \(lines.map(\.message))")
        try expect(lines.map(\.seq) == Array(1...Int64(lines.count)), "sequence numbers without gaps: \(lines.map(\.seq))")
        try expect(try backend.units(run: run).map(\.status) == [.succeeded, .lost, .succeeded], "the units' ends")
    }

    /// Engines claiming at once (each its own thread and connection) never share a unit, and the caps
    /// hold at every moment: at most `max_processes` of a service in flight across them, at most one
    /// mutating unit per device.
    public static func concurrentUnitClaimsNeverShareAUnit(_ backend: any StoreBackend) throws {
        let (run, units) = try runningRun(backend) { d, s in
            (0..<60).map { i in RunUnitSpec(serviceId: s.id!, serviceName: "show", deviceId: d["r\(i % 3 + 1)"], deviceName: "r\(i % 3 + 1)",
                                             mutating: false, maxProcesses: 4) }
                + (0..<12).map { i in RunUnitSpec(serviceId: 99, serviceName: "push", deviceId: d["r\(i % 3 + 1)"], deviceName: "r\(i % 3 + 1)",
                                                  mutating: true, maxProcesses: 0) }
        }
        let claimed = ClaimLog()
        let ends = ClaimLog()
        let breaches = ClaimLog()
        let start = DispatchSemaphore(value: 0)
        let group = DispatchGroup()
        for engine in 1...4 {
            DispatchQueue.global().async(group: group) {
                start.wait()
                while let got = try? backend.claimUnits(engine: claimant(Int64(engine)), limit: engine + 1, leaseSeconds: 30) {
                    // Different limits: claims made at once pick different units, so a cap must be a count, not luck.
                    if got.isEmpty {
                        // The caps may hold back what is queued: wait while any unit is unfinished.
                        if (try? backend.units(run: run).contains { !$0.status.isFinished }) == true { usleep(2_000); continue }
                        break
                    }
                    claimed.add(got.map(\.id))
                    if let now = try? backend.units(run: run).filter({ $0.status == .claimed }) {
                        let reading = now.filter { !$0.mutating }.count
                        let perDevice = Dictionary(grouping: now.filter(\.mutating), by: \.deviceName).values.map(\.count).max() ?? 0
                        if reading > 4 || perDevice > 1 { breaches.add([Int64(reading * 100 + perDevice)]) }
                    }
                    for u in got {
                        if let f = try? backend.finishUnit(u.lease!, success: true, batch: JournalBatch(lines: [line(u, "done")], results: [result(u)])),
                           f.runEnded != nil { ends.add([u.runId]) }
                    }
                }
            }
        }
        for _ in 0..<4 { start.signal() }
        group.wait()
        let ids = claimed.ids
        try expect(ids.count == Set(ids).count && Set(ids) == Set(units.map(\.id)), "each unit claimed once: \(ids.count) claims of \(units.count)")
        try expect(breaches.ids.isEmpty, "caps breached (read-only in flight * 100 + mutating on one device): \(breaches.ids)")
        try expect(ends.ids == [run], "the run ended once: \(ends.ids)")
        let lines = try backend.query { try $0.logLines(run: run, after: 0, device: nil, limit: 1000) }
        try expect(lines.map(\.seq) == Array(1...Int64(lines.count)) && lines.count == 74, "no sequence collision across engines: \(lines.count)")
        try expect(try backend.query { try $0.run(id: run)?.status } == .completed, "completed")
    }

    /// A stop of a spread run: no more claims; its queued units end `interrupted` (never started, not counted in progress); the run
    /// ends `aborted` with the stop's reason once its in-flight unit ends, once.
    public static func aStoppedSpreadRunEndsAbortedOnce(_ backend: any StoreBackend) throws {
        let (run, units) = try runningRun(backend) { d, s in
            ["r1", "r2", "r3"].map { RunUnitSpec(serviceId: s.id!, serviceName: "show", deviceId: d[$0], deviceName: $0, mutating: false, maxProcesses: 0) }
        }
        let claimed = try backend.claimUnits(engine: claimant(1), limit: 1, leaseSeconds: 30)
        try expect(claimed.map(\.id) == [units[0].id], "one in flight")
        try backend.transaction { tx in _ = try tx.requestStop(run: run, user: "ann") }
        try expect(try backend.claimUnits(engine: claimant(2), limit: 5, leaseSeconds: 30).isEmpty, "a stopped run's units are not claimed")
        try expect(try backend.endStoppedUnitRuns().isEmpty, "not ended while a unit is in flight")
        try expect(try backend.units(run: run).map(\.status) == [.claimed, .interrupted, .interrupted], "queued units never start")
        // The engine stops its unit in flight: it ends `interrupted`, as a whole run's cut-short device
        // operation is not counted.
        let end = try backend.stopUnit(claimed[0].lease!, batch: JournalBatch(lines: [line(claimed[0], "stopped")]))
        try expect(end == UnitFinish(accepted: true, runEnded: .aborted), "the last unit ends it aborted: \(end)")
        try expect(!(try backend.stopUnit(claimed[0].lease!, batch: JournalBatch())).accepted, "stopped once")
        let r = try backend.query { try $0.run(id: run)! }
        try expect(r.status == .aborted && r.reason == "stopped by ann" && r.progressDone == 0 && r.progressTotal == 3 && r.progressFailed == 0,
                   "the run's end, its progress what ran (as a whole run's): \(r)")
        try expect(try backend.units(run: run).map(\.status) == [.interrupted, .interrupted, .interrupted], "none ran to its end")
        try expect(try backend.endStoppedUnitRuns().isEmpty, "ended once")
    }

    /// An engine id for a region: a registration where engines register (PostgreSQL), else any id
    /// (SQLite's `recordEngineRegion` writes the row the shared claim SQL reads).
    static func regionEngine(_ backend: any StoreBackend, _ fallback: Int64, pools: [String] = ["edge"]) throws -> (id: Int64, lock: (any StoreEngineLock)?) {
        guard backend.capabilities.contains(.severalEngines) else { return (fallback, nil) }
        let lock = try backend.acquireEngineLock(EngineIdentity(host: "region-\(fallback)", pid: Int32(fallback), pools: pools))
        guard let id = lock?.engineId else { throw Failure(description: "no registration") }
        return (id, lock)
    }

    /// Regions: an engine with one (`recordEngineRegion`) claims only the units of its devices, and
    /// those without a device; an engine without one claims the rest; a region recorded again is
    /// the new set (what left it is no longer claimed, what joined it is). With registrations
    /// (PostgreSQL) an engine registered with pools claims no device's unit before its devices are
    /// recorded.
    public static func anEnginesRegionLimitsItsClaims(_ backend: any StoreBackend) throws {
        let (_, units) = try runningRun(backend) { d, s in
            ["r1", "r2", "r3"].map { RunUnitSpec(serviceId: s.id!, serviceName: "show", deviceId: d[$0], deviceName: $0, mutating: false, maxProcesses: 0) }
                + [RunUnitSpec(serviceId: s.id!, serviceName: "show", deviceId: nil, deviceName: "", mutating: false, maxProcesses: 0)]
        }
        let d = units.map { $0.deviceId }
        let edge = try regionEngine(backend, 71), other = try regionEngine(backend, 72)
        defer { edge.lock?.release(); other.lock?.release() }
        let registers = backend.capabilities.contains(.severalEngines)
        if registers {
            try expect(try backend.claimUnits(engine: claimant(edge.id), limit: 10, leaseSeconds: 30).map(\.id) == [units[3].id],
                       "registered with pools, devices not recorded yet: only the unit without a device")
        }
        try backend.recordEngineRegion(engineId: edge.id, pools: ["edge"], filter: "", devices: [d[1]!])
        try backend.recordEngineRegion(engineId: other.id, pools: ["core"], filter: "", devices: [])
        let empty = try backend.claimUnits(engine: claimant(other.id), limit: 10, leaseSeconds: 30)
        try expect(empty.map(\.id) == (registers ? [] : [units[3].id]), "an empty region claims nothing of a device: \(empty.map(\.deviceName))")
        let first = try backend.claimUnits(engine: claimant(edge.id), limit: 10, leaseSeconds: 30)
        try expect(first.map(\.id) == [units[1].id], "only its device r2: \(first.map(\.deviceName))")
        // The region changes: r1 and r3 join the other engine's, r2 leaves the first's (claimed already).
        try backend.recordEngineRegion(engineId: other.id, pools: ["core"], filter: "", devices: [d[0]!, d[2]!, d[1]!])
        try backend.recordEngineRegion(engineId: other.id, pools: ["core"], filter: "", devices: [d[0]!, d[2]!])
        try expect(try backend.claimUnits(engine: claimant(edge.id), limit: 10, leaseSeconds: 30).isEmpty, "nothing more of its region")
        let second = try backend.claimUnits(engine: claimant(other.id), limit: 10, leaseSeconds: 30)
        try expect(second.map(\.id) == [units[0].id, units[2].id], "the other engine's region now: \(second.map(\.deviceName))")
        try expect(try backend.units(run: units[0].runId).allSatisfy { $0.status == .claimed }, "every unit claimed once")
    }

    /// The units no active engine serves, and why: with registrations (PostgreSQL) a queued unit
    /// whose device is in no active engine's region is named with its run (a unit without a device
    /// never is); an engine without a region serves them all. SQLite's one engine serves every device.
    public static func unitsNoEngineServesAreNamedWithTheirPools(_ backend: any StoreBackend) throws {
        let (run, units) = try runningRun(backend) { d, s in
            ["r1", "r2", "r3"].map { RunUnitSpec(serviceId: s.id!, serviceName: "show", deviceId: d[$0], deviceName: $0, mutating: false, maxProcesses: 0) }
                + [RunUnitSpec(serviceId: s.id!, serviceName: "show", deviceId: nil, deviceName: "", mutating: false, maxProcesses: 0)]
        }
        try backend.transaction { tx in
            try tx.upsert(pool: Pool(name: "core"), manualDevices: ["r1"])
            try tx.upsert(pool: Pool(name: "edge"), manualDevices: ["r2", "r3"])
        }
        let thresholds = EngineThresholds(active: 15, drop: 120)
        guard backend.capabilities.contains(.severalEngines) else {
            try expect(try backend.unservedUnits(thresholds) == UnservedUnits(), "SQLite: one engine serves every device")
            try expect(try RunWaiting.reasons(backend, thresholds: thresholds).isEmpty, "and no run waits for a region")
            return
        }
        let none = try backend.unservedUnits(thresholds)
        try expect(none.activeEngines == 0 && Set(none.devices.map(\.deviceName)) == ["r1", "r2", "r3"], "no engine active: every device waits: \(none)")
        try expect(try RunWaiting.reasons(backend, thresholds: thresholds) == [run: "waiting: no engine is active"], "the reason says so")
        let core = try regionEngine(backend, 81, pools: ["core"])
        defer { core.lock?.release() }
        try backend.recordEngineRegion(engineId: core.id, pools: ["core"], filter: "", devices: [units[0].deviceId!])
        let waiting = try backend.unservedUnits(thresholds)
        try expect(waiting.activeEngines == 1 && !waiting.filters && waiting.devices.map(\.deviceName) == ["r2", "r3"]
                   && waiting.devices.allSatisfy { $0.runId == run }, "r2 and r3 wait for an engine of pool edge: \(waiting)")
        let reasons = try RunWaiting.reasons(backend, thresholds: thresholds)
        try expect(reasons == [run: "waiting: no engine serves pool edge"], "named by their pool: \(reasons)")
        let listed = try RunQueue(database: backend).runs(limit: 10, thresholds: thresholds).first { $0.id == run }
        try expect(listed?.reason == "waiting: no engine serves pool edge", "`runs` shows it: \(String(describing: listed?.reason))")
        let console = try ConsoleStore(backend: backend, engineThresholds: thresholds).runs().first { $0.id == run }
        try expect(console?.reason == "waiting: no engine serves pool edge", "the console's runs view too: \(String(describing: console?.reason))")
        // A filter region: devices, not pools.
        try backend.recordEngineRegion(engineId: core.id, pools: [], filter: "name=r1", devices: [units[0].deviceId!])
        try expect(try RunWaiting.reasons(backend, thresholds: thresholds) == [run: "waiting: no engine serves devices r2, r3"],
                   "a filter region names the devices")
        let all = try backend.acquireEngineLock(EngineIdentity(host: "anywhere", pid: 99))
        defer { all?.release() }
        try expect(try backend.unservedUnits(thresholds).devices.isEmpty, "an engine without a region serves them all")
        try expect(try RunQueue(database: backend).runs(limit: 10, thresholds: thresholds).first { $0.id == run }?.reason == "", "no reason then")
    }

    /// The heartbeat renews only the units its engine works on: a unit it holds but no longer tracks
    /// lapses (it is not kept alive forever), and releasing it hands it on at once, as an expired
    /// lease would be: read-only requeued, configuration-changing `lost` with the reason.
    public static func theHeartbeatKeepsOnlyTrackedUnitsAndReleasesTheRest(_ backend: any StoreBackend) throws {
        let (run, units) = try runningRun(backend) { d, s in
            [RunUnitSpec(serviceId: s.id!, serviceName: "show", deviceId: d["r1"], deviceName: "r1", mutating: false, maxProcesses: 0),
             RunUnitSpec(serviceId: s.id!, serviceName: "show", deviceId: d["r2"], deviceName: "r2", mutating: false, maxProcesses: 0),
             RunUnitSpec(serviceId: 99, serviceName: "push", deviceId: d["r3"], deviceName: "r3", mutating: true, maxProcesses: 0)]
        }
        let claimed = try backend.claimUnits(engine: claimant(7), limit: 3, leaseSeconds: 0.8)
        try expect(claimed.map(\.id) == units.map(\.id), "engine 7 holds all three: \(claimed.map(\.id))")
        try expect(try backend.renewUnitLeases(engineId: 7, units: [units[0].id, units[2].id], leaseSeconds: 30) == 2,
                   "the heartbeat renews the two it works on")
        try expect(try backend.renewUnitLeases(engineId: 8, units: units.map(\.id), leaseSeconds: 30) == 0, "never another engine's")
        try expect(try backend.renewUnitLeases(engineId: 7, units: [], leaseSeconds: 30) == 0, "nothing tracked, nothing renewed")
        usleep(1_200_000)
        try expect(!(try backend.writeUnitJournal(JournalBatch(lines: [line(claimed[1], "late")]), lease: claimed[1].lease!)),
                   "the untracked unit's lease lapsed")
        try expect(try backend.writeUnitJournal(JournalBatch(lines: [line(claimed[0], "alive")]), lease: claimed[0].lease!),
                   "the tracked one's lives")

        let released = try backend.releaseUnits(engineId: 7, keeping: [units[0].id]) { "engine #\($0.engineId ?? 0) released it" }
        try expect(released.requeued.map(\.id) == [units[1].id] && released.lost.map(\.id) == [units[2].id] && released.endedRuns.isEmpty,
                   "read-only requeued, mutating lost: \(released)")
        try expect(try backend.releaseUnits(engineId: 7, keeping: [units[0].id]) { _ in "x" } == ExpiredUnits(), "released once")
        try expect(try backend.recoverExpiredUnits { _ in "x" } == ExpiredUnits(), "nothing left for the recovery")
        try expect(try backend.units(run: run).map(\.status) == [.claimed, .queued, .lost], "the kept unit is still held")
        let lost = try backend.query { try $0.results(run: run, device: "r3") }
        try expect(lost.count == 1 && lost[0].output.contains("engine #7 released it") && lost[0].engineId == 7,
                   "the lost unit's result names why and whose it was: \(lost)")
        try expect(try backend.writeUnitJournal(JournalBatch(), lease: claimed[0].lease!), "the kept unit's lease holds")
    }

    /// Several units' journals of two runs in one call (an engine's flush of every unit it works on):
    /// a stale lease is refused alone (nothing of it written), the others are written, each run's
    /// lines numbered densely in the order given; a unit with nothing to write is only checked.
    public static func unitJournalsAreWrittenTogetherEachThroughItsLease(_ backend: any StoreBackend) throws {
        let (run1, units1) = try runningRun(backend) { d, s in
            ["r1", "r2", "r3"].map { RunUnitSpec(serviceId: s.id!, serviceName: "show", deviceId: d[$0], deviceName: $0, mutating: false, maxProcesses: 0) }
        }
        let run2 = try backend.transaction { tx in try tx.enqueueRun(service: "show", trigger: .cli, user: "ann", devices: ["r1", "r2"]).id! }
        try expect(try backend.claimQueuedRuns(limit: 1, enginePid: 4242, at: Date()).map(\.id) == [run2], "the second run runs")
        _ = try backend.enqueueUnits(run: run2, units1.prefix(2).map {
            RunUnitSpec(serviceId: $0.serviceId, serviceName: "show", deviceId: $0.deviceId, deviceName: $0.deviceName, mutating: false, maxProcesses: 0)
        }, lines: [RunLogLine(runId: run2, seq: 0, time: Date(), level: .info, device: "", service: "", message: "run started")])
        let claimed = try backend.claimUnits(engine: claimant(1), limit: 10, leaseSeconds: 30)
        let a = claimed.filter { $0.runId == run1 }, b = claimed.filter { $0.runId == run2 }
        try expect(a.count == 3 && b.count == 2, "engine 1 holds the five units: \(claimed)")
        try expect(try backend.writeUnitJournals([]).isEmpty, "nothing to write")

        let stale = UnitLease(unitId: a[1].id, engineId: 1, epoch: 2)
        let refused = try backend.writeUnitJournals([
            (a[0].lease!, JournalBatch(lines: [line(a[0], "a0 one"), line(a[0], "a0 two")])),
            (stale, JournalBatch(lines: [line(a[1], "stale")])),
            (b[0].lease!, JournalBatch(lines: [line(b[0], "b0 one")])),
            (a[2].lease!, JournalBatch(lines: [line(a[2], "a2 one")])),
            (b[1].lease!, JournalBatch(lines: [line(b[1], "b1 one"), line(b[1], "b1 two")])),
        ])
        try expect(refused == [a[1].id], "the stale lease alone refused: \(refused)")
        try expect(try backend.writeUnitJournals([(a[1].lease!, JournalBatch()), (a[0].lease!, JournalBatch(lines: [line(a[0], "a0 three")]))]).isEmpty,
                   "the real lease holds, with or without lines")
        let (lines1, lines2) = try backend.query { q in
            (try q.logLines(run: run1, after: 0, device: nil, limit: 100), try q.logLines(run: run2, after: 0, device: nil, limit: 100))
        }
        try expect(lines1.map(\.message) == ["run started", "a0 one", "a0 two", "a2 one", "a0 three"], "run 1's lines, nothing stale: \(lines1.map(\.message))")
        try expect(lines2.map(\.message) == ["run started", "b0 one", "b1 one", "b1 two"], "run 2's lines: \(lines2.map(\.message))")
        try expect(lines1.map(\.seq) == Array(1...5) && lines2.map(\.seq) == Array(1...4),
                   "dense per run: \(lines1.map(\.seq)) \(lines2.map(\.seq))")
        let f = try backend.finishUnit(a[1].lease!, success: true, batch: JournalBatch(lines: [line(a[1], "a1 done")], results: [result(a[1])]))
        try expect(f.accepted, "the unit refused under a stale lease is still its holder's")
        try expect(try backend.query { try $0.logLines(run: run1, after: 5, device: nil, limit: 10) }.map(\.seq) == [6], "numbered on after the batch")
    }

    /// A retried unit's results count its earlier claims whichever write carries them (flushed
    /// early through `writeUnitJournal` or written at its end), and name the engine of the lease;
    /// a whole run's results name the run's engine.
    public static func resultsCountEarlierClaimsAndNameTheirEngine(_ backend: any StoreBackend) throws {
        let (run, units) = try runningRun(backend) { d, s in
            ["r1", "r2"].map { RunUnitSpec(serviceId: s.id!, serviceName: "show", deviceId: d[$0], deviceName: $0, mutating: false, maxProcesses: 0) }
        }
        let first = try backend.claimUnits(engine: claimant(7), limit: 2, leaseSeconds: 0.5)
        try expect(first.count == 2, "engine 7 holds both")
        usleep(800_000)
        try expect(try backend.recoverExpiredUnits { _ in "lost" }.requeued.count == 2, "both requeued")
        let retry = try backend.claimUnits(engine: claimant(8), limit: 2, leaseSeconds: 30)
        try expect(retry.map(\.attempts) == [2, 2], "second claims: \(retry)")
        // r1's result flushed before its end, r2's written with its end: both counted alike.
        try expect(try backend.writeUnitJournal(JournalBatch(results: [result(retry[0])]), lease: retry[0].lease!), "flushed")
        try expect(try backend.finishUnit(retry[0].lease!, success: true, batch: JournalBatch()).accepted, "r1 ended")
        try expect(try backend.finishUnit(retry[1].lease!, success: true, batch: JournalBatch(results: [result(retry[1])])).accepted, "r2 ended")
        let results = try backend.query { try $0.results(run: run, device: nil) }
        try expect(results.map(\.attempts) == [2, 2], "the earlier claim counted on both paths: \(results.map(\.attempts))")
        try expect(results.allSatisfy { $0.engineId == 8 }, "the engine of the lease: \(results.map(\.engineId))")
        try expect(RunResult.spanEngines(results) == false && results[0].engine == "#8", "one engine: \(results.map(\.engine))")

        // A whole run: its results are its engine's (the run's claim names it).
        let whole = try backend.transaction { tx in try tx.enqueueRun(service: "show", trigger: .cli, user: "ann", devices: ["r1"]).id! }
        let claimedRun = try backend.claimQueuedRuns(limit: 5, engine: EngineClaimant(pid: 77, host: "host-w", id: 5), at: Date())
        try expect(claimedRun.map(\.id) == [whole], "claimed the whole run")
        try backend.writeJournal(JournalBatch(results: [RunResult(runId: whole, serviceId: units[0].serviceId, serviceName: "show",
                                                                  deviceId: units[0].deviceId, deviceName: "r1", success: true, output: "ok",
                                                                  durationMs: 1, attempts: 1)]))
        let wholeResults = try backend.query { try $0.results(run: whole, device: nil) }
        try expect(wholeResults.map(\.engineHost) == ["host-w"] && wholeResults.map(\.engineId) == [5], "the run's engine: \(wholeResults)")
        let mixed = results + wholeResults
        try expect(RunResult.spanEngines(mixed) && mixed.map(\.engine).last == "#5 host-w", "two engines: \(mixed.map(\.engine))")
    }
}

extension StoreBackendConformance {
    /// An engine leaves (SIGTERM, stopped at once, grace time over): a run's queued units that another
    /// active engine could take stay queued for it; a draining engine, or one whose region holds none
    /// of them, does not count. Otherwise they end `interrupted` with the leaving engine's reason and
    /// a line in the run's log, and the run ends `interrupted` (once its last unit in flight ends), as
    /// a whole run does when its one engine shuts down: progress counts what ran. SQLite's one engine
    /// is always the last.
    public static func anEngineLeavingInterruptsTheUnitsNoOtherEngineCanTake(_ backend: any StoreBackend) throws {
        let (run, units) = try runningRun(backend) { d, s in
            ["r1", "r2", "r3"].map { RunUnitSpec(serviceId: s.id!, serviceName: "show", deviceId: d[$0], deviceName: $0, mutating: false, maxProcesses: 0) }
        }
        let thresholds = EngineThresholds(active: 15, drop: 120)
        let registers = backend.capabilities.contains(.severalEngines)
        let leaving = try regionEngine(backend, 91, pools: [])
        defer { leaving.lock?.release() }
        let claimed = try backend.claimUnits(engine: claimant(leaving.id), limit: 1, leaseSeconds: 30)
        try expect(claimed.map(\.id) == [units[0].id], "one unit in flight")
        let reason: (Int, Int) -> String = { "the engine #\(leaving.id) shut down before \($0) of \($1) devices ran" }
        if registers {
            let other = try regionEngine(backend, 92, pools: [])
            defer { other.lock?.release() }
            try backend.markEngineDraining(engineId: leaving.id)
            let listed = try backend.engines(thresholds)
            try expect(listed.first { $0.id == leaving.id }.map { $0.draining && $0.serves == "nothing more (draining)" } == true
                       && listed.first { $0.id == other.id }?.draining == false, "`engines` shows which one drains: \(listed)")
            try expect(try backend.leaveUnits(engineId: leaving.id, thresholds: thresholds, reason: reason) == LeftUnits(),
                       "another active engine could take them: they stay queued")
            try expect(try backend.units(run: run).map(\.status) == [.claimed, .queued, .queued], "still queued")
            // An engine whose region holds none of the run's devices could not take them.
            let edge = try regionEngine(backend, 93, pools: ["edge"])
            defer { edge.lock?.release() }
            try backend.recordEngineRegion(engineId: edge.id, pools: ["edge"], filter: "", devices: [])
            try backend.markEngineDraining(engineId: other.id)
            try expect(try backend.unservedUnits(thresholds).devices.map(\.deviceName) == ["r2", "r3"],
                       "a draining engine serves nothing: the queued units wait")
        }
        let left = try backend.leaveUnits(engineId: leaving.id, thresholds: thresholds, reason: reason)
        try expect(left == LeftUnits(interrupted: [run: 2], endedRuns: [:]), "the queued units interrupted, the run not ended yet: \(left)")
        try expect(try backend.units(run: run).map(\.status) == [.claimed, .interrupted, .interrupted], "interrupted, never claimed")
        try expect(try backend.claimUnits(engine: claimant(leaving.id), limit: 5, leaseSeconds: 30).isEmpty, "nothing left to claim")
        try expect(try backend.leaveUnits(engineId: leaving.id, thresholds: thresholds, reason: reason) == LeftUnits(), "left once")
        let end = try backend.finishUnit(claimed[0].lease!, success: true, batch: JournalBatch(results: [result(claimed[0])]))
        try expect(end == UnitFinish(accepted: true, runEnded: .interrupted), "its last unit in flight ends it interrupted: \(end)")
        let (r, lines) = try backend.query { q in (try q.run(id: run)!, try q.logLines(run: run, after: 0, device: nil, limit: 100)) }
        try expect(r.status == .interrupted && r.reason == "the engine #\(leaving.id) shut down before 2 of 3 devices ran"
                   && r.progressDone == 1 && r.progressTotal == 3 && r.progressFailed == 0 && r.endedAt != nil, "the run's end: \(r)")
        let messages = lines.map(\.message)
        try expect(messages.contains("interrupted: the engine #\(leaving.id) shut down before 2 of 3 devices ran")
                   && messages.last?.hasPrefix("run \(run) interrupted in ") == true && messages.last?.hasSuffix(" s: 1/3 done, 0 failed") == true,
                   "its lines say why and how it ended, as a whole run's do: \(messages)")
        try expect(lines.map(\.seq) == Array(1...Int64(lines.count)), "gap-free: \(lines.map(\.seq))")

        // Nothing in flight: the leave ends the run at once.
        let (second, _) = try runningRun(backend) { d, s in
            [RunUnitSpec(serviceId: s.id!, serviceName: "show", deviceId: d["r1"], deviceName: "r1", mutating: false, maxProcesses: 0)]
        }
        let now = try backend.leaveUnits(engineId: leaving.id, thresholds: thresholds, reason: reason)
        try expect(now == LeftUnits(interrupted: [second: 1], endedRuns: [second: .interrupted]), "ended at once: \(now)")
    }
}
