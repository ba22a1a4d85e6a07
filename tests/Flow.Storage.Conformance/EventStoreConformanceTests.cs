using System.Collections.Concurrent;
using Flow.Engine.Events;
using Flow.Engine.Storage;
using Flow.Sdk;
using Flow.TestSupport;

namespace Flow.Storage.Conformance;

/// <summary>
/// The conformance suite of events (docs/events.md) every backend passes: a flow store and the event store it feeds. A
/// backend's test project subclasses it and implements <see cref="CreateStoresAsync"/> (and <see cref="SettleAsync"/> when its
/// outbox is relayed). Every test gets stores of its own.
/// </summary>
public abstract partial class EventStoreConformanceTests
{
    /// <summary>A base time, already normalized.</summary>
    protected static readonly DateTimeOffset T0 = new(2026, 3, 14, 15, 9, 26, 535, TimeSpan.Zero);

    /// <summary>Creates a new flow store and the event store it writes its run events to, isolated from every other (not yet initialized).</summary>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The stores.</returns>
    protected abstract Task<(IFlowStore Flows, IEventStore Events)> CreateStoresAsync(CancellationToken cancellationToken);

    /// <summary>Waits until the events of the commits made so far have reached the event store (a relay's turn); nothing by default.</summary>
    /// <param name="flows">The flow store.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task.</returns>
    protected virtual Task SettleAsync(IFlowStore flows, CancellationToken cancellationToken) => Task.CompletedTask;

    [Fact]
    public async Task CreateRunAsync_CreatedRun_HasItsFirstEvent()
    {
        using var deadline = TestDeadline.Create();
        var (flows, events) = await NewStoresAsync(deadline.Token);
        var run = StoreTestRuns.New(NewRunId(), T0) with { Deployment = "etl/daily", Pool = "gpu", Tags = new Dictionary<string, string> { ["team"] = "data" } };
        await StoreTestRuns.CreateAsync(flows, run, deadline.Token);
        await SettleAsync(flows, deadline.Token);

        var page = await events.ListAsync(new EventQuery { ResourceId = RunEvents.ResourceId(run.RunId) }, deadline.Token);
        var e = Assert.Single(page.Events);
        Assert.Equal(run.RunId + ".t1", e.Id);
        Assert.Equal("flow-run.Pending", e.Kind);
        Assert.Equal(T0, e.OccurredAt);
        Assert.Equal("flow-run/" + run.RunId, e.Resource.Id);
        Assert.Equal("Pending", e.Resource.Labels!["state"]);
        Assert.Equal("etl/daily", e.Resource.Labels["deployment"]);
        Assert.Equal("gpu", e.Resource.Labels["pool"]);
        Assert.Contains(e.Related, r => r.Id == "deployment/etl/daily" && r.Role == "deployment");
        Assert.Contains(e.Related, r => r.Id == "work-pool/gpu" && r.Role == "work-pool");
        Assert.Contains(e.Related, r => r.Id == "tag/team" && r.Role == "tag");
        Assert.Contains(e.Related, r => r.Id == "flow/conformance-flow" && r.Role == "flow");
    }

