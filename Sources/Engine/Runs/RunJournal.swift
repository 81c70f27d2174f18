import Foundation
import Store
import Synchronization

/// Everything runs write while they go — log lines, results, progress, device status — buffered in
/// memory and written as one transaction every `engine.log_flush_ms` (or sooner when the buffer is
/// large), for all runs of the engine at once. A thousand devices finishing in a second then cost
/// about ten transactions, not thousands, and readers in other processes still see lines within
/// a flush interval by tailing `(run_id, seq)`.
///
/// Every text that passes through is scrubbed of the credential secrets the engine knows, so a
/// device that echoes a password cannot put it in a log line, a result or an export.
public final class RunJournal: Sendable {
    public let database: any StoreBackend
    private let redactor: SecretRedactor
    private let state = Mutex(State())
    /// Held for a whole flush: one flush at a time, so that when `flush` returns everything logged
    /// before the call is committed, including a batch another flush (the flusher thread's) had
    /// already taken and was still writing. A run's end is recorded after a flush: a reader that
    /// sees it finished (`logs --follow` stops there) must find every line.
    private let flushing = Mutex(())
    private let maxBuffered: Int

    struct State {
        var lines: [RunLogLine] = []
        var results: [RunResult] = []
        var nextSeq: [Int64: Int64] = [:]
        var progress: [Int64: (done: Int, total: Int, failed: Int)] = [:]
        var deviceStatus: [Int64: (status: String, time: Date)] = [:]
        var written: Int = 0
    }

    public init(database: any StoreBackend, redactor: SecretRedactor, maxBuffered: Int = 5_000) {
        self.database = database
        self.redactor = redactor
        self.maxBuffered = maxBuffered
    }

    /// Continues a run's sequence after what is already stored (a run is only ever written by one
    /// engine, but this keeps `seq` unique even if a run is resumed).
    public func open(run id: Int64) throws {
        let last = try database.query { store in try store.lastLogSeq(run: id) }
        state.withLock { $0.nextSeq[id] = max($0.nextSeq[id] ?? 0, last) }
    }

    /// The secrets this journal scrubs, for other texts leaving the engine (notifications).
    public var secretRedactor: SecretRedactor { redactor }

    public func log(run: Int64, _ level: RunLogLine.Level, device: String = "", service: String = "", _ message: String) {
        let clean = redactor.scrub(message)
        let flushNow = state.withLock { s -> Bool in
            let seq = (s.nextSeq[run] ?? 0) + 1
            s.nextSeq[run] = seq
            s.lines.append(RunLogLine(runId: run, seq: seq, time: Date(), level: level, device: device,
                                      service: service, message: clean))
            return s.lines.count + s.results.count >= maxBuffered
        }
        if flushNow { try? flush() }
    }

    public func record(_ result: RunResult) {
        var r = result
        r.output = redactor.scrub(r.output)
        // Rows hold device output too: the same secrets are scrubbed from them.
        r.rows = r.rows.map { redactor.scrub($0) }
        state.withLock { $0.results.append(r) }
    }

    public func progress(run: Int64, done: Int, total: Int, failed: Int) {
        state.withLock { $0.progress[run] = (done, total, failed) }
    }

    public func deviceFinished(_ deviceId: Int64, status: String) {
        state.withLock { $0.deviceStatus[deviceId] = (status, Date()) }
    }

    /// Takes what is buffered without writing it: a unit's journal goes through its lease
    /// (`writeUnitJournal`, `finishUnit`), never `writeJournal`. Progress is not taken (the units count it).
    /// `results: false` leaves the results buffered (a unit's periodic flush: its result goes with its end).
    public func take(results: Bool = true) -> JournalBatch {
        state.withLock { s in
            let batch = JournalBatch(lines: s.lines, results: results ? s.results : [],
                                     deviceStatus: s.deviceStatus.mapValues { JournalBatch.DeviceRunStatus(status: $0.status, time: $0.time) })
            s.lines = []; s.progress = [:]; s.deviceStatus = [:]
            if results { s.results = [] }
            return batch
        }
    }

    /// Puts back a batch that could not be written (it is retried with the next).
    public func putBack(_ batch: JournalBatch) {
        state.withLock { s in
            s.lines = batch.lines + s.lines
            s.results = batch.results + s.results
            for (k, v) in batch.deviceStatus where s.deviceStatus[k] == nil { s.deviceStatus[k] = (v.status, v.time) }
        }
    }

    /// Lines written so far (all runs), for the benchmark.
    public var linesWritten: Int { state.withLock { $0.written } }

    /// Writes what is buffered in one transaction. On a database error the batch is kept and retried
    /// at the next flush, so a busy database delays lines but never drops them. Returns once what
    /// was logged before the call is committed, whatever other flush was under way.
    public func flush() throws {
        try flushing.withLock { _ in try flushAlone() }
    }

