import CLibSSH2
import Crypto
import Foundation
import Synchronization

/// A private key parsed once per process and used for public key authentication through
/// `libssh2_userauth_publickey` with a signing callback.
///
/// Why: `libssh2_userauth_publickey_fromfile` reads and parses the key file at every login, and with
/// OpenSSL 3 that parse (PEM decoders tried one after the other before libssh2's own OpenSSH-format
/// reader) was a third of the client's CPU for 200 logins. Keys parsed here are kept for the
/// process's life, keyed by file identity (device, inode, size, modification time) or by the PEM
/// text's digest, so a replaced key file is read again.
///
/// Covers unencrypted ed25519 and ECDSA (P-256, P-384, P-521) keys in OpenSSH format, and ECDSA keys
/// in PEM (SEC1 or PKCS#8). Anything else — passphrase-protected keys, RSA — returns nil and goes
/// through libssh2's own readers as before.
final class KeySigner: Sendable {
    /// Immutable once parsed; signing reads the key only (BoringSSL's signing takes it const), so
    /// loop threads may sign with one key at the same time.
    enum Key: @unchecked Sendable {
        case ed25519(Curve25519.Signing.PrivateKey)
        case p256(P256.Signing.PrivateKey)
        case p384(P384.Signing.PrivateKey)
        case p521(P521.Signing.PrivateKey)
    }

    let key: Key
    /// The SSH public key blob (string type, then the key's fields) sent in the request.
    let publicKeyBlob: [UInt8]

    init(key: Key) {
        self.key = key
        var blob: [UInt8] = []
        switch key {
        case .ed25519(let k):
            SSHWire.appendString("ssh-ed25519", to: &blob)
            SSHWire.appendString(Array(k.publicKey.rawRepresentation), to: &blob)
        case .p256(let k): KeySigner.ecdsaBlob("nistp256", Array(k.publicKey.x963Representation), into: &blob)
        case .p384(let k): KeySigner.ecdsaBlob("nistp384", Array(k.publicKey.x963Representation), into: &blob)
        case .p521(let k): KeySigner.ecdsaBlob("nistp521", Array(k.publicKey.x963Representation), into: &blob)
        }
        publicKeyBlob = blob
    }

    private static func ecdsaBlob(_ curve: String, _ point: [UInt8], into blob: inout [UInt8]) {
        SSHWire.appendString("ecdsa-sha2-" + curve, to: &blob)
        SSHWire.appendString(curve, to: &blob)
        SSHWire.appendString(point, to: &blob)
    }

    var keyType: String {
        switch key {
        case .ed25519: return "ssh-ed25519"
        case .p256: return "ecdsa-sha2-nistp256"
        case .p384: return "ecdsa-sha2-nistp384"
        case .p521: return "ecdsa-sha2-nistp521"
        }
    }

    /// The signature libssh2 puts after the algorithm name: ed25519's 64 bytes, or ECDSA's
    /// `mpint r, mpint s` (RFC 5656 3.1.2), over `data` hashed as the key type prescribes.
    func sign(_ data: [UInt8]) throws -> [UInt8] {
        switch key {
        case .ed25519(let k): return Array(try k.signature(for: data))
        case .p256(let k): return KeySigner.ecdsaSignature(Array(try k.signature(for: data).rawRepresentation))
        case .p384(let k): return KeySigner.ecdsaSignature(Array(try k.signature(for: data).rawRepresentation))
        case .p521(let k): return KeySigner.ecdsaSignature(Array(try k.signature(for: data).rawRepresentation))
        }
    }

    /// r‖s (each half the length) as two SSH mpints.
    static func ecdsaSignature(_ raw: [UInt8]) -> [UInt8] {
        let half = raw.count / 2
        var out: [UInt8] = []
        SSHWire.appendMPInt(Array(raw[..<half]), to: &out)
        SSHWire.appendMPInt(Array(raw[half...]), to: &out)
        return out
    }

    // MARK: cache

    private struct FileIdentity: Hashable, Sendable {
        var path: String, device: UInt64, inode: UInt64, size: Int64, mtimeSeconds: Int, mtimeNanoseconds: Int
    }

