import Foundation

/// JSON helpers shared by the settings and properties loaders: reading a file with precise
/// syntax error positions, converting Foundation values, merging layers and wording problems.
enum SettingsJSON {
    /// The outcome of reading one JSON file.
    enum ReadResult {
        case value(JSONValue)
        /// The file does not exist (callers decide whether that is a problem).
        case missing
        case problem(String)
    }

    /// Reads and parses `path`. `displayPath` is how problems name the file (`~` for home).
    static func read(_ path: String, displayPath: String) -> ReadResult {
        guard FileManager.default.fileExists(atPath: path) else { return .missing }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            return .problem("\(displayPath): cannot read: \(error.localizedDescription)")
        }
        switch parse(data) {
        case .success(let value): return .value(value)
        case .failure(let syntax):
            return .problem("\(displayPath): line \(syntax.line), column \(syntax.column): malformed JSON: \(syntax.reason)")
        }
    }

    /// A JSON syntax error with its 1-based position.
    struct SyntaxError: Error, Equatable {
        var line: Int
        var column: Int
        var reason: String
    }

    /// Parses JSON text. Foundation's parser does the work; on Linux its error only carries a
    /// byte offset inside the debug description ("Invalid value around character 19."), so the
    /// line and column are computed from that offset here.
    static func parse(_ data: Data) -> Result<JSONValue, SyntaxError> {
        // An empty file is a common mistake (truncated write, `touch`); say so plainly.
        if data.allSatisfy({ [0x20, 0x09, 0x0A, 0x0D].contains($0) }) {
            let (line, column) = position(ofByteOffset: data.count, in: data)
            return .failure(SyntaxError(line: line, column: column, reason: "the file is empty"))
        }
        do {
            let object = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
            return .success(convert(object))
        } catch {
            let text = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String
                ?? error.localizedDescription
            let (offset, reason) = offsetAndReason(from: text, dataCount: data.count)
            let (line, column) = position(ofByteOffset: offset, in: data)
            return .failure(SyntaxError(line: line, column: column, reason: reason))
        }
    }

    /// Extracts the byte offset and a lower-case reason from Foundation's message. Messages end in
    /// "around character N." or "at N."; end-of-file errors carry no offset and point past the end.
    static func offsetAndReason(from message: String, dataCount: Int) -> (Int, String) {
        var reason = message.trimmingCharacters(in: .whitespaces)
        if reason.hasSuffix(".") { reason.removeLast() }
        var offset = dataCount
        for marker in [" around character ", " at "] {
            if let range = reason.range(of: marker, options: .backwards),
               let n = Int(reason[range.upperBound...]) {
                offset = min(max(n, 0), dataCount)
                reason = String(reason[..<range.lowerBound])
                break
            }
        }
        if reason.lowercased().hasPrefix("unexpected end of file") { reason = "unexpected end of file" }
        if let first = reason.first { reason = first.lowercased() + reason.dropFirst() }
        return (offset, reason)
    }

    /// 1-based line and column of a byte offset. Columns count characters, not bytes, so they
    /// match what an editor shows on lines with non-ASCII text.
    static func position(ofByteOffset offset: Int, in data: Data) -> (line: Int, column: Int) {
        let bytes = [UInt8](data.prefix(offset))
        var line = 1
        var lineStart = 0
        for (i, byte) in bytes.enumerated() where byte == 0x0A {
            line += 1
            lineStart = i + 1
        }
        var prefix = bytes[lineStart...]
        // A byte order mark is invisible in editors; do not count it as a column.
        if line == 1, prefix.starts(with: [0xEF, 0xBB, 0xBF]) { prefix = prefix.dropFirst(3) }
        let column = String(decoding: prefix, as: UTF8.self).count + 1
        return (line, column)
    }

    /// Converts `JSONSerialization` output. Not `JSONValue(any:)`: on Linux an `NSNumber` holding
    /// 0 or 1 casts to `Bool`, which would turn `"max_process": 1` into `true`. The number's
    /// Objective-C type code is the reliable way to tell booleans, integers and doubles apart.
    static func convert(_ object: Any) -> JSONValue {
        switch object {
        case let s as String: return .string(s)
        case let n as NSNumber:
            switch String(cString: n.objCType) {
            case "c", "B": return .bool(n.boolValue)
            case "f", "d":
                let d = n.doubleValue
                return d.rounded() == d && abs(d) < 1e15 ? .int(Int(d)) : .double(d)
            default: return .int(n.intValue)
            }
        case let a as [Any]: return .array(a.map(convert))
        case let o as [String: Any]: return .object(o.mapValues(convert))
        case is NSNull: return .null
        default: return .string(String(describing: object))
        }
    }

    /// Deep merge: objects merge key by key (recursively), anything else in `top` replaces `base`.
    static func merge(_ base: JSONValue, _ top: JSONValue) -> JSONValue {
        guard case .object(var merged) = base, case .object(let overrides) = top else { return top }
        for (key, value) in overrides {
            merged[key] = merged[key].map { merge($0, value) } ?? value
        }
        return .object(merged)
    }

    /// Sets a value at a key path, creating the objects along the way.
    static func setting(_ value: JSONValue, at path: [String], in tree: JSONValue) -> JSONValue {
        guard let first = path.first else { return value }
        var object = tree.objectValue ?? [:]
        object[first] = setting(value, at: Array(path.dropFirst()), in: object[first] ?? .object([:]))
        return .object(object)
    }

    /// The value at a key path, if any.
    static func value(at path: [String], in tree: JSONValue) -> JSONValue? {
        var node = tree
        for component in path {
            guard let next = node.objectValue?[component] else { return nil }
            node = next
        }
        return node
    }

    /// A value as quoted in a problem: strings in quotes, lists and objects named, not dumped.
    static func describe(_ value: JSONValue) -> String {
        switch value {
        case .string(let s): return quote(s)
        case .int, .double, .bool: return value.description
        case .null: return "null"
        case .array: return "a list"
        case .object: return "an object"
        }
    }

    /// JSON-style quoting, so empty strings and trailing spaces are visible.
    static func quote(_ s: String) -> String {
        let data = (try? JSONEncoder.sorted.encode(s)) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    /// One-line JSON text of a value, for the key listing.
    static func compact(_ value: JSONValue) -> String {
        if case .double(let d) = value { return NumberBounds.format(d) }
        let data = (try? JSONEncoder.sorted.encode(value)) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    /// The candidate within edit distance 2 of `word` (the usual size of a typo), if any.
    static func closest(to word: String, among candidates: [String]) -> String? {
        let scored = candidates.map { ($0, editDistance(word.lowercased(), $0.lowercased())) }
        guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= 2, best.1 < word.count else { return nil }
        return best.0
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = Swift.min(previous[j] + 1, current[j - 1] + 1,
                                       previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}

extension Paths {
    /// `$XDG_CONFIG_HOME/switchboard/properties.json`: replaces the shipped properties file when present.
    public var userPropertiesPath: String { configDirectory + "/properties.json" }

    /// A path as shown in messages: the home directory abbreviated to `~`.
    func displayPath(_ path: String) -> String {
        let home = self.home.hasSuffix("/") ? String(self.home.dropLast()) : self.home
        guard !home.isEmpty, path.hasPrefix(home + "/") else { return path }
        return "~" + path.dropFirst(home.count)
    }
}
