// The Junos configuration, persisted as `set` statements (what `show configuration | display set`
// prints) because they are trivially mergeable line by line; the curly-brace hierarchy that
// `show configuration` prints is rendered from them on demand.

struct JunosConfig: Sendable, Equatable {
    /// Each statement's words after `set`, in the order they were first set.
    private(set) var statements: [[String]]

    init(text: String) {
        statements = Text.lines(text).compactMap { line in
            let words = Text.words(line)
            return words.first == "set" && words.count > 1 ? Array(words.dropFirst()) : nil
        }
    }

    init(statements: [[String]]) { self.statements = statements }

    var text: String { statements.map { "set " + $0.joined(separator: " ") + "\n" }.joined() }

    var hostname: String? { value(["system", "host-name"]) }

    /// The single value under `path`, e.g. `["system", "host-name"]` -> "r1".
    func value(_ path: [String]) -> String? {
        statements.first { $0.count == path.count + 1 && Array($0.prefix(path.count)) == path }.map { Text.unquote($0.last!) }
    }

    /// Statements below `path`, with `path` removed.
    func statements(under path: [String]) -> [[String]] {
        statements.filter { $0.count > path.count && Array($0.prefix(path.count)) == path }.map { Array($0.dropFirst(path.count)) }
    }

    /// Settings holding one value: a new `set` replaces the old one rather than adding to it.
    private static let singleValued: Set<String> = [
        "host-name", "domain-name", "description", "time-zone", "encrypted-password", "mtu", "router-id",
        "speed", "autonomous-system", "class", "uid", "location", "contact", "root-login", "full-name",
    ]

    mutating func set(_ words: [String]) {
        guard !words.isEmpty, !statements.contains(words) else { return }
        if words.count >= 2, JunosConfig.singleValued.contains(words[words.count - 2]) {
            let stem = Array(words.dropLast())
            if let index = statements.firstIndex(where: { $0.count == words.count && Array($0.dropLast()) == stem }) {
                statements[index] = words
                return
            }
        }
        statements.append(words)
    }

    /// Removes everything at or below `words`. Returns whether anything was there.
    @discardableResult
    mutating func delete(_ words: [String]) -> Bool {
        let before = statements.count
        statements.removeAll { $0.count >= words.count && Array($0.prefix(words.count)) == words }
        return statements.count != before
    }

    // MARK: Hierarchical rendering

    /// Words that belong on one line with their following name (`unit 0 {`, `family inet {`).
    private static let joinedWithName: Set<String> = [
        "unit", "family", "group", "term", "policy-statement", "area", "user", "community", "route",
        "prefix-list", "filter", "neighbor", "file", "host", "interface", "instance", "vlan", "server",
    ]
    /// Containers that keep their braces even when they only hold flags (`netconf { ssh; }`).
    private static let alwaysBraced: Set<String> = [
        "services", "netconf", "ssh", "login", "syslog", "static", "ospf", "ospf3", "bgp", "lldp", "ntp",
        "root-authentication", "authentication", "chassis", "vlans",
    ]

    private final class Node {
        let name: String
        var children: [Node] = []
        init(_ name: String) { self.name = name }
        func child(_ name: String) -> Node {
            if let existing = children.first(where: { $0.name == name }) { return existing }
            let node = Node(name)
            children.append(node)
            return node
        }
    }

    /// `show configuration [path]` text; `depth` 0 means top-level statements keep their braces.
    static func render(_ statements: [[String]], topLevelBraced: Bool = true) -> String {
        let root = Node("")
        for statement in statements {
            var node = root
            var index = 0
            while index < statement.count {
                var name = statement[index]
                if joinedWithName.contains(name), index + 1 < statement.count {
                    name += " " + statement[index + 1]
                    index += 1
                }
                node = node.child(name)
                index += 1
            }
        }
        var out = ""
        for child in root.children { emit(child, depth: 0, braced: topLevelBraced, into: &out) }
        return out
    }

    private static func emit(_ node: Node, depth: Int, braced: Bool, into out: inout String) {
        let pad = String(repeating: "    ", count: depth)
        if node.children.isEmpty {
            out += pad + node.name + ";\n"
            return
        }
        let keyword = String(node.name.split(separator: " ").first ?? "")
        // `route 0.0.0.0/0 next-hop 10.0.0.1;` stays on one line when it has a single attribute.
        if keyword == "route", node.children.count == 1, let only = node.children.first,
           only.children.count == 1, only.children[0].children.isEmpty {
            out += pad + node.name + " " + only.name + " " + only.children[0].name + ";\n"
            return
        }
        let allLeaves = node.children.allSatisfy { $0.children.isEmpty }
        if allLeaves && !braced && !alwaysBraced.contains(keyword) {
            for child in node.children { out += pad + node.name + " " + child.name + ";\n" }
            return
        }
        out += pad + node.name + " {\n"
        for child in node.children { emit(child, depth: depth + 1, braced: false, into: &out) }
        out += pad + "}\n"
    }
}
