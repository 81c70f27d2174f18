import Foundation
import XCTest
@testable import Console
import Store

/// OpenSSH's escapes on the keyboard side of a session.
final class EscapeParserTests: XCTestCase {
    func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    func testTildeDotDisconnectsOnlyAtTheStartOfALine() {
        var p = EscapeParser()
        XCTAssertEqual(p.feed(bytes("~.")), [.disconnect], "the very start counts as a line start")
        p = EscapeParser()
        XCTAssertEqual(p.feed(bytes("ls~.")), [.send(bytes("ls~."))], "in the middle of a line it is text")
        XCTAssertEqual(p.feed(bytes("\r~.")), [.send(bytes("\r")), .disconnect])
        p = EscapeParser()
        XCTAssertEqual(p.feed(bytes("a\n~.")), [.send(bytes("a\n")), .disconnect], "after LF too")
    }

    func testTildeQuestionListsAndStaysAtLineStart() {
        var p = EscapeParser()
        XCTAssertEqual(p.feed(bytes("~?")), [.help])
        XCTAssertTrue(p.atLineStart)
        XCTAssertEqual(p.feed(bytes("~.")), [.disconnect], "~. right after ~? still works")
        XCTAssertTrue(EscapeParser.helpText.contains("~."))
        XCTAssertTrue(EscapeParser.helpText.contains("terminate connection"))
    }

    func testDoubleTildeSendsOneAndOtherCharactersPassWithTheTilde() {
        var p = EscapeParser()
        XCTAssertEqual(p.feed(bytes("~~")), [.send(bytes("~"))])
        XCTAssertFalse(p.atLineStart)
        XCTAssertEqual(p.feed(bytes("~.")), [.send(bytes("~."))], "after ~~ the line has started")
        p = EscapeParser()
        XCTAssertEqual(p.feed(bytes("~x")), [.send(bytes("~x"))])
        p = EscapeParser()
        XCTAssertEqual(p.feed(bytes("~\r")), [.send(bytes("~\r"))])
        XCTAssertTrue(p.atLineStart)
    }

    func testEscapeSplitAcrossReads() {
        var p = EscapeParser()
        XCTAssertEqual(p.feed(bytes("show\r")), [.send(bytes("show\r"))])
        XCTAssertEqual(p.feed(bytes("~")), [], "held until the next byte says what it means")
        XCTAssertTrue(p.pending)
        XCTAssertEqual(p.feed(bytes(".")), [.disconnect])
        p = EscapeParser()
        _ = p.feed(bytes("~"))
        XCTAssertEqual(p.feed(bytes("a")), [.send(bytes("~a"))])
    }

    func testBytesAfterDisconnectAreNotSent() {
        var p = EscapeParser()
        XCTAssertEqual(p.feed(bytes("ab\r~.rm -rf\r")), [.send(bytes("ab\r")), .disconnect])
    }
}

/// The asciicast v2 writer and reader.
final class AsciicastTests: XCTestCase {
    func testHeaderEventsAndEscaping() throws {
        var w = AsciicastWriter(width: 100, height: 30, timestamp: Date(timeIntervalSince1970: 1_700_000_000),
                                title: "sblab@par-acc1", terminal: "xterm-256color")
        w.output(Array("hello \"world\"\\\r\n".utf8), at: 0.5)
        w.output([0x1B] + Array("[1mbold".utf8) + [0x07], at: 0.25)   // a clock going back stays monotonic
        w.resize(columns: 120, rows: 40, at: 1)
        w.output(Array("é".utf8), at: 2)
        w.finish(at: 3)
        let lines = w.text.split(separator: "\n")
        let header = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as! [String: Any]
        XCTAssertEqual(header["version"] as? Int, 2)
        XCTAssertEqual(header["width"] as? Int, 100)
        XCTAssertEqual(header["height"] as? Int, 30)
        XCTAssertEqual(header["timestamp"] as? Int, 1_700_000_000)
        XCTAssertEqual((header["env"] as? [String: String])?["TERM"], "xterm-256color")
        let cast = try Asciicast.parse(w.text)
        XCTAssertEqual(cast.output.map(\.data), ["hello \"world\"\\\r\n", "\u{1b}[1mbold\u{07}", "é"])
        XCTAssertEqual(cast.output.map(\.time), [0.5, 0.5, 2])
        XCTAssertEqual(cast.events.filter { $0.kind == "r" }.map(\.data), ["120x40"])
        XCTAssertFalse(w.text.contains("\u{1b}"), "control characters are escaped in the JSON")
    }

    func testUTF8SplitAcrossChunksIsKeptWhole() throws {
        var w = AsciicastWriter(width: 80, height: 24, timestamp: Date())
        let text = Array("Zürich → 東京".utf8)
        // Every split point, one byte at a time at worst.
        for i in text.indices { w.output([text[i]], at: Double(i)) }
        w.finish(at: 100)
        let cast = try Asciicast.parse(w.text)
        XCTAssertEqual(cast.output.map(\.data).joined(), "Zürich → 東京")
        XCTAssertFalse(cast.output.map(\.data).joined().contains("\u{FFFD}"))
    }

