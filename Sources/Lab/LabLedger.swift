import Foundation

/// The lab's login and command ledger, as its devices write it (`switchboard-device`, Ledger.swift):
/// one tab-separated line per session start and per command. What a test or benchmark holds its
/// client's claims against: "every device ran `show version` exactly once" is a count here.
public struct LabLedger: Sendable {
    public struct Entry: Equatable, Sendable {
        public enum Event: String, Sendable { case login, command }
        /// The device's clock when it wrote the line (this host's: the lab is local).
        public var time: Double
        public var device: String
        /// The `switchboard-device` process: one per SSH session.
        public var pid: Int32
        public var event: Event
        /// `shell` or `exec` for a login; the command line for a command.
        public var detail: String

        public init(time: Double, device: String, pid: Int32, event: Event, detail: String) {
            self.time = time
            self.device = device
            self.pid = pid
            self.event = event
            self.detail = detail
        }
    }

    public var entries: [Entry]
    /// Lines that are not ledger lines (none, unless something else wrote to the file).
    public var malformed: [String]

    public init(text: String) {
        var entries: [Entry] = []
        var malformed: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let fields = line.split(separator: "\t", maxSplits: 4, omittingEmptySubsequences: false)
            guard fields.count == 5, let time = Double(fields[0]), let pid = Int32(fields[2]),
                  let event = Entry.Event(rawValue: String(fields[3])) else {
                malformed.append(String(line))
                continue
            }
            entries.append(Entry(time: time, device: String(fields[1]), pid: pid, event: event, detail: String(fields[4])))
        }
        self.entries = entries
        self.malformed = malformed
    }

    /// Reads the ledger of a running (or stopped) lab.
    public init(path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else { throw LabError("cannot read the lab's ledger \(path)") }
        self.init(text: String(decoding: data, as: UTF8.self))
    }

    /// The ledger of the lab in `status` (labs from before the ledger have none).
    public init(lab status: LabStatus) throws {
        guard let path = status.ledgerPath else { throw LabError("the lab in \(status.directory) keeps no ledger (started by an older build)") }
        try self.init(path: path)
    }

    public var logins: [Entry] { entries.filter { $0.event == .login } }

    /// How many times each device received `command` (exactly, after trimming), by device name.
    public func count(of command: String) -> [String: Int] {
        var out: [String: Int] = [:]
        for e in entries where e.event == .command && e.detail == command { out[e.device, default: 0] += 1 }
        return out
    }

    /// The devices that received `command` more than once, with their counts, for a failure message.
    public func duplicates(of command: String) -> [String: Int] { count(of: command).filter { $0.value > 1 } }

    /// The first time each device received `command`.
    public func firstTimes(of command: String) -> [String: Double] {
        var out: [String: Double] = [:]
        for e in entries where e.event == .command && e.detail == command { out[e.device] = min(out[e.device] ?? e.time, e.time) }
        return out
    }
}
