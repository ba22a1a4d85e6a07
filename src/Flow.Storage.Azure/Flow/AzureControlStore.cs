using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Flow.ControlPlane;
using Flow.Engine.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ETag = Azure.ETag;
using RequestFailedException = Azure.RequestFailedException;
using SdkTableClient = Azure.Data.Tables.TableClient;
using SdkTableEntity = Azure.Data.Tables.TableEntity;
using SdkTableServiceClient = Azure.Data.Tables.TableServiceClient;
using SdkTableTransactionAction = Azure.Data.Tables.TableTransactionAction;
using SdkTableTransactionActionType = Azure.Data.Tables.TableTransactionActionType;
using SdkTableUpdateMode = Azure.Data.Tables.TableUpdateMode;

namespace Flow.Storage.Azure;

/// <summary>
/// The control-plane store on Azure Table storage (docs/azure-storage.md), laid out for a person browsing Storage Explorer:
/// <c>{prefix}Deployments</c> (PartitionKey = flow name, RowKey = deployment name), <c>{prefix}WorkPools</c>
/// (PartitionKey <c>pool</c>, RowKey = pool name), <c>{prefix}RunRequestsRejected</c> (one partition per day, newest day
/// first, RowKey = inverted ticks so each day reads newest first) and <c>{prefix}State</c> (PartitionKey = the key up to its
/// first ':', RowKey = the whole key). Versions are the entities' ETags. Runs on the Azure SDK's <c>TableClient</c>.
/// </summary>
/// <remarks>
/// <para>Every write is one request, except <see cref="AddRejectedRequestAsync"/>, which keeps an id row to replace an
/// earlier request with the same id (read the id row, write the request and the id row, delete the earlier request). Names
/// and keys are ASCII letters, digits and '-', '_', '.', ':' (<see cref="ControlStoreContract"/>), all valid in table keys
/// as they are, so keys need no escaping. Records are few: listing deployments and pools reads their whole (small) table.</para>
/// <para>Thread-safe; create one per account and keep it.</para>
/// </remarks>
public sealed partial class AzureControlStore : IControlStore
{
    private const string PoolPartition = "pool";
    private const string RejectedIdPartition = "id";

