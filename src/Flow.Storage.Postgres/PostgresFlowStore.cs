using System.Buffers.Text;
using System.Data.Common;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Flow.Engine.Events;
using Flow.Engine.Storage;
using Flow.Sdk;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using static Flow.Storage.Postgres.PgValues;

namespace Flow.Storage.Postgres;

/// <summary>
/// The flow state store on PostgreSQL (docs/postgresql.md): one row per run in <c>runs</c> with a bigint row
/// version, and the run's state history, journal, inbox, log lines and artifacts in tables of their own keyed by run id.
/// A commit is one SQL statement — the run row updated where the version still matches, plus everything appended with it
/// in data-modifying CTEs joined to that update — so it is one transaction and one round trip, and a stale version
/// writes nothing. Listing is keyset pagination on <c>(created_at DESC, run_id)</c> over indexes per filter.
/// </summary>
/// <remarks>
/// Reads are retried on a fresh connection when the connection breaks (a server restart); writes are not (a lost answer
/// would make a retried commit ambiguous): they throw, the episode fails, and its work item is delivered again.
/// Thread-safe; create one per database and schema and keep it.
/// </remarks>
public sealed partial class PostgresFlowStore : IFlowStore, IRunRetention
{
    private const string TokenPrefix = "pg1.";
    private const string LateTokenPrefix = "pglate1.";
    private const string LogTokenPrefix = "pglog.";

    private static readonly string[] FinalStates = [.. Enum.GetValues<RunState>().Where(s => s.IsFinal()).Select(s => s.ToString())];

    private readonly NpgsqlDataSource _dataSource;
    private readonly PostgresFlowStorageOptions _options;
    private readonly ILogger _logger;
    private readonly PostgresResilience _resilience;
    private readonly string _s;

    /// <summary>Creates the store.</summary>
    /// <param name="dataSource">The database (shared with the work queue; see <see cref="PostgresConnection.CreateDataSource"/>).</param>
    /// <param name="options">Schema and limits; null for the defaults.</param>
    /// <param name="logger">Where retries and migrations are logged; null for none.</param>
    public PostgresFlowStore(NpgsqlDataSource dataSource, PostgresFlowStorageOptions? options = null, ILogger<PostgresFlowStore>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        _options = options ?? new PostgresFlowStorageOptions();
        _options.Validate();
        _dataSource = dataSource;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _resilience = new PostgresResilience(dataSource, _logger);
        _s = PostgresMigrations.Quote(_options.Schema);
    }

    /// <inheritdoc />
    public int MaxItemsPerCommit => _options.MaxItemsPerCommit;

    /// <inheritdoc />
    public int MaxPayloadBytes => _options.MaxPayloadBytes;

    /// <summary>The schema holding the tables.</summary>
    public string Schema => _options.Schema;

    /// <summary>Where the store is, for messages: host, port, database, user and the setting (never the password).</summary>
    public string Server => PostgresConnection.Describe(_dataSource);

