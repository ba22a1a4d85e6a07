using Flow.Engine.Events;

namespace Flow.ControlPlane.Automations;

/// <summary>
/// What the evaluator remembers of one automation between ticks, stored as a versioned state entry
/// (<c>automation:{name}</c>, at most 32 KiB): the events already counted (so an event read twice counts once), the reactive
/// counts, the proactive waits and the firings whose actions are not finished.
/// </summary>
internal sealed record AutomationState
{
    /// <summary>The most remembered event ids.</summary>
    public const int MaxSeen = 256;

    /// <summary>The trigger this state belongs to (a changed trigger starts afresh).</summary>
    public string Fingerprint { get; init; } = string.Empty;

    /// <summary>Short hashes of the events that changed this state, oldest first.</summary>
    public List<string> Seen { get; init; } = [];

    /// <summary>Reactive: per <c>forEach</c> value, the times (UTC ticks) of the counted events inside the window.</summary>
    public Dictionary<string, List<long>> Counts { get; init; } = new(StringComparer.Ordinal);

    /// <summary>Proactive: per <c>forEach</c> value, the open wait.</summary>
    public Dictionary<string, AutomationWait> Waits { get; init; } = new(StringComparer.Ordinal);

    /// <summary>Firings with actions still to do.</summary>
    public List<string> Pending { get; init; } = [];
}

/// <summary>A proactive wait: since when the expected event is awaited, and the event that started it (without its payload).</summary>
/// <param name="Since">The start of the wait.</param>
/// <param name="After">The <c>after</c> event that started it; null for a wait since enabling or since the last expected event.</param>
internal sealed record AutomationWait(DateTimeOffset Since, FlowEvent? After);
