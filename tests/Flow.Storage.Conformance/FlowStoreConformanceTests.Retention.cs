using Flow.Engine.Storage;
using Flow.Sdk;
using Flow.TestSupport;

namespace Flow.Storage.Conformance;

/// <summary>Deleting finished runs (<see cref="IRunRetention"/>): retention and the purge API share this path.</summary>
public abstract partial class FlowStoreConformanceTests
{
    [Fact]
    public async Task DeleteRunAsync_FinalRun_IsGoneFromEveryRead_LiveRunIsKept_UnknownIsNotFound()
    {
        using var deadline = TestDeadline.Create(LargePayloadTimeout);
        var store = await NewStoreAsync(deadline.Token);
        var retention = Assert.IsAssignableFrom<IRunRetention>(store);
        var done = await FinishedRunAsync(store, T0.AddDays(1), LargePayloadBytes(store) / 4, deadline.Token);
        var live = await CreateAsync(store, NewRun(state: RunState.Running), deadline.Token);

        Assert.Equal(RunDeletion.NotFinal, await retention.DeleteRunAsync(live.Record.RunId, deadline.Token));
        Assert.Equal(RunDeletion.Deleted, await retention.DeleteRunAsync(done.RunId, deadline.Token));
        Assert.Equal(RunDeletion.NotFound, await retention.DeleteRunAsync(done.RunId, deadline.Token));
        Assert.Equal(RunDeletion.NotFound, await retention.DeleteRunAsync("no-such-run", deadline.Token));

        await AssertGoneAsync(store, done, deadline.Token);
        Assert.NotNull(await store.GetRunAsync(live.Record.RunId, deadline.Token));
        Assert.Equal([live.Record.RunId], (await store.ListRunsAsync(new RunQuery(), deadline.Token)).Runs.Select(r => r.RunId));
    }

    [Fact]
    public async Task DeleteFinishedRunsAsync_DeletesOnlyFinalRunsThatEndedBeforeTheCutoff_InBoundedBatches()
    {
        using var deadline = TestDeadline.Create(LargePayloadTimeout);
        var store = await NewStoreAsync(deadline.Token);
        var retention = Assert.IsAssignableFrom<IRunRetention>(store);
        var cutoff = T0.AddDays(40);
        var old = new List<FlowRunRecord>();
        for (var i = 0; i < 3; i++)
        {
            old.Add(await FinishedRunAsync(store, T0.AddDays(i), i == 0 ? LargePayloadBytes(store) / 4 : 100, deadline.Token));
        }

        var recent = await FinishedRunAsync(store, cutoff.AddSeconds(1), 100, deadline.Token);
        var running = await CreateAsync(store, NewRun(state: RunState.Running, createdAt: T0.AddDays(-10)), deadline.Token);
        var scheduled = await CreateAsync(store, NewRun(state: RunState.Scheduled, createdAt: T0.AddDays(-10)), deadline.Token);

        Assert.Equal(2, await retention.DeleteFinishedRunsAsync(cutoff, 2, deadline.Token));
        Assert.Equal(1, await retention.DeleteFinishedRunsAsync(cutoff, 2, deadline.Token));
        Assert.Equal(0, await retention.DeleteFinishedRunsAsync(cutoff, 2, deadline.Token));
        await Assert.ThrowsAnyAsync<ArgumentOutOfRangeException>(() => retention.DeleteFinishedRunsAsync(cutoff, 0, deadline.Token));

        foreach (var run in old)
        {
            await AssertGoneAsync(store, run, deadline.Token);
        }

        Assert.Equal(RunState.Completed, (await store.GetRunAsync(recent.RunId, deadline.Token))?.Record.State);
        Assert.Equal(RunState.Running, (await store.GetRunAsync(running.Record.RunId, deadline.Token))?.Record.State);
        Assert.Equal(RunState.Scheduled, (await store.GetRunAsync(scheduled.Record.RunId, deadline.Token))?.Record.State);
        Assert.Equal(
            new[] { recent.RunId, running.Record.RunId, scheduled.Record.RunId }.Order(StringComparer.Ordinal),
            (await store.ListRunsAsync(new RunQuery(), deadline.Token)).Runs.Select(r => r.RunId).Order(StringComparer.Ordinal));
        Assert.Equal(3, (await store.GetStateHistoryAsync(recent.RunId, deadline.Token)).Count);
    }

    /// <summary>
    /// A Completed run that ended at <paramref name="endedAt"/> (created an hour before) with an event, an inbox item, a log line,
    /// an artifact, three transitions and a result of <paramref name="resultBytes"/> bytes.
    /// </summary>
    protected static async Task<FlowRunRecord> FinishedRunAsync(IFlowStore store, DateTimeOffset endedAt, int resultBytes, CancellationToken cancellationToken)
    {
        var created = NewRun(createdAt: endedAt.AddHours(-1));
        var stored = await CreateAsync(store, created, cancellationToken);
        var started = endedAt.AddMinutes(-30);
        stored = await store.CommitAsync(
            Commit(
                stored,
                r => r with { State = RunState.Running, StateTime = started, StartedAt = started },
                events: [Event(1, "\"" + new string('e', resultBytes) + "\"")],
                transitions: [new StateTransition(2, RunState.Pending, RunState.Running, started, null, 1)],
                inboxToAdd: [new InboxItem { Id = "event-1", Kind = InboxItemKind.Event, Name = "go", Timestamp = started }],
                logs: [new RunLogLine(started, "Information", "hello")],
                artifacts: [new RunArtifact("report", ArtifactType.Markdown, "# hi", null, started)]),
            cancellationToken);
        stored = await store.CommitAsync(
            Commit(
                stored,
                r => r with { State = RunState.Completed, StateTime = endedAt, EndedAt = endedAt, Result = "\"" + new string('r', resultBytes) + "\"" },
                transitions: [new StateTransition(3, RunState.Running, RunState.Completed, endedAt, null, 1)]),
            cancellationToken);
        return stored.Record;
    }

    private static async Task AssertGoneAsync(IFlowStore store, FlowRunRecord run, CancellationToken cancellationToken)
    {
        Assert.Null(await store.GetRunAsync(run.RunId, cancellationToken));
        Assert.Empty(await store.GetStateHistoryAsync(run.RunId, cancellationToken));
        Assert.Null(await store.GetJournalEventAsync(run.RunId, 1, 1, cancellationToken));
        var journal = await store.LoadJournalAsync(run, cancellationToken);
        Assert.Empty(journal.Events);
        Assert.Empty(journal.Inbox);
        Assert.Empty((await store.GetLogsAsync(run.RunId, 10, null, cancellationToken)).Lines);
        Assert.Empty(await store.GetArtifactsAsync(run.RunId, cancellationToken));
        Assert.DoesNotContain(run.RunId, (await store.ListRunsAsync(new RunQuery { FlowName = run.FlowName }, cancellationToken)).Runs.Select(r => r.RunId));
        Assert.DoesNotContain(run.RunId, (await store.ListRunsAsync(new RunQuery { State = RunState.Completed }, cancellationToken)).Runs.Select(r => r.RunId));
    }
}
