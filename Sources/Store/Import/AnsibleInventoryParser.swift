import Foundation
import Yams

/// Reads a static Ansible inventory, INI or YAML, into an `InventoryDocument`.
///
/// Each host becomes one `Device`, and each group other than `all`/`ungrouped` a `Pool` with manual
/// members only. The group layout is preserved in the pools, but group variables are pushed down onto the
/// devices, because the database has no group-level variables: a device ends up with what Ansible would
/// resolve for that host (`all` < parent groups < child groups < host vars).
///
/// The parser follows Ansible's own rules where an engineer would notice a difference (ranges, undefined
/// child groups, variable precedence), so an inventory Ansible accepts imports, and one Ansible rejects
/// fails here too, with the file and line.
public enum AnsibleInventoryParser {

    /// Parses `text`, read from `file` (used for the format guess and in every message).
    public static func parse(text: String, file: String) throws -> InventoryDocument {
        var doc = InventoryDocument()
        let inventory = isYAML(text: text, fileName: file)
            ? try AnsibleYAMLReader(file: file).read(text, doc: &doc)
            : try AnsibleINIReader(file: file).read(text, doc: &doc)
        try inventory.build(into: &doc)
        return doc
    }

    /// Whether `text` looks like a static Ansible inventory: INI with `[group]` headers and host lines, or YAML
    /// whose top level is `all:` or groups with `hosts:`/`children:`. Used to pick an importer, so it only says
    /// yes when the file also parses.
    public static func looksLikeAnsible(text: String, fileName: String) -> Bool {
        let ext = (fileName as NSString).pathExtension.lowercased()
        if ["json", "csv", "tsv", "xlsx", "xml"].contains(ext) { return false }
        if isYAML(text: text, fileName: fileName) {
            guard let root = try? Yams.compose(yaml: text), case .mapping(let top) = root else { return false }
            return top.contains { key, value in
                guard case .mapping(let group) = value else { return key.string == "all" && value.null != nil }
                return key.string == "all" || group["hosts"] != nil || group["children"] != nil
            }
        }
        // INI: a header is required, otherwise any list of words would qualify; and the whole file must parse,
        // which rejects look-alikes such as ansible.cfg or .gitconfig (`key = value` is not a host line).
        let hasHeader = lines(of: text).contains { AnsibleINIReader.sectionHeader(trimmed($0)) != nil }
        guard hasHeader else { return false }
        var scratch = InventoryDocument()
        guard let inventory = try? AnsibleINIReader(file: fileName).read(text, doc: &scratch) else { return false }
        return !inventory.hostOrder.isEmpty
    }

    /// YAML or INI: by extension first, then by the first meaningful line (`---` or `key:` is YAML; a
    /// `[section]`, `;` comment or host line is INI).
    static func isYAML(text: String, fileName: String) -> Bool {
        switch (fileName as NSString).pathExtension.lowercased() {
        case "yml", "yaml", "json": return true
        case "ini", "cfg", "hosts": return false
        default: break
        }
        for raw in lines(of: text) {
            let line = trimmed(raw)
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("---") || line.hasPrefix("{") { return true }
            if line.hasPrefix("[") || line.hasPrefix(";") { return false }
            // `all:` / `web: {hosts: …}` is YAML; an INI host may be `name:2222`, with no space after the colon.
            return line.range(of: #"^[^\s=]+:(\s|$)"#, options: .regularExpression) != nil
        }
        return false
    }

    /// Lines, splitting on `\n`, `\r\n` and `\r` alike (Swift treats `\r\n` as one Character, so a plain
    /// split on "\n" would miss Windows line ends).
    static func lines(of text: String) -> [Substring] {
        let body = text.hasPrefix("\u{FEFF}") ? text.dropFirst() : Substring(text)
        return body.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }
    }

    static func trimmed(_ s: Substring) -> String { s.trimmingCharacters(in: .whitespaces) }
}

// MARK: - The inventory model both readers fill

/// A variable and the line that set it, so that an error about a derived field (a bad port set in a
/// group's vars) points at the line to fix, not at the host.
struct AnsibleVar {
    var value: JSONValue
    var line: Int
}

/// Ansible's view of an inventory: groups with hosts, children and vars; hosts with vars.
/// Insertion order is kept so devices and pools come out in file order.
struct AnsibleInventory {
    struct Group {
        let name: String
        var line: Int
        var hosts: [String] = []
        var children: [String] = []
        var parents: [String] = []
        var vars: [String: AnsibleVar] = [:]
    }
    struct Host {
        let name: String
        var line: Int
        var vars: [String: AnsibleVar] = [:]
        var groups: [String] = []
    }

