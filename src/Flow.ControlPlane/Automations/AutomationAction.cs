using System.Text.Json;

namespace Flow.ControlPlane.Automations;

/// <summary>
/// What an automation does when it fires. <see cref="Type"/> says which fields apply (docs/automations.md); text fields and
/// <see cref="Parameters"/>/<see cref="Body"/> are templates rendered against the firing (<c>{{ event.resource.labels.flow }}</c>).
/// </summary>
public sealed record AutomationAction
{
    /// <summary>The action: see <see cref="AutomationActionTypes"/>.</summary>
    public string? Type { get; init; }

    /// <summary>run-deployment, pause-deployment, resume-deployment: the deployment (<c>flow/name</c>, templated).</summary>
    public string? Deployment { get; init; }

    /// <summary>run-deployment: parameters (a JSON object, templated).</summary>
    public JsonElement? Parameters { get; init; }

    /// <summary>pause-pool, resume-pool: the work pool (templated).</summary>
    public string? Pool { get; init; }

    /// <summary>cancel-run, change-run-state: the run id (templated); default the triggering event's run.</summary>
    public string? RunId { get; init; }

    /// <summary>change-run-state: <c>Crashed</c> or <c>Cancelled</c>.</summary>
    public string? State { get; init; }

    /// <summary>cancel-run, change-run-state: the reason recorded with the change (templated).</summary>
    public string? Message { get; init; }

    /// <summary>call-webhook: the URL (http or https).</summary>
    public string? Url { get; init; }

    /// <summary>call-webhook and queue-message: the JSON body (templated); default the firing as JSON.</summary>
    public JsonElement? Body { get; init; }

    /// <summary>call-webhook: the name of the secret (<c>Flow:Secrets:{name}</c>) that signs the body (HMAC-SHA256); none to send unsigned.</summary>
    public string? Secret { get; init; }

    /// <summary>call-webhook: the most delivery attempts (1-20, default 5), with back-off between them.</summary>
    public int? MaxAttempts { get; init; }

    /// <summary>queue-message: the Azure Storage queue.</summary>
    public string? Queue { get; init; }

    /// <summary>send-event: the kind of the event to send (templated).</summary>
    public string? Kind { get; init; }

    /// <summary>send-event: the id of the event's resource (templated); default <c>automation/{name}</c>.</summary>
    public string? Resource { get; init; }
}
