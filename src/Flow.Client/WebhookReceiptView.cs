namespace Flow.Client;

/// <summary>The answer to an accepted incoming webhook call (<c>POST /api/webhooks/{name}</c>, status 202).</summary>
public sealed record WebhookReceiptView
{
    /// <summary>The id of the event the call became (redelivered calls with the same delivery id give the same id).</summary>
    public required string EventId { get; init; }
}
