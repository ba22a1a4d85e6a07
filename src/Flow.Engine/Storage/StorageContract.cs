using System.Collections.Frozen;
using System.Text;

namespace Flow.Engine.Storage;

/// <summary>
/// The rules of the storage contracts that can be checked without touching storage, shared by every
/// <see cref="IFlowStore"/> and <see cref="IWorkQueue"/> implementation so all backends accept and reject the
/// same inputs with the same exceptions (the conformance suite checks that they do). A store calls these
/// before it writes anything.
/// </summary>
/// <remarks>
/// <para><b>Time.</b> Stores keep instants, not offsets, to the microsecond: every <see cref="DateTimeOffset"/>
/// written reads back as <see cref="NormalizeTime(DateTimeOffset)"/> of it — the same instant in UTC (offset
/// zero), truncated to a whole microsecond. Code that compares a stored time with one it holds compares
/// normalized values.</para>
/// <para><b>Text.</b> Every string is kept exactly (any Unicode, any length within the limits below); payloads
/// (<see cref="FlowRunRecord.Parameters"/>, <see cref="FlowRunRecord.Result"/>, <see cref="JournalEvent.Payload"/>,
/// <see cref="InboxItem.Payload"/>, <see cref="RunArtifact.Data"/> and <see cref="CacheEntry.Value"/>) up to the
/// store's <see cref="IFlowStore.MaxPayloadBytes"/> UTF-8 bytes each. Strings must be well-formed UTF-16 (no lone
/// surrogates).</para>
/// </remarks>
public static class StorageContract
{
    /// <summary>The longest run id.</summary>
    public const int MaxRunIdLength = 100;

    /// <summary>The longest inbox item id.</summary>
    public const int MaxInboxIdLength = 200;

    /// <summary>The longest artifact key.</summary>
    public const int MaxArtifactKeyLength = 200;

    /// <summary>The longest cache key.</summary>
    public const int MaxCacheKeyLength = 1024;

    /// <summary>The largest page of runs, log lines or dead letters.</summary>
    public const int MaxPageSize = 1000;

    /// <summary>The longest logical queue name.</summary>
    public const int MaxQueueNameLength = 40;

    /// <summary>The most items one dequeue may take.</summary>
    public const int MaxDequeueItems = 32;

    /// <summary>The longest visibility delay and the longest lease: 7 days.</summary>
    public static TimeSpan MaxQueueDelay { get; } = TimeSpan.FromDays(7);

    /// <summary>The shortest lease: 1 second.</summary>
    public static TimeSpan MinLease { get; } = TimeSpan.FromSeconds(1);

    /// <summary>The instant as stores keep it: in UTC, truncated to a whole microsecond.</summary>
    /// <param name="value">The time.</param>
    /// <returns>The normalized time.</returns>
    public static DateTimeOffset NormalizeTime(DateTimeOffset value) =>
        new(value.UtcTicks - (value.UtcTicks % TimeSpan.TicksPerMicrosecond), TimeSpan.Zero);

    /// <summary>The instant as stores keep it, or null.</summary>
    /// <param name="value">The time, or null.</param>
    /// <returns>The normalized time, or null.</returns>
    public static DateTimeOffset? NormalizeTime(DateTimeOffset? value) => value is { } time ? NormalizeTime(time) : null;

    /// <summary>A run record as a store keeps it: times normalized (<see cref="NormalizeTime(DateTimeOffset)"/>) and the tags copied into an immutable dictionary.</summary>
    /// <param name="run">The record.</param>
    /// <returns>The normalized copy.</returns>
    public static FlowRunRecord Normalize(FlowRunRecord run)
    {
        ArgumentNullException.ThrowIfNull(run);
        return run with
        {
            StateTime = NormalizeTime(run.StateTime),
            CreatedAt = NormalizeTime(run.CreatedAt),
            ScheduledAt = NormalizeTime(run.ScheduledAt),
            StartedAt = NormalizeTime(run.StartedAt),
            EndedAt = NormalizeTime(run.EndedAt),
            LeaseUntil = NormalizeTime(run.LeaseUntil),
            WakeAt = NormalizeTime(run.WakeAt),
            HeartbeatAt = NormalizeTime(run.HeartbeatAt),
            Tags = run.Tags.ToFrozenDictionary(StringComparer.Ordinal),
        };
    }

    /// <summary>A journal event as a store keeps it (times normalized).</summary>
    /// <param name="journalEvent">The event.</param>
    /// <returns>The normalized event.</returns>
    public static JournalEvent Normalize(JournalEvent journalEvent)
    {
        ArgumentNullException.ThrowIfNull(journalEvent);
        return journalEvent with
        {
            Timestamp = NormalizeTime(journalEvent.Timestamp),
            StartedAt = NormalizeTime(journalEvent.StartedAt),
            DueAt = NormalizeTime(journalEvent.DueAt),
        };
    }

