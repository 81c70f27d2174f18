import ArgumentParser
import Console
import Foundation
import Store
#if canImport(Glibc)
import Glibc
#endif

struct SSHCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ssh",
        abstract: "Open an interactive SSH session to a device, recorded.",
        discussion: """
            The session goes through the device's jump chain, with its credential (highest priority whose \
            scope contains it, or --credential), its host key checked as configured. `~.` at the start of a \
            line disconnects, `~?` lists the escapes, `~~` sends a `~`. The device's output is recorded \
            (asciicast v2; what you type is recorded only as the device echoes it): `switchboard session \
            export ID FILE` writes it out.
            """)

    @OptionGroup var global: GlobalOptions

    @Option(help: "A named credential instead of the one chosen by priority.")
    var credential: String?

    @Flag(help: "Do not record the session.")
    var noRecord = false

    @Argument(help: "The device.")
    var device: String

    func run() throws {
        guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else {
            throw CommandFailure(message: "an interactive session needs a terminal (for one command, use `switchboard exec \(device) COMMAND`)")
        }
        let settings = try global.settings()
        let database = try global.openBackend()
        let opener = EngineSessionOpener(database: database, settings: settings, paths: global.paths)
        defer { opener.shutdown() }
        let env = ProcessInfo.processInfo.environment
        let request = SessionRequest(device: device, credential: credential,
                                     terminal: env["TERM"].flatMap { $0.isEmpty ? nil : $0 } ?? "xterm-256color")
        let outcome: (SessionEnd, Int64?, recordingError: String?)
        do {
            outcome = try ShellSession.run(opener: opener, request: request, database: noRecord ? nil : database,
                                           user: DataLoader.currentUser())
        } catch let e as SessionOpenError {
            throw CommandFailure(message: "\(device): \(inert(e.message))")
        }
        let (end, id, recordingError) = outcome
        var message = "\r\nConnection to \(device) \(end.reason)."
        if let id { message += " Recorded as session \(id)." }
        FileHandle.standardError.write(Data((message + "\r\n").utf8))
        if let recordingError { FileHandle.standardError.write(Data("warning: the session was not recorded: \(recordingError)\n".utf8)) }
        switch end {
        case .closed(let status): if let status, status != 0 { throw ExitCode(status) }
        case .disconnected: break
        case .lost: throw ExitCode(255)
        case .terminalGone: throw ExitCode(129)
        case .signal(let n): throw ExitCode(128 + n)
        }
    }
}
