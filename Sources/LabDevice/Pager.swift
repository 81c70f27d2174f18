/// The `--More--` pager of network gear. Automation that forgets `terminal length 0` hangs on it
/// in production, so the lab reproduces it faithfully: space shows the next screen, Enter one more
/// line, anything else (`q`, Ctrl-C, ...) abandons the rest of the output.
struct Pager {
    let prompt: String
    /// Terminal length in lines; output of more lines than this is paged, one screen being
    /// `length - 1` lines plus the prompt line.
    let length: Int

    func show(_ body: [UInt8], output: Output, input: Input) {
        body.withUnsafeBufferPointer { bytes in
            guard length > 1, Pager.exceedsLines(bytes, length) else {
                output.write(bytes)
                return
            }
            var position = 0
            /// Writes up to `count` lines from `position`; the last one may lack its newline.
            func emit(lines count: Int) {
                var remaining = count
                var end = position
                while end < bytes.count && remaining > 0 {
                    if bytes[end] == 0x0a { remaining -= 1 }
                    end += 1
                }
                output.write(UnsafeBufferPointer(rebasing: bytes[position..<end]))
                position = end
            }
            emit(lines: length - 1)
            let eraser = "\r" + String(repeating: " ", count: prompt.count) + "\r"
            input.withKeyMode {
                while position < bytes.count {
                    output.write(prompt)
                    output.flush()
                    let key = input.readKey()
                    // Real gear wipes the prompt so the page continues as if it had never been there.
                    output.write(eraser)
                    switch key {
                    case 0x20: emit(lines: length - 1)  // space: next screen
                    case 0x0d, 0x0a: emit(lines: 1)  // Enter: next line
                    default: return  // q, Ctrl-C, end of input, ...: stop
                    }
                }
            }
        }
    }

    /// Whether `bytes` holds more than `limit` lines. Stops counting early: 10 MB outputs are
    /// only ever scanned as far as the first screen.
    static func exceedsLines(_ bytes: UnsafeBufferPointer<UInt8>, _ limit: Int) -> Bool {
        var lines = 0
        var index = 0
        while index < bytes.count {
            if bytes[index] == 0x0a {
                lines += 1
                if lines > limit || (lines == limit && index + 1 < bytes.count) { return true }
            }
            index += 1
        }
        return false
    }
}
