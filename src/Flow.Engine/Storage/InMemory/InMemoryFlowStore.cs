using System.Buffers.Text;
using System.Globalization;
using System.Text;
using Flow.Engine.Events;
using Flow.Engine.Runs;
using Flow.Sdk;

namespace Flow.Engine.Storage.InMemory;

/// <summary>Options of an <see cref="InMemoryFlowStore"/>.</summary>
public sealed record InMemoryFlowStoreOptions
{
    /// <summary>The default <see cref="MaxPayloadBytes"/>: 16 MiB.</summary>
    public const int DefaultMaxPayloadBytes = 16 * 1024 * 1024;

    /// <summary>The largest payload kept, in UTF-8 bytes (<see cref="IFlowStore.MaxPayloadBytes"/>). Defaults to 16 MiB.</summary>
    public int MaxPayloadBytes { get; init; } = DefaultMaxPayloadBytes;
}

/// <summary>
/// An <see cref="IFlowStore"/> in process memory, for tests and the local test host. It behaves like the
/// durable stores — the same conformance suite proves it: commits are atomic and fenced by version, limits
/// are enforced (<see cref="MaxItemsPerCommit"/> is 99, as in Azure), times are normalized to UTC microseconds,
/// and nothing a caller holds shares state with the store (records are copied on the way in and out).
/// Thread-safe. Its state lives as long as the instance. The events of every state transition it stores
/// (<see cref="RunEvents"/>) are appended to <see cref="Events"/> under the same lock as the change, so they are visible
/// together.
/// </summary>
public sealed class InMemoryFlowStore : IFlowStore, IRunRetention
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, RunEntry> _runs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, CacheEntry> _cache = new(StringComparer.Ordinal);
    private long _lastVersion;

    /// <summary>Creates an empty store.</summary>
    /// <param name="options">The options; defaults when null.</param>
    /// <param name="events">The event store the run events go to (share it with the app's <see cref="IEventStore"/>); a new one when null.</param>
    public InMemoryFlowStore(InMemoryFlowStoreOptions? options = null, InMemoryEventStore? events = null)
    {
        options ??= new InMemoryFlowStoreOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxPayloadBytes, 1, nameof(options));
        MaxPayloadBytes = options.MaxPayloadBytes;
        Events = events ?? new InMemoryEventStore();
    }

    /// <summary>The event store that receives the events of the transitions this store commits.</summary>
    public InMemoryEventStore Events { get; }

    /// <inheritdoc />
    public int MaxItemsPerCommit => 99;

    /// <inheritdoc />
    public int MaxPayloadBytes { get; }

    /// <inheritdoc />
    public Task InitializeAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<(StoredRun Run, bool Created)> CreateRunAsync(FlowRunRecord run, StateTransition firstTransition, CancellationToken cancellationToken)
    {
        StorageContract.ValidateNewRun(run, firstTransition);
        StorageContract.ValidatePayloads(run, MaxPayloadBytes);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            if (_runs.TryGetValue(run.RunId, out var existing))
            {
                return Task.FromResult((existing.Current, false));
            }

            var entry = new RunEntry(new StoredRun(StorageContract.Normalize(run), NextVersion()));
            var transition = StorageContract.Normalize(firstTransition);
            entry.Transitions[transition.Index] = transition;
            _runs.Add(run.RunId, entry);
            Events.AppendCommitted([RunEvents.For(entry.Current.Record, transition)]);
            return Task.FromResult((entry.Current, true));
        }
    }

    /// <inheritdoc />
    public Task<StoredRun?> GetRunAsync(string runId, CancellationToken cancellationToken) =>
        ReadRun(runId, entry => entry?.Current, cancellationToken);

    /// <inheritdoc />
    public Task<StoredRun> CommitAsync(RunCommit commit, CancellationToken cancellationToken)
    {
        StorageContract.ValidateCommit(commit, MaxItemsPerCommit);
        StorageContract.ValidatePayloads(commit, MaxPayloadBytes);
        cancellationToken.ThrowIfCancellationRequested();
        var run = commit.Run;
        lock (_gate)
        {
            if (!_runs.TryGetValue(run.RunId, out var entry) || entry.Current.Version != commit.ExpectedVersion)
            {
                throw new ConcurrencyException(
                    entry is null
                        ? $"Run '{run.RunId}' does not exist."
                        : $"Run '{run.RunId}' is at version {entry.Current.Version}, not the expected {commit.ExpectedVersion}.");
            }

            if (commit.InboxToAdd.FirstOrDefault(i => entry.Inbox.ContainsKey(i.Id)) is { } duplicate)
            {
                throw new DuplicateInboxItemException($"Run '{run.RunId}' already has inbox item '{duplicate.Id}'.");
            }

            // Every check passed: from here on nothing throws, so the commit is all or nothing.
            foreach (var e in commit.Events)
            {
                entry.Events[(run.Attempt, e.Index)] = StorageContract.Normalize(e);
            }

            foreach (var t in commit.Transitions)
            {
                entry.Transitions[t.Index] = StorageContract.Normalize(t);
            }

            foreach (var id in commit.InboxToRemove)
            {
                entry.Inbox.Remove(id);
            }

            foreach (var item in commit.InboxToAdd)
            {
                entry.Inbox.Add(item.Id, StorageContract.Normalize(item));
            }

            var number = run.LogCount - commit.Logs.Count;
            foreach (var line in commit.Logs)
            {
                entry.Logs[++number] = StorageContract.Normalize(line);
            }

            foreach (var artifact in commit.Artifacts)
            {
                entry.Artifacts[artifact.Key] = StorageContract.Normalize(artifact);
            }

            entry.Current = new StoredRun(StorageContract.Normalize(run), NextVersion());
            Events.AppendCommitted(RunEvents.For(entry.Current.Record, commit.Transitions));
            return Task.FromResult(entry.Current);
        }
    }

    /// <inheritdoc />
    public Task<RunJournal> LoadJournalAsync(FlowRunRecord run, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        return ReadRun(run.RunId, entry => entry is null ? new RunJournal([], []) : LoadJournal(entry, run), cancellationToken);
    }

    /// <inheritdoc />
    public Task<JournalEvent?> GetJournalEventAsync(string runId, int attempt, int index, CancellationToken cancellationToken) =>
        ReadRun(runId, entry => entry?.Events.GetValueOrDefault((attempt, index)), cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<StateTransition>> GetStateHistoryAsync(string runId, CancellationToken cancellationToken) =>
        ReadRun<IReadOnlyList<StateTransition>>(runId, entry => entry is null ? [] : entry.Transitions.Values.ToArray(), cancellationToken);

    /// <inheritdoc />
    public Task<RunPage> ListRunsAsync(RunQuery query, CancellationToken cancellationToken)
    {
        StorageContract.ValidateRunQuery(query);
        var late = query.LateCutoff is not null;
        var after = query.ContinuationToken is { } token ? RunPosition.Parse(token, late) : null;
        cancellationToken.ThrowIfCancellationRequested();
        FlowRunRecord[] matching;
        lock (_gate)
        {
            matching = _runs.Values
                .Select(e => e.Current.Record)
                .Where(r => query.State is not { } state || r.State == state)
                .Where(r => query.LateCutoff is not { } cutoff || LateRuns.IsLateAsOf(r, cutoff))
                .Where(r => query.FlowName is not { } name || string.Equals(r.FlowName, name, StringComparison.Ordinal))
                .Where(r => query.Deployment is not { } deployment || string.Equals(r.Deployment, deployment, StringComparison.Ordinal))
                .Where(r => query.CreatedFrom is not { } from || r.CreatedAt >= from)
                .Where(r => query.CreatedBefore is not { } before || r.CreatedAt < before)
                .Where(r => RunTagFilter.MatchAll(query.Tags, r.Tags))
                .Where(r => after is null || after.IsBefore(r))
                .Order(late ? RunPosition.LatestDueFirst : RunPosition.NewestFirst)
                .Take(query.PageSize + 1)
                .ToArray();
        }

        if (matching.Length <= query.PageSize)
        {
            return Task.FromResult(new RunPage(matching, null));
        }

        var page = matching[..query.PageSize];
        return Task.FromResult(new RunPage(page, RunPosition.Of(page[^1], late).ToToken()));
    }

    /// <inheritdoc />
    public Task<LogPage> GetLogsAsync(string runId, int pageSize, string? continuationToken, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(runId);
        StorageContract.ValidatePageSize(pageSize);
        var from = continuationToken is null ? 1 : ParseLogToken(continuationToken);
        return ReadRun(runId, entry => LogPageFrom(entry?.Logs.Where(l => l.Key >= from).Take(pageSize + 1).ToArray() ?? [], pageSize), cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<RunArtifact>> GetArtifactsAsync(string runId, CancellationToken cancellationToken) =>
        ReadRun<IReadOnlyList<RunArtifact>>(runId, entry => entry is null ? [] : entry.Artifacts.Values.ToArray(), cancellationToken);

    /// <inheritdoc />
    public Task<CacheEntry?> GetCacheEntryAsync(string key, CancellationToken cancellationToken)
    {
        StorageContract.ValidateCacheKey(key);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            return Task.FromResult(_cache.GetValueOrDefault(key));
        }
    }

    /// <inheritdoc />
    public Task PutCacheEntryAsync(CacheEntry entry, CancellationToken cancellationToken)
    {
        StorageContract.ValidateCacheEntry(entry, MaxPayloadBytes);
        cancellationToken.ThrowIfCancellationRequested();
        var copy = StorageContract.Normalize(entry);
        lock (_gate)
        {
            _cache[entry.Key] = copy;
        }

        return Task.CompletedTask;
    }

    private static RunJournal LoadJournal(RunEntry entry, FlowRunRecord run)
    {
        var events = new List<JournalEvent>(run.JournalLength);
        for (var index = 1; index <= run.JournalLength && entry.Events.TryGetValue((run.Attempt, index), out var e); index++)
        {
            events.Add(e);
        }

        var inbox = entry.Inbox.Values
            .OrderBy(i => i.Timestamp)
            .ThenBy(i => i.Id, StringComparer.Ordinal)
            .ToArray();
        return new RunJournal(events.ToArray(), inbox);
    }

    private static LogPage LogPageFrom(KeyValuePair<int, RunLogLine>[] lines, int pageSize) =>
        lines.Length <= pageSize
            ? new LogPage(lines.Select(l => l.Value).ToArray(), null)
            : new LogPage(lines[..pageSize].Select(l => l.Value).ToArray(), "log-" + lines[pageSize].Key.ToString(CultureInfo.InvariantCulture));

    private static int ParseLogToken(string token) =>
        token.StartsWith("log-", StringComparison.Ordinal)
        && int.TryParse(token.AsSpan(4), NumberStyles.None, CultureInfo.InvariantCulture, out var from)
        && from >= 1
            ? from
            : throw new ArgumentException($"'{token}' is not a log continuation token of this store.", nameof(token));

    /// <inheritdoc />
    public Task<RunDeletion> DeleteRunAsync(string runId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(runId);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            if (!_runs.TryGetValue(runId, out var entry))
            {
                return Task.FromResult(RunDeletion.NotFound);
            }

            if (!entry.Current.Record.State.IsFinal())
            {
                return Task.FromResult(RunDeletion.NotFinal);
            }

            _runs.Remove(runId);
            return Task.FromResult(RunDeletion.Deleted);
        }
    }

    /// <inheritdoc />
    public Task<int> DeleteFinishedRunsAsync(DateTimeOffset endedBefore, int maxRuns, CancellationToken cancellationToken)
    {
        StorageContract.ValidateRetentionBatch(maxRuns);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            var old = _runs.Values.Select(e => e.Current.Record)
                .Where(r => StorageContract.EndedBefore(r, endedBefore))
                .OrderBy(r => r.EndedAt)
                .Take(maxRuns)
                .Select(r => r.RunId)
                .ToList();
            foreach (var id in old)
            {
                _runs.Remove(id);
            }

            return Task.FromResult(old.Count);
        }
    }

    /// <summary>Reads from a run's entry (null when there is no such run) under the lock.</summary>
    private Task<T> ReadRun<T>(string runId, Func<RunEntry?, T> read, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(runId);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            return Task.FromResult(read(_runs.GetValueOrDefault(runId)));
        }
    }

    private string NextVersion() => (++_lastVersion).ToString("x16", CultureInfo.InvariantCulture);

    private sealed class RunEntry(StoredRun current)
    {
        public StoredRun Current { get; set; } = current;

        public Dictionary<(int Attempt, int Index), JournalEvent> Events { get; } = [];

        public SortedDictionary<int, StateTransition> Transitions { get; } = [];

        public Dictionary<string, InboxItem> Inbox { get; } = new(StringComparer.Ordinal);

        public SortedDictionary<int, RunLogLine> Logs { get; } = [];

        public SortedDictionary<string, RunArtifact> Artifacts { get; } = new(StringComparer.Ordinal);
    }

    /// <summary>
    /// A place in the newest-first order of runs: creation time descending (or, for Late lists, scheduled time descending), then
    /// run id ascending. Late tokens start with <c>L</c>, so a token of one order is refused by the other.
    /// </summary>
    private sealed record RunPosition(long Ticks, string RunId, bool Late)
    {
        public static IComparer<FlowRunRecord> NewestFirst { get; } = Comparer<FlowRunRecord>.Create(
            (a, b) => Of(a, false).CompareTo(Of(b, false)));

        public static IComparer<FlowRunRecord> LatestDueFirst { get; } = Comparer<FlowRunRecord>.Create(
            (a, b) => Of(a, true).CompareTo(Of(b, true)));

        public static RunPosition Of(FlowRunRecord run, bool late) => new(late ? run.ScheduledAt.UtcTicks : run.CreatedAt.UtcTicks, run.RunId, late);

        public static RunPosition Parse(string token, bool late)
        {
            try
            {
                var text = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(token));
                var start = late ? 1 : 0;
                var separator = text.IndexOf('|', StringComparison.Ordinal);
                if ((!late || text.StartsWith('L')) && separator > start
                    && long.TryParse(text.AsSpan(start, separator - start), NumberStyles.None, CultureInfo.InvariantCulture, out var ticks))
                {
                    return new RunPosition(ticks, text[(separator + 1)..], late);
                }
            }
            catch (FormatException)
            {
            }

            throw new ArgumentException($"'{token}' is not a run-list continuation token of this store.", nameof(token));
        }

        /// <summary>True when <paramref name="run"/> comes after this position in the newest-first order.</summary>
        public bool IsBefore(FlowRunRecord run) => CompareTo(Of(run, Late)) < 0;

        public string ToToken() =>
            Base64Url.EncodeToString(Encoding.UTF8.GetBytes((Late ? "L" : string.Empty) + Ticks.ToString(CultureInfo.InvariantCulture) + "|" + RunId));

        private int CompareTo(RunPosition other)
        {
            var byTime = other.Ticks.CompareTo(Ticks); // newer first
            return byTime != 0 ? byTime : string.CompareOrdinal(RunId, other.RunId);
        }
    }
}
