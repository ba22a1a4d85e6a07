using Flow.Engine.Storage;
using Flow.Sdk;
using Flow.TestSupport;

namespace Flow.Storage.Conformance;

/// <summary>
/// The conformance suite every <see cref="IFlowStore"/> passes. A backend's test project subclasses it and
/// implements <see cref="CreateStoreAsync"/>; xunit discovers the inherited tests there:
/// <code>
/// public sealed class AzureFlowStoreConformanceTests(AzuriteFixture azurite) : FlowStoreConformanceTests
/// {
///     protected override Task&lt;IFlowStore&gt; CreateStoreAsync(CancellationToken cancellationToken) =&gt;
///         Task.FromResult&lt;IFlowStore&gt;(new AzureFlowStore(azurite.ConnectionString, tablePrefix: UniqueNames.Table("t")));
/// }
/// </code>
/// Every test creates its own store, so stores must be isolated from each other (unique table names, a schema
/// per store, …). The suite calls <see cref="IFlowStore.InitializeAsync"/> itself. Stores that are
/// <see cref="IAsyncDisposable"/> or <see cref="IDisposable"/> are disposed after the test.
/// </summary>
public abstract partial class FlowStoreConformanceTests : IAsyncDisposable
{
    /// <summary>A base time, already normalized (UTC, whole microseconds).</summary>
    protected static readonly DateTimeOffset T0 = new(2026, 3, 14, 15, 9, 26, 535, TimeSpan.Zero);

    private const int MiB = 1024 * 1024;

    private readonly List<IFlowStore> _stores = [];

    /// <summary>The deadline of an ordinary test. Defaults to 30 seconds.</summary>
    protected virtual TimeSpan Timeout => TestDeadline.DefaultTimeout;

    /// <summary>The deadline of a test that moves many megabytes. Defaults to 2 minutes.</summary>
    protected virtual TimeSpan LargePayloadTimeout => TimeSpan.FromMinutes(2);

    /// <summary>Creates a new, empty store, isolated from every other store the suite creates (it need not be initialized yet).</summary>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The store.</returns>
    protected abstract Task<IFlowStore> CreateStoreAsync(CancellationToken cancellationToken);

    /// <summary>Disposes the stores the test created.</summary>
    /// <returns>A task.</returns>
    public async ValueTask DisposeAsync()
    {
        await DisposeAsyncCore();
        GC.SuppressFinalize(this);
    }

    /// <summary>Disposes the stores the test created; override to clean up more (call the base).</summary>
    /// <returns>A task.</returns>
    protected virtual ValueTask DisposeAsyncCore() => Disposal.DisposeAllAsync(_stores);

    /// <summary>Creates and initializes a store for the current test.</summary>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The store.</returns>
    protected async Task<IFlowStore> NewStoreAsync(CancellationToken cancellationToken)
    {
        var store = await CreateStoreAsync(cancellationToken);
        _stores.Add(store);
        await store.InitializeAsync(cancellationToken);
        return store;
    }

    /// <summary>Creates and initializes a store for the current test, with one new run (<see cref="NewRun"/>) in it.</summary>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The store and the run.</returns>
    protected async Task<(IFlowStore Store, StoredRun Run)> NewStoreWithRunAsync(CancellationToken cancellationToken)
    {
        var store = await NewStoreAsync(cancellationToken);
        return (store, await CreateAsync(store, NewRun(), cancellationToken));
    }

    /// <summary>The size of a "large" payload for <paramref name="store"/>: its maximum, but at most 5 MiB.</summary>
    protected static int LargePayloadBytes(IFlowStore store) => Math.Min(store.MaxPayloadBytes, 5 * MiB);

    /// <summary>A new unique run id.</summary>
    protected static string NewRunId(string prefix = "run") => $"{prefix}-{UniqueNames.Suffix()}";

    /// <summary>A minimal valid new run.</summary>
    protected static FlowRunRecord NewRun(
        string? runId = null, RunState state = RunState.Pending, string flowName = "conformance-flow", DateTimeOffset? createdAt = null) =>
        StoreTestRuns.New(runId ?? NewRunId(), createdAt ?? T0, state, flowName);

    /// <summary>The first transition of <paramref name="run"/>.</summary>
    protected static StateTransition FirstTransition(FlowRunRecord run) => StoreTestRuns.FirstTransition(run);

    /// <summary>Creates <paramref name="run"/> and checks that this call created it.</summary>
    protected static Task<StoredRun> CreateAsync(IFlowStore store, FlowRunRecord run, CancellationToken cancellationToken) =>
        StoreTestRuns.CreateAsync(store, run, cancellationToken);

