import Foundation
import XCTest
@testable import TextFSM

private func s(_ x: String) -> TextFSMValue { .string(x) }
private func parse(_ template: String, _ text: String, file: StaticString = #filePath, line: UInt = #line) throws -> [[TextFSMValue]] {
    try TextFSMTemplate(parsing: template, name: "t.textfsm").parse(text).rows
}
private func templateError(_ template: String) -> String {
    do { _ = try TextFSMTemplate(parsing: template, name: "t.textfsm"); return "(no error)" } catch { return error.description }
}

final class TextFSMUnitTests: XCTestCase {
    // MARK: Value options

    func testFilldown() throws {
        let t = "Value Filldown CHASSIS (\\S+)\nValue SLOT (\\d+)\n\nStart\n  ^Chassis ${CHASSIS}\n  ^Slot ${SLOT} -> Record\n"
        XCTAssertEqual(try parse(t, "Chassis A\nSlot 1\nSlot 2\nChassis B\nSlot 3\n"),
                       // The implicit record at EOF keeps the filled-down value (as textfsm does).
                       [[s("A"), s("1")], [s("A"), s("2")], [s("B"), s("3")], [s("B"), s("")]])
    }

    func testKey() throws {
        let t = try TextFSMTemplate(parsing: "Value Key NAME (\\S+)\nValue MTU (\\d+)\n\nStart\n  ^${NAME} ${MTU} -> Record\n", name: "t")
        XCTAssertEqual(t.values(with: .Key), ["NAME"])
        XCTAssertEqual(try t.parse("eth0 1500\n").rows, [[s("eth0"), s("1500")]])
    }

    func testRequired() throws {
        let t = "Value Required NAME (\\S+)\nValue DESC (.*)\n\nStart\n  ^name ${NAME}\n  ^desc ${DESC}\n  ^end -> Record\n"
        // The second record has no NAME: dropped (and cleared).
        XCTAssertEqual(try parse(t, "name a\ndesc x\nend\ndesc y\nend\n"), [[s("a"), s("x")]])
    }

    func testList() throws {
        let t = "Value NAME (\\S+)\nValue List MEMBER (\\S+)\n\nStart\n  ^group ${NAME}\n  ^ member ${MEMBER}\n  ^end -> Record\n"
        XCTAssertEqual(try parse(t, "group g1\n member a\n member b\nend\ngroup g2\nend\n"),
                       [[s("g1"), .list([s("a"), s("b")])], [s("g2"), .list([])]])
    }

    func testListWithNestedGroupsMakesDictionaries() throws {
        let t = "Value List PEOPLE ((?P<name>\\w+)\\s+(?P<age>\\d+))\n\nStart\n  ^${PEOPLE}\n"
        XCTAssertEqual(try parse(t, "Bob 32\nAnn 41\n"),
                       [[.list([.dict(["name": s("Bob"), "age": s("32")]), .dict(["name": s("Ann"), "age": s("41")])])]])
    }

    func testFillup() throws {
        let t = "Value A (\\d+)\nValue Fillup B (\\w+)\n\nStart\n  ^a ${A} -> Record\n  ^b ${B}\n"
        // B fills the rows above it until one that has a B (row 3 has B from the current record).
        XCTAssertEqual(try parse(t, "a 1\na 2\nb x\na 3\nb y\n"),
                       [[s("1"), s("x")], [s("2"), s("x")], [s("3"), s("x")], [s(""), s("y")]])
    }

    func testUnknownOptionNamesFileLineAndValue() {
        XCTAssertEqual(templateError("Value Filldwn VERSION (\\S+)\n\nStart\n  ^${VERSION}\n"),
                       "t.textfsm:1: unknown option 'Filldwn' on Value VERSION")
    }

    // MARK: Actions

    func testContinueKeepsTheLine() throws {
        let t = "Value A (\\S+)\nValue B (\\S+)\n\nStart\n  ^${A} -> Continue\n  ^\\S+ ${B} -> Record\n"
        XCTAssertEqual(try parse(t, "x y\n"), [[s("x"), s("y")]])
    }

    func testNextIsTheDefaultAndStopsAtTheFirstMatch() throws {
        let t = "Value A (\\S+)\n\nStart\n  ^${A} -> Next.Record\n  ^never ${A} -> Record\n"
        XCTAssertEqual(try parse(t, "never x\n"), [[s("never")]])
    }

    func testRecordAndNoRecordAndImplicitEOFRecord() throws {
        let t = "Value A (\\d+)\n\nStart\n  ^${A} -> NoRecord\n"
        XCTAssertEqual(try parse(t, "1\n2\n"), [[s("2")]])   // only the implicit record at EOF
    }

    func testDeclaredEOFSuppressesTheImplicitRecord() throws {
        XCTAssertEqual(try parse("Value A (\\d+)\n\nStart\n  ^${A}\n\nEOF\n", "1\n"), [])
    }

