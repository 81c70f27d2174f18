import Foundation
import GRDB

/// The versioned schema. One registered migration per schema change; never edit a shipped one.
enum Schema {
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1-initial", migrate: v1)
        m.registerMigration("v2-result-rows", migrate: v2)
        m.registerMigration("v3-snapshot-git-commit", migrate: v3)
        m.registerMigration("v4-run-engine-and-due-time", migrate: v4)
        m.registerMigration("v5-engine-registry", migrate: v5)
        m.registerMigration("v6-run-units", migrate: v6)
        m.registerMigration("v7-engine-regions", migrate: v7)
        m.registerMigration("v8-result-engine", migrate: v8)
        m.registerMigration("v9-engine-draining", migrate: v9)
        return m
    }

    /// Parsed results (`parse: textfsm`): a result keeps its raw text and, when parsed, its rows
    /// as a JSON array of objects (NULL when the output was not parsed).
    /// Configurations in git: the commit that holds a snapshot (NULL when git is off, or the file
    /// in the repository already had that content).
    /// Several engines (PostgreSQL): which registered engine runs a run and on which host. The
    /// scheduler: the due time a run was fired for, unique per task, the backstop behind the
    /// compare-and-set on `task.next_fire` (manual runs have no due time; NULLs never collide).
    static func v4(_ db: Database) throws {
        try db.alter(table: "run") { t in
            t.add(column: "engine_id", .integer)
            t.add(column: "engine_host", .text).notNull().defaults(to: "")
            t.add(column: "due_at", .datetime)
        }
        try db.create(index: "run_on_task_due_at", on: "run", columns: ["task_id", "due_at"], unique: true)
    }

    /// The engines registered on the database: PostgreSQL's (several engines, each a row kept by
    /// heartbeats). SQLite's one engine holds a file lock instead and registers nowhere, so here the
    /// table stays empty; it exists so both backends keep the same migrations and schema version
    /// (`db migrate` and the refusal of newer databases compare them). Never copied by `db migrate`.
    static func v5(_ db: Database) throws {
        try db.create(table: "engine") { t in
            t.autoIncrementedPrimaryKey("id")
            t.column("host", .text).notNull()
            t.column("pid", .integer).notNull()
            t.column("version", .text).notNull().defaults(to: "")
            t.column("capacity", .integer).notNull().defaults(to: 0)
            t.column("pools", .text).notNull().defaults(to: "[]")
            t.column("started_at", .datetime).notNull()
            t.column("heartbeat_at", .datetime).notNull()
        }
    }

    /// The unit-level queue (several engines, stage 2): a run's units claimed under a lease. SQLite's
    /// one engine may use it too; the table and schema version are the same as PostgreSQL's.
    static func v6(_ db: Database) throws {
        try db.create(table: "run_unit") { t in
            t.autoIncrementedPrimaryKey("id")
            t.column("run_id", .integer).notNull().references("run", onDelete: .cascade)
            t.column("service_id", .integer).notNull()
            t.column("service_name", .text).notNull()
            t.column("device_id", .integer)
            t.column("device_name", .text).notNull().defaults(to: "")
            t.column("mutating", .boolean).notNull().defaults(to: false)
            t.column("max_processes", .integer).notNull().defaults(to: 0)
            t.column("status", .text).notNull().defaults(to: "queued")
            t.column("attempts", .integer).notNull().defaults(to: 0)
            t.column("engine_id", .integer)
            t.column("claimed_at", .datetime)
            t.column("lease_expires_at", .datetime)
            t.column("ended_at", .datetime)
            t.column("reason", .text).notNull().defaults(to: "")
        }
        try db.create(index: "run_unit_on_run", on: "run_unit", columns: ["run_id", "status"])
        try db.create(index: "run_unit_on_status", on: "run_unit", columns: ["status", "id"])
    }

    /// Regions (PostgreSQL's several engines): the filter an engine serves beside its pools, whether
    /// it has a region (`restricted`), and its devices (`engine_device`), read by the unit claim
    /// both backends share. SQLite's one engine never has a region in use (the CLI refuses one), so
    /// these stay empty; no foreign key to `engine`, whose table stays empty here too.
    static func v7(_ db: Database) throws {
        try db.alter(table: "engine") { t in
            t.add(column: "filter", .text).notNull().defaults(to: "")
            t.add(column: "restricted", .boolean).notNull().defaults(to: false)
        }
        try db.create(table: "engine_device") { t in
            t.column("engine_id", .integer).notNull()
            t.column("device_id", .integer).notNull()
            t.primaryKey(["engine_id", "device_id"])
        }
        try db.create(index: "engine_device_on_device", on: "engine_device", columns: ["device_id"])
    }

    /// Which engine produced a result (several engines spread a run's devices over them): the
    /// engine's id and host as they were when it wrote it (the engine's row goes when it is dropped).
    static func v8(_ db: Database) throws {
        try db.alter(table: "result") { t in
            t.add(column: "engine_id", .integer)
            t.add(column: "engine_host", .text).notNull().defaults(to: "")
        }
    }

    /// An engine shutting down (SIGTERM) serves nothing more (PostgreSQL's registrations; here, as
    /// `engine` itself, only so both backends keep one schema version).
    static func v9(_ db: Database) throws {
        try db.alter(table: "engine") { t in t.add(column: "draining", .boolean).notNull().defaults(to: false) }
    }

    static func v3(_ db: Database) throws {
        try db.alter(table: "config_snapshot") { t in t.add(column: "git_commit", .text) }
    }

    static func v2(_ db: Database) throws {
        try db.alter(table: "result") { t in t.add(column: "rows", .text) }
    }

    static func v1(_ db: Database) throws {
        try db.create(table: "meta") { t in
            t.primaryKey("key", .text)
            t.column("value", .text).notNull()
        }
        try db.create(table: "device") { t in
            t.autoIncrementedPrimaryKey("id")
            t.column("name", .text).notNull().unique()
            t.column("address", .text).notNull().defaults(to: "")
            t.column("port", .integer).notNull().defaults(to: 22)
            t.column("platform", .text).notNull().defaults(to: "")
            t.column("vendor", .text).notNull().defaults(to: "")
            t.column("model", .text).notNull().defaults(to: "")
            t.column("os_version", .text).notNull().defaults(to: "")
            t.column("category", .text).notNull().defaults(to: "")
            t.column("location", .text).notNull().defaults(to: "")
            t.column("description", .text).notNull().defaults(to: "")
            t.column("jump", .text).notNull().defaults(to: "")
            t.column("properties", .text).notNull().defaults(to: "{}")
            t.column("last_run_status", .text)
            t.column("last_run_time", .datetime)
            t.column("last_backup_status", .text)
            t.column("last_backup_time", .datetime)
            t.column("reachable", .boolean)
            t.column("last_reachability_time", .datetime)
        }
        try db.create(table: "link") { t in
            t.autoIncrementedPrimaryKey("id")
            t.column("name", .text).notNull().unique()
            t.column("source_id", .integer).notNull().references("device", onDelete: .cascade).indexed()
            t.column("destination_id", .integer).notNull().references("device", onDelete: .cascade).indexed()
            t.column("description", .text).notNull().defaults(to: "")
            t.column("properties", .text).notNull().defaults(to: "{}")
        }
        // Pools with the same criteria share one member set: eNMS's scale data has 4,000 `.*` pools.
        try db.create(table: "member_set") { t in
            t.autoIncrementedPrimaryKey("id")
            t.column("criteria_key", .text).notNull().unique()
            t.column("members", .blob).notNull()
            t.column("count", .integer).notNull().defaults(to: 0)
        }
        try db.create(table: "pool") { t in
            t.autoIncrementedPrimaryKey("id")
            t.column("name", .text).notNull().unique()
            t.column("description", .text).notNull().defaults(to: "")
            t.column("criteria", .text).notNull().defaults(to: "[]")
            t.column("criteria_key", .text).notNull().defaults(to: "").indexed()
            t.column("member_count", .integer).notNull().defaults(to: 0)
        }
        try db.create(table: "pool_manual") { t in
            t.column("pool_id", .integer).notNull().references("pool", onDelete: .cascade)
            t.column("device_id", .integer).notNull().references("device", onDelete: .cascade).indexed()
            t.primaryKey(["pool_id", "device_id"])
        }
        try db.create(table: "credential") { t in
            t.autoIncrementedPrimaryKey("id")
            t.column("name", .text).notNull().unique()
            t.column("description", .text).notNull().defaults(to: "")
            t.column("username", .text).notNull()
            t.column("secret_kind", .text).notNull()
            t.column("secret", .text).notNull().defaults(to: "")
            t.column("key_file", .text).notNull().defaults(to: "")
            t.column("enable_secret", .text).notNull().defaults(to: "")
            t.column("role", .text).notNull()
            t.column("priority", .integer).notNull().defaults(to: 1)
            t.column("pools", .text).notNull().defaults(to: "[]")
        }
        try db.create(table: "service") { t in
            t.autoIncrementedPrimaryKey("id")
            t.column("name", .text).notNull().unique()
            t.column("kind", .text).notNull().indexed()
            t.column("description", .text).notNull().defaults(to: "")
            t.column("parameters", .text).notNull().defaults(to: "{}")
            t.column("devices", .text).notNull().defaults(to: "[]")
            t.column("pools", .text).notNull().defaults(to: "[]")
            t.column("target_filter", .text).notNull().defaults(to: "")
            t.column("run_method", .text).notNull()
            t.column("max_processes", .integer).notNull()
            t.column("retries", .integer).notNull()
            t.column("retry_delay", .double).notNull()
            t.column("timeout", .double).notNull()
            t.column("credential", .text).notNull().defaults(to: "")
            t.column("conversion", .text).notNull().defaults(to: "text")
            t.column("validation", .text).notNull().defaults(to: "{}")
            t.column("traversal", .text).notNull().defaults(to: "device")
            t.column("max_node_runs", .integer).notNull().defaults(to: 10)
            t.column("created_at", .datetime).notNull()
            t.column("updated_at", .datetime).notNull()
        }
        try db.create(table: "workflow_node") { t in
            t.autoIncrementedPrimaryKey("id")
            t.column("workflow_id", .integer).notNull().references("service", onDelete: .cascade)
            t.column("service_id", .integer).notNull().references("service", onDelete: .cascade).indexed()
            t.column("is_start", .boolean).notNull().defaults(to: false)
            t.uniqueKey(["workflow_id", "service_id"])
        }
        try db.create(table: "workflow_edge") { t in
            t.autoIncrementedPrimaryKey("id")
            t.column("name", .text).notNull()
            t.column("workflow_id", .integer).notNull().references("service", onDelete: .cascade).indexed()
            t.column("source_id", .integer).notNull().references("service", onDelete: .cascade)
            t.column("destination_id", .integer).notNull().references("service", onDelete: .cascade)
            t.column("subtype", .text).notNull()
            t.uniqueKey(["workflow_id", "name"])
        }
        try db.create(table: "task") { t in
            t.autoIncrementedPrimaryKey("id")
            t.column("name", .text).notNull().unique()
            t.column("description", .text).notNull().defaults(to: "")
            t.column("service_id", .integer).references("service", onDelete: .setNull).indexed()
            t.column("schedule_kind", .text).notNull()
            t.column("interval_seconds", .integer)
            t.column("cron", .text).notNull().defaults(to: "")
            t.column("start_date", .datetime)
            t.column("end_date", .datetime)
            t.column("active", .boolean).notNull().defaults(to: false)
            t.column("devices", .text).notNull().defaults(to: "[]")
            t.column("pools", .text).notNull().defaults(to: "[]")
            t.column("payload", .text).notNull().defaults(to: "{}")
            t.column("timezone", .text).notNull().defaults(to: "")
            t.column("misfire_policy", .text).notNull().defaults(to: "skip")
            t.column("misfire_grace_seconds", .integer).notNull().defaults(to: 60)
            t.column("max_instances", .integer).notNull().defaults(to: 1)
            t.column("next_fire", .datetime).indexed()
            t.column("last_fire", .datetime)
            t.column("last_run_id", .integer)
            t.column("last_run_status", .text)
        }
        try db.create(table: "run") { t in
            t.autoIncrementedPrimaryKey("id")
            t.column("service_id", .integer).notNull().indexed()
            t.column("service_name", .text).notNull()
            t.column("trigger", .text).notNull()
            t.column("user", .text).notNull()
            t.column("targets", .text).notNull().defaults(to: "{}")
            t.column("parameters", .text).notNull().defaults(to: "{}")
            t.column("status", .text).notNull().indexed()
            t.column("progress_done", .integer).notNull().defaults(to: 0)
            t.column("progress_total", .integer).notNull().defaults(to: 0)
            t.column("progress_failed", .integer).notNull().defaults(to: 0)
            t.column("created_at", .datetime).notNull()
            t.column("started_at", .datetime)
            t.column("ended_at", .datetime)
            t.column("engine_pid", .integer)
            t.column("stop_requested", .boolean).notNull().defaults(to: false)
            t.column("reason", .text).notNull().defaults(to: "")
            t.column("restart_of", .integer)
            t.column("restart_from", .text).notNull().defaults(to: "")
            t.column("task_id", .integer)
        }
        try db.create(table: "result") { t in
            t.autoIncrementedPrimaryKey("id")
            t.column("run_id", .integer).notNull().references("run", onDelete: .cascade)
            t.column("service_id", .integer).notNull()
            t.column("service_name", .text).notNull()
            t.column("device_id", .integer)
            t.column("device_name", .text).notNull().defaults(to: "")
            t.column("success", .boolean).notNull()
            t.column("output", .text).notNull().defaults(to: "")
            t.column("duration_ms", .integer).notNull().defaults(to: 0)
            t.column("attempts", .integer).notNull().defaults(to: 1)
            t.column("created_at", .datetime).notNull()
        }
        try db.create(index: "result_on_run", on: "result", columns: ["run_id", "device_name"])
        try db.create(index: "result_on_device", on: "result", columns: ["device_id"])
        // Readers tail a run by sequence number: the key is exactly the query.
        try db.create(table: "run_log", options: .withoutRowID) { t in
            t.column("run_id", .integer).notNull()
            t.column("seq", .integer).notNull()
            t.column("time", .datetime).notNull()
            t.column("level", .text).notNull()
            t.column("device", .text).notNull().defaults(to: "")
            t.column("service", .text).notNull().defaults(to: "")
            t.column("message", .text).notNull()
            t.primaryKey(["run_id", "seq"])
        }
        try db.create(table: "session") { t in
            t.autoIncrementedPrimaryKey("id")
            t.column("device_id", .integer)
            t.column("device_name", .text).notNull()
            t.column("user", .text).notNull()
            t.column("started_at", .datetime).notNull()
            t.column("ended_at", .datetime)
            t.column("bytes_in", .integer).notNull().defaults(to: 0)
            t.column("bytes_out", .integer).notNull().defaults(to: 0)
            t.column("width", .integer).notNull().defaults(to: 80)
            t.column("height", .integer).notNull().defaults(to: 24)
            t.column("transcript", .text).notNull().defaults(to: "")
            t.column("end_reason", .text).notNull().defaults(to: "")
        }
        try db.create(table: "config_snapshot") { t in
            t.autoIncrementedPrimaryKey("id")
            t.column("device_id", .integer).notNull().references("device", onDelete: .cascade)
            t.column("created_at", .datetime).notNull()
            t.column("run_id", .integer)
            t.column("sha256", .text).notNull()
            t.column("content", .text).notNull()
        }
        try db.create(index: "config_snapshot_on_device", on: "config_snapshot", columns: ["device_id", "created_at"])
        try db.create(table: "changelog") { t in
            t.autoIncrementedPrimaryKey("id")
            t.column("time", .datetime).notNull().indexed()
            t.column("user", .text).notNull()
            t.column("severity", .text).notNull()
            t.column("target_type", .text).notNull().defaults(to: "")
            t.column("target_name", .text).notNull().defaults(to: "")
            t.column("content", .text).notNull()
        }
    }
}
