using Flow.Engine.Runs;
using Flow.Engine.Storage;
using Flow.Sdk;

namespace Flow.Engine.Tests.Runs;

/// <summary>The lifecycle's rules for a run that waits for a task's retry (AwaitingRetry in the same attempt) versus a flow retry.</summary>
public sealed class TaskRetryWaitRuleTests
{
    private static readonly DateTimeOffset T0 = new(2030, 1, 1, 12, 0, 0, TimeSpan.Zero);

    private static FlowRunRecord Running(int attempt = 2) => new()
    {
        RunId = "r1",
        FlowName = "f",
        State = RunState.Running,
        CreatedAt = T0,
        StartedAt = T0.AddMinutes(-1),
        TransitionCount = 3,
        JournalLength = 7,
        Attempt = attempt,
        LeaseOwner = "w1",
        LeaseUntil = T0.AddSeconds(30),
    };

    [Fact]
    public void PlanSuspend_OnlyATaskRetryOpen_AwaitsRetryWithTheTimeAndATransitionNamingTaskAndAttempt()
    {
        var due = T0.AddMinutes(5);
        var change = RunLifecycle.PlanSuspend(Running(), due, "Waiting for task 'call-api' (call 3)", T0, new TaskRetryWait("call-api", 3, 2, due));

        Assert.Equal(RunState.AwaitingRetry, change.Run.State);
        Assert.Equal(due, change.Run.WakeAt);
        Assert.Null(change.Run.LeaseOwner);
        Assert.Null(change.Run.Failure);
        Assert.Equal(2, change.Run.Attempt);
        Assert.Equal(7, change.Run.JournalLength);
        var t = Assert.Single(change.Transitions);
        Assert.Equal((RunState?)RunState.Running, t.From);
        Assert.Equal(RunState.AwaitingRetry, t.To);
        Assert.Contains("'call-api'", t.Message, StringComparison.Ordinal);
        Assert.Contains("attempt 2", t.Message, StringComparison.Ordinal);
        Assert.Contains(due.ToString("O", System.Globalization.CultureInfo.InvariantCulture), t.Message, StringComparison.Ordinal);
        Assert.True(RunLifecycle.IsTaskRetryWait(change.Run));
        Assert.Equal(due, RunLifecycle.NotBefore(change.Run, T0));
    }

    [Fact]
    public void PlanSuspend_NoTaskRetry_PausesAsBefore()
    {
        var change = RunLifecycle.PlanSuspend(Running(), T0.AddHours(1), "Waiting for timer 'nap' (call 1)", T0);

        Assert.Equal(RunState.Paused, change.Run.State);
        Assert.False(RunLifecycle.IsTaskRetryWait(change.Run));
    }

    [Fact]
    public void PlanSuspend_CancellingRunWithATaskRetry_StaysCancelling()
    {
        var change = RunLifecycle.PlanSuspend(Running() with { State = RunState.Cancelling }, T0.AddMinutes(5), "r", T0, new TaskRetryWait("t", 1, 2, T0.AddMinutes(5)));

        Assert.Equal(RunState.Cancelling, change.Run.State);
        Assert.Empty(change.Transitions);
    }

    [Fact]
    public void PlanClaim_TaskRetryWait_ResumesTheSameAttemptWithItsJournalAndStartTime()
    {
        var waiting = RunLifecycle.PlanSuspend(Running(), T0.AddMinutes(5), "r", T0, new TaskRetryWait("call-api", 3, 2, T0.AddMinutes(5))).Run;

        var claim = RunLifecycle.PlanClaim(waiting, "w2", TimeSpan.FromSeconds(30), T0.AddMinutes(5));

        Assert.Equal(RunState.Running, claim.Run.State);
        Assert.Equal(2, claim.Run.Attempt);
        Assert.Equal(7, claim.Run.JournalLength);
        Assert.Equal(T0.AddMinutes(-1), claim.Run.StartedAt);
        Assert.Null(claim.Run.WakeAt);
        var t = Assert.Single(claim.Transitions);
        Assert.Equal(2, t.Attempt);
        Assert.Contains("task retry", t.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PlanClaim_FlowRetry_StartsTheNextAttemptWithAnEmptyJournal()
    {
        var failed = RunLifecycle.PlanFailOrRetry(Running(), new FailureInfo("E", "boom"), null, retries: 3, TimeSpan.FromMinutes(1), crashed: false, T0)!.Run;
        Assert.Equal(RunState.AwaitingRetry, failed.State);
        Assert.False(RunLifecycle.IsTaskRetryWait(failed));

        var claim = RunLifecycle.PlanClaim(failed, "w2", TimeSpan.FromSeconds(30), T0.AddMinutes(1));

        Assert.Equal(3, claim.Run.Attempt);
        Assert.Equal(0, claim.Run.JournalLength);
        Assert.Null(claim.Run.Failure);
    }
}
