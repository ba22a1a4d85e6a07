using Flow.Engine.Runs;
using Flow.Engine.Storage;
using Flow.Sdk;

namespace Flow.Engine.Tests.Runs;

/// <summary>The lifecycle's pure rules (<c>Plan*</c>): no store, no queue, no clock.</summary>
public sealed class RunLifecycleRuleTests
{
    private static readonly DateTimeOffset T0 = new(2030, 1, 1, 12, 0, 0, TimeSpan.Zero);

    private static FlowRunRecord Run(RunState state, int transitions = 3, int attempt = 1) => new()
    {
        RunId = "r1",
        FlowName = "f",
        State = state,
        CreatedAt = T0,
        TransitionCount = transitions,
        Attempt = attempt,
        LeaseOwner = "w1",
        LeaseUntil = T0.AddSeconds(30),
    };

    [Fact]
    public void PlanTransition_AllowedChange_NumbersTheEntryAfterTheHistoryAndAppliesItToTheRecord()
    {
        var change = RunLifecycle.PlanTransition(Run(RunState.Running, transitions: 4, attempt: 2), RunState.Paused, "waiting", T0);

        var t = Assert.Single(change.Transitions);
        Assert.Equal(new StateTransition(5, RunState.Running, RunState.Paused, T0, "waiting", 2), t);
        Assert.Equal((RunState.Paused, "waiting", T0, 5), (change.Run.State, change.Run.StateMessage, change.Run.StateTime, change.Run.TransitionCount));
    }

    [Theory]
    [InlineData(RunState.Completed, RunState.Running)]
    [InlineData(RunState.Pending, RunState.Completed)]
    [InlineData(RunState.Cancelling, RunState.Running)]
    public void PlanTransition_ChangeTheStateMachineRefuses_Throws(RunState from, RunState to)
    {
        var e = Assert.Throws<InvalidStateTransitionException>(() => RunLifecycle.PlanTransition(Run(from), to, null, T0));
        Assert.Equal((from, to), (e.From, e.To));
    }

    [Fact]
    public void PlanSuspend_RunningRun_PausesAndReleasesTheLease_ButACancellingRunStaysCancelling()
    {
        var running = RunLifecycle.PlanSuspend(Run(RunState.Running), T0.AddMinutes(5), "Waiting for timer", T0);
        var cancelling = RunLifecycle.PlanSuspend(Run(RunState.Cancelling), null, "Waiting for subflow", T0);

        Assert.Equal(RunState.Paused, running.Run.State);
        Assert.Equal(T0.AddMinutes(5), running.Run.WakeAt);
        Assert.Null(running.Run.LeaseOwner);
        Assert.Equal(RunState.Cancelling, cancelling.Run.State);
        Assert.Empty(cancelling.Transitions);
        Assert.Null(cancelling.Run.LeaseOwner);
    }

    [Theory]
    [InlineData(1, 1, false, true)]
    [InlineData(2, 1, false, false)]
    [InlineData(1, 0, false, false)]
    [InlineData(1, 3, true, false)]
    public void RetryDue_AttemptsLeftAndNoCancellation_GivesTheRetryTime(int attempt, int retries, bool cancelRequested, bool expectRetry)
    {
        var run = Run(RunState.Running, attempt: attempt) with { CancelRequested = cancelRequested };

        var due = RunLifecycle.RetryDue(run, retries, TimeSpan.FromSeconds(7), T0);

        Assert.Equal(expectRetry ? T0.AddSeconds(7) : null, due);
    }

    [Fact]
    public void PlanSettleAndPlanCrash_FinalState_OweItsHookInTheSameChange_AndPlanHookDoneClearsOnlyThat()
    {
        var settled = RunLifecycle.PlanSettle(Run(RunState.Running), RunState.Completed, "done", "1", null, T0)!;
        var crashed = RunLifecycle.PlanCrash(Run(RunState.Running), "worker died", T0)!;
        var retried = RunLifecycle.PlanFailOrRetry(Run(RunState.Running), new FailureInfo("E", "x"), null, 1, TimeSpan.Zero, crashed: true, T0)!;

        Assert.True(settled.Run.HookPending);
        Assert.True(crashed.Run.HookPending);
        Assert.False(retried.Run.HookPending); // AwaitingRetry is not final: no hook yet
        Assert.Equal("r1.t4", RunLifecycle.HookKey(settled.Run)); // the final transition's event id
        var done = RunLifecycle.PlanHookDone(settled.Run)!;
        Assert.Equal(settled.Run with { HookPending = false }, done);
        Assert.Null(RunLifecycle.PlanHookDone(done));
        Assert.Null(RunLifecycle.PlanHookDone(Run(RunState.Running) with { HookPending = true }));
    }

