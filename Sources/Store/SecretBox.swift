import Crypto
import Foundation

/// Encrypts secrets at rest with AES-256-GCM. The key comes from `SWITCHBOARD_KEY` (base64 of 32 bytes,
/// or any passphrase, stretched with SHA-256) or from a key file created 0600 on first use.
/// Ciphertext is text: `sb1:` + base64(nonce ‖ ciphertext ‖ tag), so it can live in TEXT columns and exports.
public struct SecretBox: @unchecked Sendable {
    static let prefix = "sb1:"
    let key: SymmetricKey

    public init(key: SymmetricKey) { self.key = key }

    /// The key from the environment, else from the key file (created when missing).
    public static func load(paths: Paths = Paths()) throws -> SecretBox {
        if let env = paths.environment["SWITCHBOARD_KEY"], !env.isEmpty {
            return SecretBox(key: keyFromText(env))
        }
        let path = paths.keyFilePath
        if let text = try? String(contentsOfFile: path, encoding: .utf8) {
            guard let data = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)), data.count == 32 else {
                throw StoreError(.encryption, "key file \(path) is not 32 bytes of base64; restore it from backup (secrets encrypted with another key cannot be read)")
            }
            return SecretBox(key: SymmetricKey(data: data))
        }
        try Paths.ensurePrivateDirectory(paths.configDirectory)
        let key = SymmetricKey(size: .bits256)
        let b64 = key.withUnsafeBytes { Data($0).base64EncodedString() }
        let fd = Glibc.open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        if fd < 0 {
            // Another process created it first: use theirs.
            if errno == EEXIST { return try load(paths: paths) }
            throw StoreError(.encryption, "cannot create key file \(path): \(String(cString: strerror(errno)))")
        }
        let bytes = Array((b64 + "\n").utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        if written != bytes.count { throw StoreError(.encryption, "cannot write key file \(path)") }
        return SecretBox(key: key)
    }

    static func keyFromText(_ text: String) -> SymmetricKey {
        if let data = Data(base64Encoded: text), data.count == 32 { return SymmetricKey(data: data) }
        return SymmetricKey(data: SHA256.hash(data: Data(text.utf8)))
    }

    public static func isEncrypted(_ text: String) -> Bool { text.hasPrefix(prefix) }

    /// Encrypts a secret; the empty secret stays empty (nothing to hide, and "no enable secret" stays visible).
    public func seal(_ plaintext: String) throws -> String {
        if plaintext.isEmpty { return "" }
        do {
            let box = try AES.GCM.seal(Data(plaintext.utf8), using: key)
            guard let combined = box.combined else { throw StoreError(.encryption, "encryption failed") }
            return SecretBox.prefix + combined.base64EncodedString()
        } catch let e as StoreError {
            throw e
        } catch {
            throw StoreError(.encryption, "encryption failed: \(error)")
        }
    }

    /// Decrypts a sealed secret. A wrong key is reported without revealing anything.
    public func open(_ sealed: String) throws -> String {
        if sealed.isEmpty { return "" }
        guard sealed.hasPrefix(SecretBox.prefix), let data = Data(base64Encoded: String(sealed.dropFirst(SecretBox.prefix.count))) else {
            throw StoreError(.encryption, "secret is not in switchboard's encrypted form")
        }
        do {
            let box = try AES.GCM.SealedBox(combined: data)
            return String(decoding: try AES.GCM.open(box, using: key), as: UTF8.self)
        } catch {
            throw StoreError(.encryption, "cannot decrypt a secret: it was encrypted under another key (check SWITCHBOARD_KEY or the key file)")
        }
    }
}
