using Flow.Engine.Runs;
using Flow.Engine.Storage;
using Flow.Sdk;
using Flow.TestSupport;

namespace Flow.Storage.Conformance;

/// <summary>Listing Late runs (<see cref="RunQuery.LateCutoff"/>) and runs by tag (<see cref="RunQuery.Tags"/>).</summary>
public abstract partial class FlowStoreConformanceTests
{
    [Fact]
    public async Task ListRunsAsync_Late_ListsScheduledOrPendingRunsNeverStartedAndDueBeforeTheCutoff_NewestScheduledFirst()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);
        var cutoff = T0.AddMinutes(10);
        FlowRunRecord Make(string name, RunState state, double dueMinutes, int createdMinutes) =>
            NewRun(NewRunId(name), createdAt: T0.AddMinutes(createdMinutes), state: state) with { ScheduledAt = T0.AddMinutes(dueMinutes) };

        var a = await CreateAsync(store, Make("a", RunState.Scheduled, 1, -60), deadline.Token);
        var b = await CreateAsync(store, Make("b", RunState.Pending, 2, 2), deadline.Token);
        await CreateAsync(store, Make("c", RunState.Scheduled, 20, -50), deadline.Token); // due after the cut-off
        var d = await CreateAsync(store, Make("d", RunState.Pending, 3, 3), deadline.Token);
        var e = await CreateAsync(store, Make("e", RunState.Scheduled, 4, -40), deadline.Token);
        var f = await CreateAsync(store, Make("f", RunState.Pending, 5, 5), deadline.Token);
        await CreateAsync(store, Make("g", RunState.Scheduled, 10, -30), deadline.Token); // due exactly at the cut-off: not Late yet
        var h = await CreateAsync(store, Make("h", RunState.Scheduled, 6, -20) with { FlowName = "late-flow", Deployment = "etl/late", Tags = new Dictionary<string, string> { ["team"] = "data" } }, deadline.Token);
        var i = await CreateAsync(store, Make("i", RunState.Scheduled, 3, -10), deadline.Token); // Scheduled → Pending: still Late
        await store.CommitAsync(Start(d), deadline.Token); // started: never Late again
        e = await store.CommitAsync(Start(e), deadline.Token);
        await store.CommitAsync(Move(e, RunState.Completed), deadline.Token);
        f = await store.CommitAsync(Start(f), deadline.Token);
        await store.CommitAsync(Move(f, RunState.Pending), deadline.Token); // Pending again, but it started once
        i = await store.CommitAsync(Move(i, RunState.Pending), deadline.Token);

        var late = await ListAllAsync(store, new RunQuery { LateCutoff = cutoff, PageSize = 2 }, deadline.Token);

        Assert.Equal([h.Record.RunId, i.Record.RunId, b.Record.RunId, a.Record.RunId], late.Select(r => r.RunId));
        Assert.All(late, r => Assert.True(LateRuns.IsLateAsOf(r, cutoff)));
        AssertRun(i.Record, late[1]);
        Assert.Equal([h.Record.RunId], (await ListAllAsync(store, new RunQuery { LateCutoff = cutoff, Deployment = "etl/late" }, deadline.Token)).Select(r => r.RunId));
        Assert.Equal([h.Record.RunId], (await ListAllAsync(store, new RunQuery { LateCutoff = cutoff, FlowName = "late-flow" }, deadline.Token)).Select(r => r.RunId));
        Assert.Equal([h.Record.RunId], (await ListAllAsync(store, new RunQuery { LateCutoff = cutoff, Tags = [new("team", "data")] }, deadline.Token)).Select(r => r.RunId));
        Assert.Equal(
            [h.Record.RunId, i.Record.RunId],
            (await ListAllAsync(store, new RunQuery { LateCutoff = cutoff, CreatedFrom = T0.AddMinutes(-20), CreatedBefore = T0.AddMinutes(2) }, deadline.Token)).Select(r => r.RunId));
        Assert.Empty((await store.ListRunsAsync(new RunQuery { LateCutoff = T0 }, deadline.Token)).Runs);
    }

    [Fact]
    public async Task ListRunsAsync_LateWithStateOrAForeignToken_ThrowsArgumentException()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);
        await CreateRunsAsync(store, 3, i => NewRun(NewRunId($"t{i}"), createdAt: T0.AddMinutes(i)), deadline.Token);
        var byCreation = await store.ListRunsAsync(new RunQuery { PageSize = 1 }, deadline.Token);
        Assert.NotNull(byCreation.ContinuationToken);

        await Assert.ThrowsAnyAsync<ArgumentException>(() => store.ListRunsAsync(new RunQuery { LateCutoff = T0, State = RunState.Scheduled }, deadline.Token));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => store.ListRunsAsync(new RunQuery { LateCutoff = T0.AddHours(1), ContinuationToken = byCreation.ContinuationToken }, deadline.Token));
    }

    [Fact]
    public async Task ListRunsAsync_ByTags_MatchesEveryConditionByKeyOrExactValue()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);
        Dictionary<string, string>[] tags =
        [
            new() { ["team"] = "data", ["env"] = "prod" },
            new() { ["team"] = "data", ["env"] = "dev" },
            new() { ["team"] = "Data", ["env"] = "prod" },
            new() { ["team"] = "data" },
            [],
            new() { ["ünï"] = "cödé ✓", ["team"] = "data", ["empty"] = string.Empty },
        ];
        var runs = await CreateRunsAsync(store, tags.Length, i => NewRun(NewRunId($"g{i}"), createdAt: T0.AddMinutes(i)) with { Tags = tags[i] }, deadline.Token);
        runs[1] = await store.CommitAsync(Move(runs[1], RunState.Running), deadline.Token);

        async Task<int[]> ListAsync(RunQuery query) =>
            [.. (await ListAllAsync(store, query with { PageSize = 1 }, deadline.Token)).Select(r => runs.FindIndex(s => s.Record.RunId == r.RunId))];

        Assert.Equal(new[] { 5, 3, 1, 0 }, await ListAsync(new RunQuery { Tags = [new("team", "data")] }));
        Assert.Equal(new[] { 5, 3, 2, 1, 0 }, await ListAsync(new RunQuery { Tags = [new("team", null)] }));
        Assert.Equal(new[] { 0 }, await ListAsync(new RunQuery { Tags = [new("team", "data"), new("env", "prod")] }));
        Assert.Equal(new[] { 2, 1, 0 }, await ListAsync(new RunQuery { Tags = [new("env", null)] }));
        Assert.Equal(new[] { 5 }, await ListAsync(new RunQuery { Tags = [new("ünï", "cödé ✓"), new("empty", string.Empty)] }));
        Assert.Equal(new[] { 1 }, await ListAsync(new RunQuery { Tags = [new("team", "data")], State = RunState.Running }));
        Assert.Equal(new[] { 3, 1 }, await ListAsync(new RunQuery { Tags = [new("team", "data")], CreatedFrom = T0.AddMinutes(1), CreatedBefore = T0.AddMinutes(4) }));
        Assert.Empty(await ListAsync(new RunQuery { Tags = [new("team", "dat")] }));
        Assert.Empty(await ListAsync(new RunQuery { Tags = [new("TEAM", null)] }));
        Assert.Empty(await ListAsync(new RunQuery { Tags = [new("empty", "x")] }));
    }

    [Fact]
    public async Task ListRunsAsync_InvalidTagConditions_ThrowArgumentException()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);

        await Assert.ThrowsAnyAsync<ArgumentException>(() => store.ListRunsAsync(new RunQuery { Tags = [new(string.Empty, "x")] }, deadline.Token));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => store.ListRunsAsync(new RunQuery { Tags = [new("a\u0001", null)] }, deadline.Token));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => store.ListRunsAsync(new RunQuery { Tags = [.. Enumerable.Range(0, RunTagFilter.MaxPerQuery + 1).Select(n => new RunTagFilter($"k{n}", null))] }, deadline.Token));
    }

    /// <summary>Starts a run: Running with its start time.</summary>
    private static RunCommit Start(StoredRun run) =>
        Commit(
            run,
            r => r with { State = RunState.Running, StateMessage = "started", StateTime = T0.AddHours(1), StartedAt = T0.AddHours(1) },
            transitions: [new StateTransition(run.Record.TransitionCount + 1, run.Record.State, RunState.Running, T0.AddHours(1), null, run.Record.Attempt)]);
}