    private func flushAlone() throws {
        let batch = state.withLock { s -> State in
            let b = s
            s.lines = []; s.results = []; s.progress = [:]; s.deviceStatus = [:]
            return b
        }
        if batch.lines.isEmpty && batch.results.isEmpty && batch.progress.isEmpty && batch.deviceStatus.isEmpty { return }
        let whole = JournalBatch(
            lines: batch.lines, results: batch.results,
            progress: batch.progress.mapValues { JournalBatch.Progress(done: $0.done, total: $0.total, failed: $0.failed) },
            deviceStatus: batch.deviceStatus.mapValues { JournalBatch.DeviceRunStatus(status: $0.status, time: $0.time) })
        do {
            try database.writeJournal(whole)
            state.withLock { $0.written += batch.lines.count }
        } catch let e as StoreError where e.kind == .conflict {
            // A line's (run, seq) is taken: another engine ended that run (it found this one lost)
            // and wrote its closing line. Kept, such a batch would fail forever and hold back every
            // other run's lines: it is written run by run instead, and a run's part that still
            // conflicts is dropped (the run is not this engine's any more).
            try writeRunByRun(whole)
        } catch {
            state.withLock { s in
                s.lines = batch.lines + s.lines
                s.results = batch.results + s.results
                for (k, v) in batch.progress where s.progress[k] == nil { s.progress[k] = v }
                for (k, v) in batch.deviceStatus where s.deviceStatus[k] == nil { s.deviceStatus[k] = v }
            }
            throw error
        }
    }
}

extension RunJournal {
    func writeRunByRun(_ batch: JournalBatch) throws {
        let runs = Set(batch.lines.map(\.runId)).union(batch.results.map(\.runId)).union(batch.progress.keys).sorted()
        var deviceStatus = batch.deviceStatus
        for (index, run) in runs.enumerated() {
            let part = JournalBatch(lines: batch.lines.filter { $0.runId == run }, results: batch.results.filter { $0.runId == run },
                                    progress: batch.progress.filter { $0.key == run }, deviceStatus: deviceStatus)
            do {
                try database.writeJournal(part)
                deviceStatus = [:]
                state.withLock { $0.written += part.lines.count }
            } catch let e as StoreError where e.kind == .conflict {
                continue
            } catch {
                // The database is away: what is not written yet waits for the next flush.
                let rest = Set(runs[index...])
                state.withLock { s in
                    s.lines = batch.lines.filter { rest.contains($0.runId) } + s.lines
                    s.results = batch.results.filter { rest.contains($0.runId) } + s.results
                    for (k, v) in batch.progress where rest.contains(k) && s.progress[k] == nil { s.progress[k] = (v.done, v.total, v.failed) }
                    for (k, v) in deviceStatus where s.deviceStatus[k] == nil { s.deviceStatus[k] = (v.status, v.time) }
                }
                throw error
            }
        }
        if !deviceStatus.isEmpty { try? database.writeJournal(JournalBatch(deviceStatus: deviceStatus)) }
    }
}

/// Replaces known secret values with a mask wherever they appear.
public struct SecretRedactor: Sendable {
    public static let mask = "********"
    private let secrets: [String]

    public init(secrets: [String]) {
        // Longest first so a secret containing another is masked whole; very short values would
        // mask half the output and protect nothing.
        self.secrets = Array(Set(secrets.filter { $0.count >= 4 })).sorted { $0.count > $1.count }
    }

    /// The secrets of every credential in the database (passwords, key passphrases, inline keys,
    /// enable secrets), opened in memory only.
    public static func load(database: any StoreBackend, secrets box: SecretBox) throws -> SecretRedactor {
        let credentials = try database.query { store in try store.credentials() }
        var values: [String] = []
        for c in credentials {
            for sealed in [c.secret, c.enableSecret] where !sealed.isEmpty {
                if let plain = try? box.open(sealed) {
                    values.append(plain)
                    // An inline key may be echoed line by line.
                    if plain.contains("\n") { values += plain.split(separator: "\n").map(String.init).filter { $0.count >= 16 } }
                }
            }
        }
        return SecretRedactor(secrets: values)
    }

    /// This redactor with more secrets (a mail password, webhook URLs).
    public func adding(_ more: [String]) -> SecretRedactor { SecretRedactor(secrets: secrets + more) }

    public func scrub(_ text: String) -> String {
        if secrets.isEmpty || text.isEmpty { return text }
        var out = text
        for s in secrets where out.contains(s) { out = out.replacingOccurrences(of: s, with: Self.mask) }
        return out
    }
}
