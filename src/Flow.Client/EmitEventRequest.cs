using System.Text.Json;

namespace Flow.Client;

/// <summary>An event another system sends with <c>POST /api/events</c> (the body is one of these or a list).</summary>
public sealed record EmitEventRequest
{
    /// <summary>The event's id (up to 200 characters); sending the same id again stores it once. Null: the API makes one.</summary>
    public string? Id { get; init; }

    /// <summary>When it happened; null: now.</summary>
    public DateTimeOffset? OccurredAt { get; init; }

    /// <summary>What happened, dotted (e.g. <c>ci.build.passed</c>). Required (the API answers 400 naming it when missing).</summary>
    public string? Kind { get; init; }

    /// <summary>The resource it is about (e.g. <c>repo/flow</c>). Required (the API answers 400 naming it when missing).</summary>
    public EventResourceView? Resource { get; init; }

    /// <summary>Related resources, each with a role; null for none.</summary>
    public IReadOnlyList<EventResourceView>? Related { get; init; }

    /// <summary>Details: a JSON object (up to 16 KiB), or null.</summary>
    public JsonElement? Payload { get; init; }
}
