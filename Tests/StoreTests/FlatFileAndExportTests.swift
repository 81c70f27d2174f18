import Foundation
import GRDB
import XCTest
@testable import Store

final class FlatFileAndExportTests: XCTestCase {
    func testCSVDevicesAndLinks() throws {
        let t = try TempStore()
        let devices = try t.write("devices.csv", """
            name,address,port,platform,location,rack
            r1,192.0.2.1,22,cisco_ios,Paris,A1
            r2,192.0.2.2,2022,arista_eos,"Paris, Left Bank",
            """)
        let links = try t.write("links.csv", "name,source,destination,description\nr1-r2,r1,r2,\"uplink, 10G\"\n")
        let report = try t.importFiles([devices, links])
        XCTAssertEqual(report.created["device"], 2)
        try t.database.writer.read { db in
            let r2 = try Inventory.device(db, named: "r2")!
            XCTAssertEqual(r2.port, 2022)
            XCTAssertEqual(r2.location, "Paris, Left Bank")
            XCTAssertNil(r2.properties["rack"], "empty cells set nothing")
            XCTAssertEqual(try Inventory.device(db, named: "r1")!.properties["rack"], .string("A1"))
            XCTAssertEqual(try Inventory.links(db).first?.description, "uplink, 10G")
        }
    }

    func testBrokenCSVNamesTheLineAndImportsNothing() throws {
        let t = try TempStore()
        let good = try t.write("good.csv", "name,address\nr0,192.0.2.9\n")
        let bad = try t.write("bad.csv", "name,address,port\nr1,192.0.2.1,22\nr2,192.0.2.2,http\n")
        XCTAssertThrowsError(try t.importFiles([good, bad])) { error in
            XCTAssertTrue("\(error)".contains("bad.csv:3"), "\(error)")
            XCTAssertTrue("\(error)".contains("http"), "\(error)")
        }
        XCTAssertEqual(try t.database.writer.read { try Inventory.devices($0).count }, 0)
        let ragged = try t.write("ragged.csv", "name,address\nr1,192.0.2.1,extra\n")
        XCTAssertThrowsError(try t.importFiles([ragged])) { XCTAssertTrue("\($0)".contains("ragged.csv:2"), "\($0)") }
        let noName = try t.write("noname.csv", "host,address\nr1,192.0.2.1\n")
        XCTAssertThrowsError(try t.importFiles([noName])) { XCTAssertTrue("\($0)".contains("'name' column"), "\($0)") }
    }

