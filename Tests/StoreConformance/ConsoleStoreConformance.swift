import Foundation
import Store

/// The console's data layer (`ConsoleStore`, `DeviceTable`) against any backend: the same checks run
/// against SQLite (`ConsoleStoreSQLiteTests` in StoreTests) and PostgreSQL
/// (`ConsoleStorePostgresTests` in StorePostgresTests). Each takes a fresh, empty backend.
public enum ConsoleStoreConformance {
    static func expect(_ ok: Bool, _ what: @autoclosure () -> String, line: UInt = #line) throws {
        try StoreBackendConformance.expect(ok, what(), line: line)
    }

    /// Dates as the table shows them here: whole seconds since the epoch (a backend that lost or
    /// shifted a time would show another number).
    static func epoch(_ d: Date) -> String { String(Int(d.timeIntervalSince1970.rounded(.down))) }

    /// Three devices, one with custom properties, a criteria pool and a manual pool.
    static func seedInventory(_ backend: any StoreBackend, at time: Date) throws {
        try backend.transaction { tx in
            try tx.upsert(device: Device(name: "par-2", address: "192.0.2.2", port: 2222, platform: "cisco_ios"))
            var d = Device(name: "par-1", address: "192.0.2.1", platform: "juniper_junos")
            d.properties = ["site": .string("paris"), "rack": .int(4)]
            try tx.upsert(device: d)
            try tx.upsert(device: Device(name: "lon-1", address: "192.0.2.3"))
            try tx.setReachability(device: "par-1", reachable: true, at: time)
            try tx.setReachability(device: "lon-1", reachable: false, at: time)
            try tx.setBackupStatus(device: "par-2", success: false, at: time)
            try tx.upsert(pool: Pool(name: "paris", criteria: [PoolCriterion(property: "name", value: "par-", match: .inclusion)]))
            try tx.upsert(pool: Pool(name: "hand", criteria: []), manualDevices: ["lon-1"])
        }
    }

    /// Every device by name as text values, custom properties as trailing fields; a pool's members only.
    public static func theDeviceTableReadsEveryDeviceAsText(_ backend: any StoreBackend) throws {
        let time = Date(timeIntervalSince1970: 1_765_000_000.25)
        try seedInventory(backend, at: time)
        let (fields, rows) = try DeviceTable.read(backend, pool: nil, properties: ["owner"], date: epoch) { id, values in (id, values) }
        try expect(fields == DeviceTable.fields + ["owner", "rack", "site"], "fields: \(fields)")
        try expect(rows.map(\.0) == ["lon-1", "par-1", "par-2"], "by name: \(rows.map(\.0))")
        func value(_ row: Int, _ field: String) -> String { rows[row].1[fields.firstIndex(of: field)!] }
        try expect(rows.allSatisfy { $0.1.count == fields.count }, "every row has every field")
        try expect(value(2, "port") == "2222" && value(2, "address") == "192.0.2.2" && value(2, "platform") == "cisco_ios", "par-2: \(rows[2].1)")
        try expect(value(1, "reachable") == "yes" && value(0, "reachable") == "no" && value(2, "reachable") == "", "reachability")
        try expect(value(1, "last_reachability_time") == "1765000000", "a date: \(value(1, "last_reachability_time"))")
        try expect(value(2, "last_backup_status") == "failure" && value(2, "last_backup_time") == "1765000000", "backup: \(rows[2].1)")
        try expect(value(0, "last_run_status") == "" && value(0, "last_run_time") == "", "never run: empty")
        try expect(value(1, "site") == "paris" && value(1, "rack") == "4" && value(2, "site") == "" && value(1, "owner") == "", "custom properties")
        try expect(Int64(value(0, "id")) != nil, "an id")

        let paris = try DeviceTable.read(backend, pool: "paris", properties: [], date: epoch) { id, _ in id }
        try expect(paris.rows == ["par-1", "par-2"], "the criteria pool: \(paris.rows)")
        let hand = try DeviceTable.read(backend, pool: "hand", properties: [], date: epoch) { id, _ in id }
        try expect(hand.rows == ["lon-1"], "the manual pool: \(hand.rows)")
        do {
            _ = try DeviceTable.read(backend, pool: "nope", properties: [], date: epoch) { id, _ in id }
            throw StoreBackendConformance.Failure(description: "an unknown pool was read")
        } catch let e as StoreError { try expect(e.kind == .notFound, "notFound: \(e)") }
        let empty = try DeviceTable.read(backend, pool: nil, properties: [], date: epoch) { id, _ in id }
        try expect(empty.rows.count == 3, "three devices")
    }

