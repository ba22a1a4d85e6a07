using Flow.Engine.Runs;
using Flow.Engine.Storage;
using Flow.Engine.Storage.InMemory;
using Flow.Sdk;
using Flow.Testing;
using Flow.TestSupport;

namespace Flow.Engine.Tests.Runs;

/// <summary>The run lifecycle's operations against the in-memory store (proved equal to the real ones by the conformance suite).</summary>
public sealed class RunLifecycleTests
{
    private static readonly DateTimeOffset T0 = new(2030, 1, 1, 12, 0, 0, TimeSpan.Zero);
    private readonly FakeClock _clock = new(T0);
    private readonly InMemoryFlowStore _store = new();
    private readonly InMemoryWorkQueue _queue;
    private readonly RunLifecycle _lifecycle;

    public RunLifecycleTests()
    {
        _queue = new InMemoryWorkQueue(_clock);
        _lifecycle = new RunLifecycle(_store, _queue, _clock);
    }

    private static string RunQueue => RunLifecycle.RunQueueName("default");

    private async Task<StoredRun> CreateAsync(string runId, TestDeadline deadline, DateTimeOffset? scheduledAt = null)
    {
        var (run, created) = await _lifecycle.CreateAsync(new NewRun { RunId = runId, FlowName = "f", Pool = "default", ScheduledAt = scheduledAt }, ensureQueue: true, deadline.Token);
        Assert.True(created);
        return (await _store.GetRunAsync(run.RunId, deadline.Token))!;
    }

    private async Task<IReadOnlyList<StateTransition>> HistoryAsync(string runId, TestDeadline deadline) =>
        await _store.GetStateHistoryAsync(runId, deadline.Token);

    [Fact]
    public async Task CreateAsync_NewRun_StoresPendingWithItsFirstTransitionAndEnqueuesOneStartItem()
    {
        using var deadline = TestDeadline.Create();

        var stored = await CreateAsync("r1", deadline);
        var again = await _lifecycle.CreateAsync(new NewRun { RunId = "r1", FlowName = "f", Pool = "default" }, ensureQueue: false, deadline.Token);

        Assert.Equal(RunState.Pending, stored.Record.State);
        Assert.False(again.Created);
        var history = Assert.Single(await HistoryAsync("r1", deadline));
        Assert.Equal((null, RunState.Pending, "Created"), (history.From, history.To, history.Message));
        Assert.Equal(1, await _queue.GetApproximateCountAsync(RunQueue, deadline.Token));
    }

    [Fact]
    public async Task CreateAsync_TimeAhead_IsScheduledAndItsItemIsHiddenUntilShortlyBeforeIt()
    {
        using var deadline = TestDeadline.Create();

        var stored = await CreateAsync("r1", deadline, scheduledAt: T0.AddMinutes(10));

        Assert.Equal(RunState.Scheduled, stored.Record.State);
        Assert.Empty(await _queue.DequeueAsync(RunQueue, 1, TimeSpan.FromMinutes(1), deadline.Token));
        _clock.Advance(TimeSpan.FromMinutes(10) - RunLifecycle.ScheduledStartLead);
        Assert.Single(await _queue.DequeueAsync(RunQueue, 1, TimeSpan.FromMinutes(1), deadline.Token));
    }

    [Fact]
    public async Task TryClaimAsync_PendingRun_TakesTheLeaseAndRecordsRunningInTheSameCommit()
    {
        using var deadline = TestDeadline.Create();
        var stored = await CreateAsync("r1", deadline);

        var claimed = await _lifecycle.TryClaimAsync(stored, "w1", TimeSpan.FromSeconds(30), null, deadline.Token);

        Assert.NotNull(claimed);
        Assert.Equal(RunState.Running, claimed.Record.State);
        Assert.Equal("w1", claimed.Record.LeaseOwner);
        Assert.Equal(T0.AddSeconds(30), claimed.Record.LeaseUntil);
        Assert.Equal(T0, claimed.Record.StartedAt);
        var history = await HistoryAsync("r1", deadline);
        Assert.Equal(2, claimed.Record.TransitionCount);
        Assert.Equal((RunState.Pending, RunState.Running, "Started on w1"), (history[1].From, history[1].To, history[1].Message));
    }