    func testJSONDeviceListAndBrokenJSON() throws {
        let t = try TempStore()
        let list = try t.write("devices.json", #"[{"name": "r1", "ip_address": "192.0.2.1", "operating_system": "EOS", "rack": 4}]"#)
        try t.importFiles([list])
        try t.database.writer.read { db in
            let r1 = try Inventory.device(db, named: "r1")!
            XCTAssertEqual(r1.platform, "arista_eos")
            XCTAssertEqual(r1.properties["rack"], .int(4))
        }
        let broken = try t.write("broken.json", "{\n  \"devices\": [\n    {\"name\": \"x\" \"port\": 22}\n  ]\n}\n")
        XCTAssertThrowsError(try t.importFiles([broken])) { error in
            XCTAssertTrue("\(error)".contains("broken.json"), "\(error)")
            XCTAssertTrue("\(error)".contains("JSON syntax error"), "\(error)")
            XCTAssertTrue("\(error)".contains("broken.json:3"), "\(error)")
        }
        let badPort = try t.write("port.json", "{\"devices\": [\n {\"name\": \"a\"},\n {\"name\": \"b\", \"port\": 70000}\n]}")
        XCTAssertThrowsError(try t.importFiles([badPort])) { error in
            XCTAssertTrue("\(error)".contains("port.json:3"), "\(error)")
            XCTAssertTrue("\(error)".contains("70000"), "\(error)")
        }
    }

    func testExampleInventoryLoadsCompletely() throws {
        let t = try TempStore()
        let report = try t.importFiles([repositoryRoot + "/setup/examples/switchboard.json"])
        XCTAssertEqual(report.created["device"], 20)
        XCTAssertGreaterThanOrEqual(report.created["link"] ?? 0, 20)
        XCTAssertEqual(report.created["workflow"], 1)
        XCTAssertEqual(report.created["task"], 2)
        XCTAssertTrue(report.warnings.isEmpty, "\(report.warnings)")
        try t.database.writer.read { db in
            let platforms = Set(try Inventory.devices(db).map(\.platform))
            XCTAssertTrue(platforms.isSuperset(of: ["cisco_ios", "arista_eos", "juniper_junos"]))
            XCTAssertEqual(try Inventory.pool(db, named: "all-devices")?.memberCount, 20)
            XCTAssertEqual(try Inventory.pool(db, named: "change-window")?.memberCount, 3)
        }
    }

    /// Export in each format, import into a fresh database, and compare the content.
    func testExportImportRoundTrip() throws {
        for format in Exporter.Format.allCases {
            let source = try TempStore()
            try source.importFiles([repositoryRoot + "/setup/examples/switchboard.json"])
            // Something of every shape: a pool with criteria and manual devices, a typed custom property.
            _ = try source.pool("mixed", [PoolCriterion(property: "location", value: "London", match: .equality)], manual: ["par-acc1"])
            _ = try source.device("odd", properties: ["count": .int(3), "note": .string("22"), "flag": .bool(true)])
            let out = source.dir + "/export-\(format.rawValue)"
            try Exporter(database: source.database, secrets: source.secrets).export(format: format, to: out)

            let target = try TempStore()
            let files = try FileManager.default.contentsOfDirectory(atPath: out).map { out + "/" + $0 }
            try target.importFiles(format == .enms ? [out] : files)
            if format == .csv {
                // A spreadsheet holds devices and links.
                let a = try source.database.writer.read { try Inventory.devices($0) }.map { d -> Device in var d = d; d.id = nil; return d }
                let b = try target.database.writer.read { try Inventory.devices($0) }.map { d -> Device in var d = d; d.id = nil; return d }
                XCTAssertEqual(a.map(\.name), b.map(\.name))
                XCTAssertEqual(a.map(\.address), b.map(\.address))
                XCTAssertEqual(a.map(\.location), b.map(\.location))
                XCTAssertEqual(try target.database.writer.read { try Inventory.links($0).map(\.name) },
                               try source.database.writer.read { try Inventory.links($0).map(\.name) })
                continue
            }
            XCTAssertEqual(try portableDigest(target), try portableDigest(source), "round trip through \(format)")
            // Secrets stayed sealed in the export file(s) and open in the new database.
            for f in files {
                let text = (try? String(contentsOfFile: f, encoding: .utf8)) ?? ""
                XCTAssertFalse(text.contains("switchboard-lab"), "\(f) holds a clear-text secret")
            }
        }
    }

    func testRevealSecretsWritesThemInClear() throws {
        let t = try TempStore()
        try t.importFiles([repositoryRoot + "/setup/examples/switchboard.json"])
        let out = t.dir + "/reveal"
        try Exporter(database: t.database, secrets: t.secrets, revealSecrets: true).export(format: .json, to: out)
        let text = try String(contentsOfFile: out + "/switchboard.json", encoding: .utf8)
        XCTAssertTrue(text.contains("switchboard-lab"))
        let attrs = try FileManager.default.attributesOfItem(atPath: out + "/switchboard.json")
        XCTAssertEqual((attrs[.posixPermissions] as? NSNumber)?.intValue, 0o600)
    }

    func testSealedSecretsFromAnotherKeyAreRefused() throws {
        let a = try TempStore()
        try a.importFiles([repositoryRoot + "/setup/examples/switchboard.json"])
        try Exporter(database: a.database, secrets: a.secrets).export(format: .json, to: a.dir + "/out")
        let b = try TempStore()
        let other = InventoryWriter(database: b.database, secrets: SecretBox(key: .init(size: .bits256)))
        XCTAssertThrowsError(try other.apply(Importer.read(paths: [a.dir + "/out/switchboard.json"], format: nil))) {
            XCTAssertTrue("\($0)".contains("another key"), "\($0)")
        }
    }

    /// The content of a database by name (ids differ between databases), secrets opened.
    func portableDigest(_ t: TempStore) throws -> String {
        try t.database.writer.read { db in
            var lines: [String] = []
            func json<T: Encodable>(_ v: T) throws -> String { String(decoding: try JSONEncoder.sorted.encode(v), as: UTF8.self) }
            for d in try Inventory.devices(db) { var d = d; d.id = nil; lines.append("device \(try json(d))") }
            for l in try Inventory.links(db) { var l = l; l.id = 0; lines.append("link \(try json(l))") }
            for p in try Inventory.pools(db) {
                lines.append("pool \(p.name) \(p.criteriaKey) \(p.memberCount) \(try Inventory.manualDeviceNames(db, poolId: p.id!))")
            }
            for c in try Inventory.credentials(db) {
                lines.append("credential \(c.name) \(c.username) \(c.secretKind) \(try t.secrets.open(c.secret)) \(try t.secrets.open(c.enableSecret)) \(c.role) \(c.priority) \(c.pools)")
            }
            let names = try Dictionary(uniqueKeysWithValues: Row.fetchAll(db, sql: "SELECT id, name FROM service").map { ($0["id"] as Int64, $0["name"] as String) })
            for s in try Service.fetchAll(db, sql: "SELECT * FROM service ORDER BY name") {
                var s2 = s; s2.id = nil; s2.createdAt = Date(timeIntervalSince1970: 0); s2.updatedAt = s2.createdAt
                lines.append("service \(try json(s2))")
                if s.kind == .workflow {
                    lines.append("nodes " + (try Inventory.workflowNodes(db, workflowId: s.id!)).map { "\(names[$0.serviceId]!)\($0.isStart ? "*" : "")" }.sorted().joined(separator: ","))
                    lines.append("edges " + (try Inventory.workflowEdges(db, workflowId: s.id!)).map { "\($0.name):\(names[$0.sourceId]!)->\(names[$0.destinationId]!):\($0.subtype)" }.sorted().joined(separator: ","))
                }
            }
            for task in try Inventory.tasks(db) {
                var x = task; x.id = nil; x.serviceId = nil
                lines.append("task \(try json(x)) \(task.serviceId.flatMap { names[$0] } ?? "-")")
            }
            return lines.joined(separator: "\n")
        }
    }
}