    /// Values come back as stored, control characters included (drawing them is the console's
    /// sanitiser's business, on either backend), custom properties too; names sort by their bytes.
    public static func theDeviceTableKeepsValuesAsStored(_ backend: any StoreBackend) throws {
        let odd = "rack\u{1e}4\u{1f}row\tB\nend \u{e9}"
        try backend.transaction { tx in
            var d = Device(name: "b-odd", address: "192.0.2.9")
            d.description = odd
            d.location = "\u{1f}"
            d.properties = ["note": .string("a\u{1e}b\u{1f}c")]
            try tx.upsert(device: d)
            try tx.upsert(device: Device(name: "B-upper", address: "192.0.2.10"))
            try tx.upsert(device: Device(name: "a-lower", address: "192.0.2.11"))
        }
        let (fields, rows) = try DeviceTable.read(backend, pool: nil, properties: [], date: epoch) { id, values in (id, values) }
        try expect(rows.map(\.0) == ["B-upper", "a-lower", "b-odd"], "byte order: \(rows.map(\.0))")
        try expect(rows.allSatisfy { $0.1.count == fields.count }, "every row has every field: \(rows.map(\.1.count))")
        func value(_ row: Int, _ field: String) -> String { rows[row].1[fields.firstIndex(of: field)!] }
        try expect(value(2, "description") == odd, "as stored: \(value(2, "description").debugDescription)")
        try expect(value(2, "location") == "\u{1f}" && value(2, "address") == "192.0.2.9", "\(rows[2].1)")
        try expect(value(2, "note") == "a\u{1e}b\u{1f}c" && value(0, "note") == "", "a custom property: \(value(2, "note").debugDescription)")
    }

    /// The table of an empty database is empty, with the built-in fields.
    public static func anEmptyDeviceTableHasTheBuiltInFields(_ backend: any StoreBackend) throws {
        let (fields, rows) = try DeviceTable.read(backend, pool: nil, properties: [], date: epoch) { id, _ in id }
        try expect(fields == DeviceTable.fields && rows.isEmpty, "\(fields) \(rows)")
    }

    /// The tail keeps the end and counts what it left out; the header counts queued and running runs.
    public static func theLogTailKeepsTheEndAndCountsWhatItSkips(_ backend: any StoreBackend) throws {
        _ = try StoreBackendConformance.seed(backend)
        let store = ConsoleStore(backend: backend)
        let run = try backend.transaction { tx in try tx.enqueueRun(service: "show", trigger: .cli, user: "ann") }
        _ = try backend.transaction { tx in try tx.enqueueRun(service: "show", trigger: .cli, user: "ann") }
        try expect(try store.activeRunCounts() == (running: 0, queued: 2), "two queued")
        _ = try backend.claimQueuedRuns(limit: 1, enginePid: 7, at: Date())
        try expect(try store.activeRunCounts() == (running: 1, queued: 1), "one running, one queued")
        let id = run.id!
        try backend.writeJournal(JournalBatch(lines: (1...10).map {
            RunLogLine(runId: id, seq: Int64($0), time: Date(), level: $0 == 5 ? .error : .info, device: "r1", service: "show", message: "line \($0)")
        }))
        let last = try store.runLogTail(id, after: nil, capacity: 4)
        try expect(last.run?.id == id && last.run?.status == .running, "the run")
        try expect(last.lines.map(\.seq) == [7, 8, 9, 10] && last.skipped == 6, "the last four: \(last.lines.map(\.seq)) skipped \(last.skipped)")
        try expect(last.lines.first?.message == "line 7" && last.lines.first?.device == "r1" && last.lines.first?.service == "show", "the line")
        let after = try store.runLogTail(id, after: 8, capacity: 4)
        try expect(after.lines.map(\.seq) == [9, 10] && after.skipped == 0, "after 8: \(after.lines.map(\.seq))")
        let behind = try store.runLogTail(id, after: 2, capacity: 3)
        try expect(behind.lines.map(\.seq) == [8, 9, 10] && behind.skipped == 5, "far behind: \(behind.lines.map(\.seq)) skipped \(behind.skipped)")
        let all = try store.runLogTail(id, after: nil, capacity: 100)
        try expect(all.lines.count == 10 && all.skipped == 0 && all.lines[4].level == .error, "all ten")
        let none = try store.runLogTail(9999, after: nil, capacity: 10)
        try expect(none.run == nil && none.lines.isEmpty, "no such run")
    }

