import Crypto
import CLibSSH2
import Foundation

/// Host key algorithms, with their OpenSSH names and libssh2 codes.
public enum SSHHostKeyType: String, Sendable, CaseIterable {
    case ed25519 = "ssh-ed25519"
    case ecdsa256 = "ecdsa-sha2-nistp256"
    case ecdsa384 = "ecdsa-sha2-nistp384"
    case ecdsa521 = "ecdsa-sha2-nistp521"
    case rsa = "ssh-rsa"
    case dss = "ssh-dss"

    /// From `libssh2_session_hostkey`'s type.
    init?(libssh2Type: Int32) {
        switch libssh2Type {
        case LIBSSH2_HOSTKEY_TYPE_ED25519: self = .ed25519
        case LIBSSH2_HOSTKEY_TYPE_ECDSA_256: self = .ecdsa256
        case LIBSSH2_HOSTKEY_TYPE_ECDSA_384: self = .ecdsa384
        case LIBSSH2_HOSTKEY_TYPE_ECDSA_521: self = .ecdsa521
        case LIBSSH2_HOSTKEY_TYPE_RSA: self = .rsa
        case LIBSSH2_HOSTKEY_TYPE_DSS: self = .dss
        default: return nil
        }
    }

    /// The `LIBSSH2_KNOWNHOST_KEY_*` bits for `libssh2_knownhost_checkp`.
    var knownHostMask: Int32 {
        switch self {
        case .ed25519: return LIBSSH2_KNOWNHOST_KEY_ED25519
        case .ecdsa256: return LIBSSH2_KNOWNHOST_KEY_ECDSA_256
        case .ecdsa384: return LIBSSH2_KNOWNHOST_KEY_ECDSA_384
        case .ecdsa521: return LIBSSH2_KNOWNHOST_KEY_ECDSA_521
        case .rsa: return LIBSSH2_KNOWNHOST_KEY_SSHRSA
        case .dss: return LIBSSH2_KNOWNHOST_KEY_SSHDSS
        }
    }

    /// Host key algorithm names to offer for this key type, best first.
    var algorithms: [String] {
        switch self {
        case .rsa: return ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"]
        default: return [rawValue]
        }
    }
}

/// A server's host key as it was offered (or as read from a known_hosts / .pub line).
public struct SSHHostKey: Sendable, Equatable, CustomStringConvertible {
    public let type: SSHHostKeyType
    /// The key blob, as sent on the wire.
    public let blob: [UInt8]
    /// `SHA256:<base64 without padding>`, as OpenSSH shows it.
    public let fingerprint: String

    public init(type: SSHHostKeyType, blob: [UInt8]) {
        self.type = type
        self.blob = blob
        self.fingerprint = SSHHostKey.fingerprint(ofSHA256: Array(SHA256.hash(data: blob)))
    }

    /// A key as libssh2 saw it in a live session, with libssh2's own SHA-256 of the blob.
    init(type: SSHHostKeyType, blob: [UInt8], sha256: [UInt8]) {
        self.type = type
        self.blob = blob
        self.fingerprint = SSHHostKey.fingerprint(ofSHA256: sha256)
    }

    /// From an OpenSSH public key line (`ssh-ed25519 AAAA… comment`), a known_hosts line's key part.
    public init?(openSSHLine line: String) {
        let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard let typeIndex = fields.firstIndex(where: { SSHHostKeyType(rawValue: String($0)) != nil }),
              typeIndex + 1 < fields.count,
              let type = SSHHostKeyType(rawValue: String(fields[typeIndex])),
              let data = Data(base64Encoded: String(fields[typeIndex + 1])) else { return nil }
        self.init(type: type, blob: [UInt8](data))
    }

    /// The base64 of the blob, as in known_hosts and .pub files.
    public var base64: String { Data(blob).base64EncodedString() }

    /// `ssh-ed25519 AAAA…`: the key part of a known_hosts line.
    public var openSSHLine: String { "\(type.rawValue) \(base64)" }

    public var description: String { "\(type.rawValue) \(fingerprint)" }

    static func fingerprint(ofSHA256 digest: [UInt8]) -> String {
        var text = Data(digest).base64EncodedString()
        while text.hasSuffix("=") { text.removeLast() }
        return "SHA256:" + text
    }
}
