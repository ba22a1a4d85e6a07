using System.Net;
using System.Net.Http.Json;
using Flow.Engine.Storage;

namespace Flow.Process;

/// <summary>
/// The state store of a process run's subprocess: <see cref="IFlowStore"/> over the process API, limited by the run token to
/// that one run (reads, commits with the same version check, the journal, the task cache). Operations on other runs
/// (creating subflows, listing) throw <see cref="NotSupportedException"/>: process flows run their tasks inline.
/// </summary>
public sealed class HttpRunStore : IFlowStore
{
    private readonly HttpClient _http;
    private readonly string _base;

    /// <summary>Creates the store.</summary>
    /// <param name="http">A client whose base address is the Flow API and which sends the run token.</param>
    /// <param name="runId">The run.</param>
    /// <param name="limits">The limits the API reported.</param>
    public HttpRunStore(HttpClient http, string runId, AttachResponse limits)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(limits);
        _http = http;
        _base = $"{ProcessWire.RunsPath}/{Uri.EscapeDataString(runId)}/store";
        MaxItemsPerCommit = limits.MaxItemsPerCommit;
        MaxPayloadBytes = limits.MaxPayloadBytes;
    }

    /// <inheritdoc />
    public int MaxItemsPerCommit { get; }

    /// <inheritdoc />
    public int MaxPayloadBytes { get; }

    /// <inheritdoc />
    public Task InitializeAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public Task<(StoredRun Run, bool Created)> CreateRunAsync(FlowRunRecord run, StateTransition firstTransition, CancellationToken cancellationToken) =>
        throw new NotSupportedException("A process flow cannot start subflows: its run token reaches only its own run.");

    /// <inheritdoc />
    public Task<StoredRun?> GetRunAsync(string runId, CancellationToken cancellationToken) =>
        GetAsync<StoredRun>(_base, cancellationToken);

    /// <inheritdoc />
    public async Task<StoredRun> CommitAsync(RunCommit commit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(commit);
        using var response = await _http.PostAsJsonAsync(_base + "/commit", commit, ProcessWire.Json, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.Conflict)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            throw text.Contains("duplicate-inbox", StringComparison.Ordinal) ? new DuplicateInboxItemException(text) : new ConcurrencyException(text);
        }

        if (response.StatusCode == HttpStatusCode.RequestEntityTooLarge)
        {
            throw new PayloadTooLargeException(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
        }

        await EnsureAsync(response, cancellationToken).ConfigureAwait(false);
        return (await response.Content.ReadFromJsonAsync<StoredRun>(ProcessWire.Json, cancellationToken).ConfigureAwait(false))!;
    }

    /// <inheritdoc />
    public async Task<RunJournal> LoadJournalAsync(FlowRunRecord run, CancellationToken cancellationToken)
    {
        using var response = await _http.PostAsJsonAsync(_base + "/journal", run, ProcessWire.Json, cancellationToken).ConfigureAwait(false);
        await EnsureAsync(response, cancellationToken).ConfigureAwait(false);
        return (await response.Content.ReadFromJsonAsync<RunJournal>(ProcessWire.Json, cancellationToken).ConfigureAwait(false))!;
    }

    /// <inheritdoc />
    public Task<JournalEvent?> GetJournalEventAsync(string runId, int attempt, int index, CancellationToken cancellationToken) =>
        GetAsync<JournalEvent>($"{_base}/journal/{attempt}/{index}", cancellationToken);

    /// <inheritdoc />
    public async Task<IReadOnlyList<StateTransition>> GetStateHistoryAsync(string runId, CancellationToken cancellationToken) =>
        await GetAsync<List<StateTransition>>(_base + "/history", cancellationToken).ConfigureAwait(false) ?? [];

    /// <inheritdoc />
    public Task<RunPage> ListRunsAsync(RunQuery query, CancellationToken cancellationToken) =>
        throw new NotSupportedException("A process flow's run token cannot list runs.");

    /// <inheritdoc />
    public Task<LogPage> GetLogsAsync(string runId, int pageSize, string? continuationToken, CancellationToken cancellationToken) =>
        throw new NotSupportedException("A process flow writes logs; it does not read them.");

    /// <inheritdoc />
    public Task<IReadOnlyList<RunArtifact>> GetArtifactsAsync(string runId, CancellationToken cancellationToken) =>
        throw new NotSupportedException("A process flow writes artifacts; it does not read them.");

    /// <inheritdoc />
    public Task<CacheEntry?> GetCacheEntryAsync(string key, CancellationToken cancellationToken) =>
        GetAsync<CacheEntry>(_base + "/cache?key=" + Uri.EscapeDataString(key), cancellationToken);

    /// <inheritdoc />
    public async Task PutCacheEntryAsync(CacheEntry entry, CancellationToken cancellationToken)
    {
        using var response = await _http.PutAsJsonAsync(_base + "/cache", entry, ProcessWire.Json, cancellationToken).ConfigureAwait(false);
        await EnsureAsync(response, cancellationToken).ConfigureAwait(false);
    }

    private async Task<T?> GetAsync<T>(string path, CancellationToken cancellationToken)
        where T : class
    {
        using var response = await _http.GetAsync(path, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        await EnsureAsync(response, cancellationToken).ConfigureAwait(false);
        return await response.Content.ReadFromJsonAsync<T>(ProcessWire.Json, cancellationToken).ConfigureAwait(false);
    }

    internal static async Task EnsureAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (!response.IsSuccessStatusCode)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            throw new FlowStoreException($"The process API answered {(int)response.StatusCode} to {response.RequestMessage?.Method} {response.RequestMessage?.RequestUri?.AbsolutePath}: {text}");
        }
    }
}

