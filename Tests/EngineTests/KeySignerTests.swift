import Crypto
@testable import Engine
import Foundation
import XCTest

/// Private keys parsed once per process for public key authentication: parsing of what ssh-keygen
/// writes, signatures a verifier accepts, and the cache's handling of changed files. Logins with
/// these keys against a real sshd are in TransportLoginTests and LabTests.
final class KeySignerTests: XCTestCase {
    var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "keysigner-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// The base64 blob of an OpenSSH public key line ("type base64 comment").
    func publicBlob(_ path: String) throws -> [UInt8] {
        let line = try String(contentsOfFile: path + ".pub", encoding: .utf8)
        let fields = line.split(separator: " ")
        return [UInt8](try XCTUnwrap(Data(base64Encoded: String(fields[1]))))
    }

    func testOpenSSHKeysOfEveryCoveredTypeMatchTheirPublicHalf() throws {
        for (type, bits, name) in [("ed25519", "", "ssh-ed25519"), ("ecdsa", "256", "ecdsa-sha2-nistp256"),
                                   ("ecdsa", "384", "ecdsa-sha2-nistp384"), ("ecdsa", "521", "ecdsa-sha2-nistp521")] {
            let path = directory + "/id_\(type)\(bits)"
            var args = ["-q", "-t", type, "-N", "", "-C", "test", "-f", path]
            if !bits.isEmpty { args += ["-b", bits] }
            let (status, output) = try TransportTestSupport.run("/usr/bin/ssh-keygen", args)
            XCTAssertEqual(status, 0, output)
            let signer = try XCTUnwrap(KeySigner.parse(pem: try String(contentsOfFile: path, encoding: .utf8)), name)
            XCTAssertEqual(signer.keyType, name)
            XCTAssertEqual(signer.publicKeyBlob, try publicBlob(path), "\(name): the blob sent must be the one in the .pub file")
        }
    }

    func testSignaturesVerifyWithThePublicKey() throws {
        let data = Array("session id and userauth request".utf8)
        let ed = try TransportTestSupport.makeKey("ed25519", in: directory, name: "ed")
        let edSigner = try XCTUnwrap(KeySigner.forFile(ed))
        guard case .ed25519(let edKey) = edSigner.key else { return XCTFail("not ed25519") }
        let edSignature = try edSigner.sign(data)
        XCTAssertEqual(edSignature.count, 64)
        XCTAssertTrue(edKey.publicKey.isValidSignature(edSignature, for: data))
        XCTAssertFalse(edKey.publicKey.isValidSignature(edSignature, for: data + [0]))

        let ec = try TransportTestSupport.makeKey("ecdsa", in: directory, name: "ec")
        let ecSigner = try XCTUnwrap(KeySigner.forFile(ec))
        guard case .p256(let ecKey) = ecSigner.key else { return XCTFail("not P-256") }
        // mpint r, mpint s: each a length, then the magnitude (a leading zero when the top bit is set).
        var reader = SSHWire.Reader(bytes: try ecSigner.sign(data))
        let r = try XCTUnwrap(reader.string()), s = try XCTUnwrap(reader.string())
        XCTAssertEqual(reader.offset, reader.bytes.count)
        for part in [r, s] {
            XCTAssertLessThanOrEqual(part.count, 33)
            if part.count == 33 { XCTAssertEqual(part[0], 0); XCTAssertGreaterThanOrEqual(part[1], 0x80) }
            else { XCTAssertLessThan(part[0], 0x80) }
        }
        func fixed(_ m: [UInt8]) -> [UInt8] { let t = Array(m.drop { $0 == 0 }); return [UInt8](repeating: 0, count: 32 - t.count) + t }
        let raw = try P256.Signing.ECDSASignature(rawRepresentation: fixed(r) + fixed(s))
        XCTAssertTrue(ecKey.publicKey.isValidSignature(raw, for: data))
    }

