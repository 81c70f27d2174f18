import Foundation
import Store

/// Texts as the text view shows them: lines, and a configuration's changes as a diff.
public enum Documents {
    /// Splits text into lines: `\n`, `\r\n` and a lone `\r` (a progress bar redrawing itself) all end one.
    public static func splitLines(_ text: String) -> [String] {
        var lines: [String] = []
        var current = String.UnicodeScalarView()
        var lastWasCR = false
        for s in text.unicodeScalars {
            if s == "\n" {
                if !lastWasCR { lines.append(String(current)); current = String.UnicodeScalarView() }
                lastWasCR = false
            } else if s == "\r" {
                lines.append(String(current)); current = String.UnicodeScalarView()
                lastWasCR = true
            } else {
                current.append(s)
                lastWasCR = false
            }
        }
        if !current.isEmpty { lines.append(String(current)) }
        return lines
    }

    static func plain(_ text: String) -> [LogLine] {
        splitLines(text).enumerated().map { LogLine(seq: Int64($0.offset), text: $0.element) }
    }

    /// The lines of `new` against `old` (Store's `LineDiff`): `  ` same, `+ ` added, `- ` removed.
    public static func diffLines(_ old: [String], _ new: [String]) -> [(String, Role)] {
        LineDiff.edits(old, new).map { e in
            switch e {
            case .same(_, let j): return ("  " + new[j], .diffContext)
            case .insert(let j): return ("+ " + new[j], .diffAdded)
            case .delete(let i): return ("- " + old[i], .diffRemoved)
            }
        }
    }

    /// The changes from one configuration version to the next, with a header naming both.
    static func diff(_ previous: ConsoleStore.ConfigVersion, _ version: ConsoleStore.ConfigVersion,
                     oldLabel: String? = nil, newLabel: String? = nil) -> [LogLine] {
        var lines = [LogLine(seq: 0, text: "--- " + (oldLabel ?? "version \(previous.id) (\(Formats.date(previous.createdAt)))"), role: .diffHeader),
                     LogLine(seq: 1, text: "+++ " + (newLabel ?? "version \(version.id) (\(Formats.date(version.createdAt)))"), role: .diffHeader)]
        for (i, (text, role)) in diffLines(splitLines(previous.content), splitLines(version.content)).enumerated() {
            lines.append(LogLine(seq: Int64(i + 2), text: text, role: role))
        }
        return lines
    }
}
