import Foundation

/// The PostgreSQL schema: the same tables, columns and migrations as the SQLite schema
/// (Store/Schema.swift), one migration per schema change with the same identifiers, so that
/// `db migrate` maps one onto the other and both refuse a database written by a newer version.
///
/// PostgreSQL's types where they help: `jsonb` for the JSON columns (properties, parameters,
/// targets, rows), `timestamptz` for times, `bytea` for member sets, `bigserial` keys. Indexes are
/// those of the SQLite schema, which match the queries the console and engine make.
enum PostgresSchema {
    struct Migration {
        let id: String
        let sql: String
    }

    /// Never edit a shipped migration; add one.
    static let migrations: [Migration] = [
        Migration(id: "v1-initial", sql: v1),
        Migration(id: "v2-result-rows", sql: "ALTER TABLE result ADD COLUMN rows jsonb;"),
        Migration(id: "v3-snapshot-git-commit", sql: "ALTER TABLE config_snapshot ADD COLUMN git_commit text;"),
        Migration(id: "v4-run-engine-and-due-time", sql: v4),
        // Used on PostgreSQL only (SQLite's one engine holds a file lock; its table stays empty).
        Migration(id: "v5-engine-registry", sql: v5),
        Migration(id: "v6-run-units", sql: v6),
        Migration(id: "v7-engine-regions", sql: v7),
        // Which engine produced a result, and its host as it was then (its row goes when dropped).
        Migration(id: "v8-result-engine", sql: "ALTER TABLE result ADD COLUMN engine_id bigint, ADD COLUMN engine_host text NOT NULL DEFAULT '';"),
        // An engine shutting down (SIGTERM) serves nothing more: the others do not count on it for
        // queued units (`leaveUnits`, `unservedUnits`).
        Migration(id: "v9-engine-draining", sql: "ALTER TABLE engine ADD COLUMN draining boolean NOT NULL DEFAULT false;"),
    ]

    /// Which registered engine runs a run, and on which host (its pid is `engine_pid`); the due time
    /// a task's run was fired for, unique per task: the backstop behind the scheduler's
    /// compare-and-set (manual runs have none, and NULLs never collide).
    static let v4 = """
        ALTER TABLE run ADD COLUMN engine_id bigint, ADD COLUMN engine_host text NOT NULL DEFAULT '',
            ADD COLUMN due_at timestamptz;
        CREATE UNIQUE INDEX run_on_task_due_at ON run (task_id, due_at);
        CREATE INDEX run_running_on_engine ON run (engine_id) WHERE status = 'running';
        """

    /// The engines serving the database: each inserts itself at start, stamps `heartbeat_at` with
    /// the database's `now()` every few seconds, deletes itself on a clean exit. Lost and dropped are
    /// read from the heartbeat's age (`engine.active_threshold_s`, `engine.drop_threshold_s`), never
    /// from an engine's own clock. `pools` is what it serves (the unit-level queue's regions).
    static let v5 = """
        CREATE TABLE engine (
            id bigserial PRIMARY KEY,
            host text NOT NULL,
            pid integer NOT NULL,
            version text NOT NULL DEFAULT '',
            capacity integer NOT NULL DEFAULT 0,
            pools jsonb NOT NULL DEFAULT '[]',
            started_at timestamptz NOT NULL DEFAULT now(),
            heartbeat_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX engine_on_heartbeat ON engine (heartbeat_at);
        """

    /// The unit-level queue: a run's units (one service on one device, or one device's walk), claimed
    /// by engines under a lease (`engine_id`, `attempts` as the claim's epoch, `lease_expires_at` by
    /// the database's clock). Not copied by `db migrate` (a queue in flight belongs to its engines).
    static let v6 = """
        CREATE TABLE run_unit (
            id bigserial PRIMARY KEY,
            run_id bigint NOT NULL REFERENCES run ON DELETE CASCADE,
            service_id bigint NOT NULL,
            service_name text NOT NULL,
            device_id bigint,
            device_name text NOT NULL DEFAULT '',
            mutating boolean NOT NULL DEFAULT false,
            max_processes integer NOT NULL DEFAULT 0,
            status text NOT NULL DEFAULT 'queued',
            attempts integer NOT NULL DEFAULT 0,
            engine_id bigint,
            claimed_at timestamptz,
            lease_expires_at timestamptz,
            ended_at timestamptz,
            reason text NOT NULL DEFAULT ''
        );
        CREATE INDEX run_unit_on_run ON run_unit (run_id, status);
        CREATE INDEX run_unit_queued ON run_unit (id) WHERE status = 'queued';
        CREATE INDEX run_unit_claimed ON run_unit (engine_id, lease_expires_at) WHERE status = 'claimed';
        """

    /// Regions: the filter an engine serves beside its pools, whether it has a region at all
    /// (`restricted`), and the devices its region holds now (`engine_device`, rewritten by the
    /// engine as membership changes), which the unit claim and the waiting reason read. Gone with
    /// the registration. Not copied by `db migrate`.
    static let v7 = """
        ALTER TABLE engine ADD COLUMN filter text NOT NULL DEFAULT '', ADD COLUMN restricted boolean NOT NULL DEFAULT false;
        CREATE TABLE engine_device (
            engine_id bigint NOT NULL REFERENCES engine ON DELETE CASCADE,
            device_id bigint NOT NULL,
            PRIMARY KEY (engine_id, device_id)
        );
        CREATE INDEX engine_device_on_device ON engine_device (device_id);
        """

