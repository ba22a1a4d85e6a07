namespace Flow.Client;

/// <summary>One coming occurrence of a deployment's schedules (<c>GET /api/deployments/{flow}/{name}/schedule</c>).</summary>
public sealed record ScheduleOccurrenceView
{
    /// <summary>The schedule's id.</summary>
    public required string Schedule { get; init; }

    /// <summary>The local time in the schedule's time zone, ISO 8601 with its offset.</summary>
    public required string Time { get; init; }

    /// <summary>The same time in UTC.</summary>
    public DateTime Utc { get; init; }

    /// <summary>The offset from UTC at that time, e.g. <c>+01:00</c>.</summary>
    public required string UtcOffset { get; init; }
}
