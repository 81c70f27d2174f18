import Foundation
import Store

/// Records in and out of PostgreSQL as JSON, so the store's `Codable` records need no second,
/// hand-written mapping that could drift from the SQLite one.
///
/// Reads: `json_agg` of a sub-select whose columns are aliased to the records' camelCase keys, one
/// round trip and one string for a whole list (80,000 devices), decoded by `JSONDecoder` without a
/// key strategy (a key strategy would also rename the keys of nested dictionaries such as a
/// device's custom properties). Writes: the record encoded as JSON, re-keyed to the table's
/// columns in SQL (`PostgresExecutor.snakeObject`), typed by `jsonb_populate_record` against the
/// table's own row type.
enum PGRecords {
    /// Column names as the records spell them: `os_version` → `osVersion`.
    static func camel(_ column: String) -> String {
        var out = ""
        var upper = false
        for c in column {
            if c == "_" { upper = true; continue }
            out.append(upper ? Character(c.uppercased()) : c)
            upper = false
        }
        return out
    }

    static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            guard let date = parseTimestamp(text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a timestamp: \(text)"))
            }
            return date
        }
        return d
    }

    static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.dateEncodingStrategy = .custom { date, encoder in
            var c = encoder.singleValueContainer()
            try c.encode(formatTimestamp(date))
        }
        return e
    }

    static func encode<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try encoder().encode(value), as: UTF8.self)
    }

    static func decodeList<T: Decodable>(_ type: T.Type, json: String) throws -> [T] {
        do { return try decoder().decode([T].self, from: Data(json.utf8)) } catch {
            throw StoreError(.database, "PostgreSQL: a stored \(T.self) does not decode: \(error)")
        }
    }

    /// A time as PostgreSQL parses it, to the microsecond (its `timestamptz` precision).
    static func formatTimestamp(_ date: Date) -> String {
        let micros = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
        var seconds = micros / 1_000_000
        var fraction = micros % 1_000_000
        if fraction < 0 { fraction += 1_000_000; seconds -= 1 }
        var t = time_t(seconds)
        var parts = tm()
        gmtime_r(&t, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
                      Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), Int(fraction))
    }

    /// A time as `row_to_json` writes a `timestamptz` in a UTC session: `2026-12-06T03:47:59.123456+00:00`
    /// (fraction and zone optional, a space accepted for the `T`, `::text` style).
    static func parseTimestamp(_ text: String) -> Date? {
        let b = Array(text.utf8)
        func number(_ from: Int, _ count: Int) -> Int? {
            guard from + count <= b.count else { return nil }
            var n = 0
            for i in from..<(from + count) {
                guard b[i] >= 48 && b[i] <= 57 else { return nil }
                n = n * 10 + Int(b[i] - 48)
            }
            return n
        }
        guard b.count >= 19, let year = number(0, 4), let month = number(5, 2), let day = number(8, 2),
              let hour = number(11, 2), let minute = number(14, 2), let second = number(17, 2) else { return nil }
        var i = 19
        var micros = 0
        if i < b.count && b[i] == UInt8(ascii: ".") {
            i += 1
            var digits = 0
            while i < b.count, b[i] >= 48 && b[i] <= 57 {
                if digits < 6 { micros = micros * 10 + Int(b[i] - 48); digits += 1 }
                i += 1
            }
            while digits < 6 { micros *= 10; digits += 1 }
        }
        var offset = 0
        if i < b.count && (b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-")) {
            let sign = b[i] == UInt8(ascii: "-") ? -1 : 1
            guard let h = number(i + 1, 2) else { return nil }
            var m = 0
            if i + 3 < b.count { m = number(i + 3 + (b[i + 3] == UInt8(ascii: ":") ? 1 : 0), 2) ?? 0 }
            offset = sign * (h * 3600 + m * 60)
        }
        var parts = tm()
        parts.tm_year = Int32(year - 1900); parts.tm_mon = Int32(month - 1); parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour); parts.tm_min = Int32(minute); parts.tm_sec = Int32(second)
        let epoch = Int64(timegm(&parts)) - Int64(offset)
        return Date(timeIntervalSince1970: Double(epoch) + Double(micros) / 1_000_000)
    }
}
