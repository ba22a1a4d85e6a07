namespace Flow.Client;

/// <summary>The answer to <c>POST /api/runs/{id}/events/{name}</c> and <c>/resume</c> (202).</summary>
public sealed record EventDeliveryView
{
    /// <summary>The run id.</summary>
    public required string Id { get; init; }

    /// <summary>The event's name.</summary>
    public required string Event { get; init; }

    /// <summary>False when an event with the same idempotency key had been delivered before.</summary>
    public bool Delivered { get; init; }
}
