import Foundation
import Store

extension AppModel {
    /// Loads that are due: the header, and the top view (on first show, when asked, or when its
    /// refresh interval has passed). A load still running is never started again.
    mutating func scheduleLoads() -> [Effect] {
        var effects: [Effect] = []
        let runInterval = TimeInterval(interval("run")) / 1000
        if !headerLoading && (headerLastLoad == nil || (!paused && now.timeIntervalSince(headerLastLoad!) >= runInterval)) {
            headerLoading = true
            effects.append(.load(LoadRequest(viewID: 0, content: nil)))
        }
        var index = stack.count - 1
        if case .help = stack[index].content, index > 0 { index -= 1 }
        let v = stack[index]
        guard !v.loading, v.content != .help, v.content != .document(.messages) else { return effects }
        let asked = v.lastLoad == nil || v.reloadRequested
        var due = asked
        if !due, !paused, let last = v.lastLoad, let every = refreshSeconds(v) {
            due = now.timeIntervalSince(last) >= every
        }
        guard due else { return effects }
        stack[index].loading = true
        stack[index].reloadRequested = false
        var load = request(for: stack[index])
        // A periodic refresh skips the read when nothing was written; a reload someone asked for reads.
        if !asked, v.content == .pulse || v.tableKind != nil { load.unlessStamp = v.tableStamp }
        load.replacesData = v.lastLoad != nil
        effects.append(.load(load))
        return effects
    }

    /// Another process committed: a run's tail on top reads now. A table or the pulse keeps its own
    /// refresh interval (the change count is its stamp, so that refresh reads only after a commit):
    /// a running engine commits every ~100 ms, and 80,000 devices are not read again on each. A
    /// paused console stays as it is.
    mutating func storeChanged() {
        var index = stack.count - 1
        if case .help = stack[index].content, index > 0 { index -= 1 }
        guard case .runLog = stack[index].content, stack[index].lastLoad != nil else { return }
        stack[index].lastLoad = .distantPast
    }

    /// How often a view reloads by itself, nil for never (a document does not change).
    func refreshSeconds(_ v: ViewState) -> TimeInterval? {
        switch v.content {
        case .table(let kind, _): return TimeInterval(interval(kind.rawValue)) / 1000
        case .workflow: return TimeInterval(interval("workflow")) / 1000
        case .runLog:
            // A live run is tailed every 100 ms (new lines within 250 ms); a finished one rarely.
            // With the store's wake-ups (PostgreSQL), a commit makes it read at once; this is the safety net.
            if let run = v.run, run.status == "running" || run.status == "queued" { return storeWakeups ? 2 : 0.1 }
            return TimeInterval(interval("run")) / 1000
        case .pulse: return TimeInterval(interval("pulse")) / 1000
        case .document, .help: return nil
        }
    }

    func request(for v: ViewState) -> LoadRequest {
        switch v.content {
        case .table:
            return LoadRequest(viewID: v.id, content: v.content, sort: v.table.sort,
                               filter: v.table.filter?.expression ?? FilterExpression(terms: []))
        case .runLog:
            return LoadRequest(viewID: v.id, content: v.content, afterSeq: v.log.lastSeq, capacity: v.log.ring.capacity)
        case .pulse:
            var r = LoadRequest(viewID: v.id, content: v.content)
            r.now = now
            return r
        default:
            return LoadRequest(viewID: v.id, content: v.content, capacity: v.log.ring.capacity)
        }
    }

    /// A runs table just read: the header looks again when its counts disagree with the rows (the
    /// header reads every run interval, a table may have read since), and a flash about a queued
    /// run goes when the run has left the queue.
    mutating func noteRuns(_ data: TableData) {
        guard let status = data.fieldIndex["status"] else { return }
        var running = 0, queued = 0
        for row in data.rows where status < row.values.count {
            switch row.values[status] {
            case "running": running += 1
            case "queued": queued += 1
            default: break
            }
            if let f = flash?.queuedRun, row.id == String(f) { noteRunStatus(f, row.values[status], previous: nil) }
        }
        if running != header.running || queued != header.queued { headerLastLoad = nil }
    }

    /// Applies a load's result to the view that asked for it (wherever it now is in the stack).
    mutating func apply(_ request: LoadRequest, _ result: LoadResult, at: Date) {
        if request.viewID == 0 {
            headerLoading = false
            headerLastLoad = at
            if case .header(let info) = result { header = info }
            if case .failure(let message) = result { flash("database: " + message, error: true, seconds: 10) }
            return
        }
        guard let i = stack.firstIndex(where: { $0.id == request.viewID }) else { return }
        stack[i].loading = false
        stack[i].lastLoad = at
        switch result {
        case .failure(let message):
            let wasError = stack[i].error
            stack[i].error = message
            if wasError != message { flash("database: " + message, error: true, seconds: 10) }
        case .table(let prepared):
            stack[i].error = nil
            stack[i].tableStamp = prepared.stamp
            applyTable(i, prepared)
            if prepared.data.kind == .runs { noteRuns(prepared.data) }
        case .unchanged:
            stack[i].error = nil
        case .workflow(let graph):
            stack[i].error = nil
            stack[i].graph = graph
            let count = graph.lines().count
            stack[i].treeCursor = min(stack[i].treeCursor, max(0, count - 1))
        case .document(let title, let lines, let skipped):
            stack[i].error = nil
            stack[i].documentTitle = title
            stack[i].log.ring.removeAll()
            stack[i].log.ring.noteSkipped(skipped)
            stack[i].log.ring.append(contentsOf: lines)
            stack[i].log.top = stack[i].log.ring.firstPosition
            // A configuration diff (DiffDocument) is also laid out side by side, once.
            let isDiff = lines.first.map { $0.role == .diffHeader && $0.text.hasPrefix("--- ") } ?? false
            stack[i].log.sideRows = isDiff ? DiffDocument.sideBySide(lines, first: stack[i].log.ring.firstPosition) : nil
            stack[i].log.hunks = isDiff ? lines.filter(DiffDocument.isHunk).count : 0
        case .runLog(let summary, let lines, let skipped):
            stack[i].error = nil
            if let summary { noteRunStatus(summary.id, summary.status, previous: stack[i].run?.status) }
            stack[i].run = summary
            // A reply to a stale request (the view was reset meanwhile) is dropped.
            guard request.afterSeq == stack[i].log.lastSeq else { return }
            if request.afterSeq == nil { stack[i].log.ring.removeAll() }
            stack[i].log.ring.noteSkipped(skipped)
            stack[i].log.ring.append(contentsOf: lines)
            if let last = lines.last { stack[i].log.lastSeq = last.seq }
            else if request.afterSeq == nil { stack[i].log.lastSeq = 0 }
            if stack[i].log.top < stack[i].log.ring.firstPosition { stack[i].log.top = stack[i].log.ring.firstPosition }
        case .pulse(let facts, let stamp):
            stack[i].error = nil
            stack[i].pulse = facts
            stack[i].tableStamp = stamp
        case .header(let info):
            header = info
        }
    }
}
