using Flow.Sdk;

namespace Flow.Client;

/// <summary>One attempt of a task call.</summary>
/// <param name="Attempt">The attempt number, from 1.</param>
/// <param name="Outcome">How it ended: Completed, Failed, Cached or TaskAttemptFailed (to be retried).</param>
/// <param name="StartedAt">When it started, if recorded.</param>
/// <param name="EndedAt">When it ended.</param>
/// <param name="Failure">What failed, if it failed.</param>
public sealed record TaskAttemptView(int Attempt, string Outcome, DateTimeOffset? StartedAt, DateTimeOffset EndedAt, FailureInfo? Failure);
