namespace Flow.Client;

/// <summary>The body of GET /api/runs/{id}/timeline: everything the run page's Gantt chart draws, in one request.</summary>
public sealed record RunTimelineView
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