    [Fact]
    public async Task CommitAsync_WithTransitions_WritesOneEventPerTransition()
    {
        using var deadline = TestDeadline.Create();
        var (flows, events) = await NewStoresAsync(deadline.Token);
        var stored = await StoreTestRuns.CreateAsync(flows, StoreTestRuns.New(NewRunId(), T0), deadline.Token);
        var retryAt = T0.AddMinutes(5);
        await flows.CommitAsync(new RunCommit
        {
            ExpectedVersion = stored.Version,
            Run = stored.Record with { State = RunState.AwaitingRetry, TransitionCount = 3, WakeAt = retryAt, StateTime = T0.AddSeconds(2) },
            Transitions =
            [
                new StateTransition(2, RunState.Pending, RunState.Crashed, T0.AddSeconds(1), "worker died", 1),
                new StateTransition(3, RunState.Crashed, RunState.AwaitingRetry, T0.AddSeconds(2), "retry 1 of 2", 1),
            ],
        }, deadline.Token);
        await SettleAsync(flows, deadline.Token);

        var page = await events.ListAsync(new EventQuery { ResourceId = RunEvents.ResourceId(stored.Record.RunId) }, deadline.Token);
        Assert.Equal(["flow-run.AwaitingRetry", "flow-run.Crashed", "flow-run.Pending"], page.Events.Select(e => e.Kind));
        Assert.Contains("\"previousState\":\"Crashed\"", page.Events[0].Payload, StringComparison.Ordinal);
        Assert.Contains("\"nextAttemptAt\":\"2026-03-14T15:14:26.535+00:00\"", page.Events[0].Payload, StringComparison.Ordinal);
        Assert.Contains("\"message\":\"worker died\"", page.Events[1].Payload, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CommitAsync_VersionConflict_WritesNoEvent()
    {
        using var deadline = TestDeadline.Create();
        var (flows, events) = await NewStoresAsync(deadline.Token);
        var stored = await StoreTestRuns.CreateAsync(flows, StoreTestRuns.New(NewRunId(), T0), deadline.Token);
        var running = stored.Record with { State = RunState.Running, TransitionCount = 2 };
        await flows.CommitAsync(new RunCommit { ExpectedVersion = stored.Version, Run = running, Transitions = [new StateTransition(2, RunState.Pending, RunState.Running, T0.AddSeconds(1), null, 1)] }, deadline.Token);

        await Assert.ThrowsAsync<ConcurrencyException>(() => flows.CommitAsync(
            new RunCommit { ExpectedVersion = stored.Version, Run = stored.Record with { State = RunState.Cancelled, TransitionCount = 2 }, Transitions = [new StateTransition(2, RunState.Pending, RunState.Cancelled, T0.AddSeconds(2), "stale", 1)] },
            deadline.Token));
        await SettleAsync(flows, deadline.Token);

        var page = await events.ListAsync(new EventQuery { ResourceId = RunEvents.ResourceId(stored.Record.RunId) }, deadline.Token);
        Assert.Equal(["flow-run.Running", "flow-run.Pending"], page.Events.Select(e => e.Kind));
        Assert.DoesNotContain(page.Events, e => e.Kind == "flow-run.Cancelled");
    }

    [Fact]
    public async Task AppendAsync_SameIdTwice_KeepsTheFirst()
    {
        using var deadline = TestDeadline.Create();
        var (_, events) = await NewStoresAsync(deadline.Token);
        var id = "ext-" + UniqueNames.Suffix();
        await events.AppendAsync([External(id, "ci.build.passed", T0, "{\"n\":1}")], deadline.Token);
        await events.AppendAsync([External(id, "ci.build.passed", T0.AddDays(3), "{\"n\":2}"), External(id + "b", "ci.build.failed", T0, null)], deadline.Token);

        var page = await events.ListAsync(new EventQuery { KindPrefix = "ci." }, deadline.Token);
        Assert.Equal(2, page.Events.Count);
        Assert.Equal("{\"n\":1}", Assert.Single(page.Events, e => e.Id == id).Payload);

        // An event reaches the feed shortly after it is stored (on PostgreSQL once every older transaction in the cluster has ended).
        var feed = new List<FlowEvent>();
        await deadline.PollUntilAsync(async ct =>
        {
            feed = [.. (await events.ReadFeedAsync(null, 100, ct)).Events];
            return feed.Any(e => e.Id == id + "b");
        }, "both appends to reach the feed");
        Assert.Single(feed, e => e.Id == id);
    }

    [Fact]
    public async Task AppendAsync_InvalidEvent_StoresNothingAndNamesTheField()
    {
        using var deadline = TestDeadline.Create();
        var (_, events) = await NewStoresAsync(deadline.Token);
        var error = await Assert.ThrowsAsync<ArgumentException>(() => events.AppendAsync([External("ok-" + UniqueNames.Suffix(), "x.y", T0, null), External("bad", "", T0, null)], deadline.Token));
        Assert.Equal("events[1].kind", error.ParamName);
        Assert.Empty((await events.ListAsync(new EventQuery(), deadline.Token)).Events);
    }

    [Fact]
    public async Task ListAsync_FiltersByKindPrefixResourceAndTime_NewestFirstInPages()
    {
        using var deadline = TestDeadline.Create();
        var (_, events) = await NewStoresAsync(deadline.Token);
        var list = new List<FlowEvent>();
        for (var i = 0; i < 7; i++)
        {
            list.Add(External($"e{i}-{UniqueNames.Suffix()}", i % 2 == 0 ? "ci.build.passed" : "deploy.finished", T0.AddHours(i * 10), null, i < 3 ? "repo/a" : "repo/b"));
        }

        await events.AppendAsync(list, deadline.Token);

        var all = await ReadAllAsync(events, new EventQuery { PageSize = 2 }, deadline.Token);
        Assert.Equal(list.Select(e => e.Id).Reverse(), all.Select(e => e.Id));

        var builds = await ReadAllAsync(events, new EventQuery { KindPrefix = "ci.build.", PageSize = 3 }, deadline.Token);
        Assert.Equal([list[6].Id, list[4].Id, list[2].Id, list[0].Id], builds.Select(e => e.Id));

        var family = await ReadAllAsync(events, new EventQuery { KindPrefix = "dep", PageSize = 1 }, deadline.Token);
        Assert.Equal([list[5].Id, list[3].Id, list[1].Id], family.Select(e => e.Id));

        var repoA = await ReadAllAsync(events, new EventQuery { ResourceId = "repo/a", PageSize = 2 }, deadline.Token);
        Assert.Equal([list[2].Id, list[1].Id, list[0].Id], repoA.Select(e => e.Id));

        var related = await ReadAllAsync(events, new EventQuery { ResourceId = "team/data" }, deadline.Token);
        Assert.Equal(7, related.Count);

        var window = await ReadAllAsync(events, new EventQuery { Since = T0.AddHours(20), Until = T0.AddHours(50), PageSize = 2 }, deadline.Token);
        Assert.Equal([list[4].Id, list[3].Id, list[2].Id], window.Select(e => e.Id));

        var combined = await ReadAllAsync(events, new EventQuery { ResourceId = "repo/b", KindPrefix = "ci.", Since = T0.AddHours(40) }, deadline.Token);
        Assert.Equal([list[6].Id, list[4].Id], combined.Select(e => e.Id));

        await Assert.ThrowsAnyAsync<ArgumentException>(() => events.ListAsync(new EventQuery { ContinuationToken = "nonsense" }, deadline.Token));

        // Events of the same time: by id, ascending, across pages.
        var tied = new[] { "tie-c", "tie-a", "tie-b" }.Select(id => External(id + UniqueNames.Suffix(), "tie.x", T0.AddDays(30), null, "repo/tie")).ToList();
        await events.AppendAsync(tied, deadline.Token);
        var ties = await ReadAllAsync(events, new EventQuery { ResourceId = "repo/tie", PageSize = 1 }, deadline.Token);
        Assert.Equal(tied.Select(e => e.Id).Order(StringComparer.Ordinal), ties.Select(e => e.Id));
    }

    [Fact]
    public async Task ReadFeedAsync_FollowerDuringConcurrentCommits_SeesEveryEventOnceInOrder_AndAnOldCursorSeesThemAgain()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(120));
        var (flows, events) = await NewStoresAsync(deadline.Token);
        var start = await events.GetFeedEndAsync(deadline.Token);
        const int Writers = 6;
        const int RunsPerWriter = 4;
        var expected = new ConcurrentBag<string>();
        var writing = Task.WhenAll(Enumerable.Range(0, Writers).Select(w => Task.Run(async () =>
        {
            for (var r = 0; r < RunsPerWriter; r++)
            {
                var stored = await StoreTestRuns.CreateAsync(flows, StoreTestRuns.New(NewRunId($"w{w}"), T0.AddSeconds((w * 100) + r)), deadline.Token);
                expected.Add(stored.Record.RunId + ".t1");
                await flows.CommitAsync(new RunCommit
                {
                    ExpectedVersion = stored.Version,
                    Run = stored.Record with { State = RunState.Running, TransitionCount = 2 },
                    Transitions = [new StateTransition(2, RunState.Pending, RunState.Running, T0.AddSeconds((w * 100) + r + 1), null, 1)],
                }, deadline.Token);
                expected.Add(stored.Record.RunId + ".t2");
            }
        }, deadline.Token)));

        // Follow the feed while the writers commit, until every event arrived.
        var seen = new List<string>();
        var cursor = start;
        // After the writers, wait while events still arrive; give up after 30 s without one (on PostgreSQL a row reaches the feed
        // once every older transaction in the cluster has ended, so a busy cluster delays it; on Azure a gap closes after 15 s).
        var lastArrival = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var done = writing.IsCompleted;
            if (done)
            {
                await writing;
            }

            await SettleAsync(flows, deadline.Token); // a relay's turn while the writers commit

            var page = await events.ReadFeedAsync(cursor, 7, deadline.Token);
            seen.AddRange(page.Events.Select(e => e.Id).Where(id => id.StartsWith('w')));
            cursor = page.Cursor;
            if (page.Events.Count > 0 || !done)
            {
                lastArrival.Restart();
            }

            if (done && page.Events.Count == 0 && (seen.Count >= expected.Count || lastArrival.Elapsed > TimeSpan.FromSeconds(30)))
            {
                break; // all arrived, or nothing more arrives: the assertions below say what is missing
            }

            if (page.Events.Count == 0)
            {
                await Task.Delay(10, deadline.Token);
            }
        }

