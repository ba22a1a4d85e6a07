using System.Text.Json;

namespace Flow.Client;

/// <summary>An action of an automation; <see cref="Type"/> says which fields apply (docs/automations.md).</summary>
public sealed record AutomationActionView
{
    /// <summary>run-deployment, pause-deployment, resume-deployment, pause-pool, resume-pool, cancel-run, change-run-state, send-event, call-webhook or queue-message.</summary>
    public string? Type { get; init; }

    /// <summary>The deployment (<c>flow/name</c>).</summary>
    public string? Deployment { get; init; }

    /// <summary>Run parameters (templated JSON object).</summary>
    public JsonElement? Parameters { get; init; }

    /// <summary>The work pool.</summary>
    public string? Pool { get; init; }

    /// <summary>The run id (default: the triggering run).</summary>
    public string? RunId { get; init; }

    /// <summary>change-run-state: Crashed or Cancelled.</summary>
    public string? State { get; init; }

    /// <summary>The reason recorded with a run change.</summary>
    public string? Message { get; init; }

    /// <summary>call-webhook: the URL.</summary>
    public string? Url { get; init; }

    /// <summary>The JSON body (templated).</summary>
    public JsonElement? Body { get; init; }

    /// <summary>call-webhook: the name of the signing secret.</summary>
    public string? Secret { get; init; }

    /// <summary>call-webhook: the most delivery attempts.</summary>
    public int? MaxAttempts { get; init; }

    /// <summary>queue-message: the queue.</summary>
    public string? Queue { get; init; }

    /// <summary>send-event: the event kind.</summary>
    public string? Kind { get; init; }

    /// <summary>send-event: the event's resource id.</summary>
    public string? Resource { get; init; }
}
