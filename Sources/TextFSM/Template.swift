import Foundation

/// A template error: the template's name, the line (1-based; 0 when it concerns the whole template)
/// and the problem.
public struct TextFSMTemplateError: Error, CustomStringConvertible, Sendable {
    public let file: String
    public let line: Int
    public let message: String
    public var description: String { line > 0 ? "\(file):\(line): \(message)" : "\(file): \(message)" }
}

/// An error while parsing text: a rule's `Error` action (or, as in Python, a List value whose nested
/// groups meet a group that took no part).
public struct TextFSMError: Error, CustomStringConvertible, Sendable {
    public let message: String
    /// For an `Error` action: the rule's line in the template, and the input line it matched.
    public var ruleLine: Int? = nil
    public var inputLine: String? = nil
    public init(message: String, ruleLine: Int? = nil, inputLine: String? = nil) {
        self.message = message; self.ruleLine = ruleLine; self.inputLine = inputLine
    }
    public var description: String { message }
}

/// A TextFSM template (Google's textfsm format), compiled. Parsing with it is thread-safe: uses are
/// serialised (ICU matchers hold state).
public final class TextFSMTemplate: @unchecked Sendable {
    public enum Option: String, Sendable, CaseIterable { case Filldown, Key, Required, List, Fillup }

    public struct Value: Sendable {
        public let name: String
        public let options: [Option]
        public let regex: String
        /// The value's own regex, for the nested named groups of List values.
        let listRegex: CompiledRegex?
    }

    enum LineOp: String { case next = "Next", `continue` = "Continue", error = "Error" }
    enum RecordOp: String { case noRecord = "NoRecord", record = "Record", clear = "Clear", clearall = "Clearall" }

    struct Rule {
        let regex: CompiledRegex
        let lineOp: LineOp
        let recordOp: RecordOp
        let newState: String  // "" for none; an Error's message (with its quotes)
        let line: Int
        /// (value index, group number) for each named group that is a Value, in group order.
        var assignments: [(value: Int, group: Int)]
        /// Nested named groups that are not Values (Python ignores them).
    }

    public let name: String
    public let values: [Value]
    public var header: [String] { values.map(\.name) }
    /// State names in definition order (`End` removed, as textfsm does).
    public private(set) var stateNames: [String] = []
    var states: [String: Int] = [:]
    var rules: [[Rule]] = []
    let lock = NSLock()

    public func values(with option: Option) -> [String] { values.filter { $0.options.contains(option) }.map(\.name) }

    static let maxNameLength = 48

    public convenience init(contentsOf url: URL) throws {
        let text = try String(contentsOf: url, encoding: .utf8)
        try self.init(parsing: text, name: url.lastPathComponent)
    }

    public init(parsing text: String, name: String = "template") throws(TextFSMTemplateError) {
        self.name = name
        let lines = TextFSMTemplate.fileLines(text)
        var n = 0
        func fail(_ line: Int, _ m: String) -> TextFSMTemplateError { TextFSMTemplateError(file: name, line: line, message: m) }

        // Values: a contiguous block at the head, ended by a blank line.
        var values: [Value] = []
        var valueMap: [String: String] = [:]
        while n < lines.count {
            let line = TextFSMTemplate.rstrip(lines[n])
            n += 1
            if line.isEmpty { break }
            if TextFSMTemplate.isComment(line) { continue }
            if line.hasPrefix("Value ") {
                let v = try TextFSMTemplate.parseValue(line, lineNumber: n, fail: fail)
                if values.contains(where: { $0.name == v.0.name }) { throw fail(n, "duplicate declarations for Value '\(v.0.name)'") }
                values.append(v.0)
                valueMap[v.0.name] = v.1
            } else if values.isEmpty {
                throw fail(n, "no Value definitions found (expected 'Value [OPTIONS] NAME (REGEX)')")
            } else {
                throw fail(n, "expected a blank line after the last Value entry")
            }
        }
        self.values = values

        // States: a name line, then rules (lines starting ` ^`, `  ^` or `\t^`) up to a blank line.
        var parsedStates: [(String, [RawRule])] = []
        while n < lines.count {
            var stateName = ""
            while n < lines.count {
                let line = TextFSMTemplate.rstrip(lines[n])
                n += 1
                if line.isEmpty || TextFSMTemplate.isComment(line) { continue }
                let ok = !line.unicodeScalars.contains { !($0 == "_" || $0.properties.isAlphabetic || $0.properties.numericType != nil) }
                if !ok || line.count > TextFSMTemplate.maxNameLength || LineOp(rawValue: line) != nil || RecordOp(rawValue: line) != nil {
                    throw fail(n, "invalid state name '\(line)'")
                }
                if parsedStates.contains(where: { $0.0 == line }) { throw fail(n, "duplicate state name '\(line)'") }
                stateName = line
                break
            }
            if stateName.isEmpty { break }
            var stateRules: [RawRule] = []
            while n < lines.count {
                let line = TextFSMTemplate.rstrip(lines[n])
                n += 1
                if line.isEmpty { break }
                if TextFSMTemplate.isComment(line) { continue }
                if !(line.hasPrefix(" ^") || line.hasPrefix("  ^") || line.hasPrefix("\t^")) {
                    throw fail(n, "missing white space or caret ('^') before rule")
                }
                stateRules.append(try TextFSMTemplate.parseRule(line, lineNumber: n, valueMap: valueMap, fail: fail))
            }
            parsedStates.append((stateName, stateRules))
        }

        // Validation, as textfsm's _ValidateFSM.
        guard parsedStates.contains(where: { $0.0 == "Start" }) else { throw fail(0, "missing state 'Start'") }
        if let end = parsedStates.first(where: { $0.0 == "End" }), let r = end.1.first { throw fail(r.line, "the 'End' state must be empty") }
        if let eof = parsedStates.first(where: { $0.0 == "EOF" }), let r = eof.1.first { throw fail(r.line, "the 'EOF' state must be empty") }
        parsedStates.removeAll { $0.0 == "End" }
        let names = Set(parsedStates.map(\.0))
        for (state, rs) in parsedStates {
            for r in rs where r.lineOp != .error && !r.newState.isEmpty && r.newState != "End" && r.newState != "EOF" {
                if !names.contains(r.newState) { throw fail(r.line, "state '\(r.newState)' not found, referenced in state '\(state)'") }
            }
        }
        for (k, (state, rs)) in parsedStates.enumerated() {
            stateNames.append(state)
            states[state] = k
            rules.append(rs.map { r in
                var assignments: [(Int, Int)] = []
                for g in r.regex.names { if let vi = values.firstIndex(where: { $0.name == g.name }) { assignments.append((vi, g.index)) } }
                return Rule(regex: r.regex, lineOp: r.lineOp, recordOp: r.recordOp, newState: r.newState, line: r.line, assignments: assignments)
            })
        }
    }