    func testMPIntEncoding() {
        var out: [UInt8] = []
        SSHWire.appendMPInt([0x00, 0x00, 0x7f, 0x01], to: &out)
        XCTAssertEqual(out, [0, 0, 0, 2, 0x7f, 0x01])
        out = []
        SSHWire.appendMPInt([0x80, 0x01], to: &out)
        XCTAssertEqual(out, [0, 0, 0, 3, 0x00, 0x80, 0x01])
        out = []
        SSHWire.appendMPInt([0, 0], to: &out)
        XCTAssertEqual(out, [0, 0, 0, 0])
    }

    func testKeysLeftToLibssh2() throws {
        // Passphrase-protected and RSA keys: nil, so libssh2's own readers handle them as before.
        let protected = try TransportTestSupport.makeKey("ed25519", in: directory, name: "protected", passphrase: "secret phrase")
        XCTAssertNil(KeySigner.forFile(protected))
        let rsa = try TransportTestSupport.makeKey("rsa", in: directory, name: "rsa")
        XCTAssertNil(KeySigner.forFile(rsa))
        XCTAssertNil(KeySigner.forFile(directory + "/missing"))
        XCTAssertNil(KeySigner.parse(pem: "-----BEGIN OPENSSH PRIVATE KEY-----\nnot base64 at all!\n-----END OPENSSH PRIVATE KEY-----\n"))
        XCTAssertNil(KeySigner.parse(pem: "garbage"))
        // A file whose private half does not match its public half is a misread file, not a key.
        let ed = try String(contentsOfFile: try TransportTestSupport.makeKey("ed25519", in: directory, name: "tamper"), encoding: .utf8)
        let body = ed.components(separatedBy: "\n").filter { !$0.hasPrefix("-----") }.joined()
        var bytes = [UInt8](try XCTUnwrap(Data(base64Encoded: body)))
        bytes[bytes.count - 60] ^= 0xff  // inside the private seed (before the comment and 1-7 bytes of padding)
        let tampered = "-----BEGIN OPENSSH PRIVATE KEY-----\n" + Data(bytes).base64EncodedString() + "\n-----END OPENSSH PRIVATE KEY-----\n"
        XCTAssertNil(KeySigner.parse(pem: tampered))
    }

    func testPEMECKeys() throws {
        let key = P256.Signing.PrivateKey()
        let signer = try XCTUnwrap(KeySigner.parse(pem: key.pemRepresentation))  // PKCS#8
        XCTAssertEqual(signer.keyType, "ecdsa-sha2-nistp256")
        let path = try TransportTestSupport.makeKey("ecdsa", in: directory, name: "pem")
        let (status, output) = try TransportTestSupport.run("/usr/bin/ssh-keygen", ["-q", "-p", "-N", "", "-m", "PEM", "-f", path])
        XCTAssertEqual(status, 0, output)
        XCTAssertTrue(try String(contentsOfFile: path, encoding: .utf8).contains("BEGIN EC PRIVATE KEY"))
        XCTAssertEqual(KeySigner.forFile(path)?.publicKeyBlob, try publicBlob(path))
    }

    func testCacheKeepsAKeyUntilItsFileChanges() throws {
        let path = try TransportTestSupport.makeKey("ed25519", in: directory, name: "rotating")
        let first = try XCTUnwrap(KeySigner.forFile(path))
        XCTAssertTrue(KeySigner.forFile(path) === first, "parsed once per process")
        // Replaced by a new key (new inode, size or time): read again.
        try FileManager.default.removeItem(atPath: path)
        try FileManager.default.removeItem(atPath: path + ".pub")
        _ = try TransportTestSupport.makeKey("ed25519", in: directory, name: "rotating")
        let second = try XCTUnwrap(KeySigner.forFile(path))
        XCTAssertFalse(second === first)
        XCTAssertEqual(second.publicKeyBlob, try publicBlob(path))
    }
}
