using System.Collections.Concurrent;
using Flow.Engine.Storage;
using Flow.Sdk;
using Flow.Testing;
using Flow.TestSupport;

namespace Flow.Engine.Tests.Execution;

/// <summary>
/// State hooks (docs/hooks.md): each fires once for its final state, with the final transition's event id as idempotency key, and is
/// recorded (a run log line, the owed flag cleared) — also after a crash, and also when it throws.
/// </summary>
public sealed class StateHookTests
{
    private static readonly string RunQueue = FlowEngine.RunQueueName("default");

    private readonly ConcurrentQueue<(string Hook, FlowHookContext Context)> _calls = new();

    [Fact]
    public async Task OnCompletionAndOnFailure_EachFiresOnceForItsOwnFinalStateOnly()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(30));
        await using var host = CreateHost();

        var ok = await host.RunAsync("ok", cancellationToken: deadline.Token);
        var bad = await host.RunAsync("bad", cancellationToken: deadline.Token);

        Assert.Equal(RunState.Completed, ok.State);
        Assert.Equal(RunState.Failed, bad.State);
        Assert.Equal([("OnCompletion", ok.RunId), ("OnFailure", bad.RunId)], _calls.Select(c => (c.Hook, c.Context.RunId)));
        await AssertRecordedOnceAsync(host, ok.RunId, "OnCompletion completed", deadline.Token);
        await AssertRecordedOnceAsync(host, bad.RunId, "OnFailure completed", deadline.Token);
        Assert.Equal("flow broke", _calls.Last().Context.Failure!.Message);
    }

    [Fact]
    public async Task OnCancellation_RunCancelledWhileWaiting_FiresOnceWithTheFinalTransitionsEventIdAsKey()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(30));
        await using var host = CreateHost();
        var runId = (await host.StartAsync("wait", cancellationToken: deadline.Token)).RunId;
        await host.DriveAsync(runId, r => r.State == RunState.Paused, deadline.Token);

        Assert.True(await host.CancelAsync(runId, deadline.Token));
        var final = await host.DriveAsync(runId, cancellationToken: deadline.Token);

        Assert.Equal(RunState.Cancelled, final.State);
        var (hook, context) = Assert.Single(_calls);
        Assert.Equal("OnCancellation", hook);
        Assert.Equal(RunState.Cancelled, context.State);
        Assert.Equal($"{runId}.t{final.TransitionCount}", context.IdempotencyKey);
        await AssertRecordedOnceAsync(host, runId, "OnCancellation completed", deadline.Token);
    }

    [Fact]
    public async Task HookThatThrows_IsRecordedAsFailedAndNotRunAgainOnALaterDelivery()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(30));
        await using var host = CreateHost(throwingHooks: true);
        var run = await host.RunAsync("bad", cancellationToken: deadline.Token);

        // Another work item of the finished run (a duplicate delivery): the hook is recorded, so it does not run again.
        await host.Engine.Lifecycle.EnqueueAsync(run, TimeSpan.Zero, "duplicate", deadline.Token);
        await ProcessAllAsync(host, deadline.Token);

        Assert.Equal(RunState.Failed, run.State);
        Assert.Equal("flow broke", run.Failure!.Message); // the hook's failure did not change the outcome
        Assert.Single(_calls);
        await AssertRecordedOnceAsync(host, run.RunId, "OnFailure failed (InvalidOperationException: the hook broke too)", deadline.Token);
    }

    [Fact]
    public async Task OnCrashed_RunWhoseWorkerKeptDying_FiresOnceAfterTheRunIsMarkedCrashed()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(30));
        await using var host = CreateHost();
        var runId = (await host.StartAsync("ok", cancellationToken: deadline.Token)).RunId;
        var max = host.Engine.Options.MaxDequeueCount;

        // A worker that took the run died holding it, each time its item was delivered: the lease is left to expire.
        for (var delivery = 1; delivery <= max; delivery++)
        {
            var item = Assert.Single(await host.Queue.DequeueAsync(RunQueue, 1, host.Engine.Options.LeaseDuration, deadline.Token));
            await DieHoldingAsync(host, runId, deadline.Token);
            await host.Queue.AbandonAsync(item, TimeSpan.Zero, deadline.Token);
        }

        var last = Assert.Single(await host.Queue.DequeueAsync(RunQueue, 1, host.Engine.Options.LeaseDuration, deadline.Token));
        Assert.Equal(max + 1, last.DequeueCount);
        await host.Engine.ProcessAsync(last, deadline.Token); // gives up: Crashed, with the hook owed and its carrier enqueued
        var crashed = (await host.Store.GetRunAsync(runId, deadline.Token))!.Record;
        Assert.Equal(RunState.Crashed, crashed.State);
        Assert.True(crashed.HookPending);
        Assert.Empty(_calls);

        await ProcessAllAsync(host, deadline.Token);

        var (hook, context) = Assert.Single(_calls);
        Assert.Equal("OnCrashed", hook);
        Assert.Equal(RunState.Crashed, context.State);
        Assert.Equal($"{runId}.t{crashed.TransitionCount}", context.IdempotencyKey);
        Assert.Single(await host.Queue.GetDeadLettersAsync(RunQueue, 10, deadline.Token));
        await AssertRecordedOnceAsync(host, runId, "OnCrashed completed", deadline.Token);
    }

    [Fact]
    public async Task OwedHook_ItemDeliveredMoreThanMaxDequeueCount_IsRecordedAsNotRunAgainInsteadOfLooping()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(30));
        await using var host = CreateHost();
        var run = await host.RunAsync("ok", cancellationToken: deadline.Token);
        _calls.Clear();

        // The hook is owed again (as if every process that ran it died in it) and its item keeps coming back.
        var stored = (await host.Store.GetRunAsync(run.RunId, deadline.Token))!;
        await host.Store.CommitAsync(new RunCommit { ExpectedVersion = stored.Version, Run = stored.Record with { HookPending = true } }, deadline.Token);
        await host.Engine.Lifecycle.EnqueueAsync(run, TimeSpan.Zero, "hook", deadline.Token);
        for (var delivery = 1; delivery <= host.Engine.Options.MaxDequeueCount; delivery++)
        {
            var item = Assert.Single(await host.Queue.DequeueAsync(RunQueue, 1, host.Engine.Options.LeaseDuration, deadline.Token));
            await host.Queue.AbandonAsync(item, TimeSpan.Zero, deadline.Token);
        }

        await ProcessAllAsync(host, deadline.Token);

        Assert.Empty(_calls);
        await AssertRecordedOnceAsync(host, run.RunId, "OnCompletion not run again", deadline.Token, expectedLines: 2);
    }

    private FlowTestHost CreateHost(bool throwingHooks = false)
    {
        FlowOptions Hooks() => new()
        {
            OnCompletion = Hook("OnCompletion"),
            OnFailure = Hook("OnFailure"),
            OnCrashed = Hook("OnCrashed"),
            OnCancellation = Hook("OnCancellation"),
        };

        FlowHook Hook(string name) => (context, _) =>
        {
            _calls.Enqueue((name, context));
            return throwingHooks ? throw new InvalidOperationException("the hook broke too") : Task.CompletedTask;
        };

        return FlowTestHost.Create(r => r
            .AddFlow<Unit, int>("ok", (ctx, _) => ctx.RunTaskAsync("one", _ => Task.FromResult(1)), Hooks())
            .AddFlow<Unit, int>("bad", (_, _) => throw new InvalidOperationException("flow broke"), Hooks())
            .AddFlow<Unit, int>("wait", async (ctx, _) =>
            {
                await ctx.SleepAsync(TimeSpan.FromDays(1));
                return 1;
            }, Hooks()));
    }

    /// <summary>Processes every visible item of the run queue until it is empty.</summary>
    private static async Task ProcessAllAsync(FlowTestHost host, CancellationToken cancellationToken)
    {
        while (await host.Queue.DequeueAsync(RunQueue, 10, host.Engine.Options.LeaseDuration, cancellationToken) is { Count: > 0 } items)
        {
            foreach (var item in items)
            {
                await host.Engine.ProcessAsync(item, cancellationToken);
            }
        }
    }

    /// <summary>Writes what a worker that took the run and died writes: Running, leased by it, the lease already expired.</summary>
    private static async Task DieHoldingAsync(FlowTestHost host, string runId, CancellationToken cancellationToken)
    {
        var stored = (await host.Store.GetRunAsync(runId, cancellationToken))!;
        var now = host.Clock.GetUtcNow();
        var run = stored.Record with { LeaseOwner = "dead-worker", LeaseUntil = now - TimeSpan.FromSeconds(1) };
        List<StateTransition> transitions = [];
        if (run.State != RunState.Running)
        {
            transitions.Add(new StateTransition(run.TransitionCount + 1, run.State, RunState.Running, now, "Started on dead-worker", run.Attempt));
            run = run with { State = RunState.Running, StateTime = now, StartedAt = now, TransitionCount = run.TransitionCount + 1 };
        }

        await host.Store.CommitAsync(new RunCommit { ExpectedVersion = stored.Version, Run = run, Transitions = transitions }, cancellationToken);
    }

    /// <summary>The hook is recorded: no longer owed, and one run log line (per invocation) says what happened.</summary>
    private static async Task AssertRecordedOnceAsync(FlowTestHost host, string runId, string outcome, CancellationToken cancellationToken, int expectedLines = 1)
    {
        var run = (await host.Store.GetRunAsync(runId, cancellationToken))!.Record;
        Assert.False(run.HookPending);
        var lines = (await host.Store.GetLogsAsync(runId, 1000, null, cancellationToken)).Lines.Where(l => l.Message.StartsWith("Hook ", StringComparison.Ordinal)).ToList();
        Assert.Equal(expectedLines, lines.Count);
        Assert.Contains(outcome, lines[^1].Message, StringComparison.Ordinal);
        Assert.Contains($"idempotency key {runId}.t{run.TransitionCount}", lines[^1].Message, StringComparison.Ordinal);
    }
}
