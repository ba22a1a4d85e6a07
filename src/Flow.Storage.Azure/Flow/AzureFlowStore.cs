using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
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
/// The flow state store on Azure Table storage (docs/azure-storage.md). Each run is one partition of
/// <c>{prefix}Runs</c> — its record, state history, journal, inbox, logs and artifacts — so a commit is one entity
/// group transaction: the run row, conditional on its ETag, plus everything appended with it. Listing reads the
/// <c>{prefix}RunIndex</c> table by range; task results are cached in <c>{prefix}Cache</c>.
/// </summary>
/// <remarks>
/// A commit is one HTTP request unless it carries a value too large to stay inline (written first as chunk rows in
/// the same partition) or changes the run's state (the new state's index row — and, for a run of a deployment, its row
/// in the deployment's partition of that state — is written alongside the commit, and the old state's rows are deleted
/// after it). Thread-safe; create one per account and keep it.
/// </remarks>
public sealed partial class AzureFlowStore : IFlowStore
{
    /// <summary>The most items one commit may carry: a transaction holds 100 operations, one of them the run row.</summary>
    public const int MaxItems = 99;

    private const int MaxRememberedInboxItems = 10_000;
    private readonly SdkTableClient _runs;
    private readonly SdkTableClient _index;
    private readonly SdkTableClient _cache;
    private readonly AzureEventStore _events;
    private readonly AzureFlowStorageOptions _options;
    private readonly ILogger _logger;
    private readonly KnownChunks _known = new();

    // Chunk rows of inbox items loaded by this process, so consuming them can delete those rows without a query.
    private readonly ConcurrentDictionary<string, string[]> _inboxChunks = new(StringComparer.Ordinal);

