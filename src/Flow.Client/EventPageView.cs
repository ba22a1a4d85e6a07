namespace Flow.Client;

/// <summary>One page of <c>GET /api/events</c>, newest first.</summary>
public sealed record EventPageView
{
    /// <summary>The events.</summary>
    public required IReadOnlyList<EventView> Events { get; init; }

    /// <summary>Pass it back for the next page; null on the last.</summary>
    public string? ContinuationToken { get; init; }
}
