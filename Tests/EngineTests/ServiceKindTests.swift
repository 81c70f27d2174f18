@testable import Engine
import Foundation
import Store
import XCTest

/// The pure parts of the service kinds: templates, result validation and conversion, secret
/// masking, the line diff, per-kind parameter validation.
final class ServiceKindTests: XCTestCase {
    let device: Device = {
        var d = Device(name: "par-acc1", address: "127.0.0.5", port: 2203, platform: "cisco_ios", vendor: "Cisco")
        d.properties = ["site": .string("paris"), "rack": .object(["row": .int(4)])]
        return d
    }()

    // MARK: Template

    func testTemplateRendersDeviceFieldsPropertiesAndNestedPayload() throws {
        let payload: [String: JSONValue] = ["vlan": .int(42), "peer": .object(["name": .string("r2"), "ports": .array([.int(1), .int(7)])])]
        XCTAssertEqual(try Template.render("ping {{device.address}} from {{ device.name }}", device: device, payload: payload),
                       "ping 127.0.0.5 from par-acc1")
        XCTAssertEqual(try Template.render("{{device.port}}/{{device.platform}}/{{device.vendor}}/{{device.site}}/{{device.rack.row}}",
                                           device: device, payload: payload), "2203/cisco_ios/Cisco/paris/4")
        XCTAssertEqual(try Template.render("vlan {{payload.vlan}} to {{payload.peer.name}} port {{payload.peer.ports.1}}", device: nil, payload: payload),
                       "vlan 42 to r2 port 7")
        XCTAssertEqual(try Template.render("no variables { here }", device: nil, payload: [:]), "no variables { here }")
    }

    func testTemplateErrorsNameTheVariable() {
        func message(_ text: String, device: Device? = nil, payload: [String: JSONValue] = [:]) -> String {
            do { _ = try Template.render(text, device: device, payload: payload); return "rendered" } catch { return "\(error)" }
        }
        XCTAssertTrue(message("{{payload.missing}}", payload: ["x": .int(1)]).contains("{{payload.missing}}"))
        XCTAssertTrue(message("{{payload.missing}}", payload: ["x": .int(1)]).contains("it has: x"))
        XCTAssertTrue(message("{{device.nothing}}", device: device).contains("no field 'nothing'"))
        XCTAssertTrue(message("{{device.name}}").contains("without a device"))
        XCTAssertTrue(message("{{host}}").contains("unknown variable '{{host}}'"))
        XCTAssertTrue(message("show {{device.name").contains("unclosed '{{' at character 6"), message("show {{device.name"))
        XCTAssertTrue(message("{{}}").contains("empty variable"))
    }

    // MARK: ResultValidation

    func testValidationContainsRegexAndNegate() {
        let output = "Cisco IOS Software, Version 15.9(3)M\nuptime is 3 weeks\n"
        XCTAssertTrue(ResultValidation.check(output, rules: ["kind": "contains", "value": "Version 15.9"]).ok)
        let missing = ResultValidation.check(output, rules: ["kind": "contains", "value": "NX-OS"])
        XCTAssertFalse(missing.ok)
        XCTAssertTrue(missing.message.contains("does not contain 'NX-OS'"), missing.message)
        XCTAssertTrue(ResultValidation.check(output, rules: ["kind": "contains", "value": "NX-OS", "negate": true]).ok)
        XCTAssertFalse(ResultValidation.check(output, rules: ["kind": "contains", "value": "IOS", "negate": true]).ok)
        XCTAssertTrue(ResultValidation.check(output, rules: ["kind": "regex", "value": "^uptime is \\d+ weeks$"]).ok, "per-line anchors")
        XCTAssertFalse(ResultValidation.check(output, rules: ["kind": "regex", "value": "Version 16\\."]).ok)
        XCTAssertTrue(ResultValidation.check(output, rules: ["kind": "regex", "value": "Version 16\\.", "negate": true]).ok)
        XCTAssertTrue(ResultValidation.check(output, rules: [:]).ok)
        let broken = ResultValidation.check(output, rules: ["kind": "regex", "value": "(", "negate": true])
        XCTAssertFalse(broken.ok, "a rule that cannot apply fails even negated")
        XCTAssertTrue(broken.message.contains("does not compile"))
        XCTAssertFalse(ResultValidation.check(output, rules: ["kind": "fuzzy", "value": "x"]).ok)
    }

