using Flow.Engine.Execution;
using Flow.Engine.Runs;
using Flow.Engine.Storage;
using Flow.Sdk;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flow.Engine.Tests.Execution;

/// <summary>
/// The replay core driven by hand, the way Temporal's workflow instance is driven by activations: a run record and a journal in,
/// decisions out. No store, no queue, no clock: "committing" here is moving the pending events into the journal.
/// </summary>
public sealed class ReplayCoreTests
{
    private static readonly DateTimeOffset T0 = new(2030, 1, 1, 12, 0, 0, TimeSpan.Zero);

    private static readonly FlowRegistry Registry = new FlowRegistry()
        .AddTask<int, int>("inc", (_, x) => Task.FromResult(x + 1), TaskOptions.Distributed())
        .AddTask<int, int>("double", (_, x) => Task.FromResult(x * 2), TaskOptions.Distributed())
        .AddFlow<int, int>("add-one", async (ctx, x) => await ctx.CallTaskAsync<int>("inc", x))
        .AddFlow<int, int>("nap", async (ctx, x) =>
        {
            await ctx.SleepAsync(TimeSpan.FromMinutes(5));
            return x;
        })
        .AddFlow<int, string>("greet", async (ctx, _) => await ctx.WaitForEventAsync<string>("name"))
        .AddFlow<int, int>("throws", (_, _) => throw new InvalidOperationException("bad input"));

    private static FlowRunRecord Run(string flow, int journalLength = 0) => new()
    {
        RunId = "r1",
        FlowName = flow,
        State = RunState.Running,
        CreatedAt = T0,
        StartedAt = T0,
        JournalLength = journalLength,
        Parameters = "41",
    };

    private static ReplayCore Start(string flow, params JournalEvent[] journal)
    {
        Assert.True(Registry.TryGetFlow(flow, out var definition));
        var services = new EmptyServices();
        var settings = new ReplaySettings(Registry, services, NullLogger.Instance, NullLogger.Instance, TimeProvider.System, TimeSpan.FromSeconds(5), 1 << 20);
        var core = new ReplayCore(Run(flow, journal.Length), journal, definition, definition.Options, settings, new EpisodeWrites(), () => { });
        core.Start(41, services);
        Pump(core);
        return core;
    }

    /// <summary>Runs the flow code and the replay until the code waits for something new (or ends).</summary>
    private static void Pump(ReplayCore core) => core.ReplayAll(CancellationToken.None);

    private static IReadOnlyList<StartInlineCommand> Decide(ReplayCore core, DateTimeOffset now)
    {
        using (core.Scheduler.Own())
        {
            return core.Decide(now);
        }
    }

    /// <summary>What a commit does for the core: the pending events join the journal and are applied.</summary>
    private static List<JournalEvent> Commit(ReplayCore core)
    {
        var events = core.Writes.Events.ToList();
        core.Writes.Events.Clear();
        core.Run = core.Run with { JournalLength = core.Run.JournalLength + events.Count };
        using (core.Scheduler.Own())
        {
            events.ForEach(core.Apply);
        }

        Pump(core);
        return events;
    }

    private static JournalEvent Event(int index, JournalEventKind kind, int callId, string? name, string? payload = null, int attempt = 1) =>
        new() { Index = index, Kind = kind, CallId = callId, Name = name, Attempt = attempt, Timestamp = T0.AddSeconds(index), Payload = payload };

    [Fact]
    public void Decide_NewDistributedTaskCall_RecordsItsDispatchAndASendCommandForAfterTheCommit()
    {
        using var core = Start("add-one");

        Decide(core, T0);

        var dispatched = Assert.Single(core.Writes.Events);
        Assert.Equal((1, JournalEventKind.TaskDispatched, 1, "inc", "41"), (dispatched.Index, dispatched.Kind, dispatched.CallId, dispatched.Name, dispatched.Payload));
        Assert.Equal(new SendTaskCommand("inc", 1, 1, 1), Assert.Single(core.Writes.TaskSends));
        Assert.False(core.FlowTask!.IsCompleted);
    }

    [Fact]
    public void Decide_CallWhoseActionIsPendingCommit_IsNotActedOnTwice()
    {
        using var core = Start("add-one");

        Decide(core, T0);
        Decide(core, T0);

        Assert.Single(core.Writes.Events);
    }

