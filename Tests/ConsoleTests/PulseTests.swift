import Foundation
import GRDB
import XCTest
@testable import Console
@testable import Store

/// `:pulse` rendered into the cell buffer over a store with known runs, results, device states and
/// backups; its glyphs in Unicode and ASCII; and an idle pulse that reads nothing and draws nothing.
final class PulseTests: XCTestCase {
    /// 2023-11-14 22:13:20 UTC: the quarter hour under way started at 22:00:00.
    static let now = Date(timeIntervalSince1970: 1_700_000_000)

    /// The example network with: 4 runs completed and 1 failed in the current quarter hour, 2
    /// completed two hours ago, 1 failed 30 hours ago (out of the pulse's 24 hours), 1 running
    /// (5/20, 1 failed) and 2 queued; 15 devices last run successfully, 3 failed, 2 never ran;
    /// 16 reachable, 3 not, 1 unknown; 6 backed up today (1 failed), 3 new versions of 2 devices
    /// today and 1 yesterday; results of 3 devices averaging 20 s, 10 s and 5 s.
    static func pulseStore() throws -> ExampleStore {
        let store = try ExampleStore()
        let now = PulseTests.now
        for _ in 0..<4 { try store.run(service: "show version", status: .completed, started: now.addingTimeInterval(-100)) }
        try store.run(service: "show version", status: .failed, started: now.addingTimeInterval(-100))
        let twoHours = now.addingTimeInterval(-7_200 - 100)
        try store.run(service: "backup configuration", status: .completed, started: twoHours)
        let timed = try store.run(service: "backup configuration", status: .completed, started: twoHours)
        try store.run(service: "show version", status: .failed, started: now.addingTimeInterval(-30 * 3_600))
        let running = try store.run(service: "backup configuration", status: .running, done: 5, total: 20, failed: 1, started: now.addingTimeInterval(-300))
        try store.run(service: "show version", status: .queued, started: nil)
        try store.run(service: "show version", status: .queued, started: nil)
        // The running run: three units started, one finished (a result; without a device, so the
        // slowest devices' figures stay as they are), so two in flight.
        try store.database.writer.write { db in
            for (seq, device) in ["par-core1", "par-core2", "par-dist1"].enumerated() {
                try db.execute(sql: "INSERT INTO run_log (run_id, seq, time, level, device, service, message) VALUES (?, ?, ?, 'debug', ?, 'backup configuration', ?)",
                               arguments: [running, seq + 1, now.addingTimeInterval(-290), device, RunLogLine.unitStarted])
            }
        }
        try store.result(run: running, device: "", success: true, output: "", service: "backup configuration")
        let names = try store.database.writer.read { db in try String.fetchAll(db, sql: "SELECT name FROM device ORDER BY name") }
        XCTAssertEqual(names.count, 20)
        let today = now.addingTimeInterval(-60), yesterday = now.addingTimeInterval(-86_400 * 2)
        try store.database.writer.write { db in
            for (i, name) in names.enumerated() {
                let status: String? = i < 15 ? "success" : (i < 18 ? "failure" : nil)
                let reachable: Bool? = i < 16 ? true : (i < 19 ? false : nil)
                try db.execute(sql: "UPDATE device SET last_run_status = ?, reachable = ? WHERE name = ?", arguments: [status, reachable, name])
            }
            for name in names.prefix(5) {
                try db.execute(sql: "UPDATE device SET last_backup_status = 'success', last_backup_time = ? WHERE name = ?", arguments: [today, name])
            }
            try db.execute(sql: "UPDATE device SET last_backup_status = 'failure', last_backup_time = ? WHERE name = ?", arguments: [today, names[5]])
            try db.execute(sql: "UPDATE device SET last_backup_status = 'success', last_backup_time = ? WHERE name = ?", arguments: [yesterday, names[6]])
            for (device, ms) in [("par-core1", 18_000), ("par-core1", 22_000), ("lon-core1", 10_000), ("nyc-core1", 5_000)] {
                try db.execute(sql: """
                    INSERT INTO result (run_id, service_id, service_name, device_name, success, output, duration_ms, attempts, created_at)
                    VALUES (?, 1, 'backup configuration', ?, 1, '', ?, 1, ?)
                    """, arguments: [timed, device, ms, twoHours])
            }
        }
        try store.snapshot(device: "par-core1", content: "hostname par-core1\n", at: today.addingTimeInterval(-10))
        try store.snapshot(device: "par-core1", content: "hostname par-core1\nntp server 10.0.0.1\n", at: today)
        try store.snapshot(device: "lon-core1", content: "hostname lon-core1\n", at: today.addingTimeInterval(-5))
        try store.snapshot(device: "nyc-core1", content: "hostname nyc-core1\n", at: yesterday)
        return store
    }

