import Foundation
import Store
@testable import StorePostgres
import PostgresTestSupport
import XCTest

/// Filters narrowed on the server (`PostgresFilter`) select exactly what the Swift evaluator selects,
/// on text where PostgreSQL and Foundation/ICU disagree too: Unicode case folding, canonical
/// equivalence, newlines and tabs, regexes outside the common dialect, properties of every JSON type.
final class PostgresFilterTests: XCTestCase {
    func testTheServersConditionKeepsExactlyWhatTheSwiftEvaluatorKeeps() throws {
        let server = try PostgresTestServer.require()
        let db = try server.createDatabase()
        let backend = try PostgresBackend(url: try PostgresURL(parsing: server.socketURL(db), source: "test"), environment: [:])
        let devices: [Device] = [
            Device(name: "plain-1", address: "10.0.0.1", vendor: "Cisco", location: "Paris", properties: ["rack": .int(7), "role": .string("core")]),
            Device(name: "Straße-2", address: "10.0.0.2", vendor: "STRASSE", location: "Köln", properties: ["rack": .double(2.5)]),
            Device(name: "\u{212A}elvin-3", address: "10.0.0.3", vendor: "k", properties: ["flag": .bool(true), "role": .null]),
            Device(name: "cafe\u{301}-4", address: "10.0.0.4", vendor: "CAFÉ", properties: ["tags": .array([.string("a")])]),
            Device(name: "tab-name-5", address: "10.0.0.5", vendor: "ÉCOLE", location: "x\ty", description: "one\ntwo\r\nthree", properties: ["role": .string("Edge\n")]),
            Device(name: "ſpecial-6", address: "10.0.0.6", vendor: "ſ", location: "İstanbul", properties: ["obj": .object(["x": .int(1)])]),
            Device(name: "İ-7", address: "10.0.0.7", vendor: "i̇", properties: ["rack": .string("7")]),
        ]
        try backend.transaction { tx in for d in devices { try tx.upsert(device: d) } }
        let all = try backend.query { try $0.devices(filter: FilterExpression(terms: [])) }
        XCTAssertEqual(all.count, devices.count)
        let filters = [
            "vendor=k", "vendor=K", "name~^kelvin", "name~^K", "kelvin", "KELVIN", "vendor=s", "vendor=S", "special", "SPECIAL",
            "vendor=strasse", "vendor=straße", "straße", "STRASSE", "vendor=café", "vendor=cafe", "café", "name~^café", "name~^cafe",
            "vendor=école", "vendor=ecole", "école", "location=istanbul", "location=i̇stanbul", "istanbul", "vendor=i", "vendor=İ",
            "name~^tab", "name~name", "location~x.y", "location~^x\\sy$", "location~x\\ty", "location=x", "x", "description~two$", "description~^one$",
            "description~three$", "description~one.two", "description~^one", "description!~two", "!two", "three",
            "rack=7", "rack=2.5", "rack~^7$", "rack~^2", "rack=", "rack!=", "flag=true", "flag~^t", "flag=", "role=", "role=core",
            "role~^Edge$", "role~Edge", "role!~^Edge$", "tags=a", "tags~a", "tags~^\\[", "obj~x", "obj=", "!obj=",
            "name~\\w+-\\d$", "name~^[a-z]+-[0-9]$", "name~-[1-3]$", "name~(?i)plain", "name~\\bplain", "name~plain\\b", "name~^p(?=lain)",
            "name~[[:alpha:]]", "name~\\p{L}-1", "name~(a|b)\\1", "vendor!=cisco", "!cisco", "10.0.0", "10.0.0.1", "port=22", "port~^2+$",
            "id~.", "address~^10\\.0\\.0\\.[1-3]$", "location=", "location!=", "jump=", "last_run_status=",
        ]
        var compiled = 0
        for text in filters {
            let filter = try FilterExpression.parse(text)
            let swift = all.filter { d in filter.matches(value: { d.value(of: $0) }, searchable: Inventory.deviceSearchFields) }.map(\.name)
            let got = try backend.query { try $0.devices(filter: filter) }.map(\.name)
            XCTAssertEqual(got, swift, "'\(text)'")
            // And the server's condition alone keeps every device the Swift evaluator keeps.
            let condition = PostgresFilter.condition(filter)
            if condition.sql != "TRUE" { compiled += 1 }
            let kept = try backend.query { tx in
                try (tx as! PostgresExecutor).list(Device.self, "device", "WHERE \(condition.sql)", condition.values).map(\.name)
            }
            XCTAssertTrue(Set(swift).isSubset(of: Set(kept)), "'\(text)': the server dropped \(Set(swift).subtracting(kept))")
        }
        XCTAssertGreaterThan(compiled, filters.count / 2, "most of these compile to SQL")
    }

    func testOnlyRegexesBothDialectsReadAlikeCompile() {
        for re in ["", "^d7999", "d7999$", "^par-.*1$", "\\d$", "^(par|lon)-core\\d$", "(?:a|b){2,3}", "[a-z0-9_]+", "[^-a]",
                   "\\.\\-\\/", "x{0}", "a?b*c+", "\\w\\W\\s\\S\\D", "^[A-F][0-9]{1,255}$", "a|", "()"] {
            XCTAssertTrue(PostgresFilter.compilableRegex(re), re)
        }
        for re in ["\\b", "\\bx", "\\B", "\\A", "\\Z", "\\1", "(a)\\1", "(?i)a", "(?=a)", "(?<=a)b", "a*?", "a+?", "a*+", "a{2}?",
                   "a{256}", "a{3,2}", "a{,2}", "{2}", "*a", "a|*b", "[[:alpha:]]", "[:alpha:]", "[]a]", "[a-z&&[^x]]", "[a--]",
                   "[z-a]", "[a-Z]", "[\\d]", "\\p{L}", "\\x41", "\\u0041", "\\t", "é", "a\tb", "a]", "a}", "(a", "a)", "\\ ",
                   "a\\", "[a", "\\Q.\\E"] {
            XCTAssertFalse(PostgresFilter.compilableRegex(re), re)
        }
    }
}
