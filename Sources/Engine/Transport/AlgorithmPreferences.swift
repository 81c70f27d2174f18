import CLibSSH2

/// The algorithm lists offered in the handshake: modern ones, with legacy ones appended only on
/// request (settings `ssh.legacy_algorithms` or per device). Names the linked libssh2 lacks are
/// dropped, so the lists stay valid across libssh2 versions (1.10 has no rsa-sha2 host keys).
enum AlgorithmPreferences {
    static let modernKex = ["curve25519-sha256", "curve25519-sha256@libssh.org", "ecdh-sha2-nistp256", "ecdh-sha2-nistp384",
                            "ecdh-sha2-nistp521", "diffie-hellman-group-exchange-sha256", "diffie-hellman-group16-sha512",
                            "diffie-hellman-group18-sha512", "diffie-hellman-group14-sha256"]
    static let legacyKex = ["diffie-hellman-group14-sha1", "diffie-hellman-group-exchange-sha1", "diffie-hellman-group1-sha1"]
    static let modernHostKeys = ["ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
                                 "rsa-sha2-512", "rsa-sha2-256"]
    static let legacyHostKeys = ["ssh-rsa", "ssh-dss"]
    static let modernCiphers = ["chacha20-poly1305@openssh.com", "aes256-gcm@openssh.com", "aes128-gcm@openssh.com",
                                "aes256-ctr", "aes192-ctr", "aes128-ctr"]
    static let legacyCiphers = ["aes256-cbc", "aes192-cbc", "aes128-cbc", "3des-cbc"]
    static let modernMacs = ["hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com", "hmac-sha2-256", "hmac-sha2-512", "hmac-sha1"]
    static let legacyMacs = ["hmac-sha1-96", "hmac-md5"]

    /// The lists for one handshake. `knownKeyTypes` (from known_hosts) go first among host key
    /// algorithms, as OpenSSH orders them.
    static func lists(legacy: Bool, knownKeyTypes: [SSHHostKeyType]) -> [Int32: [String]] {
        var hostKeys = modernHostKeys + (legacy ? legacyHostKeys : [])
        let preferred = knownKeyTypes.flatMap(\.algorithms).filter(hostKeys.contains)
        hostKeys = preferred + hostKeys.filter { !preferred.contains($0) }
        let ciphers = modernCiphers + (legacy ? legacyCiphers : [])
        let macs = modernMacs + (legacy ? legacyMacs : [])
        let wanted: [Int32: [String]] = [
            LIBSSH2_METHOD_KEX: modernKex + (legacy ? legacyKex : []),
            LIBSSH2_METHOD_HOSTKEY: hostKeys,
            LIBSSH2_METHOD_CRYPT_CS: ciphers, LIBSSH2_METHOD_CRYPT_SC: ciphers,
            LIBSSH2_METHOD_MAC_CS: macs, LIBSSH2_METHOD_MAC_SC: macs,
        ]
        var result: [Int32: [String]] = [:]
        for (type, names) in wanted {
            // Server-to-client support is the same as client-to-server.
            let lookup = type == LIBSSH2_METHOD_CRYPT_SC ? LIBSSH2_METHOD_CRYPT_CS : type == LIBSSH2_METHOD_MAC_SC ? LIBSSH2_METHOD_MAC_CS : type
            let supported = LibSSH2.supported[lookup] ?? []
            result[type] = names.filter(supported.contains)
        }
        return result
    }

    /// Sets the lists on a session before its handshake (loop thread).
    static func apply(to session: OpaquePointer, legacy: Bool, knownKeyTypes: [SSHHostKeyType]) -> String? {
        for (type, names) in lists(legacy: legacy, knownKeyTypes: knownKeyTypes) where !names.isEmpty {
            let rc = libssh2_session_method_pref(session, type, names.joined(separator: ","))
            if rc != 0 { return "cannot set algorithm preferences (\(names.joined(separator: ","))): \(LibSSH2.lastError(session).message)" }
        }
        return nil
    }
}