    let file: String
    private(set) var groups: [String: Group] = [:]
    private(set) var groupOrder: [String] = []
    private(set) var hosts: [String: Host] = [:]
    private(set) var hostOrder: [String] = []

    init(file: String) { self.file = file }

    func location(_ line: Int?) -> SourceLocation { SourceLocation(file: file, line: line) }

    mutating func declareGroup(_ name: String, line: Int) {
        guard groups[name] == nil else { return }
        groups[name] = Group(name: name, line: line)
        groupOrder.append(name)
    }

    mutating func setGroupVar(_ group: String, _ key: String, _ value: AnsibleVar) {
        groups[group]?.vars[key] = value
    }

    /// Adds a host to a group. A host seen again (another group, another line) stays one host; its vars
    /// merge, the later line winning, as in Ansible.
    mutating func addHost(_ name: String, port: Int?, to group: String, line: Int, vars: [String: AnsibleVar]) {
        declareGroup(group, line: line)
        if hosts[name] == nil {
            hosts[name] = Host(name: name, line: line)
            hostOrder.append(name)
        }
        if !hosts[name]!.groups.contains(group) { hosts[name]!.groups.append(group) }
        if !groups[group]!.hosts.contains(name) { groups[group]!.hosts.append(name) }
        hosts[name]!.vars.merge(vars) { _, new in new }
        // `host:2222` is shorthand for ansible_port, and is recorded as such so precedence stays uniform.
        if let port { hosts[name]!.vars["ansible_port"] = AnsibleVar(value: .int(port), line: line) }
    }

    /// Makes `child` a child of `parent`, refusing loops (they would make inheritance meaningless, and
    /// Ansible refuses them too).
    mutating func addChild(_ child: String, to parent: String, line: Int) throws {
        if child == "all" { throw importError(location(line), "group all cannot be a child of \(parent)") }
        declareGroup(parent, line: line)
        declareGroup(child, line: line)
        if groups[parent]!.children.contains(child) { return }
        if child == parent || descendants(of: child).contains(parent) {
            throw importError(location(line), "making \(child) a child of \(parent) creates a loop of groups")
        }
        groups[parent]!.children.append(child)
        groups[child]!.parents.append(parent)
    }

    func descendants(of group: String) -> Set<String> {
        var seen = Set<String>(), stack = [group]
        while let g = stack.popLast() {
            for c in groups[g]?.children ?? [] where seen.insert(c).inserted { stack.append(c) }
        }
        return seen
    }

    /// Hosts of a group and of its children, transitively, in file order without repeats.
    func members(of group: String) -> [String] {
        var result: [String] = [], seen = Set<String>(), visited = Set<String>()
        func visit(_ g: String) {
            guard visited.insert(g).inserted, let group = groups[g] else { return }
            for h in group.hosts where seen.insert(h).inserted { result.append(h) }
            group.children.forEach(visit)
        }
        visit(group)
        return result
    }

    /// Ansible's group depth: `all` is 0, a top-level group 1, a child one more than its deepest parent.
    /// Variables apply shallow to deep, so children override parents.
    func depths() -> [String: Int] {
        var memo: [String: Int] = ["all": 0]
        func depth(_ g: String) -> Int {
            if let d = memo[g] { return d }
            let parents = (groups[g]?.parents ?? []).filter { $0 != "all" }
            let d = (parents.map(depth).max() ?? 0) + 1   // no loops: addChild refuses them
            memo[g] = d
            return d
        }
        groupOrder.forEach { _ = depth($0) }
        return memo
    }

    /// The variables Ansible would give a host: its groups and their ancestors sorted by (depth,
    /// `ansible_group_priority`, name), each overriding the previous, then the host's own vars.
    func effectiveVars(of host: Host, depths: [String: Int]) -> [String: AnsibleVar] {
        // Every host is in `all`; a host in a group is also in all of that group's ancestors.
        var all = Set<String>(["all"]), stack = host.groups
        while let g = stack.popLast() {
            if all.insert(g).inserted { stack += groups[g]?.parents ?? [] }
        }
        func priority(_ g: String) -> Int { groups[g]?.vars["ansible_group_priority"]?.value.intValue ?? 1 }
        let ordered = all.sorted {
            (depths[$0] ?? 0, priority($0), $0) < (depths[$1] ?? 0, priority($1), $1)
        }
        var vars: [String: AnsibleVar] = [:]
        for g in ordered { vars.merge(groups[g]?.vars ?? [:]) { _, new in new } }
        vars.merge(host.vars) { _, new in new }
        return vars
    }

