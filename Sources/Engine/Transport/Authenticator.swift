import CLibSSH2
import Foundation
import Synchronization

/// Logs a handshaken session in: asks the server which methods it allows, then tries the
/// configured ones in order. Every libssh2 call runs on the session's loop thread (through
/// `SessionDriver.perform`); secrets are copied into C strings only for the duration of a call.
struct Authenticator {
    let driver: SessionDriver
    let endpoint: SSHEndpoint
    let deadline: UInt64
    let timeoutSeconds: Double

    /// What one method's attempt came to.
    private enum Outcome: Sendable {
        case accepted
        /// Refused; `note` explains why when we know (RSA key, unreadable key file, no agent).
        case refused(note: String?)
    }

    /// How many times the server was asked for its method list (tests check that a first method
    /// that works saves the question).
    static let methodListRequests = Atomic<Int>(0)

    /// Returns the label of the method that worked.
    ///
    /// The first configured method goes out before the server is asked for its list: asking costs a
    /// round trip (the "none" request), which is a tenth of a login over a 50 ms path, and the first
    /// method is the one that usually works. Only when it is refused does the list decide the rest.
    func authenticate() async throws -> String {
        var tried: [String] = []
        var notes: [String] = []
        var firstRefusal: (method: SSHAuthentication, note: String?)?
        if let first = endpoint.authentication.first {
            let outcome: Outcome
            do {
                outcome = try await attempt(first)
            } catch let error as SSHError {
                guard case .disconnected = error else { throw error }
                throw SSHError.authenticationFailed(user: endpoint.username, host: endpoint.host, port: endpoint.port,
                                                    tried: [first.triedLabel], allowed: [], note: "the server closed the connection")
            }
            switch outcome {
            case .accepted: return first.triedLabel
            case .refused(let note): firstRefusal = (first, note)
            }
        }
        let allowed = try await allowedMethods()
        guard let allowed else { return "none" }
        if let (method, note) = firstRefusal, allowed.contains(method.method) {
            // Refused although allowed: report it as tried, as if the list had come first.
            tried.append(method.triedLabel)
            if let note { notes.append(note) }
        }
        for method in endpoint.authentication.dropFirst() {
            guard allowed.contains(method.method) else { continue }
            tried.append(method.triedLabel)
            let outcome: Outcome
            do {
                outcome = try await attempt(method)
            } catch let error as SSHError {
                if case .disconnected = error {
                    // sshd drops the connection after MaxAuthTries failures.
                    notes.append("the server closed the connection")
                    break
                }
                throw error
            }
            switch outcome {
            case .accepted: return method.triedLabel
            case .refused(let note): if let note, !notes.contains(note) { notes.append(note) }
            }
        }
        if tried.isEmpty && !endpoint.authentication.isEmpty {
            notes.append("none of the configured methods (\(endpoint.authentication.map(\.method).joined(separator: ", "))) is allowed by the server")
        } else if endpoint.authentication.isEmpty {
            notes.append("no credentials were given")
        }
        throw SSHError.authenticationFailed(user: endpoint.username, host: endpoint.host, port: endpoint.port,
                                            tried: tried, allowed: allowed, note: notes.isEmpty ? nil : notes.joined(separator: "; "))
    }

    private var timeout: @Sendable () -> SSHError {
        let (host, port, seconds, user) = (endpoint.host, endpoint.port, timeoutSeconds, endpoint.username)
        return { .timeout(host: host, port: port, phase: .authentication, seconds: seconds, detail: "as \(user)") }
    }

    /// The server's method list; nil when the "none" method already logged us in.
    private func allowedMethods() async throws -> [String]? {
        Self.methodListRequests.add(1, ordering: .relaxed)
        let user = endpoint.username
        return try await driver.perform(deadline: deadline, timeout: timeout) { driver -> Attempt<[String]?> in
            if let list = libssh2_userauth_list(driver.session, user, UInt32(user.utf8.count)) {
                return .done(String(cString: list).split(separator: ",").map(String.init))
            }
            if libssh2_userauth_authenticated(driver.session) != 0 { return .done(nil) }
            let code = libssh2_session_last_errno(driver.session)
            if code == LIBSSH2_ERROR_EAGAIN { return .wouldBlock }
            throw driver.error(code, during: "authentication (listing methods)")
        }
    }