    [Fact]
    public async Task TryClaimAsync_RunChangedSinceItWasRead_ReturnsNullAndWritesNothing()
    {
        using var deadline = TestDeadline.Create();
        var stale = await CreateAsync("r1", deadline);
        Assert.True(await _lifecycle.RequestCancelAsync("r1", "stop", deadline.Token));

        var claimed = await _lifecycle.TryClaimAsync(stale, "w1", TimeSpan.FromSeconds(30), null, deadline.Token);

        Assert.Null(claimed);
        var run = (await _store.GetRunAsync("r1", deadline.Token))!.Record;
        Assert.Null(run.LeaseOwner);
        Assert.Equal(RunState.Cancelling, run.State);
    }

    [Fact]
    public async Task TryClaimAsync_AwaitingRetry_StartsTheNextAttemptWithAnEmptyJournal()
    {
        using var deadline = TestDeadline.Create();
        var claimed = await _lifecycle.TryClaimAsync(await CreateAsync("r1", deadline), "w1", TimeSpan.FromSeconds(30), null, deadline.Token);
        var retrying = await _lifecycle.TryFailOrRetryAsync(claimed!, new FailureInfo("E", "boom"), retries: 1, TimeSpan.FromSeconds(5), crashed: false, null, deadline.Token);
        _clock.Advance(TimeSpan.FromSeconds(5));

        var second = await _lifecycle.TryClaimAsync(retrying!, "w2", TimeSpan.FromSeconds(30), null, deadline.Token);

        Assert.Equal(2, second!.Record.Attempt);
        Assert.Equal(0, second.Record.JournalLength);
        Assert.Null(second.Record.Failure);
        Assert.Equal(RunState.Running, second.Record.State);
        Assert.Equal("Attempt 2 started on w2", (await HistoryAsync("r1", deadline))[^1].Message);
    }

    [Fact]
    public async Task TryFailOrRetryAsync_RetriesLeft_GoesToAwaitingRetryAndEnqueuesTheNextAttemptAtTheRetryTime()
    {
        using var deadline = TestDeadline.Create();
        var claimed = await _lifecycle.TryClaimAsync(await CreateAsync("r1", deadline), "w1", TimeSpan.FromSeconds(30), null, deadline.Token);
        await _queue.DequeueAsync(RunQueue, 10, TimeSpan.FromHours(1), deadline.Token); // the start item is taken

        var after = await _lifecycle.TryFailOrRetryAsync(claimed!, new FailureInfo("E", "boom"), retries: 2, TimeSpan.FromSeconds(5), crashed: false, null, deadline.Token);

        Assert.Equal(RunState.AwaitingRetry, after!.Record.State);
        Assert.Equal(T0.AddSeconds(5), after.Record.WakeAt);
        Assert.Null(after.Record.LeaseOwner);
        Assert.Equal("boom", after.Record.Failure!.Message);
        Assert.StartsWith("Attempt 1 failed: boom; retrying at", (await HistoryAsync("r1", deadline))[^1].Message, StringComparison.Ordinal);
        Assert.Empty(await _queue.DequeueAsync(RunQueue, 1, TimeSpan.FromMinutes(1), deadline.Token));
        _clock.Advance(TimeSpan.FromSeconds(5));
        var retry = Assert.Single(await _queue.DequeueAsync(RunQueue, 1, TimeSpan.FromMinutes(1), deadline.Token));
        Assert.Equal(2, retry.Item!.RunAttempt);
    }

    [Fact]
    public async Task TryFailOrRetryAsync_NoRetriesLeft_SettlesFailedWithTheFailure()
    {
        using var deadline = TestDeadline.Create();
        var claimed = await _lifecycle.TryClaimAsync(await CreateAsync("r1", deadline), "w1", TimeSpan.FromSeconds(30), null, deadline.Token);

        var after = await _lifecycle.TryFailOrRetryAsync(claimed!, new FailureInfo("E", "boom"), retries: 0, TimeSpan.FromSeconds(5), crashed: false, null, deadline.Token);

        Assert.Equal(RunState.Failed, after!.Record.State);
        Assert.Equal(T0, after.Record.EndedAt);
        Assert.Null(after.Record.LeaseOwner);
        Assert.Equal("boom", after.Record.Failure!.Message);
    }