    /// A session is stored open, completed, listed without its transcript and read back with it.
    public static func sessionsAreRecordedListedAndReadBack(_ backend: any StoreBackend) throws {
        _ = try StoreBackendConformance.seed(backend)
        let store = ConsoleStore(backend: backend)
        var r = SessionRecord(deviceId: nil, deviceName: "r1", user: "ann")
        r.startedAt = Date(timeIntervalSince1970: 1_765_000_000)
        r.width = 132; r.height = 43; r.endReason = "open"
        r.transcript = #"{"version": 2, "width": 132, "height": 43}"# + "\n"
        var stored = try store.insertSession(r)
        try expect(stored.id != nil && stored.deviceId == (try backend.query { try $0.device(named: "r1")?.id }), "an id and the device's id")
        stored.endedAt = Date(timeIntervalSince1970: 1_765_000_060)
        stored.bytesIn = 1234; stored.bytesOut = 56; stored.endReason = "closed"
        let bytes = "caf\u{e9} \u{1b}[1mbold\u{1b}[0m\r\n"
        stored.transcript += "[0.5, \"o\", \(String(decoding: try JSONEncoder().encode(bytes), as: UTF8.self))]\n"
        try store.updateSession(stored)
        var other = SessionRecord(deviceId: nil, deviceName: "r2", user: "bob")
        other.startedAt = Date(timeIntervalSince1970: 1_765_000_100)
        other = try store.insertSession(other)

        let list = try store.sessions()
        try expect(list.map(\.id) == [other.id!, stored.id!], "newest first: \(list.map(\.id))")
        let mine = try store.sessions(device: "r1")
        try expect(mine.count == 1 && mine[0].bytesIn == 1234 && mine[0].bytesOut == 56 && mine[0].width == 132 && mine[0].height == 43
                   && mine[0].endReason == "closed" && mine[0].user == "ann", "the summary: \(mine)")
        try expect(mine[0].endedAt.map(epoch) == "1765000060" && mine[0].startedAt.map(epoch) == "1765000000", "times")
        let t = try store.sessionTranscript(stored.id!)
        try expect(t.device == "r1" && t.user == "ann" && t.transcript == stored.transcript, "the transcript, byte for byte")
        try expect(try store.session(stored.id!) == stored, "the record back")
        do {
            _ = try store.sessionTranscript(9999)
            throw StoreBackendConformance.Failure(description: "a missing session was read")
        } catch let e as StoreError { try expect(e.kind == .notFound, "notFound") }
    }

    /// Results and snapshots are listed without their bodies; a version is read with the one before it.
    public static func summariesAndDocumentsRead(_ backend: any StoreBackend) throws {
        let service = try StoreBackendConformance.seed(backend)
        let store = ConsoleStore(backend: backend)
        let run = try backend.transaction { tx in try tx.enqueueRun(service: "show", trigger: .cli, user: "ann") }
        let r1 = try backend.query { try $0.device(named: "r1")! }
        try backend.writeJournal(JournalBatch(results: [
            RunResult(runId: run.id!, serviceId: service.id!, serviceName: "show", deviceId: r1.id, deviceName: "r1",
                      success: true, output: "clock is 12:00", durationMs: 40, attempts: 1),
            RunResult(runId: run.id!, serviceId: service.id!, serviceName: "show", deviceId: nil, deviceName: "r2",
                      success: false, output: "timeout", durationMs: 900, attempts: 3)]))
        let results = try store.results(run: run.id!)
        try expect(results.map(\.deviceName) == ["r2", "r1"] && results[0].attempts == 3 && !results[0].success
                   && results[1].durationMs == 40, "newest first: \(results)")
        try expect(try store.results(device: "r1").map(\.deviceName) == ["r1"], "of one device")
        try expect(try store.results().count == 2, "all")
        let output = try store.resultOutput(results[1].id)
        try expect(output.output == "clock is 12:00" && output.device == "r1" && output.service == "show", "the output")

        let first = try backend.transaction { tx in try tx.recordConfig(deviceId: r1.id!, runId: run.id, content: "hostname r1\n") }!
        Thread.sleep(forTimeInterval: 0.01)
        let second = try backend.transaction { tx in try tx.recordConfig(deviceId: r1.id!, runId: run.id, content: "hostname r1\nntp server 192.0.2.9 é\n") }!
        let snaps = try store.snapshots(device: "r1")
        try expect(snaps.map(\.id) == [second.id!, first.id!], "newest first: \(snaps.map(\.id))")
        try expect(snaps[0].size == "hostname r1\nntp server 192.0.2.9 é\n".utf8.count && snaps[0].deviceName == "r1"
                   && snaps[0].runId == run.id && snaps[0].sha256 == second.sha256, "size in bytes: \(snaps[0])")
        try expect(try store.snapshots().count == 2 && (try store.snapshots(device: "r2")).isEmpty, "all, and none of r2")
        let (v, previous) = try store.configVersionAndPrevious(second.id!)
        try expect(v.content == second.content && v.deviceName == "r1" && previous?.id == first.id && previous?.content == "hostname r1\n", "with the one before")
        try expect(try store.configVersionAndPrevious(first.id!).1 == nil, "the first has none before")
        try expect(try store.configVersion(first.id!).content == "hostname r1\n", "one version")
        let r2 = try backend.query { try $0.device(named: "r2")! }
        _ = try backend.transaction { tx in try tx.recordConfig(deviceId: r2.id!, runId: nil, content: "hostname r2\n") }
        let (a, b) = try store.latestConfigurations("r1", "r2")
        try expect(a.id == second.id && b.content == "hostname r2\n", "the latest of two devices")
        do {
            _ = try store.configVersion(9999)
            throw StoreBackendConformance.Failure(description: "a missing version was read")
        } catch let e as StoreError { try expect(e.kind == .notFound, "notFound") }
    }

