namespace Flow.Sdk;

/// <summary>
/// The states of a flow run or a task run (DESIGN.md §3). Stored as words, so a person reading the
/// tables sees <c>Running</c>, not a number. <c>Late</c> is not stored: it is derived from
/// <see cref="Scheduled"/> or <see cref="Pending"/>, a run that never started, and the scheduled time (one rule, <c>LateRuns</c> in Flow.Engine).
/// </summary>
public enum RunState
{
    /// <summary>Created to start at a time in the future.</summary>
    Scheduled,

    /// <summary>Waiting for a worker to pick it up.</summary>
    Pending,

    /// <summary>Executing.</summary>
    Running,

    /// <summary>Waits for a retry and nothing else: the next flow-run attempt after a failed one, or a task's next attempt within the current one (the time is the run's wake-up).</summary>
    AwaitingRetry,

    /// <summary>Suspended on a durable wait that a time, a person, an event or another run resolves (timer, pause, event, distributed task or subflow); holds no compute.</summary>
    Paused,

    /// <summary>Finished successfully.</summary>
    Completed,

    /// <summary>Finished successfully by reusing a cached result, without running (task runs).</summary>
    Cached,

    /// <summary>Finished with an error after its retries were used up.</summary>
    Failed,

    /// <summary>The infrastructure died under it (a worker stopped heartbeating), not the code.</summary>
    Crashed,

    /// <summary>Cancellation was requested and is being carried out.</summary>
    Cancelling,

    /// <summary>Finished by cancellation.</summary>
    Cancelled,
}

/// <summary>Facts about <see cref="RunState"/> values.</summary>
public static class RunStates
{
    /// <summary>True for states a run does not leave on its own: Completed, Cached, Failed, Crashed and Cancelled.</summary>
    /// <param name="state">The state.</param>
    /// <returns>Whether the state is final.</returns>
    public static bool IsFinal(this RunState state) =>
        state is RunState.Completed or RunState.Cached or RunState.Failed or RunState.Crashed or RunState.Cancelled;

    /// <summary>True for the successful final states, Completed and Cached.</summary>
    /// <param name="state">The state.</param>
    /// <returns>Whether the state is a success.</returns>
    public static bool IsSuccess(this RunState state) => state is RunState.Completed or RunState.Cached;
}
