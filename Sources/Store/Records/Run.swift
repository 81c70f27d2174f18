import Foundation
import GRDB

/// One execution of a service or workflow (eNMS `Run`).
public struct Run: Codable, Equatable, Sendable, Identifiable {
    public enum Status: String, Codable, Sendable, CaseIterable {
        case queued, running, completed, failed, aborted, interrupted
        public var isFinished: Bool { ![.queued, .running].contains(self) }
    }
    public enum Trigger: String, Codable, Sendable, CaseIterable { case console, cli, scheduler }

    public var id: Int64?
    public var serviceId: Int64
    public var serviceName: String
    public var trigger: Trigger
    public var user: String
    /// Targets as launched: `{"devices": [...], "pools": [...], "filter": "..."}`.
    public var targets: [String: JSONValue] = [:]
    public var parameters: [String: JSONValue] = [:]
    public var status: Status = .queued
    public var progressDone: Int = 0
    public var progressTotal: Int = 0
    public var progressFailed: Int = 0
    public var createdAt: Date = Date()
    public var startedAt: Date?
    public var endedAt: Date?
    /// The pid of the engine executing the run.
    public var enginePid: Int?
    public var stopRequested: Bool = false
    /// Why a run ended as it did (interrupted by an engine crash, aborted by a user…).
    public var reason: String = ""
    public var restartOf: Int64?
    public var restartFrom: String = ""
    public var taskId: Int64?
    /// The registered engine executing the run (PostgreSQL's `engine` table; nil on SQLite, whose
    /// one engine holds the lock) and the host it runs on: with `enginePid`, what names the engine
    /// in an interruption's reason after its registration is gone.
    public var engineId: Int64?
    public var engineHost: String = ""
    /// The task's due time this run was fired for: (task, due time) is unique, so a due time fires
    /// once whichever engines tick.
    public var dueAt: Date?

    public init(id: Int64? = nil, serviceId: Int64, serviceName: String, trigger: Trigger, user: String,
                targets: [String: JSONValue] = [:], parameters: [String: JSONValue] = [:]) {
        self.id = id; self.serviceId = serviceId; self.serviceName = serviceName; self.trigger = trigger
        self.user = user; self.targets = targets; self.parameters = parameters
    }
}

extension Run: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "run"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase
    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// The outcome of one service on one device (or once, without a device) within a run.
public struct RunResult: Codable, Equatable, Sendable, Identifiable {
    public var id: Int64?
    public var runId: Int64
    public var serviceId: Int64
    public var serviceName: String
    public var deviceId: Int64?
    public var deviceName: String = ""
    public var success: Bool
    public var output: String = ""
    public var durationMs: Int = 0
    public var attempts: Int = 1
    public var createdAt: Date = Date()
    /// Parsed output (`parse: textfsm`): `ParsedRows` as JSON; nil when the output was not parsed.
    public var rows: String?
    /// The engine that produced it (several engines: its registration's id; nil on SQLite's one
    /// engine) and that engine's host; the store sets both when it writes the result.
    public var engineId: Int64?
    public var engineHost: String = ""

    public init(id: Int64? = nil, runId: Int64, serviceId: Int64, serviceName: String, deviceId: Int64?,
                deviceName: String, success: Bool, output: String, durationMs: Int, attempts: Int, rows: String? = nil) {
        self.id = id; self.runId = runId; self.serviceId = serviceId; self.serviceName = serviceName
        self.deviceId = deviceId; self.deviceName = deviceName; self.success = success; self.output = output
        self.durationMs = durationMs; self.attempts = attempts; self.rows = rows
    }

    /// The parsed rows, decoded; nil when the output was not parsed.
    public var parsedRows: ParsedRows? { ParsedRows.decode(rows) }

    /// The engine that produced it, as the run's views name it: "#3 host-a" ("host-a" without a
    /// registration, "" when unknown).
    public var engine: String { Self.engineLabel(id: engineId, host: engineHost) }

    public static func engineLabel(id: Int64?, host: String) -> String {
        [id.map { "#\($0)" }, host.isEmpty ? nil : host].compactMap { $0 }.joined(separator: " ")
    }

    /// Results of more than one engine (a run spread over several): only then do the views name
    /// each result's engine.
    public static func spanEngines(_ results: [RunResult]) -> Bool { Set(results.map(\.engine)).count > 1 }
}

extension RunResult: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "result"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase
    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// One line of a run's log. `(run_id, seq)` is the key readers tail by.
public struct RunLogLine: Codable, Equatable, Sendable {
    public enum Level: String, Codable, Sendable, CaseIterable { case debug, info, warning, error }
    public var runId: Int64
    public var seq: Int64
    public var time: Date
    public var level: Level
    public var device: String = ""
    public var service: String = ""
    public var message: String

    /// The line the engine logs when it starts a unit (one service on one device): `:pulse` counts
    /// units in flight as these lines less the run's results, so the text is shared, not repeated.
    public static let unitStarted = "started"

    public init(runId: Int64, seq: Int64, time: Date, level: Level, device: String, service: String, message: String) {
        self.runId = runId; self.seq = seq; self.time = time; self.level = level; self.device = device
        self.service = service; self.message = message
    }
}

extension RunLogLine: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "run_log"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase
}
