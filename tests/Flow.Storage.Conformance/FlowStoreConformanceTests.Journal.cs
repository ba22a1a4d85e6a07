using Flow.Engine.Storage;
using Flow.Sdk;
using Flow.TestSupport;

namespace Flow.Storage.Conformance;

/// <summary>Journals, state histories, logs and artifacts.</summary>
public abstract partial class FlowStoreConformanceTests
{
    [Fact]
    public async Task LoadJournalAsync_EventsFromSeveralCommits_ReturnsThemInIndexOrder()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var (store, created) = await NewStoreWithRunAsync(deadline.Token);

        // Past index 9 and 99 and across commits, so an index kept as text must sort as a number.
        var (current, all) = await CommitBatchesAsync(
            store, created, [3, 8, store.MaxItemsPerCommit, 5], (from, count) => Events(from, count), (run, events) => Commit(run, events: events), deadline.Token);

        var journal = await store.LoadJournalAsync(current.Record, deadline.Token);
        Assert.Equal(all, journal.Events);
        Assert.Equal(all.Count, current.Record.JournalLength);
    }

    [Fact]
    public async Task LoadJournalAsync_RecordWithAShorterJournal_IgnoresLaterEvents()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var (store, created) = await NewStoreWithRunAsync(deadline.Token);
        var events = Events(1, 5);
        var current = await store.CommitAsync(Commit(created, events: events), deadline.Token);

        var three = await store.LoadJournalAsync(current.Record with { JournalLength = 3 }, deadline.Token);
        var none = await store.LoadJournalAsync(current.Record with { JournalLength = 0 }, deadline.Token);

        Assert.Equal(events[..3], three.Events);
        Assert.Empty(none.Events);
    }

    [Fact]
    public async Task LoadJournalAsync_NewAttempt_StartsANewJournalAtIndexOne()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var (store, created) = await NewStoreWithRunAsync(deadline.Token);
        var first = Events(1, 3, tag: "attempt1");
        var afterFirst = await store.CommitAsync(Commit(created, events: first), deadline.Token);
        var second = Events(1, 2, tag: "attempt2");

        var current = await store.CommitAsync(
            Commit(
                afterFirst,
                r => r with { Attempt = 2, JournalLength = 0, State = RunState.Running },
                events: second,
                transitions: [Transition(2, RunState.Pending, RunState.Running, attempt: 2)]),
            deadline.Token);

        Assert.Equal(2, current.Record.Attempt);
        Assert.Equal(2, current.Record.JournalLength);
        Assert.Equal(second, (await store.LoadJournalAsync(current.Record, deadline.Token)).Events);
        Assert.Equal(first, (await store.LoadJournalAsync(afterFirst.Record, deadline.Token)).Events);
        var runId = current.Record.RunId;
        Assert.Equal(first[2], await store.GetJournalEventAsync(runId, 1, 3, deadline.Token));
        Assert.Equal(second[0], await store.GetJournalEventAsync(runId, 2, 1, deadline.Token));
        Assert.Null(await store.GetJournalEventAsync(runId, 2, 3, deadline.Token));
    }

    [Fact]
    public async Task LoadJournalAsync_UnknownRun_ReturnsAnEmptyJournal()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);

        var journal = await store.LoadJournalAsync(NewRun(NewRunId("unknown")) with { JournalLength = 3 }, deadline.Token);

        Assert.Empty(journal.Events);
        Assert.Empty(journal.Inbox);
    }

    [Fact]
    public async Task GetJournalEventAsync_ExistingAndMissingEvents_ReturnsTheEventOrNull()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var (store, created) = await NewStoreWithRunAsync(deadline.Token);
        var events = Events(1, 12);
        await store.CommitAsync(Commit(created, events: events), deadline.Token);
        var runId = created.Record.RunId;

        Assert.Equal(events[1], await store.GetJournalEventAsync(runId, 1, 2, deadline.Token));
        Assert.Equal(events[11], await store.GetJournalEventAsync(runId, 1, 12, deadline.Token));
        Assert.Null(await store.GetJournalEventAsync(runId, 1, 13, deadline.Token));
        Assert.Null(await store.GetJournalEventAsync(runId, 1, 0, deadline.Token));
        Assert.Null(await store.GetJournalEventAsync(runId, 2, 1, deadline.Token));
        Assert.Null(await store.GetJournalEventAsync(NewRunId("unknown"), 1, 1, deadline.Token));
    }

    [Fact]
    public async Task JournalEvents_EveryKindStateAndField_RoundTrip()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var (store, created) = await NewStoreWithRunAsync(deadline.Token);
        var kinds = Enum.GetValues<JournalEventKind>();
        var states = Enum.GetValues<RunState>();
        var events = kinds.Select((kind, i) => new JournalEvent
        {
            Index = i + 1,
            Kind = kind,
            CallId = i,
            Name = $"タスク {kind} 'quoted' \"double\"",
            Attempt = i + 1,
            State = states[i % states.Length],
            Timestamp = T0.AddSeconds(i),
            StartedAt = T0.AddSeconds(i).AddMilliseconds(-250),
            DueAt = T0.AddDays(i).AddTicks(30),
            Payload = $"{{ \"kind\" : \"{kind}\", \"values\": [1, 2.5, \"ü\"] }}",
            Failure = new FailureInfo($"System.Exception{i}", $"failed ✗ {i}", i % 2 == 0 ? null : $"   at A.B()\n   at C.D() in /src/e.cs:line {i}"),
            Detail = $"child-run-{i}/cache#key?",
        }).ToList();
        events.Add(new JournalEvent { Index = events.Count + 1, Kind = JournalEventKind.Marker, Timestamp = T0 });

        var current = await store.CommitAsync(Commit(created, events: events), deadline.Token);

        var expected = events.Select(StorageContract.Normalize).ToArray();
        Assert.Equal(expected, (await store.LoadJournalAsync(current.Record, deadline.Token)).Events);
        foreach (var e in expected)
        {
            Assert.Equal(e, await store.GetJournalEventAsync(current.Record.RunId, 1, e.Index, deadline.Token));
        }
    }

    [Fact]
    public async Task GetStateHistoryAsync_TransitionsFromSeveralCommits_ReturnsThemInOrder()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var (store, created) = await NewStoreWithRunAsync(deadline.Token);
        var states = Enum.GetValues<RunState>();

        var (current, added) = await CommitBatchesAsync(
            store,
            created,
            [1, 3, 9],
            (from, count) => Enumerable.Range(from + 1, count)
                .Select(i => new StateTransition(i, states[(i - 2) % states.Length], states[(i - 1) % states.Length], T0.AddSeconds(i), i % 3 == 0 ? null : $"step {i} ✓", 1 + (i / 5)))
                .ToArray(),
            (run, transitions) => Commit(run, r => r with { State = transitions[^1].To }, transitions: transitions),
            deadline.Token);

        List<StateTransition> expected = [FirstTransition(created.Record), .. added];

        Assert.Equal(expected, await store.GetStateHistoryAsync(current.Record.RunId, deadline.Token));
        Assert.Equal(expected.Count, current.Record.TransitionCount);
        Assert.Empty(await store.GetStateHistoryAsync(NewRunId("unknown"), deadline.Token));
    }

    [Fact]
    public async Task GetLogsAsync_LinesFromSeveralCommits_ArePagedInOrder()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var (store, created) = await NewStoreWithRunAsync(deadline.Token);

        var (current, all) = await CommitBatchesAsync(
            store, created, [7, store.MaxItemsPerCommit, 5, 9], (from, count) => Logs(from, count), (run, lines) => Commit(run, logs: lines), deadline.Token);

        Assert.Equal(all, await ReadAllLogsAsync(store, current.Record.RunId, 7, deadline.Token));
        Assert.Equal(all, await ReadAllLogsAsync(store, current.Record.RunId, 1, deadline.Token));
        Assert.Equal(all, await ReadAllLogsAsync(store, current.Record.RunId, StorageContract.MaxPageSize, deadline.Token));
        Assert.Equal(all.Count, current.Record.LogCount);
    }

    [Fact]
    public async Task GetLogsAsync_TokenFromAnEarlierPage_AlsoReturnsLinesAddedLater()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var (store, created) = await NewStoreWithRunAsync(deadline.Token);
        var early = Logs(1, 5);
        var current = await store.CommitAsync(Commit(created, logs: early), deadline.Token);
        var first = await store.GetLogsAsync(current.Record.RunId, 3, null, deadline.Token);
        Assert.NotNull(first.ContinuationToken);
        var late = Logs(6, 4, tag: "late");
        await store.CommitAsync(Commit(current, logs: late), deadline.Token);

        var rest = new List<RunLogLine>();
        for (var token = first.ContinuationToken; token is not null;)
        {
            var page = await store.GetLogsAsync(current.Record.RunId, 3, token, deadline.Token);
            rest.AddRange(page.Lines);
            token = page.ContinuationToken;
        }

        Assert.Equal(early.Concat(late), first.Lines.Concat(rest));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(StorageContract.MaxPageSize + 1)]
    public async Task GetLogsAsync_PageSizeOutOfRange_ThrowsArgumentOutOfRangeException(int pageSize)
    {
        using var deadline = TestDeadline.Create(Timeout);
        var (store, run) = await NewStoreWithRunAsync(deadline.Token);

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.GetLogsAsync(run.Record.RunId, pageSize, null, deadline.Token));
    }

    [Fact]
    public async Task GetLogsAsync_TokenNotFromTheStore_ThrowsArgumentException()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var (store, created) = await NewStoreWithRunAsync(deadline.Token);
        await store.CommitAsync(Commit(created, logs: Logs(1, 3)), deadline.Token);

        await Assert.ThrowsAnyAsync<ArgumentException>(() => store.GetLogsAsync(created.Record.RunId, 2, "not a token!", deadline.Token));
    }

    [Fact]
    public async Task GetLogsAsync_UnknownRun_ReturnsAnEmptyLastPage()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);

        var page = await store.GetLogsAsync(NewRunId("unknown"), 10, null, deadline.Token);

        Assert.Empty(page.Lines);
        Assert.Null(page.ContinuationToken);
    }

    [Fact]
    public async Task CommitAsync_Artifacts_AreReplacedByKeyAndListedInOrdinalKeyOrder()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var (store, created) = await NewStoreWithRunAsync(deadline.Token);
        var table = Artifact("b-table", "[{\"a\":1,\"b\":\"ü\"},{\"a\":2,\"b\":null}]", ArtifactType.Table);
        var link = Artifact("link", "https://example.com/report?id=1&x=%20", ArtifactType.Link) with { Description = null, CallId = 0 };
        var current = await store.CommitAsync(Commit(created, artifacts: [Artifact("summary"), table, link]), deadline.Token);
        var summary = new RunArtifact("summary", ArtifactType.Link, "https://example.com/replaced", null, T0.AddMinutes(1), CallId: 9);
        var added = Artifact("a.new_1") with { Description = "é 🚀" };
        var upper = Artifact("Zeta");

        await store.CommitAsync(Commit(current, artifacts: [summary, added, upper]), deadline.Token);

        Assert.Equal([upper, added, table, link, summary], await store.GetArtifactsAsync(created.Record.RunId, deadline.Token));
        Assert.Empty(await store.GetArtifactsAsync(NewRunId("unknown"), deadline.Token));
    }

    [Fact]
    public async Task CommitAsync_ArtifactKeyMalformedOrTwiceInOneCommit_ThrowsArgumentException()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var (store, current) = await NewStoreWithRunAsync(deadline.Token);

        await Assert.ThrowsAnyAsync<ArgumentException>(() => store.CommitAsync(Commit(current, artifacts: [Artifact("k"), Artifact("k")]), deadline.Token));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => store.CommitAsync(Commit(current, artifacts: [Artifact("a/b")]), deadline.Token));

        await AssertUnchangedAsync(store, current, [], deadline.Token);
    }
}
