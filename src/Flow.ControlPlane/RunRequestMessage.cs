using System.Text.Json;

namespace Flow.ControlPlane;

/// <summary>A run request as other systems send it on the <c>flow-run-requests</c> queue.</summary>
public sealed record RunRequestMessage
{
    /// <summary>The full deployment name, <c>flow/deployment</c>. Required.</summary>
    public string? Deployment { get; init; }

    /// <summary>Parameters (a JSON object) merged over the deployment's defaults.</summary>
    public JsonElement? Parameters { get; init; }

    /// <summary>Makes the request idempotent; when absent, the queue message id does (a message delivered twice creates one run).</summary>
    public string? IdempotencyKey { get; init; }

    /// <summary>When the run should start.</summary>
    public DateTimeOffset? ScheduledTime { get; init; }

    /// <summary>Tags for the run.</summary>
    public Dictionary<string, string>? Tags { get; init; }
}
