using Flow.Sdk;

namespace Flow.Functions.Api;

/// <summary>The body of GET /api/runs/{id}/timeline: everything the run page's Gantt chart draws, in one request.</summary>
internal sealed record RunTimelineView
{
    /// <summary>The run id.</summary>
    public required string RunId { get; init; }

    /// <summary>The run's state.</summary>
    public required string State { get; init; }

    /// <summary>When the run started (its first episode), or null while it waits.</summary>
    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>When the run ended, or null.</summary>
    public DateTimeOffset? EndedAt { get; init; }

    /// <summary>The run attempt the rows come from (a flow retry starts a new journal).</summary>
    public int Attempt { get; init; }

    /// <summary>One row per task call, subflow, timer and event wait, in call order.</summary>
    public required IReadOnlyList<TimelineRow> Rows { get; init; }
}

/// <summary>One row of a run's timeline.</summary>
internal sealed record TimelineRow
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

/// <summary>One bar on a timeline row.</summary>
/// <param name="Kind"><c>attempt</c>, <c>retry-wait</c>, <c>wait</c> (timer, event, subflow) or <c>cache-hit</c>.</param>
/// <param name="Attempt">The attempt number (1-based) for attempts and the wait before it for retry waits.</param>
/// <param name="Outcome">Completed, Cached, Failed, Running, Waiting.</param>
/// <param name="Start">When the bar starts.</param>
/// <param name="End">When it ends, or null while it lasts.</param>
internal sealed record TimelineSegment(string Kind, int Attempt, string Outcome, DateTimeOffset Start, DateTimeOffset? End);