    private func attempt(_ method: SSHAuthentication) async throws -> Outcome {
        switch method {
        case let .keyFile(path, passphrase, publicKeyPath):
            guard FileManager.default.fileExists(atPath: path) else { return .refused(note: "key file \(path) does not exist") }
            let outcome = try await publicKeyFromFile(path: path, publicKeyPath: publicKeyPath, passphrase: passphrase)
            return explainRefusal(outcome, keyType: PrivateKeyInspector.keyType(file: path), source: "key file \(path)")
        case let .inlineKey(privateKey, passphrase):
            let outcome = try await publicKeyFromMemory(privateKey, passphrase: passphrase)
            return explainRefusal(outcome, keyType: PrivateKeyInspector.keyType(pem: privateKey), source: "the inline key")
        case .password(let password):
            return try await passwordAttempt(password)
        case .keyboardInteractive(let password):
            return try await keyboardInteractiveAttempt(password)
        case .agent(let socketPath):
            return try await agentAttempt(socketPath: socketPath ?? ProcessInfo.processInfo.environment["SSH_AUTH_SOCK"])
        }
    }

    private func explainRefusal(_ outcome: Outcome, keyType: String?, source: String) -> Outcome {
        guard case .refused(let note) = outcome else { return outcome }
        if note == nil && keyType == "ssh-rsa" { return .refused(note: "\(source): " + PrivateKeyInspector.rsaNote) }
        return outcome
    }

    /// Maps a public key call's result: refusals are outcomes, transport failures errors.
    private static func publicKeyResult(_ rc: Int32, _ driver: SessionDriver, source: @autoclosure () -> String) throws -> Attempt<Outcome> {
        switch rc {
        case 0: return .done(.accepted)
        case LIBSSH2_ERROR_EAGAIN: return .wouldBlock
        case LIBSSH2_ERROR_AUTHENTICATION_FAILED, LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED:
            return .done(.refused(note: nil))
        case LIBSSH2_ERROR_FILE, LIBSSH2_ERROR_METHOD_NOT_SUPPORTED, LIBSSH2_ERROR_KEYFILE_AUTH_FAILED:
            // libssh2's message names the cause (wrong passphrase, unsupported format); no secret in it.
            return .done(.refused(note: "cannot use \(source()): \(LibSSH2.lastError(driver.session).message)"))
        default:
            throw driver.error(rc, during: "public key authentication")
        }
    }

    private func publicKeyFromFile(path: String, publicKeyPath: String?, passphrase: String?) async throws -> Outcome {
        if passphrase?.isEmpty ?? true, let signer = KeySigner.forFile(path) {
            return try await publicKey(signer, source: "key file \(path)")
        }
        let user = endpoint.username
        return try await driver.perform(deadline: deadline, timeout: timeout) { driver -> Attempt<Outcome> in
            let rc = libssh2_userauth_publickey_fromfile_ex(driver.session, user, UInt32(user.utf8.count), publicKeyPath, path, passphrase)
            return try Self.publicKeyResult(rc, driver, source: "key file \(path)")
        }
    }

    /// A key parsed once per process (`KeySigner`), signed through libssh2's callback.
    private func publicKey(_ signer: KeySigner, source: String) async throws -> Outcome {
        let user = endpoint.username
        // libssh2 may call back on any of the retries after EAGAIN; the box lives until the last.
        let abstract = UnsafeMutablePointer<UnsafeMutableRawPointer?>.allocate(capacity: 1)
        abstract.initialize(to: Unmanaged.passRetained(signer).toOpaque())
        defer {
            Unmanaged<KeySigner>.fromOpaque(abstract.pointee!).release()
            abstract.deallocate()
        }
        let blob = signer.publicKeyBlob
        let box = UnsafeSendablePointer(abstract)
        return try await driver.perform(deadline: deadline, timeout: timeout) { driver -> Attempt<Outcome> in
            let rc = blob.withUnsafeBufferPointer { pub in
                libssh2_userauth_publickey(driver.session, user, pub.baseAddress, pub.count, KeySigner.signCallback, box.pointer)
            }
            return try Self.publicKeyResult(rc, driver, source: source)
        }
    }

