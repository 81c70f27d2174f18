import Foundation
import XCTest
@testable import TextFSM

/// The Swift engine against Google's textfsm (Python, from .venv-textfsm, made by scripts/install-deps):
/// regex translation, every ntc-templates template (compiled; run on empty input and on input generated
/// from its own rules), hand-written outputs of common commands through the index, and index lookups.
final class TextFSMDifferentialTests: XCTestCase {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let python = repo.appendingPathComponent(".venv-textfsm/bin/python")

    static var ntcDirectory: URL? {
        if let d = ProcessInfo.processInfo.environment["SWITCHBOARD_NTC_TEMPLATES"] { return URL(fileURLWithPath: d) }
        let lib = repo.appendingPathComponent(".venv-textfsm/lib")
        for p in ((try? FileManager.default.contentsOfDirectory(atPath: lib.path)) ?? []).sorted() where p.hasPrefix("python") {
            let d = lib.appendingPathComponent("\(p)/site-packages/ntc_templates/templates")
            if FileManager.default.fileExists(atPath: d.appendingPathComponent("index").path) { return d }
        }
        return nil
    }

    func requirements() throws -> URL {
        guard FileManager.default.isExecutableFile(atPath: Self.python.path), let d = Self.ntcDirectory else {
            throw XCTSkip(".venv-textfsm is missing: run scripts/install-deps")
        }
        return d
    }

    /// Runs the reference script in `mode` on `jobs` (JSON), returning its JSON answer.
    func reference(_ mode: String, _ jobs: Any) throws -> [[String: Any]] {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("textfsm-ref-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let script = work.appendingPathComponent("ref.py"), input = work.appendingPathComponent("jobs.json"), output = work.appendingPathComponent("out.json")
        try referenceScript.write(to: script, atomically: true, encoding: .utf8)
        try JSONSerialization.data(withJSONObject: jobs).write(to: input)
        FileManager.default.createFile(atPath: output.path, contents: nil)
        let p = Process()
        p.executableURL = Self.python
        p.arguments = ["-W", "ignore", script.path, mode, input.path]
        p.standardOutput = try FileHandle(forWritingTo: output)
        try p.run()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, "reference script failed")
        return try JSONSerialization.jsonObject(with: Data(contentsOf: output)) as! [[String: Any]]
    }

    static func value(_ a: Any) -> TextFSMValue {
        if let s = a as? String { return .string(s) }
        if let l = a as? [Any] { return .list(l.map(value)) }
        if let d = a as? [String: Any] { return .dict(d.mapValues(value)) }
        return .null
    }

    /// Whether Swift's outcome is Python's: the same header and rows, or both a failure (for an
    /// Error action, raised by the same rule).
    static func same(_ mine: Result<TextFSMResult, Error>, _ ref: [String: Any]) -> Bool {
        switch mine {
        case .success(let r):
            guard let h = ref["header"] as? [String], let rows = ref["rows"] as? [[Any]] else { return false }
            return h == r.header && rows.map { $0.map(value) } == r.rows
        case .failure(let e):
            guard let message = ref["error"] as? String else { return false }
            if let e = e as? TextFSMError, let line = e.ruleLine { return message.contains("Rule Line: \(line).") }
            return true
        }
    }

    // MARK: -