/// <summary>
/// The work queue of a process run's subprocess: wake-ups of its own run go to the pool's run queue through the process API
/// (the worker that started the subprocess owns the real queue item, so taking, extending and completing are no-ops here).
/// </summary>
public sealed class HttpRunQueue : IWorkQueue
{
    private readonly HttpClient _http;
    private readonly string _base;

    /// <summary>Creates the queue.</summary>
    /// <param name="http">A client whose base address is the Flow API and which sends the run token.</param>
    /// <param name="runId">The run.</param>
    public HttpRunQueue(HttpClient http, string runId)
    {
        ArgumentNullException.ThrowIfNull(http);
        _http = http;
        _base = $"{ProcessWire.RunsPath}/{Uri.EscapeDataString(runId)}";
    }

    /// <inheritdoc />
    public Task EnsureQueueAsync(string queue, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public async Task EnqueueAsync(string queue, WorkItem item, TimeSpan delay, CancellationToken cancellationToken)
    {
        using var response = await _http.PostAsJsonAsync(_base + "/enqueue", new EnqueueRequest(item, (long)delay.TotalMilliseconds), ProcessWire.Json, cancellationToken).ConfigureAwait(false);
        await HttpRunStore.EnsureAsync(response, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<LeasedWorkItem>> DequeueAsync(string queue, int maxItems, TimeSpan leaseDuration, CancellationToken cancellationToken) =>
        throw new NotSupportedException("A process flow does not take work items; its worker does.");

    /// <inheritdoc />
    public Task<LeasedWorkItem> ExtendLeaseAsync(LeasedWorkItem item, TimeSpan leaseDuration, CancellationToken cancellationToken) =>
        Task.FromResult(item with { LeaseUntil = DateTimeOffset.UtcNow + leaseDuration });

    /// <inheritdoc />
    public Task<bool> CompleteAsync(LeasedWorkItem item, CancellationToken cancellationToken) => Task.FromResult(true);

    /// <inheritdoc />
    public async Task<bool> AbandonAsync(LeasedWorkItem item, TimeSpan delay, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(item);
        if (item.Item is { } work)
        {
            await EnqueueAsync(item.Queue, work, delay, cancellationToken).ConfigureAwait(false);
        }

        return true;
    }

    /// <inheritdoc />
    public Task DeadLetterAsync(LeasedWorkItem item, string reason, CancellationToken cancellationToken) =>
        throw new NotSupportedException("A process flow does not dead-letter work items; its worker does.");

    /// <inheritdoc />
    public Task<IReadOnlyList<DeadLetter>> GetDeadLettersAsync(string queue, int maxItems, CancellationToken cancellationToken) =>
        throw new NotSupportedException("A process flow cannot read dead letters.");

    /// <inheritdoc />
    public Task<int> GetApproximateCountAsync(string queue, CancellationToken cancellationToken) =>
        throw new NotSupportedException("A process flow cannot count queues.");
}
