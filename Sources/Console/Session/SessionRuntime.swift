import Foundation
import Store
import CNcursesw
import CCursesShim
#if canImport(Glibc)
import Glibc
#endif

extension CursesTerminal {
    /// Leaves curses for a session (the program mode is saved; the terminal gets its shell mode).
    func suspendForSession() {
        def_prog_mode()
        endwin()
        // endwin left the alternate screen: the session runs on it again, so that the shell's
        // screen is untouched when the console quits.
        sb_session_enter()
    }

    /// Back from a session: the program mode again, the size re-read (the window may have changed
    /// meanwhile), and the next frame drawn on a cleared screen.
    func resumeAfterSession() {
        // Off the alternate screen first: curses enters it again on resume (smcup), and that saves
        // the cursor, which must be the shell's.
        sb_session_leave()
        reset_prog_mode()
        _ = updateSize()
        clear()
    }
}

extension Runtime {
    /// Connects in the background, off the input thread.
    static let sessionWork = DispatchQueue(label: "switchboard.console.session", qos: .userInitiated, attributes: .concurrent)

    func performSession(_ effect: SessionEffect) {
        switch effect {
        case .open(var request):
            guard let opener = sessionOpener else {
                inbox.post(.session(.failed(device: request.device, message: "SSH sessions are not available in this console")))
                return
            }
            let env = ProcessInfo.processInfo.environment
            request.terminal = env["TERM"].flatMap { $0.isEmpty ? nil : $0 } ?? "xterm-256color"
            request.columns = terminal.width
            request.rows = terminal.height
            let inbox = self.inbox, request = request
            Runtime.sessionWork.async {
                do throws(SessionOpenError) {
                    let session = try opener.open(request)
                    inbox.post(.session(.connected(SessionHandle(session: session, request: request))))
                } catch {
                    inbox.post(.session(.failed(device: request.device, message: error.message)))
                }
            }
        case .listCredentials(let device):
            do {
                let choices = try loader.store.credentials().sorted { ($0.priority, $1.name) > ($1.priority, $0.name) }
                    .map { CredentialChoice(name: $0.name, username: $0.username, kind: $0.secretKind.rawValue) }
                inbox.post(.session(.credentials(device: device, choices)))
            } catch {
                inbox.post(.notice("database: " + AppDatabase.describe(error), isError: true))
            }
        case .attach(let handle):
            attach(handle)
        case .replay(let id):
            replay(id)
        }
    }

    /// Runs a session on the whole terminal, then gives the screen back to the console as it was.
    func attach(_ handle: SessionHandle) {
        guard let curses = terminal as? CursesTerminal else {
            handle.session.close()
            inbox.post(.session(.failed(device: handle.device, message: "no terminal to run the session on")))
            return
        }
        curses.suspendForSession()
        _ = TerminalPump.writeAll(STDOUT_FILENO, Array("\u{1b}[H\u{1b}[2J".utf8))
        let raw = RawTerminal(fd: STDIN_FILENO)
        var rows: Int32 = 0, cols: Int32 = 0
        if sb_terminal_size(STDOUT_FILENO, &rows, &cols) != 0 { rows = Int32(terminal.height); cols = Int32(terminal.width) }
        var recording: SessionRecording?
        var recordingError: String?
        do {
            recording = try SessionRecording(database: loader.database, device: handle.device, user: loader.user,
                                             loginUser: handle.session.loginUser, width: Int(cols), height: Int(rows),
                                             terminal: handle.terminal)
        } catch {
            recordingError = AppDatabase.describe(error)
        }
        let end = TerminalPump(wakeDescriptor: inbox.readFD).run(handle.session, recording: recording)
        _ = TerminalPump.writeAll(STDOUT_FILENO, Array(TerminalPump.resetSequence.utf8))
        raw.restore()
        var id: Int64?
        if let recording {
            do { id = try recording.finish(end) } catch { recordingError = AppDatabase.describe(error) }
        }
        returnFromSession(curses)
        inbox.post(.session(.ended(device: handle.device, reason: end.reason, recorded: id, error: recordingError)))
    }

    /// Plays a recorded session on the terminal, then returns to the console.
    func replay(_ id: Int64) {
        let record: SessionRecord, cast: Asciicast
        do {
            (record, cast) = try SessionRecording.transcript(loader.database, id: id)
        } catch {
            inbox.post(.session(.replayed(id, error: AppDatabase.describe(error))))
            return
        }
        guard let curses = terminal as? CursesTerminal else {
            inbox.post(.session(.replayed(id, error: "no terminal to replay on")))
            return
        }
        curses.suspendForSession()
        let raw = RawTerminal(fd: STDIN_FILENO)
        let banner = "\u{1b}[H\u{1b}[2J\u{1b}[7m replay of session \(id) (\(Sanitizer.inert(record.deviceName))): \(Replayer.keysText) \u{1b}[0m\r\n"
        _ = TerminalPump.writeAll(STDOUT_FILENO, Array(banner.utf8))
        var player = Replayer(wakeDescriptor: inbox.readFD)
        var end = player.play(cast)
        if end == .finished {
            let tail = "\u{1b}[0m\r\n\u{1b}[7m end of the replay of session \(id): any key returns to the console \u{1b}[0m"
            _ = TerminalPump.writeAll(STDOUT_FILENO, Array(tail.utf8))
            end = player.waitAnyKey()
        }
        _ = TerminalPump.writeAll(STDOUT_FILENO, Array(TerminalPump.resetSequence.utf8))
        raw.restore()
        returnFromSession(curses)
        inbox.post(.session(.replayed(id, error: nil)))
    }

    /// The console's screen again: curses resumed, the size re-read, everything redrawn.
    func returnFromSession(_ curses: CursesTerminal) {
        curses.resumeAfterSession()
        previous = nil
        previousCursor = nil
    }
}