    func testAnIncompleteCharacterAtTheEndIsWrittenAsReplacement() throws {
        var w = AsciicastWriter(width: 80, height: 24, timestamp: Date())
        w.output([0x61, 0xE6, 0x9D], at: 0)
        w.finish(at: 1)
        XCTAssertEqual(try Asciicast.parse(w.text).output.map(\.data).joined(), "a\u{FFFD}")
    }

    func testLimitTruncatesWithAMarker() throws {
        var w = AsciicastWriter(width: 80, height: 24, timestamp: Date(), limit: 500)
        for i in 0..<20 { w.output(Array(String(repeating: "x", count: 50).utf8), at: Double(i)) }
        XCTAssertTrue(w.truncated)
        XCTAssertLessThan(w.text.utf8.count, 700)
        let cast = try Asciicast.parse(w.text)
        XCTAssertEqual(cast.events.last?.kind, "m")
    }

    func testParseErrorsNameTheLine() {
        XCTAssertThrowsError(try Asciicast.parse("not json\n")) { XCTAssertTrue("\($0)".contains("line 1")) }
        XCTAssertThrowsError(try Asciicast.parse("{\"version\": 1, \"width\": 80, \"height\": 24}\n")) { XCTAssertTrue("\($0)".contains("version")) }
        XCTAssertThrowsError(try Asciicast.parse("{\"version\": 2, \"width\": 80, \"height\": 24}\n[1.0, \"o\", \"a\"]\n[0.5, \"o\", \"b\"]\n")) {
            XCTAssertTrue("\($0)".contains("line 3"), "\($0)")
        }
        XCTAssertThrowsError(try Asciicast.parse("{\"version\": 2, \"width\": 80, \"height\": 24}\n[1.0, \"o\"]\n")) { XCTAssertTrue("\($0)".contains("line 2")) }
    }

    func testRecordingStoresOutputOnlyAndCompletesTheRow() throws {
        let store = try ExampleStore()
        let rec = try SessionRecording(database: store.database, device: "par-acc1", user: "alice", loginUser: "admin",
                                       width: 100, height: 30, terminal: "xterm")
        let open = try store.database.writer.read { db in try SessionRecord.fetchOne(db, key: rec.record.id!) }
        XCTAssertEqual(open?.endReason, "open", "the row exists while the session runs")
        XCTAssertNotNil(open?.deviceId)
        rec.received(Array("Password: ".utf8))
        rec.sent(12)   // the password: counted, never recorded
        rec.received(Array("\r\npar-acc1#".utf8))
        let id = try rec.finish(.closed(exitStatus: 0))
        let row = try store.database.writer.read { db in try SessionRecord.fetchOne(db, key: id) }!
        XCTAssertEqual(row.bytesIn, 21)
        XCTAssertEqual(row.bytesOut, 12)
        XCTAssertEqual(row.width, 100)
        XCTAssertEqual(row.height, 30)
        XCTAssertEqual(row.user, "alice")
        XCTAssertNotNil(row.endedAt)
        XCTAssertEqual(row.endReason, "closed by the device (exit status 0)")
        XCTAssertEqual(try Asciicast.parse(row.transcript).output.map(\.data).joined(), "Password: \r\npar-acc1#")
    }
}

/// The console's session keys, picker and password prompt (the model only; no terminal).
final class SessionModelTests: XCTestCase {
    var store: ExampleStore!
    override func setUpWithError() throws { store = try ExampleStore() }
    override func tearDown() { store = nil }

    func testSOpensTheSelectedDeviceAndShowsConnecting() {
        var d = Driver(store: store)
        d.keys(.char("j"))
        let device = d.model.top.table.selectedRow!.id
        d.effects = []
        d.keys(.char("s"))
        XCTAssertEqual(d.effects, [.session(.open(SessionRequest(device: device)))])
        XCTAssertEqual(d.model.sessionUI.connecting, device)
        XCTAssertTrue(d.text.contains("connecting to \(device)"), d.text)
        d.effects = []
        d.keys(.char("s"))
        XCTAssertEqual(d.effects.filter { if case .session = $0 { return true }; return false }, [], "one connect at a time")
        d.send(.session(.failed(device: device, message: "cannot reach 10.0.0.1:22: Connection refused")))
        XCTAssertNil(d.model.sessionUI.connecting)
        XCTAssertTrue(d.text.contains("\(device): cannot reach 10.0.0.1:22"), d.text)
        XCTAssertEqual(d.model.activeFlash?.isError, true)
    }

    func testSSHCommandAndReadOnly() {
        var d = Driver(store: store)
        d.command("ssh lon-acc1")
        XCTAssertEqual(d.effects.last, .session(.open(SessionRequest(device: "lon-acc1"))))
        d.command("ssh")
        XCTAssertTrue(d.text.contains("usage: :ssh DEVICE"))
        var r = Driver(store: store, readonly: true)
        r.keys(.char("s"))
        r.command("ssh lon-acc1")
        XCTAssertFalse(r.effects.contains { if case .session(.open) = $0 { return true }; return false })
        XCTAssertTrue(r.text.contains("read-only console"), r.text)
    }

