using Npgsql;

namespace Flow.Storage.Postgres;

/// <summary>One versioned schema change. <see cref="Sql"/> names the schema <c>{schema}</c>.</summary>
/// <param name="Version">The version, from 1, applied in order.</param>
/// <param name="Name">What it does, recorded in <c>schema_migrations</c>.</param>
/// <param name="Sql">The statements.</param>
internal sealed record PostgresMigration(int Version, string Name, string Sql);

/// <summary>
/// The schema's versioned migrations and the runner that applies them. Each start runs <see cref="MigrateAsync"/>: in one
/// transaction under <c>pg_advisory_xact_lock</c> (keyed by the schema name) it creates the schema and the
/// <c>schema_migrations</c> table if missing and applies the migrations not yet recorded there, so two processes
/// starting at once apply each migration exactly once and a failed migration leaves nothing half done. Migrations are
/// never edited once released: a change is a new version.
/// </summary>
internal static class PostgresMigrations
{
    /// <summary>Every migration, in order.</summary>
    public static IReadOnlyList<PostgresMigration> All { get; } =
    [
        new(1, "state store: runs, state transitions, journal, inbox, logs, artifacts, task cache", """
            CREATE TABLE {schema}.runs (
                run_id text COLLATE "C" PRIMARY KEY,
                version bigint NOT NULL,
                flow_name text NOT NULL,
                pool text NOT NULL,
                deployment text,
                state text NOT NULL,
                state_message text,
                state_time timestamptz NOT NULL,
                attempt integer NOT NULL,
                journal_length integer NOT NULL,
                transition_count integer NOT NULL,
                log_count integer NOT NULL,
                parameters text,
                result text,
                failure_type text,
                failure_message text,
                failure_stack_trace text,
                tags jsonb NOT NULL DEFAULT '{}',
                parent_run_id text,
                parent_attempt integer NOT NULL DEFAULT 0,
                parent_call_id integer NOT NULL DEFAULT 0,
                created_at timestamptz NOT NULL,
                scheduled_at timestamptz NOT NULL,
                started_at timestamptz,
                ended_at timestamptz,
                lease_owner text,
                lease_until timestamptz,
                wake_requested boolean NOT NULL DEFAULT false,
                cancel_requested boolean NOT NULL DEFAULT false,
                wake_at timestamptz,
                heartbeat_at timestamptz,
                flow_version text
            ) WITH (fillfactor = 80);
            COMMENT ON TABLE {schema}.runs IS 'Flow runs: one row per run; version is the optimistic-concurrency row version every commit checks and increments';
            CREATE INDEX runs_recent ON {schema}.runs (created_at DESC, run_id);
            CREATE INDEX runs_by_state ON {schema}.runs (state, created_at DESC, run_id);
            CREATE INDEX runs_by_flow ON {schema}.runs (flow_name, created_at DESC, run_id);
            CREATE INDEX runs_ended ON {schema}.runs (ended_at) WHERE ended_at IS NOT NULL;

            CREATE TABLE {schema}.state_transitions (
                run_id text COLLATE "C" NOT NULL,
                idx integer NOT NULL,
                from_state text,
                to_state text NOT NULL,
                at timestamptz NOT NULL,
                message text,
                attempt integer NOT NULL,
                PRIMARY KEY (run_id, idx)
            );

            CREATE TABLE {schema}.journal_events (
                run_id text COLLATE "C" NOT NULL,
                attempt integer NOT NULL,
                idx integer NOT NULL,
                kind text NOT NULL,
                call_id integer NOT NULL,
                name text,
                task_attempt integer NOT NULL,
                state text,
                recorded_at timestamptz NOT NULL,
                started_at timestamptz,
                due_at timestamptz,
                payload text,
                failure_type text,
                failure_message text,
                failure_stack_trace text,
                detail text,
                PRIMARY KEY (run_id, attempt, idx)
            );

            CREATE TABLE {schema}.inbox (
                run_id text COLLATE "C" NOT NULL,
                item_id text COLLATE "C" NOT NULL,
                kind text NOT NULL,
                run_attempt integer NOT NULL,
                call_id integer NOT NULL,
                task_attempt integer NOT NULL,
                name text,
                payload text,
                failure_type text,
                failure_message text,
                failure_stack_trace text,
                started_at timestamptz,
                delivered_at timestamptz NOT NULL,
                detail text,
                PRIMARY KEY (run_id, item_id)
            );

            CREATE TABLE {schema}.run_logs (
                run_id text COLLATE "C" NOT NULL,
                line_no integer NOT NULL,
                logged_at timestamptz NOT NULL,
                level text NOT NULL,
                message text NOT NULL,
                call_id integer NOT NULL,
                attempt integer NOT NULL,
                PRIMARY KEY (run_id, line_no)
            );

            CREATE TABLE {schema}.artifacts (
                run_id text COLLATE "C" NOT NULL,
                artifact_key text COLLATE "C" NOT NULL,
                type text NOT NULL,
                data text NOT NULL,
                description text,
                created_at timestamptz NOT NULL,
                call_id integer NOT NULL,
                PRIMARY KEY (run_id, artifact_key)
            );

            CREATE TABLE {schema}.task_cache (
                key_hash bytea PRIMARY KEY,
                cache_key text NOT NULL,
                value text NOT NULL,
                task_name text NOT NULL,
                run_id text NOT NULL,
                created_at timestamptz NOT NULL,
                expires_at timestamptz
            );
            COMMENT ON COLUMN {schema}.task_cache.key_hash IS 'SHA-256 of the UTF-8 cache key (keys may be longer than a btree entry allows)';
            """),
        new(2, "work queue: queues, messages (FOR UPDATE SKIP LOCKED), dead letters", """
            CREATE TABLE {schema}.queues (
                name text COLLATE "C" PRIMARY KEY,
                created_at timestamptz NOT NULL DEFAULT now()
            );

            CREATE TABLE {schema}.queue_messages (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                queue text COLLATE "C" NOT NULL,
                body text NOT NULL,
                visible_at timestamptz NOT NULL,
                enqueued_at timestamptz NOT NULL,
                dequeue_count integer NOT NULL DEFAULT 0,
                receipt uuid
            ) WITH (fillfactor = 70);
            COMMENT ON COLUMN {schema}.queue_messages.receipt IS 'the current lease: issued by every dequeue and extension, cleared by abandon; complete, extend and dead-letter must present it';
            CREATE INDEX queue_messages_visible ON {schema}.queue_messages (queue, visible_at, id);

            CREATE TABLE {schema}.dead_letters (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                queue text COLLATE "C" NOT NULL,
                message_id text NOT NULL,
                body text NOT NULL,
                reason text NOT NULL,
                dequeue_count integer NOT NULL,
                dead_lettered_at timestamptz NOT NULL
            );
            CREATE INDEX dead_letters_by_queue ON {schema}.dead_letters (queue, id);
            """),
        new(3, "listing runs by deployment", """
            CREATE INDEX runs_by_deployment ON {schema}.runs (deployment, created_at DESC, run_id) WHERE deployment IS NOT NULL;
            """),
        new(4, "control plane: deployments, work pools, refused run requests, state entries", """
            CREATE SEQUENCE {schema}.control_versions;
            CREATE TABLE {schema}.deployments (
                name text COLLATE "C" PRIMARY KEY,
                version bigint NOT NULL,
                record text NOT NULL,
                updated_at timestamptz NOT NULL DEFAULT now()
            );
            COMMENT ON COLUMN {schema}.deployments.record IS 'the deployment as JSON (query it with record::jsonb)';
            CREATE TABLE {schema}.work_pools (
                name text COLLATE "C" PRIMARY KEY,
                version bigint NOT NULL,
                record text NOT NULL,
                updated_at timestamptz NOT NULL DEFAULT now()
            );
            CREATE TABLE {schema}.control_state (
                key text COLLATE "C" PRIMARY KEY,
                version bigint NOT NULL,
                record text NOT NULL,
                updated_at timestamptz NOT NULL DEFAULT now()
            );
            CREATE TABLE {schema}.rejected_run_requests (
                id text COLLATE "C" PRIMARY KEY,
                rejected_at timestamptz NOT NULL,
                record text NOT NULL
            );
            CREATE INDEX rejected_run_requests_newest ON {schema}.rejected_run_requests (rejected_at DESC, id);
            """),
        new(5, "events: the outbox of run changes and external events, with the feed ordered by transaction id", """
            CREATE TABLE {schema}.events (
                id text COLLATE "C" PRIMARY KEY,
                seq bigint GENERATED ALWAYS AS IDENTITY,
                xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
                occurred_at timestamptz NOT NULL,
                kind text COLLATE "C" NOT NULL,
                resource_ids text[] NOT NULL,
                body text NOT NULL
            );
            COMMENT ON TABLE {schema}.events IS 'Flow events (docs/events.md): written in the same statement as the change they describe; the feed reads (xid, seq) below the oldest running transaction';
            COMMENT ON COLUMN {schema}.events.body IS 'the event as JSON (query it with body::jsonb)';
            CREATE UNIQUE INDEX events_feed ON {schema}.events (xid, seq);
            CREATE INDEX events_newest ON {schema}.events (occurred_at DESC, id);
            CREATE INDEX events_by_kind ON {schema}.events (kind, occurred_at DESC);
            CREATE INDEX events_by_resource ON {schema}.events USING gin (resource_ids);
            """),
        new(6, "automations and their firings", """
            CREATE TABLE {schema}.automations (
                name text COLLATE "C" PRIMARY KEY,
                version bigint NOT NULL,
                record text NOT NULL,
                updated_at timestamptz NOT NULL DEFAULT now()
            );
            CREATE TABLE {schema}.automation_firings (
                key text COLLATE "C" PRIMARY KEY,
                automation text COLLATE "C" NOT NULL,
                fired_at timestamptz NOT NULL,
                version bigint NOT NULL,
                record text NOT NULL,
                updated_at timestamptz NOT NULL DEFAULT now()
            );
            CREATE INDEX automation_firings_newest ON {schema}.automation_firings (automation, fired_at DESC, key);
            """),
        new(7, "runs.hook_pending: the state hook a final run still owes (docs/hooks.md)", """
            ALTER TABLE {schema}.runs ADD COLUMN hook_pending boolean NOT NULL DEFAULT false;
            COMMENT ON COLUMN {schema}.runs.hook_pending IS 'true while the hook of the final state has not run yet (set with the final state, cleared when the hook is recorded)';
            """),
        new(8, "listing Late runs and runs by tag", """
            CREATE INDEX runs_late ON {schema}.runs (scheduled_at DESC, run_id) WHERE state IN ('Scheduled', 'Pending') AND started_at IS NULL;
            CREATE INDEX runs_by_tags ON {schema}.runs USING gin (tags);
            """),
    ];

