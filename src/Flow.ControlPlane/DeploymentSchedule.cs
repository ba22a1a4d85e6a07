namespace Flow.ControlPlane;

/// <summary>One schedule of a deployment: a cron expression in a time zone, or an interval from an anchor.</summary>
public sealed record DeploymentSchedule
{
    /// <summary>The schedule's id within its deployment (1-40 letters, digits, '-', '_'); part of the deterministic ids of the runs it creates.</summary>
    public required string Id { get; init; }

    /// <summary>A cron expression (5 or 6 fields), or null for an interval schedule.</summary>
    public string? Cron { get; init; }

    /// <summary>The IANA time zone of <see cref="Cron"/> (and of whole-day intervals); UTC when null.</summary>
    public string? TimeZone { get; init; }

    /// <summary>The interval, or null for a cron schedule.</summary>
    public TimeSpan? Interval { get; init; }

    /// <summary>The interval's anchor (occurrences are anchor + k × interval); 2020-01-01T00:00Z when null.</summary>
    public DateTimeOffset? Anchor { get; init; }

    /// <summary>Parameters (a JSON object) merged over the deployment's parameters for runs of this schedule, or null.</summary>
    public string? Parameters { get; init; }

    /// <summary>False to stop creating runs from this schedule.</summary>
    public bool Active { get; init; } = true;
}