    func testCredentialPickerAndMaskedPassword() {
        var d = Driver(store: store)
        let device = d.model.top.table.selectedRow!.id
        d.keys(.char("S"))
        XCTAssertEqual(d.effects.last, .session(.listCredentials(device: device)))
        let choices = [CredentialChoice(name: "lab-key", username: "sblab", kind: "key_file"),
                       CredentialChoice(name: "lab-password", username: "sblab", kind: "password")]
        d.send(.session(.credentials(device: device, choices)))
        XCTAssertTrue(d.text.contains("lab-key"), d.text)
        XCTAssertTrue(d.text.contains("a password typed now"), d.text)
        // Keys go to the picker, not the table.
        d.keys(.char("j"), .enter)
        XCTAssertEqual(d.effects.last, .session(.open(SessionRequest(device: device, credential: "lab-password"))))
        XCTAssertNil(d.model.sessionUI.overlay)
        d.send(.session(.failed(device: device, message: "x")))
        // The password row: a masked prompt; the password only leaves in the request.
        d.keys(.char("S"))
        d.send(.session(.credentials(device: device, choices)))
        d.keys(.char("j"), .char("j"), .enter)
        d.type("hunter2")
        XCTAssertFalse(d.text.contains("hunter2"), "the password is never on screen")
        XCTAssertTrue(d.text.contains("*******"), d.text)
        d.keys(.enter)
        XCTAssertEqual(d.effects.last, .session(.open(SessionRequest(device: device, password: "hunter2"))))
        XCTAssertFalse(SessionRequest(device: device, password: "hunter2").description.contains("hunter2"))
        // Esc cancels without connecting.
        d.send(.session(.failed(device: device, message: "x")))
        d.keys(.char("S"))
        d.send(.session(.credentials(device: device, choices)))
        d.effects = []
        d.keys(.escape)
        XCTAssertNil(d.model.sessionUI.overlay)
        XCTAssertEqual(d.effects.filter { if case .session = $0 { return true }; return false }, [])
    }

    func testEndedSessionIsReportedAndEnterOnASessionReplays() throws {
        var d = Driver(store: store)
        d.send(.session(.ended(device: "lon-acc1", reason: "disconnected (~.)", recorded: 7, error: nil)))
        XCTAssertTrue(d.text.contains("session to lon-acc1 disconnected (~.) (recorded as session 7)"), d.text)
        _ = try store.session(device: "lon-acc1", transcript: "{\"version\": 2, \"width\": 80, \"height\": 24}\n[0.1, \"o\", \"lon-acc1#\"]\n")
        d.command("sessions")
        d.effects = []
        d.keys(.enter)
        XCTAssertEqual(d.effects.first, .session(.replay(Int64(d.model.top.table.selectedRow!.id)!)))
        // `s` on a session row opens a new session to its device.
        d.effects = []
        d.keys(.char("s"))
        XCTAssertEqual(d.effects.first, .session(.open(SessionRequest(device: "lon-acc1"))))
    }
}

/// The replay's keys, with the keys already waiting (no timing is asserted).
final class ReplayerTests: XCTestCase {
    let cast = Asciicast(version: 2, width: 80, height: 24, timestamp: nil, events: [
        .init(time: 0, kind: "o", data: "first "), .init(time: 50, kind: "r", data: "100x30"),
        .init(time: 100, kind: "o", data: "second "), .init(time: 200, kind: "o", data: "third"),
    ])

    /// Plays with `keys` typed in advance; returns how it ended and what reached the terminal.
    func play(keys: String) throws -> (Replayer.End, String) {
        var input: [Int32] = [0, 0], output: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&input), 0)
        XCTAssertEqual(pipe(&output), 0)
        defer { for fd in input + output { close(fd) } }
        _ = fcntl(output[0], F_SETFL, fcntl(output[0], F_GETFL) | O_NONBLOCK)
        let bytes = Array(keys.utf8)
        XCTAssertEqual(write(input[1], bytes, bytes.count), bytes.count)
        var player = Replayer(input: input[0], output: output[1])
        let end = player.play(cast)
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = read(output[0], &buffer, buffer.count)
        return (end, String(decoding: buffer[0..<max(0, n)], as: UTF8.self))
    }

    func testInstantWritesEverythingAndQStops() throws {
        let (end, out) = try play(keys: "i")
        XCTAssertEqual(end, .finished)
        XCTAssertEqual(out, "first second third", "output events only, in order")
        let (stopped, partial) = try play(keys: "q")
        XCTAssertEqual(stopped, .stopped)
        XCTAssertEqual(partial, "first ", "q stops before the next event")
        let (escaped, _) = try play(keys: "\u{1b}")
        XCTAssertEqual(escaped, .stopped, "a lone Esc stops")
        let (afterSpeed, all) = try play(keys: "4i")
        XCTAssertEqual(afterSpeed, .finished)
        XCTAssertEqual(all, "first second third")
    }
}
