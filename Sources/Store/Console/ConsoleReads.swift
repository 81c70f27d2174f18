import Foundation

/// The console's reads a backend answers with SQL of its own: compact (the device table, summaries
/// without outputs or transcripts) or aggregated (the pulse, the header's counts). Everything else
/// the console shows, `ConsoleStore` composes from `StoreReader`'s domain reads, the same on every
/// backend. `ConsoleStoreConformance` (Tests/StoreConformance) checks both backends answer alike.
public protocol ConsoleStoreReader {
    /// Runs `running` and `queued` (one indexed query).
    func activeRunCounts() throws -> (running: Int, queued: Int)
    /// The device table (see `DeviceTable.read`): the devices of the pool (nil: all), by name, as
    /// text values in `DeviceTable.fields` order, then custom properties.
    func deviceTable<Row>(pool: String?, properties: [String], date: (Date) -> String,
                          make: (_ id: String, _ values: [String]) -> Row) throws -> (fields: [String], rows: [Row])
    /// Results without their output, newest first, of one run or one device (or all).
    func resultSummaries(run: Int64?, device: String?) throws -> [ConsoleStore.ResultSummary]
    /// Sessions without their transcript, newest first, of one device (or all).
    func sessionSummaries(device: String?) throws -> [ConsoleStore.SessionSummary]
    /// Snapshots without their content, newest first, of one device (or all).
    func snapshotSummaries(device: String?) throws -> [ConsoleStore.SnapshotSummary]
    /// One configuration version with its content; nil when it does not exist.
    func configVersion(id: Int64) throws -> ConsoleStore.ConfigVersion?
    /// The version before `id` on the same device (nil: `id` is the first).
    func previousConfigVersion(id: Int64) throws -> ConsoleStore.ConfigVersion?
    /// A result with its output.
    func result(id: Int64) throws -> RunResult?
    /// A run's log lines after `after` (nil: the last `capacity`), at most `capacity`, and how many
    /// lines between were left out.
    func logTail(run: Int64, after: Int64?, capacity: Int) throws -> (lines: [RunLogLine], skipped: Int)
    /// Runs of a service or a task (nil: any), newest first.
    func recentRuns(serviceId: Int64?, taskId: Int64?, limit: Int) throws -> [Run]
    /// The pools a device was added to by hand.
    func manualPoolIds(deviceId: Int64) throws -> Set<Int64>
    /// A device's results with their run's status, newest first.
    func deviceResultBriefs(deviceId: Int64, limit: Int) throws -> [ConsoleStore.DeviceXray.ResultBrief]
    /// The pulse's figures (see `ConsoleStore.pulse`), aggregated by the database.
    func pulse(_ shape: ConsoleStore.PulseShape) throws -> ConsoleStore.Pulse
}

/// The console's writes a backend does with SQL of its own.
public protocol ConsoleStoreWriter {
    /// Stores a new session record (its device's id looked up by name); returns it with its id.
    func insert(session: SessionRecord) throws -> SessionRecord
    /// Writes a session record's end (times, counts, transcript).
    func update(session: SessionRecord) throws
    /// Deletes one named record (`notFound` when there is none); pools and member sets follow a
    /// deleted device.
    func delete(_ kind: ConsoleStore.DeletableKind, named name: String, noun: String) throws
}
