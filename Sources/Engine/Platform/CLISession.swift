import Foundation

/// A prompt-driven CLI on a shell channel with a PTY, for devices whose CLI only behaves
/// interactively: `send` writes a command and reads until the prompt comes back, answering pager
/// prompts, then returns the output without the echoed command and the prompt. Platform data
/// (`PlatformDefinition`) says what prompts, pagers and errors look like.
///
/// An actor: commands on one session run one after the other. After a timeout or a disconnect
/// the session is unusable (the device may still be talking about the old command); open a new one.
public actor CLISession {
    /// The platform driving the session: the device's, or the one detected after login (`autodetect`).
    public private(set) var platform: PlatformDefinition
    /// What the engineer should know about this session (the prompt found does not match the
    /// platform's patterns, the platform was detected): the services log these once.
    public private(set) var warnings: [String] = []
    /// The mode of the last prompt seen; nil before `findPrompt`.
    public private(set) var mode: PlatformDefinition.Mode?
    /// The last prompt line, as shown (`R1#`).
    public private(set) var prompt = ""
    public nonisolated let commandTimeout: Duration

    private let connection: SSHConnection
    private let channel: ChannelHandle
    /// The prompt's host part (`R1`, `user@r1`, `HUAWEI` of `<HUAWEI>`): a prompt-looking line
    /// starting with it ends a command at once; one that does not (the host was renamed) must be
    /// followed by silence. Also what recognises the literal prompt when the platform's patterns
    /// do not: a command ends at the device's prompt whatever the platform file says.
    private var promptBase = ""
    private var unusable: SSHError?
    /// Paging-disable commands not sent yet: they go out with the first command, typed ahead of it
    /// (one round trip for both), or on their own before anything else needs the session.
    private var pendingPaging: [String] = []
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

    /// Finds the device's prompt after login, as an engineer would: banners and MOTD (which may
    /// contain `#`, `>` or `$`) are complete lines, the prompt is the unterminated last line once the
    /// device goes quiet. A last line matching the platform's prompt patterns is taken at once
    /// (no round trip); otherwise a prompt-shaped line followed by silence is, and when there is
    /// none, a line ending is sent (up to three times) and the last line that comes back is the
    /// prompt. When the platform's patterns do not match it, the literal prompt is used and a
    /// warning names both. Returns the prompt line.
    @discardableResult
    public func findPrompt(timeout: Duration? = nil) async throws -> String {
        try checkUsable()
        let limit = timeout ?? commandTimeout
        let deadline = Monotonic.deadline(after: limit)
        var buffer: [UInt8] = []
        var nudges = 0
        // The generic platform's pattern matches almost any line: wait for silence before trusting it.
        let trustPatterns = platform.name != PlatformRegistry.genericName
        var lastData = Monotonic.now()
        while true {
            let (start, tail) = Self.lastLine(buffer)
            let trimmed = tail.trimmingCharacters(in: .whitespaces)
            if !trimmed.isEmpty, platform.isPagerPrompt(tail) {
                buffer.removeSubrange(start...)
                try await write(platform.pagerResponse, deadline: deadline, limit: limit, detail: "the pager")
                continue
            }
            if trustPatterns, nudges == 0, !trimmed.isEmpty, let found = platform.mode(ofPrompt: tail) {
                adopt(prompt: tail, mode: found)
                return prompt
            }
            // How long to listen before deciding: a prompt-shaped line needs a short silence, anything
            // else (nothing yet, a banner line) a longer one before we nudge.
            let shaped = Self.looksLikePrompt(trimmed, terminators: platform.promptTerminators)
                || (!trimmed.isEmpty && platform.mode(ofPrompt: tail) != nil)
            // After three unanswered nudges the device is slow rather than odd (a busy router, an
            // accounting server holding the login): listen longer between nudges, up to the deadline.
            let wait: Duration = shaped ? Self.quietPeriod
                : nudges == 0 && buffer.isEmpty ? .seconds(1)
                : nudges < 3 ? .milliseconds(600) : .milliseconds(min(5_000, 600 << (nudges - 2)))
            let soft = min(deadline, lastData &+ wait.nanoseconds)
            let chunk: Chunk
            do {
                chunk = try await readChunk(until: soft, hardDeadline: deadline, limit: limit, detail: "the first prompt",
                                            phase: .prompt, bytesSoFar: buffer.count)
            } catch let error as SSHError {
                throw fail(Self.withLastLine(error, awaited: "a prompt", lastLine: trimmed))
            }
            switch chunk {
            case .data(let bytes):
                buffer += bytes
                lastData = Monotonic.now()
            case .quiet:
                if shaped {
                    if let found = platform.mode(ofPrompt: tail) {
                        adopt(prompt: tail, mode: found)
                    } else {
                        adoptLiteral(prompt: tail)
                    }
                    return prompt
                }
                if nudges >= 3 && !trimmed.isEmpty {
                    // Netmiko's rule: the last line is the prompt, whatever it looks like.
                    adoptLiteral(prompt: tail)
                    return prompt
                }
                if nudges >= 3 && Monotonic.now() >= deadline {
                    throw fail(.timeout(host: connection.host, port: connection.port, phase: .prompt, seconds: limit.seconds,
                                        detail: "no prompt after \(nudges) line endings; nothing but complete lines received"))
                }
                nudges += 1
                buffer.removeAll(keepingCapacity: true)
                try await write(platform.lineEnding, deadline: deadline, limit: limit, detail: "the first prompt")
                lastData = Monotonic.now()
            case .eof:
                throw fail(.disconnected(host: connection.host, port: connection.port, bytesReceived: buffer.count,
                                         detail: "before showing a prompt"))
            }
        }
    }

    /// Whether `line` has a prompt's shape: short, and ending with one of `terminators` (then
    /// optional blanks).
    static func looksLikePrompt(_ line: String, terminators: String) -> Bool {
        guard !line.isEmpty, line.count <= 160, let last = line.last else { return false }
        return terminators.contains(last)
    }

    /// The host part of a prompt: `R1` of `R1(config-if)#`, `HUAWEI` of `<HUAWEI>` or `[~HUAWEI]`,
    /// `user@host` of `user@host:~$`, `admin@MikroTik` of `[admin@MikroTik] >`.
    static func promptBase(of prompt: String) -> String {
        var text = Substring(prompt.trimmingCharacters(in: .whitespaces))
        while let first = text.first, "<[*~+( ".contains(first) { text = text.dropFirst() }
        let base = text.prefix { $0.isLetter || $0.isNumber || "_.-@/:".contains($0) }
        return String(base).trimmingCharacters(in: CharacterSet(charactersIn: ":"))
    }

    /// The mode of `line` when it is the literal prompt `base` (in another mode): it starts with
    /// the base (after a few decoration characters) and ends with a terminator.
    static func literalMode(of line: String, base: String, platform: PlatformDefinition) -> PlatformDefinition.Mode? {
        let text = line.trimmingCharacters(in: .whitespaces)
        guard !base.isEmpty, looksLikePrompt(text, terminators: platform.promptTerminators),
              text.count <= base.count + 48,
              let range = text.range(of: base), text.distance(from: text.startIndex, to: range.lowerBound) <= 4 else { return nil }
        let last = text.last!
        if text.contains("(conf") || text.hasPrefix("[edit") || (text.hasPrefix("[") && last == "]") { return .config }
        if last == "#" {
            if platform.enable != nil || platform.prompts[.enable] != nil { return .enable }
            if platform.configMode != nil { return .config }
        }
        return .user
    }

    /// A timeout or disconnect, with what was awaited and the last line received.
    static func withLastLine(_ error: SSHError, awaited: String, lastLine: String) -> SSHError {
        guard case let .timeout(host, port, phase, seconds, detail) = error else { return error }
        let shown = lastLine.isEmpty ? "nothing" : "\"\(String(lastLine.prefix(120)))\""
        return .timeout(host: host, port: port, phase: phase, seconds: seconds,
                        detail: "\(detail); awaited \(awaited); last line received: \(shown)")
    }

    /// Runs the platform's paging-disable commands. A command the device refuses is skipped: the
    /// pager is answered anyway.
    ///
    /// The commands are written together and their prompts read after: one round trip for all of
    /// them instead of one each (a terminal buffers what is typed ahead, as it does for a person
    /// typing fast). A rejected one is only skipped: the pager is answered anyway.
    public func disablePaging() async throws {
        let commands = platform.pagingDisable
        guard !commands.isEmpty else { return }
        try checkUsable()
        let limit = commandTimeout
        let deadline = Monotonic.deadline(after: limit)
        let label = commands.joined(separator: "; ")
        try await write(commands.map { $0 + platform.lineEnding }.joined(), deadline: deadline, limit: limit, detail: label)
        // Done when a prompt ends the output and as many prompt lines came back as commands were
        // sent (each echo follows a prompt on its line). A device that dropped the typed-ahead
        // commands shows one prompt and goes quiet: a prompt and a second of silence end it too.
        var buffer: [UInt8] = []
        while true {
            let (start, tail) = Self.lastLine(buffer)
            if !tail.isEmpty, platform.isPagerPrompt(tail) {
                buffer.removeSubrange(start...)
                try await write(platform.pagerResponse, deadline: deadline, limit: limit, detail: "the pager (\(label))")
                continue
            }
            let atPrompt = !tail.trimmingCharacters(in: .whitespaces).isEmpty && promptMode(tail) != nil
            if atPrompt {
                let text = String(decoding: TerminalText.clean(buffer), as: UTF8.self)
                let prompts = text.split(separator: "\n", omittingEmptySubsequences: false)
                    .filter { !promptBase.isEmpty && $0.trimmingCharacters(in: .whitespaces).prefix(promptBase.count + 4).contains(promptBase) }.count
                if prompts >= commands.count, text.contains(commands.last!.trimmingCharacters(in: .whitespaces)) {
                    adopt(prompt: tail, mode: promptMode(tail)!)
                    return
                }
            }
            let soft = atPrompt ? min(deadline, Monotonic.deadline(after: .seconds(1))) : deadline
            let chunk: Chunk
            do {
                chunk = try await readChunk(until: soft, hardDeadline: deadline, limit: limit, detail: label, phase: .command, bytesSoFar: buffer.count)
            } catch let error as SSHError {
                throw fail(Self.withLastLine(error, awaited: "the prompt \"\(prompt)\"", lastLine: tail.trimmingCharacters(in: .whitespaces)))
            }
            switch chunk {
            case .data(let bytes): buffer += bytes
            case .quiet:
                adopt(prompt: tail, mode: promptMode(tail)!)
                return
            case .eof:
                throw fail(.disconnected(host: connection.host, port: connection.port, bytesReceived: buffer.count,
                                         detail: "before the prompt came back (`\(label)`)"))
            }
        }
    }

    /// Turns paging off with the first command instead of now: the paging commands are typed ahead
    /// of it, so a login plus one command costs one round trip less (what a CLI run on hundreds of
    /// devices is made of). Anything else that needs the session first (enable, configuration)
    /// sends them on their own.
    public func deferPaging() {
        pendingPaging = platform.pagingDisable
    }

    /// Sends deferred paging commands on their own, if any are still pending.
    private func flushPaging() async throws {
        guard !pendingPaging.isEmpty else { return }
        pendingPaging = []
        try await disablePaging()
    }

    /// Sends `command` and returns its output, without the echoed command and the prompt.
    /// Throws `.commandRejected` when the output matches one of the platform's error patterns.
    public func send(_ command: String, timeout: Duration? = nil) async throws -> String {
        try await run(command, label: command, timeout: timeout)
    }

    /// Enters enable (privileged) mode, answering the password question with `secret`. Does
    /// nothing when already there, or on platforms without an enable mode. Devices that grant it
    /// without a password (no question asked) are common. Without a secret, the question is
    /// answered with an empty line (some devices accept it) until the device gives up, so the
    /// session is back at its prompt when the refusal is thrown. The refusal's message is the
    /// device's own (`% Access denied`) where it printed one.
    public func enable(secret: String?, timeout: Duration? = nil) async throws {
        try checkUsable()
        guard let enable = platform.enable, mode == .user else { return }
        try await flushPaging()
        let limit = timeout ?? commandTimeout
        let deadline = Monotonic.deadline(after: limit)
        try await write(enable.command + platform.lineEnding, deadline: deadline, limit: limit, detail: enable.command)
        var reply = try await readUntilPrompt(deadline: deadline, limit: limit, label: enable.command, extra: enable.passwordPrompt,
                                              echo: enable.command)
        var transcript = output(of: reply.bytes, command: enable.command)
        var asked = 0
        while reply.mode == nil {
            // The password question. The secret is written and never echoed back or logged.
            asked += 1
            if asked > 3 {
                // Still asking: leave the question the only way every CLI honours.
                try await write("\u{3}" + platform.lineEnding, deadline: deadline, limit: limit, detail: "leaving the enable password question")
                reply = try await readUntilPrompt(deadline: deadline, limit: limit, label: enable.command, extra: nil)
                break
            }
            try await write((secret ?? "") + platform.lineEnding, deadline: deadline, limit: limit, detail: "the enable password")
            reply = try await readUntilPrompt(deadline: deadline, limit: limit, label: enable.command, extra: enable.passwordPrompt)
            transcript += String(decoding: TerminalText.clean(reply.bytes), as: UTF8.self)
        }
        guard mode == .enable || mode == .config else {
            let said = platform.rejection(in: transcript)
                ?? transcript.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
                    .first { $0.hasPrefix("%") || $0.lowercased().contains("denied") || $0.lowercased().contains("bad") }
            var reason = said ?? "the device did not grant privileged mode"
            throw SSHError.commandRejected(host: connection.host, port: connection.port, command: enable.command, message: reason)
        }
    }

    /// Recognises the device's platform, as Netmiko's SSHDetect does: each candidate's detection
    /// command is run once (most trusted platforms' commands first; output of a command is shared
    /// by every platform that uses it), and the matching platform with the highest priority wins.
    /// Stops at the first command whose output some platform recognises. Returns nil when none does.
    public func detect(among candidates: [PlatformDefinition], timeout: Duration? = nil) async throws -> (platform: PlatformDefinition, evidence: String)? {
        try checkUsable()
        var commands: [String] = []
        for candidate in candidates {
            if let command = candidate.detect?.command, !commands.contains(command) { commands.append(command) }
        }
        var best: (platform: PlatformDefinition, priority: Int, evidence: String)?
        for command in commands {
            let text: String
            do {
                text = try await run(command, label: command, timeout: timeout ?? min(commandTimeout, .seconds(15)), checkErrors: false)
            } catch let error as SSHError {
                if case .commandRejected = error { continue }
                throw error
            }
            for candidate in candidates {
                guard let detect = candidate.detect, detect.command == command else { continue }
                if let hit = detect.patterns.first(where: { $0.matches(text) }), detect.priority > (best?.priority ?? -1) {
                    best = (candidate, detect.priority, "`\(command)` matched \(hit.pattern)")
                }
            }
            if best != nil { break }
        }
        return best.map { ($0.platform, $0.evidence) }
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
        try await flushPaging()
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

    /// Frees the shell channel (the connection stays open). That waits for the device to confirm
    /// the close, a round trip: when the connection is closed next anyway, `detach` instead.
    public func close() async {
        guard !closed else { return }
        closed = true
        await connection.driver.free(channel)
    }

    /// Forgets the channel without closing it: the caller closes the whole connection next, which
    /// frees every channel with it (no round trip for the channel's own close).
    public func detach() {
        closed = true
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
        promptBase = Self.promptBase(of: prompt)
    }

    /// Takes the discovered prompt as it is: the platform's patterns do not recognise it.
    private func adoptLiteral(prompt line: String) {
        let text = line.trimmingCharacters(in: .whitespaces)
        promptBase = Self.promptBase(of: text)
        prompt = text
        mode = Self.literalMode(of: text, base: promptBase, platform: platform) ?? .user
        if platform.name != PlatformRegistry.genericName {
            let patterns = PlatformDefinition.Mode.allCases.compactMap { m in platform.prompts[m].map { "\(m): \($0.pattern)" } }
            warnings.append("the prompt \"\(text)\" does not match platform \(platform.name)'s prompt patterns (\(patterns.joined(separator: "; "))); using the prompt as discovered")
        }
    }

    /// The mode of `line` if it is this session's prompt: the platform's patterns, else the literal
    /// prompt found at login.
    private func promptMode(_ line: String) -> PlatformDefinition.Mode? {
        platform.mode(ofPrompt: line) ?? Self.literalMode(of: line, base: promptBase, platform: platform)
    }

    /// Drives the session with another platform (the one detected after login); the current
    /// prompt's mode is read again with its patterns.
    public func switchPlatform(to detected: PlatformDefinition, note: String) {
        platform = detected
        if let found = detected.mode(ofPrompt: prompt) {
            mode = found
        } else {
            mode = Self.literalMode(of: prompt, base: promptBase, platform: detected) ?? mode
        }
        warnings.append(note)
    }

    /// Adds a warning for the services to log.
    public func note(_ warning: String) { warnings.append(warning) }

    /// Takes the warnings gathered so far (each is reported once).
    public func takeWarnings() -> [String] {
        defer { warnings.removeAll() }
        return warnings
    }

    private func run(_ command: String, label: String, timeout: Duration?, checkErrors: Bool = true) async throws -> String {
        try checkUsable()
        let limit = timeout ?? commandTimeout
        let deadline = Monotonic.deadline(after: limit)
        let typedAhead = pendingPaging
        pendingPaging = []
        try await write((typedAhead + [command]).map { $0 + platform.lineEnding }.joined(), deadline: deadline, limit: limit, detail: label)
        let reply = try await readUntilPrompt(deadline: deadline, limit: limit, label: label, extra: nil, echo: command,
                                              after: typedAhead.last)
        var bytes = reply.bytes
        if let last = typedAhead.last {
            // The paging commands' echoes, outputs and prompts come first: the command's output
            // starts at its echo, the first after the last paging command's.
            bytes = Self.bytes(bytes, fromEchoOf: command, after: last)
        }
        let text = output(of: bytes, command: command)
        if checkErrors, let message = platform.rejection(in: text) {
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
    ///
    /// `echo` is the command just sent: a prompt that comes before the device echoed it is a stale
    /// one (some devices print their prompt twice at login), so it ends the read only when silence
    /// follows (a device that does not echo).
    private func readUntilPrompt(deadline: UInt64, limit: Duration, label: String, extra: CLIPattern?,
                                 echo: String? = nil, after typedAhead: String? = nil) async throws -> Reply {
        let echoed = echo?.trimmingCharacters(in: .whitespaces) ?? ""
        let earlier = typedAhead?.trimmingCharacters(in: .whitespaces) ?? ""
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
                    if let found = promptMode(tail) {
                        let trimmed = tail.trimmingCharacters(in: .whitespaces)
                        var confirmed = !promptBase.isEmpty && trimmed.prefix(promptBase.count + 4).contains(promptBase)
                            && (echoed.isEmpty || Self.contains(buffer[..<start], echoed, after: earlier))
                        if !confirmed, !earlier.isEmpty, !Self.contains(buffer[..<start], echoed, after: earlier) {
                            // The prompt after a typed-ahead paging command: the command's own
                            // echo, output and prompt are still to come.
                            checkTail = false
                            continue
                        }
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
            let chunk: Chunk
            do {
                chunk = try await readChunk(until: deadline, hardDeadline: deadline, limit: limit, detail: label,
                                            phase: .command, bytesSoFar: buffer.count)
            } catch let error as SSHError {
                let awaited = extra.map { "the prompt \"\(prompt)\" or \($0.pattern)" } ?? "the prompt \"\(prompt)\""
                throw fail(Self.withLastLine(error, awaited: awaited, lastLine: Self.lastLine(buffer).1.trimmingCharacters(in: .whitespaces)))
            }
            switch chunk {
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

    /// Whether the first few kilobytes of `bytes`, as a terminal shows them, contain `text` (the
    /// echo of a command comes first, so a long output is not cleaned again at every chunk).
    static func contains(_ bytes: ArraySlice<UInt8>, _ text: String, after earlier: String = "") -> Bool {
        let head = bytes.prefix(8192 + text.utf8.count)
        let shown = String(decoding: TerminalText.clean(Array(head)), as: UTF8.self)
        guard !earlier.isEmpty else { return shown.contains(text) }
        guard let first = shown.range(of: earlier) else { return false }
        return shown[first.upperBound...].contains(text)
    }

    /// `bytes` from the line that echoes `command` (the first such line after `earlier`'s echo):
    /// what typed-ahead commands printed before it is left out. Unchanged when no echo is found.
    static func bytes(_ bytes: [UInt8], fromEchoOf command: String, after earlier: String) -> [UInt8] {
        let wanted = command.trimmingCharacters(in: .whitespaces)
        let before = earlier.trimmingCharacters(in: .whitespaces)
        var lineStart = 0
        var passedEarlier = false
        var index = 0
        while index <= bytes.count {
            if index == bytes.count || bytes[index] == 0x0a {
                let line = String(decoding: TerminalText.clean(Array(bytes[lineStart..<index])), as: UTF8.self)
                if passedEarlier, line.trimmingCharacters(in: .whitespaces).hasSuffix(wanted) {
                    return Array(bytes[lineStart...])
                }
                if !passedEarlier, line.contains(before) { passedEarlier = true }
                lineStart = index + 1
            }
            index += 1
        }
        return bytes
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
