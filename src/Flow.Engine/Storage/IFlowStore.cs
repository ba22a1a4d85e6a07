using Flow.Sdk;

namespace Flow.Engine.Storage;

/// <summary>
/// One atomic change to a run: the new run record plus everything appended with it. A store applies
/// all of it or nothing, and only if the stored run's version still equals
/// <see cref="ExpectedVersion"/> — that check is the lease fencing that keeps a stale episode from
/// writing after another took over.
/// </summary>
public sealed record RunCommit
{
    /// <summary>The run's version the change is based on.</summary>
    public required string ExpectedVersion { get; init; }

    /// <summary>The new run record (same <see cref="FlowRunRecord.RunId"/>).</summary>
    public required FlowRunRecord Run { get; init; }

    /// <summary>Journal events to append to attempt <see cref="FlowRunRecord.Attempt"/>; their indexes must continue the stored journal without gaps and end at the new record's <see cref="FlowRunRecord.JournalLength"/>.</summary>
    public IReadOnlyList<JournalEvent> Events { get; init; } = [];

    /// <summary>State transitions to append; their indexes continue the stored history and end at the new record's <see cref="FlowRunRecord.TransitionCount"/>.</summary>
    public IReadOnlyList<StateTransition> Transitions { get; init; } = [];

    /// <summary>Inbox items to add. An id that already exists makes the whole commit fail with <see cref="DuplicateInboxItemException"/>.</summary>
    public IReadOnlyList<InboxItem> InboxToAdd { get; init; } = [];

    /// <summary>Ids of inbox items to remove (consumed into the journal). Missing ids are ignored.</summary>
    public IReadOnlyList<string> InboxToRemove { get; init; } = [];

    /// <summary>Log lines to append; they are numbered so the last one gets the new record's <see cref="FlowRunRecord.LogCount"/>.</summary>
    public IReadOnlyList<RunLogLine> Logs { get; init; } = [];

    /// <summary>Artifacts to create or replace (by key).</summary>
    public IReadOnlyList<RunArtifact> Artifacts { get; init; } = [];

    /// <summary>The number of items in the commit besides the run record, for <see cref="IFlowStore.MaxItemsPerCommit"/>.</summary>
    public int ItemCount => Events.Count + Transitions.Count + InboxToAdd.Count + InboxToRemove.Count + Logs.Count + Artifacts.Count;
}

/// <summary>A filter and page request for listing runs, newest first.</summary>
public sealed record RunQuery
{
    /// <summary>Only runs currently in this state.</summary>
    public RunState? State { get; init; }

    /// <summary>Only runs of this flow.</summary>
    public string? FlowName { get; init; }

    /// <summary>Only runs created at or after this time.</summary>
    public DateTimeOffset? CreatedFrom { get; init; }

    /// <summary>Only runs created before this time.</summary>
    public DateTimeOffset? CreatedBefore { get; init; }

    /// <summary>The page size, 1-1000. Defaults to 50.</summary>
    public int PageSize { get; init; } = 50;

    /// <summary>The token from the previous page, or null for the first page.</summary>
    public string? ContinuationToken { get; init; }
}

/// <summary>One page of runs.</summary>
/// <param name="Runs">The runs, newest (by creation time) first.</param>
/// <param name="ContinuationToken">The token for the next page, or null on the last page.</param>
public sealed record RunPage(IReadOnlyList<FlowRunRecord> Runs, string? ContinuationToken);

/// <summary>One page of a run's log lines, oldest first.</summary>
/// <param name="Lines">The lines.</param>
/// <param name="ContinuationToken">The token for the next page, or null on the last page.</param>
public sealed record LogPage(IReadOnlyList<RunLogLine> Lines, string? ContinuationToken);

/// <summary>
/// The state store contract: runs, journals, state histories, inboxes, logs, artifacts and the task
/// result cache. Every implementation passes the same conformance suite. All methods are safe to call
/// concurrently from many processes; the only coordination primitive is <see cref="CommitAsync"/>'s
/// version check.
/// </summary>
public interface IFlowStore
{
    /// <summary>The most items (<see cref="RunCommit.ItemCount"/>) one commit may carry; the engine splits larger changes.</summary>
    int MaxItemsPerCommit { get; }

    /// <summary>The largest payload (a parameter set, result or event payload, in UTF-8 bytes) the store keeps.</summary>
    int MaxPayloadBytes { get; }

    /// <summary>Creates the tables/queues/schema this store needs, if missing. Idempotent and safe to run concurrently.</summary>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task.</returns>
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Creates a run with its first state transition (index 1), unless a run with that id exists.
    /// </summary>
    /// <param name="run">The new run; its <see cref="FlowRunRecord.TransitionCount"/> must be 1.</param>
    /// <param name="firstTransition">The first transition (index 1, From null, To = run.State).</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The stored run and whether this call created it (false: the existing run is returned, unchanged).</returns>
    Task<(StoredRun Run, bool Created)> CreateRunAsync(FlowRunRecord run, StateTransition firstTransition, CancellationToken cancellationToken);

