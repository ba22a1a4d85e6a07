using Flow.Engine.Storage;

namespace Flow.Engine.Runs;

/// <summary>
/// A planned change of one run, made by <see cref="RunLifecycle"/>'s rules and written in one store commit: the new record and the state
/// transitions (state history entries) that lead to it, numbered after the record's <see cref="FlowRunRecord.TransitionCount"/>.
/// A change with no transitions moves only the lease or flags (a claim of a running run, a release).
/// </summary>
/// <param name="Run">The record after the change.</param>
/// <param name="Transitions">The transitions to append with it, in order; empty when the state does not change.</param>
public sealed record RunChange(FlowRunRecord Run, IReadOnlyList<StateTransition> Transitions)
{
    /// <summary>When the change schedules another attempt (<see cref="Flow.Sdk.RunState.AwaitingRetry"/>), its time; otherwise null.</summary>
    public DateTimeOffset? RetryAt => Run.State == Flow.Sdk.RunState.AwaitingRetry ? Run.WakeAt : null;
}
