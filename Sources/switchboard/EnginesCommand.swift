import ArgumentParser
import Engine
import Foundation
import Store

/// `switchboard engines`: the engines serving the database, with their state.
struct EnginesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engines",
        abstract: "List the engines serving the database: host, pid, version, state, heartbeat, units and runs in flight, capacity.",
        discussion: """
            On PostgreSQL several engines may serve one database; each registers and heartbeats with \
            the database's clock. An engine without a heartbeat for engine.active_threshold_s is lost \
            (its running runs end interrupted), after engine.drop_threshold_s it is dropped and removed. \
            On SQLite one engine holds the database's lock: it is listed, or none.
            """)
    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let settings = try global.settings()
        let database = try global.openBackend(readonly: true)
        let engines = try database.engines(EngineThresholds(settings))
        if json {
            print(String(decoding: try JSONEncoder.pretty.encode(engines), as: UTF8.self))
            return
        }
        if engines.isEmpty {
            print("no engine runs on \(database.location)")
            return
        }
        let rows = engines.map { (e: EngineEntry) -> [String] in
            let id: String = e.id.map { "#\($0)" } ?? "-"
            let version: String = e.version.isEmpty ? "-" : e.version
            let heartbeat: String = e.heartbeatAgeSeconds.map(EnginesCommand.age) ?? "-"
            let capacity: String = e.capacity > 0 ? String(e.capacity) : "-"
            let started: String = e.startedAt.map(LogsCommand.time) ?? "-"
            return [id, e.host, String(e.pid), version, e.state.rawValue, heartbeat, String(e.inFlight), capacity, started, inert(e.serves)]
        }
        print(TableFormatter.format(columns: ["ID", "HOST", "PID", "VERSION", "STATE", "HEARTBEAT", "IN FLIGHT", "CAPACITY", "STARTED", "SERVES"], rows: rows),
              terminator: "")
    }

    /// A heartbeat's age: "0.4 s ago", "12 s ago", "3 min ago".
    static func age(_ seconds: Double) -> String {
        if seconds < 10 { return String(format: "%.1f s ago", seconds) }
        if seconds < 120 { return "\(Int(seconds)) s ago" }
        return "\(Int(seconds / 60)) min ago"
    }
}

extension EngineCommand {
    /// `engine --status` with several engines: every registered engine; 0 when one is active.
    func severalStatus(_ database: any StoreBackend, settings: Settings) throws {
        let engines = try database.engines(EngineThresholds(settings))
        if engines.isEmpty {
            print("no engine runs on \(database.location)")
            throw ExitCode(1)
        }
        // As SQLite's one engine is reported, the host named only when it is another one.
        let here = EngineIdentity.thisHost
        for e in engines {
            let beat = e.heartbeatAgeSeconds.map { ", heartbeat \(EnginesCommand.age($0))" } ?? ""
            let host = e.host == here ? "" : " on host \(e.host.isEmpty ? "an unknown host" : e.host)"
            print("engine \(e.state == .active ? "running" : e.state.rawValue) on \(database.location): pid \(e.pid)\(host) (#\(e.id ?? 0), \(e.state.rawValue)\(beat), \(e.inFlight) in flight; serves \(inert(e.serves)))")
        }
        if !engines.contains(where: { $0.state == .active }) { throw ExitCode(1) }
    }

    /// `engine --stop` with several engines: SIGTERM to each active engine of this host, then waits
    /// until their registrations are gone. A pid means something only on its own host: an engine of
    /// another host is never signalled (a process of this host may have its pid), and neither is a
    /// lost one (its process may be gone and its pid reused). Exit 1 when any is left running.
    func severalStop(_ database: any StoreBackend, settings: Settings) throws {
        let engines = try database.engines(EngineThresholds(settings))
        let here = EngineIdentity.thisHost
        let local = engines.filter { $0.state == .active && $0.host == here }
        let elsewhere = engines.filter { $0.state == .active && $0.host != here }
        if local.isEmpty && elsewhere.isEmpty {
            print("no engine runs on \(database.location)")
            return
        }
        for e in local { kill(e.pid, SIGTERM) }
        let deadline = Date().addingTimeInterval(settings.engine.stopGraceSeconds + 10)
        var left = local
        while !left.isEmpty {
            let registered = Set(try database.engines(EngineThresholds(settings)).compactMap(\.id))
            // Gone from the registrations, or its process gone (a crash on the way out leaves the
            // row for the others to drop): this host's pid, so asking the kernel is sound.
            left = left.filter { e in (e.id.map(registered.contains) ?? false) && !(kill(e.pid, 0) != 0 && errno == ESRCH) }
            if left.isEmpty { break }
            if Date() > deadline {
                throw CommandFailure(message: "the engine\(left.count == 1 ? "" : "s") (pid \(left.map { String($0.pid) }.joined(separator: ", "))) ha\(left.count == 1 ? "s" : "ve") not stopped yet")
            }
            usleep(50_000)
        }
        for e in local { print("engine #\(e.id ?? 0) (pid \(e.pid)) stopped") }
        if !elsewhere.isEmpty {
            let names = elsewhere.map { "engine #\($0.id ?? 0) (pid \($0.pid)) runs on host \($0.host.isEmpty ? "an unknown host" : $0.host)" }
            throw CommandFailure(message: names.joined(separator: "; ") + ", not on this one: stop \(elsewhere.count == 1 ? "it" : "them") there")
        }
    }
}

extension EngineCommand {
    /// The region `--pools`/`--filter` ask for (nil: none), checked before the engine starts: only
    /// several engines on PostgreSQL with `engine.unit_queue` on claim device units, so only they
    /// can serve a region; every pool must exist and the filter must parse and name known fields.
    func checkedRegion(_ database: any StoreBackend, settings: Settings) throws -> EngineRegion? {
        guard pools != nil || filter != nil else { return nil }
        var names: [String] = []
        for name in (pools ?? "").split(separator: ",", omittingEmptySubsequences: false).map({ $0.trimmingCharacters(in: .whitespaces) }) where pools != nil {
            if name.isEmpty { throw CommandFailure.usage("--pools '\(pools ?? "")': an empty pool name (pools are comma-separated names)") }
            if !names.contains(name) { names.append(name) }
        }
        let expression = (filter ?? "").trimmingCharacters(in: .whitespaces)
        if filter != nil, expression.isEmpty { throw CommandFailure.usage("--filter: an empty filter expression") }
        guard database.capabilities.contains(.severalEngines) else {
            throw CommandFailure.usage("--pools/--filter: regions need several engines on PostgreSQL; \(database.location) is SQLite, whose one engine serves every device")
        }
        guard settings.engine.unitQueue else {
            throw CommandFailure.usage("--pools/--filter: a region applies to device units, which engines claim only with engine.unit_queue on (it is off: --set engine.unit_queue=true, or SWITCHBOARD_ENGINE_UNIT_QUEUE=true)")
        }
        do {
            _ = try database.query { store in try EngineRegion.devices(store, pools: names, filter: expression) }
        } catch let e as StoreError where e.kind == .invalid {
            throw CommandFailure.usage(e.message)
        }
        return EngineRegion(pools: names, filter: expression)
    }
}