    [Fact]
    public async Task TryFailOrRetryAsync_CrashedAttemptWithRetriesLeft_RecordsCrashedThenAwaitingRetryInOneCommit()
    {
        using var deadline = TestDeadline.Create();
        var claimed = await _lifecycle.TryClaimAsync(await CreateAsync("r1", deadline), "w1", TimeSpan.FromSeconds(30), null, deadline.Token);

        var after = await _lifecycle.TryFailOrRetryAsync(claimed!, new FailureInfo("Flow.RunCrashed", "worker died"), retries: 1, TimeSpan.FromSeconds(5), crashed: true, null, deadline.Token);

        Assert.Equal(RunState.AwaitingRetry, after!.Record.State);
        var history = await HistoryAsync("r1", deadline);
        Assert.Equal([RunState.Pending, RunState.Running, RunState.Crashed, RunState.AwaitingRetry], history.Select(t => t.To));
        Assert.Equal(claimed!.Record.TransitionCount + 2, after.Record.TransitionCount);
    }

    [Fact]
    public async Task TrySettleAsync_CompletedWhileCancellationWasRequested_EndsCancelled()
    {
        using var deadline = TestDeadline.Create();
        var claimed = await _lifecycle.TryClaimAsync(await CreateAsync("r1", deadline), "w1", TimeSpan.FromSeconds(30), null, deadline.Token);
        Assert.True(await _lifecycle.RequestCancelAsync("r1", null, deadline.Token));
        var fresh = (await _store.GetRunAsync("r1", deadline.Token))!;

        var after = await _lifecycle.TrySettleAsync(fresh, RunState.Completed, "Completed", "42", null, null, deadline.Token);

        Assert.Equal(RunState.Cancelled, after!.Record.State);
        Assert.NotNull(claimed);
    }

    [Fact]
    public async Task TrySettleAsync_WithMoreLogLinesThanACommitHolds_WritesWhatFitsAndLeavesTheRest()
    {
        using var deadline = TestDeadline.Create();
        var claimed = await _lifecycle.TryClaimAsync(await CreateAsync("r1", deadline), "w1", TimeSpan.FromSeconds(30), null, deadline.Token);
        var logs = Enumerable.Range(0, _store.MaxItemsPerCommit + 5).Select(i => new RunLogLine(T0, "Information", "line " + i)).ToList();

        var after = await _lifecycle.TrySettleAsync(claimed!, RunState.Completed, "Completed", null, null, logs, deadline.Token);

        Assert.Equal(RunState.Completed, after!.Record.State);
        Assert.Equal(_store.MaxItemsPerCommit - 1, after.Record.LogCount);
        Assert.Equal(6, logs.Count);
    }

    [Fact]
    public async Task TrySettleAsync_RunFinalAlready_ChangesNothing()
    {
        using var deadline = TestDeadline.Create();
        var claimed = await _lifecycle.TryClaimAsync(await CreateAsync("r1", deadline), "w1", TimeSpan.FromSeconds(30), null, deadline.Token);
        var done = await _lifecycle.TrySettleAsync(claimed!, RunState.Completed, "Completed", null, null, null, deadline.Token);

        var again = await _lifecycle.TrySettleAsync(done!, RunState.Failed, "late", null, new FailureInfo("E", "late"), null, deadline.Token);

        Assert.Equal(done!.Version, again!.Version);
        Assert.Equal(RunState.Completed, (await _store.GetRunAsync("r1", deadline.Token))!.Record.State);
    }

    [Fact]
    public async Task RequestCancelAsync_LiveRun_RecordsCancellingAndTheCancelItemTogetherAndWakesItOnce()
    {
        using var deadline = TestDeadline.Create();
        await CreateAsync("r1", deadline);
        await _queue.DequeueAsync(RunQueue, 10, TimeSpan.FromHours(1), deadline.Token);

        Assert.True(await _lifecycle.RequestCancelAsync("r1", "no longer needed", deadline.Token));
        var second = await _lifecycle.RequestCancelAsync("r1", "again", deadline.Token);

        var stored = (await _store.GetRunAsync("r1", deadline.Token))!;
        Assert.True(stored.Record.CancelRequested);
        Assert.Equal(RunState.Cancelling, stored.Record.State);
        var journal = await _store.LoadJournalAsync(stored.Record, deadline.Token);
        Assert.Contains(journal.Inbox, i => i.Kind == InboxItemKind.CancelRequested && i.Detail == "no longer needed");
        Assert.Equal("no longer needed", (await HistoryAsync("r1", deadline))[^1].Message);
        Assert.Single(await _queue.DequeueAsync(RunQueue, 10, TimeSpan.FromHours(1), deadline.Token));
        Assert.False(second); // the second request finds the cancel item delivered
    }