    /// Turns the model into devices and pools.
    func build(into doc: inout InventoryDocument) throws {
        let depths = depths()
        for name in hostOrder {
            let host = hosts[name]!
            let vars = effectiveVars(of: host, depths: depths)
            let device = try makeDevice(host, vars: vars, doc: &doc)
            // Address, port and jump always follow the inventory (Ansible's defaults when unset); the
            // platform only when ansible_network_os names one, so a device keeps its own otherwise.
            var given = InventoryDocument.deviceFields.intersection(["address", "port", "jump"])
            if device.platform != InventoryDocument.defaultPlatform { given.insert("platform") }
            doc.devices.append(.init(device, at: location(host.line), given: given))
        }
        let source = (file as NSString).lastPathComponent
        for name in groupOrder where name != "all" && name != "ungrouped" {
            let pool = Pool(name: name, description: "Ansible group from \(source)")
            doc.pools.append(.init(pool, manualDevices: members(of: name), at: location(groups[name]!.line)))
        }
    }

    /// Variables holding secrets: kept out of custom properties, which are stored and shown in clear.
    static let secretVars: Set<String> = [
        "ansible_password", "ansible_ssh_pass", "ansible_ssh_password", "ansible_become_password",
        "ansible_become_pass", "ansible_httpapi_password", "ansible_httpapi_pass",
        "ansible_ssh_private_key_passphrase", "ansible_enable_password",
    ]

    /// Variables that become device fields (or steer precedence) rather than custom properties.
    static let consumedVars: Set<String> = [
        "ansible_host", "ansible_ssh_host", "ansible_port", "ansible_ssh_port", "ansible_network_os",
        "ansible_user", "ansible_ssh_user", "ansible_group_priority",
    ]

    func makeDevice(_ host: Host, vars: [String: AnsibleVar], doc: inout InventoryDocument) throws -> Device {
        var device = Device(name: host.name, address: host.name, platform: InventoryDocument.defaultPlatform)

        // ansible_ssh_* are the pre-2.0 spellings, still found in old inventories; the modern name wins.
        if let v = vars["ansible_host"] ?? vars["ansible_ssh_host"] {
            guard let text = Self.scalarText(v.value), !text.isEmpty else {
                throw importError(location(v.line), "host \(host.name): ansible_host must be a host name or address")
            }
            device.address = text
        }
        if let v = vars["ansible_port"] ?? vars["ansible_ssh_port"] {
            guard let port = Self.portNumber(v.value) else {
                throw importError(location(v.line),
                                  "host \(host.name): ansible_port '\(v.value)' is not an integer 1–65535")
            }
            device.port = port
        }
        if let v = vars["ansible_network_os"], let os = Self.scalarText(v.value), !os.isEmpty {
            if let platform = Self.platform(forNetworkOS: os) {
                device.platform = platform
            } else {
                device.platform = os
                doc.warn("ansible_network_os '\(os)' has no known platform; kept as is")
            }
        }
        if let v = vars["ansible_user"] ?? vars["ansible_ssh_user"] {
            device.properties["ansible_user"] = v.value
        }
        if let jump = Self.proxyJump(in: vars) { device.jump = jump }

        for key in vars.keys.sorted() where !Self.consumedVars.contains(key) {
            if Self.secretVars.contains(key) {
                doc.warn("skipped secret variable \(key) (import credentials separately)")
                continue
            }
            let value = vars[key]!.value
            if case .string(let s) = value, s.contains("{{") {
                doc.warn("variable \(key) holds a Jinja2 template; imported unevaluated")
            }
            device.properties[key] = value
        }
        return device
    }

