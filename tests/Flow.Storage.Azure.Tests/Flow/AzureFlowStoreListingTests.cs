using Flow.Engine.Storage;
using Flow.Sdk;
using Flow.TestSupport;

namespace Flow.Storage.Azure.Tests;

/// <summary>Listing reads the RunIndex table by range and checks every index row against its run.</summary>
public sealed class AzureFlowStoreListingTests(AzuriteFixture azurite) : AzureFlowTestBase(azurite)
{
    [Fact]
    public async Task ListRunsAsync_RunRowWithoutIndexRows_IsNotListed()
    {
        var stored = await CreateAsync(NewRun("run-indexed"));
        await Store.RunsTable.AddEntityAsync(new global::Azure.Data.Tables.TableEntity("run-unindexed", "run") { ["FlowName"] = "etl", ["State"] = "Pending" }, Ct);

        var page = await Store.ListRunsAsync(new RunQuery(), Ct);

        Assert.Equal(["run-indexed"], page.Runs.Select(r => r.RunId));
        Assert.Null(page.ContinuationToken);
        Assert.Equal(stored.Record.RunId, page.Runs[0].RunId);
    }

    [Fact]
    public async Task ListRunsAsync_ByState_SkipsAndRemovesAStaleIndexRow()
    {
        var stored = await CreateAsync(NewRun("run-moved"));
        var pendingRow = Assert.Single(await RawRowsAsync(Store.RunIndexTable, "state-Pending"));
        await TransitionAsync(stored, RunState.Running);
        Assert.Empty(await RawRowsAsync(Store.RunIndexTable, "state-Pending"));

        // As if the delete after the commit had been lost.
        await Store.RunIndexTable.UpsertEntityAsync(pendingRow, global::Azure.Data.Tables.TableUpdateMode.Replace, Ct);

        var pending = await Store.ListRunsAsync(new RunQuery { State = RunState.Pending }, Ct);
        var running = await Store.ListRunsAsync(new RunQuery { State = RunState.Running }, Ct);

        Assert.Empty(pending.Runs);
        Assert.Equal(["run-moved"], running.Runs.Select(r => r.RunId));
        Assert.Empty(await RawRowsAsync(Store.RunIndexTable, "state-Pending"));
    }

    [Fact]
    public async Task ListRunsAsync_IndexRowOfACommitInFlight_IsNotShownAndKept()
    {
        var stored = await CreateAsync(NewRun("run-inflight"));
        var next = stored.Record with { State = RunState.Running, TransitionCount = 2 };
        await Store.RunIndexTable.UpsertEntityAsync(
            new global::Azure.Data.Tables.TableEntity("state-Running", FlowKeys.StateIndexRow(next, 2)) { ["RunId"] = "run-inflight", ["EnteredAt"] = 2, ["State"] = "Running" }, global::Azure.Data.Tables.TableUpdateMode.Replace, Ct);

        var running = await Store.ListRunsAsync(new RunQuery { State = RunState.Running }, Ct);

        Assert.Empty(running.Runs);
        Assert.Single(await RawRowsAsync(Store.RunIndexTable, "state-Running"));
        Assert.Equal(["run-inflight"], (await Store.ListRunsAsync(new RunQuery { State = RunState.Pending }, Ct)).Runs.Select(r => r.RunId));
    }

    [Fact]
    public async Task ListRunsAsync_PagesNewestFirst_WithFiltersAsRangeQueries()
    {
        for (var i = 0; i < 7; i++)
        {
            await CreateAsync(NewRun($"run-{i}", flow: i % 2 == 0 ? "even" : "odd", createdAt: T0.AddMinutes(i)));
        }

        var seen = new List<string>();
        string? token = null;
        do
        {
            var page = await Store.ListRunsAsync(new RunQuery { PageSize = 3, ContinuationToken = token }, Ct);
            seen.AddRange(page.Runs.Select(r => r.RunId));
            token = page.ContinuationToken;
        }
        while (token is not null);

        Assert.Equal(["run-6", "run-5", "run-4", "run-3", "run-2", "run-1", "run-0"], seen);
        var even = await Store.ListRunsAsync(new RunQuery { FlowName = "even", CreatedFrom = T0.AddMinutes(2), CreatedBefore = T0.AddMinutes(6) }, Ct);
        Assert.Equal(["run-4", "run-2"], even.Runs.Select(r => r.RunId));
        var pendingOdd = await Store.ListRunsAsync(new RunQuery { State = RunState.Pending, FlowName = "odd" }, Ct);
        Assert.Equal(["run-5", "run-3", "run-1"], pendingOdd.Runs.Select(r => r.RunId));
    }

    [Fact]
    public async Task CreateRunAsync_SameIdTwiceWithDifferentTimes_KeepsTheFirstAndOnlyItsIndexRows()
    {
        await CreateAsync(NewRun("run-dup", createdAt: T0));
        var (again, created) = await Store.CreateRunAsync(NewRun("run-dup", createdAt: T0.AddHours(1)), new StateTransition(1, null, RunState.Pending, T0.AddHours(1), null, 1), Ct);

        Assert.False(created);
        Assert.Equal(T0, again.Record.CreatedAt);
        var recent = Assert.Single(await RawRowsAsync(Store.RunIndexTable, "recent"));
        Assert.Equal(FlowKeys.InvertedTicks(T0) + "-run-dup", recent.RowKey);
    }