    /// <summary>Day partitions start with a digit; the id rows' partition sorts after them and is left out of listings.</summary>
    private const string AfterDayPartitions = ":";

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, // stored text, never HTML: keep it readable in Storage Explorer
    };

    private readonly SdkTableClient _deployments;
    private readonly SdkTableClient _pools;
    private readonly SdkTableClient _rejected;
    private readonly SdkTableClient _state;
    private readonly SdkTableClient _automations;
    private readonly SdkTableClient _firings;
    private readonly ILogger _logger;
    private readonly AzureEventStore _events;
    private readonly bool _relayAfterCommit;

    /// <summary>Creates the store.</summary>
    /// <param name="tables">The account's Table service.</param>
    /// <param name="options">Table names (from <see cref="AzureFlowStorageOptions.TablePrefix"/>); null for the defaults.</param>
    /// <param name="logger">Where clean-up problems are logged; null for none.</param>
    /// <param name="events">The event store its outbox relays to (share the flow store's); null for one on the same tables.</param>
    public AzureControlStore(SdkTableServiceClient tables, AzureFlowStorageOptions? options = null, ILogger<AzureControlStore>? logger = null, AzureEventStore? events = null)
    {
        ArgumentNullException.ThrowIfNull(tables);
        options ??= new AzureFlowStorageOptions();
        options.Validate();
        _deployments = tables.GetTableClient(options.DeploymentsTable);
        _pools = tables.GetTableClient(options.WorkPoolsTable);
        _rejected = tables.GetTableClient(options.RejectedRequestsTable);
        _state = tables.GetTableClient(options.StateTable);
        _automations = tables.GetTableClient(options.AutomationsTable);
        _firings = tables.GetTableClient(options.AutomationFiringsTable);
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _events = events ?? new AzureEventStore(tables, options);
        _relayAfterCommit = options.RelayAfterCommit;
    }

    /// <summary>The event store its outbox relays to.</summary>
    public AzureEventStore Events => _events;

    /// <summary>The deployments table.</summary>
    public SdkTableClient DeploymentsTable => _deployments;

    /// <summary>The work pools table.</summary>
    public SdkTableClient WorkPoolsTable => _pools;

    /// <summary>The table of refused run requests.</summary>
    public SdkTableClient RejectedRequestsTable => _rejected;

    /// <summary>The table of state entries.</summary>
    public SdkTableClient StateTable => _state;

    /// <inheritdoc />
    public Task InitializeAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.WhenAll(
            _deployments.CreateIfNotExistsAsync(cancellationToken),
            _pools.CreateIfNotExistsAsync(cancellationToken),
            _rejected.CreateIfNotExistsAsync(cancellationToken),
            _state.CreateIfNotExistsAsync(cancellationToken),
            _automations.CreateIfNotExistsAsync(cancellationToken),
            _firings.CreateIfNotExistsAsync(cancellationToken),
            _events.InitializeAsync(cancellationToken));
    }

    /// <inheritdoc />
    public async Task<Versioned<DeploymentRecord>?> GetDeploymentAsync(string name, CancellationToken cancellationToken)
    {
        var (flow, deployment) = ControlStoreContract.ValidateDeploymentName(name);
        cancellationToken.ThrowIfCancellationRequested();
        var row = await GetIfExistsAsync(_deployments, flow, deployment, cancellationToken).ConfigureAwait(false);
        return row is null ? null : new(ReadDeployment(row), row.ETag.ToString());
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<Versioned<DeploymentRecord>>> ListDeploymentsAsync(CancellationToken cancellationToken)
    {
        var rows = await QueryAsync(_deployments, TableFilter.LessThan("RowKey", OutboxStart), int.MaxValue, cancellationToken).ConfigureAwait(false);
        return [.. rows.Select(r => new Versioned<DeploymentRecord>(ReadDeployment(r), r.ETag.ToString())).OrderBy(d => d.Record.Name, StringComparer.Ordinal)];
    }

    /// <inheritdoc />
    public async Task<Versioned<DeploymentRecord>> PutDeploymentAsync(DeploymentRecord deployment, string? expectedVersion, CancellationToken cancellationToken)
    {
        ControlStoreContract.ValidateDeployment(deployment);
        var record = ControlStoreContract.Normalize(deployment);
        return await ControlStoreContract.WriteChangeAsync(
            ct => GetDeploymentAsync(record.Name, ct),
            expectedVersion,
            async (current, condition, ct) => new Versioned<DeploymentRecord>(
                record,
                await WriteWithEventsAsync(_deployments, DeploymentRow(record), condition, $"Deployment '{record.Name}'", One(ControlEvents.ForDeployment(current?.Record, record, Now)), ct).ConfigureAwait(false)),
            cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task<bool> DeleteDeploymentAsync(string name, CancellationToken cancellationToken)
    {
        var (flow, deployment) = ControlStoreContract.ValidateDeploymentName(name);
        return ControlStoreContract.DeleteChangeAsync(
            ct => GetDeploymentAsync(name, ct),
            (current, ct) => DeleteWithEventAsync(_deployments, flow, deployment, current.Version, ControlEvents.ForDeployment(current.Record, null, Now), ct),
            cancellationToken);
    }

    /// <inheritdoc />
    public async Task<Versioned<WorkPoolRecord>?> GetWorkPoolAsync(string name, CancellationToken cancellationToken)
    {
        ControlStoreContract.ValidatePoolName(name);
        cancellationToken.ThrowIfCancellationRequested();
        var row = await GetIfExistsAsync(_pools, PoolPartition, name, cancellationToken).ConfigureAwait(false);
        return row is null ? null : new(ReadPool(row), row.ETag.ToString());
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<Versioned<WorkPoolRecord>>> ListWorkPoolsAsync(CancellationToken cancellationToken)
    {
        var rows = await QueryAsync(_pools, SdkTableClient.CreateQueryFilter($"PartitionKey eq {PoolPartition} and RowKey lt {OutboxStart}"), int.MaxValue, cancellationToken).ConfigureAwait(false);
        return [.. rows.Select(r => new Versioned<WorkPoolRecord>(ReadPool(r), r.ETag.ToString())).OrderBy(p => p.Record.Name, StringComparer.Ordinal)];
    }

    /// <inheritdoc />
    public async Task<Versioned<WorkPoolRecord>> PutWorkPoolAsync(WorkPoolRecord pool, string? expectedVersion, CancellationToken cancellationToken)
    {
        ControlStoreContract.ValidateWorkPool(pool);
        var record = ControlStoreContract.Normalize(pool);
        var row = new SdkTableEntity(PoolPartition, record.Name)
        {
            ["Name"] = record.Name,
            ["Type"] = record.Type,
            ["Paused"] = record.Paused,
        };
        SetIfNotNull(row, "Description", record.Description);
        SetIfNotNull(row, "ConcurrencyLimit", record.ConcurrencyLimit);
        SetIfNotNull(row, "AllowedCommands", record.AllowedCommands is { } allowed ? JsonSerializer.Serialize(allowed, Json) : null);
        FlowEntities.SetTime(row, "CreatedAt", record.CreatedAt);
        FlowEntities.SetTime(row, "UpdatedAt", record.UpdatedAt);
        return await ControlStoreContract.WriteChangeAsync(
            ct => GetWorkPoolAsync(record.Name, ct),
            expectedVersion,
            async (current, condition, ct) => new Versioned<WorkPoolRecord>(
                record,
                await WriteWithEventsAsync(_pools, row, condition, $"Work pool '{record.Name}'", One(ControlEvents.ForWorkPool(current?.Record, record, Now)), ct).ConfigureAwait(false)),
            cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task<bool> DeleteWorkPoolAsync(string name, CancellationToken cancellationToken)
    {
        ControlStoreContract.ValidatePoolName(name);
        return ControlStoreContract.DeleteChangeAsync(
            ct => GetWorkPoolAsync(name, ct),
            (current, ct) => DeleteWithEventAsync(_pools, PoolPartition, name, current.Version, ControlEvents.ForWorkPool(current.Record, null, Now), ct),
            cancellationToken);
    }

    /// <inheritdoc />
    public async Task AddRejectedRequestAsync(RejectedRunRequest request, CancellationToken cancellationToken)
    {
        ControlStoreContract.ValidateRejectedRequest(request);
        cancellationToken.ThrowIfCancellationRequested();
        var record = ControlStoreContract.Normalize(request);
        var row = new SdkTableEntity(DayPartition(record.RejectedAt), FlowKeys.InvertedTicks(record.RejectedAt) + "-" + record.Id)
        {
            ["Id"] = record.Id,
            ["Source"] = record.Source,
            ["Reason"] = record.Reason,
        };
        FlowEntities.SetTime(row, "RejectedAt", record.RejectedAt);
        SetIfNotNull(row, "Field", record.Field);
        SetIfNotNull(row, "Body", record.Body);

        var earlier = await GetIfExistsAsync(_rejected, RejectedIdPartition, record.Id, cancellationToken).ConfigureAwait(false);
        var outbox = OutboxRow(row.PartitionKey, ControlEvents.ForRefusedRequest(record));
        await _rejected.SubmitTransactionAsync(
            [new SdkTableTransactionAction(SdkTableTransactionActionType.UpsertReplace, row), new SdkTableTransactionAction(SdkTableTransactionActionType.UpsertReplace, outbox)],
            cancellationToken).ConfigureAwait(false);
        await RelayAfterCommitAsync(_rejected, [outbox], cancellationToken).ConfigureAwait(false);
        var idRow = new SdkTableEntity(RejectedIdPartition, record.Id) { ["RequestPartition"] = row.PartitionKey, ["RequestRow"] = row.RowKey };
        await _rejected.UpsertEntityAsync(idRow, SdkTableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
        if (earlier?.GetString("RequestPartition") is { } partition && earlier.GetString("RequestRow") is { } rowKey
            && (partition != row.PartitionKey || rowKey != row.RowKey))
        {
            try
            {
                await _rejected.DeleteEntityAsync(partition, rowKey, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (RequestFailedException e)
            {
                FlowStorageLog.RejectedRequestCleanupFailed(_logger, record.Id, partition, rowKey, e);
            }
        }
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<RejectedRunRequest>> ListRejectedRequestsAsync(int maxCount, CancellationToken cancellationToken)
    {
        ControlStoreContract.ValidateMaxCount(maxCount);
        var result = new List<RejectedRunRequest>(Math.Min(maxCount, 100));
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var filter = SdkTableClient.CreateQueryFilter($"PartitionKey lt {AfterDayPartitions} and RowKey lt {OutboxStart}");
        foreach (var row in await QueryAsync(_rejected, filter, maxCount, cancellationToken).ConfigureAwait(false))
        {
            var request = ReadRejected(row);
            if (seen.Add(request.Id)) // an id written twice by a replacement cut short shows once, as its newest row
            {
                result.Add(request);
            }
        }

        return result;
    }

    /// <inheritdoc />
    public async Task<Versioned<string>?> GetStateAsync(string key, CancellationToken cancellationToken)
    {
        ControlStoreContract.ValidateStateKey(key);
        cancellationToken.ThrowIfCancellationRequested();
        var row = await GetIfExistsAsync(_state, StatePartition(key), key, cancellationToken).ConfigureAwait(false);
        return row is null ? null : new(row.GetString("Value") ?? string.Empty, row.ETag.ToString());
    }

    /// <inheritdoc />
    public async Task<Versioned<string>> PutStateAsync(string key, string value, string? expectedVersion, CancellationToken cancellationToken)
    {
        ControlStoreContract.ValidateState(key, value);
        var row = new SdkTableEntity(StatePartition(key), key) { ["Value"] = value };
        var etag = await WriteAsync(_state, row, expectedVersion, $"State entry '{key}'", cancellationToken).ConfigureAwait(false);
        return new(value, etag);
    }

    private static DateTimeOffset Now => TimeProvider.System.GetUtcNow();

    private static IReadOnlyList<Engine.Events.FlowEvent> One(Engine.Events.FlowEvent? flowEvent) => flowEvent is null ? [] : [flowEvent];

    /// <summary>The partition of a day's refused requests: days count down (newest day first), then the date, e.g. <c>2914674-2026-11-21</c>.</summary>
    internal static string DayPartition(DateTimeOffset time)
    {
        var day = DateOnly.FromDateTime(time.UtcDateTime);
        return (DateOnly.MaxValue.DayNumber - day.DayNumber).ToString("D7", CultureInfo.InvariantCulture) + "-" + day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
    }

    /// <summary>The partition of a state key: its part before the first ':' (<c>scheduler</c> for <c>scheduler:cursor:etl.daily</c>), or the whole key.</summary>
    internal static string StatePartition(string key) => key.IndexOf(':', StringComparison.Ordinal) is > 0 and var colon ? key[..colon] : key;

    private static SdkTableEntity DeploymentRow(DeploymentRecord d)
    {
        var slash = d.Name.IndexOf('/', StringComparison.Ordinal);
        var row = new SdkTableEntity(d.Name[..slash], d.Name[(slash + 1)..])
        {
            ["Name"] = d.Name,
            ["FlowName"] = d.FlowName,
            ["Pool"] = d.Pool,
            ["Paused"] = d.Paused,
            ["CollisionStrategy"] = d.CollisionStrategy.ToString(),
            ["Entrypoint"] = d.Entrypoint.Kind,
            ["Tags"] = JsonSerializer.Serialize(d.Tags, Json),
            ["Schedules"] = JsonSerializer.Serialize(d.Schedules, Json),
        };
        SetIfNotNull(row, "ConcurrencyLimit", d.ConcurrencyLimit);
        SetIfNotNull(row, "Version", d.Version);
        SetIfNotNull(row, "Description", d.Description);
        SetIfNotNull(row, "Parameters", d.Parameters);
        SetIfNotNull(row, "Command", d.Entrypoint.Command is { } command ? JsonSerializer.Serialize(command, Json) : null);
        SetIfNotNull(row, "WorkingDirectory", d.Entrypoint.WorkingDirectory);
        SetIfNotNull(row, "Environment", d.Entrypoint.Environment is { } env ? JsonSerializer.Serialize(env, Json) : null);
        SetIfNotNull(row, "Retries", d.Entrypoint.Retries == 0 ? null : (int?)d.Entrypoint.Retries);
        SetIfNotNull(row, "RetryDelaySeconds", d.Entrypoint.RetryDelaySeconds);
        SetIfNotNull(row, "TimeoutSeconds", d.Entrypoint.TimeoutSeconds);
        SetIfNotNull(row, "Source", d.Source);
        FlowEntities.SetTime(row, "CreatedAt", d.CreatedAt);
        FlowEntities.SetTime(row, "UpdatedAt", d.UpdatedAt);
        return row;
    }

    private static DeploymentRecord ReadDeployment(SdkTableEntity row) => ControlStoreContract.Normalize(new DeploymentRecord
    {
        Name = row.GetString("Name") ?? row.PartitionKey + "/" + row.RowKey,
        FlowName = row.GetString("FlowName") ?? row.PartitionKey,
        Entrypoint = new DeploymentEntrypoint
        {
            Kind = row.GetString("Entrypoint") ?? DeploymentEntrypoint.FlowKind,
            Command = FromJson<string[]>(row, "Command"),
            WorkingDirectory = row.GetString("WorkingDirectory"),
            Environment = FromJson<Dictionary<string, string>>(row, "Environment"),
            Retries = row.GetInt32("Retries") ?? 0,
            RetryDelaySeconds = row.GetInt32("RetryDelaySeconds"),
            TimeoutSeconds = row.GetInt32("TimeoutSeconds"),
        },
        Pool = row.GetString("Pool") ?? "default",
        Parameters = row.GetString("Parameters"),
        Tags = FromJson<Dictionary<string, string>>(row, "Tags") ?? [],
        Version = row.GetString("Version"),
        Description = row.GetString("Description"),
        Paused = row.GetBoolean("Paused") ?? false,
        ConcurrencyLimit = row.GetInt32("ConcurrencyLimit"),
        CollisionStrategy = Enum.TryParse<CollisionStrategy>(row.GetString("CollisionStrategy"), out var strategy) ? strategy : CollisionStrategy.Enqueue,
        Schedules = FromJson<DeploymentSchedule[]>(row, "Schedules") ?? [],
        Source = row.GetString("Source"),
        CreatedAt = FlowEntities.GetTime(row, "CreatedAt") ?? default,
        UpdatedAt = FlowEntities.GetTime(row, "UpdatedAt") ?? default,
    });

    private static WorkPoolRecord ReadPool(SdkTableEntity row) => ControlStoreContract.Normalize(new WorkPoolRecord
    {
        Name = row.GetString("Name") ?? row.RowKey,
        Type = row.GetString("Type") ?? WorkPoolRecord.InAppType,
        Description = row.GetString("Description"),
        ConcurrencyLimit = row.GetInt32("ConcurrencyLimit"),
        Paused = row.GetBoolean("Paused") ?? false,
        AllowedCommands = FromJson<string[]>(row, "AllowedCommands"),
        CreatedAt = FlowEntities.GetTime(row, "CreatedAt") ?? default,
        UpdatedAt = FlowEntities.GetTime(row, "UpdatedAt") ?? default,
    });

    private static RejectedRunRequest ReadRejected(SdkTableEntity row) => new()
    {
        Id = row.GetString("Id") ?? row.RowKey,
        Source = row.GetString("Source") ?? string.Empty,
        RejectedAt = FlowEntities.GetTime(row, "RejectedAt") ?? default,
        Reason = row.GetString("Reason") ?? string.Empty,
        Field = row.GetString("Field"),
        Body = row.GetString("Body"),
    };

    private static T? FromJson<T>(SdkTableEntity row, string name)
        where T : class =>
        row.GetString(name) is { } text ? JsonSerializer.Deserialize<T>(text, Json) : null;

    private static void SetIfNotNull(SdkTableEntity row, string name, object? value)
    {
        if (value is not null)
        {
            row[name] = value;
        }
    }

    /// <summary>Writes a row under a write condition (<see cref="IControlStore"/> remarks) and returns its new ETag.</summary>
    private static async Task<string> WriteAsync(SdkTableClient table, SdkTableEntity row, string? expectedVersion, string what, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (expectedVersion is { Length: > 0 } && !IsTableETag(expectedVersion))
        {
            // Not a version this store issues, so it matches nothing (the service would answer 400, not 412).
            throw new ConcurrencyException($"{what} is not at version {expectedVersion}: versions of this store are table ETags; nothing was written.");
        }

        try
        {
            var response = expectedVersion switch
            {
                null => await table.UpsertEntityAsync(row, SdkTableUpdateMode.Replace, cancellationToken).ConfigureAwait(false),
                IControlStore.MustNotExist => await table.AddEntityAsync(row, cancellationToken).ConfigureAwait(false),
                _ => await table.UpdateEntityAsync(row, new ETag(expectedVersion), SdkTableUpdateMode.Replace, cancellationToken).ConfigureAwait(false),
            };
            return response.Headers.ETag?.ToString() ?? throw new InvalidOperationException($"The Table service answered the write of {what} without an ETag.");
        }
        catch (RequestFailedException e) when (expectedVersion is not null && e.Status is 409 or 412 or 404)
        {
            throw new ConcurrencyException(
                expectedVersion.Length == 0 ? $"{what} already exists; nothing was written." : $"{what} is not at version {expectedVersion} (or does not exist); nothing was written.",
                e);
        }
    }

    /// <summary>Whether a version has the shape of a table entity's ETag: <c>W/"datetime'2026-11-21T07%3A54%3A44.123Z'"</c>.</summary>
    private static bool IsTableETag(string version) =>
        version.StartsWith("W/\"datetime'", StringComparison.Ordinal) && version.EndsWith("'\"", StringComparison.Ordinal)
        && !version.AsSpan(1).ContainsAny('\r', '\n');

    private static async Task<List<SdkTableEntity>> QueryAsync(SdkTableClient table, string? filter, int maxCount, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var rows = new List<SdkTableEntity>();
        await foreach (var row in table.QueryAsync<SdkTableEntity>(filter, maxPerPage: Math.Min(1000, maxCount), cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            rows.Add(row);
            if (rows.Count == maxCount)
            {
                break;
            }
        }

        return rows;
    }

    private static async Task<SdkTableEntity?> GetIfExistsAsync(SdkTableClient table, string partitionKey, string rowKey, CancellationToken cancellationToken)
    {
        var response = await table.GetEntityIfExistsAsync<SdkTableEntity>(partitionKey, rowKey, cancellationToken: cancellationToken).ConfigureAwait(false);
        return response.HasValue ? response.Value : null;
    }
}
