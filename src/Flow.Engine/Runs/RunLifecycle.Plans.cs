using Flow.Engine.Storage;
using Flow.Sdk;

namespace Flow.Engine.Runs;

// The rules: pure functions from a run record (and the time) to the change to commit. No I/O, so a committer that must batch
// a transition with journal writes (the episode) uses them as they are, and tests need no store.
public sealed partial class RunLifecycle
{
    /// <summary>
    /// The first record of a new run and its first transition: Scheduled when <see cref="NewRun.ScheduledAt"/> is ahead of
    /// <paramref name="now"/>, otherwise Pending.
    /// </summary>
    /// <param name="run">What the run is made of.</param>
    /// <param name="now">The creation time.</param>
    /// <returns>The record and its one transition (index 1, from nothing).</returns>
    public static RunChange PlanCreate(NewRun run, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(run);
        var scheduled = run.ScheduledAt is { } at && at > now;
        var state = scheduled ? RunState.Scheduled : RunState.Pending;
        var message = run.Message ?? (scheduled ? $"Scheduled for {run.ScheduledAt:O}" : "Created");
        var record = new FlowRunRecord
        {
            RunId = run.RunId ?? Guid.CreateVersion7().ToString("N"),
            FlowName = run.FlowName,
            Pool = run.Pool,
            Deployment = run.Deployment,
            State = state,
            StateMessage = message,
            StateTime = now,
            TransitionCount = 1,
            Parameters = run.Parameters,
            Tags = run.Tags,
            ParentRunId = run.ParentRunId,
            ParentAttempt = run.ParentAttempt,
            ParentCallId = run.ParentCallId,
            CreatedAt = now,
            ScheduledAt = run.ScheduledAt is { } due ? StorageContract.NormalizeTime(due) : now,
            FlowVersion = run.FlowVersion,
        };
        return new RunChange(record, [new StateTransition(1, null, state, now, message, 1)]);
    }

    /// <summary>One validated state change: the record in state <paramref name="to"/> and its history entry.</summary>
    /// <param name="run">The record before.</param>
    /// <param name="to">The next state.</param>
    /// <param name="message">Why, for the state history.</param>
    /// <param name="now">The time of the change.</param>
    /// <returns>The change.</returns>
    /// <exception cref="InvalidStateTransitionException">The state machine does not allow the change.</exception>
    public static RunChange PlanTransition(FlowRunRecord run, RunState to, string? message, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(run);
        var transitions = new List<StateTransition>(1);
        var next = Transition(run, transitions, to, message, now);
        return new RunChange(next, transitions);
    }

    /// <summary>
    /// When a run may start (or go on): a Scheduled run at its scheduled time, a run awaiting a retry at the retry's time, anything
    /// else — and any run whose cancellation was requested, so it ends without waiting — now.
    /// </summary>
    /// <param name="run">The run.</param>
    /// <param name="now">The current time.</param>
    /// <returns>The earliest time to claim it.</returns>
    public static DateTimeOffset NotBefore(FlowRunRecord run, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(run);
        return run.CancelRequested ? now : run.State switch
        {
            RunState.Scheduled => run.ScheduledAt,
            RunState.AwaitingRetry => run.WakeAt ?? now,
            _ => now,
        };
    }

    /// <summary>
    /// Whether the run was left by a worker that died holding it: someone took its lease and the lease ran out without being
    /// released. A claim of such a run is a takeover.
    /// </summary>
    /// <param name="run">The run.</param>
    /// <param name="now">The current time.</param>
    /// <returns>True when the run was abandoned.</returns>
    public static bool WasAbandoned(FlowRunRecord run, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(run);
        return run.LeaseOwner is not null && !run.IsLeased(now);
    }

