using System.Text.Json;

namespace Flow.Client;

/// <summary>A schedule as written: <see cref="Cron"/> or <see cref="Interval"/>.</summary>
public sealed record ScheduleRequest
{
    /// <summary>The schedule id; its position (<c>s0</c>, <c>s1</c>, ...) when null.</summary>
    public string? Id { get; init; }

    /// <summary>A cron expression (5 or 6 fields).</summary>
    public string? Cron { get; init; }

    /// <summary>An IANA time zone (UTC when null).</summary>
    public string? Timezone { get; init; }

    /// <summary>An interval: seconds as a number, or a string such as <c>PT15M</c> (ISO 8601) or <c>00:15:00</c>.</summary>
    public JsonElement? Interval { get; init; }

    /// <summary>The interval's anchor.</summary>
    public DateTimeOffset? Anchor { get; init; }

    /// <summary>Parameters for runs of this schedule (a JSON object merged over the deployment's).</summary>
    public JsonElement? Parameters { get; init; }

    /// <summary>False to keep the schedule but create no runs.</summary>
    public bool? Active { get; init; }
}