    /// <summary>An inbox item as a store keeps it (times normalized).</summary>
    /// <param name="item">The item.</param>
    /// <returns>The normalized item.</returns>
    public static InboxItem Normalize(InboxItem item)
    {
        ArgumentNullException.ThrowIfNull(item);
        return item with { Timestamp = NormalizeTime(item.Timestamp), StartedAt = NormalizeTime(item.StartedAt) };
    }

    /// <summary>A state transition as a store keeps it (time normalized).</summary>
    /// <param name="transition">The transition.</param>
    /// <returns>The normalized transition.</returns>
    public static StateTransition Normalize(StateTransition transition)
    {
        ArgumentNullException.ThrowIfNull(transition);
        return transition with { Timestamp = NormalizeTime(transition.Timestamp) };
    }

    /// <summary>A log line as a store keeps it (time normalized).</summary>
    /// <param name="line">The line.</param>
    /// <returns>The normalized line.</returns>
    public static RunLogLine Normalize(RunLogLine line)
    {
        ArgumentNullException.ThrowIfNull(line);
        return line with { Timestamp = NormalizeTime(line.Timestamp) };
    }

    /// <summary>An artifact as a store keeps it (time normalized).</summary>
    /// <param name="artifact">The artifact.</param>
    /// <returns>The normalized artifact.</returns>
    public static RunArtifact Normalize(RunArtifact artifact)
    {
        ArgumentNullException.ThrowIfNull(artifact);
        return artifact with { CreatedAt = NormalizeTime(artifact.CreatedAt) };
    }

    /// <summary>A cache entry as a store keeps it (times normalized).</summary>
    /// <param name="entry">The entry.</param>
    /// <returns>The normalized entry.</returns>
    public static CacheEntry Normalize(CacheEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return entry with { CreatedAt = NormalizeTime(entry.CreatedAt), ExpiresAt = NormalizeTime(entry.ExpiresAt) };
    }

    /// <summary>Checks a run id: 1-100 ASCII letters, digits, '-', '_' and '.'.</summary>
    /// <param name="runId">The id.</param>
    /// <exception cref="ArgumentException">The id is malformed.</exception>
    public static void ValidateRunId(string runId) => ValidateId(runId, MaxRunIdLength, nameof(runId));

    /// <summary>Checks a run about to be created (<see cref="IFlowStore.CreateRunAsync"/>).</summary>
    /// <param name="run">The run: a valid id, <see cref="FlowRunRecord.TransitionCount"/> 1, no journal events and no log lines.</param>
    /// <param name="firstTransition">Index 1, from null, to the run's state.</param>
    /// <exception cref="ArgumentException">The run or the transition breaks the rules.</exception>
    public static void ValidateNewRun(FlowRunRecord run, StateTransition firstTransition)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(firstTransition);
        ValidateRun(run);
        if (run.TransitionCount != 1 || run.JournalLength != 0 || run.LogCount != 0)
        {
            throw new ArgumentException(
                $"A new run has TransitionCount 1, JournalLength 0 and LogCount 0 (run '{run.RunId}' has {run.TransitionCount}, {run.JournalLength}, {run.LogCount}).",
                nameof(run));
        }

