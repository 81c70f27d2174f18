import Foundation

/// Reads the key type of a private key without decrypting it, to explain an RSA refusal: libssh2
/// 1.10 signs with ssh-rsa (SHA-1) only, which OpenSSH 8.8 and later refuse by default.
enum PrivateKeyInspector {
    /// `ssh-ed25519`, `ssh-rsa`, `ecdsa-sha2-nistp256`…, or nil when it cannot tell.
    static func keyType(pem: String) -> String? {
        if pem.contains("BEGIN RSA PRIVATE KEY") { return "ssh-rsa" }
        if pem.contains("BEGIN DSA PRIVATE KEY") { return "ssh-dss" }
        if pem.contains("BEGIN EC PRIVATE KEY") { return "ecdsa" }
        guard let begin = pem.range(of: "-----BEGIN OPENSSH PRIVATE KEY-----"),
              let end = pem.range(of: "-----END OPENSSH PRIVATE KEY-----") else { return nil }
        let body = pem[begin.upperBound..<end.lowerBound].filter { !$0.isWhitespace }
        guard let data = Data(base64Encoded: String(body)) else { return nil }
        // openssh-key-v1\0, string cipher, string kdf, string kdfoptions, uint32 nkeys, string pubkey
        // (the public key is stored unencrypted, with its type as its first string).
        var reader = SSHWire.Reader(bytes: [UInt8](data))
        guard reader.skip(literal: Array("openssh-key-v1\0".utf8)),
              reader.string() != nil, reader.string() != nil, reader.string() != nil,
              reader.uint32() != nil, let publicKey = reader.string() else { return nil }
        var inner = SSHWire.Reader(bytes: publicKey)
        return inner.string().map { String(decoding: $0, as: UTF8.self) }
    }

    static func keyType(file: String) -> String? {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return nil }
        return keyType(pem: text)
    }

    /// The key type named at the start of a public key blob (agent identities).
    static func keyType(blob: [UInt8]) -> String? {
        var reader = SSHWire.Reader(bytes: blob)
        return reader.string().map { String(decoding: $0, as: UTF8.self) }
    }

    static let rsaNote = "the key is RSA, and libssh2 1.10 signs RSA keys with ssh-rsa (SHA-1) only, which OpenSSH 8.8 and later refuse; use an ed25519 or ecdsa key"
}