    /// A jump host given the way Ansible users usually do it, through extra ssh arguments
    /// (`-o ProxyJump=bastion` or `-J bastion`). The variables themselves are kept as properties too.
    static func proxyJump(in vars: [String: AnsibleVar]) -> String? {
        for key in ["ansible_ssh_common_args", "ansible_ssh_extra_args"] {
            guard let text = vars[key].flatMap({ scalarText($0.value) }) else { continue }
            let patterns = [#"ProxyJump[= ]\s*([^\s'"]+)"#, #"(?:^|\s)-J\s*([^\s'"]+)"#]
            for pattern in patterns {
                guard let regex = try? NSRegularExpression(pattern: pattern, options: [.caseInsensitive]),
                      let m = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)),
                      let r = Range(m.range(at: 1), in: text) else { continue }
                let jump = String(text[r])
                return jump.lowercased() == "none" ? nil : jump
            }
        }
        return nil
    }

    /// Netmiko-style platform names for the `ansible_network_os` values network inventories use, short or
    /// fully qualified collection names.
    static func platform(forNetworkOS os: String) -> String? {
        let table: [String: String] = [
            "ios": "cisco_ios", "cisco.ios.ios": "cisco_ios",
            "nxos": "cisco_nxos", "cisco.nxos.nxos": "cisco_nxos",
            "eos": "arista_eos", "arista.eos.eos": "arista_eos",
            "junos": "juniper_junos", "junipernetworks.junos.junos": "juniper_junos",
            "iosxr": "cisco_xr", "cisco.iosxr.iosxr": "cisco_xr",
            "asa": "cisco_asa", "cisco.asa.asa": "cisco_asa",
            "vyos": "vyos", "vyos.vyos.vyos": "vyos",
        ]
        return table[os.lowercased()]
    }

    static func scalarText(_ value: JSONValue) -> String? {
        switch value {
        case .string(let s): return s.trimmingCharacters(in: .whitespaces)
        case .int, .double, .bool: return value.description
        default: return nil
        }
    }

    static func portNumber(_ value: JSONValue) -> Int? {
        let port: Int?
        switch value {
        case .int(let i): port = i
        case .string(let s): port = s.allSatisfy(\.isASCII) && s.allSatisfy(\.isNumber) ? Int(s) : nil
        default: port = nil
        }
        return port.flatMap { (1...65535).contains($0) ? $0 : nil }
    }
}

// MARK: - Host patterns (shared by both formats)

enum AnsibleHostPattern {
    /// Why a pattern is bad; the reader adds file, line and the pattern.
    struct Failure: Error { let message: String }

    /// Above this a range is almost certainly a typo (`[1:100000]`), and would flood the database.
    static let maxExpansion = 65536

    /// Expands `sw[01:10].example.com:2222` into names and an optional port. IPv6 addresses are taken as
    /// is (`2001:db8::1`, or `[2001:db8::1]:2222` with a port).
    static func expand(_ pattern: String) throws(Failure) -> (names: [String], port: Int?) {
        if pattern.isEmpty { throw Failure(message: "empty host name") }
        if pattern.hasPrefix("["), let close = pattern.firstIndex(of: "]") {
            let inner = pattern[pattern.index(after: pattern.startIndex)..<close]
            if isIPv6(inner) {
                let rest = pattern[pattern.index(after: close)...]
                if rest.isEmpty { return ([String(inner)], nil) }
                guard rest.hasPrefix(":") else { throw Failure(message: "unexpected text after ']'") }
                return ([String(inner)], try port(String(rest.dropFirst())))
            }
        }
        // Colons inside [a:b] belong to ranges; one colon outside is a port, several an IPv6 address.
        var depth = 0
        var colons: [String.Index] = []
        for i in pattern.indices {
            switch pattern[i] {
            case "[": depth += 1
            case "]": depth -= 1
            case ":" where depth == 0: colons.append(i)
            default: break
            }
        }
        var name = pattern
        var portNumber: Int?
        if colons.count == 1 {
            name = String(pattern[..<colons[0]])
            portNumber = try port(String(pattern[pattern.index(after: colons[0])...]))
        } else if colons.count > 1 && !pattern.contains("[") {
            return ([pattern], nil)
        }
        if name.isEmpty { throw Failure(message: "empty host name") }
        return (try ranges(name), portNumber)
    }

    static func isIPv6(_ s: Substring) -> Bool {
        s.filter { $0 == ":" }.count >= 2 && s.allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." }
    }