    [Fact]
    public async Task ListRunsAsync_TokenOfAnotherQuery_ThrowsArgumentException()
    {
        for (var i = 0; i < 3; i++)
        {
            await CreateAsync(NewRun($"run-t{i}", createdAt: T0.AddMinutes(i)));
        }

        var byState = await Store.ListRunsAsync(new RunQuery { State = RunState.Pending, PageSize = 1 }, Ct);
        Assert.NotNull(byState.ContinuationToken);

        await Assert.ThrowsAsync<ArgumentException>(() => Store.ListRunsAsync(new RunQuery { ContinuationToken = byState.ContinuationToken }, Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.ListRunsAsync(new RunQuery { ContinuationToken = "not a token!" }, Ct));
        var next = await Store.ListRunsAsync(new RunQuery { State = RunState.Pending, PageSize = 1, ContinuationToken = byState.ContinuationToken }, Ct);
        Assert.Equal(["run-t1"], next.Runs.Select(r => r.RunId));
    }

    [Fact]
    public async Task CommitAsync_LoserOfARaceToTheSameState_LeavesTheWinnersIndexRow()
    {
        var stored = await CreateAsync(NewRun("run-race-state"));
        await TransitionAsync(stored, RunState.Running);

        await Assert.ThrowsAsync<ConcurrencyException>(() => TransitionAsync(stored, RunState.Running));

        var running = await Store.ListRunsAsync(new RunQuery { State = RunState.Running }, Ct);
        Assert.Equal(["run-race-state"], running.Runs.Select(r => r.RunId));
    }

    [Fact]
    public async Task CommitAsync_RunOfADeployment_MovesItsRowBetweenTheDeploymentsStatePartitions()
    {
        var stored = await CreateAsync(NewRun("run-dep") with { Deployment = "etl/daily" });
        await CreateAsync(NewRun("run-adhoc"));
        Assert.Equal(["run-dep"], (await RawRowsAsync(Store.RunIndexTable, "deployment-etl%2Fdaily")).Select(r => r.GetString("RunId")));
        var pendingRow = Assert.Single(await RawRowsAsync(Store.RunIndexTable, "deployment-etl%2Fdaily~Pending"));
        Assert.Equal("etl/daily", pendingRow.GetString("Deployment"));

        await TransitionAsync(stored, RunState.Running);

        Assert.Empty(await RawRowsAsync(Store.RunIndexTable, "deployment-etl%2Fdaily~Pending"));
        var running = Assert.Single(await RawRowsAsync(Store.RunIndexTable, "deployment-etl%2Fdaily~Running"));
        Assert.Equal(FlowKeys.InvertedTicks(T0) + "-run-dep-000002", running.RowKey);
        Assert.Equal(2, running.GetInt32("EnteredAt"));
        Assert.Single(await RawRowsAsync(Store.RunIndexTable, "deployment-etl%2Fdaily"));
    }

    [Fact]
    public async Task ListRunsAsync_ByDeploymentAndState_SkipsAndRemovesAStaleIndexRow()
    {
        var stored = await CreateAsync(NewRun("run-dep-moved") with { Deployment = "etl/daily" });
        var pendingRow = Assert.Single(await RawRowsAsync(Store.RunIndexTable, "deployment-etl%2Fdaily~Pending"));
        await TransitionAsync(stored, RunState.Running);
        await Store.RunIndexTable.UpsertEntityAsync(pendingRow, global::Azure.Data.Tables.TableUpdateMode.Replace, Ct); // as if the delete had been lost

        var pending = await Store.ListRunsAsync(new RunQuery { Deployment = "etl/daily", State = RunState.Pending }, Ct);
        var running = await Store.ListRunsAsync(new RunQuery { Deployment = "etl/daily", State = RunState.Running }, Ct);

        Assert.Empty(pending.Runs);
        Assert.Equal(["run-dep-moved"], running.Runs.Select(r => r.RunId));
        Assert.Empty(await RawRowsAsync(Store.RunIndexTable, "deployment-etl%2Fdaily~Pending"));
    }

    [Fact]
    public async Task ListRunsAsync_DeploymentNamesThatLookAlike_HaveSeparatePartitions()
    {
        // '~' and '/' are escaped in names, so "a/b~Running" (a deployment) and "a/b" in state Running cannot share a partition.
        await CreateAsync(NewRun("run-tilde", state: RunState.Running) with { Deployment = "a/b~Running" });
        await CreateAsync(NewRun("run-plain", state: RunState.Running, createdAt: T0.AddMinutes(1)) with { Deployment = "a/b" });

        var plainRunning = await Store.ListRunsAsync(new RunQuery { Deployment = "a/b", State = RunState.Running }, Ct);
        var tilde = await Store.ListRunsAsync(new RunQuery { Deployment = "a/b~Running" }, Ct);

        Assert.Equal(["run-plain"], plainRunning.Runs.Select(r => r.RunId));
        Assert.Equal(["run-tilde"], tilde.Runs.Select(r => r.RunId));
        Assert.Single(await RawRowsAsync(Store.RunIndexTable, "deployment-a%2Fb%7ERunning"));
        Assert.Single(await RawRowsAsync(Store.RunIndexTable, "deployment-a%2Fb~Running"));
    }
}
