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

    /// <summary>Ids of inbox items to remove (consumed into the journal). Missing and repeated ids are ignored; an id may not also be in <see cref="InboxToAdd"/>.</summary>
    public IReadOnlyList<string> InboxToRemove { get; init; } = [];

    /// <summary>Log lines to append; they are numbered so the last one gets the new record's <see cref="FlowRunRecord.LogCount"/>.</summary>
    public IReadOnlyList<RunLogLine> Logs { get; init; } = [];

    /// <summary>Artifacts to create or replace (by key; each key at most once per commit).</summary>
    public IReadOnlyList<RunArtifact> Artifacts { get; init; } = [];

    /// <summary>The number of items in the commit besides the run record, for <see cref="IFlowStore.MaxItemsPerCommit"/>.</summary>
    public int ItemCount => Events.Count + Transitions.Count + InboxToAdd.Count + InboxToRemove.Count + Logs.Count + Artifacts.Count;
}

/// <summary>A filter and page request for listing runs, newest first (by creation time; Late lists by scheduled time).</summary>
public sealed record RunQuery
{
    /// <summary>Only runs currently in this state.</summary>
    public RunState? State { get; init; }

    /// <summary>Only runs of this flow (the whole name, compared ordinally: case-sensitive, no prefix match).</summary>
    public string? FlowName { get; init; }

    /// <summary>
    /// Only runs of this deployment (<see cref="FlowRunRecord.Deployment"/>, the whole name compared ordinally: case-sensitive,
    /// no prefix match). Runs without a deployment are never listed under this filter. Combines with the other filters.
    /// </summary>
    public string? Deployment { get; init; }

    /// <summary>Only runs created at or after this time.</summary>
    public DateTimeOffset? CreatedFrom { get; init; }

    /// <summary>Only runs created before this time.</summary>
    public DateTimeOffset? CreatedBefore { get; init; }

    /// <summary>
    /// Only Late runs as of this cut-off (<see cref="Runs.LateRuns.Cutoff"/>: the current time minus the grace period), by
    /// <see cref="Runs.LateRuns.IsLateAsOf"/>: Scheduled or Pending, never started, scheduled before the cut-off. Such a list is
    /// ordered by <see cref="FlowRunRecord.ScheduledAt"/>, newest first (then run id), instead of by creation time; stores read it from
    /// an index of the runs that can become Late, never by scanning all runs. Cannot be combined with <see cref="State"/>
    /// (<see cref="ArgumentException"/>); combines with the other filters.
    /// </summary>
    public DateTimeOffset? LateCutoff { get; init; }

    /// <summary>
    /// Only runs whose tags satisfy every condition (<see cref="RunTagFilter"/>: the key, or the key with that exact value); empty
    /// for no tag filter. At most <see cref="RunTagFilter.MaxPerQuery"/>; an invalid condition throws <see cref="ArgumentException"/>.
    /// </summary>
    public IReadOnlyList<RunTagFilter> Tags { get; init; } = [];

    /// <summary>The page size, 1-1000 (else <see cref="ArgumentOutOfRangeException"/>). Defaults to 50. A page may hold fewer runs even when more follow.</summary>
    public int PageSize { get; init; } = 50;

    /// <summary>
    /// The token from the previous page (with the same filter), or null for the first page. A token marks a position in
    /// the order, so runs created while paging are neither repeated nor make others skipped. A token this store did not
    /// issue throws <see cref="ArgumentException"/>.
    /// </summary>
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
/// <remarks>
/// <para>Rules every store follows (the conformance suite checks each; <see cref="StorageContract"/> implements the
/// checks that need no storage, so backends share them):</para>
/// <list type="bullet">
/// <item><description>Times are kept as instants in UTC to the microsecond: a value reads back as
/// <see cref="StorageContract.NormalizeTime(DateTimeOffset)"/> of what was written (offset zero, ticks below a
/// microsecond dropped). Every string is kept exactly, whatever its characters.</description></item>
/// <item><description>Malformed input (ids, inconsistent commits, page sizes, foreign continuation tokens) throws
/// <see cref="ArgumentException"/> before anything is written.</description></item>
/// <item><description>A write that throws leaves nothing of itself visible to any read.</description></item>
/// <item><description>Reads of a run that does not exist return null or empty results; they do not throw.</description></item>
/// <item><description>Records handed in or out share no mutable state with the store.</description></item>
/// <item><description>Every method throws <see cref="OperationCanceledException"/> when its token is cancelled before it completes.</description></item>
/// </list>
/// </remarks>
public interface IFlowStore
{
    /// <summary>The most items (<see cref="RunCommit.ItemCount"/>) one commit may carry, at least 10; the engine splits larger changes.</summary>
    int MaxItemsPerCommit { get; }

    /// <summary>
    /// The largest payload the store keeps, in UTF-8 bytes, at least 1 MiB. Payloads are <see cref="FlowRunRecord.Parameters"/>,
    /// <see cref="FlowRunRecord.Result"/>, <see cref="JournalEvent.Payload"/>, <see cref="InboxItem.Payload"/>,
    /// <see cref="RunArtifact.Data"/> and <see cref="CacheEntry.Value"/>; each may be up to this size, and a commit may carry
    /// <see cref="MaxItemsPerCommit"/> of them.
    /// </summary>
    int MaxPayloadBytes { get; }