    static func port(_ text: String) throws(Failure) -> Int {
        guard !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isNumber }), let p = Int(text), (1...65535).contains(p)
        else { throw Failure(message: "port '\(text)' is not an integer 1–65535") }
        return p
    }

    /// Ansible's ranges: `[01:10]` keeps the zero padding, `[a:f]` walks single letters, `[0:20:5]` has a
    /// step, an empty start means 0. Several ranges in one name multiply out.
    static func ranges(_ name: String) throws(Failure) -> [String] {
        guard let open = name.firstIndex(of: "[") else {
            if name.contains("]") { throw Failure(message: "']' without '['") }
            return [name]
        }
        guard let close = name[open...].firstIndex(of: "]") else { throw Failure(message: "'[' without ']'") }
        let head = name[..<open]
        let body = name[name.index(after: open)..<close]
        let tail = String(name[name.index(after: close)...])
        let parts = body.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 || parts.count == 3 else {
            throw Failure(message: "range [\(body)] must be [start:end] or [start:end:step]")
        }
        let begin = parts[0].isEmpty ? "0" : parts[0], end = parts[1]
        guard !end.isEmpty else { throw Failure(message: "range [\(body)] has no end") }
        guard let step = parts.count == 3 ? Int(parts[2]) : 1, step > 0 else {
            throw Failure(message: "range [\(body)] has a bad step")
        }

        var items: [String]
        let letters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")   // Python's ascii_letters
        if begin.count == 1, end.count == 1, let b = letters.firstIndex(of: begin.first!),
           let e = letters.firstIndex(of: end.first!) {
            guard b <= e else { throw Failure(message: "range [\(body)] starts after its end") }
            items = stride(from: b, through: e, by: step).map { String(letters[$0]) }
        } else if begin.allSatisfy({ $0.isASCII && $0.isNumber }), end.allSatisfy({ $0.isASCII && $0.isNumber }),
                  let b = Int(begin), let e = Int(end) {
            guard b <= e else { throw Failure(message: "range [\(body)] starts after its end") }
            guard (e - b) / step < maxExpansion else {
                throw Failure(message: "range [\(body)] expands to more than \(maxExpansion) hosts")
            }
            // A leading zero asks for fixed-width numbers; Ansible then wants both bounds the same width.
            let width = begin.hasPrefix("0") && begin.count > 1 ? begin.count : 0
            if width > 0 && end.count != width {
                throw Failure(message: "range [\(body)]: zero-padded bounds must have the same width")
            }
            items = stride(from: b, through: e, by: step).map { n in
                let digits = String(n)
                return String(repeating: "0", count: max(0, width - digits.count)) + digits
            }
        } else {
            throw Failure(message: "range [\(body)] needs two numbers or two single letters")
        }

        let tails = try ranges(tail)
        guard items.count * tails.count <= maxExpansion else {
            throw Failure(message: "ranges in \(name) expand to more than \(maxExpansion) hosts")
        }
        return items.flatMap { item in tails.map { head + item + $0 } }
    }
}

// MARK: - INI

/// The INI format: `[group]`, `[group:children]`, `[group:vars]` sections; host lines `name key=value…`.
struct AnsibleINIReader {
    let file: String

    private enum Section { case hosts, children, vars }

    /// `[name]` or `[name:kind]`, optionally followed by a comment; nil for anything else.
    static func sectionHeader(_ line: String) -> (name: String, kind: String?)? {
        guard line.hasPrefix("["),
              let m = line.range(of: #"^\[[^:\]\[\s]+(:\w+)?\]\s*([#;].*)?$"#, options: .regularExpression)
        else { return nil }
        let inside = line[m].dropFirst().prefix { $0 != "]" }
        let parts = inside.split(separator: ":", maxSplits: 1).map(String.init)
        return (parts[0], parts.count > 1 ? parts[1] : nil)
    }

    func read(_ text: String, doc: inout InventoryDocument) throws -> AnsibleInventory {
        var inventory = AnsibleInventory(file: file)
        var group = "ungrouped", section = Section.hosts
        // Like Ansible, a group counts as declared by a [g] or [g:children] section; children and vars
        // sections naming an undeclared group are errors, so a typo does not become an empty pool.
        var declared: Set<String> = ["all", "ungrouped"]
        var childRefs: [(child: String, parent: String, line: Int)] = []
        var varsRefs: [(group: String, line: Int)] = []

        for (index, raw) in AnsibleInventoryParser.lines(of: text).enumerated() {
            let n = index + 1
            let line = AnsibleInventoryParser.trimmed(raw)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }

            if let header = Self.sectionHeader(line) {
                group = header.name
                switch header.kind {
                case nil, "hosts":
                    section = .hosts; declared.insert(group)
                case "children":
                    section = .children; declared.insert(group)
                case "vars":
                    section = .vars; varsRefs.append((group, n))
                case let other?:
                    throw importError(location(n), "section [\(group):\(other)] has unknown type '\(other)' (expected children or vars)")
                }
                inventory.declareGroup(group, line: n)
                continue
            }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                throw importError(location(n), "invalid section header \(line): group names cannot contain spaces, '[' or ':'")
            }

            switch section {
            case .hosts:
                try readHostLine(line, n, group: group, into: &inventory)
            case .children:
                let child = stripComment(line)
                guard child.range(of: #"^[^:\]\[\s]+$"#, options: .regularExpression) != nil else {
                    throw importError(location(n), "expected a group name in [\(group):children], got '\(line)'")
                }
                childRefs.append((child, group, n))
                try inventory.addChild(child, to: group, line: n)
            case .vars:
                let (key, value) = try readVarLine(line, n, group: group)
                inventory.setGroupVar(group, key, AnsibleVar(value: value, line: n))
            }
        }

