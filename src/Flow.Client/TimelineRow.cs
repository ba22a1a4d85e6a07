using Flow.Sdk;

namespace Flow.Client;

/// <summary>One row of a run's timeline.</summary>
public sealed record TimelineRow
{
    /// <summary>The call's id within the run (its order).</summary>
    public int CallId { get; init; }

    /// <summary><c>task</c>, <c>subflow</c>, <c>timer</c> or <c>event</c>.</summary>
    public required string Kind { get; init; }

    /// <summary>The task, subflow or event name.</summary>
    public required string Name { get; init; }

    /// <summary>The call's state now (Completed, Cached, Failed, Running, AwaitingRetry, Waiting).</summary>
    public required string State { get; init; }

    /// <summary>True when the result came from the cache.</summary>
    public bool Cached { get; init; }

    /// <summary>The child run of a subflow, linkable.</summary>
    public string? ChildRunId { get; init; }

    /// <summary>The row's bars: each attempt, and the retry waits between them.</summary>
    public required IReadOnlyList<TimelineSegment> Segments { get; init; }

    /// <summary>The failure of the last attempt, if it failed.</summary>
    public FailureInfo? Failure { get; init; }
}