    [Fact]
    public async Task RequestCancelAsync_FinalRun_ReturnsFalse()
    {
        using var deadline = TestDeadline.Create();
        var claimed = await _lifecycle.TryClaimAsync(await CreateAsync("r1", deadline), "w1", TimeSpan.FromSeconds(30), null, deadline.Token);
        await _lifecycle.TrySettleAsync(claimed!, RunState.Completed, "Completed", null, null, null, deadline.Token);

        Assert.False(await _lifecycle.RequestCancelAsync("r1", null, deadline.Token));
        Assert.False(await _lifecycle.RequestCancelAsync("no-such-run", null, deadline.Token));
    }

    [Fact]
    public async Task CrashAsync_RunHeldByADeadWorker_EndsCrashedWithTheReasonAndReleasesTheLease()
    {
        using var deadline = TestDeadline.Create();
        await _lifecycle.TryClaimAsync(await CreateAsync("r1", deadline), "w1", TimeSpan.FromSeconds(30), null, deadline.Token);
        _clock.Advance(TimeSpan.FromMinutes(1));
        Assert.True(RunLifecycle.WasAbandoned((await _store.GetRunAsync("r1", deadline.Token))!.Record, _clock.GetUtcNow()));

        var crashed = await _lifecycle.CrashAsync("r1", "delivered too often", deadline.Token);

        Assert.Equal(RunState.Crashed, crashed!.State);
        Assert.Null(crashed.LeaseOwner);
        Assert.Equal("Flow.RunCrashed", crashed.Failure!.Type);
        Assert.Equal("delivered too often", (await HistoryAsync("r1", deadline))[^1].Message);
        Assert.Null(await _lifecycle.CrashAsync("r1", "again", deadline.Token));
    }

    [Fact]
    public async Task TryReleaseAsync_OwnerShutsDown_EndsTheLeaseNowButKeepsTheOwnerSoTheNextClaimIsATakeover()
    {
        using var deadline = TestDeadline.Create();
        var claimed = await _lifecycle.TryClaimAsync(await CreateAsync("r1", deadline), "w1", TimeSpan.FromSeconds(30), null, deadline.Token);

        Assert.False(await _lifecycle.TryReleaseAsync(claimed!, "someone-else", deadline.Token));
        Assert.True(await _lifecycle.TryReleaseAsync(claimed!, "w1", deadline.Token));

        var run = (await _store.GetRunAsync("r1", deadline.Token))!.Record;
        Assert.Equal(RunState.Running, run.State);
        Assert.False(run.IsLeased(_clock.GetUtcNow()));
        Assert.True(RunLifecycle.WasAbandoned(run, _clock.GetUtcNow()));
    }

    [Fact]
    public async Task DeliverAsync_ToALeasedRun_SendsNoWakeUpButSetsTheFlag()
    {
        using var deadline = TestDeadline.Create();
        await _lifecycle.TryClaimAsync(await CreateAsync("r1", deadline), "w1", TimeSpan.FromSeconds(30), null, deadline.Token);
        await _queue.DequeueAsync(RunQueue, 10, TimeSpan.FromHours(1), deadline.Token);

        var item = new InboxItem { Id = "event-1", Kind = InboxItemKind.Event, Name = "go", Payload = "1", Timestamp = T0 };
        Assert.True(await _lifecycle.DeliverAsync("r1", [item], wake: true, deadline.Token));
        Assert.False(await _lifecycle.DeliverAsync("r1", [item], wake: true, deadline.Token));

        Assert.True((await _store.GetRunAsync("r1", deadline.Token))!.Record.WakeRequested);
        Assert.Empty(await _queue.DequeueAsync(RunQueue, 10, TimeSpan.FromHours(1), deadline.Token));
    }
}