    /// `libssh2_userauth_publickey_frommemory`; when this libssh2 cannot parse the key from memory,
    /// the key goes to a 0600 file in a fresh 0700 directory for the one attempt, then is removed.
    private func publicKeyFromMemory(_ key: String, passphrase: String?) async throws -> Outcome {
        if passphrase?.isEmpty ?? true, let signer = KeySigner.forPEM(key) {
            return try await publicKey(signer, source: "the inline key")
        }
        let user = endpoint.username
        let memoryOutcome = try await driver.perform(deadline: deadline, timeout: timeout) { driver -> (Attempt<(Outcome, Bool)>) in
            let rc = key.withCString { pem in
                libssh2_userauth_publickey_frommemory(driver.session, user, user.utf8.count, nil, 0, pem, strlen(pem), passphrase)
            }
            switch rc {
            case 0: return .done((.accepted, false))
            case LIBSSH2_ERROR_EAGAIN: return .wouldBlock
            case LIBSSH2_ERROR_AUTHENTICATION_FAILED, LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED:
                return .done((.refused(note: nil), false))
            case LIBSSH2_ERROR_SOCKET_DISCONNECT, LIBSSH2_ERROR_SOCKET_RECV, LIBSSH2_ERROR_SOCKET_SEND:
                throw driver.error(rc, during: "public key authentication")
            default:
                // This libssh2 could not parse the key from memory (unsupported format, or a
                // PEM parser error): the file route parses differently, and says why if it fails.
                return .done((.refused(note: nil), true))
            }
        }
        guard memoryOutcome.1 else { return memoryOutcome.0 }
        let file = try TemporaryKeyFile(contents: key)
        defer { file.remove() }
        let path = file.path
        return try await driver.perform(deadline: deadline, timeout: timeout) { driver -> Attempt<Outcome> in
            let rc = libssh2_userauth_publickey_fromfile_ex(driver.session, user, UInt32(user.utf8.count), nil, path, passphrase)
            return try Self.publicKeyResult(rc, driver, source: "the inline key")
        }
    }

    private func passwordAttempt(_ password: String) async throws -> Outcome {
        let user = endpoint.username
        return try await driver.perform(deadline: deadline, timeout: timeout) { driver -> Attempt<Outcome> in
            let rc = libssh2_userauth_password_ex(driver.session, user, UInt32(user.utf8.count), password, UInt32(password.utf8.count), nil)
            switch rc {
            case 0: return .done(.accepted)
            case LIBSSH2_ERROR_EAGAIN: return .wouldBlock
            case LIBSSH2_ERROR_AUTHENTICATION_FAILED: return .done(.refused(note: nil))
            case LIBSSH2_ERROR_PASSWORD_EXPIRED: return .done(.refused(note: "the password has expired"))
            default: throw driver.error(rc, during: "password authentication")
            }
        }
    }

    private func keyboardInteractiveAttempt(_ password: String) async throws -> Outcome {
        let user = endpoint.username
        let secret = Array(password.utf8)
        return try await driver.perform(deadline: deadline, timeout: timeout) { driver -> Attempt<Outcome> in
            let callbacks = driver.callbacks
            callbacks.keyboardInteractivePassword = secret
            let rc = libssh2_userauth_keyboard_interactive_ex(driver.session, user, UInt32(user.utf8.count), SessionCallbacks.keyboardInteractive)
            if rc == LIBSSH2_ERROR_EAGAIN { return .wouldBlock }
            // Done with the secret, whatever happened.
            callbacks.keyboardInteractivePassword = nil
            switch rc {
            case 0: return .done(.accepted)
            case LIBSSH2_ERROR_AUTHENTICATION_FAILED:
                let note = callbacks.promptsSeen > 0 && callbacks.promptsAnswered == 0 ? "no keyboard-interactive prompt asked for a password" : nil
                return .done(.refused(note: note))
            default: throw driver.error(rc, during: "keyboard-interactive authentication")
            }
        }
    }

