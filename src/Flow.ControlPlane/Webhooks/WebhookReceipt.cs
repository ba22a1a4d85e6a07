namespace Flow.ControlPlane.Webhooks;

/// <summary>What became of one incoming webhook call.</summary>
/// <param name="StatusCode">The HTTP status to answer: 202 stored, 401 unsigned or badly signed, 404 no such webhook, 400/413 bad body.</param>
/// <param name="EventId">The stored event's id when accepted; otherwise null.</param>
/// <param name="Error">Why it was refused (no secret in it); null when accepted.</param>
/// <param name="Field">The field at fault when the body is refused; otherwise null.</param>
public sealed record WebhookReceipt(int StatusCode, string? EventId, string? Error, string? Field = null)
{
    /// <summary>Whether the call was stored as an event.</summary>
    public bool Accepted => EventId is not null;
}