    /// <summary>
    /// A commit on <paramref name="current"/>: the record changed by <paramref name="change"/>, with its
    /// counts advanced by the events, transitions and log lines given.
    /// </summary>
    protected static RunCommit Commit(
        StoredRun current,
        Func<FlowRunRecord, FlowRunRecord>? change = null,
        IReadOnlyList<JournalEvent>? events = null,
        IReadOnlyList<StateTransition>? transitions = null,
        IReadOnlyList<InboxItem>? inboxToAdd = null,
        IReadOnlyList<string>? inboxToRemove = null,
        IReadOnlyList<RunLogLine>? logs = null,
        IReadOnlyList<RunArtifact>? artifacts = null)
    {
        var record = change is null ? current.Record : change(current.Record);
        events ??= [];
        transitions ??= [];
        logs ??= [];
        return new RunCommit
        {
            ExpectedVersion = current.Version,
            Run = record with
            {
                JournalLength = record.JournalLength + events.Count,
                TransitionCount = record.TransitionCount + transitions.Count,
                LogCount = record.LogCount + logs.Count,
            },
            Events = events,
            Transitions = transitions,
            InboxToAdd = inboxToAdd ?? [],
            InboxToRemove = inboxToRemove ?? [],
            Logs = logs,
            Artifacts = artifacts ?? [],
        };
    }

    /// <summary>A journal event with the given index and a small payload naming it.</summary>
    protected static JournalEvent Event(int index, string? payload = null, string tag = "e") => new()
    {
        Index = index,
        Kind = JournalEventKind.TaskCompleted,
        CallId = index,
        Name = $"task-{index}",
        Attempt = 1,
        State = RunState.Completed,
        Timestamp = T0.AddMilliseconds(index),
        Payload = payload ?? $"{{\"{tag}\":{index}}}",
    };

    /// <summary>Events <paramref name="from"/> to <paramref name="from"/> + <paramref name="count"/> - 1.</summary>
    protected static JournalEvent[] Events(int from, int count, string tag = "e") =>
        [.. Enumerable.Range(from, count).Select(i => Event(i, tag: tag))];

    /// <summary>A transition with the given index.</summary>
    protected static StateTransition Transition(int index, RunState from, RunState to, int attempt = 1) =>
        new(index, from, to, T0.AddSeconds(index), $"transition {index}: {from} → {to}", attempt);

    /// <summary>An inbox item.</summary>
    protected static InboxItem Inbox(string id, DateTimeOffset? timestamp = null, string? payload = null) => new()
    {
        Id = id,
        Kind = InboxItemKind.TaskCompleted,
        RunAttempt = 1,
        CallId = 3,
        Attempt = 1,
        Name = "task-3",
        Payload = payload ?? $"{{\"inbox\":\"{id}\"}}",
        Timestamp = timestamp ?? T0,
    };

    /// <summary>Log lines <paramref name="from"/> to <paramref name="from"/> + <paramref name="count"/> - 1, each naming its number.</summary>
    protected static RunLogLine[] Logs(int from, int count, string tag = "line") =>
        [.. Enumerable.Range(from, count).Select(n => new RunLogLine(
            T0.AddMilliseconds(n), LogLevels[n % LogLevels.Length], $"{tag} {n}: ünïcödé ✓", CallId: n % 4, Attempt: 1))];

    /// <summary>An artifact.</summary>
    protected static RunArtifact Artifact(string key, string data = "# Report\n\n| a | b |\n|---|---|\n| 1 | ✓ |", ArtifactType type = ArtifactType.Markdown) =>
        new(key, type, data, $"about {key}", T0, CallId: 2);

    /// <summary>Asserts that <paramref name="actual"/> is <paramref name="expected"/> as a store keeps it (times normalized, tags compared as sets).</summary>
    protected static void AssertRun(FlowRunRecord expected, FlowRunRecord? actual)
    {
        Assert.NotNull(actual);
        var normalized = StorageContract.Normalize(expected);
        Assert.Equal(normalized with { Tags = FlowRunRecord.EmptyTags }, actual with { Tags = FlowRunRecord.EmptyTags });
        Assert.Equal(Sorted(normalized.Tags), Sorted(actual.Tags));
    }

    /// <summary>Asserts two long texts are equal, reporting the first difference rather than the texts.</summary>
    protected static void AssertSameText(string expected, string? actual, string what)
    {
        Assert.NotNull(actual);
        if (string.Equals(expected, actual, StringComparison.Ordinal))
        {
            return;
        }

        var i = 0;
        while (i < expected.Length && i < actual.Length && expected[i] == actual[i])
        {
            i++;
        }

        Assert.Fail(
            $"{what} differs: expected {expected.Length:N0} characters, got {actual.Length:N0}; first difference at character {i:N0}: " +
            $"expected \"{Excerpt(expected, i)}\", got \"{Excerpt(actual, i)}\".");
    }

