import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The console's reports beyond the inventory tables: a run's parsed rows, the security log,
/// configuration search and two devices' latest configurations.
extension ConsoleStore {
    // MARK: parsed rows

    /// A run's parsed rows as one table (`ParsedRows.table`): the columns (`device`, `service`
    /// when several services parsed, then the template's fields) and each row's values as text.
    public struct ParsedTable: Sendable, Equatable {
        public var columns: [String]
        public var rows: [[String]]
    }

    public func parsedRows(run: Int64) throws -> ParsedTable {
        let results = try read { try $0.results(run: run, device: nil) }
        let (columns, rows) = ParsedRows.table(results)
        return ParsedTable(columns: columns, rows: rows.map { r in columns.map { ParsedRows.text(r[$0]) } })
    }

    // MARK: configuration search

    /// A line of a device's latest configuration that matches, with where the pattern matches in
    /// it (character offsets into `text`).
    public struct ConfigHit: Sendable, Equatable {
        public var device: String
        public var line: Int
        public var text: String
        public var matches: [Range<Int>]
    }

    /// Searches the latest configuration of every device (`ConfigSearch`, as `switchboard config
    /// search`): the matching lines, by device name then line number.
    public func searchConfigurations(_ pattern: ConfigSearch.Pattern, maxHits: Int = 100_000) throws -> (hits: [ConfigHit], devicesSearched: Int) {
        let result = try read { try $0.searchConfigurations(pattern: pattern, context: 0, devices: nil) }
        var hits: [ConfigHit] = []
        for g in result.groups {
            for l in g.lines where l.isMatch {
                if hits.count >= maxHits { break }
                hits.append(ConfigHit(device: g.device, line: l.number, text: l.text, matches: Self.matchRanges(pattern, l.text)))
            }
        }
        return (hits, result.devicesSearched)
    }

    /// Every non-overlapping match of the pattern in one line, as character ranges.
    static func matchRanges(_ pattern: ConfigSearch.Pattern, _ line: String) -> [Range<Int>] {
        let bytes = Array(line.utf8)
        var byteRanges: [Range<Int>] = []
        bytes.withUnsafeBufferPointer { buf in
            buf.withMemoryRebound(to: CChar.self) { base in
                guard let p = base.baseAddress else { return }
                var offset = 0
                while offset <= bytes.count && byteRanges.count < 64 {
                    var m = regmatch_t()
                    m.rm_so = regoff_t(offset)
                    m.rm_eo = regoff_t(bytes.count)
                    let flags = REG_STARTEND | (offset > 0 ? REG_NOTBOL : 0)
                    guard regexec(&pattern.regex, p, 1, &m, flags) == 0 else { break }
                    let s = Int(m.rm_so), e = Int(m.rm_eo)
                    if e > s { byteRanges.append(s..<e) }
                    offset = max(e, s + 1)
                }
            }
        }
        // Byte offsets to character offsets.
        var charAt: [Int: Int] = [:]
        var chars = 0
        var byte = 0
        for c in line {
            charAt[byte] = chars
            byte += c.utf8.count
            chars += 1
        }
        charAt[byte] = chars
        func char(_ b: Int) -> Int {
            var b = b
            while charAt[b] == nil && b < bytes.count { b += 1 }
            return charAt[b] ?? chars
        }
        return byteRanges.map { char($0.lowerBound)..<char($0.upperBound) }.filter { !$0.isEmpty }
    }

    /// The latest configuration of two devices, read together.
    public func latestConfigurations(_ a: String, _ b: String) throws -> (ConfigVersion, ConfigVersion) {
        try read { r in
            func latest(_ name: String) throws -> ConfigVersion {
                guard let d = try r.device(named: name), let id = d.id else { throw StoreError.notFound("no device named '\(name)'") }
                guard let s = try r.latestConfigSnapshot(deviceId: id) else {
                    throw StoreError.notFound("device \(name) has no configuration snapshot")
                }
                return ConfigVersion(id: s.id ?? 0, deviceName: name, content: s.content, createdAt: s.createdAt)
            }
            return (try latest(a), try latest(b))
        }
    }
}

/// The security log (`SecurityLog`) read back: one entry per line, newest first.
public enum SecurityLogEntries {
    public struct Entry: Sendable, Equatable {
        public var time: String
        public var user: String
        public var action: String
        public var targets: String
        public var outcome: String
        public var detail: String
    }

    /// Reads the log (and its newest rotated file when the current one is short), newest first,
    /// at most `limit` entries. A missing file is no entries.
    public static func read(path: String, limit: Int = 20_000) -> [Entry] {
        var entries: [Entry] = []
        for file in [path, path + ".1"] {
            guard entries.count < limit, let data = FileManager.default.contents(atPath: file) else { continue }
            let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: true)
            for line in lines.reversed() {
                if entries.count >= limit { break }
                entries.append(parse(String(line)))
            }
        }
        return entries
    }

    /// `TIME key=value key="quoted \"value\"" …` (the format `SecurityLog.format` writes).
    public static func parse(_ line: String) -> Entry {
        var fields: [String: String] = [:]
        let scalars = Array(line.unicodeScalars)
        var i = 0
        func skipSpaces() { while i < scalars.count && scalars[i] == " " { i += 1 } }
        var time = ""
        while i < scalars.count && scalars[i] != " " { time.unicodeScalars.append(scalars[i]); i += 1 }
        while i < scalars.count {
            skipSpaces()
            var key = ""
            while i < scalars.count && scalars[i] != "=" && scalars[i] != " " { key.unicodeScalars.append(scalars[i]); i += 1 }
            guard i < scalars.count, scalars[i] == "=" else { continue }
            i += 1
            var value = ""
            if i < scalars.count && scalars[i] == "\"" {
                i += 1
                while i < scalars.count && scalars[i] != "\"" {
                    if scalars[i] == "\\" && i + 1 < scalars.count {
                        i += 1
                        switch scalars[i] {
                        case "n": value += "\n"
                        case "r": value += "\r"
                        case "t": value += "\t"
                        case "x" where i + 2 < scalars.count:
                            let hex = String(String.UnicodeScalarView(scalars[(i + 1)...(i + 2)]))
                            if let v = UInt32(hex, radix: 16), let s = Unicode.Scalar(v) { value.unicodeScalars.append(s) }
                            i += 2
                        default: value.unicodeScalars.append(scalars[i])
                        }
                    } else {
                        value.unicodeScalars.append(scalars[i])
                    }
                    i += 1
                }
                i += 1
            } else {
                while i < scalars.count && scalars[i] != " " { value.unicodeScalars.append(scalars[i]); i += 1 }
            }
            fields[key] = value
        }
        return Entry(time: time, user: fields["user"] ?? "", action: fields["action"] ?? "", targets: fields["targets"] ?? "",
                     outcome: fields["outcome"] ?? "", detail: fields["detail"] ?? "")
    }
}
