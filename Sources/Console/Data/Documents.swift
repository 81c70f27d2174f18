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

    /// The changes from one configuration version to the next: unified hunks with a header naming both.
    static func diff(_ previous: ConsoleStore.ConfigVersion, _ version: ConsoleStore.ConfigVersion,
                     oldLabel: String? = nil, newLabel: String? = nil) -> [LogLine] {
        DiffDocument.lines(old: previous.content, new: version.content,
                           oldLabel: oldLabel ?? "version \(previous.id) (\(Formats.date(previous.createdAt)))",
                           newLabel: newLabel ?? "version \(version.id) (\(Formats.date(version.createdAt)))")
    }
}