    func testValidationJSONDictionaryMatch() {
        let output = #"{"status": "up", "counters": {"in": 10, "out": 12.0, "errors": 0}, "tags": ["a", "b"], "extra": true}"#
        XCTAssertTrue(ResultValidation.check(output, rules: ["kind": "json", "value": .object(["status": "up"])]).ok)
        XCTAssertTrue(ResultValidation.check(output, rules: ["kind": "json", "value": .object(["counters": .object(["out": .int(12), "errors": .int(0)])])]).ok,
                      "nested, 12 == 12.0")
        XCTAssertTrue(ResultValidation.check(output, rules: ["kind": "json", "value": #"{"tags": ["a", "b"]}"#]).ok, "expected given as JSON text")
        XCTAssertFalse(ResultValidation.check(output, rules: ["kind": "json", "value": .object(["counters": .object(["errors": .int(1)])])]).ok)
        XCTAssertFalse(ResultValidation.check(output, rules: ["kind": "json", "value": .object(["missing": .null])]).ok)
        XCTAssertTrue(ResultValidation.check(output, rules: ["kind": "json", "value": .object(["status": "down"]), "negate": true]).ok)
        let notJSON = ResultValidation.check("Building configuration...", rules: ["kind": "json", "value": .object(["a": 1])])
        XCTAssertFalse(notJSON.ok)
        XCTAssertTrue(notJSON.message.contains("not JSON"), notJSON.message)
    }

    // MARK: ResultConversion

    func testConversion() throws {
        XCTAssertEqual(try ResultConversion.convert("plain\ttext", to: "text"), "plain\ttext")
        XCTAssertEqual(try ResultConversion.convert(#"{"b": [1, 2], "a": {"y": true, "x": null}}"#, to: "json"),
                       "{\n  \"a\" : {\n    \"x\" : null,\n    \"y\" : true\n  },\n  \"b\" : [\n    1,\n    2\n  ]\n}")
        XCTAssertThrowsError(try ResultConversion.convert("{\"a\": 1,\n \"b\": }", to: "json")) { error in
            XCTAssertTrue("\(error)".contains("not valid JSON"), "\(error)")
            XCTAssertTrue("\(error)".contains("line 2"), "\(error)")
        }
        XCTAssertThrowsError(try ResultConversion.convert("", to: "json")) { XCTAssertTrue("\($0)".contains("empty")) }
        XCTAssertThrowsError(try ResultConversion.convert("x", to: "xml")) { XCTAssertTrue("\($0)".contains("'xml'")) }
    }

    // MARK: SecretMasking

    func testMaskingIOSFamily() {
        let config = """
            enable secret 5 $1$Xyt2$wSSo3FEMTYkN61BD8U6LMy
            enable password sha512 $6$Ml/TdifLTQcDbdoZ$Ud
            username admin privilege 15 secret 9 $9$9x14XKaen4CYHM$Q0BAHM
            username admin password 5 $5$/01EcD$KZJ4gbNJ5  role network-admin
            snmp-server community s3cr3t RO
            snmp-server user admin network-admin auth md5 0xb9f9ed211ee9ecbe priv aes-128 0xdeadbeef99 localizedkey
            tacacs-server host 10.0.0.1 key 7 0822455D0A16
            interface Gi0/1
             ip ospf message-digest-key 1 md5 7 1511021F0725
            router bgp 65000
             neighbor 10.1.1.2 password 7 02050D480809
            line vty 0 4
             password 7 104D000A0618
            hostname r1
            snmp-server location Switchboard lab
            """
        let masked = SecretMasking.mask(config, platform: "cisco_ios")
        for secret in ["$1$Xyt2", "$6$Ml", "$9$9x14", "$5$/01EcD", "s3cr3t", "0xb9f9ed211ee9ecbe", "0xdeadbeef99", "0822455D0A16",
                       "1511021F0725", "02050D480809", "104D000A0618"] {
            XCTAssertFalse(masked.contains(secret), "\(secret) left in:\n\(masked)")
        }
        XCTAssertTrue(masked.contains("enable secret 5 <removed>"), masked)
        XCTAssertTrue(masked.contains("snmp-server community <removed> RO"), masked)
        XCTAssertTrue(masked.contains("username admin privilege 15 secret 9 <removed>"), masked)
        XCTAssertTrue(masked.contains("hostname r1\nsnmp-server location Switchboard lab"), "other lines untouched")
        XCTAssertEqual(SecretMasking.mask(masked, platform: "cisco_ios"), masked, "masking is idempotent")
    }

    func testMaskingJunos() {
        let config = """
            system {
                root-authentication {
                    encrypted-password "$6$UqREhprXKVEsRzBt$oIjsLXu";
                }
            }
            snmp {
                community s3cr3t {
                    authorization read-only;
                }
            }
            set system login user admin authentication encrypted-password "$6$ytnZgE$mAmoLM"
            set snmp community public authorization read-only
            set protocols ospf area 0 interface ge-0/0/0 authentication md5 1 key "$9$abcdefg"
            """
        let masked = SecretMasking.mask(config, platform: "juniper_junos")
        for secret in ["$6$UqRE", "s3cr3t", "$6$ytnZgE", "public", "$9$abcdefg"] {
            XCTAssertFalse(masked.contains(secret), "\(secret) left in:\n\(masked)")
        }
        XCTAssertTrue(masked.contains("encrypted-password \"<removed>\";"), masked)
        XCTAssertTrue(masked.contains("community <removed> {"), masked)
    }

    // MARK: diff

    func testLineDiffEditsAreMinimalAndReplayable() {
        let a = ["a", "b", "c", "a", "b", "b", "a"], b = ["c", "b", "a", "b", "a", "c"]
        let edits = LineDiff.edits(a, b)
        XCTAssertEqual(edits.filter { if case .same = $0 { return false }; return true }.count, 5, "Myers' example: D = 5")
        var rebuilt: [String] = []
        for e in edits {
            switch e {
            case .same(let i, _): rebuilt.append(a[i])
            case .insert(let j): rebuilt.append(b[j])
            case .delete: break
            }
        }
        XCTAssertEqual(rebuilt, b)
        XCTAssertEqual(LineDiff.edits([], ["x"]), [.insert(0)])
        XCTAssertEqual(LineDiff.edits(["x"], []), [.delete(0)])
        // Over budget: whole replacement, still correct.
        let big = LineDiff.edits((0..<50).map { "a\($0)" }, (0..<50).map { "b\($0)" }, budget: 10)
        XCTAssertEqual(big.count, 100)
    }

    func testUnifiedDiff() {
        let old = (1...12).map { "line \($0)" }.joined(separator: "\n") + "\n"
        var lines = (1...12).map { "line \($0)" }
        lines[1] = "line two"
        lines.insert("inserted", at: 10)
        let new = lines.joined(separator: "\n") + "\n"
        let diff = LineDiff.unified(old, new, oldLabel: "A", newLabel: "B")
        XCTAssertEqual(diff, """
            --- A
            +++ B
            @@ -1,5 +1,5 @@
             line 1
            -line 2
            +line two
             line 3
             line 4
             line 5
            @@ -8,5 +8,6 @@
             line 8
             line 9
             line 10
            +inserted
             line 11
             line 12

            """)
        XCTAssertEqual(LineDiff.unified(old, old, oldLabel: "A", newLabel: "B"), "")
        XCTAssertEqual(LineDiff.unified("", "x\n", oldLabel: "A", newLabel: "B"), "--- A\n+++ B\n@@ -0,0 +1 @@\n+x\n")
    }

    // MARK: ServiceValidation

    func testEveryKindsParametersAreValidatedOnSave() {
        func problem(_ kind: Service.Kind, _ parameters: [String: JSONValue], validation: [String: JSONValue] = [:]) -> String? {
            var s = Service(name: "svc", kind: kind, parameters: parameters)
            s.validation = validation
            do { try ServiceValidation.validate(s); return nil } catch { return "\(error)" }
        }
        let cases: [(Service.Kind, [String: JSONValue], [String: JSONValue], String)] = [
            (.cli, [:], [:], "commands is missing"),
            (.cli, ["commands": "show version"], [:], "commands must be a list"),
            (.cli, ["commands": ["show {{device.name"]], [:], "commands[0]: unclosed '{{'"),
            (.cli, ["commands": ["show {{devise.name}}"]], [:], "unknown variable '{{devise.name}}'"),
            (.cli, ["commands": ["x"], "mode": "telnet"], [:], "mode must be cli or exec"),
            (.cli, ["comands": ["x"]], [:], "parameter 'comands' is not one of"),
            (.config, ["lines": ["x"], "dry_run": "yes"], [:], "dry_run must be true or false"),
            (.config, [:], [:], "lines is missing"),
            (.ping, ["count": 0], [:], "count must be in 1...1000"),
            (.ping, ["timeout": 0], [:], "timeout must be greater than 0"),
            (.tcp, ["port": 70000], [:], "port must be in 1...65535"),
            (.rest, [:], [:], "url is missing"),
            (.rest, ["url": "ftp://x/y"], [:], "is not an http(s) URL"),
            (.rest, ["url": "http://h/{{payload.x"], [:], "url: unclosed '{{'"),
            (.rest, ["url": "http://h/", "method": "FETCH"], [:], "method 'FETCH'"),
            (.rest, ["url": "http://h/", "expected_status": 99], [:], "expected_status"),
            (.rest, ["url": "http://h/", "headers": ["X": 1]], [:], "headers.X must be a string"),
            (.extract, [:], [:], "needs regex, json_path, or field"),
            (.extract, ["regex": "(unclosed"], [:], "does not compile"),
            (.extract, ["regex": "version (\\S+)"], [:], "no named group"),
            (.extract, ["json_path": "a..b", "variable": "v"], [:], "json_path 'a..b'"),
            (.extract, ["json_path": "a.b"], [:], "needs a variable"),
            (.validate, [:], [:], "validation is missing"),
            (.unix, [:], [:], "command is missing"),
            (.wait, [:], [:], "seconds is missing"),
            (.wait, ["seconds": -1], [:], "seconds must be at least 0"),
            (.wait, ["seconds": 1], ["kind": "contains"], "validation.value is missing"),
            (.wait, ["seconds": 1], ["kind": "json", "value": "[1]"], "must be a JSON object"),
            (.wait, ["seconds": 1], ["kind": "fuzzy", "value": "x"], "validation kind 'fuzzy'"),
        ]
        for (kind, parameters, validation, expected) in cases {
            let message = problem(kind, parameters, validation: validation)
            XCTAssertNotNil(message, "\(kind) \(parameters) was accepted")
            XCTAssertTrue(message?.contains("service 'svc'") == true && message?.contains(expected) == true,
                          "\(kind) \(parameters): \(message ?? "nil") should say \(expected)")
        }
        let good: [(Service.Kind, [String: JSONValue], [String: JSONValue])] = [
            (.cli, ["commands": ["show version", "ping {{device.address}}"], "mode": "exec"], [:]),
            (.cli, ["commands": []], [:]),  // eNMS placeholders import
            (.config, ["lines": ["ntp server {{payload.ntp}}"], "dry_run": true, "save": false], [:]),
            (.backup, [:], [:]),
            (.ping, ["count": 2, "timeout": 1], [:]),
            (.tcp, ["port": 22, "timeout": 2.5], [:]),
            (.rest, ["url": "http://{{device.address}}:8080/api", "method": "post", "expected_status": [200, 201],
                     "headers": ["Accept": "application/json"], "body": "{\"name\": \"{{device.name}}\"}"], [:]),
            (.extract, ["regex": "(?i)version[: ]+(?<version>[^ ,\\n]+)", "source": "previous"], [:]),
            (.extract, ["json_path": "$.interfaces[0].name", "variable": "first"], [:]),
            (.validate, [:], ["kind": "json", "value": .object(["a": 1]), "negate": true]),
            (.unix, ["command": "echo {{device.name}}"], [:]),
            (.wait, ["seconds": 0.5], [:]),
        ]
        for (kind, parameters, validation) in good {
            XCTAssertNil(problem(kind, parameters, validation: validation), "\(kind) \(parameters)")
        }
        XCTAssertEqual(ServiceValidation.namedGroups(in: #"(?<a>x)(?:y)(?<=z)(?<!w)[(?<no>)]\(?<no2>(?<b>.)"#), ["a", "b"])
    }
}

/// Literals for parameters and rules in these tests.
extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { $1 }))
    }
}