    private func agentAttempt(socketPath: String?) async throws -> Outcome {
        guard let socketPath, !socketPath.isEmpty else { return .refused(note: "no ssh-agent (SSH_AUTH_SOCK is not set)") }
        let user = endpoint.username
        let state = AgentState()
        defer {
            // The state is released on whichever thread ends last; free the agent on the loop.
            driver.loop.submit { state.release() }
        }
        return try await driver.perform(deadline: deadline, timeout: timeout) { driver -> Attempt<Outcome> in
            if state.agent == nil {
                guard let agent = libssh2_agent_init(driver.session) else {
                    return .done(.refused(note: "cannot use ssh-agent: \(LibSSH2.lastError(driver.session).message)"))
                }
                state.agent = agent
                libssh2_agent_set_identity_path(agent, socketPath)
                // The agent socket is local and blocking: these return promptly.
                guard libssh2_agent_connect(agent) == 0 else {
                    return .done(.refused(note: "cannot connect to ssh-agent at \(socketPath): \(LibSSH2.lastError(driver.session).message)"))
                }
                state.connected = true
                guard libssh2_agent_list_identities(agent) == 0 else {
                    return .done(.refused(note: "ssh-agent at \(socketPath) did not list its keys: \(LibSSH2.lastError(driver.session).message)"))
                }
            }
            guard let agent = state.agent else { return .done(.refused(note: nil)) }
            while true {
                if state.current == nil {
                    var next: UnsafeMutablePointer<libssh2_agent_publickey>?
                    let rc = libssh2_agent_get_identity(agent, &next, state.previous)
                    guard rc == 0, let next else {
                        let note = state.count == 0 ? "ssh-agent at \(socketPath) holds no keys"
                            : state.sawRSA ? "ssh-agent: " + PrivateKeyInspector.rsaNote : nil
                        return .done(.refused(note: note))
                    }
                    state.current = next
                    state.count += 1
                    let blob = [UInt8](UnsafeBufferPointer(start: next.pointee.blob, count: Int(next.pointee.blob_len)))
                    if PrivateKeyInspector.keyType(blob: blob) == "ssh-rsa" { state.sawRSA = true }
                }
                let rc = libssh2_agent_userauth(agent, user, state.current)
                switch rc {
                case 0: return .done(.accepted)
                case LIBSSH2_ERROR_EAGAIN: return .wouldBlock
                case LIBSSH2_ERROR_SOCKET_DISCONNECT, LIBSSH2_ERROR_SOCKET_RECV, LIBSSH2_ERROR_SOCKET_SEND:
                    throw driver.error(rc, during: "ssh-agent authentication")
                default:
                    // This identity was refused: on to the next one.
                    state.previous = state.current
                    state.current = nil
                }
            }
        }
    }
}

/// The agent handle of one agent attempt; touched only on the loop thread.
private final class AgentState: @unchecked Sendable {
    var agent: OpaquePointer?
    var connected = false
    var current: UnsafeMutablePointer<libssh2_agent_publickey>?
    var previous: UnsafeMutablePointer<libssh2_agent_publickey>?
    var count = 0
    var sawRSA = false

    func release() {
        guard let agent else { return }
        if connected { libssh2_agent_disconnect(agent) }
        libssh2_agent_free(agent)
        self.agent = nil
    }
}

/// A private key written out for one libssh2 call: 0600 file in a 0700 directory of its own.
struct TemporaryKeyFile {
    /// How many were ever written (tests check whether libssh2 took the key from memory).
    static let created = Atomic<Int>(0)

    let directory: String
    let path: String

    init(contents: String) throws {
        var template = Array((NSTemporaryDirectory() + "/switchboard-key-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else {
            throw SSHError.protocolError(host: "localhost", port: 0, message: "cannot create a private temporary directory: \(LibSSH2.strerror(errno))")
        }
        directory = String(cString: made)
        path = directory + "/key"
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            rmdir(directory)
            throw SSHError.protocolError(host: "localhost", port: 0, message: "cannot write a temporary key file: \(LibSSH2.strerror(errno))")
        }
        Self.created.add(1, ordering: .relaxed)
        let bytes = Array(contents.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        guard written == bytes.count else {
            remove()
            throw SSHError.protocolError(host: "localhost", port: 0, message: "cannot write a temporary key file")
        }
    }

    func remove() {
        unlink(path)
        rmdir(directory)
    }
}

/// A pointer handed to the loop thread for the duration of one awaited operation.
private struct UnsafeSendablePointer<T>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<T>
    init(_ pointer: UnsafeMutablePointer<T>) { self.pointer = pointer }
}
