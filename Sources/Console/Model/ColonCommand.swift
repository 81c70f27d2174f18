import Foundation
import Store

/// The console's `:` commands. Table words come from the table descriptors (`Tables/`).
public enum ColonCommand: Equatable, Sendable {
    case table(TableKind, filter: String)
    case theme(String?)
    case refresh(String?)
    case quit
    case help
    /// `:messages`: every status-line message so far, whole.
    case messages
    /// The dashboard (Widgets/PulseWidget.swift).
    case pulse

    /// Every table word and the table it opens.
    public static let aliases: [String: TableKind] = Dictionary(
        TableDescriptor.all.flatMap { d in d.aliases.map { ($0, d.kind) } }, uniquingKeysWith: { a, _ in a })

    /// Every word the command line knows, for completion and the help screen.
    public static let words: [String] = (Array(aliases.keys) + ["pulse", "theme", "refresh", "q", "quit", "help", "ssh", "messages"]).sorted()

    /// The commands an unknown one is answered with: `:dev :links … :theme NAME :refresh SECONDS :q`.
    /// (Each table by the shortest of its help words.)
    static let summary: String = (TableDescriptor.all.compactMap { d in d.helpWords.min { $0.count < $1.count }.map { ":" + $0 } }
                                  + [":pulse", ":theme NAME", ":refresh SECONDS", ":messages", ":q"]).joined(separator: " ")

    /// Parses a command line (without the `:`); the error names the unknown command.
    public static func parse(_ line: String) -> Result<ColonCommand, StoreError> {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        let word = String(trimmed.prefix { $0 != " " })
        let rest = trimmed.dropFirst(word.count).trimmingCharacters(in: .whitespaces)
        let arg: String? = rest.isEmpty ? nil : rest
        if let kind = aliases[word.lowercased()] { return .success(.table(kind, filter: rest)) }
        switch word.lowercased() {
        case "q", "q!", "quit", "exit": return .success(.quit)
        case "theme": return .success(.theme(arg))
        case "refresh": return .success(.refresh(arg))
        case "help", "h", "?": return .success(.help)
        case "messages", "mes", "msg": return .success(.messages)
        case "pulse": return .success(.pulse)
        case "": return .failure(StoreError.invalid("empty command"))
        default:
            return .failure(StoreError.invalid("unknown command '\(Sanitizer.inert(word))' (\(summary))"))
        }
    }

    /// Completes the command word: when every word that starts with it opens the same table, that
    /// table's name as the help writes it (`:poo` and `:pool` give `:pools`, not the `:pool` alias);
    /// otherwise the longest common prefix of those words.
    public static func complete(_ text: String) -> String {
        guard !text.contains(" ") else { return text }
        let matches = words.filter { $0.hasPrefix(text.lowercased()) }
        let kinds = Set(matches.compactMap { aliases[$0] })
        if kinds.count == 1, matches.allSatisfy({ aliases[$0] != nil }), let kind = kinds.first,
           let word = kind.descriptor.helpWords.first(where: { $0.hasPrefix(text.lowercased()) }) ?? matches.max(by: { $0.count < $1.count }) {
            return word + " "
        }
        guard var common = matches.first else { return text }
        for m in matches.dropFirst() { while !m.hasPrefix(common) { common.removeLast() } }
        return matches.count == 1 ? common + " " : common
    }
}
