/// Which algorithms the lab's sshd offers.
///
/// `standard` offers OpenSSH's defaults (curve25519 key exchange and ed25519 host keys come first for
/// every client). `p256` offers only NIST P-256: ecdh-sha2-nistp256 key exchange, ecdsa-sha2-nistp256
/// host keys, and the lab-key credential becomes an ECDSA P-256 key. Debian's OpenSSH computes
/// curve25519 and ed25519 with its portable reference code, which costs sshd about 8 ms of CPU per
/// login on a 2-core benchmark machine; P-256 goes through OpenSSL. Benchmarks use `p256` because the
/// lab's CPU is a floor that every client measured against it shares; many network operating systems
/// offer exactly these algorithms.
public enum LabCrypto: String, Codable, Sendable, CaseIterable {
    case standard
    case p256
}