    func testRegexTranslationMatchesPython() throws {
        _ = try requirements()
        let cases: [(String, String)] = [
            (#"(?P<name>\w+)\s+(?P<age>\d+)"#, "Bob 32"), (#"(?i)sHoW\s+(\S+)"#, "show ver"), (#"a(?i)b"#, "ab"),
            (#"\Aab\Z"#, "ab"), (#"ab\Z"#, "abc"), (#"\x41\101\u0042(\d)"#, "AAB7"), (#"a{b}"#, "a{b}"), (#"x{,2}y"#, "xxy"),
            (#"x{}"#, "x{}"), (#"[[]"#, "["), (#"[]a]+"#, "]a"), (#"[a&&b]+"#, "&&"), (#"[[:alpha:]]+"#, "a]]"), (#"[\d.-]+$"#, "1.2-3"),
            (#"(?P<w>\w+) (?P=w)"#, "ab ab"), (#"(\w)\1"#, "aa"), (#"(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)\10"#, "abcdefghijj"),
            (#"a(?<=a)+b"#, "ab"), (#"(?x) a \  b # c"#, "a b"), (#"\e"#, "e"), (#"a**"#, "a"), (#"*a"#, "a"), (#"[z-a]"#, "a"),
            (#".*?(\d+)"#, "ab12"), (#"(?s).+"#, "ab"), (#"\bword\b"#, "word!"), (#"(?a)\w+"#, "abcé"), (#"\w+"#, "abcé"),
            (#"(?:ab)+?c"#, "ababc"), (#"a++b"#, "aab"), (#"(?>a+)b"#, "aab"), (#"^\s*(\S+)\s*$"#, "  x  "), (#"\$\^\."#, "$^."),
            (#"(?P<a>x)|(?P<b>y)"#, "y"), (#"[^\]]+"#, "ab]"), (#"\d{2,3}?"#, "1234"), (#"(?#comment)x"#, "x"), (#"\N{EM DASH}"#, "—"),
            (#"(?i:A)b"#, "aB"), (#"(?-i:a)"#, "a"), (#"[\s\S]+"#, "x y"), (#"\("#, "("), (#"a|"#, "b"), (#"(a|)+b"#, "aab"),
            (#"(?P<1a>x)"#, "x"), (#"(?P<a>x)(?P<a>y)"#, "xy"), (#"(?<=x)y"#, "xy"), (#"\0"#, "\u{0}"), (#"[\x41-\x43]+"#, "ABCD"),
        ]
        let ref = try reference("regex", cases.map { ["pattern": $0.0, "text": $0.1] })
        var failures: [String] = []
        for ((p, t), r) in zip(cases, ref) {
            let mine: [String?]?
            do {
                let re = try CompiledRegex(p)
                let line = Line(t)
                mine = re.match(line).map { $0.map { $0.map { line.substring($0) } } }
            } catch {
                if r["error"] == nil { failures.append("\(p): Swift refused (\(error)), Python accepted") }
                continue
            }
            if let e = r["error"] { failures.append("\(p): Python refused (\(e)), Swift accepted"); continue }
            let theirs: [String?]? = (r["whole"] as? String).map { w in [w] + (r["groups"] as! [Any]).map { $0 as? String } }
            if mine != theirs { failures.append("\(p) on \(t): Swift \(String(describing: mine)), Python \(String(describing: theirs))") }
        }
        XCTAssertEqual(failures, [], failures.joined(separator: "\n"))
    }

    func templatePaths(_ dir: URL) throws -> [URL] {
        try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".textfsm") }.sorted().map { dir.appendingPathComponent($0) }
    }

    func testEveryNtcTemplateCompiles() throws {
        let dir = try requirements()
        let paths = try templatePaths(dir)
        var failures: [String] = []
        for p in paths {
            do { _ = try TextFSMTemplate(contentsOf: p) } catch { failures.append("\(error)") }
        }
        print("ntc-templates: \(paths.count - failures.count) of \(paths.count) templates compiled")
        XCTAssertGreaterThan(paths.count, 900)
        XCTAssertEqual(failures, [], failures.joined(separator: "\n"))
    }

    func testEveryNtcTemplateAgainstPython() throws {
        let dir = try requirements()
        let paths = try templatePaths(dir)
        let generated = try reference("generate", ["templates": paths.map(\.path), "seed": 1] as [String: Any])
        var jobs: [(URL, String)] = paths.map { ($0, "") }
        var noInput = 0, rules = 0, linesMade = 0
        for (p, g) in zip(paths, generated) {
            rules += g["rules"] as? Int ?? 0
            linesMade += g["generated"] as? Int ?? 0
            if let text = g["text"] as? String { jobs.append((p, text)) } else { noInput += 1 }
        }
        let ref = try reference("parse", jobs.map { ["template": $0.0.path, "text": $0.1] })
        var cache: [URL: TextFSMTemplate] = [:]
        var identical = 0, withRows = 0
        var differences: [String] = []
        for ((path, text), r) in zip(jobs, ref) {
            let mine: Result<TextFSMResult, Error> = Result {
                if cache[path] == nil { cache[path] = try TextFSMTemplate(contentsOf: path) }
                return try cache[path]!.parse(text)
            }
            if Self.same(mine, r) {
                identical += 1
                if case .success(let res) = mine, !res.rows.isEmpty { withRows += 1 }
            } else {
                differences.append("\(path.lastPathComponent) (\(text.isEmpty ? "empty input" : "generated input")): Swift \(mine), Python \(r)")
            }
        }
        print("""
            ntc-templates differential: \(paths.count) templates, \(jobs.count) runs compared (empty input: \(paths.count), \
            generated: \(jobs.count - paths.count); \(noInput) templates without generated input; \(linesMade) of \(rules) \
            rules got a line), \(identical) identical (\(withRows) with rows), \(differences.count) different
            """)
        XCTAssertEqual(differences, [], differences.prefix(20).joined(separator: "\n"))
    }

    func testRealisticOutputsThroughTheIndex() throws {
        let dir = try requirements()
        let library = TemplateLibrary(indexes: [try TemplateIndex(directory: dir)])
        let ref = try reference("index", ["dir": dir.path, "jobs": realisticSamples.map { ["platform": $0.platform, "command": $0.command, "text": $0.text] }] as [String: Any])
        for (sample, r) in zip(realisticSamples, ref) {
            let mine = Result { () throws -> TextFSMResult in
                guard let r = try library.parse(platform: sample.platform, command: sample.command, text: sample.text) else {
                    throw TextFSMError(message: "no template")
                }
                return r
            }
            XCTAssertTrue(Self.same(mine, r), "\(sample.platform) \(sample.command): Swift \(mine), Python \(r)")
            // ntc-templates has no `show interfaces terse` for Junos: its `show interfaces` template matches
            // the command (a prefix) and rejects the terse output with an Error action, in Python too.
            if sample.platform == "juniper_junos" {
                XCTAssertThrowsError(try mine.get())
            } else {
                XCTAssertFalse((try? mine.get().rows.isEmpty) ?? true, "\(sample.platform) \(sample.command): no rows")
            }
        }
    }

    func testIndexLookupsMatchCliTable() throws {
        let dir = try requirements()
        let index = try TemplateIndex(directory: dir)
        let lookups: [(String, String)] = [
            ("cisco_ios", "show ip interface brief"), ("cisco_ios", "sh ip int br"), ("cisco_ios", "show ip int"), ("cisco_ios", "show interfaces"),
            ("cisco_ios", "sh int"), ("cisco_ios", "show int status"), ("cisco_ios", "show version"), ("cisco_ios", "show ip route"),
            ("cisco_ios", "show running-config"), ("cisco_ios", "show nonsense"), ("arista_eos", "show interfaces status"),
            ("juniper_junos", "show interfaces terse"), ("cisco_nxos", "show version"), ("cisco_xr", "show ip int brief"),
            ("hp_procurve", "show vlans"), ("aruba_procurve", "show system"), ("vyos", "show interfaces"), ("linux", "ip address show"),
            ("huawei_vrp", "display version"), ("extreme_exos", "show version"), ("nokia_sros", "show router interface"),
            ("fortinet", "get system status"), ("paloalto_panos", "show system info"), ("mikrotik_routeros", "/interface print"),
            ("cisco_asa", "show route"), ("cisco_ftd", "show interface ip brief"), ("unknown_os", "show version"),
        ]
        let ref = try reference("index", ["dir": dir.path, "jobs": lookups.map { ["platform": $0.0, "command": $0.1, "text": ""] }] as [String: Any])
        var found = 0
        for ((platform, command), r) in zip(lookups, ref) {
            let mine = index.entry(platform: platform, command: command)
            if r["notemplate"] != nil {
                XCTAssertNil(mine, "\(platform) \(command): Python finds no template, Swift \(mine?.templates ?? [])")
            } else {
                found += 1
                XCTAssertEqual(mine?.templates.joined(separator: ":"), r["templates"] as? String, "\(platform) \(command)")
            }
        }
        XCTAssertGreaterThanOrEqual(found, 20)
    }
}
