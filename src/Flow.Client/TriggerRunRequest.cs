using System.Text.Json;

namespace Flow.Client;

/// <summary>The body of <c>POST /api/deployments/{flow}/{name}/runs</c> (all optional).</summary>
public sealed record TriggerRunRequest
{
    /// <summary>Parameters, merged over the deployment's defaults.</summary>
    public JsonElement? Parameters { get; init; }

    /// <summary>The same key gives the same run (1-100 letters, digits, '-', '_' and '.').</summary>
    public string? IdempotencyKey { get; init; }

    /// <summary>When the run is due; now when left out.</summary>
    public DateTimeOffset? ScheduledTime { get; init; }

    /// <summary>Tags, merged over the deployment's.</summary>
    public IReadOnlyDictionary<string, string>? Tags { get; init; }
}
