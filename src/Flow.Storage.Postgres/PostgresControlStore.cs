using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Flow.ControlPlane;
using Flow.Engine.Events;
using Flow.Engine.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using static Flow.Storage.Postgres.PgValues;

namespace Flow.Storage.Postgres;

/// <summary>
/// The control-plane store on PostgreSQL, in the same schema as the state store: <c>deployments</c>, <c>work_pools</c> and
/// <c>control_state</c> (one row per name or key: the record as JSON text and a bigint version from the
/// <c>control_versions</c> sequence) and <c>rejected_run_requests</c>. Each write is one statement whose condition is in its
/// WHERE or ON CONFLICT clause, so a failed condition writes nothing. Thread-safe.
/// </summary>
public sealed partial class PostgresControlStore : IControlStore
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter() },
    };

    private readonly NpgsqlDataSource _dataSource;
    private readonly PostgresFlowStorageOptions _options;
    private readonly PostgresResilience _resilience;
    private readonly string _s;

    /// <summary>Creates the store.</summary>
    /// <param name="dataSource">The database (shared with the state store and queue).</param>
    /// <param name="options">The schema; null for the defaults.</param>
    /// <param name="logger">Where retries are logged; null for none.</param>
    public PostgresControlStore(NpgsqlDataSource dataSource, PostgresFlowStorageOptions? options = null, ILogger<PostgresControlStore>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        _options = options ?? new PostgresFlowStorageOptions();
        _options.Validate();
        _dataSource = dataSource;
        _resilience = new PostgresResilience(dataSource, (ILogger?)logger ?? NullLogger.Instance);
        _s = PostgresMigrations.Quote(_options.Schema);
    }

    /// <inheritdoc />
    public Task InitializeAsync(CancellationToken cancellationToken) =>
        new PostgresFlowStore(_dataSource, _options).InitializeAsync(cancellationToken);

    /// <inheritdoc />
    public Task<Versioned<DeploymentRecord>?> GetDeploymentAsync(string name, CancellationToken cancellationToken)
    {
        ControlStoreContract.ValidateDeploymentName(name);
        return GetAsync<DeploymentRecord>("deployments", "name", name, cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<Versioned<DeploymentRecord>>> ListDeploymentsAsync(CancellationToken cancellationToken) =>
        ListAsync<DeploymentRecord>("deployments", cancellationToken);

    /// <inheritdoc />
    public Task<Versioned<DeploymentRecord>> PutDeploymentAsync(DeploymentRecord deployment, string? expectedVersion, CancellationToken cancellationToken)
    {
        ControlStoreContract.ValidateDeployment(deployment);
        return PutAsync("deployments", deployment.Name, ControlStoreContract.Normalize(deployment), expectedVersion, "Deployment", (b, a) => One(ControlEvents.ForDeployment(b, a, Now)), cancellationToken);
    }

    /// <inheritdoc />
    public Task<bool> DeleteDeploymentAsync(string name, CancellationToken cancellationToken)
    {
        ControlStoreContract.ValidateDeploymentName(name);
        return DeleteAsync<DeploymentRecord>("deployments", name, b => ControlEvents.ForDeployment(b, null, Now), cancellationToken);
    }

    /// <inheritdoc />
    public Task<Versioned<WorkPoolRecord>?> GetWorkPoolAsync(string name, CancellationToken cancellationToken)
    {
        ControlStoreContract.ValidatePoolName(name);
        return GetAsync<WorkPoolRecord>("work_pools", "name", name, cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<Versioned<WorkPoolRecord>>> ListWorkPoolsAsync(CancellationToken cancellationToken) =>
        ListAsync<WorkPoolRecord>("work_pools", cancellationToken);

    /// <inheritdoc />
    public Task<Versioned<WorkPoolRecord>> PutWorkPoolAsync(WorkPoolRecord pool, string? expectedVersion, CancellationToken cancellationToken)
    {
        ControlStoreContract.ValidateWorkPool(pool);
        return PutAsync("work_pools", pool.Name, ControlStoreContract.Normalize(pool), expectedVersion, "Work pool", (b, a) => One(ControlEvents.ForWorkPool(b, a, Now)), cancellationToken);
    }

    /// <inheritdoc />
    public Task<bool> DeleteWorkPoolAsync(string name, CancellationToken cancellationToken)
    {
        ControlStoreContract.ValidatePoolName(name);
        return DeleteAsync<WorkPoolRecord>("work_pools", name, b => ControlEvents.ForWorkPool(b, null, Now), cancellationToken);
    }

    /// <inheritdoc />
    public async Task AddRejectedRequestAsync(RejectedRunRequest request, CancellationToken cancellationToken)
    {
        ControlStoreContract.ValidateRejectedRequest(request);
        cancellationToken.ThrowIfCancellationRequested();
        var copy = ControlStoreContract.Normalize(request);
        var (sql, parameters) = WithEvents(
            $"INSERT INTO {_s}.rejected_run_requests (id, rejected_at, record) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET rejected_at = excluded.rejected_at, record = excluded.record RETURNING 0::bigint AS version",
            [Str(copy.Id), Time(copy.RejectedAt), Str(JsonSerializer.Serialize(copy, Json))],
            [ControlEvents.ForRefusedRequest(copy)]);
        await _resilience.ScalarAsync(sql, parameters, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<RejectedRunRequest>> ListRejectedRequestsAsync(int maxCount, CancellationToken cancellationToken)
    {
        ControlStoreContract.ValidateMaxCount(maxCount);
        var rows = await QueryAsync(
            $"SELECT record, '' FROM {_s}.rejected_run_requests ORDER BY rejected_at DESC, id LIMIT $1", [P(maxCount)], cancellationToken).ConfigureAwait(false);
        return [.. rows.Select(r => JsonSerializer.Deserialize<RejectedRunRequest>(r.Record, Json)!)];
    }

    /// <inheritdoc />
    public async Task<Versioned<string>?> GetStateAsync(string key, CancellationToken cancellationToken)
    {
        ControlStoreContract.ValidateStateKey(key);
        var rows = await QueryAsync($"SELECT record, version::text FROM {_s}.control_state WHERE key = $1", [Str(key)], cancellationToken).ConfigureAwait(false);
        return rows.Count == 0 ? null : new Versioned<string>(rows[0].Record, rows[0].Version);
    }

    /// <inheritdoc />
    public async Task<Versioned<string>> PutStateAsync(string key, string value, string? expectedVersion, CancellationToken cancellationToken)
    {
        ControlStoreContract.ValidateState(key, value);
        var version = await WriteAsync("control_state", "key", key, value, expectedVersion, "State entry", [], cancellationToken).ConfigureAwait(false);
        return new Versioned<string>(value, version);
    }

    private async Task<Versioned<T>?> GetAsync<T>(string table, string keyColumn, string key, CancellationToken cancellationToken)
    {
        var rows = await QueryAsync($"SELECT record, version::text FROM {_s}.{table} WHERE {keyColumn} = $1", [Str(key)], cancellationToken).ConfigureAwait(false);
        return rows.Count == 0 ? null : new Versioned<T>(JsonSerializer.Deserialize<T>(rows[0].Record, Json)!, rows[0].Version);
    }

    private async Task<IReadOnlyList<Versioned<T>>> ListAsync<T>(string table, CancellationToken cancellationToken)
    {
        var rows = await QueryAsync($"SELECT record, version::text FROM {_s}.{table} ORDER BY name", [], cancellationToken).ConfigureAwait(false);
        return [.. rows.Select(r => new Versioned<T>(JsonSerializer.Deserialize<T>(r.Record, Json)!, r.Version))];
    }

    private static DateTimeOffset Now => TimeProvider.System.GetUtcNow();

    private static IReadOnlyList<FlowEvent> One(FlowEvent? flowEvent) => flowEvent is null ? [] : [flowEvent];

    /// <summary>Writes a record keyed by <c>name</c> and the events of the change (from the record it replaces) in one statement.</summary>
    private Task<Versioned<T>> PutAsync<T>(
        string table, string key, T record, string? expectedVersion, string what, Func<T?, T, IReadOnlyList<FlowEvent>> events, CancellationToken cancellationToken)
        where T : class =>
        ControlStoreContract.WriteChangeAsync(
            ct => GetAsync<T>(table, "name", key, ct),
            expectedVersion,
            async (current, condition, ct) =>
            {
                var version = await WriteAsync(table, "name", key, JsonSerializer.Serialize(record, Json), condition, what, events(current?.Record, record), ct).ConfigureAwait(false);
                return new Versioned<T>(record, version);
            },
            cancellationToken);

    /// <summary>One conditional write: null = create or replace, <see cref="IControlStore.MustNotExist"/> = create only, else replace that version only.</summary>
    /// <remarks><paramref name="events"/> are inserted by the same statement, only when the write matched.</remarks>
    private async Task<string> WriteAsync(
        string table, string keyColumn, string key, string document, string? expectedVersion, string what, IReadOnlyList<FlowEvent> events, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var next = $"nextval('{_s}.control_versions')";
        string sql;
        NpgsqlParameter[] parameters;
        if (expectedVersion is null)
        {
            sql = $"INSERT INTO {_s}.{table} ({keyColumn}, version, record) VALUES ($1, {next}, $2) ON CONFLICT ({keyColumn}) DO UPDATE SET version = excluded.version, record = excluded.record, updated_at = now() RETURNING version";
            parameters = [Str(key), Str(document)];
        }
        else if (expectedVersion.Length == 0)
        {
            sql = $"INSERT INTO {_s}.{table} ({keyColumn}, version, record) VALUES ($1, {next}, $2) ON CONFLICT ({keyColumn}) DO NOTHING RETURNING version";
            parameters = [Str(key), Str(document)];
        }
        else if (long.TryParse(expectedVersion, NumberStyles.None, CultureInfo.InvariantCulture, out var expected))
        {
            sql = $"UPDATE {_s}.{table} SET version = {next}, record = $2, updated_at = now() WHERE {keyColumn} = $1 AND version = $3 RETURNING version";
            parameters = [Str(key), Str(document), P(expected)];
        }
        else
        {
            throw new ConcurrencyException($"{what} '{key}' has no version '{expectedVersion}' (not a version of this store); nothing was written.");
        }

        (sql, parameters) = WithEvents(sql, parameters, events);
        return await _resilience.ScalarAsync(sql, parameters, cancellationToken).ConfigureAwait(false) is long version
            ? version.ToString(CultureInfo.InvariantCulture)
            : throw new ConcurrencyException(
                expectedVersion is { Length: 0 } ? $"{what} '{key}' already exists; nothing was written." : $"{what} '{key}' is not at version {expectedVersion} (or does not exist); nothing was written.");
    }

    /// <summary>Wraps a write <c>… RETURNING version</c> so the same statement inserts <paramref name="events"/> when it wrote a row (the outbox).</summary>
    private (string Sql, NpgsqlParameter[] Parameters) WithEvents(string sql, NpgsqlParameter[] parameters, IReadOnlyList<FlowEvent> events)
    {
        if (events.Count == 0)
        {
            return (sql, parameters);
        }

        var all = parameters.ToList();
        var insert = PostgresEventSql.Insert(_s, events, all, "w, ");
        return ($"WITH w AS ({sql}),\nev AS ({insert})\nSELECT version FROM w", [.. all]);
    }

    /// <summary>Deletes the row keyed by <c>name</c> and inserts the deletion's event in one statement, conditioned on the version read.</summary>
    private Task<bool> DeleteAsync<T>(string table, string name, Func<T, FlowEvent?> deleted, CancellationToken cancellationToken)
        where T : class =>
        ControlStoreContract.DeleteChangeAsync(
            ct => GetAsync<T>(table, "name", name, ct),
            async (current, ct) =>
            {
                var version = long.Parse(current.Version, NumberStyles.None, CultureInfo.InvariantCulture);
                var (sql, parameters) = WithEvents(
                    $"DELETE FROM {_s}.{table} WHERE name = $1 AND version = $2 RETURNING version", [Str(name), P(version)], One(deleted(current.Record)));
                if (await _resilience.ScalarAsync(sql, parameters, ct).ConfigureAwait(false) is not long)
                {
                    throw new ConcurrencyException($"'{name}' changed while it was being deleted.");
                }
            },
            cancellationToken);

    private async Task<List<(string Record, string Version)>> QueryAsync(string sql, NpgsqlParameter[] parameters, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return await _resilience.ReadAsync(
            async (connection, ct) =>
            {
                using var command = PostgresResilience.Command(sql, connection, parameters.Select(p => p.Clone()));
                var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
                await using var readerScope = reader.ConfigureAwait(false);
                var rows = new List<(string, string)>();
                while (await reader.ReadAsync(ct).ConfigureAwait(false))
                {
                    rows.Add((reader.GetString(0), reader.GetString(1)));
                }

                return rows;
            },
            cancellationToken).ConfigureAwait(false);
    }
}
