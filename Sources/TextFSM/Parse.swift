import Foundation

extension TextFSMTemplate {
    /// Parses text as textfsm's `TextFSM.ParseText` does (a fresh FSM each time): line by line, each
    /// line through the current state's rules (Python `re.match`: anchored at the line's start), the
    /// implicit `Next.Record` at the end unless the template declares `EOF` or ended in `End`.
    public func parse(_ text: String) throws(TextFSMError) -> TextFSMResult {
        lock.lock()
        defer { lock.unlock() }
        var fsm = Run(template: self)
        try fsm.run(text)
        return TextFSMResult(header: header, rows: fsm.result)
    }

    /// Python's str.splitlines(): \n, \r, \r\n, \v, \f, \x1c-\x1e, \x85, \u2028, \u2029.
    static func splitLines(_ text: String) -> [String] {
        var out: [String] = []
        var text = text
        text.withUTF8 { b in
            var start = 0, i = 0
            let n = b.count
            while i < n {
                let c = b[i]
                var len = 0
                switch c {
                case 0x0A, 0x0B, 0x0C, 0x1C, 0x1D, 0x1E: len = 1
                case 0x0D: len = (i + 1 < n && b[i + 1] == 0x0A) ? 2 : 1
                case 0xC2 where i + 1 < n && b[i + 1] == 0x85: len = 2
                case 0xE2 where i + 2 < n && b[i + 1] == 0x80 && (b[i + 2] == 0xA8 || b[i + 2] == 0xA9): len = 3
                default: i += 1; continue
                }
                out.append(String(decoding: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self))
                i += len
                start = i
            }
            if start < n { out.append(String(decoding: UnsafeBufferPointer(rebasing: b[start..<n]), as: UTF8.self)) }
        }
        return out
    }
}

private struct SkipRecord: Error {}

private struct Run {
    let t: TextFSMTemplate
    var state: Int
    var stateName = "Start"
    var result: [[TextFSMValue]] = []
    // Per value: the current value (nil: Python's None), Filldown's remembered value, List's items.
    var current: [TextFSMValue?]
    var filldown: [TextFSMValue?]
    var items: [[TextFSMValue]]
    let hasFilldown: [Bool]

    init(template: TextFSMTemplate) {
        t = template
        state = template.states["Start"]!
        let n = template.values.count
        current = Array(repeating: nil, count: n)
        filldown = Array(repeating: nil, count: n)
        items = Array(repeating: [], count: n)
        hasFilldown = template.values.map { $0.options.contains(.Filldown) }
    }

    mutating func run(_ text: String) throws(TextFSMError) {
        let eofDeclared = t.states["EOF"] != nil
        for raw in TextFSMTemplate.splitLines(text) {
            try checkLine(Line(raw))
            if stateName == "End" || stateName == "EOF" { break }
        }
        if stateName != "End" && !eofDeclared { appendRecord() }
    }

    mutating func checkLine(_ line: Line) throws(TextFSMError) {
        for rule in t.rules[state] {
            guard let m = rule.regex.match(line) else { continue }
            for a in rule.assignments {
                try assign(a.value, m[a.group].map { .string(line.substring($0)) })
            }
            switch rule.recordOp {
            case .record: appendRecord()
            case .clear: clearRecord()
            case .clearall: clearAllRecord()
            case .noRecord: break
            }
            switch rule.lineOp {
            case .error:
                if !rule.newState.isEmpty {
                    throw TextFSMError(message: "\(t.name):\(rule.line): Error: \(rule.newState) (input line: \(line.text))", ruleLine: rule.line, inputLine: line.text)
                }
                throw TextFSMError(message: "\(t.name):\(rule.line): state error raised (input line: \(line.text))", ruleLine: rule.line, inputLine: line.text)
            case .continue:
                continue
            case .next:
                if !rule.newState.isEmpty {
                    if let s = t.states[rule.newState], rule.newState != "EOF" { state = s }
                    stateName = rule.newState
                }
                return
            }
        }
    }

    mutating func assign(_ k: Int, _ v: TextFSMValue?) throws(TextFSMError) {
        current[k] = v
        let value = t.values[k]
        for o in value.options {
            switch o {
            case .Filldown: filldown[k] = v
            case .Fillup:
                if let v, v.truthy {
                    for r in result.indices.reversed() {
                        if result[r][k].truthy { break }
                        result[r][k] = v
                    }
                }
            case .List:
                let re = value.listRegex!
                if re.python.groupCount > 1 {
                    guard case .string(let s)? = v else {
                        throw TextFSMError(message: "\(t.name): List value \(value.name): a nested group took no part in the match (Python raises TypeError here)")
                    }
                    if !re.names.isEmpty, let d = re.groupDict(Line(s)) {
                        var dict: [String: TextFSMValue] = [:]
                        for (name, val) in d { dict[name] = val.map { .string($0) } ?? .null }
                        items[k].append(.dict(dict))
                        continue
                    }
                }
                items[k].append(v ?? .null)
            case .Key, .Required: break
            }
        }
    }

    mutating func clearRecord() {
        for k in current.indices {
            current[k] = nil
            for o in t.values[k].options {
                if o == .Filldown { current[k] = filldown[k] }
                if o == .List && !hasFilldown[k] { items[k] = [] }
            }
        }
    }

    mutating func clearAllRecord() {
        for k in current.indices {
            current[k] = nil
            filldown[k] = nil
            items[k] = []
        }
    }

    mutating func appendRecord() {
        if t.values.isEmpty { return }
        var record: [TextFSMValue?] = []
        record.reserveCapacity(current.count)
        for k in current.indices {
            for o in t.values[k].options {
                if o == .Required && !(current[k]?.truthy ?? false) { clearRecord(); return }
                if o == .List { current[k] = .list(items[k]) }
            }
            record.append(current[k])
        }
        if record.allSatisfy({ $0 == nil || $0 == .list([]) }) { return }
        result.append(record.map { $0 ?? .string("") })
        clearRecord()
    }
}