    /// <summary>Creates or migrates the schema (<c>schema_migrations</c>, under an advisory lock; safe when several processes start at once).</summary>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task.</returns>
    /// <exception cref="PostgresStorageException">The server cannot be reached or refuses the login; the message names the server and setting, never the password.</exception>
    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        try
        {
            var applied = await _resilience.ReadAsync(
                ct => PostgresMigrations.MigrateAsync(_dataSource, _options.Schema, null, ct), cancellationToken).ConfigureAwait(false);
            foreach (var version in applied)
            {
                PostgresStorageLog.MigrationApplied(_logger, _options.Schema, version, PostgresMigrations.All.First(m => m.Version == version).Name);
            }
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException && !cancellationToken.IsCancellationRequested)
        {
            throw new PostgresStorageException($"Cannot prepare the Flow schema '{_options.Schema}' in {PostgresConnection.Describe(_dataSource)}: {e.Message}", e) { SettingName = PostgresConnection.SettingOf(_dataSource) };
        }
    }

    /// <inheritdoc />
    public async Task<(StoredRun Run, bool Created)> CreateRunAsync(FlowRunRecord run, StateTransition firstTransition, CancellationToken cancellationToken)
    {
        StorageContract.ValidateNewRun(run, firstTransition);
        StorageContract.ValidatePayloads(run, MaxPayloadBytes);
        cancellationToken.ThrowIfCancellationRequested();
        var stored = StorageContract.Normalize(run);
        var parameters = new List<NpgsqlParameter> { Str(stored.RunId), Str(stored.FlowName), Time(stored.CreatedAt) };
        AddMutable(parameters, stored);
        var values = string.Join(", ", Enumerable.Range(1, parameters.Count).Select(i => "$" + i.ToString(CultureInfo.InvariantCulture)));
        var t = parameters.Count;
        parameters.AddRange([P(firstTransition.Index), Str(firstTransition.From?.ToString()), Str(firstTransition.To.ToString()), Time(StorageContract.NormalizeTime(firstTransition.Timestamp)), Str(firstTransition.Message), P(firstTransition.Attempt)]);
        var sql = $"""
            WITH r AS (
                INSERT INTO {_s}.runs (run_id, flow_name, created_at, {string.Join(", ", MutableColumns)}, version)
                VALUES ({values}, 1)
                ON CONFLICT (run_id) DO NOTHING
                RETURNING run_id, version),
            t AS (
                INSERT INTO {_s}.state_transitions (run_id, idx, from_state, to_state, at, message, attempt)
                SELECT r.run_id, ${t + 1}, ${t + 2}, ${t + 3}, ${t + 4}, ${t + 5}, ${t + 6} FROM r),
            ev AS ({PostgresEventSql.Insert(_s, [RunEvents.For(stored, StorageContract.Normalize(firstTransition))], parameters, "r, ")})
            SELECT version FROM r
            """;
        var version = await _resilience.ScalarAsync(sql, [.. parameters], cancellationToken).ConfigureAwait(false);
        if (version is long created)
        {
            return (new StoredRun(stored, Version(created)), true);
        }

        // It exists (or a concurrent creation won): return it as it is.
        return (await GetRunAsync(run.RunId, cancellationToken).ConfigureAwait(false)
            ?? throw new ConcurrencyException($"Run '{run.RunId}' was created and deleted concurrently."), false);
    }

    /// <inheritdoc />
    public async Task<StoredRun?> GetRunAsync(string runId, CancellationToken cancellationToken)
    {
        var rows = await QueryRunAsync(runId, $"SELECT {RunColumns} FROM {_s}.runs WHERE run_id = $1", [], ReadRun, cancellationToken).ConfigureAwait(false);
        return rows.FirstOrDefault();
    }

    /// <inheritdoc />
    public async Task<StoredRun> CommitAsync(RunCommit commit, CancellationToken cancellationToken)
    {
        StorageContract.ValidateCommit(commit, MaxItemsPerCommit);
        StorageContract.ValidatePayloads(commit, MaxPayloadBytes);
        cancellationToken.ThrowIfCancellationRequested();
        var run = StorageContract.Normalize(commit.Run);
        if (!long.TryParse(commit.ExpectedVersion, NumberStyles.None, CultureInfo.InvariantCulture, out var expected))
        {
            throw new ConcurrencyException($"Run '{run.RunId}' has no version '{commit.ExpectedVersion}' (not a version of this store); nothing was written.");
        }

        var (sql, parameters) = BuildCommit(commit, run, expected);
        object? result;
        try
        {
            result = await _resilience.ScalarAsync(sql, parameters, cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation && string.Equals(e.TableName, "inbox", StringComparison.Ordinal))
        {
            throw new DuplicateInboxItemException(
                $"Run '{run.RunId}' already has one of the inbox items {string.Join(", ", commit.InboxToAdd.Select(i => "'" + i.Id + "'"))}; nothing was written.", e);
        }

        return result is long version
            ? new StoredRun(run, Version(version))
            : throw new ConcurrencyException($"Run '{run.RunId}' changed since version {commit.ExpectedVersion} (or does not exist); nothing was written.");
    }

    /// <inheritdoc />
    public async Task<RunJournal> LoadJournalAsync(FlowRunRecord run, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        cancellationToken.ThrowIfCancellationRequested();
        if (!IsValidRunId(run.RunId))
        {
            return new RunJournal([], []);
        }

        // One round trip: the events of the attempt and the pending inbox, as a batch.
        return await _resilience.ReadAsync(
            async (connection, ct) =>
            {
                using var batch = new NpgsqlBatch(connection);
                var events = new NpgsqlBatchCommand($"SELECT {EventColumns} FROM {_s}.journal_events WHERE run_id = $1 AND attempt = $2 AND idx BETWEEN 1 AND $3 ORDER BY idx");
                events.Parameters.AddRange(new NpgsqlParameter[] { Str(run.RunId), P(run.Attempt), P(run.JournalLength) });
                var inbox = new NpgsqlBatchCommand($"SELECT {InboxColumns} FROM {_s}.inbox WHERE run_id = $1 ORDER BY delivered_at, item_id");
                inbox.Parameters.Add(Str(run.RunId));
                batch.BatchCommands.Add(events);
                batch.BatchCommands.Add(inbox);
                var reader = await batch.ExecuteReaderAsync(ct).ConfigureAwait(false);
                await using var readerScope = reader.ConfigureAwait(false);
                var list = new List<JournalEvent>(run.JournalLength);
                while (await reader.ReadAsync(ct).ConfigureAwait(false))
                {
                    var e = ReadEvent(reader);
                    if (e.Index == list.Count + 1)
                    {
                        list.Add(e); // 1..JournalLength, up to the first gap
                    }
                }

                await reader.NextResultAsync(ct).ConfigureAwait(false);
                var items = new List<InboxItem>();
                while (await reader.ReadAsync(ct).ConfigureAwait(false))
                {
                    items.Add(ReadInbox(reader));
                }

                return new RunJournal(list, items);
            },
            cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<JournalEvent?> GetJournalEventAsync(string runId, int attempt, int index, CancellationToken cancellationToken)
    {
        var rows = await QueryRunAsync(
            runId,
            $"SELECT {EventColumns} FROM {_s}.journal_events WHERE run_id = $1 AND attempt = $2 AND idx = $3",
            [P(attempt), P(index)],
            ReadEvent,
            cancellationToken).ConfigureAwait(false);
        return rows.FirstOrDefault();
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<StateTransition>> GetStateHistoryAsync(string runId, CancellationToken cancellationToken)
    {
        return await QueryRunAsync(
            runId,
            $"SELECT idx, from_state, to_state, at, message, attempt FROM {_s}.state_transitions WHERE run_id = $1 ORDER BY idx",
            [],
            r => new StateTransition(
                r.GetInt32(0),
                r.IsDBNull(1) ? null : ParseEnum<RunState>(r.GetString(1)),
                ParseEnum<RunState>(r.GetString(2)),
                GetTime(r, 3),
                GetStringOrNull(r, 4),
                r.GetInt32(5)),
            cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<RunPage> ListRunsAsync(RunQuery query, CancellationToken cancellationToken)
    {
        StorageContract.ValidateRunQuery(query);
        var (sql, parameters) = BuildListQuery(query);
        cancellationToken.ThrowIfCancellationRequested();
        var rows = await QueryAsync(sql, parameters, ReadRun, cancellationToken).ConfigureAwait(false);
        if (rows.Count <= query.PageSize)
        {
            return new RunPage([.. rows.Select(r => r.Record)], null);
        }

        var page = rows.Take(query.PageSize).Select(r => r.Record).ToArray();
        return new RunPage(page, RunToken(page[^1], query.LateCutoff is not null));
    }

    /// <summary>
    /// The statement <see cref="ListRunsAsync"/> sends: keyset pagination over the index of the most selective filter. Late runs
    /// (<see cref="RunQuery.LateCutoff"/>) are read from the partial index <c>runs_late</c> (scheduled time, only runs that can be
    /// Late), newest scheduled first; tag conditions use the GIN index <c>runs_by_tags</c> (<c>@&gt;</c> for key=value, <c>?</c> for a key).
    /// </summary>
    internal (string Sql, List<NpgsqlParameter> Parameters) BuildListQuery(RunQuery query)
    {
        var late = query.LateCutoff is not null;
        var order = late ? "scheduled_at" : "created_at";
        var after = query.ContinuationToken is { } token ? ParseRunToken(token, late) : default((DateTimeOffset At, string RunId)?);
        var where = new List<string>();
        var parameters = new List<NpgsqlParameter>();
        string Next(NpgsqlParameter parameter)
        {
            parameters.Add(parameter);
            return "$" + parameters.Count.ToString(CultureInfo.InvariantCulture);
        }

        if (query.State is { } state)
        {
            where.Add("state = " + Next(Str(state.ToString())));
        }

        if (query.LateCutoff is { } cutoff)
        {
            // The predicate of the partial index runs_late, then the cut-off (LateRuns.IsLateAsOf).
            where.Add("state IN ('Scheduled', 'Pending') AND started_at IS NULL AND scheduled_at < " + Next(Time(CeilingMicrosecond(cutoff))));
        }

        foreach (var tag in query.Tags)
        {
            where.Add(tag.Value is null
                ? "tags ? " + Next(Str(tag.Key))
                : "tags @> " + Next(new NpgsqlParameter { NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Jsonb, Value = JsonSerializer.Serialize(new Dictionary<string, string> { [tag.Key] = tag.Value }) }));
        }

        if (query.FlowName is { } flow)
        {
            where.Add("flow_name = " + Next(Str(flow)));
        }

        if (query.Deployment is { } deployment)
        {
            where.Add("deployment = " + Next(Str(deployment)));
        }

        if (query.CreatedFrom is { } from)
        {
            where.Add("created_at >= " + Next(Time(CeilingMicrosecond(from))));
        }

        if (query.CreatedBefore is { } before)
        {
            where.Add("created_at < " + Next(Time(CeilingMicrosecond(before))));
        }

        if (after is { } position)
        {
            var at = Next(Time(position.At));
            var id = Next(Str(position.RunId));
            where.Add($"{order} <= {at} AND ({order} < {at} OR run_id > {id})");
        }

        var limit = Next(P(query.PageSize + 1));
        var sql = $"SELECT {RunColumns} FROM {_s}.runs{(where.Count > 0 ? " WHERE " + string.Join(" AND ", where) : string.Empty)} ORDER BY {order} DESC, run_id LIMIT {limit}";
        return (sql, parameters);
    }

    /// <inheritdoc />
    public async Task<LogPage> GetLogsAsync(string runId, int pageSize, string? continuationToken, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(runId);
        StorageContract.ValidatePageSize(pageSize);
        var from = continuationToken is null ? 1 : ParseLogToken(continuationToken);
        var rows = await QueryRunAsync(
            runId,
            $"SELECT line_no, logged_at, level, message, call_id, attempt FROM {_s}.run_logs WHERE run_id = $1 AND line_no >= $2 ORDER BY line_no LIMIT $3",
            [P(from), P(pageSize + 1)],
            r => (Number: r.GetInt32(0), Line: new RunLogLine(GetTime(r, 1), r.GetString(2), r.GetString(3), r.GetInt32(4), r.GetInt32(5))),
            cancellationToken).ConfigureAwait(false);
        return rows.Count <= pageSize
            ? new LogPage([.. rows.Select(r => r.Line)], null)
            : new LogPage([.. rows.Take(pageSize).Select(r => r.Line)], LogTokenPrefix + rows[pageSize].Number.ToString(CultureInfo.InvariantCulture));
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<RunArtifact>> GetArtifactsAsync(string runId, CancellationToken cancellationToken)
    {
        return await QueryRunAsync(
            runId,
            $"SELECT artifact_key, type, data, description, created_at, call_id FROM {_s}.artifacts WHERE run_id = $1 ORDER BY artifact_key",
            [],
            r => new RunArtifact(r.GetString(0), ParseEnum<ArtifactType>(r.GetString(1)), r.GetString(2), GetStringOrNull(r, 3), GetTime(r, 4), r.GetInt32(5)),
            cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<CacheEntry?> GetCacheEntryAsync(string key, CancellationToken cancellationToken)
    {
        StorageContract.ValidateCacheKey(key);
        cancellationToken.ThrowIfCancellationRequested();
        var rows = await QueryAsync(
            $"SELECT cache_key, value, task_name, run_id, created_at, expires_at FROM {_s}.task_cache WHERE key_hash = $1",
            [P(KeyHash(key))],
            r => new CacheEntry(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), GetTime(r, 4), GetTimeOrNull(r, 5)),
            cancellationToken).ConfigureAwait(false);
        return rows.FirstOrDefault(e => string.Equals(e.Key, Text(key), StringComparison.Ordinal)) is { } entry ? entry with { Key = key } : null;
    }

    /// <inheritdoc />
    public async Task PutCacheEntryAsync(CacheEntry entry, CancellationToken cancellationToken)
    {
        StorageContract.ValidateCacheEntry(entry, MaxPayloadBytes);
        cancellationToken.ThrowIfCancellationRequested();
        var e = StorageContract.Normalize(entry);
        await _resilience.ExecuteAsync(
            $"""
            INSERT INTO {_s}.task_cache (key_hash, cache_key, value, task_name, run_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
            ON CONFLICT (key_hash) DO UPDATE SET cache_key = excluded.cache_key, value = excluded.value, task_name = excluded.task_name,
                run_id = excluded.run_id, created_at = excluded.created_at, expires_at = excluded.expires_at
            """,
            [P(KeyHash(e.Key)), Str(e.Key), Str(e.Value), Str(e.TaskName), Str(e.RunId), Time(e.CreatedAt), Time(e.ExpiresAt)],
            cancellationToken).ConfigureAwait(false);
    }

    private static StoredRun ReadRun(DbDataReader r)
    {
        var record = new FlowRunRecord
        {
            RunId = r.GetString(0),
            FlowName = r.GetString(1),
            CreatedAt = GetTime(r, 2),
            Pool = r.GetString(4),
            Deployment = GetStringOrNull(r, 5),
            State = ParseEnum<RunState>(r.GetString(6)),
            StateMessage = GetStringOrNull(r, 7),
            StateTime = GetTime(r, 8),
            Attempt = r.GetInt32(9),
            JournalLength = r.GetInt32(10),
            TransitionCount = r.GetInt32(11),
            LogCount = r.GetInt32(12),
            Parameters = GetStringOrNull(r, 13),
            Result = GetStringOrNull(r, 14),
            Failure = GetFailure(r, 15),
            Tags = JsonSerializer.Deserialize<Dictionary<string, string>>(r.GetString(18)) is { Count: > 0 } tags
                ? tags.ToFrozenTags()
                : FlowRunRecord.EmptyTags,
            ParentRunId = GetStringOrNull(r, 19),
            ParentAttempt = r.GetInt32(20),
            ParentCallId = r.GetInt32(21),
            ScheduledAt = GetTime(r, 22),
            StartedAt = GetTimeOrNull(r, 23),
            EndedAt = GetTimeOrNull(r, 24),
            LeaseOwner = GetStringOrNull(r, 25),
            LeaseUntil = GetTimeOrNull(r, 26),
            WakeRequested = r.GetBoolean(27),
            CancelRequested = r.GetBoolean(28),
            WakeAt = GetTimeOrNull(r, 29),
            HeartbeatAt = GetTimeOrNull(r, 30),
            FlowVersion = GetStringOrNull(r, 31),
            HookPending = r.GetBoolean(32),
        };
        return new StoredRun(record, Version(r.GetInt64(3)));
    }

    private static JournalEvent ReadEvent(DbDataReader r) => new()
    {
        Index = r.GetInt32(0),
        Kind = ParseEnum<JournalEventKind>(r.GetString(1)),
        CallId = r.GetInt32(2),
        Name = GetStringOrNull(r, 3),
        Attempt = r.GetInt32(4),
        State = r.IsDBNull(5) ? null : ParseEnum<RunState>(r.GetString(5)),
        Timestamp = GetTime(r, 6),
        StartedAt = GetTimeOrNull(r, 7),
        DueAt = GetTimeOrNull(r, 8),
        Payload = GetStringOrNull(r, 9),
        Failure = GetFailure(r, 10),
        Detail = GetStringOrNull(r, 13),
    };

    private static InboxItem ReadInbox(DbDataReader r) => new()
    {
        Id = r.GetString(0),
        Kind = ParseEnum<InboxItemKind>(r.GetString(1)),
        RunAttempt = r.GetInt32(2),
        CallId = r.GetInt32(3),
        Attempt = r.GetInt32(4),
        Name = GetStringOrNull(r, 5),
        Payload = GetStringOrNull(r, 6),
        Failure = GetFailure(r, 7),
        StartedAt = GetTimeOrNull(r, 10),
        Timestamp = GetTime(r, 11),
        Detail = GetStringOrNull(r, 12),
    };

    // ---------------------------------------------------------------- helpers

    /// <summary>Reads rows of one run (<c>$1</c> is the run id, <paramref name="parameters"/> follow); none for an id no run can have.</summary>
    private async Task<List<T>> QueryRunAsync<T>(string runId, string sql, NpgsqlParameter[] parameters, Func<DbDataReader, T> read, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(runId);
        cancellationToken.ThrowIfCancellationRequested();
        return IsValidRunId(runId) ? await QueryAsync(sql, [Str(runId), .. parameters], read, cancellationToken).ConfigureAwait(false) : [];
    }

    private Task<List<T>> QueryAsync<T>(string sql, IReadOnlyList<NpgsqlParameter> parameters, Func<DbDataReader, T> read, CancellationToken cancellationToken) =>
        _resilience.QueryAsync(sql, parameters, read, cancellationToken);

    /// <summary>Stored times are whole microseconds, so "at or after t" and "before t" compare with t rounded up to a whole microsecond.</summary>
    private static DateTimeOffset CeilingMicrosecond(DateTimeOffset time)
    {
        var ticks = time.UtcTicks;
        var rest = ticks % TimeSpan.TicksPerMicrosecond;
        return new DateTimeOffset(rest == 0 || ticks > DateTimeOffset.MaxValue.UtcTicks - TimeSpan.TicksPerMicrosecond ? ticks - rest : ticks - rest + TimeSpan.TicksPerMicrosecond, TimeSpan.Zero);
    }

    private static string Version(long version) => version.ToString(CultureInfo.InvariantCulture);

    private static byte[] KeyHash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    private static bool IsValidRunId(string runId) =>
        runId.Length is > 0 and <= StorageContract.MaxRunIdLength && runId.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');

    /// <summary>A page token: the last run's creation time (or, for Late lists, scheduled time, behind <see cref="LateTokenPrefix"/>) in microseconds and its id.</summary>
    private static string RunToken(FlowRunRecord run, bool late) =>
        (late ? LateTokenPrefix : TokenPrefix)
        + Base64Url.EncodeToString(Encoding.UTF8.GetBytes(((late ? run.ScheduledAt : run.CreatedAt).UtcTicks / TimeSpan.TicksPerMicrosecond).ToString(CultureInfo.InvariantCulture) + "|" + run.RunId));

    private static (DateTimeOffset At, string RunId) ParseRunToken(string token, bool late)
    {
        var prefix = late ? LateTokenPrefix : TokenPrefix;
        if (token.StartsWith(prefix, StringComparison.Ordinal))
        {
            try
            {
                var text = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(token.AsSpan(prefix.Length)));
                var bar = text.IndexOf('|', StringComparison.Ordinal);
                if (bar > 0 && long.TryParse(text.AsSpan(0, bar), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var micros)
                    && micros >= 0 && micros <= DateTimeOffset.MaxValue.UtcTicks / TimeSpan.TicksPerMicrosecond && IsValidRunId(text[(bar + 1)..]))
                {
                    return (new DateTimeOffset(micros * TimeSpan.TicksPerMicrosecond, TimeSpan.Zero), text[(bar + 1)..]);
                }
            }
            catch (FormatException)
            {
            }
        }

        throw new ArgumentException($"'{token}' is not a run-list continuation token of this store.", nameof(token));
    }

    private static int ParseLogToken(string token) =>
        token.StartsWith(LogTokenPrefix, StringComparison.Ordinal)
        && int.TryParse(token.AsSpan(LogTokenPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var from)
        && from >= 1
            ? from
            : throw new ArgumentException($"'{token}' is not a log continuation token of this store.", nameof(token));
}