    /// <summary>Reads a run.</summary>
    /// <param name="runId">The run id.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The run, or null when there is none.</returns>
    Task<StoredRun?> GetRunAsync(string runId, CancellationToken cancellationToken);

    /// <summary>Applies a commit atomically if the run's version is still <see cref="RunCommit.ExpectedVersion"/>.</summary>
    /// <param name="commit">The change.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The run as stored now, with its new version.</returns>
    /// <exception cref="ConcurrencyException">The run changed since the expected version (or was deleted).</exception>
    /// <exception cref="DuplicateInboxItemException">An inbox item with one of the ids already exists.</exception>
    /// <exception cref="PayloadTooLargeException">A payload exceeds <see cref="MaxPayloadBytes"/>.</exception>
    Task<StoredRun> CommitAsync(RunCommit commit, CancellationToken cancellationToken);

    /// <summary>Loads the journal of one attempt (events 1..JournalLength of the given run record) and the run's pending inbox.</summary>
    /// <param name="run">The run record as read (its <see cref="FlowRunRecord.JournalLength"/> bounds the events returned; stores ignore any event beyond it).</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The journal.</returns>
    Task<RunJournal> LoadJournalAsync(FlowRunRecord run, CancellationToken cancellationToken);

    /// <summary>Reads one journal event.</summary>
    /// <param name="runId">The run id.</param>
    /// <param name="attempt">The flow-run attempt.</param>
    /// <param name="index">The event index.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The event, or null.</returns>
    Task<JournalEvent?> GetJournalEventAsync(string runId, int attempt, int index, CancellationToken cancellationToken);

    /// <summary>Reads a run's state history, oldest first.</summary>
    /// <param name="runId">The run id.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The transitions.</returns>
    Task<IReadOnlyList<StateTransition>> GetStateHistoryAsync(string runId, CancellationToken cancellationToken);

    /// <summary>Lists runs, newest first, by range queries on indexes (never a full scan).</summary>
    /// <param name="query">The filter and page.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A page.</returns>
    Task<RunPage> ListRunsAsync(RunQuery query, CancellationToken cancellationToken);

    /// <summary>Reads a run's log lines in the order they were written.</summary>
    /// <param name="runId">The run id.</param>
    /// <param name="pageSize">The page size, 1-1000.</param>
    /// <param name="continuationToken">The previous page's token, or null.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A page.</returns>
    Task<LogPage> GetLogsAsync(string runId, int pageSize, string? continuationToken, CancellationToken cancellationToken);

    /// <summary>Reads a run's artifacts, ordered by key.</summary>
    /// <param name="runId">The run id.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The artifacts.</returns>
    Task<IReadOnlyList<RunArtifact>> GetArtifactsAsync(string runId, CancellationToken cancellationToken);

    /// <summary>Reads a cache entry, expired or not (the engine decides validity).</summary>
    /// <param name="key">The cache key (any string up to 1,024 characters; stores hash or escape it as they need).</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The entry, or null.</returns>
    Task<CacheEntry?> GetCacheEntryAsync(string key, CancellationToken cancellationToken);

    /// <summary>Creates or replaces a cache entry.</summary>
    /// <param name="entry">The entry.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task.</returns>
    Task PutCacheEntryAsync(CacheEntry entry, CancellationToken cancellationToken);
}

/// <summary>The root of the storage contract's exceptions.</summary>
public class FlowStoreException : FlowException
{
    /// <summary>Creates the exception.</summary>
    public FlowStoreException()
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong.</param>
    public FlowStoreException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause.</param>
    public FlowStoreException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>A commit's expected version no longer matches: someone else changed the run. Reload and decide again.</summary>
public sealed class ConcurrencyException : FlowStoreException
{
    /// <summary>Creates the exception.</summary>
    public ConcurrencyException()
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong.</param>
    public ConcurrencyException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause.</param>
    public ConcurrencyException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>An inbox item with the same id was already delivered.</summary>
public sealed class DuplicateInboxItemException : FlowStoreException
{
    /// <summary>Creates the exception.</summary>
    public DuplicateInboxItemException()
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong.</param>
    public DuplicateInboxItemException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause.</param>
    public DuplicateInboxItemException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>A payload is larger than the store's configured maximum.</summary>
public sealed class PayloadTooLargeException : FlowStoreException
{
    /// <summary>Creates the exception.</summary>
    public PayloadTooLargeException()
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong.</param>
    public PayloadTooLargeException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause.</param>
    public PayloadTooLargeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
