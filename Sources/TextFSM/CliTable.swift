import Foundation

/// A templates `index` file as textfsm's CliTable reads it: a CSV table whose first non-comment line is
/// the header (`Template, Hostname, Platform, Command`); rows whose field count differs from the
/// header's are dropped (as CliTable does, silently); every column but Template is a Python regex
/// matched with `re.match` (a prefix match), and the Command column's `abc[[xyz]]` abbreviations are
/// expanded to `abc(x(y(z)?)?)?` first. The first matching row wins.
public final class TemplateIndex: @unchecked Sendable {
    public struct Entry: Sendable {
        public let line: Int
        public let templates: [String]
        public let fields: [String: String]
    }

    public let directory: URL
    public let header: [String]
    public let entries: [Entry]
    private let compiled: [[String: CompiledRegex]]
    private let lock = NSLock()
    private var cache: [String: TextFSMTemplate] = [:]

    public struct IndexError: Error, CustomStringConvertible, Sendable {
        public let message: String
        public var description: String { message }
    }

    /// Reads `directory/index` (or `directory/<file>`).
    public convenience init(directory: URL, file: String = "index") throws {
        let url = directory.appendingPathComponent(file)
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw IndexError(message: "\(url.path): cannot read the templates index")
        }
        try self.init(parsing: text, directory: directory, name: url.path)
    }

    public init(parsing text: String, directory: URL, name: String = "index") throws {
        self.directory = directory
        let lines = TextFSMTemplate.fileLines(text)
        var n = 0
        var header: [String] = []
        while n < lines.count {
            let h = TextFSMTemplate.strip(String(lines[n].split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""))
            n += 1
            if !h.isEmpty { header = h.split(separator: ",", omittingEmptySubsequences: false).map { TextFSMTemplate.strip(String($0)) }; break }
        }
        if Set(header).count != header.count { throw IndexError(message: "\(name): duplicate header entry") }
        guard header.contains("Template") else { throw IndexError(message: "\(name): the index has no 'Template' column") }
        self.header = header
        var entries: [Entry] = []
        var compiled: [[String: CompiledRegex]] = []
        while n < lines.count {
            let line = lines[n]
            n += 1
            if line.hasPrefix("#") { continue }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map { TextFSMTemplate.strip(String($0)) }
            if fields.count != header.count { continue }
            var row: [String: String] = [:]
            var res: [String: CompiledRegex] = [:]
            for (col, f) in zip(header, fields) {
                let value = col == "Command" ? TemplateIndex.expandCompletions(f) : f
                row[col] = value
                if col != "Template" && !value.isEmpty {
                    do { res[col] = try CompiledRegex(value) } catch {
                        throw IndexError(message: "\(name):\(n): column \(col): invalid regex '\(value)': \(error.message)")
                    }
                }
            }
            entries.append(Entry(line: n, templates: row["Template"]!.split(separator: ":", omittingEmptySubsequences: false).map(String.init), fields: row))
            compiled.append(res)
        }
        self.entries = entries
        self.compiled = compiled
    }

    /// `sh[[ow]]` → `sh(o(w)?)?` (CliTable's _Completion, applied to `\[\[.+?\]\]`).
    public static func expandCompletions(_ s: String) -> String {
        var out = ""
        var rest = Substring(s)
        while let open = rest.range(of: "[[") {
            let after = rest[open.upperBound...]
            // `.+?` then `]]`: at least one character.
            guard !after.isEmpty, let close = after.dropFirst().range(of: "]]") else { break }
            let word = rest[open.upperBound..<close.lowerBound]
            out += rest[..<open.lowerBound]
            out += "(" + word.map(String.init).joined(separator: "(") + String(repeating: ")?", count: word.count)
            rest = rest[close.upperBound...]
        }
        return out + rest
    }

    /// The first entry whose columns all match the attributes (`Platform`, `Command`, …); columns
    /// that are empty or not given match anything.
    public func entry(for attributes: [String: String]) -> Entry? {
        lock.lock(); defer { lock.unlock() }
        rows: for (k, res) in compiled.enumerated() {
            for (key, value) in attributes {
                if let re = res[key], re.match(Line(value)) == nil { continue rows }
            }
            return entries[k]
        }
        return nil
    }

    public func entry(platform: String, command: String) -> Entry? {
        entry(for: ["Platform": platform, "Command": command])
    }

    /// A template of this directory, compiled once.
    public func template(named file: String) throws -> TextFSMTemplate {
        lock.lock()
        if let t = cache[file] { lock.unlock(); return t }
        lock.unlock()
        let t = try TextFSMTemplate(contentsOf: directory.appendingPathComponent(file))
        lock.lock(); cache[file] = t; lock.unlock()
        return t
    }

    /// Parses with the entry's templates, joined as CliTable.ParseCmd does: the first template's rows,
    /// extended with the columns of each further template, rows paired on the Key values (the first
    /// template's that has any), or by position when there are none. Cells are as CliTable stores
    /// them (lists of strings; nested dictionaries and nulls as Python prints them) when several
    /// templates are joined.
    public func parse(_ text: String, with entry: Entry) throws -> TextFSMResult {
        try TemplateIndex.join(text, templates: entry.templates.map { try template(named: $0) })
    }

    public static func join(_ text: String, templates: [TextFSMTemplate]) throws -> TextFSMResult {
        var keys: [String] = []
        var table = TextFSMResult(header: [], rows: [])
        for (k, t) in templates.enumerated() {
            let r = try t.parse(text)
            if keys.isEmpty { keys = t.values(with: .Key) }
            let rows = r.rows.map { $0.map(cliTableCell) }
            if k == 0 { table = TextFSMResult(header: r.header, rows: rows); continue }
            for key in keys where !table.header.contains(key) {
                throw TextFSMError(message: "\(t.name): unknown key '\(key)' joining templates")
            }
            let extend = r.header.enumerated().filter { !table.header.contains($0.element) }
            if extend.isEmpty { continue }
            table.header += extend.map(\.element)
            for i in table.rows.indices { table.rows[i] += Array(repeating: .string(""), count: extend.count) }
            let base = table.header.count - extend.count
            let keyIdx = Set(keys).map { key in (table.header.firstIndex(of: key)!, r.header.firstIndex(of: key) ?? -1) }
            if keyIdx.isEmpty {
                for (i, row2) in zip(table.rows.indices, rows) {
                    for (j, col) in extend.enumerated() { table.rows[i][base + j] = row2[col.offset] }
                }
                continue
            }
            for i in table.rows.indices {
                for row2 in rows where keyIdx.allSatisfy({ $0.1 >= 0 && table.rows[i][$0.0] == row2[$0.1] }) {
                    for (j, col) in extend.enumerated() { table.rows[i][base + j] = row2[col.offset] }
                    break
                }
            }
        }
        return table
    }

    /// texttable's _ToStr: lists become lists of str(item).
    static func cliTableCell(_ v: TextFSMValue) -> TextFSMValue {
        if case .list(let l) = v { return .list(l.map { .string($0.pythonStr) }) }
        return v
    }
}

