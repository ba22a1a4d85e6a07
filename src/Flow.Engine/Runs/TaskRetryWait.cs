namespace Flow.Engine.Runs;

/// <summary>
/// What an episode that ends only to wait for a task's retry delay waits for: the task, its next attempt and when that attempt is
/// due. <see cref="RunLifecycle.PlanSuspend"/> stores such a run as <see cref="Flow.Sdk.RunState.AwaitingRetry"/> (not Paused), in the
/// same flow-run attempt, with the journal kept.
/// </summary>
/// <param name="TaskName">The task's name.</param>
/// <param name="CallId">The task call's id in the journal.</param>
/// <param name="NextAttempt">The task attempt that will run next (from 2).</param>
/// <param name="DueAt">When that attempt is due.</param>
public sealed record TaskRetryWait(string TaskName, int CallId, int NextAttempt, DateTimeOffset DueAt);
