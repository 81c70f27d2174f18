import Foundation
import GRDB
import XCTest
@testable import Store

/// The reads behind the console's Describe (`d`) and Xray (`x`) views, and the credential rule's
/// reasons, against a real SQLite file.
final class ConsoleDetailsTests: XCTestCase {
    /// Two Paris devices and a London one, pools, credentials, links, services and tasks.
    func network() throws -> TempStore {
        let t = try TempStore()
        _ = try t.device("par-1", platform: "arista_eos", location: "Paris")
        _ = try t.device("par-2", location: "Paris")
        _ = try t.device("lon-1", location: "London")
        _ = try t.pool("paris", [PoolCriterion(property: "location", value: "Paris", match: .equality)])
        _ = try t.pool("eos", [PoolCriterion(property: "platform", value: "arista_eos", match: .equality)])
        _ = try t.pool("hand", [], manual: ["par-1", "lon-1"])
        try t.database.writer.write { db in
            try Inventory.upsert(db, credential: Credential(name: "everyone", username: "ops", secret: try t.secrets.seal("pw-everyone"), priority: 1))
            try Inventory.upsert(db, credential: Credential(name: "paris-b", username: "admin", secret: try t.secrets.seal("pw-b"),
                                                            enableSecret: try t.secrets.seal("en-b"), priority: 50, pools: ["paris"]))
            try Inventory.upsert(db, credential: Credential(name: "paris-a", username: "admin", secret: try t.secrets.seal("pw-a"), priority: 50, pools: ["paris"]))
            try Inventory.upsert(db, credential: Credential(name: "eos-ro", username: "ro", secret: try t.secrets.seal("pw-ro"), role: .readOnly,
                                                            priority: 90, pools: ["eos"]))
            try Inventory.upsertLink(db, name: "par-1:par-2", source: "par-1", destination: "par-2", description: "uplink")
            try Inventory.upsertLink(db, name: "lon-1:par-1", source: "lon-1", destination: "par-1")
            var show = Service(name: "show version", kind: .cli, parameters: ["commands": .array([.string("show version"), .string("show clock")])],
                               devices: ["par-2"])
            show.targetFilter = "platform=arista_eos"
            try Inventory.upsert(db, service: show)
            var push = Service(name: "push ntp", kind: .config, parameters: ["lines": .array([.string("ntp server 10.0.0.1")])], pools: ["paris"])
            push.credential = "everyone"
            try Inventory.upsert(db, service: push)
            try Inventory.upsert(db, service: Service(name: "london only", kind: .cli, devices: ["lon-1"]))
            let sid = try Inventory.service(db, named: "show version")!.id
            var own = ScheduledTask(name: "poll", serviceId: sid, scheduleKind: .interval)
            own.intervalSeconds = 300
            own.active = true
            own.nextFire = Date(timeIntervalSince1970: 1_800_000_000)
            try Inventory.upsert(db, task: own)
            var pooled = ScheduledTask(name: "nightly", serviceId: sid, scheduleKind: .cron)
            pooled.cron = "30 2 * * *"
            pooled.pools = ["hand"]
            try Inventory.upsert(db, task: pooled)
        }
        return t
    }

