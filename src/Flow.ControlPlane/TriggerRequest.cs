using System.Text.Json;

namespace Flow.ControlPlane;

/// <summary>A request to run a deployment now (or at a time).</summary>
public sealed record TriggerRequest
{
    /// <summary>Parameters (a JSON object) merged over the deployment's defaults.</summary>
    public JsonElement? Parameters { get; init; }

    /// <summary>A key that makes the request idempotent: the same key for the same deployment gives the same run.</summary>
    public string? IdempotencyKey { get; init; }

    /// <summary>When the run should start; now when null or past.</summary>
    public DateTimeOffset? ScheduledTime { get; init; }

    /// <summary>Tags merged over the deployment's.</summary>
    public Dictionary<string, string>? Tags { get; init; }
}
