import CLibSSH2
import Synchronization

/// A raw terminal session for the console: a PTY shell whose bytes flow both ways untouched.
/// Received bytes arrive on `events` as they come; `.closed` ends the stream (the exit status
/// when the device sent one, or the error that cut the session).
public final class InteractiveSession: Sendable {
    public enum Event: Sendable, Equatable {
        case output([UInt8])
        case closed(exitStatus: Int32?, error: SSHError?)
    }

    public let events: AsyncStream<Event>
    private let connection: SSHConnection
    private let channel: ChannelHandle
    private let reader: ReaderOperation
    private let closed = Atomic<Bool>(false)

    init(connection: SSHConnection, channel: ChannelHandle) {
        self.connection = connection
        self.channel = channel
        let (stream, continuation) = AsyncStream<Event>.makeStream(bufferingPolicy: .unbounded)
        self.events = stream
        self.reader = ReaderOperation(channel: channel, continuation: continuation)
        let driver = connection.driver
        let reader = self.reader
        if !driver.loop.submit({ driver.add(reader) }) {
            continuation.yield(.closed(exitStatus: nil, error: .closed(host: connection.host, port: connection.port)))
            continuation.finish()
        }
    }

    /// Sends keystrokes (or pasted text) as they are.
    public func write(_ bytes: [UInt8]) async throws {
        try await connection.driver.write(channel, bytes, deadline: Monotonic.deadline(after: connection.commandTimeout),
                                          seconds: connection.commandTimeout.seconds, detail: "terminal input")
    }

    public func write(_ text: String) async throws { try await write(Array(text.utf8)) }

    /// The terminal window changed size.
    public func resize(columns: Int, rows: Int) async throws {
        try await connection.driver.resizePTY(channel, columns: columns, rows: rows,
                                              deadline: Monotonic.deadline(after: connection.commandTimeout),
                                              seconds: connection.commandTimeout.seconds)
    }

    /// Closes the channel (the connection stays open); `events` ends with `.closed`.
    public func close() async {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        reader.requestCancel()
        let driver = connection.driver
        driver.loop.submit { driver.needsService = true }
        await driver.free(channel)
    }

    /// Reads the channel for as long as it is open, yielding what arrives. Loop thread only.
    final class ReaderOperation: LoopOperation, @unchecked Sendable {
        private let channel: ChannelHandle
        private let continuation: AsyncStream<Event>.Continuation
        private let buffers = ReadBuffers(separateStderr: false)
        private var sawEOF = false
        private var total = 0

        init(channel: ChannelHandle, continuation: AsyncStream<Event>.Continuation) {
            self.channel = channel
            self.continuation = continuation
            super.init(deadline: nil)
        }

        override func step(_ driver: SessionDriver) -> StepOutcome {
            do {
                if !sawEOF {
                    buffers.output.removeAll(keepingCapacity: true)
                    sawEOF = try driver.drain(channel, into: buffers, limit: 1 << 20, detail: "terminal output", bytesSoFar: total)
                    if !buffers.output.isEmpty {
                        total += buffers.output.count
                        continuation.yield(.output(buffers.output))
                        if !sawEOF { return .progressed }
                    }
                    if !sawEOF { return .blocked }
                }
                // EOF: the exit status comes with (or before) the remote close.
                let rc = libssh2_channel_wait_closed(channel.raw)
                if rc == LIBSSH2_ERROR_EAGAIN { return .blocked }
                continuation.yield(.closed(exitStatus: driver.exitStatus(channel).status, error: nil))
                continuation.finish()
                return .finished
            } catch {
                continuation.yield(.closed(exitStatus: nil, error: error as? SSHError))
                continuation.finish()
                return .finished
            }
        }

        override func fail(_ error: any Error) {
            continuation.yield(.closed(exitStatus: nil, error: error as? SSHError))
            continuation.finish()
        }

        override func timeoutError() -> any Error { CancellationError() }
    }
}
