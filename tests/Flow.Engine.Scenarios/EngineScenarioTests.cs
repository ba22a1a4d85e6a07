using Flow.Engine.Storage;
using Flow.Sdk;
using Flow.Testing;
using Flow.TestSupport;

namespace Flow.Engine.Scenarios;

/// <summary>
/// Engine scenarios that every backend must pass: each test runs flows through <see cref="FlowTestHost"/>
/// on the backend a subclass gives (in memory here; Azurite and PostgreSQL in their test projects), with
/// a fake clock so sleeps, retry delays and timeouts take no real time.
/// </summary>
public abstract partial class EngineScenarioTests
{
    /// <summary>The backend, or null for the in-memory store.</summary>
    protected virtual Func<FakeClock, (IFlowStore Store, IWorkQueue Queue)>? Storage => null;

    /// <summary>Creates a test host on this backend.</summary>
    protected FlowTestHost CreateHost(Action<FlowRegistry> register, Action<FlowTestHostOptions>? configure = null) =>
        FlowTestHost.Create(register, o =>
        {
            o.Storage = Storage;
            configure?.Invoke(o);
        });

    [Fact]
    public async Task RunAsync_SequentialTasks_CompletesWithResultAndOneEventPerTask()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(30));
        await using var host = CreateHost(r => r.AddFlow<int, int>("sum", async (ctx, n) =>
        {
            var total = 0;
            for (var i = 1; i <= n; i++)
            {
                total += await ctx.RunTaskAsync("add", i, (_, x) => Task.FromResult(x));
            }

            return total;
        }));

        var run = await host.RunAsync("sum", 10, cancellationToken: deadline.Token);

        Assert.Equal(RunState.Completed, run.State);
        Assert.Equal(55, host.GetResult<int>(run));
        var journal = await host.GetJournalAsync(run.RunId, deadline.Token);
        Assert.Equal(10, journal.Count(e => e.Kind == JournalEventKind.TaskCompleted));
        Assert.Equal(Enumerable.Range(1, 10), journal.Select(e => e.CallId));
        var history = await host.Store.GetStateHistoryAsync(run.RunId, deadline.Token);
        Assert.Equal([RunState.Pending, RunState.Running, RunState.Completed], history.Select(t => t.To));
    }

    [Fact]
    public async Task RunAsync_TaskFailsThenSucceeds_RetriesWithTheListedDelays()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(30));
        var calls = 0;
        await using var host = CreateHost(r => r.AddFlow<Unit, string>("flaky", async (ctx, _) =>
            await ctx.RunTaskAsync("call-api", _ =>
            {
                if (Interlocked.Increment(ref calls) < 3)
                {
                    throw new HttpRequestException("503");
                }

                return Task.FromResult("ok");
            }, TaskOptions.WithRetries(3, RetryDelay.Fixed(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30))))));

        var run = await host.RunAsync("flaky", cancellationToken: deadline.Token);

        Assert.Equal(RunState.Completed, run.State);
        Assert.Equal(3, calls);
        var journal = await host.GetJournalAsync(run.RunId, deadline.Token);
        var failed = journal.Where(e => e.Kind == JournalEventKind.TaskAttemptFailed).ToList();
        Assert.Equal(2, failed.Count);
        Assert.Equal(TimeSpan.FromSeconds(10), failed[0].DueAt - failed[0].Timestamp);
        Assert.Equal(TimeSpan.FromSeconds(30), failed[1].DueAt - failed[1].Timestamp);
        Assert.Equal(typeof(HttpRequestException).FullName, failed[0].Failure!.Type);
        var completed = Assert.Single(journal, e => e.Kind == JournalEventKind.TaskCompleted);
        Assert.Equal(3, completed.Attempt);
        Assert.True(completed.StartedAt >= failed[1].DueAt);
    }

    [Fact]
    public async Task RunAsync_TaskRetryThatEndsTheEpisode_AwaitsRetryWithItsTime_ThenRunsOnInTheSameAttempt()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(30));
        var calls = 0;
        await using var host = CreateHost(r => r.AddFlow<Unit, string>("flaky-later", async (ctx, _) =>
        {
            var first = await ctx.RunTaskAsync("prepare", _ => Task.FromResult("prepared"));
            var second = await ctx.RunTaskAsync("call-api", _ =>
            {
                if (Interlocked.Increment(ref calls) < 2)
                {
                    throw new HttpRequestException("503");
                }

                return Task.FromResult("ok");
            }, TaskOptions.WithRetries(1, RetryDelay.Fixed(TimeSpan.FromMinutes(10))));
            return first + "/" + second;
        }));

        var started = await host.StartAsync("flaky-later", cancellationToken: deadline.Token);
        var waiting = await host.DriveAsync(started.RunId, r => r.State is RunState.AwaitingRetry or RunState.Paused || r.State.IsFinal(), deadline.Token);

        Assert.Equal(RunState.AwaitingRetry, waiting.State);
        Assert.Equal(1, waiting.Attempt);
        Assert.Null(waiting.Failure);
        Assert.Null(waiting.LeaseOwner);
        var journal = await host.GetJournalAsync(started.RunId, deadline.Token);
        var failedAttempt = Assert.Single(journal, e => e.Kind == JournalEventKind.TaskAttemptFailed);
        Assert.Equal(failedAttempt.DueAt, waiting.WakeAt);
        Assert.Equal(TimeSpan.FromMinutes(10), waiting.WakeAt - failedAttempt.Timestamp);
        var waitTransition = (await host.Store.GetStateHistoryAsync(started.RunId, deadline.Token))[^1];
        Assert.Equal(RunState.AwaitingRetry, waitTransition.To);
        Assert.Contains("'call-api'", waitTransition.Message, StringComparison.Ordinal);
        Assert.Contains("attempt 2", waitTransition.Message, StringComparison.Ordinal);

        var run = await host.DriveAsync(started.RunId, cancellationToken: deadline.Token);

        Assert.Equal(RunState.Completed, run.State);
        Assert.Equal("prepared/ok", host.GetResult<string>(run));
        Assert.Equal(1, run.Attempt); // the same flow-run attempt: a task retry is not a flow retry
        Assert.Equal(2, calls);
        var history = await host.Store.GetStateHistoryAsync(run.RunId, deadline.Token);
        Assert.Equal([RunState.Pending, RunState.Running, RunState.AwaitingRetry, RunState.Running, RunState.Completed], history.Select(t => t.To));
        Assert.All(history, t => Assert.Equal(1, t.Attempt));
        var after = await host.GetJournalAsync(run.RunId, deadline.Token);
        Assert.Single(after, e => e.Kind == JournalEventKind.TaskCompleted && e.Name == "prepare"); // its journal was kept: not run again
        var completed = Assert.Single(after, e => e.Kind == JournalEventKind.TaskCompleted && e.Name == "call-api");
        Assert.Equal(2, completed.Attempt);
        Assert.True(completed.StartedAt >= failedAttempt.DueAt);
    }

    [Fact]
    public async Task RunAsync_DurableSleep_PausesAndResumesAfterTheDelay()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(30));
        await using var host = CreateHost(r => r.AddFlow<Unit, string>("nap", async (ctx, _) =>
        {
            var before = ctx.UtcNow;
            await ctx.SleepAsync(TimeSpan.FromHours(3));
            return (ctx.UtcNow - before).ToString();
        }));

        var started = await host.StartAsync("nap", cancellationToken: deadline.Token);
        var paused = await host.DriveAsync(started.RunId, r => r.State == RunState.Paused, deadline.Token);
        Assert.Equal(RunState.Paused, paused.State);
        Assert.Null(paused.LeaseOwner);
        var run = await host.DriveAsync(started.RunId, cancellationToken: deadline.Token);

        Assert.Equal(RunState.Completed, run.State);
        Assert.True(TimeSpan.Parse(host.GetResult<string>(run)!, System.Globalization.CultureInfo.InvariantCulture) >= TimeSpan.FromHours(3));
    }

    [Fact]
    public async Task RunAsync_FanOutOfAThousand_ReturnsResultsInOrder()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        await using var host = CreateHost(r => r.AddFlow<int, int[]>("fan", async (ctx, n) =>
            (await ctx.MapAsync("square", Enumerable.Range(0, n), (_, x) => Task.FromResult(x * x), maxConcurrency: 64)).ToArray()));

        var run = await host.RunAsync("fan", 1000, cancellationToken: deadline.Token);

        Assert.Equal(RunState.Completed, run.State);
        Assert.Equal(Enumerable.Range(0, 1000).Select(x => x * x), host.GetResult<int[]>(run)!);
    }

    [Fact]
    public async Task RunAsync_Subflow_ReturnsTheChildsResultAndRecordsTheChildRun()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(30));
        await using var host = CreateHost(r => r
            .AddFlow<int, int>("child", async (ctx, x) => await ctx.RunTaskAsync("double", x, (_, v) => Task.FromResult(v * 2)))
            .AddFlow<int, int>("parent", async (ctx, x) => await ctx.RunSubflowAsync<int>("child", x) + 1));

        var run = await host.RunAsync("parent", 20, cancellationToken: deadline.Token);

        Assert.Equal(RunState.Completed, run.State);
        Assert.Equal(41, host.GetResult<int>(run));
        var journal = await host.GetJournalAsync(run.RunId, deadline.Token);
        var started = Assert.Single(journal, e => e.Kind == JournalEventKind.SubflowStarted);
        var child = await host.Engine.GetRunAsync(started.Detail!, deadline.Token);
        Assert.NotNull(child);
        Assert.Equal(run.RunId, child.ParentRunId);
        Assert.Equal(RunState.Completed, child.State);
    }

    [Fact]
    public async Task RunAsync_EventSentWhileWaiting_DeliversThePayload()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(30));
        await using var host = CreateHost(r => r.AddFlow<Unit, string>("approve", async (ctx, _) =>
            "approved by " + await ctx.WaitForEventAsync<string>("approval")));

        var started = await host.StartAsync("approve", cancellationToken: deadline.Token);
        await host.DriveAsync(started.RunId, r => r.State == RunState.Paused, deadline.Token);
        Assert.True(await host.RaiseEventAsync(started.RunId, "approval", "ana", deadline.Token));
        var run = await host.DriveAsync(started.RunId, cancellationToken: deadline.Token);

        Assert.Equal(RunState.Completed, run.State);
        Assert.Equal("approved by ana", host.GetResult<string>(run));
    }

    [Fact]
    public async Task RunAsync_CancelWhileATaskRuns_CancelsTheTaskTokenAndEndsCancelled()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(30));
        var taskStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var sawCancellation = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = CreateHost(r => r.AddFlow<Unit, string>("long", async (ctx, _) =>
            await ctx.RunTaskAsync("wait-forever", async t =>
            {
                taskStarted.TrySetResult();
                try
                {
                    await Task.Delay(Timeout.Infinite, t.CancellationToken);
                }
                catch (OperationCanceledException)
                {
                    sawCancellation.TrySetResult();
                    throw;
                }

                return "never";
            })));

        var started = await host.StartAsync("long", cancellationToken: deadline.Token);
        var drive = host.DriveAsync(started.RunId, cancellationToken: deadline.Token);
        await taskStarted.Task.WaitAsync(deadline.Token);
        Assert.True(await host.CancelAsync(started.RunId, deadline.Token));
        var run = await drive;

        Assert.Equal(RunState.Cancelled, run.State);
        await sawCancellation.Task.WaitAsync(deadline.Token);
        var history = await host.Store.GetStateHistoryAsync(run.RunId, deadline.Token);
        Assert.Contains(history, t => t.To == RunState.Cancelling);
    }
}
