import Foundation

/// Settings as flat `section.key=value` pairs, to say which settings two processes disagree on
/// (a running engine and the command that queued a run; an engine before and after a reload).
extension Settings {
    /// Every setting by its settings-file key path (`automation.max_process`) with its value as text.
    public var flattened: [String: String] {
        var out: [String: String] = [:]
        func walk(_ value: Any, _ path: String) {
            let mirror = Mirror(reflecting: value)
            if mirror.displayStyle == .struct, !mirror.children.isEmpty {
                for child in mirror.children {
                    guard let label = child.label else { continue }
                    walk(child.value, path.isEmpty ? Self.snakeCase(label) : path + "." + Self.snakeCase(label))
                }
            } else if let list = value as? [String] {
                out[path] = list.joined(separator: ",")
            } else if let map = value as? [String: String] {
                out[path] = map.keys.sorted().map { "\($0)=\(map[$0]!)" }.joined(separator: ",")
            } else if let raw = value as? any RawRepresentable {
                out[path] = "\(raw.rawValue)"
            } else {
                out[path] = "\(value)"
            }
        }
        walk(self, "")
        return out
    }

    /// `key: old → new` for each setting of `sections` (all when nil) that differs in `other`.
    public func changes(to other: Settings, sections: Set<String>? = nil) -> [String] {
        Self.changes(from: flattened, to: other.flattened, sections: sections)
    }

    public static func changes(from old: [String: String], to new: [String: String], sections: Set<String>? = nil) -> [String] {
        Set(old.keys).union(new.keys).sorted().compactMap { key in
            if let sections, let section = key.split(separator: ".").first, !sections.contains(String(section)) { return nil }
            let a = old[key] ?? "(unset)", b = new[key] ?? "(unset)"
            return a == b ? nil : "\(key) \(a) → \(b)"
        }
    }

    static func snakeCase(_ name: String) -> String {
        var out = ""
        for c in name {
            if c.isUppercase { out += "_" + c.lowercased() } else { out.append(c) }
        }
        return out
    }
}
