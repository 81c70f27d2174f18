import Foundation

/// A prompt-driven CLI on a shell channel with a PTY, for devices whose CLI only behaves
/// interactively: `send` writes a command and reads until the prompt comes back, answering pager
/// prompts, then returns the output without the echoed command and the prompt. Platform data
/// (`PlatformDefinition`) says what prompts, pagers and errors look like.
///
/// An actor: commands on one session run one after the other. After a timeout or a disconnect
/// the session is unusable (the device may still be talking about the old command); open a new one.
public actor CLISession {
    public nonisolated let platform: PlatformDefinition
    /// The mode of the last prompt seen; nil before `findPrompt`.
    public private(set) var mode: PlatformDefinition.Mode?
    /// The last prompt line, as shown (`R1#`).
    public private(set) var prompt = ""
    public nonisolated let commandTimeout: Duration

    private let connection: SSHConnection
    private let channel: ChannelHandle
    /// The prompt's host part (`R1`, `user@r1`): a prompt-looking line starting with it ends a
    /// command at once; one that does not (the host was renamed) must be followed by silence.
    private var promptBase = ""
    private var unusable: SSHError?
    private var closed = false

    /// How long a prompt-looking last line must be followed by silence when it does not start
    /// with the known host part.
    private static let quietPeriod: Duration = .milliseconds(300)

    init(connection: SSHConnection, channel: ChannelHandle, platform: PlatformDefinition, commandTimeout: Duration) {
        self.connection = connection
        self.channel = channel
        self.platform = platform
        self.commandTimeout = commandTimeout
    }

    // MARK: public API

    /// Waits for the first prompt (after the banner); if none comes within a second, sends a
    /// newline and keeps reading until a prompt pattern matches. Returns the prompt line.
    @discardableResult
    public func findPrompt(timeout: Duration? = nil) async throws -> String {
        try checkUsable()
        let limit = timeout ?? commandTimeout
        let deadline = Monotonic.deadline(after: limit)
        var buffer: [UInt8] = []
        var nudged = false
        let nudgeAt = Monotonic.deadline(after: .seconds(1))
        while true {
            let (start, tail) = Self.lastLine(buffer)
            if let found = platform.mode(ofPrompt: tail) {
                if nudged {
                    // Our newline may yet produce a second prompt: take it now, or the next
                    // command would see it and stop reading before its own output.
                    let soft = min(deadline, Monotonic.deadline(after: Self.quietPeriod))
                    if case .data(let more) = try await readChunk(until: soft, hardDeadline: deadline, limit: limit, detail: "the first prompt",
                                                                 phase: .prompt, bytesSoFar: buffer.count) {
                        buffer += more
                        continue
                    }
                }
                adopt(prompt: tail, mode: found)
                return prompt
            }
            if platform.isPagerPrompt(tail) {
                buffer.removeSubrange(start...)
                try await write(platform.pagerResponse, deadline: deadline, limit: limit, detail: "the pager")
                continue
            }
            let soft = nudged ? deadline : min(deadline, nudgeAt)
            switch try await readChunk(until: soft, hardDeadline: deadline, limit: limit, detail: "the first prompt",
                                       phase: .prompt, bytesSoFar: buffer.count) {
            case .data(let bytes):
                buffer += bytes
            case .quiet:
                nudged = true
                try await write(platform.lineEnding, deadline: deadline, limit: limit, detail: "the first prompt")
            case .eof:
                throw fail(.disconnected(host: connection.host, port: connection.port, bytesReceived: buffer.count,
                                         detail: "before showing a prompt"))
            }
        }
    }

    /// Runs the platform's paging-disable commands. A command the device refuses is skipped: the
    /// pager is answered anyway.
    public func disablePaging() async throws {
        for command in platform.pagingDisable {
            do { _ = try await send(command) } catch SSHError.commandRejected { continue }
        }
    }

    /// Sends `command` and returns its output, without the echoed command and the prompt.
    /// Throws `.commandRejected` when the output matches one of the platform's error patterns.
    public func send(_ command: String, timeout: Duration? = nil) async throws -> String {
        try await run(command, label: command, timeout: timeout)
    }

    /// Enters enable (privileged) mode, answering the password question with `secret`. Does
    /// nothing when already there, or on platforms without an enable mode.
    public func enable(secret: String?, timeout: Duration? = nil) async throws {
        try checkUsable()
        guard let enable = platform.enable, mode == .user else { return }
        let limit = timeout ?? commandTimeout
        let deadline = Monotonic.deadline(after: limit)
        try await write(enable.command + platform.lineEnding, deadline: deadline, limit: limit, detail: enable.command)
        var reply = try await readUntilPrompt(deadline: deadline, limit: limit, label: enable.command, extra: enable.passwordPrompt)
        if reply.mode == nil {
            // The password question. The secret is written and never echoed back or logged.
            try await write((secret ?? "") + platform.lineEnding, deadline: deadline, limit: limit, detail: "the enable password")
            reply = try await readUntilPrompt(deadline: deadline, limit: limit, label: enable.command, extra: nil)
        }
        let output = output(of: reply.bytes, command: enable.command)
        guard mode == .enable || mode == .config else {
            let reason = platform.rejection(in: output) ?? (secret == nil ? "the device asks for an enable password and none was given"
                                                                          : "the device did not grant privileged mode")
            throw SSHError.commandRejected(host: connection.host, port: connection.port, command: enable.command, message: reason)
        }
    }

    /// Enters configuration mode, sends `lines` one by one (each checked against the error
    /// patterns), commits if the platform needs it, and leaves configuration mode. Returns the
    /// combined output. Errors name lines by position, never by text (they may hold secrets);
    /// on an error the session leaves configuration mode before throwing.
    public func configure(_ lines: [String], timeout: Duration? = nil) async throws -> String {
        try checkUsable()
        guard let config = platform.configMode else {
            throw SSHError.protocolError(host: connection.host, port: connection.port,
                                         message: "platform \(platform.name) has no configuration mode")
        }
        if platform.enable != nil && mode == .user {
            throw SSHError.commandRejected(host: connection.host, port: connection.port, command: config.enter,
                                           message: "configuration needs privileged mode: call enable(secret:) first")
        }
        var transcript = try await send(config.enter, timeout: timeout)
        guard mode == .config else {
            throw SSHError.commandRejected(host: connection.host, port: connection.port, command: config.enter,
                                           message: "the device did not enter configuration mode (prompt: \(prompt))")
        }
        do {
            for (index, line) in lines.enumerated() {
                transcript += try await run(line, label: "configuration line \(index + 1) of \(lines.count)", timeout: timeout)
            }
            if let commit = config.commit { transcript += try await send(commit, timeout: timeout) }
        } catch let error as SSHError {
            if case .commandRejected = error { _ = try? await send(config.exit, timeout: timeout) }
            throw error
        }
        transcript += try await send(config.exit, timeout: timeout)
        return transcript
    }

    /// Frees the shell channel (the connection stays open).
    public func close() async {
        guard !closed else { return }
        closed = true
        await connection.driver.free(channel)
    }

    // MARK: internals

    private func checkUsable() throws {
        if closed { throw SSHError.closed(host: connection.host, port: connection.port) }
        if let unusable {
            throw SSHError.protocolError(host: connection.host, port: connection.port,
                                         message: "this CLI session is unusable after an earlier failure (\(unusable)); open a new one")
        }
    }

    private func fail(_ error: SSHError) -> SSHError {
        unusable = error
        return error
    }

    private func adopt(prompt line: String, mode found: PlatformDefinition.Mode) {
        prompt = line.trimmingCharacters(in: .whitespaces)
        mode = found
        promptBase = String(prompt.prefix { $0.isLetter || $0.isNumber || "_.-@/".contains($0) })
    }

    private func run(_ command: String, label: String, timeout: Duration?) async throws -> String {
        try checkUsable()
        let limit = timeout ?? commandTimeout
        let deadline = Monotonic.deadline(after: limit)
        try await write(command + platform.lineEnding, deadline: deadline, limit: limit, detail: label)
        let reply = try await readUntilPrompt(deadline: deadline, limit: limit, label: label, extra: nil)
        let text = output(of: reply.bytes, command: command)
        if let message = platform.rejection(in: text) {
            throw SSHError.commandRejected(host: connection.host, port: connection.port, command: label, message: message)
        }
        return text
    }

    private func write(_ text: String, deadline: UInt64, limit: Duration, detail: String) async throws {
        do {
            try await connection.driver.write(channel, Array(text.utf8), deadline: deadline, seconds: limit.seconds, detail: detail)
        } catch let error as SSHError {
            throw fail(error)
        }
    }

    private enum Chunk {
        case data([UInt8])
        case eof
        /// Nothing arrived before the soft deadline.
        case quiet
    }

    /// One read. Passing `soft` (before `hardDeadline`) is `.quiet`; passing the hard deadline is
    /// the command's timeout.
    private func readChunk(until soft: UInt64, hardDeadline: UInt64, limit: Duration, detail: String,
                           phase: SSHError.Phase, bytesSoFar: Int) async throws -> Chunk {
        do {
            switch try await connection.driver.read(channel, limit: 1 << 20, deadline: soft, phase: phase, seconds: limit.seconds,
                                                    detail: detail, bytesSoFar: bytesSoFar) {
            case .data(let bytes): return .data(bytes)
            case .eof: return .eof
            }
        } catch let error as SSHError {
            if case .timeout = error, soft < hardDeadline { return .quiet }
            if case .disconnected(let host, let port, _, let what) = error {
                throw fail(.disconnected(host: host, port: port, bytesReceived: bytesSoFar, detail: what))
            }
            throw fail(error)
        }
    }

    private struct Reply {
        /// Everything before the prompt line.
        var bytes: [UInt8]
        /// The mode of the prompt that ended it; nil when `extra` matched instead.
        var mode: PlatformDefinition.Mode?
    }

    /// Reads until the last line is a prompt (or matches `extra`), answering pager prompts.
    private func readUntilPrompt(deadline: UInt64, limit: Duration, label: String, extra: CLIPattern?) async throws -> Reply {
        var buffer: [UInt8] = []
        var checkTail = false
        while true {
            if checkTail {
                let (start, tail) = Self.lastLine(buffer)
                if !tail.isEmpty {
                    if let extra, extra.matches(tail) {
                        return Reply(bytes: Array(buffer[..<start]), mode: nil)
                    }
                    if platform.isPagerPrompt(tail) {
                        // Drop the pager prompt from the output and ask for the next page.
                        buffer.removeSubrange(start...)
                        try await write(platform.pagerResponse, deadline: deadline, limit: limit, detail: "the pager (\(label))")
                        checkTail = false
                        continue
                    }
                    if let found = platform.mode(ofPrompt: tail) {
                        let trimmed = tail.trimmingCharacters(in: .whitespaces)
                        var confirmed = !promptBase.isEmpty && trimmed.hasPrefix(promptBase)
                        if !confirmed {
                            // A prompt-looking line from someone else (or a renamed host): the
                            // real prompt is followed by silence.
                            let soft = min(deadline, Monotonic.deadline(after: Self.quietPeriod))
                            switch try await readChunk(until: soft, hardDeadline: deadline, limit: limit, detail: label,
                                                       phase: .command, bytesSoFar: buffer.count) {
                            case .data(let bytes):
                                buffer += bytes
                                continue
                            case .eof:
                                throw fail(.disconnected(host: connection.host, port: connection.port, bytesReceived: buffer.count,
                                                         detail: "before the prompt came back (`\(label)`)"))
                            case .quiet:
                                confirmed = true
                            }
                        }
                        if confirmed {
                            adopt(prompt: tail, mode: found)
                            return Reply(bytes: Array(buffer[..<start]), mode: found)
                        }
                    }
                }
            }
            switch try await readChunk(until: deadline, hardDeadline: deadline, limit: limit, detail: label,
                                       phase: .command, bytesSoFar: buffer.count) {
            case .data(let bytes):
                buffer += bytes
                checkTail = true
            case .eof:
                throw fail(.disconnected(host: connection.host, port: connection.port, bytesReceived: buffer.count,
                                         detail: "before the prompt came back (`\(label)`)"))
            case .quiet:
                continue  // not reached: soft == hard
            }
        }
    }

    /// The start of the last (unterminated) line and its text as a terminal shows it.
    static func lastLine(_ buffer: [UInt8]) -> (Int, String) {
        var start = buffer.count
        while start > 0 && buffer[start - 1] != 0x0a { start -= 1 }
        let cleaned = TerminalText.clean(Array(buffer[start...]))
        return (start, String(decoding: cleaned, as: UTF8.self))
    }

    /// The output of a command: terminal-cleaned, the echoed command line and the prompt's
    /// preamble line (Junos `[edit]`) removed.
    private func output(of bytes: [UInt8], command: String) -> String {
        var text = String(decoding: TerminalText.clean(bytes), as: UTF8.self)
        let wanted = command.trimmingCharacters(in: .whitespaces)
        if let newline = text.firstIndex(of: "\n") {
            let first = text[..<newline].trimmingCharacters(in: .whitespaces)
            if !wanted.isEmpty && first.hasSuffix(wanted) || wanted.isEmpty && first.isEmpty || first == wanted {
                text.removeSubrange(...newline)
            }
        } else if text.trimmingCharacters(in: .whitespaces).hasSuffix(wanted) {
            text = ""
        }
        if let preamble = platform.promptPreamble {
            var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            // "…\n[edit]\n" leaves ["…", "[edit]", ""]: drop the preamble and the blank line before it.
            if lines.count >= 2, lines.last == "", preamble.matches(String(lines[lines.count - 2])) {
                lines.removeLast(2)
                if lines.last == "" { lines.removeLast() }
                text = lines.joined(separator: "\n") + (lines.isEmpty ? "" : "\n")
            }
        }
        return text
    }
}