    /// <summary>
    /// Asserts that nothing of a failed commit is visible: the run is <paramref name="before"/>, its inbox is
    /// <paramref name="inboxBefore"/>, it has no artifacts and no journal events, transitions or log lines beyond its counts.
    /// </summary>
    protected static async Task AssertUnchangedAsync(
        IFlowStore store, StoredRun before, IReadOnlyList<InboxItem> inboxBefore, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(before);
        var record = before.Record;
        var now = await store.GetRunAsync(record.RunId, cancellationToken);
        Assert.NotNull(now);
        Assert.Equal(before.Version, now.Version);
        AssertRun(record, now.Record);
        Assert.Null(await store.GetJournalEventAsync(record.RunId, record.Attempt, record.JournalLength + 1, cancellationToken));
        Assert.Equal(record.TransitionCount, (await store.GetStateHistoryAsync(record.RunId, cancellationToken)).Count);
        Assert.Equal(inboxBefore.Select(i => i.Id), (await store.LoadJournalAsync(record, cancellationToken)).Inbox.Select(i => i.Id));
        Assert.Equal(record.LogCount, (await ReadAllLogsAsync(store, record.RunId, 1000, cancellationToken)).Count);
        Assert.Empty(await store.GetArtifactsAsync(record.RunId, cancellationToken));
    }

    /// <summary>
    /// Commits batches of <paramref name="counts"/> items made by <paramref name="make"/> (from the next number, how many)
    /// one commit each, and returns the run after the last commit and every item in order.
    /// </summary>
    protected static async Task<(StoredRun Run, List<T> Items)> CommitBatchesAsync<T>(
        IFlowStore store,
        StoredRun current,
        IEnumerable<int> counts,
        Func<int, int, T[]> make,
        Func<StoredRun, T[], RunCommit> commit,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(counts);
        ArgumentNullException.ThrowIfNull(make);
        ArgumentNullException.ThrowIfNull(commit);
        var all = new List<T>();
        foreach (var count in counts)
        {
            var batch = make(all.Count + 1, count);
            current = await store.CommitAsync(commit(current, batch), cancellationToken);
            all.AddRange(batch);
        }

        return (current, all);
    }

    /// <summary>Creates <paramref name="count"/> runs made by <paramref name="make"/> (from the number 0 up) and returns them as stored.</summary>
    protected static async Task<List<StoredRun>> CreateRunsAsync(IFlowStore store, int count, Func<int, FlowRunRecord> make, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(make);
        var runs = new List<StoredRun>(count);
        for (var i = 0; i < count; i++)
        {
            runs.Add(await CreateAsync(store, make(i), cancellationToken));
        }

        return runs;
    }

    /// <summary>Reads every log line of a run, page by page.</summary>
    protected static async Task<List<RunLogLine>> ReadAllLogsAsync(IFlowStore store, string runId, int pageSize, CancellationToken cancellationToken)
    {
        var lines = new List<RunLogLine>();
        string? token = null;
        do
        {
            var page = await store.GetLogsAsync(runId, pageSize, token, cancellationToken);
            Assert.InRange(page.Lines.Count, 0, pageSize);
            lines.AddRange(page.Lines);
            token = page.ContinuationToken;
        }
        while (token is not null);
        return lines;
    }

    /// <summary>Reads every run matching <paramref name="query"/>, page by page.</summary>
    protected static async Task<List<FlowRunRecord>> ListAllAsync(IFlowStore store, RunQuery query, CancellationToken cancellationToken)
    {
        var runs = new List<FlowRunRecord>();
        var next = query;
        while (true)
        {
            var page = await store.ListRunsAsync(next, cancellationToken);
            Assert.InRange(page.Runs.Count, 0, query.PageSize);
            runs.AddRange(page.Runs);
            if (page.ContinuationToken is null)
            {
                return runs;
            }

            next = query with { ContinuationToken = page.ContinuationToken };
        }
    }

    private static readonly string[] LogLevels = ["Trace", "Debug", "Information", "Warning", "Error", "Critical"];

    private static string Excerpt(string text, int at) =>
        text.Substring(Math.Max(0, at - 10), Math.Min(text.Length, at + 10) - Math.Max(0, at - 10));

    private static KeyValuePair<string, string>[] Sorted(IReadOnlyDictionary<string, string> tags) =>
        [.. tags.OrderBy(t => t.Key, StringComparer.Ordinal)];
}
