import Foundation
import Store

/// One session's record in the store: written when the session opens (so even a crash leaves a
/// trace), and completed when it ends with the end time, byte counts and the transcript.
public final class SessionRecording {
    public let database: any StoreBackend
    public private(set) var record: SessionRecord
    public private(set) var writer: AsciicastWriter
    private let clockStart: UInt64

    /// - Parameters:
    ///   - user: the engineer (console or shell user).
    ///   - loginUser: the user the device was logged in as (in the transcript's title).
    public init(database: any StoreBackend, device: String, user: String, loginUser: String, width: Int, height: Int,
                terminal: String?, start: Date = Date()) throws {
        self.database = database
        var r = SessionRecord(deviceId: nil, deviceName: device, user: user)
        r.startedAt = start
        r.width = width
        r.height = height
        writer = AsciicastWriter(width: width, height: height, timestamp: start, title: "\(loginUser)@\(device)", terminal: terminal)
        r.transcript = writer.text
        r.endReason = "open"
        clockStart = DispatchTime.now().uptimeNanoseconds
        record = try ConsoleStore(backend: database).insertSession(r)
        SecurityLog.record("session.open", targets: "device '\(device)'", detail: "session \(record.id ?? 0), login \(loginUser)", user: user)
    }

    /// Seconds since the session opened (monotonic).
    public var elapsed: Double { Double(DispatchTime.now().uptimeNanoseconds &- clockStart) / 1e9 }

    /// Output from the device.
    public func received(_ bytes: [UInt8]) {
        record.bytesIn += bytes.count
        writer.output(bytes, at: elapsed)
    }

    /// Keystrokes sent: counted, never recorded.
    public func sent(_ count: Int) {
        record.bytesOut += count
    }

    public func resized(columns: Int, rows: Int) {
        writer.resize(columns: columns, rows: rows, at: elapsed)
    }

    /// Completes the record; returns its id.
    @discardableResult
    public func finish(_ end: SessionEnd, at date: Date = Date()) throws -> Int64 {
        writer.finish(at: elapsed)
        record.endedAt = date
        record.endReason = end.reason
        record.transcript = writer.text
        let r = record
        SecurityLog.record("session.close", targets: "device '\(r.deviceName)'",
                           detail: "session \(r.id ?? 0): \(end.reason), \(r.bytesIn) bytes in", user: r.user)
        try ConsoleStore(backend: database).updateSession(r)
        return record.id ?? 0
    }

    /// The stored transcript of a session, or an error naming what is missing.
    public static func transcript(_ database: any StoreBackend, id: Int64) throws -> (SessionRecord, Asciicast) {
        guard let r = try ConsoleStore(backend: database).session(id) else {
            throw StoreError.notFound("no session \(id)")
        }
        do {
            return (r, try Asciicast.parse(r.transcript))
        } catch {
            throw StoreError.invalid("session \(id): the transcript is not asciicast v2: \(error.message)")
        }
    }
}