    /// The characters of a row from column `x`, `n` of them.
    func cells(_ d: Driver, row: Int, from x: Int, _ n: Int) -> String {
        let b = d.frame.buffer
        return (x..<min(b.width, x + n)).map { b[$0, row].text }.joined()
    }

    func testTheStoreAggregatesTheFigures() throws {
        let store = try PulseTests.pulseStore()
        let day = Calendar.current.startOfDay(for: PulseTests.now)
        let p = try ConsoleStore(database: store.database).pulse(now: PulseTests.now, day: day)
        XCTAssertEqual(p.bucketSeconds, 900)
        XCTAssertEqual(p.firstBucket, Date(timeIntervalSince1970: 1_699_999_200 - 95 * 900))
        XCTAssertEqual(p.succeeded.count, 96)
        XCTAssertEqual(p.succeeded[95], 4); XCTAssertEqual(p.failed[95], 1)
        XCTAssertEqual(p.succeeded[87], 2); XCTAssertEqual(p.failed[87], 0)
        XCTAssertEqual(p.succeeded.reduce(0, +), 6); XCTAssertEqual(p.failed.reduce(0, +), 1, "the run 30 hours ago is out")
        XCTAssertEqual(p.devices, 20)
        XCTAssertEqual(p.lastRun, [.init(name: "success", count: 15), .init(name: "failure", count: 3), .init(name: "", count: 2)])
        XCTAssertEqual([p.reachable, p.unreachable, p.reachabilityUnknown], [16, 3, 1])
        XCTAssertEqual(p.queued, 2)
        XCTAssertEqual(p.running.map { [$0.done, $0.total, $0.failed, $0.inFlight] }, [[5, 20, 1, 2]])
        XCTAssertEqual(p.slowest.map(\.device), ["par-core1", "lon-core1", "nyc-core1"])
        XCTAssertEqual(p.slowest.map(\.averageMs), [20_000, 10_000, 5_000])
        XCTAssertEqual(p.slowest.map(\.maxMs), [22_000, 10_000, 5_000])
        XCTAssertEqual(p.slowest.map(\.operations), [2, 1, 1])
        XCTAssertEqual([p.changedVersions, p.changedDeviceCount, p.backedUp, p.backupsFailed], [3, 2, 6, 1])
        XCTAssertEqual(p.changedDevices, ["par-core1", "lon-core1"], "newest change first")
    }

    func testPulseAt80x24() throws {
        let store = try PulseTests.pulseStore()
        var d = Driver(store: store, width: 80, height: 24, now: PulseTests.now)
        d.command("pulse")
        let s = d.screen
        XCTAssertTrue(s[1].contains("pulse"), s[1])
        // 80 columns: 56 quarter hours (14 hours) of sparkline from column 13.
        XCTAssertEqual(s[2], pad(" Runs ended, last 14h, per 15 min   6 succeeded, 1 failed, at most 4 in 15 min", 80))
        XCTAssertTrue(s[3].hasPrefix("   succeeded "), s[3])
        XCTAssertTrue(s[4].hasPrefix("   failed    "), s[4])
        let ok = cells(d, row: 3, from: 13, 56), bad = cells(d, row: 4, from: 13, 56)
        XCTAssertEqual(ok, String(repeating: " ", count: 47) + "▄" + String(repeating: " ", count: 7) + "█", "2 two hours ago, 4 now")
        XCTAssertEqual(bad, String(repeating: " ", count: 55) + "▂", "1 failed now")
        XCTAssertEqual(d.frame.buffer[68, 3].role, .statusCompleted)
        XCTAssertEqual(d.frame.buffer[68, 4].role, .statusFailed)
        XCTAssertEqual(cells(d, row: 3, from: 69, 3), " 6 ")
        XCTAssertEqual(cells(d, row: 4, from: 69, 3), " 1 ")
        XCTAssertTrue(s[5].contains("-14h") && s[5].contains("now"), s[5])

        // Devices: 32 cells of bar at 80 columns (largest remainders: 24 + 5 + 3).
        XCTAssertEqual(s[7], pad(" Devices 20", 80))
        XCTAssertEqual(s[8], pad("   last run  " + String(repeating: "█", count: 24) + String(repeating: "▓", count: 5) + String(repeating: "░", count: 3)
                                 + "  success 15  failure 3  never 2", 80))
        XCTAssertEqual(s[9], pad("   reachable " + String(repeating: "█", count: 26) + String(repeating: "▓", count: 5) + "░"
                                 + "  yes 16  no 3  unknown 1", 80))
        XCTAssertEqual(d.frame.buffer[13 + 24, 8].role, .statusFailed)

        // The engine: off (the header's), its queue, the running run's progress.
        XCTAssertEqual(s[11], pad(" Engine off   queued 2   running 1   2 in flight   15 device operations left", 80))
        XCTAssertTrue(s[12].hasPrefix("   run 9 backup configuration " + String(repeating: "█", count: 5) + String(repeating: "░", count: 15) + " 5/20 1✗  since "), s[12])

        // Backups: 2 changed of 6 backed up: a third of the bar (10 cells and 5 eighths).
        XCTAssertEqual(s[14], pad(" Backups changed today   2 devices (3 versions) of 6 backed up   1 failed", 80))
        XCTAssertEqual(s[15], pad("             " + String(repeating: "█", count: 10) + "▋" + String(repeating: "░", count: 21) + "  par-core1, lon-core1", 80))

        // The slowest devices, bars relative to the slowest (24 cells).
        XCTAssertTrue(s[17].hasPrefix(" Slowest devices   average per operation, runs of the last 24h"), s[17])
        XCTAssertEqual(s[18], pad("   par-core1 " + String(repeating: "█", count: 24) + " 20.0s   max 22.0s  2 ops", 80))
        XCTAssertEqual(s[19], pad("   lon-core1 " + String(repeating: "█", count: 12) + String(repeating: " ", count: 12) + " 10.0s   max 10.0s  1 op", 80))
        XCTAssertEqual(s[20], pad("   nyc-core1 " + String(repeating: "█", count: 6) + String(repeating: " ", count: 18) + " 5.0s    max 5.0s  1 op", 80))
        XCTAssertTrue(s[21].trimmingCharacters(in: .whitespaces).isEmpty, "the main area ends at row 21: \(s[21])")
        XCTAssertTrue(s[23].contains("<r> reload"), s[23])
    }