        Assert.True(
            expected.Order(StringComparer.Ordinal).SequenceEqual(seen.Order(StringComparer.Ordinal)),
            $"each event exactly once; missing: {string.Join(", ", expected.Except(seen))}; repeated: {string.Join(", ", seen.GroupBy(id => id).Where(g => g.Count() > 1).Select(g => g.Key))}; cursor {cursor}");
        foreach (var runId in seen.Select(id => id[..id.LastIndexOf('.')]).Distinct())
        {
            Assert.True(seen.IndexOf(runId + ".t1") < seen.IndexOf(runId + ".t2"), $"{runId}: t1 before t2 in feed order");
        }

        var again = new List<string>();
        var old = start;
        while (true)
        {
            var page = await events.ReadFeedAsync(old, 50, deadline.Token);
            if (page.Events.Count == 0)
            {
                break;
            }

            again.AddRange(page.Events.Select(e => e.Id).Where(id => id.StartsWith('w')));
            old = page.Cursor;
        }

        Assert.Equal(seen, again);
        Assert.Empty((await events.ReadFeedAsync(await events.GetFeedEndAsync(deadline.Token), 10, deadline.Token)).Events);
    }

    private async Task<(IFlowStore Flows, IEventStore Events)> NewStoresAsync(CancellationToken cancellationToken)
    {
        var (flows, events) = await CreateStoresAsync(cancellationToken);
        await flows.InitializeAsync(cancellationToken);
        await events.InitializeAsync(cancellationToken);
        return (flows, events);
    }

    private static string NewRunId(string prefix = "ev") => $"{prefix}-{UniqueNames.Suffix()}";

    private static FlowEvent External(string id, string kind, DateTimeOffset at, string? payload, string resource = "repo/a") => new()
    {
        Id = id,
        Kind = kind,
        OccurredAt = at,
        Resource = new EventResource(resource),
        Related = [new EventResource("team/data", "team")],
        Payload = payload,
    };

    private static async Task<List<FlowEvent>> ReadAllAsync(IEventStore events, EventQuery query, CancellationToken cancellationToken)
    {
        var all = new List<FlowEvent>();
        while (true)
        {
            var page = await events.ListAsync(query, cancellationToken);
            Assert.True(page.Events.Count <= query.PageSize);
            all.AddRange(page.Events);
            if (page.ContinuationToken is null)
            {
                return all;
            }

            query = query with { ContinuationToken = page.ContinuationToken };
        }
    }
}
