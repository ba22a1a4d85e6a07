using Flow.Engine.Storage;
using Flow.Engine.Storage.InMemory;
using Flow.Sdk;
using Flow.Testing;
using Flow.TestSupport;

namespace Flow.Engine.Tests;

public sealed class BadInputTests
{
    [Fact]
    public async Task RunAsync_TaskResultOverThePayloadLimit_FailsTheRunWithAClearErrorAndLeavesOthersAlone()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(30));
        await using var host = FlowTestHost.Create(
            r => r.AddFlow<int, int>("sized", async (ctx, n) => (await ctx.RunTaskAsync("make", n, (_, size) => Task.FromResult(new string('x', size)), TaskOptions.WithRetries(3))).Length),
            o => o.Storage = clock => (new InMemoryFlowStore(new InMemoryFlowStoreOptions { MaxPayloadBytes = 10_000 }), new InMemoryWorkQueue(clock)));

        var big = await host.RunAsync("sized", 20_000, cancellationToken: deadline.Token);
        var small = await host.RunAsync("sized", 100, cancellationToken: deadline.Token);

        Assert.Equal(RunState.Failed, big.State);
        Assert.Equal(typeof(PayloadTooLargeException).FullName, big.Failure!.Type);
        Assert.Contains("10,000", big.Failure.Message, StringComparison.Ordinal);
        Assert.Single(await host.GetJournalAsync(big.RunId, deadline.Token), e => e.Kind == JournalEventKind.TaskFailed);
        Assert.Equal(RunState.Completed, small.State);
    }

    [Fact]
    public async Task StartRunAsync_ParametersOverThePayloadLimit_AreRefusedBeforeAnythingIsStored()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(30));
        await using var host = FlowTestHost.Create(
            r => r.AddFlow<string, int>("echo", (_, s) => Task.FromResult(s.Length)),
            o => o.Storage = clock => (new InMemoryFlowStore(new InMemoryFlowStoreOptions { MaxPayloadBytes = 10_000 }), new InMemoryWorkQueue(clock)));
        await host.Engine.InitializeAsync(null, deadline.Token);

        await Assert.ThrowsAsync<PayloadTooLargeException>(() => host.Engine.StartRunAsync("echo", new string('y', 20_000), new StartRunOptions { RunId = "too-big" }, deadline.Token));

        Assert.Null(await host.Engine.GetRunAsync("too-big", deadline.Token));
    }

    [Fact]
    public async Task RunAsync_FlowNotRegisteredInThisApplication_FailsThatRunNamingTheFlow()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(30));
        await using var host = FlowTestHost.Create(r => r.AddFlow<int, int>("known", (_, x) => Task.FromResult(x)));
        await host.Engine.InitializeAsync(null, deadline.Token);
        var now = host.Clock.GetUtcNow();
        var ghost = new FlowRunRecord { RunId = "ghost-run", FlowName = "ghost", State = RunState.Pending, TransitionCount = 1, CreatedAt = now, ScheduledAt = now, StateTime = now };
        await host.Store.CreateRunAsync(ghost, new StateTransition(1, null, RunState.Pending, now, "created elsewhere", 1), deadline.Token);
        await host.Queue.EnqueueAsync(FlowEngine.RunQueueName("default"), new WorkItem { Kind = WorkItem.RunKind, RunId = "ghost-run" }, TimeSpan.Zero, deadline.Token);

        var run = await host.DriveAsync("ghost-run", null, deadline.Token);
        var other = await host.RunAsync("known", 7, cancellationToken: deadline.Token);

        Assert.Equal(RunState.Failed, run.State);
        Assert.Contains("'ghost'", run.Failure!.Message, StringComparison.Ordinal);
        Assert.Contains("known", run.Failure.Message, StringComparison.Ordinal);
        Assert.Equal(RunState.Completed, other.State);
    }

    [Fact]
    public async Task RunAsync_CorruptValueInTheJournal_FailsThatRunWithAClearError()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(30));
        await using var host = FlowTestHost.Create(r => r.AddFlow<Unit, int>("reader", async (ctx, _) =>
        {
            var n = await ctx.RunTaskAsync("count", _ => Task.FromResult(5));
            await ctx.SleepAsync(TimeSpan.FromMinutes(1));
            return n;
        }));
        var started = await host.StartAsync("reader", cancellationToken: deadline.Token);
        await host.DriveAsync(started.RunId, r => r.State == RunState.Paused, deadline.Token);

        // Damage the recorded result, as a hand edit or a bug elsewhere might: the event is replaced in a fresh journal.
        var stored = (await host.Store.GetRunAsync(started.RunId, deadline.Token))!;
        var journal = await host.GetJournalAsync(started.RunId, deadline.Token);
        var damaged = journal.Select(e => e.Kind == JournalEventKind.TaskCompleted ? e with { Payload = "{not json" } : e).ToList();
        await host.Store.CommitAsync(new RunCommit { ExpectedVersion = stored.Version, Run = stored.Record with { Attempt = 2, JournalLength = damaged.Count }, Events = damaged }, deadline.Token);
        var run = await host.DriveAsync(started.RunId, null, deadline.Token);

        Assert.Equal(RunState.Failed, run.State);
        Assert.Contains("task 'count' (call 1)", run.Failure!.Message, StringComparison.Ordinal);
        Assert.Contains("corrupt", run.Failure.Message, StringComparison.Ordinal);
    }
}