    /// Describe and Xray: what relates to a record, without secrets.
    public static func detailsAndTheXrayGatherWhatRelates(_ backend: any StoreBackend) throws {
        let time = Date(timeIntervalSince1970: 1_765_000_000)
        try seedInventory(backend, at: time)
        let store = ConsoleStore(backend: backend)
        let service = try backend.transaction { tx -> Service in
            try tx.upsertLink(name: "par-1:par-2", source: "par-1", destination: "par-2", description: "uplink", properties: [:])
            // A sealed secret as SecretBox writes it (the console never opens it).
            try tx.upsert(credential: Credential(name: "paris-admin", username: "ann", secret: "sb1:c2VhbGVk", priority: 5, pools: ["paris"]))
            var s = Service(name: "backup", kind: .cli, parameters: ["commands": .array([.string("show run")])])
            s.pools = ["paris"]
            return try tx.upsert(service: s)
        }
        let run = try backend.transaction { tx in try tx.enqueueRun(service: "backup", trigger: .cli, user: "ann") }
        let par1 = try backend.query { try $0.device(named: "par-1")! }
        try backend.writeJournal(JournalBatch(results: [
            RunResult(runId: run.id!, serviceId: service.id!, serviceName: "backup", deviceId: par1.id, deviceName: "par-1",
                      success: true, output: "", durationMs: 12, attempts: 1)]))

        let sd = try store.serviceDetail("backup")
        try expect(sd.targets == ["par-1", "par-2"] && sd.lastRuns.map(\.id) == [run.id!] && sd.lastRuns[0].status == "queued", "service: \(sd.targets ?? [])")
        let cd = try store.credentialDetail("paris-admin")
        try expect(cd.credential.hasSecret && cd.pools.first?.size == 2 && cd.credential.priority == 5, "credential: \(cd.pools)")
        let pd = try store.poolDetail("paris")
        try expect(pd.members == ["par-1", "par-2"] && pd.credentials == ["paris-admin"] && pd.services == ["backup"], "pool: \(pd.members)")
        try expect(try store.poolDetail("hand").manual == ["lon-1"], "manual members")

        let x = try store.deviceXray("par-1")
        try expect(x.device.properties.isEmpty, "no custom properties in the Xray")
        try expect(x.pools.map(\.name) == ["paris"] && x.pools[0].size == 2 && !x.pools[0].manual, "pools: \(x.pools)")
        try expect(x.links.count == 1 && x.links[0].link == "par-1:par-2" && x.links[0].neighbour == "par-2" && x.links[0].outgoing
                   && x.links[0].description == "uplink", "links: \(x.links)")
        try expect(x.credential.credential?.name == "paris-admin", "the credential chosen")
        try expect(x.services.map(\.name) == ["backup"] && x.services[0].how == ["pool paris"], "services: \(x.services)")
        try expect(x.results.count == 1 && x.results[0].runStatus == "queued" && x.results[0].durationMs == 12, "results: \(x.results)")
        let lon = try store.deviceXray("lon-1")
        try expect(lon.pools.map(\.name) == ["hand"] && lon.pools[0].manual && lon.links.isEmpty && lon.services.isEmpty, "lon-1: \(lon.pools)")
        do {
            _ = try store.deviceXray("nope")
            throw StoreBackendConformance.Failure(description: "a missing device was read")
        } catch let e as StoreError { try expect(e.kind == .notFound, "notFound") }
    }