    func testCredentialChoiceIsTheEngineRuleWithItsReason() throws {
        let t = try network()
        try t.database.writer.read { db in
            for name in ["par-1", "par-2", "lon-1"] {
                let device = try Inventory.device(db, named: name)!
                let choice = try Inventory.credentialChoice(db, for: device)
                // The same answer as the function the engine calls.
                XCTAssertEqual(choice.credential?.name, try Inventory.credential(db, for: device)?.name)
                for role in Credential.Role.allCases {
                    XCTAssertEqual(try Inventory.credentialChoice(db, for: device, role: role).credential?.name,
                                   try Inventory.credential(db, for: device, role: role)?.name)
                }
            }
            let par1 = try Inventory.credentialChoice(db, for: try Inventory.device(db, named: "par-1")!)
            XCTAssertEqual(par1.credential?.name, "eos-ro")
            XCTAssertTrue(par1.reason.contains("priority 90"), par1.reason)
            XCTAssertTrue(par1.reason.contains("pool eos holds the device"), par1.reason)
            XCTAssertEqual(par1.candidates.map(\.name), ["eos-ro", "paris-a", "paris-b", "everyone"])
            // A tie at the same priority goes to the first name, and the reason says so.
            let par2 = try Inventory.credentialChoice(db, for: try Inventory.device(db, named: "par-2")!)
            XCTAssertEqual(par2.credential?.name, "paris-a")
            XCTAssertTrue(par2.reason.contains("tied with paris-b"), par2.reason)
            XCTAssertEqual(par2.candidates.first { $0.name == "eos-ro" }?.applies, false)
            XCTAssertTrue(par2.candidates.first { $0.name == "eos-ro" }!.why.contains("none of its pools (eos)"))
            let readWrite = try Inventory.credentialChoice(db, for: try Inventory.device(db, named: "par-1")!, role: .readWrite)
            XCTAssertEqual(readWrite.credential?.name, "paris-a")
            XCTAssertTrue(readWrite.candidates.first!.why.contains("role read-only"))
            let london = try Inventory.credentialChoice(db, for: try Inventory.device(db, named: "lon-1")!)
            XCTAssertEqual(london.credential?.name, "everyone")
            XCTAssertTrue(london.reason.contains("the only credential that applies"), london.reason)
            XCTAssertTrue(london.reason.contains("no pools"), london.reason)
        }
        try t.database.writer.write { db in try db.execute(sql: "DELETE FROM credential WHERE name = 'everyone'") }
        try t.database.writer.read { db in
            let none = try Inventory.credentialChoice(db, for: try Inventory.device(db, named: "lon-1")!)
            XCTAssertNil(none.credential)
            XCTAssertTrue(none.reason.contains("none of the 3 credentials applies to lon-1"), none.reason)
        }
    }

    func testDeviceXrayGathersWhatRelatesToTheDevice() throws {
        let t = try network()
        let run = try t.database.writer.write { db -> Int64 in
            let sid = try Inventory.service(db, named: "show version")!.id!
            var r = Run(serviceId: sid, serviceName: "show version", trigger: .cli, user: "alice")
            r.status = .failed
            try r.insert(db)
            let did = try Inventory.device(db, named: "par-1")!.id
            var ok = RunResult(runId: r.id!, serviceId: sid, serviceName: "show version", deviceId: did, deviceName: "par-1",
                               success: true, output: "secret-output", durationMs: 1500, attempts: 1)
            try ok.insert(db)
            var other = RunResult(runId: r.id!, serviceId: sid, serviceName: "show version", deviceId: nil, deviceName: "par-2",
                                  success: false, output: "", durationMs: 10, attempts: 1)
            try other.insert(db)
            var snap = ConfigSnapshot(deviceId: did!, runId: r.id, sha256: "abc", content: "hostname par-1\n")
            try snap.insert(db)
            var s = SessionRecord(deviceId: did, deviceName: "par-1", user: "alice")
            s.endReason = "closed"
            try s.insert(db)
            return r.id!
        }
        let x = try ConsoleStore(database: t.database).deviceXray("par-1")
        XCTAssertEqual(x.pools.map(\.name), ["eos", "hand", "paris"])
        XCTAssertEqual(x.pools.first { $0.name == "hand" }?.manual, true)
        XCTAssertEqual(x.pools.first { $0.name == "paris" }?.manual, false)
        XCTAssertEqual(x.pools.first { $0.name == "paris" }?.size, 2)
        XCTAssertEqual(x.links.map(\.neighbour), ["lon-1", "par-2"])
        XCTAssertEqual(x.links.first { $0.neighbour == "par-2" }?.outgoing, true)
        XCTAssertEqual(x.links.first { $0.neighbour == "lon-1" }?.outgoing, false)
        XCTAssertEqual(x.credential.credential?.name, "eos-ro")
        XCTAssertTrue(x.credential.reason.contains("priority 90"))
        XCTAssertEqual(x.services.map(\.name), ["push ntp", "show version"])
        XCTAssertEqual(x.services.first { $0.name == "show version" }?.how, ["filter 'platform=arista_eos'"])
        XCTAssertEqual(x.services.first { $0.name == "push ntp" }?.how, ["pool paris"])
        XCTAssertTrue(x.services.first { $0.name == "push ntp" }!.note.contains("credential everyone"))
        XCTAssertEqual(x.tasks.map(\.name), ["nightly", "poll"])
        XCTAssertEqual(x.tasks.first { $0.name == "nightly" }?.how, ["pool hand"])
        XCTAssertEqual(x.tasks.first { $0.name == "poll" }?.how, ["service's targets: filter 'platform=arista_eos'"])
        XCTAssertEqual(x.results.map(\.runId), [run])
        XCTAssertEqual(x.results.first?.runStatus, "failed")
        XCTAssertEqual(x.snapshots.count, 1)
        XCTAssertEqual(x.sessions.count, 1)
        // par-2 is reached by the device list, not by the filter; lon-1 by no pool of "push ntp".
        let par2 = try ConsoleStore(database: t.database).deviceXray("par-2")
        XCTAssertEqual(par2.services.first { $0.name == "show version" }?.how, ["device list"])
        let lon = try ConsoleStore(database: t.database).deviceXray("lon-1")
        XCTAssertEqual(lon.services.map(\.name), ["london only"])
        XCTAssertEqual(lon.tasks.map(\.name), ["nightly"])
        XCTAssertThrowsError(try ConsoleStore(database: t.database).deviceXray("nope"))
    }

