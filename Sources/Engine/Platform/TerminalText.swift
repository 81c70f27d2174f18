/// Turns what a PTY sent into the text a terminal would show: ANSI escape sequences removed,
/// carriage returns and backspaces applied (pager prompts are erased that way), CRLF folded to LF,
/// other control characters dropped.
enum TerminalText {
    static func clean(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        bytes.withUnsafeBufferPointer { input in
            var line: [UInt8] = []
            var cursor = 0
            var edited = false
            var i = 0
            let count = input.count

            func endLine() {
                if edited {
                    // Pager erasers leave blanks behind the text that overwrote them.
                    while let last = line.last, last == 0x20 { line.removeLast() }
                }
                out.append(contentsOf: line)
                line.removeAll(keepingCapacity: true)
                cursor = 0
                edited = false
            }

            while i < count {
                let byte = input[i]
                switch byte {
                case 0x0a:
                    endLine()
                    out.append(0x0a)
                    i += 1
                case 0x0d:
                    // CR before LF (or before another CR) is just the line end.
                    var j = i + 1
                    while j < count && input[j] == 0x0d { j += 1 }
                    if j < count && input[j] == 0x0a {
                        i = j
                    } else {
                        if cursor > 0 { edited = true }
                        cursor = 0
                        i = j
                    }
                case 0x08:
                    if cursor > 0 { cursor -= 1 }
                    edited = true
                    i += 1
                case 0x1b:
                    i = skipEscape(input, from: i)
                case 0x09, 0x20...0xff:
                    if cursor == line.count {
                        line.append(byte)
                    } else {
                        line[cursor] = byte
                    }
                    cursor += 1
                    i += 1
                default:
                    i += 1  // BEL, NUL and other controls show nothing
                }
            }
            if !line.isEmpty { endLine() }
        }
        return out
    }

    /// The index after the escape sequence starting at `start` (CSI, OSC, or a two-byte escape).
    private static func skipEscape(_ input: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        var i = start + 1
        guard i < input.count else { return i }
        switch input[i] {
        case 0x5b:  // CSI: parameters, then a final byte in 0x40...0x7e
            i += 1
            while i < input.count && !(0x40...0x7e).contains(input[i]) { i += 1 }
            return min(i + 1, input.count)
        case 0x5d, 0x50, 0x5f, 0x5e:  // OSC, DCS, APC, PM: up to BEL or ESC \
            i += 1
            while i < input.count {
                if input[i] == 0x07 { return i + 1 }
                if input[i] == 0x1b && i + 1 < input.count && input[i + 1] == 0x5c { return i + 2 }
                i += 1
            }
            return i
        case 0x28, 0x29, 0x2a, 0x2b:  // charset designation: one more byte
            return min(i + 2, input.count)
        default:
            return i + 1
        }
    }
}
