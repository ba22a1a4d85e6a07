using Flow.Engine.Storage;
using Flow.Sdk;
using Flow.TestSupport;

namespace Flow.Storage.Conformance;

/// <summary>Listing runs by deployment (<see cref="RunQuery.Deployment"/>), alone and with the other filters.</summary>
public abstract partial class FlowStoreConformanceTests
{
    [Fact]
    public async Task ListRunsAsync_ByDeployment_MatchesTheWholeNameExactlyAndNeverListsRunsWithoutOne()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);
        string?[] deployments = ["etl/daily", "etl/Daily", "etl/daily-2", "etl/dail", null, "etl/daily", "données/每日 ✓", null, "etl/daily", "etl/daily "];
        var ids = (await CreateRunsAsync(
                store, deployments.Length, i => NewRun(NewRunId($"d{i}"), createdAt: T0.AddMinutes(i)) with { Deployment = deployments[i] }, deadline.Token))
            .ConvertAll(r => r.Record.RunId);

        var daily = await ListAllAsync(store, new RunQuery { Deployment = "etl/daily", PageSize = 1 }, deadline.Token);
        var unicode = await ListAllAsync(store, new RunQuery { Deployment = "données/每日 ✓" }, deadline.Token);
        var upper = await ListAllAsync(store, new RunQuery { Deployment = "ETL/DAILY" }, deadline.Token);
        var empty = await ListAllAsync(store, new RunQuery { Deployment = string.Empty }, deadline.Token);
        var all = await ListAllAsync(store, new RunQuery(), deadline.Token);

        Assert.Equal([ids[8], ids[5], ids[0]], daily.Select(r => r.RunId));
        Assert.All(daily, r => Assert.Equal("etl/daily", r.Deployment));
        Assert.Equal([ids[6]], unicode.Select(r => r.RunId));
        Assert.Empty(upper);
        Assert.Empty(empty);
        Assert.Equal(deployments.Length, all.Count);
    }

    [Fact]
    public async Task ListRunsAsync_ByDeploymentAndState_ReflectsTheCurrentStateAfterCommits()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);
        // d0..d3 of "etl/hourly", o4 of another deployment, n5 of none; all start Pending.
        var runs = await CreateRunsAsync(
            store,
            6,
            i => NewRun(NewRunId(i < 4 ? $"d{i}" : i == 4 ? "o4" : "n5"), createdAt: T0.AddMinutes(i)) with { Deployment = i < 4 ? "etl/hourly" : i == 4 ? "etl/other" : null },
            deadline.Token);
        for (var i = 0; i < runs.Count; i++)
        {
            if (i != 2)
            {
                runs[i] = await store.CommitAsync(Move(runs[i], RunState.Running), deadline.Token);
            }
        }

        runs[1] = await store.CommitAsync(Move(runs[1], RunState.Completed), deadline.Token);
        runs[3] = await store.CommitAsync(Move(runs[3], RunState.Completed), deadline.Token);
        runs[3] = await store.CommitAsync(Move(runs[3], RunState.Running), deadline.Token); // back again: listed once
        var stale = Move(runs[0], RunState.Failed);
        runs[0] = await store.CommitAsync(Commit(runs[0], r => r with { StateMessage = "still running" }), deadline.Token);
        await Assert.ThrowsAsync<ConcurrencyException>(() => store.CommitAsync(stale, deadline.Token));

        async Task<string[]> ListAsync(RunState state)
        {
            var listed = await ListAllAsync(store, new RunQuery { Deployment = "etl/hourly", State = state, PageSize = 1 }, deadline.Token);
            foreach (var run in listed)
            {
                AssertRun(runs.Single(s => s.Record.RunId == run.RunId).Record, run);
            }

            return [.. listed.Select(r => r.RunId)];
        }

        string Id(int i) => runs[i].Record.RunId;
        Assert.Equal([Id(3), Id(0)], await ListAsync(RunState.Running));
        Assert.Equal([Id(1)], await ListAsync(RunState.Completed));
        Assert.Equal([Id(2)], await ListAsync(RunState.Pending));
        Assert.Empty(await ListAsync(RunState.Failed));
        Assert.Equal(
            [Id(3), Id(2), Id(1), Id(0)],
            (await ListAllAsync(store, new RunQuery { Deployment = "etl/hourly", PageSize = 3 }, deadline.Token)).Select(r => r.RunId));
    }

    [Fact]
    public async Task ListRunsAsync_DeploymentWithStateFlowAndTime_ReturnsOnlyRunsMatchingAll()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);
        var byDeployment = new List<string>();
        var byDeploymentAndTime = new List<string>();
        var byAll = new List<string>();
        for (var i = 0; i < 30; i++)
        {
            var deployment = (i % 3) switch { 0 => "etl/nightly", 1 => "etl/hourly", _ => null };
            var flow = i % 2 == 0 ? "alpha" : "beta";
            var completed = i % 4 != 1;
            var run = await CreateAsync(store, NewRun(NewRunId($"m{i:D2}"), RunState.Running, flow, T0.AddMinutes(i)) with { Deployment = deployment }, deadline.Token);
            if (completed)
            {
                await store.CommitAsync(Move(run, RunState.Completed), deadline.Token);
            }

            var id = run.Record.RunId;
            if (deployment == "etl/nightly")
            {
                byDeployment.Insert(0, id);
                if (i is >= 4 and < 25)
                {
                    byDeploymentAndTime.Insert(0, id);
                    if (completed && flow == "alpha")
                    {
                        byAll.Insert(0, id);
                    }
                }
            }
        }

        RunQuery Query(RunState? state = null, string? flow = null, bool timed = false) => new()
        {
            Deployment = "etl/nightly",
            State = state,
            FlowName = flow,
            CreatedFrom = timed ? T0.AddMinutes(4) : null,
            CreatedBefore = timed ? T0.AddMinutes(25) : null,
            PageSize = 2,
        };

        Assert.Equal(byDeployment, (await ListAllAsync(store, Query(), deadline.Token)).Select(r => r.RunId));
        Assert.Equal(byDeploymentAndTime, (await ListAllAsync(store, Query(timed: true), deadline.Token)).Select(r => r.RunId));
        Assert.Equal(byAll, (await ListAllAsync(store, Query(RunState.Completed, "alpha", timed: true), deadline.Token)).Select(r => r.RunId));
        Assert.NotEmpty(byAll);
        Assert.Empty(await ListAllAsync(store, Query(RunState.Completed, "gamma"), deadline.Token));
    }

    [Fact]
    public async Task ListRunsAsync_ByDeploymentWhileRunsAreCreated_NoRunIsRepeatedOrSkipped()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);
        // Runs 3-6 share one creation time, so ties fall across page boundaries.
        var original = (await CreateRunsAsync(
                store, 10, i => NewRun(NewRunId($"o{i}"), createdAt: T0.AddMinutes(i is >= 3 and <= 6 ? 3 : i)) with { Deployment = "etl/paged" }, deadline.Token))
            .ConvertAll(r => r.Record);
        await CreateRunsAsync(store, 5, i => NewRun(NewRunId($"x{i}"), createdAt: T0.AddMinutes(i).AddSeconds(30)) with { Deployment = "etl/paged-not" }, deadline.Token);

        var query = new RunQuery { Deployment = "etl/paged", PageSize = 3 };
        var first = await store.ListRunsAsync(query, deadline.Token);
        Assert.NotNull(first.ContinuationToken);
        await CreateRunsAsync(store, 3, i => NewRun(NewRunId($"n{i}"), createdAt: T0.AddMinutes(20 + i)) with { Deployment = "etl/paged" }, deadline.Token);
        var rest = await ListAllAsync(store, query with { ContinuationToken = first.ContinuationToken }, deadline.Token);

        var expected = original.OrderByDescending(r => r.CreatedAt).ThenBy(r => r.RunId, StringComparer.Ordinal).Select(r => r.RunId);
        Assert.Equal(3, first.Runs.Count);
        Assert.Equal(expected, first.Runs.Concat(rest).Select(r => r.RunId));
    }
}