/// Where templates are looked up: the user's directory first (its own `index`), then ntc-templates'.
public struct TemplateLibrary: Sendable {
    public let indexes: [TemplateIndex]

    /// Switchboard platform names ntc-templates spells differently.
    public static let platformAliases: [String: [String]] = [
        "cisco_xe": ["cisco_ios"],
        "nokia_sros": ["alcatel_sros"],
    ]

    public init(indexes: [TemplateIndex]) { self.indexes = indexes }

    /// The directories that exist among the user's and ntc-templates', each with an index file.
    public init(userDirectory: URL?, ntcDirectory: URL?) throws {
        var out: [TemplateIndex] = []
        for d in [userDirectory, ntcDirectory].compactMap({ $0 })
        where FileManager.default.fileExists(atPath: d.appendingPathComponent("index").path) {
            out.append(try TemplateIndex(directory: d))
        }
        indexes = out
    }

    public func lookup(platform: String, command: String) -> (TemplateIndex, TemplateIndex.Entry)? {
        let names = [platform] + (TemplateLibrary.platformAliases[platform] ?? []).filter { $0 != platform }
        for index in indexes {
            for p in names { if let e = index.entry(platform: p, command: command) { return (index, e) } }
        }
        return nil
    }

    /// ntc-templates' `parse_output`: nil when no template matches the platform and command.
    public func parse(platform: String, command: String, text: String) throws -> TextFSMResult? {
        guard let (index, entry) = lookup(platform: platform, command: command) else { return nil }
        return try index.parse(text, with: entry)
    }
}
