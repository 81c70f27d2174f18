import Foundation
import Store

/// Everything one service execution on one device (or once, without a device) may use.
/// Services know nothing of runs' scheduling, the UI or the store's tables beyond what is here.
public struct ServiceContext: Sendable {
    public let runId: Int64
    public let service: Service
    /// Nil when the service runs once (run method `once`, or a service without device targets).
    public let device: Device?
    /// Run parameters (`--param k=v`) plus variables set by earlier services of the workflow
    /// (`extract`), visible as `{{payload.NAME}}`.
    public let payload: [String: JSONValue]
    /// The previous service's output on this device in the workflow, for `extract`/`validate`
    /// with `source: previous`.
    public let previousOutput: String?
    public let settings: Settings
    public let database: any StoreBackend
    /// Connections per device, shared by the services of a run so one device means one login.
    public let sessions: DeviceSessions
    /// The time one attempt may take; the executor enforces it too, this is for inner operations.
    public let timeout: Duration
    /// Appends a line to the run's log (batched by the executor); device and service are filled in.
    public let log: @Sendable (RunLogLine.Level, String) -> Void
    /// The user who launched the run (the author of a backup's git commit).
    public let runUser: String
    /// Reports for the run's end: changed configurations, git use.
    public let events: RunEvents?

    public init(runId: Int64, service: Service, device: Device?, payload: [String: JSONValue],
                previousOutput: String?, settings: Settings, database: any StoreBackend, sessions: DeviceSessions,
                timeout: Duration, runUser: String = "", events: RunEvents? = nil,
                log: @escaping @Sendable (RunLogLine.Level, String) -> Void) {
        self.runId = runId; self.service = service; self.device = device; self.payload = payload
        self.previousOutput = previousOutput; self.settings = settings; self.database = database
        self.sessions = sessions; self.timeout = timeout; self.log = log
        self.runUser = runUser; self.events = events
    }
}

/// What a service produced on one device.
public struct ServiceOutcome: Sendable, Equatable {
    public var success: Bool
    /// The result text shown to users: already free of secrets (backup masks them; the executor
    /// also scrubs every credential secret it knows of).
    public var output: String
    /// Variables to add to the payload for later services (extract).
    public var payload: [String: JSONValue]
    /// Parsed output (`parse: textfsm`): rows with lower-case keys; nil when the output was not parsed.
    public var rows: ParsedRows?

    public init(success: Bool, output: String, payload: [String: JSONValue] = [:], rows: ParsedRows? = nil) {
        self.success = success; self.output = output; self.payload = payload; self.rows = rows
    }
}

/// One service kind's behaviour. Throwing means the attempt failed (and may be retried);
/// returning `success: false` is a definite, non-retried failure such as a failed validation.
public protocol ServiceKindRunner: Sendable {
    func run(_ context: ServiceContext) async throws -> ServiceOutcome
}

/// A failure a service reports with a message meant for the engineer.
public struct ServiceError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