    [Fact]
    public void PlanSettle_NotAFinalState_Throws() =>
        Assert.Throws<ArgumentException>(() => RunLifecycle.PlanSettle(Run(RunState.Running), RunState.Paused, "x", null, null, T0));

    [Fact]
    public void PlanSettle_FailedWhileCancellationWasRequested_StaysFailed()
    {
        var run = Run(RunState.Cancelling) with { CancelRequested = true };

        var change = RunLifecycle.PlanSettle(run, RunState.Failed, "boom", null, new FailureInfo("E", "boom"), T0);

        Assert.Equal(RunState.Failed, change!.Run.State);
        Assert.Equal(T0, change.Run.EndedAt);
        Assert.Null(change.Run.WakeAt);
    }

    [Fact]
    public void PlanCrash_FinalRun_GivesNothing()
    {
        Assert.Null(RunLifecycle.PlanCrash(Run(RunState.Completed), "x", T0));
        Assert.Equal(RunState.Crashed, RunLifecycle.PlanCrash(Run(RunState.Paused), "x", T0)!.Run.State);
    }

    [Fact]
    public void NotBefore_ScheduledOrAwaitingRetry_WaitsForItsTimeUnlessCancellationWasRequested()
    {
        var scheduled = Run(RunState.Scheduled) with { ScheduledAt = T0.AddMinutes(3) };
        var retrying = Run(RunState.AwaitingRetry) with { WakeAt = T0.AddMinutes(1) };

        Assert.Equal(T0.AddMinutes(3), RunLifecycle.NotBefore(scheduled, T0));
        Assert.Equal(T0.AddMinutes(1), RunLifecycle.NotBefore(retrying, T0));
        Assert.Equal(T0, RunLifecycle.NotBefore(scheduled with { CancelRequested = true }, T0));
        Assert.Equal(T0, RunLifecycle.NotBefore(Run(RunState.Paused), T0));
    }

    [Fact]
    public void PlanClaim_PausedRun_ResumesAndKeepsItsStartTime()
    {
        var paused = Run(RunState.Paused) with { LeaseOwner = null, LeaseUntil = null, StartedAt = T0.AddHours(-1), WakeRequested = true, WakeAt = T0 };

        var change = RunLifecycle.PlanClaim(paused, "w2", TimeSpan.FromSeconds(30), T0);

        Assert.Equal("Resumed on w2", Assert.Single(change.Transitions).Message);
        Assert.Equal(T0.AddHours(-1), change.Run.StartedAt);
        Assert.False(change.Run.WakeRequested);
        Assert.Null(change.Run.WakeAt);
    }

    [Fact]
    public void PlanClaim_RunningRunTakenOver_KeepsItsStateAndAttempt_AndTheHistoryNamesBothWorkersAndTheLeaseEnd()
    {
        var abandoned = Run(RunState.Running) with { LeaseOwner = "w1", LeaseUntil = T0.AddSeconds(30) };

        var change = RunLifecycle.PlanClaim(abandoned, "w2", TimeSpan.FromSeconds(30), T0.AddMinutes(1));

        var takeover = Assert.Single(change.Transitions);
        Assert.Equal((RunState.Running, RunState.Running), (takeover.From, takeover.To));
        Assert.Equal("Taken over by w2 from w1, whose lease ended at 2030-01-01T12:00:30.0000000+00:00; resumes from its journal", takeover.Message);
        Assert.Equal(("w2", RunState.Running, 1), (change.Run.LeaseOwner, change.Run.State, change.Run.Attempt));
    }

    [Fact]
    public void PlanClaim_CancellingRunTakenOver_StaysCancelling_WithTheTakeoverInTheHistory()
    {
        var abandoned = Run(RunState.Cancelling) with { LeaseOwner = "w1", LeaseUntil = T0, CancelRequested = true };

        var change = RunLifecycle.PlanClaim(abandoned, "w2", TimeSpan.FromSeconds(30), T0.AddMinutes(1));

        Assert.Equal((RunState.Cancelling, RunState.Cancelling), (Assert.Single(change.Transitions).From, change.Transitions[0].To));
        Assert.Equal(RunState.Cancelling, change.Run.State);
    }
}