    /// <summary>Creates the store.</summary>
    /// <param name="tables">The account's Table service.</param>
    /// <param name="options">Table names and limits; null for the defaults.</param>
    /// <param name="logger">Where index and clean-up problems are logged; null for none.</param>
    /// <param name="events">The event store the outbox relays to (share it with the app's <see cref="Flow.Engine.Events.IEventStore"/>); one on the same tables when null.</param>
    public AzureFlowStore(SdkTableServiceClient tables, AzureFlowStorageOptions? options = null, ILogger<AzureFlowStore>? logger = null, AzureEventStore? events = null)
    {
        ArgumentNullException.ThrowIfNull(tables);
        _options = options ?? new AzureFlowStorageOptions();
        _options.Validate();
        _runs = tables.GetTableClient(_options.RunsTable);
        _index = tables.GetTableClient(_options.RunIndexTable);
        _cache = tables.GetTableClient(_options.CacheTable);
        _events = events ?? new AzureEventStore(tables, _options);
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <inheritdoc />
    public int MaxItemsPerCommit => MaxItems;

    /// <inheritdoc />
    public int MaxPayloadBytes => _options.MaxPayloadBytes;

    /// <summary>The table holding one partition per run.</summary>
    public SdkTableClient RunsTable => _runs;

    /// <summary>The table of index rows used for listing.</summary>
    public SdkTableClient RunIndexTable => _index;

    /// <summary>The task result cache table.</summary>
    public SdkTableClient CacheTable => _cache;

    /// <inheritdoc />
    public Task InitializeAsync(CancellationToken cancellationToken) =>
        Task.WhenAll(_runs.CreateIfNotExistsAsync(cancellationToken), _index.CreateIfNotExistsAsync(cancellationToken), _cache.CreateIfNotExistsAsync(cancellationToken), CreatePayloadContainerAsync(cancellationToken), _events.InitializeAsync(cancellationToken));

    /// <inheritdoc />
    public async Task<(StoredRun Run, bool Created)> CreateRunAsync(FlowRunRecord run, StateTransition firstTransition, CancellationToken cancellationToken)
    {
        StorageContract.ValidateNewRun(run, firstTransition);
        StorageContract.ValidatePayloads(run, MaxPayloadBytes);

        // Index keys are built from the times as stored (microseconds): a key from a finer time would not match the run read back.
        run = StorageContract.Normalize(run);
        firstTransition = StorageContract.Normalize(firstTransition);
        if (await GetRunAsync(run.RunId, cancellationToken).ConfigureAwait(false) is { } existing)
        {
            return (existing, false);
        }

        var plan = new TextPlan(_payloads);
        var runRow = FlowEntities.Run(run, plan);
        var transitionRow = FlowEntities.Transition(run.RunId, firstTransition, plan);
        AddOutboxEvent(transitionRow, run, firstTransition, plan);
        var chunks = plan.Finish(_known);
        await WritePayloadBlobsAsync(plan, cancellationToken).ConfigureAwait(false);

        // Index rows first: a run that exists is always in `recent` (and its flow's and state's partitions); with them the
        // outbox marker, so a sweep finds the run's events even if this process dies right after the commit.
        var indexRows = CreationIndexRows(run);
        await Task.WhenAll(indexRows.Select(r => _index.UpsertEntityAsync(r, SdkTableUpdateMode.Replace, cancellationToken))
            .Append(_events.Table.UpsertEntityAsync(OutboxMarker(run.RunId), SdkTableUpdateMode.Replace, cancellationToken))).ConfigureAwait(false);
        await LargeText.WriteAsync(_runs, run.RunId, chunks, _known, cancellationToken).ConfigureAwait(false);
        try
        {
            var results = await _runs.SubmitTransactionAsync(
                [new(SdkTableTransactionActionType.Add, runRow), new(SdkTableTransactionActionType.UpsertReplace, transitionRow)], cancellationToken).ConfigureAwait(false);
            RequestRelay(run.RunId);
            return (new StoredRun(run, VersionOf(results.Value[0])), true);
        }
        catch (RequestFailedException e) when (e.Status == 409 && FailedIndex(e) is null or 0)
        {
            // Someone created it between our read and our insert: theirs stands; drop the index rows that are not theirs.
            var winner = await GetRunAsync(run.RunId, cancellationToken).ConfigureAwait(false)
                ?? throw new ConcurrencyException($"Run '{run.RunId}' was created and deleted concurrently.", e);
            var theirs = CreationIndexRows(winner.Record).Select(r => r.PartitionKey + "/" + r.RowKey).ToHashSet(StringComparer.Ordinal);
            await DeleteIndexRowsAsync(run.RunId, indexRows.Where(r => !theirs.Contains(r.PartitionKey + "/" + r.RowKey)), cancellationToken).ConfigureAwait(false);
            return (winner, false);
        }
    }

    /// <inheritdoc />
    public async Task<StoredRun?> GetRunAsync(string runId, CancellationToken cancellationToken)
    {
        if (!FlowKeys.IsValidRunId(runId))
        {
            return null;
        }

        var row = await ReadRowAsync(_runs, runId, FlowKeys.RunRow, cancellationToken).ConfigureAwait(false);
        return row is null ? null : new StoredRun(FlowEntities.Run(row), row.ETag.ToString());
    }

    /// <inheritdoc />
    public async Task<StoredRun> CommitAsync(RunCommit commit, CancellationToken cancellationToken)
    {
        StorageContract.ValidateCommit(commit, MaxItemsPerCommit);
        StorageContract.ValidatePayloads(commit, MaxPayloadBytes);
        var run = StorageContract.Normalize(commit.Run);
        var plan = new TextPlan(_payloads);
        var operations = new List<Operation>(commit.ItemCount + 1)
        {
            new(new(SdkTableTransactionActionType.UpdateReplace, FlowEntities.Run(run, plan), new ETag(commit.ExpectedVersion)), OperationKind.Run, null),
        };
        foreach (var ev in commit.Events)
        {
            operations.Add(new(new(SdkTableTransactionActionType.UpsertReplace, FlowEntities.Event(run.RunId, run.Attempt, ev, plan)), OperationKind.Other, null));
        }

        foreach (var transition in commit.Transitions)
        {
            var row = FlowEntities.Transition(run.RunId, transition, plan);
            AddOutboxEvent(row, run, transition, plan); // the transition row is its own outbox entry: no extra operation
            operations.Add(new(new(SdkTableTransactionActionType.UpsertReplace, row), OperationKind.Other, null));
        }

        foreach (var item in commit.InboxToAdd)
        {
            operations.Add(new(new(SdkTableTransactionActionType.Add, FlowEntities.Inbox(run.RunId, item, plan)), OperationKind.InboxAdd, item.Id));
        }

        foreach (var id in commit.InboxToRemove.Distinct(StringComparer.Ordinal))
        {
            operations.Add(new(new(SdkTableTransactionActionType.Delete, new SdkTableEntity(run.RunId, FlowKeys.Inbox(id))), OperationKind.InboxRemove, id));
        }

        for (var i = 0; i < commit.Logs.Count; i++)
        {
            var number = run.LogCount - commit.Logs.Count + 1 + i;
            operations.Add(new(new(SdkTableTransactionActionType.UpsertReplace, FlowEntities.Log(run.RunId, number, commit.Logs[i], plan)), OperationKind.Other, null));
        }

        foreach (var artifact in commit.Artifacts)
        {
            operations.Add(new(new(SdkTableTransactionActionType.UpsertReplace, FlowEntities.Artifact(run.RunId, artifact, plan)), OperationKind.Other, null));
        }

        var chunks = plan.Finish(_known);
        var stateChange = StateIndexChange(commit);
        Task? indexWrite = null;
        IReadOnlyList<global::Azure.Response> results;
        try
        {
            if (chunks.Count > 0)
            {
                await LargeText.WriteAsync(_runs, run.RunId, chunks, _known, cancellationToken).ConfigureAwait(false);
            }

            // Before the transaction that references them: a crash leaves at most an orphan blob, never a dangling reference.
            await WritePayloadBlobsAsync(plan, cancellationToken).ConfigureAwait(false);

            if (stateChange is not null)
            {
                indexWrite = Task.WhenAll(stateChange.Value.NewRows.Select(row => WriteIndexRowAsync(run.RunId, row, cancellationToken)));
            }

            results = await SubmitAsync(run.RunId, operations, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // The new state's index rows stay: a concurrent winner may have written the very same rows (same state,
            // same transition), and readers tell a leftover from a current row by the run row anyway.
            if (indexWrite is not null)
            {
                await indexWrite.ConfigureAwait(false);
            }

            await DeleteChunksAsync(run.RunId, chunks).ConfigureAwait(false);
            throw;
        }

        if (indexWrite is not null)
        {
            await indexWrite.ConfigureAwait(false);
        }

        if (stateChange?.OldRows is { Count: > 0 } oldRows)
        {
            await DeleteIndexRowsAsync(run.RunId, oldRows, cancellationToken).ConfigureAwait(false);
        }

        if (commit.Transitions.Count > 0)
        {
            RequestRelay(run.RunId);
        }

        if (commit.InboxToRemove.Count > 0)
        {
            await DeleteConsumedInboxChunksAsync(run.RunId, commit.InboxToRemove, cancellationToken).ConfigureAwait(false);
        }

        return new StoredRun(run, VersionOf(results[0]));
    }

    /// <inheritdoc />
    public async Task<RunJournal> LoadJournalAsync(FlowRunRecord run, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        if (!FlowKeys.IsValidRunId(run.RunId))
        {
            return new RunJournal([], []);
        }

        var inbox = TableFilter.And(
            TableFilter.GreaterThanOrEqual("RowKey", FlowKeys.InboxPrefix),
            TableFilter.LessThan("RowKey", Successor(FlowKeys.InboxPrefix)));
        var ranges = inbox;
        if (run.JournalLength > 0)
        {
            var journal = TableFilter.And(
                TableFilter.GreaterThanOrEqual("RowKey", FlowKeys.Journal(run.Attempt, 1)),
                TableFilter.LessThan("RowKey", FlowKeys.JournalEnd(run.Attempt, run.JournalLength)));
            ranges = TableFilter.Or(inbox, journal);
        }

        var (rows, chunks) = await QueryPartitionAsync(_runs, TableFilter.And(TableFilter.Equal("PartitionKey", run.RunId), ranges), cancellationToken).ConfigureAwait(false);
        await ResolveTextAsync(_runs, rows, chunks, cancellationToken).ConfigureAwait(false);

        var events = new List<JournalEvent>(run.JournalLength);
        var items = new List<InboxItem>();
        foreach (var row in rows)
        {
            if (row.RowKey.StartsWith(FlowKeys.InboxPrefix, StringComparison.Ordinal))
            {
                var item = FlowEntities.Inbox(row);
                items.Add(item);
                RememberInboxChunks(run.RunId, item.Id, row);
            }
            else if (FlowEntities.Event(row) is { } ev && ev.Index == events.Count + 1 && ev.Index <= run.JournalLength)
            {
                events.Add(ev); // 1..JournalLength, up to the first gap
            }
        }

        items.Sort((a, b) => a.Timestamp != b.Timestamp ? a.Timestamp.CompareTo(b.Timestamp) : string.CompareOrdinal(a.Id, b.Id));
        return new RunJournal(events, items);
    }

    /// <inheritdoc />
    public async Task<JournalEvent?> GetJournalEventAsync(string runId, int attempt, int index, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(runId);
        if (!FlowKeys.IsValidRunId(runId) || attempt is < 1 or > FlowKeys.MaxAttempt || index is < 1 or > FlowKeys.MaxJournalIndex)
        {
            return null;
        }

        var row = await ReadRowAsync(_runs, runId, FlowKeys.Journal(attempt, index), cancellationToken).ConfigureAwait(false);
        return row is null ? null : FlowEntities.Event(row);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<StateTransition>> GetStateHistoryAsync(string runId, CancellationToken cancellationToken)
    {
        var rows = await ReadPrefixAsync(runId, FlowKeys.TransitionPrefix, cancellationToken).ConfigureAwait(false);
        return [.. rows.Select(FlowEntities.Transition).OrderBy(t => t.Index)];
    }

    /// <inheritdoc />
    public async Task<LogPage> GetLogsAsync(string runId, int pageSize, string? continuationToken, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(runId);
        StorageContract.ValidatePageSize(pageSize);
        if (continuationToken is not null && (!continuationToken.StartsWith(FlowKeys.LogPrefix, StringComparison.Ordinal) || FlowKeys.IsChunk(continuationToken)))
        {
            throw new ArgumentException("The continuation token does not come from GetLogsAsync.", nameof(continuationToken));
        }

        if (!FlowKeys.IsValidRunId(runId))
        {
            return new LogPage([], null);
        }

        var filter = TableFilter.And(
            TableFilter.Equal("PartitionKey", runId),
            TableFilter.GreaterThanOrEqual("RowKey", continuationToken is null ? FlowKeys.LogPrefix : continuationToken + FlowKeys.AfterChunks),
            TableFilter.LessThan("RowKey", Successor(FlowKeys.LogPrefix)));
        var lines = new List<SdkTableEntity>(pageSize + 1);
        var chunks = new Dictionary<string, SdkTableEntity>(StringComparer.Ordinal);
        await foreach (var row in _runs.QueryAsync<SdkTableEntity>(filter, maxPerPage: Math.Min(1000, pageSize + 1), cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            if (FlowKeys.IsChunk(row.RowKey))
            {
                chunks[row.RowKey] = row;
            }
            else if (lines.Count == pageSize)
            {
                lines.Add(row); // one more than the page: there is a next page
                break;
            }
            else
            {
                lines.Add(row);
            }
        }

        string? next = null;
        if (lines.Count > pageSize)
        {
            lines.RemoveAt(pageSize);
            next = lines[^1].RowKey;
        }

        await ResolveTextAsync(_runs, lines, chunks, cancellationToken).ConfigureAwait(false);
        return new LogPage([.. lines.Select(FlowEntities.Log)], next);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<RunArtifact>> GetArtifactsAsync(string runId, CancellationToken cancellationToken)
    {
        var rows = await ReadPrefixAsync(runId, FlowKeys.ArtifactPrefix, cancellationToken).ConfigureAwait(false);
        return [.. rows.Select(FlowEntities.Artifact).OrderBy(a => a.Key, StringComparer.Ordinal)];
    }

    /// <inheritdoc />
    public async Task<CacheEntry?> GetCacheEntryAsync(string key, CancellationToken cancellationToken)
    {
        StorageContract.ValidateCacheKey(key);
        var (partition, row) = CacheKeys(key);
        var entity = await ReadRowAsync(_cache, partition, row, cancellationToken).ConfigureAwait(false);
        return entity is null ? null : FlowEntities.Cache(entity);
    }

    /// <inheritdoc />
    public async Task PutCacheEntryAsync(CacheEntry entry, CancellationToken cancellationToken)
    {
        StorageContract.ValidateCacheEntry(entry, MaxPayloadBytes);
        var (partition, row) = CacheKeys(entry.Key);
        var plan = new TextPlan();
        var entity = FlowEntities.Cache(partition, row, entry, plan);
        var chunks = plan.Finish(_known);
        await LargeText.WriteAsync(_cache, partition, chunks, _known, cancellationToken).ConfigureAwait(false);
        await _cache.UpsertEntityAsync(entity, SdkTableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The cache row of a key: PartitionKey = the first 3 hex digits of the key's SHA-256 (4,096 partitions),
    /// RowKey = all 64; the key itself is kept in the <c>Key</c> property.
    /// </summary>
    internal static (string PartitionKey, string RowKey) CacheKeys(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
        return (hash[..3], hash);
    }

    private async Task<IReadOnlyList<global::Azure.Response>> SubmitAsync(string runId, List<Operation> operations, CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                return (await _runs.SubmitTransactionAsync(operations.Select(o => o.Action), cancellationToken).ConfigureAwait(false)).Value;
            }
            catch (RequestFailedException e) when (e.Status == 412 || (e.Status == 404 && FailedIndex(e) is null or 0))
            {
                throw new ConcurrencyException($"Run '{runId}' changed since version {operations[0].Action.ETag} (or no longer exists); nothing was written.", e);
            }
            catch (RequestFailedException e) when (FailedIndex(e) is { } index && index < operations.Count && operations[index] is var failed)
            {
                if (e.Status == 404 && failed.Kind == OperationKind.InboxRemove)
                {
                    operations.RemoveAt(index); // consuming an item that is already gone is fine; the transaction applied nothing
                    continue;
                }

                if (e.Status == 409 && failed.Kind == OperationKind.InboxAdd)
                {
                    throw new DuplicateInboxItemException($"Run '{runId}' already has inbox item '{failed.Id}'; nothing was written.", e);
                }

                throw new FlowStoreException($"Commit to run '{runId}' failed: {e.Message}", e);
            }
        }
    }

    private async Task<SdkTableEntity?> ReadRowAsync(SdkTableClient table, string partitionKey, string rowKey, CancellationToken cancellationToken)
    {
        var response = await table.GetEntityIfExistsAsync<SdkTableEntity>(partitionKey, rowKey, cancellationToken: cancellationToken).ConfigureAwait(false);
        var row = response.HasValue ? response.Value : null;
        if (row is not null)
        {
            await ResolveTextAsync(table, [row], null, cancellationToken).ConfigureAwait(false);
        }

        return row;
    }

    private async Task<List<SdkTableEntity>> ReadPrefixAsync(string runId, string prefix, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(runId);
        if (!FlowKeys.IsValidRunId(runId))
        {
            return [];
        }

        var (rows, chunks) = await QueryPartitionAsync(_runs, TableFilter.RowKeyPrefix(runId, prefix), cancellationToken).ConfigureAwait(false);
        await ResolveTextAsync(_runs, rows, chunks, cancellationToken).ConfigureAwait(false);
        return rows;
    }

    private static async Task<(List<SdkTableEntity> Rows, Dictionary<string, SdkTableEntity> Chunks)> QueryPartitionAsync(SdkTableClient table, string filter, CancellationToken cancellationToken)
    {
        var rows = new List<SdkTableEntity>();
        var chunks = new Dictionary<string, SdkTableEntity>(StringComparer.Ordinal);
        await foreach (var row in table.QueryAsync<SdkTableEntity>(filter, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            if (FlowKeys.IsChunk(row.RowKey))
            {
                chunks[row.RowKey] = row;
            }
            else
            {
                rows.Add(row);
            }
        }

        return (rows, chunks);
    }

    private void RememberInboxChunks(string runId, string id, SdkTableEntity row)
    {
        if (_inboxChunks.Count >= MaxRememberedInboxItems)
        {
            _inboxChunks.Clear();
        }

        _inboxChunks[runId + "/" + id] = [.. LargeText.ChunkRowKeys(row)];
    }

    private async Task DeleteConsumedInboxChunksAsync(string runId, IEnumerable<string> ids, CancellationToken cancellationToken)
    {
        try
        {
            var rowKeys = new List<string>();
            foreach (var id in ids)
            {
                if (_inboxChunks.TryRemove(runId + "/" + id, out var known))
                {
                    rowKeys.AddRange(known);
                    continue;
                }

                // Not loaded by this process: look for chunk rows of the item (usually none).
                var owner = FlowKeys.Inbox(id) + FlowKeys.ChunkMark;
                var filter = TableFilter.And(TableFilter.Equal("PartitionKey", runId), TableFilter.GreaterThanOrEqual("RowKey", owner), TableFilter.LessThan("RowKey", owner + FlowKeys.ChunkMark));
                await foreach (var row in _runs.QueryAsync<SdkTableEntity>(filter, select: ["PartitionKey"], cancellationToken: cancellationToken).ConfigureAwait(false))
                {
                    rowKeys.Add(row.RowKey);
                }
            }

            await Task.WhenAll(rowKeys.Select(rk => _runs.DeleteEntityAsync(runId, rk, cancellationToken: cancellationToken))).ConfigureAwait(false);
        }
        catch (RequestFailedException e)
        {
            FlowStorageLog.ChunkCleanupFailed(_logger, runId, e);
        }
    }

    private async Task DeleteChunksAsync(string runId, IReadOnlyList<ChunkSet> chunks)
    {
        if (chunks.Count == 0)
        {
            return;
        }

        try
        {
            await LargeText.DeleteAsync(_runs, chunks, CancellationToken.None).ConfigureAwait(false);
        }
        catch (RequestFailedException e)
        {
            FlowStorageLog.ChunkCleanupFailed(_logger, runId, e);
        }
    }

    /// <summary>The index of the transaction action the service refused, when it said.</summary>
    private static int? FailedIndex(RequestFailedException e) => (e as global::Azure.Data.Tables.TableTransactionFailedException)?.FailedTransactionActionIndex;

    /// <summary>A run's version: the ETag the service gave the run row's write.</summary>
    private static string VersionOf(global::Azure.Response response) =>
        response.Headers.ETag?.ToString() ?? throw new FlowStoreException("The Table service answered a write of a run row without an ETag.");

    /// <summary>The smallest string greater than every string starting with <paramref name="prefix"/>.</summary>
    private static string Successor(string prefix) => string.Concat(prefix.AsSpan(0, prefix.Length - 1), ((char)(prefix[^1] + 1)).ToString());

    private enum OperationKind
    {
        Run,
        InboxAdd,
        InboxRemove,
        Other,
    }

    private sealed record Operation(SdkTableTransactionAction Action, OperationKind Kind, string? Id);
}
