import Crypto
import Foundation
import Store
import StorePostgres
import PostgresTestSupport
import XCTest

/// An import writes new records in batches (one INSERT per 1,000 on PostgreSQL); a batch that fails
/// is replayed record by record, so the error names the record a record-by-record import names, in
/// file order, and nothing of the import stays.
final class PostgresImportTests: XCTestCase {
    let secrets = SecretBox(key: SymmetricKey(data: Data(repeating: 7, count: 32)))

    func backend() throws -> PostgresBackend {
        let server = try PostgresTestServer.require()
        return try PostgresBackend(url: try PostgresURL(parsing: server.socketURL(try server.createDatabase()), source: "test"), environment: [:])
    }

    func devices(_ n: Int, _ change: (Int, inout Device) -> Void = { _, _ in }) -> InventoryDocument {
        var doc = InventoryDocument()
        for i in 1...n {
            var d = Device(name: "dev-\(i)", address: "10.0.\(i / 256).\(i % 256)")
            change(i, &d)
            doc.devices.append(.init(d, at: SourceLocation(file: "devices.json", line: i)))
        }
        return doc
    }

    /// PostgreSQL refuses a NUL character in text (SQLite stores it): the failing INSERT is the
    /// batch's, the error is the record's.
    func testAServerErrorInABatchNamesItsRecordAndRollsEverythingBack() throws {
        let db = try backend()
        let doc = devices(2_500) { i, d in if i == 1_700 { d.description = "nul \u{0} here" } }
        do {
            try db.importInventory(doc, secrets: secrets)
            XCTFail("imported a NUL character")
        } catch let e as StoreError {
            XCTAssertEqual(e.kind, .importFile)
            XCTAssertTrue(e.message.hasPrefix("devices.json:1700: "), e.message)
        }
        XCTAssertEqual(try db.query { try $0.deviceNames().count }, 0, "nothing of the import stays")
    }

    /// A record failing its checks after a record the server will refuse: the earlier one is named.
    func testErrorsComeInFileOrder() throws {
        let db = try backend()
        var doc = devices(300) { i, d in
            if i == 100 { d.location = "\u{0}" }
            if i == 200 { d.port = 0 }
        }
        doc.services.append(.init(Service(name: "s1", kind: .wait, parameters: ["seconds": .int(0)]), at: SourceLocation(file: "services.json", line: 1)))
        do {
            try db.importInventory(doc, secrets: secrets)
            XCTFail("imported")
        } catch let e as StoreError {
            XCTAssertTrue(e.message.hasPrefix("devices.json:100: "), e.message)
        }
        // Without the server's refusal, the check's error.
        doc = devices(300) { i, d in if i == 200 { d.port = 0 } }
        do {
            try db.importInventory(doc, secrets: secrets)
            XCTFail("imported port 0")
        } catch let e as StoreError {
            XCTAssertTrue(e.message.hasPrefix("devices.json:200: ") && e.message.contains("port 0"), e.message)
        }
        XCTAssertEqual(try db.query { try $0.deviceNames().count }, 0)
    }

    /// Records named twice in one import, new and existing records mixed in a batch: as one by one.
    func testRepeatedNamesAndMixedBatchesLandAsOneByOne() throws {
        let db = try backend()
        var first = devices(3)
        first.services.append(.init(Service(name: "old", kind: .wait, parameters: ["seconds": .int(0)]), at: SourceLocation(file: "s", line: 1)))
        first.tasks.append(.init(ScheduledTask(name: "t-old", serviceId: nil, scheduleKind: .interval), service: "old", at: SourceLocation(file: "t", line: 1)))
        try db.importInventory(first, secrets: secrets)

        var doc = devices(5) { i, d in d.vendor = "v\(i)" }
        var wait = Service(name: "again", kind: .wait, parameters: ["seconds": .int(0)])
        doc.services.append(.init(wait, at: SourceLocation(file: "s", line: 1)))
        wait.description = "second"
        doc.services.append(.init(wait, at: SourceLocation(file: "s", line: 2)))
        doc.services.append(.init(Service(name: "old", kind: .wait, description: "changed", parameters: ["seconds": .int(0)]), at: SourceLocation(file: "s", line: 3)))
        var workflow = Service(name: "wf", kind: .workflow)
        workflow.traversal = "device"
        doc.services.append(.init(workflow, members: ["again", "old", "again"], start: "old", at: SourceLocation(file: "s", line: 4)))
        doc.services.append(.init(workflow, members: ["again"], start: "again", at: SourceLocation(file: "s", line: 5)))
        doc.edges.append(.init(name: "e1", workflow: "wf", source: "again", destination: "old", subtype: .success, at: SourceLocation(file: "e", line: 1)))
        var task = ScheduledTask(name: "t-new", serviceId: nil, scheduleKind: .interval)
        doc.tasks.append(.init(task, service: "again", at: SourceLocation(file: "t", line: 1)))
        task.description = "second"
        doc.tasks.append(.init(task, service: "old", at: SourceLocation(file: "t", line: 2)))
        doc.pools.append(.init(Pool(name: "p", criteria: [PoolCriterion(property: "vendor", value: "v[12]", match: .regex)]),
                               manualDevices: nil, at: SourceLocation(file: "p", line: 1)))
        doc.pools.append(.init(Pool(name: "p", criteria: [PoolCriterion(property: "vendor", value: "v[1-3]", match: .regex)]),
                               manualDevices: ["dev-5"], at: SourceLocation(file: "p", line: 2)))
        let report = try db.importInventory(doc, secrets: secrets)
        XCTAssertEqual(report.created["device"], 2)
        XCTAssertEqual(report.updated["device"], 3)
        XCTAssertEqual(report.created["service"], 1)
        XCTAssertEqual(report.updated["service"], 2)
        XCTAssertEqual(report.created["workflow"], 1)
        XCTAssertEqual(report.updated["workflow"], 1)
        XCTAssertEqual(report.created["task"], 1)
        XCTAssertEqual(report.updated["task"], 1)
        XCTAssertEqual(report.created["pool"], 1)
        XCTAssertEqual(report.updated["pool"], 1)
        try db.query { r in
            XCTAssertEqual(try r.device(named: "dev-2")?.vendor, "v2")
            XCTAssertEqual(try r.device(named: "dev-5")?.vendor, "v5")
            XCTAssertEqual(try r.service(named: "again")?.description, "second")
            XCTAssertEqual(try r.service(named: "old")?.description, "changed")
            let wf = try XCTUnwrap(try r.service(named: "wf")?.id)
            let names = try r.serviceNames()
            let nodes = try r.workflowNodes(workflowId: wf)
            XCTAssertEqual(nodes.map { names[$0.serviceId]! }, ["again", "old"])
            XCTAssertEqual(nodes.filter(\.isStart).map { names[$0.serviceId]! }, ["again"], "the last start wins")
            let t = try XCTUnwrap(try r.task(named: "t-new"))
            XCTAssertEqual(t.description, "second")
            XCTAssertEqual(t.serviceId, try r.service(named: "old")?.id)
            XCTAssertEqual(try r.pool(named: "p")?.memberCount, 4, "v1, v2, v3 and dev-5")
            XCTAssertEqual(try r.poolDeviceNames(named: "p"), ["dev-1", "dev-2", "dev-3", "dev-5"])
        }
    }
}
