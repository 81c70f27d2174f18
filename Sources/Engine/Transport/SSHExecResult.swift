/// What a command run on an exec channel (no PTY) produced.
public struct SSHExecResult: Sendable, Equatable {
    public var stdout: [UInt8]
    public var stderr: [UInt8]
    /// The command's exit status (0 when the server sent none, as libssh2 reports it).
    public var exitStatus: Int32
    /// The signal that ended the command (`TERM`, `KILL`…), if one did.
    public var exitSignal: String?

    public init(stdout: [UInt8], stderr: [UInt8], exitStatus: Int32, exitSignal: String?) {
        self.stdout = stdout
        self.stderr = stderr
        self.exitStatus = exitStatus
        self.exitSignal = exitSignal
    }

    /// stdout as text (invalid UTF-8 repaired).
    public var output: String { String(decoding: stdout, as: UTF8.self) }
    public var errorOutput: String { String(decoding: stderr, as: UTF8.self) }
}
