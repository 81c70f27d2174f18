import ArgumentParser
import Engine
import Foundation
import Store
import TextFSM

/// `switchboard parse`: command output → rows, with a TextFSM template (ntc-templates' index, the
/// user's templates directory, or a template file).
struct ParseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parse",
        abstract: "Parse command output with TextFSM templates (ntc-templates, or your own).",
        discussion: """
            The template is found in the index of $XDG_CONFIG_HOME/switchboard/templates (your own \
            templates, first) then ntc-templates' (SWITCHBOARD_NTC_TEMPLATES, else the set-up's \
            .venv-textfsm), by platform and command (abbreviations as the index allows: `sh ip int br`); \
            or given with --template. Several files are parsed one after the other (with --json, one \
            array per file). Exit status 1 when no template matches, or when a template rejects the \
            input (its Error action); no rows is not a failure.
            """)

    @Option(help: "The device platform (cisco_ios, arista_eos, juniper_junos, …).") var platform: String?
    @Option(help: "The command whose output this is, as typed on the device.") var command: String?
    @Option(help: "A TextFSM template file (instead of --platform and --command).") var template: String?
    @Flag(help: "Print JSON objects with lower-case keys.") var json = false
    @Argument(help: "Files with the command output (default, or -: standard input).") var files: [String] = []

    func validate() throws {
        if template == nil && (platform == nil || command == nil) {
            throw ValidationError("give --platform and --command, or --template")
        }
        if template != nil && (platform != nil || command != nil) {
            throw ValidationError("--template replaces --platform and --command")
        }
    }

    /// ntc-templates' directory (the engine's lookup: SWITCHBOARD_NTC_TEMPLATES, else the set-up's virtualenv).
    static func ntcTemplatesDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL? {
        OutputParser.ntcTemplatesDirectory(environment: environment)
    }

    func run() throws {
        let inputs = files.isEmpty ? ["-"] : files
        let parseOne: (String) throws -> TextFSMResult
        if let template {
            let t: TextFSMTemplate
            do { t = try TextFSMTemplate(contentsOf: URL(fileURLWithPath: template)) } catch let e as TextFSMTemplateError {
                throw CommandFailure(message: e.description)
            } catch {
                throw CommandFailure(message: "\(template): cannot read the template")
            }
            parseOne = { try t.parse($0) }
        } else {
            let user = OutputParser.userTemplatesDirectory()
            let ntc = ParseCommand.ntcTemplatesDirectory()
            let library: TemplateLibrary
            do { library = try TemplateLibrary(userDirectory: user, ntcDirectory: ntc) } catch {
                throw CommandFailure(message: "\(error)")
            }
            if library.indexes.isEmpty {
                throw CommandFailure(message: "no templates: ntc-templates not found (run scripts/install-deps, or set SWITCHBOARD_NTC_TEMPLATES) and no \(user.path)/index")
            }
            guard let (index, entry) = library.lookup(platform: platform!, command: command!) else {
                throw CommandFailure(message: "no template for command '\(command!)' on platform \(platform!)")
            }
            parseOne = { try index.parse($0, with: entry) }
        }
        for (n, file) in inputs.enumerated() {
            let text: String
            if file == "-" {
                text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
            } else {
                guard let data = FileManager.default.contents(atPath: file) else { throw CommandFailure(message: "\(file): cannot read") }
                text = String(decoding: data, as: UTF8.self)
            }
            let result: TextFSMResult
            do { result = try parseOne(text) } catch let e as TextFSMError {
                throw CommandFailure(message: (inputs.count > 1 ? "\(file): " : "") + "unparseable output: \(e.message)")
            } catch let e as TextFSMTemplateError {
                throw CommandFailure(message: e.description)
            }
            // Printed as each file is parsed (1,000 outputs need not be held in memory).
            print((n > 0 ? "\n" : "") + (json ? result.json : result.table))
        }
    }
}
