import Foundation

/// A test class that starts foreground `switchboard engine` processes of the built binary: each logs
/// to `engine-N.log` in the test's directory, and its `tearDown` kills what is still running.
protocol EngineProcesses: AnyObject {
    var cli: CLI! { get }
    var engines: [Process] { get set }
}

extension EngineProcesses {
    /// Starts `switchboard engine` with `extra` arguments and the test's environment; returns at once.
    @discardableResult
    func launchEngine(_ extra: [String] = []) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CLI.binary)
        p.arguments = ["engine"] + extra
        p.environment = cli.environment
        let log = cli.dir + "/engine-\(engines.count).log"
        FileManager.default.createFile(atPath: log, contents: nil)
        p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        engines.append(p)
        return p
    }

    /// Every engine's log (its last `lastLines` lines, when given), for a failure's message.
    func engineLogs(lastLines: Int? = nil) -> String {
        (0..<engines.count).map { i in
            let text = (try? String(contentsOfFile: cli.dir + "/engine-\(i).log", encoding: .utf8)) ?? ""
            let shown = lastLines.map { text.split(separator: "\n").suffix($0).joined(separator: "\n") } ?? text
            return "--- engine \(i) (pid \(engines[i].processIdentifier)):\n" + shown
        }.joined(separator: "\n")
    }

    /// Kills (SIGKILL) the engines still running and waits for them.
    func killEngines() {
        for p in engines where p.isRunning { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() }
    }
}
