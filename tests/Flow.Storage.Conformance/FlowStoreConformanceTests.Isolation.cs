using Flow.Engine.Storage;
using Flow.Sdk;
using Flow.TestSupport;

namespace Flow.Storage.Conformance;

/// <summary>Runs do not see each other's data; callers do not share state with the store; cancellation.</summary>
public abstract partial class FlowStoreConformanceTests
{
    [Fact]
    public async Task Runs_WithIdsThatArePrefixesOrCaseVariantsOfEachOther_AreIsolated()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);
        var stem = NewRunId("iso");
        string[] ids = [stem, stem + "0", stem + "-1", stem.ToUpperInvariant(), stem + "."];

        foreach (var id in ids)
        {
            var created = await CreateAsync(store, NewRun(id, flowName: "iso-" + id), deadline.Token);
            await store.CommitAsync(
                Commit(
                    created,
                    r => r with { State = RunState.Running, StateMessage = id },
                    events: [Event(1, $"{{\"of\":\"{id}\"}}")],
                    transitions: [Transition(2, RunState.Pending, RunState.Running) with { Message = id }],
                    inboxToAdd: [Inbox("same-id", payload: $"{{\"of\":\"{id}\"}}")],
                    logs: [new RunLogLine(T0, "Information", id)],
                    artifacts: [Artifact("same-key", id)]),
                deadline.Token);
        }

        foreach (var id in ids)
        {
            var run = (await store.GetRunAsync(id, deadline.Token))!.Record;
            Assert.Equal(id, run.StateMessage);
            var journal = await store.LoadJournalAsync(run, deadline.Token);
            Assert.Equal($"{{\"of\":\"{id}\"}}", Assert.Single(journal.Events).Payload);
            Assert.Equal($"{{\"of\":\"{id}\"}}", Assert.Single(journal.Inbox).Payload);
            Assert.Equal(id, (await store.GetStateHistoryAsync(id, deadline.Token))[^1].Message);
            Assert.Equal(2, (await store.GetStateHistoryAsync(id, deadline.Token)).Count);
            Assert.Equal(id, Assert.Single(await ReadAllLogsAsync(store, id, 10, deadline.Token)).Message);
            Assert.Equal(id, Assert.Single(await store.GetArtifactsAsync(id, deadline.Token)).Data);
            Assert.Equal(id, Assert.Single(await ListAllAsync(store, new RunQuery { FlowName = "iso-" + id }, deadline.Token)).RunId);
        }
    }

    [Fact]
    public async Task CommitAsync_ConcurrentCommitsOnDifferentRuns_AllSucceed()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);
        var runs = await CreateRunsAsync(store, 8, i => NewRun(NewRunId($"c{i}"), createdAt: T0.AddSeconds(i)), deadline.Token);

        var committed = await Task.WhenAll(runs.Select(run => store.CommitAsync(
            Commit(run, r => r with { StateMessage = r.RunId }, events: Events(1, 3), logs: Logs(1, 2)), deadline.Token)));

        foreach (var run in committed)
        {
            var read = await store.GetRunAsync(run.Record.RunId, deadline.Token);
            Assert.Equal(run.Version, read?.Version);
            Assert.Equal(run.Record.RunId, read?.Record.StateMessage);
            Assert.Equal(3, (await store.LoadJournalAsync(read!.Record, deadline.Token)).Events.Count);
        }
    }

    [Fact]
    public async Task Records_ChangedByTheCallerAfterAWriteOrARead_DoNotChangeTheStore()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);
        var tags = new Dictionary<string, string> { ["env"] = "prod" };
        var run = NewRun() with { Tags = tags };
        var created = await CreateAsync(store, run, deadline.Token);
        var events = new List<JournalEvent>(Events(1, 2));
        var commit = Commit(created, events: events);
        await store.CommitAsync(commit, deadline.Token);

        tags["env"] = "changed by the caller";
        tags["added"] = "by the caller";
        events.Add(Event(3));
        var read = (await store.GetRunAsync(run.RunId, deadline.Token))!.Record;
        if (read.Tags is IDictionary<string, string> { IsReadOnly: false } readTags)
        {
            readTags["env"] = "changed through a read";
        }

        var journal = await store.LoadJournalAsync(read, deadline.Token);
        if (journal.Events is IList<JournalEvent> { IsReadOnly: false } readEvents)
        {
            readEvents.Clear();
        }

        var again = (await store.GetRunAsync(run.RunId, deadline.Token))!.Record;
        Assert.Equal([new KeyValuePair<string, string>("env", "prod")], again.Tags);
        Assert.Equal(2, (await store.LoadJournalAsync(again, deadline.Token)).Events.Count);
    }

    [Fact]
    public async Task Methods_WithACancelledToken_ThrowOperationCanceledException()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var (store, run) = await NewStoreWithRunAsync(deadline.Token);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        var token = cancelled.Token;
        var other = NewRun(NewRunId("cancelled"));
        Func<Task>[] calls =
        [
            () => store.CreateRunAsync(other, FirstTransition(other), token),
            () => store.GetRunAsync(run.Record.RunId, token),
            () => store.CommitAsync(Commit(run, events: Events(1, 1)), token),
            () => store.LoadJournalAsync(run.Record, token),
            () => store.GetJournalEventAsync(run.Record.RunId, 1, 1, token),
            () => store.GetStateHistoryAsync(run.Record.RunId, token),
            () => store.ListRunsAsync(new RunQuery(), token),
            () => store.GetLogsAsync(run.Record.RunId, 10, null, token),
            () => store.GetArtifactsAsync(run.Record.RunId, token),
            () => store.GetCacheEntryAsync("k", token),
            () => store.PutCacheEntryAsync(new CacheEntry("k", "1", "t", "r", T0, null), token),
        ];

        foreach (var call in calls)
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(call);
        }

        await AssertUnchangedAsync(store, run, [], deadline.Token);
        Assert.Null(await store.GetRunAsync(other.RunId, deadline.Token));
        Assert.Null(await store.GetCacheEntryAsync("k", deadline.Token));
    }
}
