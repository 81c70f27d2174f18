// The running configuration of IOS, EOS and NX-OS: top-level lines, some of which open a section of
// indented lines (`interface X`, `router ospf 1`), with `!` or blank separators. The text is what is
// persisted; this model exists only to apply one change at a time with device-like semantics.

struct SectionedConfig: Sendable {
    struct Block: Sendable, Equatable {
        var header: String
        var children: [String] = []
        var isSeparator: Bool { header == "!" || header.isEmpty }
    }

    private(set) var blocks: [Block]
    let indent: String
    let separator: String

    init(text: String, style: PlatformStyle) {
        indent = style.configIndent
        separator = style.blockSeparator
        blocks = []
        for line in Text.lines(text) {
            let first = line.first
            if first == " " || first == "\t", !blocks.isEmpty, !blocks[blocks.count - 1].isSeparator {
                // Keep deeper nesting relative to the section's own indentation.
                let child = line.hasPrefix(indent) ? String(line.dropFirst(indent.count)) : Text.trim(line)
                blocks[blocks.count - 1].children.append(child)
            } else {
                let trimmed = Text.trim(line)
                blocks.append(Block(header: trimmed == "!" || trimmed.isEmpty ? trimmed : line))
            }
        }
    }

    var text: String {
        var out = ""
        for block in blocks {
            out += block.header + "\n"
            for child in block.children { out += indent + child + "\n" }
        }
        return out
    }

    func block(_ header: String) -> Block? { blocks.first { $0.header == header } }

    func blocks(startingWith words: [String]) -> [Block] {
        blocks.filter { !$0.isSeparator && SectionedConfig.hasPrefix(Text.words($0.header), words) }
    }

    /// The `hostname` line's value, if any.
    var hostname: String? {
        blocks.first { $0.header.hasPrefix("hostname ") }.map { Text.trim($0.header.dropFirst("hostname ".count)) }
    }

    // MARK: Changes

    /// Adds or replaces a top-level line (`ntp server 1.2.3.4`, `hostname r9`).
    mutating func setGlobal(_ line: String, singleValued: [[String]]) {
        let key = SectionedConfig.key(of: line, in: singleValued)
        let negated = "no " + line
        if blocks.contains(where: { $0.header == line }) { return }
        if let index = blocks.firstIndex(where: { $0.header == negated }) {
            blocks.remove(at: index)  // `ip http server` undoes a recorded `no ip http server`
            return
        }
        if let key {
            let matching = blocks.indices.filter {
                !blocks[$0].isSeparator && SectionedConfig.key(of: blocks[$0].header, in: singleValued) == key
            }
            if let first = matching.first {
                blocks[first].header = line
                for index in matching.dropFirst().reversed() { blocks.remove(at: index) }
                tidySeparators()
                return
            }
        }
        insertBlock(Block(header: line), separated: false)
    }

    /// `no <target>` at the top level. Returns whether anything matched.
    @discardableResult
    mutating func removeGlobal(_ target: String, singleValued: [[String]], retained: [String]) -> Bool {
        let targetWords = Text.words(target)
        let key = SectionedConfig.key(of: target, in: singleValued)
        let before = blocks.count
        blocks.removeAll { block in
            guard !block.isSeparator else { return false }
            if block.header == target { return true }
            if SectionedConfig.hasPrefix(Text.words(block.header), targetWords) { return true }
            if let key, SectionedConfig.key(of: block.header, in: singleValued) == key { return true }
            return false
        }
        let removed = blocks.count != before
        if retained.contains(target), !blocks.contains(where: { $0.header == "no " + target }) {
            insertBlock(Block(header: "no " + target), separated: false)
        }
        tidySeparators()
        return removed
    }

    /// Makes sure a section exists (entering `interface Loopback9` creates it).
    mutating func ensureSection(_ header: String) {
        guard block(header) == nil else { return }
        insertBlock(Block(header: header), separated: true)
    }

    mutating func removeSection(_ header: String) -> Bool {
        let before = blocks.count
        blocks.removeAll { $0.header == header }
        tidySeparators()
        return blocks.count != before
    }

