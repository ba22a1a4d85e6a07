using System.Text.Json;

namespace Flow.Client;

/// <summary>One firing of an automation: why, and what its actions did.</summary>
public sealed record AutomationFiringView
{
    /// <summary>The automation.</summary>
    public required string Automation { get; init; }

    /// <summary>The firing id (deterministic: the same cause fires once).</summary>
    public required string Id { get; init; }

    /// <summary>When it fired.</summary>
    public DateTimeOffset FiredAt { get; init; }

    /// <summary>Why it fired.</summary>
    public required string Reason { get; init; }

    /// <summary>The <c>forEach</c> value it fired for.</summary>
    public string? Key { get; init; }

    /// <summary>The events that made it fire.</summary>
    public required IReadOnlyList<string> EventIds { get; init; }

    /// <summary>The triggering event as JSON (id, kind, occurredAt, resource, related, payload), or null.</summary>
    public JsonElement? Event { get; init; }

    /// <summary>pending, succeeded or failed.</summary>
    public required string Status { get; init; }

    /// <summary>Its actions, in order.</summary>
    public required IReadOnlyList<FiringActionView> Actions { get; init; }
}