    private enum CacheKey: Hashable, Sendable {
        case file(FileIdentity)
        case pem([UInt8])
    }

    /// nil values are remembered too: a key this type cannot use is not parsed again at every login.
    private static let cache = Mutex<[CacheKey: KeySigner?]>([:])

    /// The signer for a key file, or nil when the file is unreadable, protected by a passphrase, or
    /// of a kind left to libssh2.
    static func forFile(_ path: String) -> KeySigner? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        let identity = FileIdentity(path: path, device: UInt64(st.st_dev), inode: UInt64(st.st_ino), size: Int64(st.st_size),
                                    mtimeSeconds: st.st_mtim.tv_sec, mtimeNanoseconds: st.st_mtim.tv_nsec)
        if let hit = cache.withLock({ $0[.file(identity)] }) { return hit }
        let signer = (try? String(contentsOfFile: path, encoding: .utf8)).flatMap(parse(pem:))
        cache.withLock { $0[.file(identity)] = .some(signer) }
        return signer
    }

    /// The signer for a key given as text (an inline key credential).
    static func forPEM(_ pem: String) -> KeySigner? {
        let digest = Array(SHA256.hash(data: Data(pem.utf8)))
        if let hit = cache.withLock({ $0[.pem(digest)] }) { return hit }
        let signer = parse(pem: pem)
        cache.withLock { $0[.pem(digest)] = .some(signer) }
        return signer
    }

    // MARK: parsing

    static func parse(pem: String) -> KeySigner? {
        if pem.contains("-----BEGIN OPENSSH PRIVATE KEY-----") { return parseOpenSSH(pem) }
        if pem.contains("-----BEGIN EC PRIVATE KEY-----") || pem.contains("-----BEGIN PRIVATE KEY-----") {
            // Encrypted PEM says so in a header (Proc-Type) or uses ENCRYPTED PRIVATE KEY, never matched here.
            if pem.contains("ENCRYPTED") { return nil }
            if let k = try? P256.Signing.PrivateKey(pemRepresentation: pem) { return KeySigner(key: .p256(k)) }
            if let k = try? P384.Signing.PrivateKey(pemRepresentation: pem) { return KeySigner(key: .p384(k)) }
            if let k = try? P521.Signing.PrivateKey(pemRepresentation: pem) { return KeySigner(key: .p521(k)) }
        }
        return nil
    }

    /// openssh-key-v1 (PROTOCOL.key): magic, cipher, kdf, kdf options, key count, public keys, then
    /// the private section (check integers, key type, key fields, comment, padding) — unencrypted only.
    static func parseOpenSSH(_ pem: String) -> KeySigner? {
        guard let begin = pem.range(of: "-----BEGIN OPENSSH PRIVATE KEY-----"),
              let end = pem.range(of: "-----END OPENSSH PRIVATE KEY-----", range: begin.upperBound..<pem.endIndex),
              let data = Data(base64Encoded: String(pem[begin.upperBound..<end.lowerBound].filter { !$0.isWhitespace })) else { return nil }
        var reader = SSHWire.Reader(bytes: [UInt8](data))
        guard reader.skip(literal: Array("openssh-key-v1\0".utf8)),
              let cipher = reader.string(), cipher == Array("none".utf8),
              reader.string() != nil, reader.string() != nil,
              reader.uint32() == 1, let publicBlob = reader.string(),
              let privateSection = reader.string() else { return nil }
        var p = SSHWire.Reader(bytes: privateSection)
        guard let check1 = p.uint32(), let check2 = p.uint32(), check1 == check2,
              let typeBytes = p.string() else { return nil }
        let type = String(decoding: typeBytes, as: UTF8.self)
        let signer: KeySigner?
        switch type {
        case "ssh-ed25519":
            guard let pub = p.string(), pub.count == 32, let priv = p.string(), priv.count == 64,
                  let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: priv[0..<32]) else { return nil }
            signer = KeySigner(key: .ed25519(key))
        case "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521":
            guard p.string() != nil, p.string() != nil, let scalar = p.string() else { return nil }
            signer = ecdsa(type: type, scalar: scalar)
        default:
            return nil
        }
        // The key must be the one the file names publicly; anything else is a file we misread.
        guard let signer, signer.publicKeyBlob == publicBlob else { return nil }
        return signer
    }

    /// An ECDSA key from its private scalar (an mpint: maybe a leading zero, maybe shorter).
    private static func ecdsa(type: String, scalar: [UInt8]) -> KeySigner? {
        let trimmed = Array(scalar.drop { $0 == 0 })
        func padded(_ size: Int) -> [UInt8]? {
            trimmed.count <= size ? [UInt8](repeating: 0, count: size - trimmed.count) + trimmed : nil
        }
        switch type {
        case "ecdsa-sha2-nistp256":
            return padded(32).flatMap { try? P256.Signing.PrivateKey(rawRepresentation: $0) }.map { KeySigner(key: .p256($0)) }
        case "ecdsa-sha2-nistp384":
            return padded(48).flatMap { try? P384.Signing.PrivateKey(rawRepresentation: $0) }.map { KeySigner(key: .p384($0)) }
        default:
            return padded(66).flatMap { try? P521.Signing.PrivateKey(rawRepresentation: $0) }.map { KeySigner(key: .p521($0)) }
        }
    }

    // MARK: libssh2

    /// Signatures made for libssh2 (tests check that logins take this path).
    static let signatures = Atomic<Int>(0)

    /// libssh2's signing callback; `abstract` points at an unretained `KeySigner`. The signature
    /// is allocated with malloc, which libssh2's default allocator frees.
    static let signCallback: @convention(c) (OpaquePointer?, UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?,
                                             UnsafeMutablePointer<Int>?, UnsafePointer<UInt8>?, Int,
                                             UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> Int32 = {
        _, sig, sigLength, data, dataLength, abstract in
        guard let sig, let sigLength, let data, let pointer = abstract?.pointee else { return -1 }
        let signer = Unmanaged<KeySigner>.fromOpaque(pointer).takeUnretainedValue()
        guard let signature = try? signer.sign(Array(UnsafeBufferPointer(start: data, count: dataLength))),
              let memory = malloc(max(signature.count, 1))?.assumingMemoryBound(to: UInt8.self) else { return -1 }
        signature.withUnsafeBufferPointer { memory.update(from: $0.baseAddress!, count: signature.count) }
        sig.pointee = memory
        sigLength.pointee = signature.count
        signatures.add(1, ordering: .relaxed)
        return 0
    }
}