    func testPulseAt120x40ShowsADayAndMoreRows() throws {
        let store = try PulseTests.pulseStore()
        try store.run(service: "show version", status: .running, done: 0, total: 0, started: PulseTests.now.addingTimeInterval(-60))
        var d = Driver(store: store, width: 120, height: 40, now: PulseTests.now)
        d.command("pulse")
        let s = d.screen
        XCTAssertEqual(s[2], pad(" Runs ended, last 24h, per 15 min   6 succeeded, 1 failed, at most 4 in 15 min", 120))
        let ok = cells(d, row: 3, from: 13, 96)
        XCTAssertEqual(ok, String(repeating: " ", count: 87) + "▄" + String(repeating: " ", count: 7) + "█")
        XCTAssertEqual(cells(d, row: 3, from: 109, 3), " 6 ")
        // 40-cell bars.
        XCTAssertEqual(s[8], pad("   last run  " + String(repeating: "█", count: 30) + String(repeating: "▓", count: 6) + String(repeating: "░", count: 4)
                                 + "  success 15  failure 3  never 2", 120))
        XCTAssertEqual(s[11], pad(" Engine off   queued 2   running 2   2 in flight   15 device operations left", 120))
        XCTAssertTrue(s[12].contains("run 9 backup configuration") && s[12].contains("5/20 1✗"), s[12])
        XCTAssertTrue(s[13].contains("run 12 show version") && s[13].contains(String(repeating: "░", count: 20) + " 0/0"), s[13])
        XCTAssertEqual(s[15], pad(" Backups changed today   2 devices (3 versions) of 6 backed up   1 failed", 120))
        XCTAssertEqual(s[16], pad("             " + String(repeating: "█", count: 13) + "▍" + String(repeating: "░", count: 26) + "  par-core1, lon-core1", 120))
        XCTAssertTrue(s[19].hasPrefix("   par-core1 " + String(repeating: "█", count: 32) + " 20.0s "), s[19])
        XCTAssertTrue(s[21].hasPrefix("   nyc-core1 " + String(repeating: "█", count: 8) + String(repeating: " ", count: 24) + " 5.0s "), s[21])
    }

    func testASCIIFallbackDrawsTheSameFiguresWithASCIIGlyphs() throws {
        let store = try PulseTests.pulseStore()
        var d = Driver(store: store, width: 80, height: 24, charset: .ascii, now: PulseTests.now)
        d.command("pulse")
        let s = d.screen
        XCTAssertTrue(s.allSatisfy { $0.unicodeScalars.allSatisfy(\.isASCII) }, s.joined(separator: "\n"))
        XCTAssertEqual(cells(d, row: 3, from: 13, 56), String(repeating: " ", count: 47) + "-" + String(repeating: " ", count: 7) + "#")
        XCTAssertEqual(cells(d, row: 4, from: 13, 56), String(repeating: " ", count: 55) + ",")
        XCTAssertEqual(s[8], pad("   last run  " + String(repeating: "#", count: 24) + String(repeating: "x", count: 5) + String(repeating: ".", count: 3)
                                 + "  success 15  failure 3  never 2", 80))
        XCTAssertTrue(s[12].hasPrefix("   run 9 backup configuration " + String(repeating: "#", count: 5) + String(repeating: "-", count: 15) + " 5/20 1x  since "), s[12])
        XCTAssertEqual(s[19], pad("   lon-core1 " + String(repeating: "#", count: 12) + String(repeating: " ", count: 12) + " 10.0s   max 10.0s  1 op", 80))
    }

