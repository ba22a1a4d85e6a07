namespace Flow.ControlPlane.Webhooks;

/// <summary>What an incoming webhook's HMAC-SHA256 signature covers.</summary>
public enum WebhookSignatureScheme
{
    /// <summary>The body alone (GitHub's <c>X-Hub-Signature-256</c> and most SaaS).</summary>
    Body,

    /// <summary><c>{timestamp}.{body}</c> with the timestamp in its own header, checked against a tolerance (Flow's own
    /// outgoing form), so a captured call cannot be replayed later.</summary>
    Timestamped,
}