/// SSH wire encoding (RFC 4251 section 5) for the few fields key handling needs.
enum SSHWire {
    static func appendUInt32(_ value: UInt32, to out: inout [UInt8]) {
        out += [UInt8(value >> 24 & 0xff), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)]
    }

    static func appendString(_ bytes: [UInt8], to out: inout [UInt8]) {
        appendUInt32(UInt32(bytes.count), to: &out)
        out += bytes
    }

    static func appendString(_ text: String, to out: inout [UInt8]) { appendString(Array(text.utf8), to: &out) }

    /// A non-negative integer from big-endian bytes: no leading zeros, one zero byte when the top bit is set.
    static func appendMPInt(_ magnitude: [UInt8], to out: inout [UInt8]) {
        var bytes = Array(magnitude.drop { $0 == 0 })
        if let first = bytes.first, first & 0x80 != 0 { bytes.insert(0, at: 0) }
        appendString(bytes, to: &out)
    }

    struct Reader {
        let bytes: [UInt8]
        var offset = 0

        init(bytes: [UInt8]) { self.bytes = bytes }

        mutating func skip(literal: [UInt8]) -> Bool {
            guard bytes.count >= offset + literal.count, Array(bytes[offset..<offset + literal.count]) == literal else { return false }
            offset += literal.count
            return true
        }

        mutating func uint32() -> UInt32? {
            guard bytes.count >= offset + 4 else { return nil }
            defer { offset += 4 }
            return bytes[offset..<offset + 4].reduce(0) { $0 << 8 | UInt32($1) }
        }

        mutating func string() -> [UInt8]? {
            guard let length = uint32(), bytes.count - offset >= Int(length) else { return nil }
            defer { offset += Int(length) }
            return Array(bytes[offset..<offset + Int(length)])
        }
    }
}