    /// The pulse's figures: devices by status and reachability, today's backups, queued and running runs.
    public static func thePulseAddsUpDevicesRunsAndBackups(_ backend: any StoreBackend) throws {
        let now = Date()
        let day = Calendar.current.startOfDay(for: now)
        try seedInventory(backend, at: now)
        _ = try backend.transaction { tx in
            try tx.upsert(service: Service(name: "show", kind: .cli, parameters: ["commands": .array([.string("show clock")])]))
        }
        let run = try backend.transaction { tx in try tx.enqueueRun(service: "show", trigger: .cli, user: "ann") }
        _ = try backend.transaction { tx in try tx.enqueueRun(service: "show", trigger: .cli, user: "ann") }
        _ = try backend.claimQueuedRuns(limit: 1, enginePid: 7, at: now)
        try backend.writeJournal(JournalBatch(lines: [RunLogLine(runId: run.id!, seq: 1, time: now, level: .info, device: "par-1",
                                                                 service: "show", message: RunLogLine.unitStarted)]))
        let p = try ConsoleStore(backend: backend).pulse(now: now, day: day)
        try expect(p.devices == 3 && p.reachable == 1 && p.unreachable == 1 && p.reachabilityUnknown == 1, "devices: \(p)")
        try expect(p.backedUp == 1 && p.backupsFailed == 1, "backups: \(p.backedUp) \(p.backupsFailed)")
        try expect(p.queued == 1 && p.running.map(\.id) == [run.id!] && p.running[0].inFlight == 1, "runs: \(p.running)")
        try expect(p.succeeded.count == 96 && p.succeeded.reduce(0, +) == 0, "no finished run")
        var finished = run
        finished.status = .completed
        finished.endedAt = now
        try backend.recordRunEnd(finished)
        let after = try ConsoleStore(backend: backend).pulse(now: now.addingTimeInterval(1), day: day)
        try expect(after.succeeded.last == 1 && after.failed.reduce(0, +) == 0 && after.running.isEmpty, "the finished run in the last bucket: \(after.succeeded.suffix(2))")
    }

    /// Deletes go whole or not at all; a deleted device leaves its pools.
    public static func deletesAreWholeAndPoolsFollow(_ backend: any StoreBackend) throws {
        try seedInventory(backend, at: Date())
        let store = ConsoleStore(backend: backend)
        do {
            try store.delete(.device, names: ["par-2", "nope"], noun: "device", user: "ann", note: "test")
            throw StoreBackendConformance.Failure(description: "a missing device was deleted")
        } catch let e as StoreError { try expect(e.kind == .notFound, "notFound: \(e)") }
        try expect(try backend.query { try $0.device(named: "par-2") } != nil, "nothing deleted")
        try store.delete(.device, names: ["par-2"], noun: "device", user: "ann", note: "test")
        try expect(try backend.query { try $0.pool(named: "paris")?.memberCount } == 1, "the pool lost a member")
        try expect(try backend.query { try $0.poolDeviceNames(named: "paris") } == ["par-1"], "its members")
        try store.delete(.pool, names: ["hand"], noun: "pool", user: "ann", note: "test")
        try expect(try backend.query { try $0.pool(named: "hand") } == nil, "the pool is gone")
        do {
            try store.delete(.credential, names: ["nope"], noun: "credential", user: "ann", note: "test")
            throw StoreBackendConformance.Failure(description: "a missing credential was deleted")
        } catch let e as StoreError { try expect(e.kind == .notFound && e.message.contains("no credential named 'nope'"), "\(e)") }
    }

    /// `:engines`: the engine serving the database while it does, with its pid and capacity; none
    /// once it has gone. SQLite lists its lock holder; PostgreSQL its registrations.
    public static func enginesAreListedWhileTheyServe(_ backend: any StoreBackend) throws {
        let store = ConsoleStore(backend: backend)
        let before = try store.engines()
        try expect(before.isEmpty, "no engine yet: \(before)")
        guard let lock = try backend.acquireEngineLock(EngineIdentity(capacity: 8)) else {
            throw StoreBackendConformance.Failure(description: "the engine lock was refused on an empty database")
        }
        let listed = try store.engines()
        try expect(listed.count == 1 && listed[0].pid == getpid() && listed[0].state == .active, "\(listed)")
        try expect(listed[0].host == EngineIdentity.thisHost, "\(listed)")
        lock.release()
        let after = try store.engines()
        try expect(after.isEmpty, "released: \(after)")
    }
}