        if let ref = childRefs.first(where: { !declared.contains($0.child) }) {
            throw importError(location(ref.line), "section [\(ref.parent):children] includes undefined group \(ref.child)")
        }
        if let ref = varsRefs.first(where: { !declared.contains($0.group) }) {
            throw importError(location(ref.line), "section [\(ref.group):vars] is for undefined group \(ref.group)")
        }
        return inventory
    }

    private func location(_ line: Int) -> SourceLocation { SourceLocation(file: file, line: line) }

    /// `name[:port] key=value key="quoted value" # comment`
    private func readHostLine(_ line: String, _ n: Int, group: String, into inventory: inout AnsibleInventory) throws {
        let tokens = try tokenize(line, n)
        guard let first = tokens.first else { return }
        let pattern = try unquote(first, n).text
        let names: [String], port: Int?
        do {
            (names, port) = try AnsibleHostPattern.expand(pattern)
        } catch {
            throw importError(location(n), "host \(pattern): \(error.message)")
        }
        var vars: [String: AnsibleVar] = [:]
        for token in tokens.dropFirst() {
            guard let eq = token.firstIndex(of: "="), eq != token.startIndex else {
                throw importError(location(n), "host \(pattern): expected key=value, got '\(token)'")
            }
            let key = String(token[..<eq])
            vars[key] = AnsibleVar(value: try value(String(token[token.index(after: eq)...]), n), line: n)
        }
        for name in names { inventory.addHost(name, port: port, to: group, line: n, vars: vars) }
    }

    /// `key = value` in a `[group:vars]` section; the value may hold spaces and be quoted.
    private func readVarLine(_ line: String, _ n: Int, group: String) throws -> (String, JSONValue) {
        guard let eq = line.firstIndex(of: "=") else {
            throw importError(location(n), "expected key=value in [\(group):vars], got '\(line)'")
        }
        let key = line[..<eq].trimmingCharacters(in: .whitespaces)
        guard !key.isEmpty, !key.contains(where: \.isWhitespace) else {
            throw importError(location(n), "bad variable name '\(key)' in [\(group):vars]")
        }
        let raw = stripComment(line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces))
        return (key, try value(raw, n))
    }

    /// Drops a ` # comment` that is outside quotes; a `#` glued to text (`pass#1`) is part of the value.
    private func stripComment(_ text: String) -> String {
        var quote: Character?
        var previous: Character = " "
        for i in text.indices {
            let c = text[i]
            if let q = quote { if c == q { quote = nil } }
            else if c == "\"" || c == "'" { quote = c }
            else if c == "#" && previous.isWhitespace { return text[..<i].trimmingCharacters(in: .whitespaces) }
            previous = c
        }
        return text
    }

    /// Splits a host line on whitespace outside quotes, keeping the quotes (the value parser needs to know
    /// whether a value was quoted), and stops at an unquoted `#` that starts a word.
    private func tokenize(_ line: String, _ n: Int) throws -> [String] {
        var tokens: [String] = [], current = "", quote: Character?, escaped = false
        for c in line {
            if escaped { current.append(c); escaped = false; continue }
            if let q = quote {
                current.append(c)
                if c == "\\" && q == "\"" { escaped = true } else if c == q { quote = nil }
                continue
            }
            if c.isWhitespace {
                if !current.isEmpty { tokens.append(current); current = "" }
            } else if c == "#" && current.isEmpty {
                break
            } else {
                if c == "\"" || c == "'" { quote = c }
                if c == "\\" { escaped = true }
                current.append(c)
            }
        }
        if quote != nil { throw importError(location(n), "unterminated quote in '\(line)'") }
        if !current.isEmpty { tokens.append(current) }
        return tokens
    }

    /// Removes shell-style quotes. `quoted` is true when the whole text was one quoted string, which then
    /// stays a string even if it reads like a number.
    private func unquote(_ raw: String, _ n: Int) throws -> (text: String, quoted: Bool) {
        var text = "", quote: Character?, escaped = false, segments = 0, sawUnquoted = false
        for c in raw {
            if escaped { text.append(c); escaped = false; continue }
            if let q = quote {
                if c == q { quote = nil }
                else if c == "\\" && q == "\"" { escaped = true }
                else { text.append(c) }
            } else if c == "\"" || c == "'" {
                quote = c; segments += 1
            } else if c == "\\" {
                escaped = true; sawUnquoted = true
            } else {
                text.append(c); sawUnquoted = true
            }
        }
        if quote != nil { throw importError(location(n), "unterminated quote in '\(raw)'") }
        return (text, segments == 1 && !sawUnquoted)
    }

    /// Ansible reads INI values as Python literals when it can (`22` is a number, `True` a boolean,
    /// `['a', 'b']` a list) and as text otherwise. Quoted values stay text.
    private func value(_ raw: String, _ n: Int) throws -> JSONValue {
        let (text, quoted) = try unquote(raw, n)
        if quoted { return .string(text) }
        switch text {
        case "True": return .bool(true)
        case "False": return .bool(false)
        case "None": return .null
        default: break
        }
        if text.range(of: #"^[+-]?(0|[1-9][0-9]*)$"#, options: .regularExpression) != nil, let i = Int(text) {
            return .int(i)
        }
        // Python floats need a dot or an exponent; `0755` is not a literal at all, so it stays text.
        if text.range(of: #"^[+-]?(([0-9]+\.[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?|[0-9]+[eE][+-]?[0-9]+)$"#,
                      options: .regularExpression) != nil, let d = Double(text) {
            return .double(d)
        }
        // Python list/dict literals are close enough to YAML flow syntax to read them that way; the raw text
        // is used because its quotes matter there (`{'k':1}` needs the quoted key).
        if raw.hasPrefix("[") || raw.hasPrefix("{"), let node = try? Yams.compose(yaml: raw),
           node.mapping != nil || node.sequence != nil {
            return AnsibleYAMLReader.json(node)
        }
        return .string(text)
    }
}

