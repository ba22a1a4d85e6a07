using Flow.Engine.Storage;
using Flow.Engine.Storage.InMemory;
using Flow.Sdk;
using Flow.Testing;
using Flow.TestSupport;

namespace Flow.Engine.Tests;

/// <summary>
/// Work items for a run whose lease another worker holds, alive or dead (a killed worker's lease runs on until it
/// expires). The worker is simulated by writing its lease into the run record.
/// </summary>
public sealed class LeaseTakeoverTests
{
    private const string OtherWorker = "worker-x";
    private static readonly string RunQueue = FlowEngine.RunQueueName("default");

    [Fact]
    public async Task ProcessAsync_RunLeasedByAnotherWorker_DefersTheItemUntilTheLeaseEndsThenTakesTheRunOver()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(30));
        await using var host = CreateHost();
        var runId = (await host.StartAsync("one-task", cancellationToken: deadline.Token)).RunId;
        var leaseUntil = await HoldLeaseAsync(host, runId, deadline.Token);

        var item = Assert.Single(await host.Queue.DequeueAsync(RunQueue, 1, host.Engine.Options.LeaseDuration, deadline.Token));
        await host.Engine.ProcessAsync(item, deadline.Token);

        // Kept, not dropped: the holder may be dead, and this item is then all that brings the run back.
        Assert.Equal(leaseUntil, NextVisibleTime(host));
        var run = await host.Engine.GetRunAsync(runId, deadline.Token);
        Assert.Equal(OtherWorker, run!.LeaseOwner);

        var final = await host.DriveAsync(runId, cancellationToken: deadline.Token);

        Assert.Equal(RunState.Completed, final.State);
        Assert.Equal(1, host.GetResult<int>(final));
    }

    [Fact]
    public async Task ProcessAsync_RunItemDeferredMoreThanMaxDequeueCountWhileTheHolderRenews_LeavesTheRunRunning()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(30));
        await using var host = CreateHost();
        var runId = (await host.StartAsync("one-task", cancellationToken: deadline.Token)).RunId;

        for (var delivery = 1; delivery <= host.Engine.Options.MaxDequeueCount + 2; delivery++)
        {
            await HoldLeaseAsync(host, runId, deadline.Token); // the holder is alive: it renews its lease
            var item = Assert.Single(await host.Queue.DequeueAsync(RunQueue, 1, host.Engine.Options.LeaseDuration, deadline.Token));
            Assert.Equal(delivery, item.DequeueCount);
            await host.Engine.ProcessAsync(item, deadline.Token);
            host.Clock.SetUtcNow(NextVisibleTime(host) ?? throw new InvalidOperationException("The item was dropped."));
        }

        var run = await host.Engine.GetRunAsync(runId, deadline.Token);
        Assert.Equal(RunState.Running, run!.State);
        Assert.Equal(OtherWorker, run.LeaseOwner);
        Assert.Empty(await host.Queue.GetDeadLettersAsync(RunQueue, 10, deadline.Token));
    }

    private static DateTimeOffset? NextVisibleTime(FlowTestHost host) => ((InMemoryWorkQueue)host.Queue).GetNextVisibleTime(RunQueue);

    private static FlowTestHost CreateHost() =>
        FlowTestHost.Create(r => r.AddFlow<Unit, int>("one-task", (ctx, _) => ctx.RunTaskAsync("one", _ => Task.FromResult(1))));

    /// <summary>Writes what a worker that took the run writes: Running, leased by it for a lease duration from now.</summary>
    private static async Task<DateTimeOffset> HoldLeaseAsync(FlowTestHost host, string runId, CancellationToken cancellationToken)
    {
        var stored = (await host.Store.GetRunAsync(runId, cancellationToken))!;
        var now = host.Clock.GetUtcNow();
        var run = stored.Record with { LeaseOwner = OtherWorker, LeaseUntil = now + host.Engine.Options.LeaseDuration, HeartbeatAt = now };
        List<StateTransition> transitions = [];
        if (run.State != RunState.Running)
        {
            transitions.Add(new StateTransition(run.TransitionCount + 1, run.State, RunState.Running, now, "Started on " + OtherWorker, run.Attempt));
            run = run with { State = RunState.Running, StateTime = now, StartedAt = now, TransitionCount = run.TransitionCount + 1 };
        }

        await host.Store.CommitAsync(new RunCommit { ExpectedVersion = stored.Version, Run = run, Transitions = transitions }, cancellationToken);
        return run.LeaseUntil!.Value;
    }
}