    /// <summary>The newest version.</summary>
    public static int Latest => All[^1].Version;

    /// <summary>Applies the migrations up to <paramref name="upTo"/> (all when null) that the schema has not recorded yet.</summary>
    /// <param name="dataSource">The database.</param>
    /// <param name="schema">The schema name (validated by <see cref="PostgresFlowStorageOptions.Validate"/>).</param>
    /// <param name="upTo">The last version to apply, or null for all.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The versions this call applied.</returns>
    public static async Task<IReadOnlyList<int>> MigrateAsync(NpgsqlDataSource dataSource, string schema, int? upTo, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        var quoted = Quote(schema);
        var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var connectionScope = connection.ConfigureAwait(false);
        var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using var transactionScope = transaction.ConfigureAwait(false);

        // Two processes starting at once: the second waits here until the first has committed, then finds nothing to do.
        using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", connection, transaction))
        {
            lockCommand.Parameters.Add(new NpgsqlParameter { Value = "flow.migrations:" + schema });
            await lockCommand.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        // Create only what is missing (CREATE … IF NOT EXISTS still needs the CREATE privilege when it exists).
        bool schemaExists, tableExists;
        using (var probe = new NpgsqlCommand(
            "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1), to_regclass($2) IS NOT NULL", connection, transaction))
        {
            probe.Parameters.Add(new NpgsqlParameter { Value = schema });
            probe.Parameters.Add(new NpgsqlParameter { Value = quoted + ".schema_migrations" });
            var reader = await probe.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using var readerScope = reader.ConfigureAwait(false);
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            schemaExists = reader.GetBoolean(0);
            tableExists = reader.GetBoolean(1);
        }

        var setup = (schemaExists ? string.Empty : $"CREATE SCHEMA {quoted};\n")
            + (tableExists ? string.Empty : $"CREATE TABLE {quoted}.schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now());");
        if (setup.Length > 0)
        {
            await ExecuteAsync(connection, transaction, setup, cancellationToken).ConfigureAwait(false);
        }

        var applied = new HashSet<int>();
        using (var read = new NpgsqlCommand($"SELECT version FROM {quoted}.schema_migrations", connection, transaction))
        {
            var reader = await read.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using var readerScope = reader.ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                applied.Add(reader.GetInt32(0));
            }
        }

        var done = new List<int>();
        foreach (var migration in All.Where(m => !applied.Contains(m.Version) && (upTo is null || m.Version <= upTo)))
        {
            await ExecuteAsync(connection, transaction, migration.Sql.Replace("{schema}", quoted, StringComparison.Ordinal), cancellationToken).ConfigureAwait(false);
            using var record = new NpgsqlCommand($"INSERT INTO {quoted}.schema_migrations (version, name) VALUES ($1, $2)", connection, transaction);
            record.Parameters.Add(new NpgsqlParameter { Value = migration.Version });
            record.Parameters.Add(new NpgsqlParameter { Value = migration.Name });
            await record.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            done.Add(migration.Version);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return done;
    }

    /// <summary>A schema name as a quoted identifier.</summary>
    /// <param name="schema">A validated schema name.</param>
    /// <returns>The quoted name.</returns>
    public static string Quote(string schema) => "\"" + schema.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, CancellationToken cancellationToken)
    {
        using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
