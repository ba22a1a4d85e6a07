using Flow.Engine.Storage;
using Flow.Sdk;
using Flow.TestSupport;

namespace Flow.Storage.Conformance;

/// <summary>Commits: versions, fencing, atomicity, the inbox and the commit's limits.</summary>
public abstract partial class FlowStoreConformanceTests
{
    [Fact]
    public async Task CommitAsync_EachCommit_ReturnsANewVersionThatGetRunReturns()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var (store, current) = await NewStoreWithRunAsync(deadline.Token);
        var versions = new List<string> { current.Version };

        for (var i = 1; i <= 3; i++)
        {
            var message = $"commit {i}";
            current = await store.CommitAsync(Commit(current, r => r with { StateMessage = message }), deadline.Token);
            versions.Add(current.Version);
            var read = await store.GetRunAsync(current.Record.RunId, deadline.Token);
            Assert.Equal(current.Version, read?.Version);
            Assert.Equal(message, read?.Record.StateMessage);
        }

        Assert.Equal(versions.Count, versions.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public async Task CommitAsync_StaleVersion_ThrowsConcurrencyExceptionAndWritesNothing()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var (store, original) = await NewStoreWithRunAsync(deadline.Token);
        var current = await store.CommitAsync(Commit(original, r => r with { StateMessage = "the winner" }), deadline.Token);
        var stale = Commit(
            original,
            r => r with { State = RunState.Failed, StateMessage = "stale" },
            events: Events(1, 3),
            transitions: [Transition(2, RunState.Pending, RunState.Failed)],
            inboxToAdd: [Inbox("stale-1")],
            logs: Logs(1, 2),
            artifacts: [Artifact("stale")]);

        await Assert.ThrowsAsync<ConcurrencyException>(() => store.CommitAsync(stale, deadline.Token));

        await AssertUnchangedAsync(store, current, [], deadline.Token);
        Assert.Null(await store.GetJournalEventAsync(current.Record.RunId, 1, 1, deadline.Token));
    }

    [Fact]
    public async Task CommitAsync_UnknownRun_ThrowsConcurrencyExceptionAndCreatesNothing()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var (store, known) = await NewStoreWithRunAsync(deadline.Token);
        var ghost = new StoredRun(NewRun(NewRunId("ghost")), known.Version);

        await Assert.ThrowsAsync<ConcurrencyException>(
            () => store.CommitAsync(Commit(ghost, events: Events(1, 1), logs: Logs(1, 1), artifacts: [Artifact("a")]), deadline.Token));

