using System.Text.Json;

namespace Flow.Client;

/// <summary>One schedule of a deployment: a cron expression in a time zone, or an interval.</summary>
public sealed record DeploymentScheduleView
{
    /// <summary>The schedule's id within the deployment.</summary>
    public required string Id { get; init; }

    /// <summary>A cron expression, or null for an interval schedule.</summary>
    public string? Cron { get; init; }

    /// <summary>The cron expression's IANA time zone (UTC when null).</summary>
    public string? Timezone { get; init; }

    /// <summary>The interval as an ISO 8601 duration (<c>PT1H</c>), or null for a cron schedule.</summary>
    public string? Interval { get; init; }

    /// <summary>The time an interval counts from.</summary>
    public DateTimeOffset? Anchor { get; init; }

    /// <summary>Parameters of this schedule's runs, merged over the deployment's.</summary>
    public JsonElement? Parameters { get; init; }

    /// <summary>False to keep the schedule without creating runs.</summary>
    public bool Active { get; init; }
}
