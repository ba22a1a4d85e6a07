namespace Flow.Client;

/// <summary>The answer to <c>POST /api/events</c> (202): the ids of the events, in the order sent (made by the API where none was given).</summary>
public sealed record EmittedEventsView
{
    /// <summary>The events' ids.</summary>
    public required IReadOnlyList<string> Ids { get; init; }
}
