using Flow.Sdk;

namespace Flow.Engine.Runs;

/// <summary>
/// The one place that says which run state may follow which (DESIGN.md §3). Every transition the
/// engine stores goes through <see cref="Validate"/>. Running → Running and Cancelling → Cancelling are takeovers: another worker
/// claimed a run whose worker's lease ended, and the run goes on from its journal (docs/run-lifecycle.md).
/// </summary>
public static class RunStateMachine
{
    private static readonly Dictionary<RunState, RunState[]> Allowed = new()
    {
        [RunState.Scheduled] = [RunState.Pending, RunState.Running, RunState.Cancelling, RunState.Cancelled, RunState.Failed, RunState.Crashed],
        [RunState.Pending] = [RunState.Running, RunState.Cancelling, RunState.Cancelled, RunState.Failed, RunState.Crashed],
        [RunState.Running] = [RunState.Running, RunState.Paused, RunState.AwaitingRetry, RunState.Completed, RunState.Cached, RunState.Failed, RunState.Crashed, RunState.Cancelling, RunState.Cancelled],
        [RunState.Paused] = [RunState.Running, RunState.Cancelling, RunState.Cancelled, RunState.Failed, RunState.Crashed],
        [RunState.AwaitingRetry] = [RunState.Running, RunState.Pending, RunState.Cancelling, RunState.Cancelled, RunState.Failed, RunState.Crashed],
        [RunState.Cancelling] = [RunState.Cancelling, RunState.Cancelled, RunState.Failed, RunState.Crashed],
        [RunState.Crashed] = [RunState.AwaitingRetry, RunState.Pending],
        [RunState.Completed] = [],
        [RunState.Cached] = [],
        [RunState.Failed] = [],
        [RunState.Cancelled] = [],
    };

    /// <summary>Whether <paramref name="from"/> → <paramref name="to"/> is allowed.</summary>
    /// <param name="from">The current state.</param>
    /// <param name="to">The next state.</param>
    /// <returns>True when allowed.</returns>
    public static bool CanTransition(RunState from, RunState to) => Allowed[from].Contains(to);

    /// <summary>Throws unless <paramref name="from"/> → <paramref name="to"/> is allowed.</summary>
    /// <param name="from">The current state.</param>
    /// <param name="to">The next state.</param>
    /// <exception cref="InvalidStateTransitionException">The transition is not allowed.</exception>
    public static void Validate(RunState from, RunState to)
    {
        if (!CanTransition(from, to))
        {
            throw new InvalidStateTransitionException(from, to);
        }
    }

    /// <summary>All states that may follow <paramref name="from"/>.</summary>
    /// <param name="from">The state.</param>
    /// <returns>The allowed next states.</returns>
    public static IReadOnlyList<RunState> Next(RunState from) => Allowed[from];
}