    static var version: Int { migrations.count }

    /// Held (transaction-scoped) while migrating, so two processes opening a new database at once
    /// migrate it once.
    static let migrationLock = 0x5357_4D49  // "SWMI"

    static let v1 = """
        CREATE TABLE meta (key text PRIMARY KEY, value text NOT NULL);
        CREATE TABLE device (
            id bigserial PRIMARY KEY,
            name text NOT NULL UNIQUE,
            address text NOT NULL DEFAULT '',
            port integer NOT NULL DEFAULT 22,
            platform text NOT NULL DEFAULT '',
            vendor text NOT NULL DEFAULT '',
            model text NOT NULL DEFAULT '',
            os_version text NOT NULL DEFAULT '',
            category text NOT NULL DEFAULT '',
            location text NOT NULL DEFAULT '',
            description text NOT NULL DEFAULT '',
            jump text NOT NULL DEFAULT '',
            properties jsonb NOT NULL DEFAULT '{}',
            last_run_status text,
            last_run_time timestamptz,
            last_backup_status text,
            last_backup_time timestamptz,
            reachable boolean,
            last_reachability_time timestamptz
        );
        CREATE TABLE link (
            id bigserial PRIMARY KEY,
            name text NOT NULL UNIQUE,
            source_id bigint NOT NULL REFERENCES device ON DELETE CASCADE,
            destination_id bigint NOT NULL REFERENCES device ON DELETE CASCADE,
            description text NOT NULL DEFAULT '',
            properties jsonb NOT NULL DEFAULT '{}'
        );
        CREATE INDEX link_on_source_id ON link (source_id);
        CREATE INDEX link_on_destination_id ON link (destination_id);
        CREATE TABLE member_set (
            id bigserial PRIMARY KEY,
            criteria_key text NOT NULL UNIQUE,
            members bytea NOT NULL,
            count integer NOT NULL DEFAULT 0
        );
        CREATE TABLE pool (
            id bigserial PRIMARY KEY,
            name text NOT NULL UNIQUE,
            description text NOT NULL DEFAULT '',
            criteria jsonb NOT NULL DEFAULT '[]',
            criteria_key text NOT NULL DEFAULT '',
            member_count integer NOT NULL DEFAULT 0
        );
        CREATE INDEX pool_on_criteria_key ON pool (criteria_key);
        CREATE TABLE pool_manual (
            pool_id bigint NOT NULL REFERENCES pool ON DELETE CASCADE,
            device_id bigint NOT NULL REFERENCES device ON DELETE CASCADE,
            PRIMARY KEY (pool_id, device_id)
        );
        CREATE INDEX pool_manual_on_device_id ON pool_manual (device_id);
        CREATE TABLE credential (
            id bigserial PRIMARY KEY,
            name text NOT NULL UNIQUE,
            description text NOT NULL DEFAULT '',
            username text NOT NULL,
            secret_kind text NOT NULL,
            secret text NOT NULL DEFAULT '',
            key_file text NOT NULL DEFAULT '',
            enable_secret text NOT NULL DEFAULT '',
            role text NOT NULL,
            priority integer NOT NULL DEFAULT 1,
            pools jsonb NOT NULL DEFAULT '[]'
        );
        CREATE TABLE service (
            id bigserial PRIMARY KEY,
            name text NOT NULL UNIQUE,
            kind text NOT NULL,
            description text NOT NULL DEFAULT '',
            parameters jsonb NOT NULL DEFAULT '{}',
            devices jsonb NOT NULL DEFAULT '[]',
            pools jsonb NOT NULL DEFAULT '[]',
            target_filter text NOT NULL DEFAULT '',
            run_method text NOT NULL,
            max_processes integer NOT NULL,
            retries integer NOT NULL,
            retry_delay double precision NOT NULL,
            timeout double precision NOT NULL,
            credential text NOT NULL DEFAULT '',
            conversion text NOT NULL DEFAULT 'text',
            validation jsonb NOT NULL DEFAULT '{}',
            traversal text NOT NULL DEFAULT 'device',
            max_node_runs integer NOT NULL DEFAULT 10,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL
        );
        CREATE INDEX service_on_kind ON service (kind);
        CREATE TABLE workflow_node (
            id bigserial PRIMARY KEY,
            workflow_id bigint NOT NULL REFERENCES service ON DELETE CASCADE,
            service_id bigint NOT NULL REFERENCES service ON DELETE CASCADE,
            is_start boolean NOT NULL DEFAULT false,
            UNIQUE (workflow_id, service_id)
        );
        CREATE INDEX workflow_node_on_service_id ON workflow_node (service_id);
        CREATE TABLE workflow_edge (
            id bigserial PRIMARY KEY,
            name text NOT NULL,
            workflow_id bigint NOT NULL REFERENCES service ON DELETE CASCADE,
            source_id bigint NOT NULL REFERENCES service ON DELETE CASCADE,
            destination_id bigint NOT NULL REFERENCES service ON DELETE CASCADE,
            subtype text NOT NULL,
            UNIQUE (workflow_id, name)
        );
        CREATE INDEX workflow_edge_on_workflow_id ON workflow_edge (workflow_id);
        CREATE TABLE task (
            id bigserial PRIMARY KEY,
            name text NOT NULL UNIQUE,
            description text NOT NULL DEFAULT '',
            service_id bigint REFERENCES service ON DELETE SET NULL,
            schedule_kind text NOT NULL,
            interval_seconds integer,
            cron text NOT NULL DEFAULT '',
            start_date timestamptz,
            end_date timestamptz,
            active boolean NOT NULL DEFAULT false,
            devices jsonb NOT NULL DEFAULT '[]',
            pools jsonb NOT NULL DEFAULT '[]',
            payload jsonb NOT NULL DEFAULT '{}',
            timezone text NOT NULL DEFAULT '',
            misfire_policy text NOT NULL DEFAULT 'skip',
            misfire_grace_seconds integer NOT NULL DEFAULT 60,
            max_instances integer NOT NULL DEFAULT 1,
            next_fire timestamptz,
            last_fire timestamptz,
            last_run_id bigint,
            last_run_status text
        );
        CREATE INDEX task_on_service_id ON task (service_id);
        CREATE INDEX task_on_next_fire ON task (next_fire);
        CREATE TABLE run (
            id bigserial PRIMARY KEY,
            service_id bigint NOT NULL,
            service_name text NOT NULL,
            trigger text NOT NULL,
            "user" text NOT NULL,
            targets jsonb NOT NULL DEFAULT '{}',
            parameters jsonb NOT NULL DEFAULT '{}',
            status text NOT NULL,
            progress_done integer NOT NULL DEFAULT 0,
            progress_total integer NOT NULL DEFAULT 0,
            progress_failed integer NOT NULL DEFAULT 0,
            created_at timestamptz NOT NULL,
            started_at timestamptz,
            ended_at timestamptz,
            engine_pid integer,
            stop_requested boolean NOT NULL DEFAULT false,
            reason text NOT NULL DEFAULT '',
            restart_of bigint,
            restart_from text NOT NULL DEFAULT '',
            task_id bigint
        );
        CREATE INDEX run_on_service_id ON run (service_id);
        CREATE INDEX run_on_status ON run (status);
        CREATE TABLE result (
            id bigserial PRIMARY KEY,
            run_id bigint NOT NULL REFERENCES run ON DELETE CASCADE,
            service_id bigint NOT NULL,
            service_name text NOT NULL,
            device_id bigint,
            device_name text NOT NULL DEFAULT '',
            success boolean NOT NULL,
            output text NOT NULL DEFAULT '',
            duration_ms integer NOT NULL DEFAULT 0,
            attempts integer NOT NULL DEFAULT 1,
            created_at timestamptz NOT NULL
        );
        CREATE INDEX result_on_run ON result (run_id, device_name);
        CREATE INDEX result_on_device ON result (device_id);
        CREATE TABLE run_log (
            run_id bigint NOT NULL,
            seq integer NOT NULL,
            time timestamptz NOT NULL,
            level text NOT NULL,
            device text NOT NULL DEFAULT '',
            service text NOT NULL DEFAULT '',
            message text NOT NULL,
            PRIMARY KEY (run_id, seq)
        );
        CREATE TABLE session (
            id bigserial PRIMARY KEY,
            device_id bigint,
            device_name text NOT NULL,
            "user" text NOT NULL,
            started_at timestamptz NOT NULL,
            ended_at timestamptz,
            bytes_in bigint NOT NULL DEFAULT 0,
            bytes_out bigint NOT NULL DEFAULT 0,
            width integer NOT NULL DEFAULT 80,
            height integer NOT NULL DEFAULT 24,
            transcript text NOT NULL DEFAULT '',
            end_reason text NOT NULL DEFAULT ''
        );
        CREATE TABLE config_snapshot (
            id bigserial PRIMARY KEY,
            device_id bigint NOT NULL REFERENCES device ON DELETE CASCADE,
            created_at timestamptz NOT NULL,
            run_id bigint,
            sha256 text NOT NULL,
            content text NOT NULL
        );
        CREATE INDEX config_snapshot_on_device ON config_snapshot (device_id, created_at);
        CREATE TABLE changelog (
            id bigserial PRIMARY KEY,
            time timestamptz NOT NULL,
            "user" text NOT NULL,
            severity text NOT NULL,
            target_type text NOT NULL DEFAULT '',
            target_name text NOT NULL DEFAULT '',
            content text NOT NULL
        );
        CREATE INDEX changelog_on_time ON changelog (time);
        """

    /// The tables `db info` counts and `db migrate` copies, parents before children.
    static let tables = ["meta", "device", "link", "member_set", "pool", "pool_manual", "credential", "service",
                         "workflow_node", "workflow_edge", "task", "run", "result", "run_log", "session",
                         "config_snapshot", "changelog"]
}