    [Fact]
    public void Replay_JournalWithTheTaskResult_CompletesTheFlowWithoutDecidingAnything()
    {
        using var core = Start(
            "add-one",
            Event(1, JournalEventKind.TaskDispatched, 1, "inc", "41"),
            Event(2, JournalEventKind.TaskCompleted, 1, "inc", "42"));

        var end = core.JudgeCompletion();

        Assert.Equal(new EpisodeEnd(RunState.Completed, "42", null, "Completed"), end);
        Assert.Equal(2, core.Replayed);
        Assert.Empty(Decide(core, T0));
        Assert.Empty(core.Writes.Events);
    }

    [Fact]
    public void Replay_JournalRecordsAnotherTask_IsANonDeterminismNamingBoth()
    {
        using var core = Start("add-one", Event(1, JournalEventKind.TaskDispatched, 1, "double", "41"));

        Assert.NotNull(core.Fatal);
        Assert.Contains("'double'", core.Fatal.Message, StringComparison.Ordinal);
        Assert.Contains("'inc'", core.Fatal.Message, StringComparison.Ordinal);
        var end = core.NonDeterministic();
        Assert.Equal(RunState.Failed, end.State);
        Assert.False(end.MayRetry);
    }

    [Fact]
    public void Replay_CodeFinishesWhileTheJournalRecordsMore_IsANonDeterminism()
    {
        using var core = Start(
            "nap",
            Event(1, JournalEventKind.TimerCreated, 1, "sleep"),
            Event(2, JournalEventKind.TimerFired, 1, "sleep"),
            Event(3, JournalEventKind.TaskDispatched, 2, "inc", "41"));

        var end = core.JudgeCompletion();

        Assert.StartsWith("Non-determinism: The flow code finished, but the journal records more", end.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Sleep_IsATimerDueFromTheFlowClock_ThatFiresOnlyWhenDue()
    {
        using var core = Start("nap");

        Decide(core, T0.AddHours(1));
        var created = Assert.Single(Commit(core));
        Assert.Equal(JournalEventKind.TimerCreated, created.Kind);
        Assert.Equal(T0.AddMinutes(5), created.DueAt); // the flow's clock (its start), not the wall clock
        Assert.Equal((T0.AddMinutes(5), "Waiting for timer 'sleep' (call 1)", (TaskRetryWait?)null), core.PlanSuspension());

        Decide(core, T0.AddMinutes(4));
        Assert.Empty(core.Writes.Events);
        Decide(core, T0.AddMinutes(5));
        Assert.Equal(JournalEventKind.TimerFired, Assert.Single(Commit(core)).Kind);

        Assert.Equal(new EpisodeEnd(RunState.Completed, "41", null, "Completed"), core.JudgeCompletion());
    }

    [Fact]
    public void ConsumeInbox_EventDelivered_BecomesAJournalEventThatResolvesTheWait()
    {
        using var core = Start("greet");
        Decide(core, T0);
        Commit(core);

        core.ConsumeInbox([new InboxItem { Id = "event-1", Kind = InboxItemKind.Event, Name = "name", Payload = "\"Ada\"", Timestamp = T0 }], T0.AddMinutes(1));

        Assert.Equal(["event-1"], core.Writes.InboxToRemove);
        Assert.Equal(JournalEventKind.EventReceived, Assert.Single(Commit(core)).Kind);
        Assert.Equal("\"Ada\"", core.JudgeCompletion().Result);
    }

    [Fact]
    public void ConsumeInbox_CancelRequested_CancelsTheOpenCallsAndTheFlowEndsCancelled()
    {
        using var core = Start("nap");
        Decide(core, T0);
        Commit(core);

        core.ConsumeInbox([new InboxItem { Id = "cancel", Kind = InboxItemKind.CancelRequested, Timestamp = T0 }], T0);
        Commit(core);

        Assert.True(core.CancelRequested);
        Assert.True(core.RunCancellation.IsCancellationRequested);
        Assert.Equal(RunState.Cancelled, core.JudgeCompletion().State);
    }

    [Fact]
    public void JudgeCompletion_FlowThrows_FailsRetryablyWithTheError()
    {
        using var core = Start("throws");

        var end = core.JudgeCompletion();

        Assert.Equal((RunState.Failed, "Failed: bad input", true), (end.State, end.Message, end.MayRetry));
        Assert.Equal(typeof(InvalidOperationException).FullName, end.Failure!.Type);
    }

    private sealed class EmptyServices : IServiceProvider
    {
        public object? GetService(Type serviceType) => null;
    }
}
