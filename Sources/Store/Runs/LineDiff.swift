import Foundation

/// A line diff (Myers' O(ND) algorithm) and its unified-diff rendering, for configuration history.
public enum LineDiff {
    public enum Edit: Equatable, Sendable {
        /// A line both sides have: its index in the old and the new text.
        case same(Int, Int)
        case delete(Int)
        case insert(Int)
    }

    /// The lines of `text`; a final newline does not add an empty line.
    public static func lines(_ text: String) -> [String] {
        var result = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if result.last == "" { result.removeLast() }
        return result
    }

    /// A shortest edit script from `a` to `b`. Common prefix and suffix are taken first; when the
    /// middle is so different that the search would need more than `budget` cells of memory, the
    /// middle is reported as deleted and inserted whole (still a correct, if longer, diff).
    public static func edits(_ a: [String], _ b: [String], budget: Int = 8_000_000) -> [Edit] {
        var prefix = 0
        while prefix < a.count && prefix < b.count && a[prefix] == b[prefix] { prefix += 1 }
        var suffix = 0
        while suffix < a.count - prefix && suffix < b.count - prefix && a[a.count - 1 - suffix] == b[b.count - 1 - suffix] { suffix += 1 }
        var out: [Edit] = (0..<prefix).map { .same($0, $0) }
        let aMid = Array(a[prefix..<(a.count - suffix)]), bMid = Array(b[prefix..<(b.count - suffix)])
        for edit in myers(aMid, bMid, budget: budget) {
            switch edit {
            case .same(let i, let j): out.append(.same(i + prefix, j + prefix))
            case .delete(let i): out.append(.delete(i + prefix))
            case .insert(let j): out.append(.insert(j + prefix))
            }
        }
        for k in 0..<suffix { out.append(.same(a.count - suffix + k, b.count - suffix + k)) }
        return out
    }

    static func myers(_ a: [String], _ b: [String], budget: Int) -> [Edit] {
        let n = a.count, m = b.count
        if n == 0 { return (0..<m).map { .insert($0) } }
        if m == 0 { return (0..<n).map { .delete($0) } }
        // Lines compared as integers.
        var ids: [String: Int] = [:]
        let ai = a.map { line -> Int in if let id = ids[line] { return id }; ids[line] = ids.count; return ids.count - 1 }
        let bi = b.map { line -> Int in if let id = ids[line] { return id }; ids[line] = ids.count; return ids.count - 1 }
        let maxD = n + m
        let offset = maxD
        var v = [Int](repeating: 0, count: 2 * maxD + 2)
        var trace: [[Int]] = []
        var used = 0
        var found = false
        outer: for d in 0...maxD {
            // Only the diagonals reachable at this d are kept, to bound memory.
            used += 2 * d + 1
            if used > budget { break }
            trace.append(Array(v[(offset - d)...(offset + d + 1)]))
            var k = -d
            while k <= d {
                var x: Int
                if k == -d || (k != d && v[offset + k - 1] < v[offset + k + 1]) {
                    x = v[offset + k + 1]
                } else {
                    x = v[offset + k - 1] + 1
                }
                var y = x - k
                while x < n && y < m && ai[x] == bi[y] { x += 1; y += 1 }
                v[offset + k] = x
                if x >= n && y >= m { found = true; break outer }
                k += 2
            }
        }
        guard found else {
            return (0..<n).map { .delete($0) } + (0..<m).map { .insert($0) }
        }
        // Walk back through the saved frontiers.
        var edits: [Edit] = []
        var x = n, y = m
        for d in stride(from: trace.count - 1, through: 0, by: -1) {
            let saved = trace[d]
            func at(_ k: Int) -> Int { saved[k + d] }  // saved covers k in -d...d+1
            let k = x - y
            let prevK: Int
            if k == -d || (k != d && at(k - 1) < at(k + 1)) { prevK = k + 1 } else { prevK = k - 1 }
            let prevX = d == 0 ? 0 : at(prevK)
            let prevY = prevX - prevK
            while x > prevX && y > prevY { x -= 1; y -= 1; edits.append(.same(x, y)) }
            if d > 0 {
                if x == prevX { y -= 1; edits.append(.insert(y)) } else { x -= 1; edits.append(.delete(x)) }
            }
        }
        while x > 0 && y > 0 { x -= 1; y -= 1; edits.append(.same(x, y)) }
        return edits.reversed()
    }

    /// A unified diff (`---`/`+++` headers, `@@` hunks with `context` lines around changes); empty
    /// when the texts have the same lines.
    public static func unified(_ old: String, _ new: String, oldLabel: String, newLabel: String, context: Int = 3) -> String {
        let a = lines(old), b = lines(new)
        let script = edits(a, b)
        guard script.contains(where: { if case .same = $0 { return false }; return true }) else { return "" }
        var out = "--- \(oldLabel)\n+++ \(newLabel)\n"
        // Group changes whose context windows touch into hunks.
        let changeIndexes = script.indices.filter { if case .same = script[$0] { return false }; return true }
        var hunks: [(Int, Int)] = []
        for index in changeIndexes {
            let start = max(0, index - context), end = min(script.count - 1, index + context)
            if let last = hunks.last, start <= last.1 + 1 { hunks[hunks.count - 1].1 = max(last.1, end) } else { hunks.append((start, end)) }
        }
        for (start, end) in hunks {
            let slice = script[start...end]
            var aStart: Int?, bStart: Int?
            var aCount = 0, bCount = 0
            var body = ""
            for edit in slice {
                switch edit {
                case .same(let i, let j):
                    if aStart == nil { aStart = i }; if bStart == nil { bStart = j }
                    aCount += 1; bCount += 1; body += " " + a[i] + "\n"
                case .delete(let i):
                    if aStart == nil { aStart = i }
                    aCount += 1; body += "-" + a[i] + "\n"
                case .insert(let j):
                    if bStart == nil { bStart = j }
                    bCount += 1; body += "+" + b[j] + "\n"
                }
            }
            // A side without lines in this hunk starts where its previous line was (diff's convention).
            let aFrom = aCount == 0 ? position(in: script, before: start, old: true) : (aStart ?? 0) + 1
            let bFrom = bCount == 0 ? position(in: script, before: start, old: false) : (bStart ?? 0) + 1
            out += "@@ -\(range(aFrom, aCount)) +\(range(bFrom, bCount)) @@\n" + body
        }
        return out
    }

    private static func range(_ from: Int, _ count: Int) -> String { count == 1 ? "\(from)" : "\(from),\(count)" }

    /// The 1-based number of the last old (or new) line before script index `index`, 0 if none.
    private static func position(in script: [Edit], before index: Int, old: Bool) -> Int {
        var k = index - 1
        while k >= 0 {
            switch script[k] {
            case .same(let i, let j): return (old ? i : j) + 1
            case .delete(let i): if old { return i + 1 }
            case .insert(let j): if !old { return j + 1 }
            }
            k -= 1
        }
        return 0
    }
}
