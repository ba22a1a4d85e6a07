using System.Text.Json;

namespace Flow.Client;

/// <summary>An event (docs/events.md): a run's state change, or an event another system sent.</summary>
public sealed record EventView
{
    /// <summary>The event's id; a run's state change has <c>{runId}.t{transition}</c>.</summary>
    public required string Id { get; init; }

    /// <summary>When it happened (UTC).</summary>
    public required DateTimeOffset OccurredAt { get; init; }

    /// <summary>What happened: <c>flow-run.Completed</c>, or any kind another system sends.</summary>
    public required string Kind { get; init; }

    /// <summary>The resource the event is about.</summary>
    public required EventResourceView Resource { get; init; }

    /// <summary>Related resources with their roles.</summary>
    public required IReadOnlyList<EventResourceView> Related { get; init; }

    /// <summary>Details: a JSON object, or null.</summary>
    public JsonElement? Payload { get; init; }
}
