import Foundation

/// Writes an asciicast v2 recording (https://docs.asciinema.org/manual/asciicast/v2/): a header
/// line of JSON, then one `[time, "o", data]` line per chunk of the device's output (and
/// `[time, "r", "COLSxROWS"]` when the window changes). Input is never written: what the engineer
/// types is recorded only as the device echoes it, so a password typed at a prompt is not.
public struct AsciicastWriter: Sendable {
    public private(set) var text: String
    /// Bytes of output not yet written because they end in the middle of a UTF-8 character.
    private var partial: [UInt8] = []
    private var lastTime: Double = 0
    /// Stop adding output past this many characters of transcript (a runaway `show tech` loop
    /// must not exhaust memory); a marker says the rest was not kept.
    public let limit: Int
    public private(set) var truncated = false

    public init(width: Int, height: Int, timestamp: Date, title: String? = nil, terminal: String? = nil,
                limit: Int = 64 << 20) {
        self.limit = limit
        var header = "{\"version\": 2, \"width\": \(max(1, width)), \"height\": \(max(1, height)), \"timestamp\": \(Int(timestamp.timeIntervalSince1970))"
        if let terminal { header += ", \"env\": {\"TERM\": \(AsciicastWriter.quote(terminal))}" }
        if let title { header += ", \"title\": \(AsciicastWriter.quote(title))" }
        header += "}\n"
        text = header
    }

    /// Output at `time` seconds since the start. Times never go backwards.
    public mutating func output(_ bytes: [UInt8], at time: Double) {
        guard !truncated else { return }
        let chunk = partial + bytes
        let cut = AsciicastWriter.completePrefix(chunk)
        partial = Array(chunk[cut...])
        guard cut > 0 else { return }
        let data = String(decoding: chunk[..<cut], as: UTF8.self)
        if text.utf8.count + data.utf8.count > limit {
            truncated = true
            event(time, "m", "transcript truncated: output beyond \(limit >> 20) MB was not recorded")
            return
        }
        event(time, "o", data)
    }

    /// The window changed size.
    public mutating func resize(columns: Int, rows: Int, at time: Double) {
        guard !truncated else { return }
        event(time, "r", "\(columns)x\(rows)")
    }

    /// Writes what is left of an incomplete character (as U+FFFD) at the end of the session.
    public mutating func finish(at time: Double) {
        if !partial.isEmpty && !truncated {
            let data = String(decoding: partial, as: UTF8.self)
            partial = []
            event(time, "o", data)
        }
    }

    private mutating func event(_ time: Double, _ kind: String, _ data: String) {
        let t = max(lastTime, time)
        lastTime = t
        text += "[" + String(format: "%.6f", t) + ", \"" + kind + "\", " + AsciicastWriter.quote(data) + "]\n"
    }

    /// The length of the longest prefix that does not end inside a UTF-8 sequence.
    static func completePrefix(_ bytes: [UInt8]) -> Int {
        let n = bytes.count
        var i = n - 1
        var back = 0
        while i >= 0 && back < 4 {
            let b = bytes[i]
            if b & 0xC0 != 0x80 {
                // A lead byte (or ASCII): how long should its sequence be?
                let need: Int
                if b & 0x80 == 0 { need = 1 }
                else if b & 0xE0 == 0xC0 { need = 2 }
                else if b & 0xF0 == 0xE0 { need = 3 }
                else if b & 0xF8 == 0xF0 { need = 4 }
                else { need = 1 }
                return n - i < need ? i : n
            }
            i -= 1
            back += 1
        }
        return n
    }

    /// A JSON string literal: quotes, backslashes and every control character escaped.
    public static func quote(_ s: String) -> String {
        var out = "\""
        out.reserveCapacity(s.utf8.count + 2)
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 || u.value == 0x7F {
                    out += String(format: "\\u%04x", u.value)
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }
}

/// A parsed asciicast v2 recording: its header and output events, for replay and export.
public struct Asciicast: Sendable, Equatable {
    public struct Event: Sendable, Equatable {
        public var time: Double
        public var kind: String
        public var data: String
    }

    public var version: Int
    public var width: Int
    public var height: Int
    public var timestamp: Int?
    public var events: [Event]

    /// The output events only.
    public var output: [Event] { events.filter { $0.kind == "o" } }

    public struct FormatError: Error, CustomStringConvertible, Equatable {
        public var message: String
        public var description: String { message }
    }

    /// Parses a recording; the error names the line and what is wrong with it.
    public static func parse(_ text: String) throws(FormatError) -> Asciicast {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last == "" { lines.removeLast() }
        guard let first = lines.first,
              let header = try? JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: Any] else {
            throw FormatError(message: "line 1: not an asciicast header (a JSON object)")
        }
        guard let version = header["version"] as? Int, version == 2 else {
            throw FormatError(message: "line 1: version: expected 2")
        }
        guard let width = header["width"] as? Int, let height = header["height"] as? Int, width > 0, height > 0 else {
            throw FormatError(message: "line 1: width and height: expected positive integers")
        }
        var cast = Asciicast(version: version, width: width, height: height, timestamp: header["timestamp"] as? Int, events: [])
        var last = 0.0
        for (i, line) in lines.enumerated().dropFirst() {
            guard !line.isEmpty else { continue }
            guard let array = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [Any], array.count == 3,
                  let time = (array[0] as? NSNumber)?.doubleValue, let kind = array[1] as? String, let data = array[2] as? String else {
                throw FormatError(message: "line \(i + 1): expected [time, code, data]")
            }
            guard time >= last else { throw FormatError(message: "line \(i + 1): time \(time) goes back (previous \(last))") }
            last = time
            cast.events.append(Event(time: time, kind: kind, data: data))
        }
        return cast
    }
}

extension Asciicast {
    /// The output of an asciicast v2 transcript (`[time, "o", data]` lines after a header), what the
    /// transcript view (`v`) shows; a transcript in any other form is shown as it is.
    public static func output(ofTranscript transcript: String) -> String {
        var out = ""
        var sawEvent = false
        for (i, line) in transcript.split(separator: "\n", omittingEmptySubsequences: true).enumerated() {
            if i == 0 && line.hasPrefix("{") { continue }
            guard line.hasPrefix("["),
                  let array = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [Any], array.count >= 3,
                  let kind = array[1] as? String, let data = array[2] as? String else {
                if !sawEvent { return transcript }
                continue
            }
            sawEvent = true
            if kind == "o" { out += data }
        }
        return sawEvent ? out : transcript
    }
}
