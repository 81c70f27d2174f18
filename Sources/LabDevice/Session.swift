#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// One SSH login: the read-eval-print loop (interactive / shell channel) or a one-shot command list
// (exec channel), with paging and the session-level fault modes. What the commands mean is up to
// the platform's `DeviceShell`.

/// What one command line produced.
struct Reply {
    var body: [UInt8] = []
    /// Invalid / rejected command: exec mode exits 1.
    var failed = false
    /// Subject to `--More--` (not for `| no-more`).
    var paged = true
    var endsSession = false
    /// Shell-style errors that go to stderr (Linux only; network CLIs print errors inline).
    var standardError: String?

    static let empty = Reply()

    static func text(_ text: String, failed: Bool = false) -> Reply {
        Reply(body: Array(text.utf8), failed: failed)
    }
}

/// The terminal-facing side a shell may need mid-command: answering `Password:` or a
/// confirmation, and the per-session terminal settings.
final class Console {
    let input: Input
    let output: Output
    /// False in exec mode: no prompts, no paging, nobody to answer questions.
    let interactive: Bool
    /// `terminal length` (0 = no paging) and `terminal width`, for this session only.
    var screenLength = 24
    var screenWidth = 80
    /// Junos `set cli complete-on-space on|off` (the lab never completes; it only remembers).
    var completeOnSpace = true

    init(input: Input, output: Output, interactive: Bool) {
        self.input = input
        self.output = output
        self.interactive = interactive
    }

    /// Asks a question and reads the answer; nil in exec mode or at end of input.
    func ask(_ question: String, secret: Bool = false) -> String? {
        guard interactive else { return nil }
        output.write(question)
        output.flush()
        let answer = secret ? input.readSecret() : input.readLine()
        // On a PTY the CLI echoes the Enter itself (also after a secret); without one, the
        // user's Enter never reached the screen.
        if !input.echoes { output.write("\n") }
        return answer
    }
}

/// Everything a shell knows about the device it simulates.
struct DeviceContext {
    let identity: Identity
    let style: PlatformStyle
    let fingerprint: Fingerprint
    let store: StateStore
    let user: String
    /// `SWITCHBOARD_LAB_ENABLE`: if set, the only accepted enable password.
    let enableSecret: String?
    /// The SSH client's address, for `show users` / `who`.
    let clientAddress: String
    let console: Console

    var name: String { identity.device.name }
    var faults: Faults { identity.device.faults }

    /// Interfaces and routes as of now (other sessions may have changed the configuration).
    func snapshot() -> DeviceSnapshot {
        DeviceSnapshot.build(style: style, fingerprint: fingerprint, config: store.running(), deviceName: name)
    }
}

protocol DeviceShell: AnyObject {
    var prompt: String { get }
    /// Printed before every prompt (Junos prints the `[edit]` context line in configuration mode).
    var promptPreamble: String { get }
    func execute(_ line: String) -> Reply
}

struct Session {
    let shell: DeviceShell
    let context: DeviceContext
    /// The lab's login and command ledger; nil when the lab keeps none.
    var ledger: Ledger? = nil

    private var console: Console { context.console }
    private var output: Output { context.console.output }
    private var faults: Faults { context.faults }

    /// Shell channel: banner, prompt, command, answer, prompt... until `exit` or end of input.
    func runInteractive() -> Int32 {
        ledger?.login(interactive: true)
        pause(milliseconds: faults.loginDelayMilliseconds)
        let banner = context.style.banner.replacing("{host}", with: context.name)
        output.write(context.style.family == .linux ? banner + "\n\n" : "\n" + banner + "\n\n")
        var promptsHung = false
        while true {
            if !promptsHung { output.write(shell.promptPreamble + shell.prompt) }
            output.flush()
            guard let line = console.input.readLine() else { break }
            ledger?.command(line)
            pauseIfSlow()
            let reply = shell.execute(line)
            deliver(reply, paging: true)
            // `hang_prompt`: the device answers its first real command, then never prompts again,
            // so a client waiting for the prompt has to time out.
            if faults.hangPrompt && !Text.trim(line).isEmpty { promptsHung = true }
            if reply.endsSession { break }
        }
        output.flush()
        return 0
    }

    /// Exec channel (`ssh host 'show version'`): run each command, never page, exit 1 if any
    /// command was rejected.
    func runExec(_ commandText: String) -> Int32 {
        ledger?.login(interactive: false)
        pause(milliseconds: faults.loginDelayMilliseconds)
        var failed = false
        for command in Session.splitCommands(commandText) {
            ledger?.command(command)
            pauseIfSlow()
            let reply = shell.execute(command)
            deliver(reply, paging: false)
            failed = failed || reply.failed
            if reply.endsSession { break }
        }
        output.flush()
        return failed ? 1 : 0
    }

    /// `;` and newlines separate commands, as a shell would split `ssh host 'a; b'`.
    static func splitCommands(_ text: String) -> [String] {
        text.split(whereSeparator: { $0 == ";" || $0 == "\n" || $0 == "\r" })
            .map { Text.trim($0) }
            .filter { !$0.isEmpty }
    }

    private func deliver(_ reply: Reply, paging: Bool) {
        if let error = reply.standardError { output.writeError(error) }
        if paging && reply.paged && console.screenLength > 0 && context.style.family != .linux {
            Pager(prompt: context.style.morePrompt, length: console.screenLength)
                .show(reply.body, output: output, input: console.input)
        } else {
            output.write(reply.body)
        }
    }

    /// `slow_ms`: a device (or path) that takes its time over every answer.
    private func pauseIfSlow() { pause(milliseconds: faults.slowMilliseconds) }

    private func pause(milliseconds: Int) {
        guard milliseconds > 0 else { return }
        output.flush()  // what was already said is on the wire; only the answer is late
        var delay = timespec(tv_sec: milliseconds / 1000, tv_nsec: (milliseconds % 1000) * 1_000_000)
        var remaining = timespec()
        while nanosleep(&delay, &remaining) != 0 && errno == EINTR { delay = remaining }
    }
}
