import Foundation

/// The `{{device.name}}` / `{{payload.NAME}}` variables of service commands, URLs and bodies:
/// parsed here so a service is checked on save; rendered by the engine (`Template`).
public enum TemplateSyntax {
    public enum Piece: Equatable, Sendable {
        case text(String)
        /// The variable's path: `["device", "name"]`, `["payload", "vlan", "id"]`.
        case variable([String])
    }

    /// The roots a variable may start with.
    public static let roots = ["device", "payload"]

    /// Splits `text` into literal text and variables. Throws a message naming the problem and its
    /// position: an unclosed `{{`, an empty `{{}}`, a variable that does not start with `device.` or
    /// `payload.`, or a path with an empty or odd component.
    public static func parse(_ text: String) throws -> [Piece] {
        var pieces: [Piece] = []
        var literal = ""
        var rest = Substring(text)
        while let open = rest.range(of: "{{") {
            literal += rest[..<open.lowerBound]
            let after = rest[open.upperBound...]
            guard let close = after.range(of: "}}") else {
                let offset = text.distance(from: text.startIndex, to: open.lowerBound)
                throw StoreError.invalid("unclosed '{{' at character \(offset + 1)")
            }
            let name = after[..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            if name.contains("{{") {
                let offset = text.distance(from: text.startIndex, to: open.lowerBound)
                throw StoreError.invalid("unclosed '{{' at character \(offset + 1)")
            }
            let path = try variablePath(name)
            if !literal.isEmpty { pieces.append(.text(literal)); literal = "" }
            pieces.append(.variable(path))
            rest = after[close.upperBound...]
        }
        literal += rest
        if !literal.isEmpty { pieces.append(.text(literal)) }
        return pieces
    }

    /// The problem with `text`'s variables, or nil when it is well formed.
    public static func problem(in text: String) -> String? {
        do { _ = try parse(text); return nil } catch let e as StoreError { return e.message } catch { return "\(error)" }
    }

    static func variablePath(_ name: String) throws -> [String] {
        if name.isEmpty { throw StoreError.invalid("empty variable '{{}}'") }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard let root = parts.first, roots.contains(root) else {
            throw StoreError.invalid("unknown variable '{{\(name)}}' (variables start with device. or payload.)")
        }
        guard parts.count >= 2 else {
            throw StoreError.invalid("variable '{{\(name)}}' names no field (e.g. {{\(root).name}})")
        }
        for part in parts.dropFirst() {
            guard !part.isEmpty, part.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else {
                throw StoreError.invalid("variable '{{\(name)}}': '\(part)' is not a field name (letters, digits, _ and -)")
            }
        }
        return parts
    }
}