    func testClearKeepsFilldownClearallDoesNot() throws {
        let t = "Value Filldown F (\\w+)\nValue V (\\d+)\n\nStart\n  ^f ${F}\n  ^v ${V}\n  ^clear -> Clear\n  ^all -> Clearall\n  ^rec -> Record\n"
        XCTAssertEqual(try parse(t, "f a\nv 1\nclear\nrec\nv 2\nall\nrec\n"), [[s("a"), s("")]])
    }

    func testErrorActionWithMessage() {
        let t = "Value A (\\d+)\n\nStart\n  ^${A}\n  ^. -> Error \"unexpected line\"\n"
        XCTAssertThrowsError(try parse(t, "1\nboom\n")) { e in
            let e = e as! TextFSMError
            XCTAssertEqual(e.ruleLine, 5)
            XCTAssertEqual(e.inputLine, "boom")
            XCTAssertTrue(e.message.contains("\"unexpected line\""), e.message)
        }
        XCTAssertThrowsError(try parse("Value A (\\d+)\n\nStart\n  ^x -> Error\n", "x\n"))
    }

    func testStateTransitionsAndEnd() throws {
        let t = "Value A (\\d+)\n\nStart\n  ^begin -> Body\n\nBody\n  ^${A} -> Record\n  ^stop -> End\n"
        XCTAssertEqual(try parse(t, "1\nbegin\n2\n3\nstop\n4\n"), [[s("2")], [s("3")]])
    }

    func testMatchIsAnchoredAtTheLineStartNotSearched() throws {
        XCTAssertEqual(try parse("Value A (\\d+)\n\nStart\n  ^x${A} -> Record\n\nEOF\n", "ax1\nx2\n"), [[s("2")]])
        // Without ^ it is still re.match: at the start only.
        XCTAssertEqual(try parse("Value A (\\d+)\n\nStart\n  ^.*?${A} -> Record\n\nEOF\n", "ab12\n"), [[s("12")]])
    }

    // MARK: Substitution

    func testDollarSubstitution() throws {
        let t = "Value A (\\w+)\nValue B (\\w+)\n\nStart\n  ^${A}-$B$$ -> Record\n"
        XCTAssertEqual(try parse(t, "x-y\nx-y z\n"), [[s("x"), s("y")]])
        XCTAssertEqual(templateError("Value A (\\w+)\n\nStart\n  ^${A}$\n"),
                       "t.textfsm:4: duplicate or invalid variable substitution in '^${A}$' (use $$ for a literal $; ${NAME} must name a Value)")
        XCTAssertTrue(templateError("Value A (\\w+)\n\nStart\n  ^${NOPE}\n").hasPrefix("t.textfsm:4: duplicate or invalid"))
    }

    // MARK: Regex translation (Python → ICU)

    func rx(_ p: String, _ text: String) throws -> [String?]? {
        let r = try CompiledRegex(p)
        let l = Line(text)
        return r.match(l).map { $0.map { $0.map { l.substring($0) } } }
    }

    func testNamedGroupsAndBackreferences() throws {
        XCTAssertEqual(try rx("(?P<first_word>\\w+) (?P=first_word)", "ab ab")?.compactMap { $0 }, ["ab ab", "ab"])
        XCTAssertNil(try rx("(?P<w>\\w+) (?P=w)", "ab cd"))
        XCTAssertEqual(try CompiledRegex("(?P<a_b>x)(y)(?P<c>z)").names.map(\.index), [1, 3])
    }

    func testInlineFlagsAtTheStartOnly() throws {
        XCTAssertNotNil(try rx("(?i)show", "SHOW"))
        XCTAssertNotNil(try rx("a(?i:B)c", "abc"))
        XCTAssertThrowsError(try CompiledRegex("a(?i)b"))          // Python 3.11: global flags not at the start
        XCTAssertNotNil(try rx("(?x) a \\  b # comment", "a b"))   // verbose, handled in translation
    }

    func testAnchorsAndPythonEscapes() throws {
        XCTAssertNotNil(try rx("\\Aab\\Z", "ab"))
        XCTAssertNil(try rx("ab\\Z", "abc"))
        XCTAssertNotNil(try rx("\\x41\\101\\u0042", "AAB"))
        XCTAssertNotNil(try rx("a\\-b\\#", "a-b#"))
        XCTAssertThrowsError(try CompiledRegex("\\e"))              // bad escape in Python
        XCTAssertThrowsError(try CompiledRegex("\\p{L}"))           // ICU syntax Python rejects
    }

    func testBracesThatAreNotRepetitionsAreLiterals() throws {
        XCTAssertNotNil(try rx("a{b}", "a{b}"))
        XCTAssertNotNil(try rx("x{,2}y", "xxy"))
        XCTAssertNotNil(try rx("x{}", "x{}"))
        XCTAssertThrowsError(try CompiledRegex("a**"))              // multiple repeat
        XCTAssertThrowsError(try CompiledRegex("*a"))               // nothing to repeat
    }

    func testCharacterClassesAsPythonReadsThem() throws {
        XCTAssertNotNil(try rx("[[]", "["))
        XCTAssertNotNil(try rx("[]a]", "]"))
        XCTAssertNotNil(try rx("[a&&b]+", "&&"))
        XCTAssertNotNil(try rx("[[:alpha:]]+", "a]]"))             // a set of [ : a l p h, then ]+
        XCTAssertNil(try rx("[[:alpha:]]+", ":a]"))
        XCTAssertNotNil(try rx("[\\d.-]+$", "1.2-3"))
        XCTAssertThrowsError(try CompiledRegex("[z-a]"))
    }