    func testGlyphsScaleAndSplit() {
        let u = PulseGlyphs(.unicode), a = PulseGlyphs(.ascii)
        XCTAssertEqual(u.sparkline([0, 1, 2, 3, 4, 5, 6, 7, 8, 80], max: 8), " ▁▂▃▄▅▆▇██")
        XCTAssertEqual(u.sparkline([1, 100], max: 100), "▁█", "anything above zero shows")
        XCTAssertEqual(a.sparkline([0, 1, 4, 8], max: 8), " .-#")
        XCTAssertEqual(u.bar(0.5, width: 5, track: true).filled, "██▌")
        XCTAssertEqual(u.bar(0.5, width: 5, track: true).rest, "░░")
        XCTAssertEqual(a.bar(0.5, width: 5, track: true).filled, "###")
        XCTAssertEqual(u.bar(0.001, width: 10, track: false).filled, "▏")
        XCTAssertEqual(a.bar(0.001, width: 10, track: false).filled, "#")
        XCTAssertEqual(u.bar(1, width: 4, track: true).rest, "")
        XCTAssertEqual(PulseGlyphs.split([15, 3, 2], width: 32), [24, 5, 3])
        XCTAssertEqual(PulseGlyphs.split([1000, 1], width: 10), [9, 1])
        XCTAssertEqual(PulseGlyphs.split([0, 0], width: 10), [0, 0])
    }

    /// Idle: the periodic refresh finds the store's stamp unchanged and reads nothing, and the
    /// frame does not change (nothing is written to the terminal); one write and it reads again.
    func testAnIdlePulseReadsNothingAndDrawsNothing() throws {
        let store = try PulseTests.pulseStore()
        var d = Driver(store: store, width: 80, height: 24, now: PulseTests.now)
        d.command("pulse")
        d.advance(6)                                   // the command's flash expires
        let reads = ConsoleStore.pulseReads.load(ordering: .relaxed)
        var previous = d.frame.buffer
        var changed: [CellRun] = []
        var periodic: [LoadRequest] = []
        for _ in 0..<6 {                               // 22:13:26 to 22:13:56: the clock's minute stays
            let before = d.effects.count
            d.advance(5)
            periodic += d.effects[before...].compactMap { if case .load(let r) = $0, r.content == .pulse { return r }; return nil }
            changed += CellBuffer.diff(previous, d.frame.buffer)
            previous = d.frame.buffer
        }
        XCTAssertEqual(periodic.count, 6, "it refreshed on its interval (tables.pulse, 5 s)")
        XCTAssertTrue(periodic.allSatisfy { $0.unlessStamp != nil })
        XCTAssertEqual(ConsoleStore.pulseReads.load(ordering: .relaxed), reads, "no query while nothing was written")
        XCTAssertEqual(changed, [], "no cell changed, so nothing is written to the terminal")

        // Another process writes: the next refresh reads, and the screen shows it.
        let other = try AppDatabase(path: store.database.path)
        try other.writer.write { db in try db.execute(sql: "UPDATE run SET status = 'completed', ended_at = ? WHERE status = 'running'", arguments: [PulseTests.now.addingTimeInterval(30)]) }
        d.advance(5)
        XCTAssertEqual(ConsoleStore.pulseReads.load(ordering: .relaxed), reads + 1)
        XCTAssertTrue(d.text.contains("7 succeeded"), d.text)
        XCTAssertTrue(d.text.contains("running 0"), d.text)
    }

    /// The histogram moves with the clock without reading: an hour later, with nothing written,
    /// the runs are four quarter hours further left and the day's backups are still the day's.
    func testTheHistogramShiftsWithTheClockWithoutReading() throws {
        let store = try PulseTests.pulseStore()
        var d = Driver(store: store, width: 80, height: 24, now: PulseTests.now)
        d.command("pulse")
        let reads = ConsoleStore.pulseReads.load(ordering: .relaxed)
        for _ in 0..<12 { d.advance(300) }
        XCTAssertEqual(ConsoleStore.pulseReads.load(ordering: .relaxed), reads)
        XCTAssertEqual(cells(d, row: 3, from: 13, 56), String(repeating: " ", count: 43) + "▄" + String(repeating: " ", count: 7) + "█" + "    ")
    }

    func pad(_ s: String, _ n: Int) -> String { s + String(repeating: " ", count: max(0, n - s.count)) }
}