    /// <summary>Creates the tables/queues/schema this store needs, if missing. Idempotent and safe to run concurrently.</summary>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task.</returns>
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Creates a run with its first state transition (index 1), unless a run with that id exists. Of concurrent
    /// creations of one id exactly one creates it; the others return it.
    /// </summary>
    /// <param name="run">The new run; its <see cref="FlowRunRecord.TransitionCount"/> must be 1, its journal length and log count 0.</param>
    /// <param name="firstTransition">The first transition (index 1, From null, To = run.State).</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The stored run and whether this call created it (false: the existing run is returned, unchanged).</returns>
    /// <exception cref="ArgumentException">The run id is malformed or the run and transition break the rules above (<see cref="StorageContract.ValidateNewRun"/>).</exception>
    /// <exception cref="PayloadTooLargeException">The parameters or result exceed <see cref="MaxPayloadBytes"/>.</exception>
    Task<(StoredRun Run, bool Created)> CreateRunAsync(FlowRunRecord run, StateTransition firstTransition, CancellationToken cancellationToken);

    /// <summary>Reads a run.</summary>
    /// <param name="runId">The run id.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The run, or null when there is none.</returns>
    Task<StoredRun?> GetRunAsync(string runId, CancellationToken cancellationToken);

    /// <summary>
    /// Applies a commit atomically if the run's version is still <see cref="RunCommit.ExpectedVersion"/>: all of it or,
    /// when it throws, nothing. A commit never creates a run. <see cref="FlowRunRecord.RunId"/>,
    /// <see cref="FlowRunRecord.FlowName"/>, <see cref="FlowRunRecord.Deployment"/> and <see cref="FlowRunRecord.CreatedAt"/> are fixed
    /// when the run is created (stores may index them); a commit carries them unchanged. When several of the exceptions below apply, the
    /// argument and payload checks come first; between the others any one may be thrown.
    /// </summary>
    /// <param name="commit">The change.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The run as stored now, with its new version.</returns>
    /// <exception cref="ArgumentException">The commit is inconsistent in itself or carries more than <see cref="MaxItemsPerCommit"/> items (<see cref="StorageContract.ValidateCommit"/>).</exception>
    /// <exception cref="ConcurrencyException">The run changed since the expected version (or does not exist).</exception>
    /// <exception cref="DuplicateInboxItemException">An inbox item with one of the ids already exists.</exception>
    /// <exception cref="PayloadTooLargeException">A payload exceeds <see cref="MaxPayloadBytes"/>.</exception>
    Task<StoredRun> CommitAsync(RunCommit commit, CancellationToken cancellationToken);

    /// <summary>Loads the journal of one attempt (events 1..JournalLength of the given run record's <see cref="FlowRunRecord.Attempt"/>) and the run's pending inbox.</summary>
    /// <param name="run">The run record as read (its <see cref="FlowRunRecord.JournalLength"/> bounds the events returned; stores ignore any event beyond it).</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The journal; empty for a run that does not exist.</returns>
    Task<RunJournal> LoadJournalAsync(FlowRunRecord run, CancellationToken cancellationToken);

    /// <summary>Reads one journal event.</summary>
    /// <param name="runId">The run id.</param>
    /// <param name="attempt">The flow-run attempt.</param>
    /// <param name="index">The event index.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The event, or null (also for a run that does not exist).</returns>
    Task<JournalEvent?> GetJournalEventAsync(string runId, int attempt, int index, CancellationToken cancellationToken);

    /// <summary>Reads a run's state history, oldest first.</summary>
    /// <param name="runId">The run id.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The transitions; empty for a run that does not exist.</returns>
    Task<IReadOnlyList<StateTransition>> GetStateHistoryAsync(string runId, CancellationToken cancellationToken);

    /// <summary>
    /// Lists runs, newest first by <see cref="FlowRunRecord.CreatedAt"/>, then by run id (ordinal, ascending), by range
    /// queries on indexes (never a full scan). Filters apply to the runs' current records: a run listed by state is in
    /// that state now. <see cref="RunQuery.CreatedFrom"/> is inclusive, <see cref="RunQuery.CreatedBefore"/> exclusive.
    /// </summary>
    /// <param name="query">The filter and page.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A page.</returns>
    Task<RunPage> ListRunsAsync(RunQuery query, CancellationToken cancellationToken);

    /// <summary>Reads a run's log lines in the order they were written.</summary>
    /// <param name="runId">The run id.</param>
    /// <param name="pageSize">The page size, 1-1000 (else <see cref="ArgumentOutOfRangeException"/>).</param>
    /// <param name="continuationToken">The previous page's token, or null. It marks the position after that page's last line, so lines written since are read too. A token this store did not issue throws <see cref="ArgumentException"/>.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A page (a page may hold fewer lines even when more follow); empty for a run that does not exist.</returns>
    Task<LogPage> GetLogsAsync(string runId, int pageSize, string? continuationToken, CancellationToken cancellationToken);

    /// <summary>Reads a run's artifacts, ordered by key (ordinal).</summary>
    /// <param name="runId">The run id.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The artifacts; empty for a run that does not exist.</returns>
    Task<IReadOnlyList<RunArtifact>> GetArtifactsAsync(string runId, CancellationToken cancellationToken);

    /// <summary>Reads a cache entry, expired or not (the engine decides validity).</summary>
    /// <param name="key">The cache key: 1-1,024 characters of any kind but U+0000, compared ordinally (case-sensitive); stores hash or escape it as they need.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The entry, or null.</returns>
    Task<CacheEntry?> GetCacheEntryAsync(string key, CancellationToken cancellationToken);

    /// <summary>Creates or replaces a cache entry (its key as for <see cref="GetCacheEntryAsync"/>; its value up to <see cref="MaxPayloadBytes"/>).</summary>
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