    func testRepeatedLookaroundIsAccepted() throws {
        XCTAssertEqual(try rx("a(?<=a)+b", "ab")?.first ?? nil, "ab")
        XCTAssertEqual(try rx("a(?=x)*b", "ab")?.first ?? nil, "ab")
    }

    // MARK: Template errors

    func testTemplateErrorsNameTheLine() {
        XCTAssertEqual(templateError("Value A (\\d+)\n\nBody\n  ^x\n"), "t.textfsm: missing state 'Start'")
        XCTAssertEqual(templateError("Value A (\\d+)\n\nStart\n  ^x -> Nowhere\n"),
                       "t.textfsm:4: state 'Nowhere' not found, referenced in state 'Start'")
        XCTAssertEqual(templateError("Value A (\\d+)\n\nStart\n^x\n"), "t.textfsm:4: missing white space or caret ('^') before rule")
        XCTAssertEqual(templateError("Value A (\\d+)\n\nStart\n  ^x -> Continue Other\n\nOther\n"),
                       "t.textfsm:4: action 'Continue' with new state Other specified")
        XCTAssertEqual(templateError("Value A \\d+\n\nStart\n"), "t.textfsm:1: unknown option 'A' on Value \\d+")   // as textfsm reads it
        XCTAssertEqual(templateError("Value A (\\d+\n\nStart\n"), "t.textfsm:1: Value A: the regex '(\\d+' must be contained within a '()' pair")
        XCTAssertEqual(templateError("Value A (\\d+)\nValue A (\\d+)\n\nStart\n"), "t.textfsm:2: duplicate declarations for Value 'A'")
        XCTAssertTrue(templateError("# c\nValue A (\\d+)\n\nStart\n  ^(unclosed\n").hasPrefix("t.textfsm:5: invalid regular expression"))
        XCTAssertEqual(templateError("Value A (\\d+)\n\nStart\n  ^x\n\nEnd\n  ^y\n"), "t.textfsm:7: the 'End' state must be empty")
        XCTAssertEqual(templateError("Value A (\\d+)\n\nStart\n  ^x -> Next.Record.Bad\n"), "t.textfsm:4: badly formatted rule '^x -> Next.Record.Bad'")
    }

    // MARK: Index (CliTable)

    func testCommandCompletions() {
        XCTAssertEqual(TemplateIndex.expandCompletions("sh[[ow]] ip int[[erface]] br[[ief]]"),
                       "sh(o(w)?)? ip int(e(r(f(a(c(e)?)?)?)?)?)? br(i(e(f)?)?)?")
    }

    func testIndexLookupAndKeyedJoin() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tfsm-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try "Value Key IF (\\S+)\nValue STATE (up|down)\n\nStart\n  ^${IF} is ${STATE} -> Record\n".write(to: dir.appendingPathComponent("a.textfsm"), atomically: true, encoding: .utf8)
        try "Value Key IF (\\S+)\nValue MTU (\\d+)\n\nStart\n  ^${IF} mtu ${MTU} -> Record\n".write(to: dir.appendingPathComponent("b.textfsm"), atomically: true, encoding: .utf8)
        try """
            # comment
            Template, Hostname, Platform, Command

            a.textfsm:b.textfsm, .*, cisco_ios, sh[[ow]] int[[erfaces]]
            bad, row, with, too, many, fields
            """.write(to: dir.appendingPathComponent("index"), atomically: true, encoding: .utf8)
        let index = try TemplateIndex(directory: dir)
        XCTAssertEqual(index.entries.count, 1)
        XCTAssertNil(index.entry(platform: "arista_eos", command: "show interfaces"))
        let e = try XCTUnwrap(index.entry(platform: "cisco_ios", command: "sh int"))
        XCTAssertEqual(e.templates, ["a.textfsm", "b.textfsm"])
        let r = try index.parse("e1 mtu 9000\ne0 is up\ne1 is down\ne0 mtu 1500\n", with: e)
        XCTAssertEqual(r.header, ["IF", "STATE", "MTU"])
        XCTAssertEqual(r.rows, [[s("e0"), s("up"), s("1500")], [s("e1"), s("down"), s("9000")]])
        XCTAssertEqual(r.dictionaries.first?["mtu"], s("1500"))
        let library = TemplateLibrary(indexes: [index])
        XCTAssertNotNil(library.lookup(platform: "cisco_xe", command: "show interfaces"))   // alias to cisco_ios
    }

    func testOutputFormats() throws {
        let r = TextFSMResult(header: ["NAME", "LIST"], rows: [[s("a\"b"), .list([s("x"), s("y")])]])
        XCTAssertEqual(r.json, "[\n  {\"name\": \"a\\\"b\", \"list\": [\"x\", \"y\"]}\n]")
        XCTAssertEqual(r.table, "NAME  LIST\na\"b   x, y")
    }
}