    struct RawRule { let regex: CompiledRegex; let lineOp: LineOp; let recordOp: RecordOp; let newState: String; let line: Int }

    /// Lines as Python's text-mode file iteration gives them (universal newlines).
    static func fileLines(_ text: String) -> [String] {
        var out: [String] = []
        var cur = String.UnicodeScalarView()
        var it = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = nil
        while true {
            let c: Unicode.Scalar
            if let p = pending { c = p; pending = nil } else if let x = it.next() { c = x } else { break }
            if c == "\n" { out.append(String(cur)); cur = .init() }
            else if c == "\r" {
                out.append(String(cur)); cur = .init()
                if let x = it.next(), x != "\n" { pending = x }
            } else { cur.append(c) }
        }
        if !cur.isEmpty { out.append(String(cur)) }
        return out
    }

    /// Python's str.rstrip() / strip() (Unicode whitespace).
    static func isPySpace(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0: return true
        default: return c.properties.isWhitespace
        }
    }
    static func rstrip(_ s: String) -> String {
        var u = Array(s.unicodeScalars)
        while let l = u.last, isPySpace(l) { u.removeLast() }
        return String(String.UnicodeScalarView(u))
    }
    static func strip(_ s: String) -> String {
        let r = Array(rstrip(s).unicodeScalars)
        return String(String.UnicodeScalarView(r.drop { isPySpace($0) }))
    }
    static func isComment(_ line: String) -> Bool {
        for c in line.unicodeScalars { if c == "#" { return true }; if !isPyValueSpace(c) { return false } }
        return false
    }
    /// `\s` in a Python str pattern.
    static func isPyValueSpace(_ c: Unicode.Scalar) -> Bool { isPySpace(c) }

    static func parseValue(_ line: String, lineNumber n: Int, fail: (Int, String) -> TextFSMTemplateError) throws(TextFSMTemplateError) -> (Value, String) {
        let tokens = line.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        guard tokens.count >= 3 else { throw fail(n, "expected at least 3 tokens on a Value line") }
        var options: [Option] = []
        let name: String, regex: String
        if !tokens[2].hasPrefix("(") {
            for o in tokens[1].split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
                guard let opt = Option(rawValue: o) else { throw fail(n, "unknown option '\(o)' on Value \(tokens[2])") }
                if options.contains(opt) { throw fail(n, "duplicate option '\(o)' on Value \(tokens[2])") }
                options.append(opt)
            }
            name = tokens[2]
            regex = tokens[3...].joined(separator: " ")
        } else {
            name = tokens[1]
            regex = tokens[2...].joined(separator: " ")
        }
        if name.count > maxNameLength { throw fail(n, "invalid Value name '\(name)' or name too long") }
        let r = Array(regex.unicodeScalars)
        if r.isEmpty || r.first != "(" || r.last != ")" || (r.count >= 2 && r[r.count - 2] == "\\") || r.count < 2 {
            throw fail(n, "Value \(name): the regex '\(regex)' must be contained within a '()' pair")
        }
        let compiled: CompiledRegex
        do { compiled = try CompiledRegex(regex) } catch { throw fail(n, "Value \(name): invalid regex '\(regex)': \(error.message)") }
        let template = "(?P<\(name)>" + String(regex.dropFirst())
        return (Value(name: name, options: options, regex: regex, listRegex: options.contains(.List) ? compiled : nil), template)
    }

    // The action part after the last `\s->` of a rule, as textfsm's ACTION_RE, ACTION2_RE, ACTION3_RE.
    static let matchAction = try! CompiledRegex(#"(?P<match>.*)(\s->(?P<action>.*))"#)
    static let action1 = try! CompiledRegex(#"\s+(?P<ln_op>Continue|Next|Error)(\.(?P<rec_op>Clear|Clearall|Record|NoRecord))?(\s+(?P<new_state>\w+|\".*\"))?$"#)
    static let action2 = try! CompiledRegex(#"\s+(?P<rec_op>Clear|Clearall|Record|NoRecord)(\s+(?P<new_state>\w+|\".*\"))?$"#)
    static let action3 = try! CompiledRegex(#"(\s+(?P<new_state>\w+|\".*\"))?$"#)
    static let metaLock = NSLock()

    static func parseRule(_ raw: String, lineNumber n: Int, valueMap: [String: String], fail: (Int, String) -> TextFSMTemplateError) throws(TextFSMTemplateError) -> RawRule {
        let line = strip(raw)
        metaLock.lock()
        let ma = matchAction.groupDict(Line(line))
        metaLock.unlock()
        let match = ma.map { $0[0].1 ?? "" } ?? line
        var regex = match
        if !valueMap.isEmpty {
            guard let r = substitute(match, valueMap) else {
                throw fail(n, "duplicate or invalid variable substitution in '\(match)' (use $$ for a literal $; ${NAME} must name a Value)")
            }
            regex = r
        }
        let compiled: CompiledRegex
        do { compiled = try CompiledRegex(regex) } catch { throw fail(n, "invalid regular expression '\(regex)': \(error.message)") }
        guard let ma, let action = ma[1].1 else {
            return RawRule(regex: compiled, lineOp: .next, recordOp: .noRecord, newState: "", line: n)
        }
        metaLock.lock()
        let a = action1.groupDict(Line(action)) ?? action2.groupDict(Line(action)) ?? action3.groupDict(Line(action))
        metaLock.unlock()
        guard let a else { throw fail(n, "badly formatted rule '\(line)'") }
        func get(_ k: String) -> String? { a.first { $0.0 == k }?.1.flatMap { $0.isEmpty ? nil : $0 } }
        let lineOp = get("ln_op").flatMap(LineOp.init(rawValue:)) ?? .next
        let recordOp = get("rec_op").flatMap(RecordOp.init(rawValue:)) ?? .noRecord
        let newState = get("new_state") ?? ""
        if get("ln_op") == "Continue" && !newState.isEmpty {
            throw fail(n, "action 'Continue' with new state \(newState) specified")
        }
        if lineOp != .error && !newState.isEmpty {
            let f = newState.unicodeScalars.first!
            if !(f == "_" || f.properties.isAlphabetic || f.properties.numericType != nil) {
                throw fail(n, "alphanumeric characters only in state names")
            }
        }
        return RawRule(regex: compiled, lineOp: lineOp, recordOp: recordOp, newState: newState, line: n)
    }

    /// Python's string.Template(s).substitute(map): `$$`, `$name`, `${name}` (names ASCII
    /// `[_a-z][_a-z0-9]*`, case-insensitive); nil on an invalid placeholder or an unknown name.
    static func substitute(_ s: String, _ map: [String: String]) -> String? {
        let u = Array(s.unicodeScalars)
        var out = String.UnicodeScalarView()
        var i = 0
        func isStart(_ c: Unicode.Scalar) -> Bool { c == "_" || (c.isASCII && c.properties.isAlphabetic) }
        func isCont(_ c: Unicode.Scalar) -> Bool { isStart(c) || ("0"..."9").contains(c) }
        while i < u.count {
            let c = u[i]
            guard c == "$" else { out.append(c); i += 1; continue }
            guard i + 1 < u.count else { return nil }
            let d = u[i + 1]
            if d == "$" { out.append("$"); i += 2; continue }
            if isStart(d) {
                var j = i + 1
                while j < u.count, isCont(u[j]) { j += 1 }
                guard let v = map[String(String.UnicodeScalarView(u[(i + 1)..<j]))] else { return nil }
                out.append(contentsOf: v.unicodeScalars); i = j; continue
            }
            if d == "{", i + 2 < u.count, isStart(u[i + 2]) {
                var j = i + 2
                while j < u.count, isCont(u[j]) { j += 1 }
                if j < u.count, u[j] == "}" {
                    guard let v = map[String(String.UnicodeScalarView(u[(i + 2)..<j]))] else { return nil }
                    out.append(contentsOf: v.unicodeScalars); i = j + 1; continue
                }
            }
            return nil
        }
        return String(out)
    }
}