    /// <summary>
    /// Takes the run's lease for <paramref name="owner"/> and starts it: Scheduled, Pending and Paused go to Running (the start time is
    /// kept across pauses); AwaitingRetry after a failed attempt starts the next attempt (attempt + 1, an empty journal, no failure),
    /// AwaitingRetry for a task's retry (<see cref="IsTaskRetryWait"/>) resumes the same attempt with its journal. A Running or Cancelling
    /// run (a takeover) keeps its state, with a transition to the same state naming the previous owner and when its lease ended.
    /// The wake-up flags are cleared: the claimer reads the inbox.
    /// </summary>
    /// <param name="run">The run, not leased by anyone else.</param>
    /// <param name="owner">The claiming worker.</param>
    /// <param name="leaseDuration">How long the lease lasts unless renewed.</param>
    /// <param name="now">The current time.</param>
    /// <returns>The change.</returns>
    public static RunChange PlanClaim(FlowRunRecord run, string owner, TimeSpan leaseDuration, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentException.ThrowIfNullOrEmpty(owner);
        var next = run with { LeaseOwner = owner, LeaseUntil = now + leaseDuration, HeartbeatAt = now, WakeRequested = false, WakeAt = null };
        var transitions = new List<StateTransition>(1);
        if (IsTaskRetryWait(run))
        {
            next = next with { StartedAt = run.StartedAt ?? now };
            next = Transition(next, transitions, RunState.Running, $"Resumed on {owner} for the task retry (attempt {run.Attempt} goes on)", now);
        }
        else if (run.State == RunState.AwaitingRetry)
        {
            next = next with { Attempt = run.Attempt + 1, JournalLength = 0, StartedAt = now, Failure = null };
            next = Transition(next, transitions, RunState.Running, $"Attempt {run.Attempt + 1} started on {owner}", now);
        }
        else if (run.State is RunState.Scheduled or RunState.Pending or RunState.Paused)
        {
            next = next with { StartedAt = run.StartedAt ?? now };
            next = Transition(next, transitions, RunState.Running, (run.State == RunState.Paused ? "Resumed on " : "Started on ") + owner, now);
        }
        else if (run.State is RunState.Running or RunState.Cancelling && run.LeaseOwner is { } previous && (previous != owner || !run.IsLeased(now)))
        {
            // A takeover: the worker holding the run died (or let it go at shutdown). The run is durable, so it goes on from its
            // journal in the same attempt; the history says who took it from whom, and when the old lease ended.
            var ended = run.LeaseUntil is { } until ? until.ToString("O", System.Globalization.CultureInfo.InvariantCulture) : "unknown";
            next = Transition(next, transitions, run.State, $"Taken over by {owner} from {previous}, whose lease ended at {ended}; resumes from its journal", now);
        }

        return new RunChange(next, transitions);
    }

    /// <summary>Renews the lease of the worker holding the run (a heartbeat); no state change.</summary>
    /// <param name="run">The run.</param>
    /// <param name="owner">The worker holding it.</param>
    /// <param name="leaseDuration">How long the renewed lease lasts.</param>
    /// <param name="now">The current time.</param>
    /// <returns>The record with the lease renewed.</returns>
    public static FlowRunRecord PlanRenew(FlowRunRecord run, string owner, TimeSpan leaseDuration, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(run);
        return run with { LeaseOwner = owner, LeaseUntil = now + leaseDuration, HeartbeatAt = now };
    }

    /// <summary>
    /// Lets a run go at a worker's shutdown: the lease ends now, its owner is kept, so the next claim is a takeover (and the run resumes
    /// from its journal, or is judged crashed). No state change.
    /// </summary>
    /// <param name="run">The run.</param>
    /// <param name="now">The current time.</param>
    /// <returns>The change.</returns>
    public static RunChange PlanRelease(FlowRunRecord run, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(run);
        return new RunChange(run with { LeaseUntil = now }, []);
    }

    /// <summary>
    /// Ends an episode that waits for something durable: the lease is released, the earliest wake-up is recorded, and a Running run goes
    /// to Paused (a timer, a distributed task, an event, a subflow: something a time, a person or another run resolves) — or, when
    /// <paramref name="retry"/> says it only waits for an inline task's retry delay, to AwaitingRetry in the same attempt, with the
    /// journal kept and no failure recorded (<see cref="IsTaskRetryWait"/>). A Cancelling run stays Cancelling.
    /// </summary>
    /// <param name="run">The run.</param>
    /// <param name="wakeAt">The earliest time the run must be looked at again, or null when only a delivery can wake it.</param>
    /// <param name="reason">What it waits for.</param>
    /// <param name="now">The current time.</param>
    /// <param name="retry">The task retry the run waits for when that is all it waits for, else null.</param>
    /// <returns>The change.</returns>
    public static RunChange PlanSuspend(FlowRunRecord run, DateTimeOffset? wakeAt, string reason, DateTimeOffset now, TaskRetryWait? retry = null)
    {
        ArgumentNullException.ThrowIfNull(run);
        var next = run with { LeaseOwner = null, LeaseUntil = null, WakeAt = wakeAt };
        var transitions = new List<StateTransition>(1);
        if (next.State == RunState.Running && retry is not null)
        {
            next = Transition(next with { Failure = null }, transitions, RunState.AwaitingRetry, $"Task '{retry.TaskName}' (call {retry.CallId}) retries: attempt {retry.NextAttempt} at {retry.DueAt:O}", now);
        }
        else if (next.State == RunState.Running)
        {
            next = Transition(next, transitions, RunState.Paused, reason, now);
        }

        return new RunChange(next, transitions);
    }

