using Flow.Engine.Storage;
using Flow.Sdk;
using Flow.TestSupport;
using Microsoft.Extensions.Logging;

namespace Flow.Engine.Scenarios;

public abstract partial class EngineScenarioTests
{
    [Fact]
    public async Task RunAsync_RetryJitter_DelaysStayWithinTheJitterBand()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(30));
        var calls = 0;
        await using var host = CreateHost(r => r.AddFlow<Unit, int>("jitter", async (ctx, _) =>
            await ctx.RunTaskAsync("flaky", _ => Interlocked.Increment(ref calls) <= 4 ? throw new InvalidOperationException("boom") : Task.FromResult(calls),
                TaskOptions.WithRetries(4, RetryDelay.Exponential(TimeSpan.FromSeconds(10), 2)) with { RetryJitterFactor = 0.5 })));

        var run = await host.RunAsync("jitter", cancellationToken: deadline.Token);

        Assert.Equal(RunState.Completed, run.State);
        var failed = (await host.GetJournalAsync(run.RunId, deadline.Token)).Where(e => e.Kind == JournalEventKind.TaskAttemptFailed).ToList();
        Assert.Equal(4, failed.Count);
        for (var i = 0; i < failed.Count; i++)
        {
            var nominal = TimeSpan.FromSeconds(10 * Math.Pow(2, i));
            var actual = failed[i].DueAt!.Value - failed[i].Timestamp;
            Assert.InRange(actual, nominal, nominal * 1.5);
        }

        Assert.NotEqual(1, failed.Select(f => (f.DueAt!.Value - f.Timestamp) / TimeSpan.FromSeconds(10 * Math.Pow(2, failed.IndexOf(f)))).Distinct().Count());
    }

    [Fact]
    public async Task RunAsync_RetryConditionDoesNotMatch_FailsWithoutRetrying()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(30));
        var calls = 0;
        await using var host = CreateHost(r => r.AddFlow<Unit, string>("picky", async (ctx, _) =>
            await ctx.RunTaskAsync<string>("parse", _ =>
            {
                Interlocked.Increment(ref calls);
                throw new FormatException("bad input");
            }, TaskOptions.WithRetries(5) with { RetryCondition = TaskOptions.RetryOn(typeof(HttpRequestException)) })));

        var run = await host.RunAsync("picky", cancellationToken: deadline.Token);

        Assert.Equal(RunState.Failed, run.State);
        Assert.Equal(1, calls);
        Assert.Equal(typeof(FormatException).FullName, run.Failure!.Type);
        Assert.Contains("bad input", run.Failure.Message, StringComparison.Ordinal);
        var journal = await host.GetJournalAsync(run.RunId, deadline.Token);
        var failed = Assert.Single(journal, e => e.Kind == JournalEventKind.TaskFailed);
        Assert.Contains("FormatException", failed.Failure!.StackTrace, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_CachedTask_IsReusedAcrossRunsUntilItExpiresOrIsRefreshed()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(30));
        var executions = 0;
        var refresh = false;
        await using var host = CreateHost(r => r.AddFlow<string, string>("report", async (ctx, day) =>
            await ctx.RunTaskAsync("fetch", day, (_, d) =>
            {
                Interlocked.Increment(ref executions);
                return Task.FromResult("data for " + d);
            }, new TaskOptions { Cache = CachePolicy.Inputs(TimeSpan.FromHours(1)) with { Refresh = refresh } })));

        var first = await host.RunAsync("report", "monday", cancellationToken: deadline.Token);
        var second = await host.RunAsync("report", "monday", cancellationToken: deadline.Token);
        var other = await host.RunAsync("report", "tuesday", cancellationToken: deadline.Token);

        Assert.Equal("data for monday", host.GetResult<string>(second));
        Assert.Equal(2, executions);
        var cached = Assert.Single(await host.GetJournalAsync(second.RunId, deadline.Token), e => e.Kind == JournalEventKind.TaskCompleted);
        Assert.Equal(RunState.Cached, cached.State);
        Assert.Equal(RunState.Completed, (await host.GetJournalAsync(first.RunId, deadline.Token)).Single(e => e.Kind == JournalEventKind.TaskCompleted).State);
        Assert.Equal(RunState.Completed, other.State);

        host.Clock.Advance(TimeSpan.FromHours(2));
        await host.RunAsync("report", "monday", cancellationToken: deadline.Token);
        Assert.Equal(3, executions);

        refresh = true;
        await host.RunAsync("report", "monday", cancellationToken: deadline.Token);
        Assert.Equal(4, executions);
    }

    [Fact]
    public async Task RunAsync_TaskExceedsItsTimeout_AttemptFailsWithTimeoutAndIsRetried()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(30));
        var attempts = 0;
        await using var host = CreateHost(r => r.AddFlow<Unit, string>("slow", async (ctx, _) =>
            await ctx.RunTaskAsync("sometimes-slow", async t =>
            {
                if (Interlocked.Increment(ref attempts) == 1)
                {
                    await Task.Delay(TimeSpan.FromHours(1), t.TimeProvider, t.CancellationToken);
                }

                return "fast enough";
            }, TaskOptions.WithRetries(1) with { Timeout = TimeSpan.FromMinutes(5) })));

        var run = await host.RunAsync("slow", cancellationToken: deadline.Token);

        Assert.Equal(RunState.Completed, run.State);
        Assert.Equal("fast enough", host.GetResult<string>(run));
        var failed = Assert.Single(await host.GetJournalAsync(run.RunId, deadline.Token), e => e.Kind == JournalEventKind.TaskAttemptFailed);
        Assert.Equal(typeof(TimeoutException).FullName, failed.Failure!.Type);
    }

    [Fact]
    public async Task RunAsync_FlowExceedsItsTimeout_FailsWithTimeout()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(30));
        await using var host = CreateHost(r => r.AddFlow<Unit, string>("sleepy", async (ctx, _) =>
        {
            await ctx.SleepAsync(TimeSpan.FromHours(2));
            return "woke";
        }, new FlowOptions { Timeout = TimeSpan.FromHours(1) }));

        var run = await host.RunAsync("sleepy", cancellationToken: deadline.Token);

        Assert.Equal(RunState.Failed, run.State);
        Assert.Equal(typeof(TimeoutException).FullName, run.Failure!.Type);
    }

    [Fact]
    public async Task RunAsync_EventNeverSent_WaitTimesOut()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(30));
        await using var host = CreateHost(r => r.AddFlow<Unit, string>("approve", async (ctx, _) =>
        {
            try
            {
                return await ctx.WaitForEventAsync<string>("approval", TimeSpan.FromDays(1));
            }
            catch (TimeoutException)
            {
                return "no answer";
            }
        }));

        var run = await host.RunAsync("approve", cancellationToken: deadline.Token);

        Assert.Equal("no answer", host.GetResult<string>(run));
        Assert.True(host.Clock.GetUtcNow() - run.CreatedAt >= TimeSpan.FromDays(1));
    }

    [Fact]
    public async Task RunAsync_EventSentBeforeTheWait_IsKeptForIt()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(30));
        await using var host = CreateHost(r => r.AddFlow<Unit, int>("early", async (ctx, _) =>
        {
            await ctx.SleepAsync(TimeSpan.FromMinutes(10));
            return await ctx.WaitForEventAsync<int>("number");
        }));

        var started = await host.StartAsync("early", cancellationToken: deadline.Token);
        await host.DriveAsync(started.RunId, r => r.State == RunState.Paused, deadline.Token);
        Assert.True(await host.RaiseEventAsync(started.RunId, "number", 42, deadline.Token));
        var run = await host.DriveAsync(started.RunId, cancellationToken: deadline.Token);

        Assert.Equal(42, host.GetResult<int>(run));
    }

    [Fact]
    public async Task RunAsync_CodeChangedWhileSuspended_FailsWithNonDeterminismNamingBothStepsAndDoesNotRetry()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(30));
        var taskName = "extract";
        await using var host = CreateHost(r => r.AddFlow<Unit, string>("changing", async (ctx, _) =>
        {
            await ctx.RunTaskAsync(taskName, _ => Task.FromResult(1));
            await ctx.SleepAsync(TimeSpan.FromMinutes(1));
            return "done";
        }, new FlowOptions { Retries = 3 }));

        var started = await host.StartAsync("changing", cancellationToken: deadline.Token);
        await host.DriveAsync(started.RunId, r => r.State == RunState.Paused, deadline.Token);
        taskName = "load";
        var run = await host.DriveAsync(started.RunId, cancellationToken: deadline.Token);

        Assert.Equal(RunState.Failed, run.State);
        Assert.Equal(1, run.Attempt);
        Assert.Equal(typeof(NonDeterminismException).FullName, run.Failure!.Type);
        Assert.Contains("'extract'", run.Failure.Message, StringComparison.Ordinal);
        Assert.Contains("'load'", run.Failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_Hooks_RunOncePerFinalStateAndTheirFailuresDoNotChangeTheOutcome()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(30));
        var completed = 0;
        var failed = 0;
        await using var host = CreateHost(r => r
            .AddFlow<Unit, int>("ok", async (ctx, _) =>
            {
                await ctx.SleepAsync(TimeSpan.FromMinutes(1));
                return 1;
            }, new FlowOptions
            {
                OnCompletion = (c, _) =>
                {
                    Interlocked.Increment(ref completed);
                    Assert.Equal(RunState.Completed, c.State);
                    return Task.CompletedTask;
                },
            })
            .AddFlow<Unit, int>("bad", (_, _) => throw new InvalidOperationException("flow broke"), new FlowOptions
            {
                OnFailure = (_, _) =>
                {
                    Interlocked.Increment(ref failed);
                    throw new InvalidOperationException("the hook broke too");
                },
            }));

        var ok = await host.RunAsync("ok", cancellationToken: deadline.Token);
        var bad = await host.RunAsync("bad", cancellationToken: deadline.Token);

        Assert.Equal(RunState.Completed, ok.State);
        Assert.Equal(1, completed);
        Assert.Equal(RunState.Failed, bad.State);
        Assert.Equal("flow broke", bad.Failure!.Message);
        Assert.Equal(1, failed);
    }

    [Fact]
    public async Task RunAsync_LargeValues_RoundTripExactly()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        var big = string.Concat(Enumerable.Repeat("Flow ✓ 🚀 daten-", 200_000));
        await using var host = CreateHost(r => r.AddFlow<string, string>("big", async (ctx, input) =>
        {
            var echoed = await ctx.RunTaskAsync("echo", input, (_, s) => Task.FromResult(s));
            await ctx.SleepAsync(TimeSpan.FromMinutes(1)); // forces a replay from storage
            return echoed;
        }));

        var run = await host.RunAsync("big", big, cancellationToken: deadline.Token);

        Assert.Equal(RunState.Completed, run.State);
        Assert.Equal(big, host.GetResult<string>(run));
    }

    [Fact]
    public async Task StartRunAsync_ParametersDoNotBind_ThrowsListingEveryOffendingField()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(30));
        await using var host = CreateHost(r => r.AddFlow<EtlInput, int>("etl", (_, i) => Task.FromResult(i.Rows)));
        await host.Engine.InitializeAsync(null, deadline.Token);

        var error = await Assert.ThrowsAsync<Flow.Engine.Execution.FlowParameterException>(() =>
            host.Engine.StartRunJsonAsync("etl", """{"rows":"many","day":12,"colour":"red"}""", null, deadline.Token));

        Assert.Contains(error.Errors, e => e.StartsWith("rows:", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.StartsWith("day:", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.StartsWith("colour:", StringComparison.Ordinal));
        await Assert.ThrowsAsync<FlowNotFoundException>(() => host.Engine.StartRunJsonAsync("nope", null, null, deadline.Token));
    }

    [Fact]
    public async Task RunAsync_DistributedTask_RunsFromTheTaskQueueAndReturnsItsResult()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(30));
        await using var host = CreateHost(r => r
            .AddTask<int, int>("cube", (_, x) => Task.FromResult(x * x * x))
            .AddFlow<int, int[]>("cubes", async (ctx, n) =>
                (await ctx.MapTaskAsync<int>("cube", Enumerable.Range(1, n).Cast<object?>(), TaskOptions.Distributed(), maxConcurrency: 10)).ToArray()));

        var run = await host.RunAsync("cubes", 25, cancellationToken: deadline.Token);

        Assert.Equal(RunState.Completed, run.State);
        Assert.Equal(Enumerable.Range(1, 25).Select(x => x * x * x), host.GetResult<int[]>(run)!);
        var journal = await host.GetJournalAsync(run.RunId, deadline.Token);
        Assert.Equal(25, journal.Count(e => e.Kind == JournalEventKind.TaskDispatched));
        Assert.Equal(25, journal.Count(e => e.Kind == JournalEventKind.TaskCompleted));
    }

    [Fact]
    public async Task RunAsync_FlowFailsOnceWithRetries_SecondAttemptCompletes()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(30));
        await using var host = CreateHost(r => r.AddFlow<Unit, int>("second-time-lucky", (ctx, _) =>
            ctx.Attempt == 1 ? throw new InvalidOperationException("first attempt fails") : Task.FromResult(ctx.Attempt),
            new FlowOptions { Retries = 2, RetryDelay = RetryDelay.Fixed(TimeSpan.FromMinutes(10)) }));

        var run = await host.RunAsync("second-time-lucky", cancellationToken: deadline.Token);

        Assert.Equal(RunState.Completed, run.State);
        Assert.Equal(2, host.GetResult<int>(run));
        var history = await host.Store.GetStateHistoryAsync(run.RunId, deadline.Token);
        Assert.Contains(history, t => t.To == RunState.AwaitingRetry);
    }

    [Fact]
    public async Task RunAsync_LogsAndArtifacts_AreStoredOnceDespiteReplay()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(30));
        await using var host = CreateHost(r => r.AddFlow<Unit, int>("reporting", async (ctx, _) =>
        {
            ctx.Logger.LogInformation("starting");
            var n = await ctx.RunTaskAsync("count", t =>
            {
                t.Logger.LogInformation("counting rows");
                t.CreateArtifact("rows", ArtifactKind.Markdown, "# 3 rows");
                return Task.FromResult(3);
            });
            await ctx.SleepAsync(TimeSpan.FromMinutes(5));
            await ctx.CreateLinkArtifactAsync("dashboard", new Uri("https://example.com/d/1"), "the dashboard");
            ctx.Logger.LogInformation("finished with {Rows} rows", n);
            return n;
        }));

        var run = await host.RunAsync("reporting", cancellationToken: deadline.Token);

        var logs = await host.Store.GetLogsAsync(run.RunId, 100, null, deadline.Token);
        Assert.Equal(["starting", "counting rows", "finished with 3 rows"], logs.Lines.Select(l => l.Message));
        Assert.Equal(1, logs.Lines[1].CallId);
        var artifacts = await host.Store.GetArtifactsAsync(run.RunId, deadline.Token);
        Assert.Equal(["dashboard", "rows"], artifacts.Select(a => a.Key));
        Assert.Equal(ArtifactType.Link, artifacts[0].Type);
    }

    [Fact]
    public async Task RunAsync_ReplaySafeValues_AreTheSameAfterResuming()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(30));
        var seen = new List<string>();
        await using var host = CreateHost(r => r.AddFlow<Unit, string>("values", async (ctx, _) =>
        {
            var before = $"{ctx.NewGuid()} {ctx.Random.Next()} {ctx.UtcNow:O}";
            lock (seen)
            {
                seen.Add(before);
            }

            await ctx.SleepAsync(TimeSpan.FromMinutes(1));
            return before;
        }));

        var run = await host.RunAsync("values", cancellationToken: deadline.Token);

        Assert.Equal(2, seen.Count);
        Assert.Equal(seen[0], seen[1]);
        Assert.Equal(seen[0], host.GetResult<string>(run));
    }

    public sealed record EtlInput(int Rows, string Day);
}
