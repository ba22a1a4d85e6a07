using Flow.Engine.Storage;
using Flow.Sdk;
using Flow.Testing;
using Flow.TestSupport;

namespace Flow.Storage.Azure.Tests;

/// <summary>Retention on Azure (<see cref="AzureRetentionService"/> over the store's <see cref="IRunRetention"/>), on a fake clock, against Azurite.</summary>
public sealed class AzureRetentionTests(AzuriteFixture azurite) : AzureFlowTestBase(azurite)
{
    private static readonly DateTimeOffset Now = T0.AddDays(100);

    [Fact]
    public async Task RunOnceAsync_OldFinishedRuns_VanishFromEveryTableAndTheBlobContainer_LiveAndRecentRunsStay()
    {
        var old1 = await FinishedRunAsync("old-1", Now.AddDays(-40), deployment: "etl/daily");
        var old2 = await FinishedRunAsync("old-2", Now.AddDays(-31));
        var recent = await FinishedRunAsync("recent-1", Now.AddDays(-29));
        var running = await TransitionAsync(await CreateAsync(NewRun("running-1", createdAt: Now.AddDays(-90))), RunState.Running, Now.AddDays(-89));
        var scheduled = await CreateAsync(NewRun("scheduled-1", state: RunState.Scheduled, createdAt: Now.AddDays(-90)));
        Assert.NotEmpty(await BlobNamesAsync("old-1/"));

        // A batch of one: the service repeats until a batch comes back short.
        Assert.Equal(2, await Retention(days: 30, batchSize: 1).RunOnceAsync(Ct));

        foreach (var gone in new[] { old1, old2 })
        {
            Assert.Empty(await RawRowsAsync(Store.RunsTable, gone));
            Assert.Empty(await BlobNamesAsync(gone + "/"));
            Assert.DoesNotContain(await AllIndexRowsAsync(), r => r.GetString("RunId") == gone);
        }

        foreach (var kept in new[] { recent, running.Record.RunId, scheduled.Record.RunId })
        {
            Assert.NotNull(await Store.GetRunAsync(kept, Ct));
            Assert.Contains(await AllIndexRowsAsync(), r => r.GetString("RunId") == kept);
        }

        Assert.NotEmpty(await BlobNamesAsync("recent-1/"));
        Assert.Equal("\"" + new string('r', 50_000) + "\"", (await Store.GetRunAsync(recent, Ct))!.Record.Result);
        Assert.Equal(RunState.Running, (await Store.GetRunAsync("running-1", Ct))!.Record.State);
    }

    [Fact]
    public async Task RunOnceAsync_RetentionDaysZero_KeepsEverything_AndTheDefaultIsThirtyDays()
    {
        var old = await FinishedRunAsync("ancient-1", T0);

        Assert.Equal(0, await Retention(days: 0, batchSize: 10).RunOnceAsync(Ct));
        Assert.NotNull(await Store.GetRunAsync(old, Ct));
        Assert.Equal(30, new AzureFlowStorageOptions().RetentionDays);
        Assert.Equal(30, new AzureRetentionService(Store, Store.Events, Microsoft.Extensions.Options.Options.Create(new AzureFlowStorageOptions())).Days);
    }

    [Fact]
    public async Task DeleteFinishedRunsAsync_InterruptedAfterTheRunRow_IsFinishedByTheNextPass()
    {
        var old = await FinishedRunAsync("half-1", Now.AddDays(-40));
        await Store.RunsTable.DeleteEntityAsync(old, "run", cancellationToken: Ct); // a crash right after the first step

        Assert.Equal(0, await Store.DeleteFinishedRunsAsync(Now.AddDays(-30), 10, Ct)); // nothing left to count as a run...

        Assert.Empty(await RawRowsAsync(Store.RunsTable, old)); // ...but its rows, blobs and index rows are gone
        Assert.Empty(await BlobNamesAsync(old + "/"));
        Assert.DoesNotContain(await AllIndexRowsAsync(), r => r.GetString("RunId") == old);
    }

    private AzureRetentionService Retention(int days, int batchSize) =>
        new(Store, Store.Events, Microsoft.Extensions.Options.Options.Create(Options with { RetentionDays = days, RetentionBatchSize = batchSize }), new FakeClock(Now));

    private async Task<List<global::Azure.Data.Tables.TableEntity>> AllIndexRowsAsync()
    {
        var rows = new List<global::Azure.Data.Tables.TableEntity>();
        await foreach (var row in Store.RunIndexTable.QueryAsync<global::Azure.Data.Tables.TableEntity>(cancellationToken: Ct))
        {
            rows.Add(row);
        }

        return rows;
    }

    /// <summary>A run with an event, an inbox item, a log line, an artifact, a result in a payload blob and three transitions, Completed at <paramref name="endedAt"/>.</summary>
    private async Task<string> FinishedRunAsync(string runId, DateTimeOffset endedAt, string? deployment = null)
    {
        var stored = await CreateAsync(NewRun(runId, createdAt: endedAt.AddHours(-1)) with { Deployment = deployment });
        var started = endedAt.AddMinutes(-30);
        var run = stored.Record with { State = RunState.Running, StateTime = started, TransitionCount = 2, JournalLength = 1, LogCount = 1 };
        stored = await Store.CommitAsync(new RunCommit
        {
            ExpectedVersion = stored.Version,
            Run = run,
            Transitions = [new StateTransition(2, RunState.Pending, RunState.Running, started, null, 1)],
            Events = [new JournalEvent { Index = 1, Kind = JournalEventKind.TaskCompleted, CallId = 1, Timestamp = started, Payload = new string('p', 40_000) }],
            InboxToAdd = [new InboxItem { Id = "event-1", Kind = InboxItemKind.Event, Timestamp = started }],
            Logs = [new RunLogLine(started, "Information", "hello")],
            Artifacts = [new RunArtifact("report", ArtifactType.Markdown, "# hi", null, started)],
        }, Ct);
        var done = stored.Record with { State = RunState.Completed, StateTime = endedAt, EndedAt = endedAt, TransitionCount = 3, Result = "\"" + new string('r', 50_000) + "\"" };
        await Store.CommitAsync(new RunCommit
        {
            ExpectedVersion = stored.Version,
            Run = done,
            Transitions = [new StateTransition(3, RunState.Running, RunState.Completed, endedAt, null, 1)],
        }, Ct);
        return runId;
    }
}