    /// <summary>
    /// Whether an AwaitingRetry run waits for a task's retry inside its current attempt (<see cref="PlanSuspend"/>) rather than for its
    /// next flow-run attempt (<see cref="PlanFailOrRetry"/>). Derived, not guessed: a flow retry always records the attempt's failure on
    /// the run, a task-retry wait never does (the attempt has not failed), so the stored <see cref="FlowRunRecord.Failure"/> tells them apart.
    /// </summary>
    /// <param name="run">The run.</param>
    /// <returns>True for an AwaitingRetry run that will resume the same attempt with its journal.</returns>
    public static bool IsTaskRetryWait(FlowRunRecord run)
    {
        ArgumentNullException.ThrowIfNull(run);
        return run.State == RunState.AwaitingRetry && run.Failure is null;
    }

    /// <summary>
    /// The retry policy of a failed (or crashed) attempt: the time of the next attempt when attempts remain (attempt ≤ retries) and
    /// nobody asked to cancel the run, otherwise null (the failure is final).
    /// </summary>
    /// <param name="run">The run whose current attempt failed.</param>
    /// <param name="retries">How many retries the flow or deployment allows (0: none).</param>
    /// <param name="delay">The delay before the next attempt.</param>
    /// <param name="now">The current time.</param>
    /// <returns>The retry time, or null.</returns>
    public static DateTimeOffset? RetryDue(FlowRunRecord run, int retries, TimeSpan delay, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(run);
        return run.Attempt <= retries && !run.CancelRequested ? now + delay : null;
    }

    /// <summary>
    /// A failed attempt: AwaitingRetry with the retry time when <see cref="RetryDue"/> gives one (through Crashed first when the attempt
    /// <paramref name="crashed"/>, so the history shows the crash), otherwise the final Failed (or Crashed) state.
    /// </summary>
    /// <param name="run">The run.</param>
    /// <param name="failure">What went wrong.</param>
    /// <param name="finalMessage">The final transition's message when no retry remains; null for the failure's message.</param>
    /// <param name="retries">How many retries are allowed.</param>
    /// <param name="delay">The delay before the next attempt.</param>
    /// <param name="crashed">True when the attempt's worker died (its outcome is unknown) rather than the flow failing.</param>
    /// <param name="now">The current time.</param>
    /// <returns>The change (see <see cref="RunChange.RetryAt"/>), or null when the run is already final.</returns>
    public static RunChange? PlanFailOrRetry(FlowRunRecord run, FailureInfo failure, string? finalMessage, int retries, TimeSpan delay, bool crashed, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(failure);
        if (RetryDue(run, retries, delay, now) is not { } due)
        {
            return PlanSettle(run, crashed ? RunState.Crashed : RunState.Failed, finalMessage ?? failure.Message, null, failure, now);
        }

        var next = run with { LeaseOwner = null, LeaseUntil = null, HeartbeatAt = now, WakeAt = due, Failure = failure };
        var transitions = new List<StateTransition>(2);
        if (crashed)
        {
            next = Transition(next, transitions, RunState.Crashed, failure.Message, now);
        }

        var left = retries - run.Attempt + 1;
        var word = crashed ? "crashed" : "failed";
        next = Transition(next, transitions, RunState.AwaitingRetry, $"Attempt {run.Attempt} {word}: {failure.Message}; retrying at {due:O} ({left} retr{(left == 1 ? "y" : "ies")} left)", now);
        return new RunChange(next, transitions);
    }

