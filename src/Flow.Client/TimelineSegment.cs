namespace Flow.Client;

/// <summary>One bar on a timeline row.</summary>
/// <param name="Kind"><c>attempt</c>, <c>retry-wait</c>, <c>wait</c> (timer, event, subflow) or <c>cache-hit</c>.</param>
/// <param name="Attempt">The attempt number (1-based) for attempts and the wait before it for retry waits.</param>
/// <param name="Outcome">Completed, Cached, Failed, Running, Waiting.</param>
/// <param name="Start">When the bar starts.</param>
/// <param name="End">When it ends, or null while it lasts.</param>
public sealed record TimelineSegment(string Kind, int Attempt, string Outcome, DateTimeOffset Start, DateTimeOffset? End);