        Assert.Null(await store.GetRunAsync(ghost.Record.RunId, deadline.Token));
        Assert.Null(await store.GetJournalEventAsync(ghost.Record.RunId, 1, 1, deadline.Token));
        Assert.Empty(await store.GetArtifactsAsync(ghost.Record.RunId, deadline.Token));
        Assert.Empty(await ReadAllLogsAsync(store, ghost.Record.RunId, 10, deadline.Token));
    }

    [Fact]
    public async Task CommitAsync_ConcurrentCommitsOnOneVersion_ExactlyOneWinsAndOnlyItsItemsAreStored()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var (store, original) = await NewStoreWithRunAsync(deadline.Token);
        var commits = Enumerable.Range(0, 8).Select(i => Commit(
            original,
            r => r with { StateMessage = $"writer {i}" },
            events: Events(1, 2, tag: $"writer{i}"),
            transitions: [Transition(2, RunState.Pending, RunState.Running) with { Message = $"writer {i}" }],
            inboxToAdd: [Inbox($"inbox-{i}")],
            logs: Logs(1, 2, tag: $"writer {i}"),
            artifacts: [Artifact("shared", data: $"writer {i}")])).ToArray();

        var outcomes = await Task.WhenAll(commits.Select(async commit =>
        {
            try
            {
                return await store.CommitAsync(commit, deadline.Token);
            }
            catch (ConcurrencyException)
            {
                return null;
            }
        }));

        var winner = Assert.Single(outcomes, o => o is not null)!;
        var w = Array.IndexOf(outcomes, winner);
        var read = await store.GetRunAsync(original.Record.RunId, deadline.Token);
        Assert.Equal(winner.Version, read?.Version);
        Assert.Equal($"writer {w}", read?.Record.StateMessage);
        var journal = await store.LoadJournalAsync(read!.Record, deadline.Token);
        Assert.Equal(commits[w].Events, journal.Events);
        Assert.Equal([$"inbox-{w}"], journal.Inbox.Select(i => i.Id));
        Assert.Equal(commits[w].Logs, await ReadAllLogsAsync(store, original.Record.RunId, 10, deadline.Token));
        Assert.Equal($"writer {w}", Assert.Single(await store.GetArtifactsAsync(original.Record.RunId, deadline.Token)).Data);
        Assert.Equal($"writer {w}", (await store.GetStateHistoryAsync(original.Record.RunId, deadline.Token))[1].Message);
    }

    [Fact]
    public async Task CommitAsync_InboxIdAlreadyPresent_ThrowsDuplicateInboxItemExceptionAndWritesNothing()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var (store, created) = await NewStoreWithRunAsync(deadline.Token);
        var first = Inbox("task-1-1", T0, "{\"first\":true}");
        var current = await store.CommitAsync(Commit(created, r => r with { WakeRequested = true }, inboxToAdd: [first]), deadline.Token);
        var again = Commit(
            current,
            events: Events(1, 1),
            inboxToAdd: [Inbox("task-1-2"), first with { Payload = "{\"second\":true}" }],
            logs: Logs(1, 1),
            artifacts: [Artifact("dup")]);

        await Assert.ThrowsAsync<DuplicateInboxItemException>(() => store.CommitAsync(again, deadline.Token));

        await AssertUnchangedAsync(store, current, [first], deadline.Token);
        Assert.Equal(first.Payload, Assert.Single((await store.LoadJournalAsync(current.Record, deadline.Token)).Inbox).Payload);
    }

    [Fact]
    public async Task CommitAsync_InboxIdTwiceInOneCommit_ThrowsArgumentExceptionAndWritesNothing()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var (store, current) = await NewStoreWithRunAsync(deadline.Token);

        await Assert.ThrowsAnyAsync<ArgumentException>(
            () => store.CommitAsync(Commit(current, inboxToAdd: [Inbox("twice"), Inbox("twice")]), deadline.Token));
        await Assert.ThrowsAnyAsync<ArgumentException>(
            () => store.CommitAsync(Commit(current, inboxToAdd: [Inbox("both")], inboxToRemove: ["both"]), deadline.Token));

        await AssertUnchangedAsync(store, current, [], deadline.Token);
    }

    [Theory]
    [InlineData("has/slash")]
    [InlineData("has space")]
    [InlineData("")]
    public async Task CommitAsync_MalformedInboxId_ThrowsArgumentException(string id)
    {
        using var deadline = TestDeadline.Create(Timeout);
        var (store, current) = await NewStoreWithRunAsync(deadline.Token);

        await Assert.ThrowsAnyAsync<ArgumentException>(() => store.CommitAsync(Commit(current, inboxToAdd: [Inbox(id)]), deadline.Token));

        await AssertUnchangedAsync(store, current, [], deadline.Token);
    }

    [Fact]
    public async Task CommitAsync_InboxToRemove_RemovesItemsAndIgnoresMissingIds()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var (store, created) = await NewStoreWithRunAsync(deadline.Token);
        var current = await store.CommitAsync(
            Commit(created, inboxToAdd: [Inbox("a", T0), Inbox("b", T0.AddSeconds(1)), Inbox("c", T0.AddSeconds(2))]), deadline.Token);

        current = await store.CommitAsync(Commit(current, events: Events(1, 1), inboxToRemove: ["b", "never-delivered"]), deadline.Token);

        Assert.Equal(["a", "c"], (await store.LoadJournalAsync(current.Record, deadline.Token)).Inbox.Select(i => i.Id));
        current = await store.CommitAsync(Commit(current, inboxToRemove: ["b", "a", "a"]), deadline.Token);
        Assert.Equal(["c"], (await store.LoadJournalAsync(current.Record, deadline.Token)).Inbox.Select(i => i.Id));
    }

    [Fact]
    public async Task LoadJournalAsync_Inbox_IsOldestFirstByTimestampThenId()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var (store, created) = await NewStoreWithRunAsync(deadline.Token);
        var current = await store.CommitAsync(
            Commit(created, inboxToAdd: [Inbox("b", T0.AddSeconds(2)), Inbox("a", T0.AddSeconds(3))]), deadline.Token);
        current = await store.CommitAsync(
            Commit(current, inboxToAdd: [Inbox("e", T0.AddSeconds(2)), Inbox("c", T0.AddSeconds(1)), Inbox("d", T0.AddSeconds(2)), Inbox("B", T0.AddSeconds(2))]),
            deadline.Token);

        var journal = await store.LoadJournalAsync(current.Record, deadline.Token);

        Assert.Equal(["c", "B", "b", "d", "e", "a"], journal.Inbox.Select(i => i.Id));
    }

    [Fact]
    public async Task InboxItems_EveryKindAndField_RoundTrip()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var (store, created) = await NewStoreWithRunAsync(deadline.Token);
        var kinds = Enum.GetValues<InboxItemKind>();
        var items = kinds.Select((kind, i) => new InboxItem
        {
            Id = $"item-{i:D2}",
            Kind = kind,
            RunAttempt = i,
            CallId = 100 + i,
            Attempt = i + 1,
            Name = $"名前 {kind} \"quoted\"",
            Payload = $"{{ \"kind\" : \"{kind}\" }}",
            Failure = i % 2 == 0 ? new FailureInfo("Type" + i, $"message ✗ {i}", $"stack\n  at {i}") : new FailureInfo("Type" + i, "no stack"),
            StartedAt = T0.AddMilliseconds(i),
            Timestamp = T0.AddSeconds(i),
            Detail = $"detail/{i}#?",
        }).Append(new InboxItem { Id = "minimal", Kind = InboxItemKind.Event, Timestamp = T0.AddDays(1) }).ToArray();

        var current = await store.CommitAsync(Commit(created, inboxToAdd: items), deadline.Token);

        Assert.Equal(items.Select(StorageContract.Normalize), (await store.LoadJournalAsync(current.Record, deadline.Token)).Inbox);
    }

    [Fact]
    public async Task CommitAsync_ExactlyMaxItemsPerCommit_StoresEveryItem()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);
        var max = store.MaxItemsPerCommit;
        var created = await CreateAsync(store, NewRun(), deadline.Token);
        var share = max / 10;
        var toRemove = Enumerable.Range(1, share).Select(i => $"old-{i}").ToArray();
        var current = await store.CommitAsync(Commit(created, inboxToAdd: [.. toRemove.Select(id => Inbox(id))]), deadline.Token);
        var events = Events(1, 3 * share);
        var transitions = Enumerable.Range(2, share).Select(i => Transition(i, RunState.Running, RunState.Running)).ToArray();
        var inbox = Enumerable.Range(1, share).Select(i => Inbox($"new-{i}", T0.AddSeconds(i))).ToArray();
        var logs = Logs(1, 3 * share);
        var artifacts = Enumerable.Range(1, max - (9 * share)).Select(i => Artifact($"artifact-{i:D3}")).ToArray();
        var commit = Commit(current, events: events, transitions: transitions, inboxToAdd: inbox, inboxToRemove: toRemove, logs: logs, artifacts: artifacts);
        Assert.Equal(max, commit.ItemCount);

        current = await store.CommitAsync(commit, deadline.Token);

        var journal = await store.LoadJournalAsync(current.Record, deadline.Token);
        Assert.Equal(events, journal.Events);
        Assert.Equal(inbox.Select(i => i.Id), journal.Inbox.Select(i => i.Id));
        Assert.Equal(1 + share, (await store.GetStateHistoryAsync(current.Record.RunId, deadline.Token)).Count);
        Assert.Equal(logs, await ReadAllLogsAsync(store, current.Record.RunId, 1000, deadline.Token));
        Assert.Equal(artifacts, await store.GetArtifactsAsync(current.Record.RunId, deadline.Token));
    }

    [Fact]
    public async Task CommitAsync_OneItemMoreThanMaxItemsPerCommit_ThrowsArgumentExceptionAndWritesNothing()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var (store, current) = await NewStoreWithRunAsync(deadline.Token);
        var max = store.MaxItemsPerCommit;

        await Assert.ThrowsAnyAsync<ArgumentException>(() => store.CommitAsync(Commit(current, events: Events(1, max + 1)), deadline.Token));
        await Assert.ThrowsAnyAsync<ArgumentException>(
            () => store.CommitAsync(Commit(current, events: Events(1, max), artifacts: [Artifact("one-too-many")]), deadline.Token));

        await AssertUnchangedAsync(store, current, [], deadline.Token);
    }

    [Fact]
    public async Task CommitAsync_IndexesNotContinuingToTheRecordCounts_ThrowsArgumentExceptionAndWritesNothing()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var (store, created) = await NewStoreWithRunAsync(deadline.Token);
        var current = await store.CommitAsync(Commit(created, events: Events(1, 2)), deadline.Token);
        RunCommit[] inconsistent =
        [
            Commit(current, events: [Event(3), Event(5)]) with { Run = Commit(current, events: Events(3, 2)).Run },
            Commit(current, events: Events(3, 2)) with { Run = current.Record with { JournalLength = 5 } },
            Commit(current, events: Events(3, 2)) with { Run = current.Record with { JournalLength = 3 } },
            Commit(current, events: [Event(0)]) with { Run = current.Record with { JournalLength = 0 } },
            Commit(current, transitions: [Transition(3, RunState.Pending, RunState.Running)]),
            Commit(current, logs: Logs(1, 2)) with { Run = current.Record with { LogCount = 1 } },
            Commit(current) with { Run = NewRun(current.Record.RunId + "/x") },
        ];

        foreach (var commit in inconsistent)
        {
            await Assert.ThrowsAnyAsync<ArgumentException>(() => store.CommitAsync(commit, deadline.Token));
        }

        await AssertUnchangedAsync(store, current, [], deadline.Token);
    }
}