    /// <summary>
    /// Ends the run in a final state, releasing its lease. When cancellation was requested, an outcome other than Failed or Crashed
    /// becomes Cancelled (the flow noticed the cancellation, or finished regardless: either way it was cancelled). The final state owes
    /// its state hook (<see cref="FlowRunRecord.HookPending"/> is set); a committer that knows the flow has no hook for it clears the
    /// flag before committing (docs/hooks.md).
    /// </summary>
    /// <param name="run">The run.</param>
    /// <param name="state">The final state the caller judged.</param>
    /// <param name="message">Why, for the state history.</param>
    /// <param name="result">The result as JSON (Completed), or null.</param>
    /// <param name="failure">The failure (Failed, Crashed), or null.</param>
    /// <param name="now">The current time.</param>
    /// <returns>The change, or null when the run is final already (nothing to do).</returns>
    /// <exception cref="ArgumentException"><paramref name="state"/> is not final.</exception>
    public static RunChange? PlanSettle(FlowRunRecord run, RunState state, string message, string? result, FailureInfo? failure, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(run);
        if (!state.IsFinal())
        {
            throw new ArgumentException($"{state} is not a final state.", nameof(state));
        }

        if (run.State.IsFinal())
        {
            return null;
        }

        var finalState = run.CancelRequested && state is not (RunState.Failed or RunState.Crashed) ? RunState.Cancelled : state;
        var next = run with { LeaseOwner = null, LeaseUntil = null, WakeAt = null, HeartbeatAt = now, EndedAt = now, Result = result, Failure = failure, HookPending = true };
        var transitions = new List<StateTransition>(1);
        next = Transition(next, transitions, finalState, message, now);
        return new RunChange(next, transitions);
    }

    /// <summary>
    /// Marks a run whose worker kept dying on it Crashed (final): lease released, the reason as its failure, its OnCrashed hook owed
    /// (<see cref="FlowRunRecord.HookPending"/>). Null when the state machine does not allow Crashed from where the run is (it is final).
    /// </summary>
    /// <param name="run">The run.</param>
    /// <param name="reason">Why it is judged crashed.</param>
    /// <param name="now">The current time.</param>
    /// <returns>The change, or null.</returns>
    public static RunChange? PlanCrash(FlowRunRecord run, string reason, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(run);
        if (run.State.IsFinal() || !RunStateMachine.CanTransition(run.State, RunState.Crashed))
        {
            return null;
        }

        var next = run with { LeaseOwner = null, LeaseUntil = null, EndedAt = now, Failure = new FailureInfo("Flow.RunCrashed", reason), HookPending = true };
        var transitions = new List<StateTransition>(1);
        next = Transition(next, transitions, RunState.Crashed, reason, now);
        return new RunChange(next, transitions);
    }

    /// <summary>
    /// Records that the pending state hook of a final run was invoked (or that there was none to invoke): the flag is cleared, nothing
    /// else changes. Null when no hook is pending (someone recorded it already).
    /// </summary>
    /// <param name="run">The run, final.</param>
    /// <returns>The record to commit, or null.</returns>
    public static FlowRunRecord? PlanHookDone(FlowRunRecord run)
    {
        ArgumentNullException.ThrowIfNull(run);
        return run.HookPending && run.State.IsFinal() ? run with { HookPending = false } : null;
    }

    /// <summary>
    /// The idempotency key of the state hook of a final run: the id of the event of its final transition (<c>{runId}.t{index}</c>), the
    /// same in every invocation of that hook, so a hook with side effects can pass it on and let the receiving system dedupe.
    /// </summary>
    /// <param name="run">The run, final.</param>
    /// <returns>The key.</returns>
    public static string HookKey(FlowRunRecord run)
    {
        ArgumentNullException.ThrowIfNull(run);
        return Flow.Engine.Events.RunEvents.EventId(run.RunId, run.TransitionCount);
    }

    /// <summary>
    /// Records a cancellation request: the flag every worker and episode reads, and Cancelling (unless the run is already Cancelling).
    /// </summary>
    /// <param name="run">The run, not final.</param>
    /// <param name="reason">Why; null for "Cancellation requested".</param>
    /// <param name="now">The current time.</param>
    /// <returns>The change.</returns>
    /// <exception cref="InvalidStateTransitionException">The run is final.</exception>
    public static RunChange PlanCancelRequest(FlowRunRecord run, string? reason, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(run);
        var next = run with { CancelRequested = true };
        if (run.State == RunState.Cancelling)
        {
            return new RunChange(next, []);
        }

        var transitions = new List<StateTransition>(1);
        next = Transition(next, transitions, RunState.Cancelling, reason ?? "Cancellation requested", now);
        return new RunChange(next, transitions);
    }

    /// <summary>The one place a transition is validated, numbered and applied to the record.</summary>
    private static FlowRunRecord Transition(FlowRunRecord run, List<StateTransition> into, RunState to, string? message, DateTimeOffset now)
    {
        RunStateMachine.Validate(run.State, to);
        var index = run.TransitionCount + 1;
        into.Add(new StateTransition(index, run.State, to, now, message, run.Attempt));
        return run with { State = to, StateMessage = message, StateTime = now, TransitionCount = index };
    }
}