    /// Adds or replaces a line inside a section (`description uplink`).
    mutating func setInSection(_ header: String, _ line: String, singleValued: [[String]]) {
        ensureSection(header)
        guard let index = blocks.firstIndex(where: { $0.header == header }) else { return }
        var children = blocks[index].children
        if children.contains(line) { return }
        let key = SectionedConfig.key(of: line, in: singleValued)
        if let key {
            let stripped = children.filter { SectionedConfig.key(of: $0, in: singleValued) != key }
            if stripped.count != children.count {
                let position = children.firstIndex { SectionedConfig.key(of: $0, in: singleValued) == key }!
                children = stripped
                children.insert(line, at: min(position, children.count))
                blocks[index].children = children
                return
            }
        }
        children.removeAll { $0 == "no " + line }
        children.append(line)
        blocks[index].children = children
    }

    /// `no <target>` inside a section.
    @discardableResult
    mutating func removeInSection(_ header: String, _ target: String, singleValued: [[String]], retained: [String],
                                  storesNoShutdown: Bool) -> Bool {
        guard let index = blocks.firstIndex(where: { $0.header == header }) else { return false }
        let targetWords = Text.words(target)
        let key = SectionedConfig.key(of: target, in: singleValued)
        var children = blocks[index].children
        let position = children.firstIndex { line in
            line == target || SectionedConfig.hasPrefix(Text.words(line), targetWords)
                || (key != nil && SectionedConfig.key(of: line, in: singleValued) == key)
        }
        children.removeAll { line in
            line == target || SectionedConfig.hasPrefix(Text.words(line), targetWords)
                || (key != nil && SectionedConfig.key(of: line, in: singleValued) == key)
        }
        let keepNegation = retained.contains(target) && (target != "shutdown" || storesNoShutdown)
        if keepNegation { children.insert("no " + target, at: min(position ?? children.count, children.count)) }
        blocks[index].children = children
        return position != nil
    }

    // MARK: Helpers

    /// The identifying leading words of a single-valued setting, looking through a leading `no`.
    static func key(of line: String, in table: [[String]]) -> [String]? {
        var words = Text.words(line).map { $0.lowercased() }
        if words.first == "no" { words.removeFirst() }
        if words.contains("secondary") { return nil }  // secondary addresses accumulate
        var best: [String]?
        for candidate in table where hasPrefix(words, candidate) {
            if candidate.count > (best?.count ?? 0) { best = candidate }
        }
        return best
    }

    static func hasPrefix(_ words: [String], _ prefix: [String]) -> Bool {
        guard !prefix.isEmpty, words.count >= prefix.count else { return false }
        for (a, b) in zip(words, prefix) where a.lowercased() != b.lowercased() { return false }
        return true
    }

    /// New lines go after the last line starting with the same word (keeping `ntp server`s or
    /// `interface`s together, like the device's canonical order would), else at the end.
    private mutating func insertBlock(_ block: Block, separated: Bool) {
        let firstWord = Text.words(block.header).first?.lowercased() ?? ""
        var anchor: Int?
        for (index, existing) in blocks.enumerated() where !existing.isSeparator {
            var words = Text.words(existing.header).map { $0.lowercased() }
            if words.first == "no", firstWord != "no" { words.removeFirst() }
            if words.first == firstWord { anchor = index }
        }
        if let anchor {
            var position = anchor + 1
            if separated {
                // Sections are followed by a separator; keep that shape.
                if position < blocks.count, blocks[position].isSeparator { position += 1 }
                blocks.insert(contentsOf: [block, Block(header: separator)], at: min(position, blocks.count))
            } else {
                blocks.insert(block, at: position)
            }
            return
        }
        if let last = blocks.last, !last.isSeparator { blocks.append(Block(header: separator)) }
        blocks.append(block)
        blocks.append(Block(header: separator))
    }

    /// Collapses runs of separators left behind by removals.
    private mutating func tidySeparators() {
        var result: [Block] = []
        for block in blocks {
            if block.isSeparator, let last = result.last, last.isSeparator { continue }
            result.append(block)
        }
        blocks = result
    }
}
