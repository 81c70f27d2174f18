import Engine
import Foundation
import Lab
import Store
import XCTest

/// Connect/disconnect cycles must leave no descriptor and no thread behind.
final class TransportLeakTests: LabBackedTestCase {

    /// Runs `cycles` connect/close cycles over the lab's plain devices, `workers` at a time.
    func cycle(_ transport: SSHTransport, cycles: Int, workers: Int, devices: [String]) async throws {
        let lab = try lab
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<workers {
                group.addTask {
                    for i in stride(from: worker, to: cycles, by: workers) {
                        let connection = try await transport.connect(lab.endpoint(devices[i % devices.count]))
                        await connection.close()
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    func testThousandConnectCyclesLeakNoDescriptorsOrThreads() async throws {
        let lab = try lab
        let devices = lab.status.devices.filter { $0.platform == "cisco_ios" && !$0.isFault && $0.jump.isEmpty && !$0.name.hasPrefix("kbdint") }.map(\.name)
        // Warm-up: the concurrency runtime and Dispatch start their worker threads on first use.
        let warm = try SSHTransport(configuration: lab.configuration())
        try await cycle(warm, cycles: 16, workers: 4, devices: devices)
        warm.shutdown()
        try await Task.sleep(for: .milliseconds(300))
        let descriptors = TransportTestSupport.openDescriptorCount()
        let threads = TransportTestSupport.threadCount()

        let transport = try SSHTransport(configuration: lab.configuration())
        let start = Date()
        try await cycle(transport, cycles: 1000, workers: 4, devices: devices)
        // The other kinds of sessions, a few times each: exec, CLI, interactive, jump tunnels.
        for _ in 0..<10 {
            let connection = try await transport.connect(lab.endpoint("par-acc1"))
            _ = try await connection.exec("show clock")
            let cli = try await connection.openCLI(platform: try lab.platform("cisco_ios"))
            _ = try await cli.send("show clock")
            await cli.close()
            let interactive = try await connection.openInteractive()
            try await interactive.write("exit\n")
            await interactive.close()
            await connection.close()
            let behind = try await transport.connect(lab.target("oob-par-1"))
            _ = try await behind.exec("show clock")
            await behind.close()
        }
        let elapsed = Date().timeIntervalSince(start)
        XCTAssertEqual(transport.openJumpSessions, 0)
        // While running: the loop threads are there, and every session's socket is closed.
        XCTAssertEqual(TransportTestSupport.openDescriptorCount(), descriptors + 2 * transport.configuration.ioThreads,
                       "only the loops' wake-up pipes remain")
        transport.shutdown()

        var settledDescriptors = 0, settledThreads = 0
        for _ in 0..<50 {
            settledDescriptors = TransportTestSupport.openDescriptorCount()
            settledThreads = TransportTestSupport.threadCount()
            if settledDescriptors <= descriptors && settledThreads <= threads { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        XCTAssertEqual(settledDescriptors, descriptors, "file descriptors leaked")
        XCTAssertLessThanOrEqual(settledThreads, threads, "threads leaked")
        print("1000 cycles + 10 mixed sessions in \(String(format: "%.1f", elapsed)) s")
    }
}