// MARK: - YAML

/// The YAML format: `group: {hosts: {h: vars}, children: {g: …}, vars: {…}}`, nested arbitrarily.
/// Read through Yams' node tree rather than `Yams.load`, to keep line numbers for messages.
struct AnsibleYAMLReader {
    let file: String

    func read(_ text: String, doc: inout InventoryDocument) throws -> AnsibleInventory {
        var inventory = AnsibleInventory(file: file)
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw importError(SourceLocation(file: file, line: Self.line(of: error, in: text)),
                              "YAML syntax error: \(Self.problem(of: error))")
        }
        guard let root else {
            doc.warn("empty Ansible inventory")
            return inventory
        }
        guard case .mapping(let top) = root else {
            throw importError(location(root), "expected groups at the top level (like 'all:'), found \(Self.kind(root))")
        }
        // Two look-alikes an engineer may hand us; say what to do instead of failing on their contents.
        if let plugin = top["plugin"], plugin.scalar != nil {
            throw importError(location(plugin), "this is an inventory plugin configuration (plugin: \(plugin.string ?? "")), not a static inventory; import the output of `ansible-inventory -i \((file as NSString).lastPathComponent) --list --yaml` instead")
        }
        if let meta = top["_meta"] {
            throw importError(location(meta), "this is `ansible-inventory --list` JSON output; import the output of `ansible-inventory --list --yaml` instead")
        }
        for (key, value) in Self.pairs(top) {
            try readGroup(try name(key, what: "group"), value, key: key, parent: nil, into: &inventory, doc: &doc)
        }
        return inventory
    }

    private func location(_ node: Node) -> SourceLocation { SourceLocation(file: file, line: node.mark?.line) }

    private func name(_ node: Node, what: String) throws -> String {
        guard case .scalar(let s) = node, !s.string.isEmpty else {
            throw importError(location(node), "expected a \(what) name, found \(Self.kind(node))")
        }
        return s.string
    }

    private func readGroup(_ group: String, _ node: Node, key: Node, parent: String?,
                           into inventory: inout AnsibleInventory, doc: inout InventoryDocument) throws {
        let line = key.mark?.line ?? 0
        inventory.declareGroup(group, line: line)
        if let parent { try inventory.addChild(group, to: parent, line: line) }
        switch node {
        case .scalar where node.null != nil:
            return   // `group:` with nothing under it: declared, empty
        case .mapping(let mapping):
            for (k, v) in Self.pairs(mapping) {
                switch k.string {
                case "hosts":
                    try readHosts(v, group: group, into: &inventory, doc: &doc)
                case "vars":
                    for (name, value) in try vars(v, owner: "group \(group)", doc: &doc) {
                        inventory.setGroupVar(group, name, value)
                    }
                case "children":
                    guard v.null == nil else { continue }
                    guard case .mapping(let children) = v else {
                        throw importError(location(v), "children of group \(group) must be a mapping of groups, found \(Self.kind(v))")
                    }
                    for (ck, cv) in Self.pairs(children) {
                        try readGroup(try name(ck, what: "group"), cv, key: ck, parent: group, into: &inventory, doc: &doc)
                    }
                default:
                    doc.warn("skipped unknown key '\(k.string ?? "?")' in an Ansible group (expected hosts, children or vars)")
                }
            }
        default:
            throw importError(location(node), "group \(group) must be a mapping of hosts, children and vars, found \(Self.kind(node))")
        }
    }

    private func readHosts(_ node: Node, group: String, into inventory: inout AnsibleInventory,
                           doc: inout InventoryDocument) throws {
        if node.null != nil { return }
        guard case .mapping(let hosts) = node else {
            throw importError(location(node), "hosts of group \(group) requires a dictionary (host: vars), found \(Self.kind(node))")
        }
        for (key, value) in Self.pairs(hosts) {
            let pattern = try name(key, what: "host")
            let line = key.mark?.line ?? 0
            let names: [String], port: Int?
            do {
                (names, port) = try AnsibleHostPattern.expand(pattern)
            } catch {
                throw importError(location(key), "host \(pattern): \(error.message)")
            }
            let hostVars = value.null != nil ? [:] : try vars(value, owner: "host \(pattern)", doc: &doc)
            for n in names { inventory.addHost(n, port: port, to: group, line: line, vars: hostVars) }
        }
    }

    private func vars(_ node: Node, owner: String, doc: inout InventoryDocument) throws -> [String: AnsibleVar] {
        if node.null != nil { return [:] }
        guard case .mapping(let mapping) = node else {
            throw importError(location(node), "vars of \(owner) must be a mapping, found \(Self.kind(node))")
        }
        var result: [String: AnsibleVar] = [:]
        for (key, value) in Self.pairs(mapping) {
            let name = try name(key, what: "variable")
            // Vault ciphertext is useless without the vault password, and must not pass for a real value.
            if value.tag.rawValue == "!vault" {
                doc.warn("skipped vault-encrypted variable \(name)")
                continue
            }
            result[name] = AnsibleVar(value: Self.json(value), line: key.mark?.line ?? 0)
        }
        return result
    }

    /// A mapping's pairs with YAML merge keys (`<<: *defaults`) expanded; explicit keys come last so they win.
    static func pairs(_ mapping: Node.Mapping) -> [(key: Node, value: Node)] {
        var merged: [(key: Node, value: Node)] = [], own: [(key: Node, value: Node)] = []
        for (key, value) in mapping {
            guard tagName(key) == .merge else { own.append((key, value)); continue }
            switch value {
            case .mapping(let m): merged += pairs(m)
            case .sequence(let s): for case .mapping(let m) in s.reversed() { merged += pairs(m) }
            default: own.append((key, value))
            }
        }
        return merged + own
    }

    /// A YAML value as JSON, typed by its resolved tag (so `"22"` stays text and `22` is a number).
    static func json(_ node: Node) -> JSONValue {
        switch node {
        case .scalar(let scalar):
            switch tagName(node) {
            case .null: return .null
            case .bool: return node.bool.map(JSONValue.bool) ?? .string(scalar.string)
            case .int: return node.int.map(JSONValue.int) ?? .string(scalar.string)
            case .float: return node.float.map { JSONValue(any: $0) } ?? .string(scalar.string)
            default: return .string(scalar.string)
            }
        case .mapping(let mapping):
            var object: [String: JSONValue] = [:]
            for (k, v) in pairs(mapping) { object[k.string ?? ""] = json(v) }
            return .object(object)
        case .sequence(let sequence):
            return .array(sequence.map(json))
        case .alias:
            return .null   // compose resolves aliases; nothing reaches here
        }
    }

    /// The resolved tag (`Tag.name` is internal to Yams; its raw value is public).
    static func tagName(_ node: Node) -> Tag.Name { Tag.Name(rawValue: node.tag.rawValue) }

    static func kind(_ node: Node) -> String {
        switch node {
        case .scalar: return node.null != nil ? "nothing" : "'\(node.string ?? "")'"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    static func line(of error: YamlError, in text: String) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
            return mark.line
        case .duplicatedKeysInMapping(_, let context):
            return context.mark.line
        case .reader(_, let offset?, _, _):
            let data = Data(text.utf8)
            return data.prefix(offset).filter { $0 == UInt8(ascii: "\n") }.count + 1
        default:
            return nil
        }
    }

    static func problem(of error: YamlError) -> String {
        switch error {
        case .scanner(let context, let problem, _, _), .parser(let context, let problem, _, _),
             .composer(let context, let problem, _, _):
            return [context?.text, problem].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ": ")
        case .duplicatedKeysInMapping(let duplicates, _):
            return "duplicate key \(duplicates.joined(separator: ", "))"
        case .reader(let problem, _, _, _):
            return problem
        default:
            return String(describing: error)
        }
    }
}