        if (firstTransition.Index != 1 || firstTransition.From is not null || firstTransition.To != run.State)
        {
            throw new ArgumentException(
                $"The first transition has index 1, no From state and To = the run's state {run.State} (got {firstTransition.Index}, {firstTransition.From}, {firstTransition.To}).",
                nameof(firstTransition));
        }
    }

    /// <summary>
    /// Checks that a commit is consistent in itself: a valid run, at most <paramref name="maxItemsPerCommit"/> items,
    /// event and transition indexes consecutive and ending at the record's counts, no more log lines than
    /// <see cref="FlowRunRecord.LogCount"/>, valid and distinct inbox ids (no id both added and removed) and valid,
    /// distinct artifact keys.
    /// </summary>
    /// <param name="commit">The commit.</param>
    /// <param name="maxItemsPerCommit">The store's <see cref="IFlowStore.MaxItemsPerCommit"/>.</param>
    /// <exception cref="ArgumentException">The commit breaks a rule.</exception>
    public static void ValidateCommit(RunCommit commit, int maxItemsPerCommit)
    {
        ArgumentNullException.ThrowIfNull(commit);
        ArgumentNullException.ThrowIfNull(commit.Run, nameof(commit));
        ArgumentException.ThrowIfNullOrEmpty(commit.ExpectedVersion, nameof(commit));
        var run = commit.Run;
        ValidateRun(run);
        if (commit.ItemCount > maxItemsPerCommit)
        {
            throw new ArgumentException($"A commit carries at most {maxItemsPerCommit} items; this one has {commit.ItemCount}.", nameof(commit));
        }

        ValidateSequence(commit.Events.Select(e => e.Index), run.JournalLength, "journal event", "JournalLength");
        ValidateSequence(commit.Transitions.Select(t => t.Index), run.TransitionCount, "state transition", "TransitionCount");
        if (commit.Logs.Count > run.LogCount)
        {
            throw new ArgumentException($"The commit carries {commit.Logs.Count} log lines but the run's LogCount is {run.LogCount}.", nameof(commit));
        }

        var added = ValidateDistinctIds(commit.InboxToAdd.Select(i => i.Id), MaxInboxIdLength, "Inbox item id");
        foreach (var id in commit.InboxToRemove)
        {
            ValidateId(id, MaxInboxIdLength, nameof(commit));
            if (added.Contains(id))
            {
                throw new ArgumentException($"Inbox item id '{id}' is both added and removed in one commit.", nameof(commit));
            }
        }

        ValidateDistinctIds(commit.Artifacts.Select(a => a.Key), MaxArtifactKeyLength, "Artifact key");
    }

    /// <summary>Checks the payloads of a run record (<see cref="FlowRunRecord.Parameters"/> and <see cref="FlowRunRecord.Result"/>).</summary>
    /// <param name="run">The run.</param>
    /// <param name="maxPayloadBytes">The store's <see cref="IFlowStore.MaxPayloadBytes"/>.</param>
    /// <exception cref="PayloadTooLargeException">A payload is larger.</exception>
    public static void ValidatePayloads(FlowRunRecord run, int maxPayloadBytes)
    {
        ArgumentNullException.ThrowIfNull(run);
        ValidatePayload(run.Parameters, maxPayloadBytes, $"the parameters of run '{run.RunId}'");
        ValidatePayload(run.Result, maxPayloadBytes, $"the result of run '{run.RunId}'");
    }

    /// <summary>Checks every payload of a commit: the run record's, the events', the inbox items' and the artifacts' data.</summary>
    /// <param name="commit">The commit.</param>
    /// <param name="maxPayloadBytes">The store's <see cref="IFlowStore.MaxPayloadBytes"/>.</param>
    /// <exception cref="PayloadTooLargeException">A payload is larger.</exception>
    public static void ValidatePayloads(RunCommit commit, int maxPayloadBytes)
    {
        ArgumentNullException.ThrowIfNull(commit);
        ValidatePayloads(commit.Run, maxPayloadBytes);
        foreach (var e in commit.Events)
        {
            ValidatePayload(e.Payload, maxPayloadBytes, $"the payload of journal event {e.Index}");
        }

        foreach (var item in commit.InboxToAdd)
        {
            ValidatePayload(item.Payload, maxPayloadBytes, $"the payload of inbox item '{item.Id}'");
        }

        foreach (var artifact in commit.Artifacts)
        {
            ValidatePayload(artifact.Data, maxPayloadBytes, $"the data of artifact '{artifact.Key}'");
        }
    }

    /// <summary>Checks one payload's size in UTF-8 bytes.</summary>
    /// <param name="payload">The payload, or null.</param>
    /// <param name="maxPayloadBytes">The largest size allowed.</param>
    /// <param name="what">What the payload is, for the message.</param>
    /// <exception cref="PayloadTooLargeException">The payload is larger.</exception>
    public static void ValidatePayload(string? payload, int maxPayloadBytes, string what)
    {
        // A UTF-16 code unit is at most 3 UTF-8 bytes (a surrogate pair, 2 units, is 4): skip counting short strings.
        if (payload is null || (long)payload.Length * 3 <= maxPayloadBytes)
        {
            return;
        }

        var bytes = Encoding.UTF8.GetByteCount(payload);
        if (bytes > maxPayloadBytes)
        {
            throw new PayloadTooLargeException($"{Capitalize(what)} is {bytes:N0} UTF-8 bytes; the store keeps at most {maxPayloadBytes:N0}.");
        }
    }

    /// <summary>Checks a cache entry: its key (<see cref="ValidateCacheKey"/>) and its value's size.</summary>
    /// <param name="entry">The entry.</param>
    /// <param name="maxPayloadBytes">The store's <see cref="IFlowStore.MaxPayloadBytes"/>.</param>
    /// <exception cref="ArgumentException">The key is malformed.</exception>
    /// <exception cref="PayloadTooLargeException">The value is too large.</exception>
    public static void ValidateCacheEntry(CacheEntry entry, int maxPayloadBytes)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ValidateCacheKey(entry.Key);
        ArgumentNullException.ThrowIfNull(entry.Value, nameof(entry));
        ValidatePayload(entry.Value, maxPayloadBytes, $"the value of cache entry '{Shorten(entry.Key)}'");
    }

    /// <summary>Checks a cache key: 1-1,024 characters of any kind but U+0000.</summary>
    /// <param name="key">The key.</param>
    /// <exception cref="ArgumentException">The key is empty or too long.</exception>
    public static void ValidateCacheKey(string key)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        if (key.Length > MaxCacheKeyLength || key.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException($"A cache key has 1-{MaxCacheKeyLength} characters, none of them U+0000; this one has {key.Length}.", nameof(key));
        }
    }

    /// <summary>Checks a page size: 1-1,000.</summary>
    /// <param name="pageSize">The page size.</param>
    /// <exception cref="ArgumentOutOfRangeException">Out of range.</exception>
    public static void ValidatePageSize(int pageSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(pageSize, MaxPageSize);
    }

    /// <summary>
    /// Checks a run query: the page size (<see cref="ValidatePageSize"/>), <see cref="RunQuery.LateCutoff"/> not combined with
    /// <see cref="RunQuery.State"/>, and the tag conditions (<see cref="RunTagFilter.Problem"/>, at most <see cref="RunTagFilter.MaxPerQuery"/>).
    /// </summary>
    /// <param name="query">The query.</param>
    /// <exception cref="ArgumentOutOfRangeException">The page size is out of range.</exception>
    /// <exception cref="ArgumentException">The filters are inconsistent or a tag condition is invalid.</exception>
    public static void ValidateRunQuery(RunQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        ValidatePageSize(query.PageSize);
        if (query.LateCutoff is not null && query.State is not null)
        {
            throw new ArgumentException("A run query lists either one stored State or Late runs (LateCutoff), not both.", nameof(query));
        }

        ArgumentNullException.ThrowIfNull(query.Tags);
        if (query.Tags.Count > RunTagFilter.MaxPerQuery)
        {
            throw new ArgumentException($"A run query carries at most {RunTagFilter.MaxPerQuery} tag conditions.", nameof(query));
        }

        foreach (var tag in query.Tags)
        {
            var problem = tag is null ? "a tag condition is null" : tag.Problem();
            if (problem is not null)
            {
                throw new ArgumentException("Invalid tag condition: " + problem, nameof(query));
            }
        }
    }

    /// <summary>Checks the size of a retention batch (<see cref="IRunRetention.DeleteFinishedRunsAsync"/>): 1 to <see cref="IRunRetention.MaxBatchSize"/>.</summary>
    /// <param name="maxRuns">The batch size.</param>
    /// <exception cref="ArgumentOutOfRangeException">Out of range.</exception>
    public static void ValidateRetentionBatch(int maxRuns)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRuns, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxRuns, IRunRetention.MaxBatchSize);
    }

    /// <summary>Checks a backend's retention settings (named <c>{section}:RetentionDays</c> and so on in the messages).</summary>
    /// <param name="section">The configuration section of the options.</param>
    /// <param name="days">Retention in days: 0 (off) or more.</param>
    /// <param name="interval">How often retention runs: at least 1 second.</param>
    /// <param name="batchSize">Runs per batch: 1 to <paramref name="maxBatchSize"/>.</param>
    /// <param name="maxBatchSize">The backend's largest batch.</param>
    /// <exception cref="ArgumentException">A setting is out of range; the message names it.</exception>
    public static void ValidateRetentionSettings(string section, int days, TimeSpan interval, int batchSize, int maxBatchSize)
    {
        if (days < 0)
        {
            throw new ArgumentException($"{section}:RetentionDays is {days}; use 0 (keep everything) or more.", "RetentionDays");
        }

        if (interval < TimeSpan.FromSeconds(1))
        {
            throw new ArgumentException($"{section}:RetentionInterval is {interval}; use at least 1 second.", "RetentionInterval");
        }

        if (batchSize < 1 || batchSize > maxBatchSize)
        {
            throw new ArgumentException($"{section}:RetentionBatchSize is {batchSize}; use 1 to {maxBatchSize:N0}.", "RetentionBatchSize");
        }
    }

    /// <summary>
    /// Whether retention may delete a run at <paramref name="cutoff"/>: it is in a final state and its
    /// <see cref="FlowRunRecord.EndedAt"/> is set and before the cutoff.
    /// </summary>
    /// <param name="run">The run.</param>
    /// <param name="cutoff">The cutoff (exclusive).</param>
    /// <returns>Whether the run is finished and old enough.</returns>
    public static bool EndedBefore(FlowRunRecord run, DateTimeOffset cutoff)
    {
        ArgumentNullException.ThrowIfNull(run);
        return Flow.Sdk.RunStates.IsFinal(run.State) && run.EndedAt is { } ended && ended < cutoff;
    }

    /// <summary>Checks a logical queue name: 1-40 lowercase ASCII letters, digits and single hyphens, a letter or digit at both ends.</summary>
    /// <param name="queue">The name.</param>
    /// <exception cref="ArgumentException">The name is malformed.</exception>
    public static void ValidateQueueName(string queue)
    {
        ArgumentException.ThrowIfNullOrEmpty(queue);
        var valid = queue.Length <= MaxQueueNameLength && queue[0] != '-' && queue[^1] != '-' && !queue.Contains("--", StringComparison.Ordinal)
            && queue.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-');
        if (!valid)
        {
            throw new ArgumentException(
                $"'{queue}' is not a queue name: 1-{MaxQueueNameLength} lowercase letters, digits and single hyphens, starting and ending with a letter or digit.",
                nameof(queue));
        }
    }

    /// <summary>Checks a visibility delay: zero to 7 days.</summary>
    /// <param name="delay">The delay.</param>
    /// <exception cref="ArgumentOutOfRangeException">Out of range.</exception>
    public static void ValidateDelay(TimeSpan delay) => ValidateSpan(delay, TimeSpan.Zero, nameof(delay));

    /// <summary>Checks a lease duration: 1 second to 7 days.</summary>
    /// <param name="leaseDuration">The lease.</param>
    /// <exception cref="ArgumentOutOfRangeException">Out of range.</exception>
    public static void ValidateLease(TimeSpan leaseDuration) => ValidateSpan(leaseDuration, MinLease, nameof(leaseDuration));

    /// <summary>Checks a dequeue request: a valid queue name, 1-32 items and a valid lease.</summary>
    /// <param name="queue">The queue.</param>
    /// <param name="maxItems">The most items.</param>
    /// <param name="leaseDuration">The lease.</param>
    /// <exception cref="ArgumentException">A value is out of range.</exception>
    public static void ValidateDequeue(string queue, int maxItems, TimeSpan leaseDuration)
    {
        ValidateQueueName(queue);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxItems, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxItems, MaxDequeueItems);
        ValidateLease(leaseDuration);
    }

    private static HashSet<string> ValidateDistinctIds(IEnumerable<string> ids, int maxLength, string what)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var id in ids)
        {
            ValidateId(id, maxLength, "commit");
            if (!seen.Add(id))
            {
                throw new ArgumentException($"{what} '{id}' appears twice in one commit.", "commit");
            }
        }

        return seen;
    }

    private static void ValidateSpan(TimeSpan value, TimeSpan min, string paramName)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(value, min, paramName);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(value, MaxQueueDelay, paramName);
    }

    private static void ValidateRun(FlowRunRecord run)
    {
        ValidateId(run.RunId, MaxRunIdLength, nameof(run));
        ArgumentException.ThrowIfNullOrEmpty(run.FlowName, nameof(run));
        if (run.JournalLength < 0 || run.TransitionCount < 0 || run.LogCount < 0)
        {
            throw new ArgumentException($"Run '{run.RunId}' has a negative count.", nameof(run));
        }
    }

    private static void ValidateSequence(IEnumerable<int> indexes, int last, string what, string countName)
    {
        var list = indexes.ToList();
        for (var i = 0; i < list.Count; i++)
        {
            var expected = last - list.Count + 1 + i;
            if (list[i] != expected || expected < 1)
            {
                throw new ArgumentException(
                    $"The commit's {what} indexes must run consecutively up to the run's {countName} {last}; item {i} has index {list[i]}, expected {expected}.",
                    "commit");
            }
        }
    }

    private static void ValidateId(string id, int maxLength, string paramName)
    {
        ArgumentException.ThrowIfNullOrEmpty(id, paramName);
        if (id.Length > maxLength || !id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
        {
            throw new ArgumentException($"'{Shorten(id)}' is not a valid id: 1-{maxLength} ASCII letters, digits, '-', '_' and '.'.", paramName);
        }
    }

    private static string Shorten(string value) => value.Length <= 60 ? value : value[..60] + "…";

    private static string Capitalize(string value) => value.Length == 0 ? value : char.ToUpperInvariant(value[0]) + value[1..];
}
