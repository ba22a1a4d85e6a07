namespace Flow.ControlPlane.Webhooks;

/// <summary>
/// One incoming webhook (setting <c>Flow:Webhooks:{name}</c>; docs/webhooks.md): how a call from another system becomes an
/// event. The text settings are templates (<see cref="Templates.EventTemplate"/>) over <c>body</c> (the JSON body),
/// <c>headers</c> (only the headers the templates name, e.g. <c>headers.x-github-event</c>) and <c>webhook</c> (<c>name</c>).
/// </summary>
public sealed class IncomingWebhookDefinition
{
    /// <summary>The event kind, e.g. <c>github.{{ headers.x-github-event }}</c> or <c>ci.build.finished</c>. Required.</summary>
    public string? Kind { get; set; }

    /// <summary>The event's resource id, e.g. <c>repo/{{ body.repository.full_name }}</c>. Default <c>webhook/{name}</c>.</summary>
    public string? Resource { get; set; }

    /// <summary>Labels of the resource (name → template), e.g. <c>branch: {{ body.ref }}</c>.</summary>
    public Dictionary<string, string> Labels { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// The event payload: a JSON template as text (e.g. <c>{"sha": "{{ body.after }}"}</c>). Default: the body itself when it is
    /// a JSON object of at most 16 KiB (larger bodies need a payload template that picks fields).
    /// </summary>
    public string? Payload { get; set; }

    /// <summary>
    /// The name of the secret (<c>Flow:Secrets:{name}</c>) that signs calls. A webhook with a secret is reachable without the API
    /// key (its signature authenticates it, as Git hosts send no API key); a webhook without one needs the API key like the rest
    /// of the API, and is refused under Azure Functions, whose webhook route is anonymous.
    /// </summary>
    public string? Secret { get; set; }

    /// <summary>What the signature covers. Default <see cref="WebhookSignatureScheme.Body"/>.</summary>
    public WebhookSignatureScheme Scheme { get; set; } = WebhookSignatureScheme.Body;

    /// <summary>The header that carries the signature (<c>sha256=hex</c> or hex). Default <c>X-Flow-Signature</c>; GitHub uses
    /// <c>X-Hub-Signature-256</c>.</summary>
    public string SignatureHeader { get; set; } = Secrets.WebhookSignature.SignatureHeader;

    /// <summary>The header that carries the Unix time in seconds (scheme <see cref="WebhookSignatureScheme.Timestamped"/>).</summary>
    public string TimestampHeader { get; set; } = Secrets.WebhookSignature.TimestampHeader;

    /// <summary>How far a timestamp may be from now (scheme <see cref="WebhookSignatureScheme.Timestamped"/>). Default 5 minutes.</summary>
    public TimeSpan TimestampTolerance { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// The header whose value identifies a delivery (default <c>Idempotency-Key</c>; GitHub: <c>X-GitHub-Delivery</c>). A call
    /// that carries it makes the event id <c>webhook.{name}.{value}</c>, so a redelivered call stores one event.
    /// </summary>
    public string DeliveryIdHeader { get; set; } = "Idempotency-Key";
}
