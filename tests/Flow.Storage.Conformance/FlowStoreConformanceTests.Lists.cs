using Flow.Engine.Storage;
using Flow.Sdk;
using Flow.TestSupport;

namespace Flow.Storage.Conformance;

/// <summary>Listing runs: order, filters, paging.</summary>
public abstract partial class FlowStoreConformanceTests
{
    [Fact]
    public async Task ListRunsAsync_EmptyStore_ReturnsAnEmptyLastPage()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);

        var page = await store.ListRunsAsync(new RunQuery(), deadline.Token);

        Assert.Empty(page.Runs);
        Assert.Null(page.ContinuationToken);
    }

    [Fact]
    public async Task ListRunsAsync_RunsCreatedWithSubMicrosecondTimes_AreAllListedByEveryFilter()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);
        // Clocks give 100 ns ticks; stores keep microseconds. A run created with a finer time must still be found.
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            var created = T0.AddTicks((i * 10_000) + 1 + i);
            var run = FullRun(NewRunId($"fine{i}"), i) with { CreatedAt = created, StateTime = created, State = RunState.Running, Deployment = "fine/deployment", TransitionCount = 1 };
            var stored = await CreateAsync(store, run, deadline.Token);
            Assert.Equal(StorageContract.NormalizeTime(created), stored.Record.CreatedAt);
            ids.Add(run.RunId);
        }

        var all = await ListAllAsync(store, new RunQuery { PageSize = 1000 }, deadline.Token);
        var byDeployment = await ListAllAsync(store, new RunQuery { Deployment = "fine/deployment", PageSize = 1000 }, deadline.Token);
        var byState = await ListAllAsync(store, new RunQuery { State = RunState.Running, Deployment = "fine/deployment", PageSize = 1000 }, deadline.Token);

        Assert.Equal(ids.AsEnumerable().Reverse(), all.Select(r => r.RunId).Where(ids.Contains));
        Assert.Equal(ids.AsEnumerable().Reverse(), byDeployment.Select(r => r.RunId));
        Assert.Equal(ids.AsEnumerable().Reverse(), byState.Select(r => r.RunId));
    }

    [Fact]
    public async Task ListRunsAsync_NoFilter_ReturnsCurrentRecordsNewestFirstThenByRunId()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);
        // Created out of order; three share a creation time (ties are ordered by run id, ordinal).
        int[] minutes = [5, 1, 9, 3, 7, 7, 0, 2, 7, 8];
        var runs = new List<FlowRunRecord>();
        for (var i = 0; i < minutes.Length; i++)
        {
            var run = FullRun(NewRunId($"r{i}"), i) with { CreatedAt = T0.AddMinutes(minutes[i]), TransitionCount = 1 };
            var stored = await CreateAsync(store, run, deadline.Token);
            runs.Add((await store.CommitAsync(Commit(stored, r => r with { StateMessage = $"updated {i}" }), deadline.Token)).Record);
        }

        var listed = await ListAllAsync(store, new RunQuery { PageSize = 1000 }, deadline.Token);

        var expected = runs.OrderByDescending(r => r.CreatedAt).ThenBy(r => r.RunId, StringComparer.Ordinal).ToList();
        Assert.Equal(expected.Select(r => r.RunId), listed.Select(r => r.RunId));
        for (var i = 0; i < expected.Count; i++)
        {
            AssertRun(expected[i], listed[i]);
        }
    }

    [Fact]
    public async Task ListRunsAsync_ByState_ReflectsTheCurrentStateAfterCommits()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);
        var runs = await CreateRunsAsync(store, 6, i => NewRun(NewRunId($"s{i}"), createdAt: T0.AddMinutes(i)), deadline.Token);

        // s0..s2 → Running; s2 → Completed; s1 → Running → Pending again; s3 → Running, then a stale commit tries Failed.
        for (var i = 0; i <= 3; i++)
        {
            runs[i] = await store.CommitAsync(Move(runs[i], RunState.Running), deadline.Token);
        }

        runs[2] = await store.CommitAsync(Move(runs[2], RunState.Completed), deadline.Token);
        runs[1] = await store.CommitAsync(Move(runs[1], RunState.Pending), deadline.Token);
        var stale = Move(runs[3], RunState.Failed);
        runs[3] = await store.CommitAsync(Commit(runs[3], r => r with { StateMessage = "still running" }), deadline.Token);
        await Assert.ThrowsAsync<ConcurrencyException>(() => store.CommitAsync(stale, deadline.Token));

        async Task<string[]> ListAsync(RunState state)
        {
            var listed = await ListAllAsync(store, new RunQuery { State = state, PageSize = 2 }, deadline.Token);
            Assert.All(listed, r => Assert.Equal(state, r.State));
            foreach (var run in listed)
            {
                AssertRun(runs.Single(s => s.Record.RunId == run.RunId).Record, run);
            }

            return [.. listed.Select(r => r.RunId)];
        }

        string Id(int i) => runs[i].Record.RunId;
        Assert.Equal([Id(5), Id(4), Id(1)], await ListAsync(RunState.Pending));
        Assert.Equal([Id(3), Id(0)], await ListAsync(RunState.Running));
        Assert.Equal([Id(2)], await ListAsync(RunState.Completed));
        Assert.Empty(await ListAsync(RunState.Failed));
        Assert.Empty(await ListAsync(RunState.Scheduled));
    }

    [Fact]
    public async Task ListRunsAsync_ByFlowName_MatchesTheWholeNameExactly()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);
        string[] names = ["etl", "ETL", "etl-daily", "et", "données-流程", "etl", "etl "];
        var ids = (await CreateRunsAsync(store, names.Length, i => NewRun(NewRunId($"f{i}"), flowName: names[i], createdAt: T0.AddMinutes(i)), deadline.Token))
            .ConvertAll(r => r.Record.RunId);

        var etl = await ListAllAsync(store, new RunQuery { FlowName = "etl", PageSize = 1 }, deadline.Token);
        var unicode = await ListAllAsync(store, new RunQuery { FlowName = "données-流程" }, deadline.Token);
        var none = await ListAllAsync(store, new RunQuery { FlowName = "missing" }, deadline.Token);

        Assert.Equal([ids[5], ids[0]], etl.Select(r => r.RunId));
        Assert.Equal([ids[4]], unicode.Select(r => r.RunId));
        Assert.Empty(none);
    }

    [Fact]
    public async Task ListRunsAsync_ByCreationTime_FromIsInclusiveAndBeforeIsExclusive()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);
        var ids = (await CreateRunsAsync(store, 10, i => NewRun(NewRunId($"t{i}"), createdAt: T0.AddMinutes(i).AddTicks(i * 10)), deadline.Token))
            .ConvertAll(r => r.Record.RunId);

        var from = await ListAllAsync(store, new RunQuery { CreatedFrom = T0.AddMinutes(7).AddTicks(70) }, deadline.Token);
        var before = await ListAllAsync(store, new RunQuery { CreatedBefore = T0.AddMinutes(2).AddTicks(20) }, deadline.Token);
        var between = await ListAllAsync(
            store,
            new RunQuery { CreatedFrom = T0.AddMinutes(3).AddTicks(30).ToOffset(TimeSpan.FromHours(2)), CreatedBefore = T0.AddMinutes(7).AddTicks(70), PageSize = 3 },
            deadline.Token);
        var empty = await ListAllAsync(store, new RunQuery { CreatedFrom = T0.AddMinutes(5), CreatedBefore = T0.AddMinutes(5) }, deadline.Token);

        Assert.Equal([ids[9], ids[8], ids[7]], from.Select(r => r.RunId));
        Assert.Equal([ids[1], ids[0]], before.Select(r => r.RunId));
        Assert.Equal([ids[6], ids[5], ids[4], ids[3]], between.Select(r => r.RunId));
        Assert.Empty(empty);
    }

    [Fact]
    public async Task ListRunsAsync_CombinedFilters_ReturnOnlyRunsMatchingAll()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);
        var expected = new List<string>();
        for (var i = 0; i < 24; i++)
        {
            var flow = i % 2 == 0 ? "alpha" : "beta";
            var state = i % 3 == 0 ? RunState.Completed : RunState.Running;
            var run = await CreateAsync(store, NewRun(NewRunId($"c{i}"), RunState.Running, flow, T0.AddMinutes(i)), deadline.Token);
            if (state == RunState.Completed)
            {
                await store.CommitAsync(Move(run, RunState.Completed), deadline.Token);
            }

            if (flow == "alpha" && state == RunState.Completed && i >= 3 && i < 20)
            {
                expected.Insert(0, run.Record.RunId);
            }
        }

        var listed = await ListAllAsync(
            store,
            new RunQuery { State = RunState.Completed, FlowName = "alpha", CreatedFrom = T0.AddMinutes(3), CreatedBefore = T0.AddMinutes(20), PageSize = 2 },
            deadline.Token);

        Assert.Equal(expected, listed.Select(r => r.RunId));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(23)]
    [InlineData(50)]
    public async Task ListRunsAsync_Paging_ReturnsEveryRunExactlyOnceInOrder(int pageSize)
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);
        // Runs 8-14 share one creation time, so ties fall across page boundaries.
        var runs = (await CreateRunsAsync(
                store, 23, i => NewRun(NewRunId($"p{i:D2}"), createdAt: i is >= 8 and <= 14 ? T0.AddMinutes(8) : T0.AddMinutes(i)), deadline.Token))
            .ConvertAll(r => r.Record);

        var listed = await ListAllAsync(store, new RunQuery { PageSize = pageSize }, deadline.Token);

        var expected = runs.OrderByDescending(r => r.CreatedAt).ThenBy(r => r.RunId, StringComparer.Ordinal).Select(r => r.RunId);
        Assert.Equal(expected, listed.Select(r => r.RunId));
    }

    [Fact]
    public async Task ListRunsAsync_RunsCreatedWhilePaging_NoRunIsRepeatedOrSkipped()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);
        var original = (await CreateRunsAsync(store, 10, i => NewRun(NewRunId($"o{i}"), createdAt: T0.AddMinutes(i)), deadline.Token))
            .ConvertAll(r => r.Record.RunId);

        var query = new RunQuery { PageSize = 4 };
        var first = await store.ListRunsAsync(query, deadline.Token);
        Assert.NotNull(first.ContinuationToken);
        await CreateRunsAsync(store, 3, i => NewRun(NewRunId($"n{i}"), createdAt: T0.AddMinutes(20 + i)), deadline.Token);

        var rest = await ListAllAsync(store, query with { ContinuationToken = first.ContinuationToken }, deadline.Token);

        var all = first.Runs.Concat(rest).Select(r => r.RunId).ToList();
        Assert.Equal(all.Count, all.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(Enumerable.Reverse(original), all.Where(original.Contains));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    [InlineData(StorageContract.MaxPageSize + 1)]
    public async Task ListRunsAsync_PageSizeOutOfRange_ThrowsArgumentOutOfRangeException(int pageSize)
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.ListRunsAsync(new RunQuery { PageSize = pageSize }, deadline.Token));
    }

    [Fact]
    public async Task ListRunsAsync_TokenNotFromTheStore_ThrowsArgumentException()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);
        await CreateAsync(store, NewRun(), deadline.Token);

        await Assert.ThrowsAnyAsync<ArgumentException>(
            () => store.ListRunsAsync(new RunQuery { ContinuationToken = "not a token!" }, deadline.Token));
    }

    /// <summary>A commit moving <paramref name="run"/> to <paramref name="state"/> with its transition.</summary>
    protected static RunCommit Move(StoredRun run, RunState state) =>
        Commit(
            run,
            r => r with { State = state, StateMessage = $"now {state}", StateTime = T0.AddHours(1) },
            transitions: [new StateTransition(run.Record.TransitionCount + 1, run.Record.State, state, T0.AddHours(1), null, run.Record.Attempt)]);
}
