using System.Diagnostics;
using Flow.Engine.Storage;
using Flow.Sdk;

namespace Flow.Benchmarks.Engine;

/// <summary>
/// An <see cref="IFlowStore"/> that counts and times every call that does I/O (one call = one round trip, as far as
/// the engine is concerned) and reports runs reaching a final state. Creating tables is setup and is not counted.
/// </summary>
internal sealed class CountingFlowStore(IFlowStore inner, CallLog log) : IFlowStore
{
    /// <summary>Raised after a commit that put a run into a final state.</summary>
    public event Action<FlowRunRecord>? RunFinished;

    public int MaxItemsPerCommit => inner.MaxItemsPerCommit;

    public int MaxPayloadBytes => inner.MaxPayloadBytes;

    public Task InitializeAsync(CancellationToken cancellationToken) => inner.InitializeAsync(cancellationToken);

    public Task<(StoredRun Run, bool Created)> CreateRunAsync(FlowRunRecord run, StateTransition firstTransition, CancellationToken cancellationToken) =>
        log.TimeAsync("store.CreateRun", () => inner.CreateRunAsync(run, firstTransition, cancellationToken));

    public Task<StoredRun?> GetRunAsync(string runId, CancellationToken cancellationToken) =>
        log.TimeAsync("store.GetRun", () => inner.GetRunAsync(runId, cancellationToken));

    public async Task<StoredRun> CommitAsync(RunCommit commit, CancellationToken cancellationToken)
    {
        // Inbox deliveries (results of distributed tasks) and the engine's own commits are told apart.
        var kind = commit.InboxToAdd.Count > 0 ? "store.Commit[deliver]" : "store.Commit";
        var stored = await log.TimeAsync(kind, () => inner.CommitAsync(commit, cancellationToken), commit.ItemCount).ConfigureAwait(false);
        if (stored.Record.State.IsFinal())
        {
            RunFinished?.Invoke(stored.Record);
        }

        return stored;
    }

    public Task<RunJournal> LoadJournalAsync(FlowRunRecord run, CancellationToken cancellationToken) =>
        log.TimeAsync("store.LoadJournal", () => inner.LoadJournalAsync(run, cancellationToken));

    public Task<JournalEvent?> GetJournalEventAsync(string runId, int attempt, int index, CancellationToken cancellationToken) =>
        log.TimeAsync("store.GetJournalEvent", () => inner.GetJournalEventAsync(runId, attempt, index, cancellationToken));

    public Task<IReadOnlyList<StateTransition>> GetStateHistoryAsync(string runId, CancellationToken cancellationToken) =>
        log.TimeAsync("store.GetStateHistory", () => inner.GetStateHistoryAsync(runId, cancellationToken));

    public Task<RunPage> ListRunsAsync(RunQuery query, CancellationToken cancellationToken) =>
        log.TimeAsync("store.ListRuns", () => inner.ListRunsAsync(query, cancellationToken));

    public Task<LogPage> GetLogsAsync(string runId, int pageSize, string? continuationToken, CancellationToken cancellationToken) =>
        log.TimeAsync("store.GetLogs", () => inner.GetLogsAsync(runId, pageSize, continuationToken, cancellationToken));

    public Task<IReadOnlyList<RunArtifact>> GetArtifactsAsync(string runId, CancellationToken cancellationToken) =>
        log.TimeAsync("store.GetArtifacts", () => inner.GetArtifactsAsync(runId, cancellationToken));

    public Task<CacheEntry?> GetCacheEntryAsync(string key, CancellationToken cancellationToken) =>
        log.TimeAsync("store.GetCacheEntry", () => inner.GetCacheEntryAsync(key, cancellationToken));

    public Task PutCacheEntryAsync(CacheEntry entry, CancellationToken cancellationToken) =>
        log.TimeAsync("store.PutCacheEntry", () => inner.PutCacheEntryAsync(entry, cancellationToken));
}

/// <summary>
/// An <see cref="IWorkQueue"/> that counts and times every call, per queue kind (<c>runs</c> or <c>tasks</c>);
/// a take that found nothing is counted apart (<c>queue.Dequeue[runs] (empty)</c>). Creating queues is setup and is not counted.
/// </summary>
internal sealed class CountingWorkQueue(IWorkQueue inner, CallLog log) : IWorkQueue
{
    private readonly TaskCompletionSource _polled = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when something first took from a queue (a worker is up and polling).</summary>
    public Task FirstPoll => _polled.Task;

    public Task EnsureQueueAsync(string queue, CancellationToken cancellationToken) => inner.EnsureQueueAsync(queue, cancellationToken);

    public Task EnqueueAsync(string queue, WorkItem item, TimeSpan delay, CancellationToken cancellationToken) =>
        log.TimeAsync(Kind("Enqueue", queue), () => inner.EnqueueAsync(queue, item, delay, cancellationToken));

    public async Task<IReadOnlyList<LeasedWorkItem>> DequeueAsync(string queue, int maxItems, TimeSpan leaseDuration, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        IReadOnlyList<LeasedWorkItem> items;
        try
        {
            items = await inner.DequeueAsync(queue, maxItems, leaseDuration, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            log.Record($"{Kind("Dequeue", queue)} ({e.GetType().Name})", start);
            throw;
        }

        log.Record(items.Count == 0 ? Kind("Dequeue", queue) + " (empty)" : Kind("Dequeue", queue), start, items.Count);
        _polled.TrySetResult();
        return items;
    }

    public Task<LeasedWorkItem> ExtendLeaseAsync(LeasedWorkItem item, TimeSpan leaseDuration, CancellationToken cancellationToken) =>
        log.TimeAsync(Kind("ExtendLease", item.Queue), () => inner.ExtendLeaseAsync(item, leaseDuration, cancellationToken));

    /// <summary>Raised after a run's work item was deleted, with the run id.</summary>
    public event Action<string>? RunItemCompleted;

    public async Task<bool> CompleteAsync(LeasedWorkItem item, CancellationToken cancellationToken)
    {
        var completed = await log.TimeAsync(Kind("Complete", item.Queue), () => inner.CompleteAsync(item, cancellationToken)).ConfigureAwait(false);
        if (completed && item.Item is { Kind: WorkItem.RunKind } work)
        {
            RunItemCompleted?.Invoke(work.RunId);
        }

        return completed;
    }

    public Task<bool> AbandonAsync(LeasedWorkItem item, TimeSpan delay, CancellationToken cancellationToken) =>
        log.TimeAsync(Kind("Abandon", item.Queue), () => inner.AbandonAsync(item, delay, cancellationToken));

    public Task DeadLetterAsync(LeasedWorkItem item, string reason, CancellationToken cancellationToken) =>
        log.TimeAsync(Kind("DeadLetter", item.Queue), () => inner.DeadLetterAsync(item, reason, cancellationToken));

    public Task<IReadOnlyList<DeadLetter>> GetDeadLettersAsync(string queue, int maxItems, CancellationToken cancellationToken) =>
        log.TimeAsync(Kind("GetDeadLetters", queue), () => inner.GetDeadLettersAsync(queue, maxItems, cancellationToken));

    public Task<int> GetApproximateCountAsync(string queue, CancellationToken cancellationToken) =>
        log.TimeAsync(Kind("GetApproximateCount", queue), () => inner.GetApproximateCountAsync(queue, cancellationToken));

    private static string Kind(string method, string queue)
    {
        var dash = queue.IndexOf('-', StringComparison.Ordinal);
        return $"queue.{method}[{(dash > 0 ? queue[..dash] : queue)}]";
    }
}
