import ArgumentParser
import Console
import Foundation
import Store

struct SessionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "session",
        abstract: "Recorded SSH sessions (`switchboard list sessions` lists them).",
        subcommands: [Export.self])

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a session's transcript as an asciicast v2 file (`asciinema play FILE` plays it).",
            discussion: "The transcript holds the device's output only: what was typed appears only as the device echoed it. FILE `-` writes to standard output.")

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The session's id.")
        var id: Int64

        @Argument(help: "The .cast file to write (replaced if it exists), or - for standard output.")
        var file: String

        func run() throws {
            let database = try global.openBackend(readonly: true)
            let record: SessionRecord
            do { (record, _) = try SessionRecording.transcript(database, id: id) }
            catch let e as StoreError { throw CommandFailure(message: e.message) }
            var text = record.transcript
            if !text.hasSuffix("\n") { text += "\n" }
            if file == "-" {
                FileHandle.standardOutput.write(Data(text.utf8))
                return
            }
            do {
                try Data(text.utf8).write(to: URL(fileURLWithPath: file), options: .atomic)
            } catch {
                throw CommandFailure(message: "cannot write \(file): \((error as NSError).localizedDescription)")
            }
            print("session \(id) (\(inert(record.deviceName))) written to \(file)")
        }
    }
}
