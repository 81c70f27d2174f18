import Engine
import Foundation
import Lab
import Store
import XCTest

/// Shared helpers of the transport, platform and known_hosts tests.
enum TransportTestSupport {
    /// A fresh directory under /tmp (as root, the lab's login user must be able to reach it).
    static func temporaryDirectory(_ prefix: String) throws -> String {
        let dir = "/tmp/\(prefix)-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Runs a program and returns its exit status and combined output.
    @discardableResult
    static func run(_ program: String, _ arguments: [String], environment: [String: String]? = nil) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// A new key pair from ssh-keygen; returns the private key path (the public key is `.pub`).
    static func makeKey(_ type: String, in directory: String, name: String, passphrase: String = "") throws -> String {
        let path = directory + "/" + name
        let (status, output) = try run("/usr/bin/ssh-keygen", ["-q", "-t", type, "-N", passphrase, "-C", name, "-f", path])
        guard status == 0 else { throw EnvironmentFailure("ssh-keygen failed: \(output)") }
        return path
    }

    static func openDescriptorCount() -> Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []).count
    }

    static func threadCount() -> Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []).count
    }

    static func freeBasePort(devices: Int) -> Int { LabPorts.freeBasePort(devices: devices) }
}

/// One lab per test class: started in `class setUp`, stopped in `class tearDown`.
final class LabFixture: @unchecked Sendable {
    let directory: String
    let manager: LabManager
    let status: LabStatus

    init(devices: Int = 20) throws {
        directory = try TransportTestSupport.temporaryDirectory("switchboard-transport")
        manager = LabManager(directory: directory)
        status = try manager.up(devices: devices, basePort: TransportTestSupport.freeBasePort(devices: devices))
    }

    func stop() {
        try? manager.down()
        try? FileManager.default.removeItem(atPath: directory)
    }

    func device(_ name: String) -> LabDevice {
        guard let device = status.device(name) else { fatalError("the lab has no device \(name)") }
        return device
    }

    /// An endpoint for a lab device, logging in with the lab's key unless told otherwise.
    func endpoint(_ name: String, authentication: [SSHAuthentication]? = nil) -> SSHEndpoint {
        let d = device(name)
        return SSHEndpoint(host: d.address, port: d.port, username: status.username,
                           authentication: authentication ?? [.keyFile(path: status.userKeyPath)], name: d.name)
    }

    /// The target for a lab device, with its jump chain.
    func target(_ name: String, authentication: [SSHAuthentication]? = nil, jumpAuthentication: [SSHAuthentication]? = nil) -> SSHTarget {
        let d = device(name)
        let jumps = d.jump.split(separator: ",").map { endpoint(String($0), authentication: jumpAuthentication) }
        return SSHTarget(endpoint(name, authentication: authentication), jumps: jumps)
    }

    /// Strict checking against the lab's known_hosts.
    func configuration(policy: HostKeyPolicy = .strict, knownHosts: [String]? = nil, writable: String? = nil,
                       commandTimeout: Duration = .seconds(20)) -> SSHTransportConfiguration {
        SSHTransportConfiguration(ioThreads: 2, connectTimeout: .seconds(10), commandTimeout: commandTimeout, keepaliveInterval: 30,
                                  hostKeyPolicy: policy,
                                  knownHosts: KnownHosts(files: knownHosts ?? [status.knownHostsPath], writableFile: writable))
    }

    func platform(_ name: String) throws -> PlatformDefinition {
        try PlatformCatalog.load(name, directory: TransportTestSupport.platformDirectory)
    }
}

extension TransportTestSupport {
    /// `setup/platforms` of this source tree.
    static var platformDirectory: String {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path + "/setup/platforms"
    }
}

/// A test class that shares one lab among its tests: started in the class `setUp`, stopped in its
/// `tearDown`. A lab that fails to start fails every test that needs it (a broken sshd install must
/// not pass as "skipped").
class LabBackedTestCase: XCTestCase {
    class var labDeviceCount: Int { 20 }

    nonisolated(unsafe) private static var labs: [ObjectIdentifier: Result<LabFixture, any Error>] = [:]

    override class func setUp() {
        super.setUp()
        labs[ObjectIdentifier(self)] = Result { try LabFixture(devices: labDeviceCount) }
    }

    override class func tearDown() {
        if case .success(let lab)? = labs.removeValue(forKey: ObjectIdentifier(self)) { lab.stop() }
        super.tearDown()
    }

    var lab: LabFixture {
        get throws {
            switch Self.labs[ObjectIdentifier(type(of: self))] {
            case .success(let lab)?: return lab
            case .failure(let error)?: throw error
            case nil: throw LabError("no lab was started for \(type(of: self))")
            }
        }
    }
}

/// A missing or broken test prerequisite (sshd, ssh-keygen, a port): a failure, not a skip — CI
/// installs all of them, and a skipped test would hide the breakage.
struct EnvironmentFailure: Error, CustomStringConvertible {
    let message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}