    func testDescribeReadsServiceCredentialPoolAndTask() throws {
        let t = try network()
        let store = ConsoleStore(database: t.database)
        let s = try store.serviceDetail("show version")
        XCTAssertEqual(s.targets, ["par-1", "par-2"])
        XCTAssertEqual(s.tasks, ["nightly", "poll"])
        XCTAssertNil(s.targetsError)
        XCTAssertTrue(s.needsDevices)
        try t.database.writer.write { db in
            try Inventory.upsert(db, service: Service(name: "broken", kind: .cli, pools: ["paris"]))
            // The pool is gone since (the store keeps names): the targets no longer resolve.
            try db.execute(sql: "UPDATE service SET pools = '[\"gone\"]' WHERE name = 'broken'")
        }
        XCTAssertTrue(try store.serviceDetail("broken").targetsError?.contains("gone") ?? false)

        let c = try store.credentialDetail("paris-b")
        XCTAssertEqual(c.credential.username, "admin")
        XCTAssertTrue(c.credential.hasSecret)
        XCTAssertTrue(c.credential.hasEnableSecret)
        XCTAssertEqual(c.pools.map(\.name), ["paris"])
        XCTAssertEqual(c.pools.first?.size, 2)
        XCTAssertEqual(try store.credentialDetail("everyone").services, ["push ntp"])
        // The summary has no field that could hold a secret, sealed or open.
        let mirror = Mirror(reflecting: c.credential).children.map { "\($0.value)" }.joined(separator: " ")
        XCTAssertFalse(mirror.contains("sb1:"), mirror)
        XCTAssertFalse(mirror.contains("pw-b"))

        let p = try store.poolDetail("hand")
        XCTAssertEqual(p.manual, ["lon-1", "par-1"])
        XCTAssertEqual(p.members, ["lon-1", "par-1"])
        XCTAssertEqual(p.pool.memberCount, 2)
        XCTAssertEqual(p.tasks, ["nightly"])
        let paris = try store.poolDetail("paris", members: 1)
        XCTAssertEqual(paris.members.count, 1)
        XCTAssertEqual(paris.pool.memberCount, 2)
        XCTAssertEqual(paris.credentials, ["paris-a", "paris-b"])
        XCTAssertEqual(paris.services, ["push ntp"])

        let runs = try t.database.writer.write { db -> [Int64] in
            let task = try ScheduledTask.fetchOne(db, sql: "SELECT * FROM task WHERE name = 'poll'")!
            return try (0..<7).map { i in
                var r = Run(serviceId: task.serviceId!, serviceName: "show version", trigger: .scheduler, user: "engine")
                r.taskId = i == 3 ? nil : task.id
                r.status = .completed
                try r.insert(db)
                return r.id!
            }
        }
        let task = try store.taskDetail("poll")
        XCTAssertEqual(task.serviceName, "show version")
        XCTAssertEqual(task.lastRuns.map(\.id), Array(runs.filter { $0 != runs[3] }.reversed().prefix(5)))
        XCTAssertThrowsError(try store.taskDetail("nope"))
    }
}
