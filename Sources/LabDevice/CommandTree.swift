// Command parsing with the abbreviation rules of real network gear: every keyword may be shortened
// to any unique prefix among the keywords valid at that point (`sh ip int br`, `conf t`,
// `term len 0`), an exact match wins over longer keywords, and a non-unique prefix is "ambiguous".
// Scripts written against real devices lean on this, so the lab must accept the same shorthand.

/// One command in a table, e.g. `CommandSpec("show interfaces [rest]", .showInterfaces)`.
///
/// Keywords are literal; a trailing placeholder takes arguments:
/// `<word>` exactly one, `<number>` one integer, `<rest>` one or more, `[rest]` zero or more.
struct CommandSpec<Action: Sendable>: Sendable {
    enum Argument: Sendable, Equatable { case none, word, number, rest, optionalRest }

    let keywords: [String]
    let argument: Argument
    let action: Action
    /// Hidden below the privileged level (IOS `show running-config` at `>` is "invalid input").
    let privileged: Bool

    init(_ pattern: String, _ action: Action, privileged: Bool = false) {
        var words = pattern.split(separator: " ").map(String.init)
        switch words.last {
        case "<word>": argument = .word
        case "<number>": argument = .number
        case "<rest>": argument = .rest
        case "[rest]": argument = .optionalRest
        default: argument = .none
        }
        if argument != .none { words.removeLast() }
        keywords = words
        self.action = action
        self.privileged = privileged
    }
}

enum CommandMatch<Action: Sendable> {
    case command(Action, arguments: [Token])
    /// The token at this index is not valid here.
    case invalid(at: Int)
    /// The line ended where more was required.
    case incomplete
    /// The token at this index is a prefix of several keywords.
    case ambiguous(at: Int, candidates: [String])
}

struct CommandTree<Action: Sendable>: Sendable {
    private struct Node: Sendable {
        var keyword: String
        var children: [Int] = []
        var action: Action?
        var actionPrivileged = false
        var argument: CommandSpec<Action>.Argument = .none
        var argumentAction: Action?
        var argumentPrivileged = false
        /// Visible at the unprivileged level if any command below it is.
        var userVisible = false
    }

    private var nodes: [Node]

    init(_ specs: [CommandSpec<Action>]) {
        nodes = [Node(keyword: "")]
        for spec in specs {
            var current = 0
            nodes[0].userVisible = true
            for keyword in spec.keywords {
                if let existing = nodes[current].children.first(where: { nodes[$0].keyword == keyword }) {
                    current = existing
                } else {
                    nodes.append(Node(keyword: keyword))
                    nodes[current].children.append(nodes.count - 1)
                    current = nodes.count - 1
                }
                if !spec.privileged { nodes[current].userVisible = true }
            }
            if spec.argument == .none {
                nodes[current].action = spec.action
                nodes[current].actionPrivileged = spec.privileged
            } else {
                nodes[current].argument = spec.argument
                nodes[current].argumentAction = spec.action
                nodes[current].argumentPrivileged = spec.privileged
            }
        }
    }

    func match(_ tokens: [Token], privileged: Bool) -> CommandMatch<Action> {
        var current = 0
        var index = 0
        while index < tokens.count {
            let node = nodes[current]
            let word = tokens[index].text.lowercased()
            let visible = node.children.filter { privileged || nodes[$0].userVisible }
            if let exact = visible.first(where: { nodes[$0].keyword == word }) {
                current = exact
                index += 1
                continue
            }
            let candidates = visible.filter { nodes[$0].keyword.hasPrefix(word) }
            if candidates.count == 1 {
                current = candidates[0]
                index += 1
                continue
            }
            if candidates.count > 1 {
                return .ambiguous(at: index, candidates: candidates.map { nodes[$0].keyword })
            }
            // Not a keyword here: maybe the node takes arguments.
            guard let action = node.argumentAction, privileged || !node.argumentPrivileged else {
                return .invalid(at: index)
            }
            switch node.argument {
            case .none: return .invalid(at: index)
            case .word, .number:
                if node.argument == .number && Int(tokens[index].text) == nil { return .invalid(at: index) }
                if index + 1 < tokens.count { return .invalid(at: index + 1) }
                return .command(action, arguments: [tokens[index]])
            case .rest, .optionalRest:
                return .command(action, arguments: Array(tokens[index...]))
            }
        }
        let node = nodes[current]
        if let action = node.action, privileged || !node.actionPrivileged { return .command(action, arguments: []) }
        if node.argument == .optionalRest, let action = node.argumentAction, privileged || !node.argumentPrivileged {
            return .command(action, arguments: [])
        }
        return .incomplete
    }
}

/// Resolves `word` against a keyword list with the same rules, for configuration lines, which are
/// free-form after their first word or two and so are not worth a full tree.
enum Abbreviation {
    enum Resolution: Equatable { case keyword(String), unknown, ambiguous([String]) }

    static func resolve(_ word: String, among keywords: [String]) -> Resolution {
        let lower = word.lowercased()
        if keywords.contains(lower) { return .keyword(lower) }
        let candidates = keywords.filter { $0.hasPrefix(lower) }
        switch candidates.count {
        case 0: return .unknown
        case 1: return .keyword(candidates[0])
        default: return .ambiguous(candidates)
        }
    }
}
