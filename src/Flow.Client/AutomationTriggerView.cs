namespace Flow.Client;

/// <summary>When an automation fires (docs/automations.md): reactive (a threshold of matching events within a window) or
/// proactive (an expected event missing within a window).</summary>
public sealed record AutomationTriggerView
{
    /// <summary><c>reactive</c> or <c>proactive</c>.</summary>
    public string? Posture { get; init; }

    /// <summary>Event kind patterns of the expected events (<c>*</c> wildcards, <c>!</c> negation).</summary>
    public IReadOnlyList<string>? Expect { get; init; }

    /// <summary>Proactive: event kind patterns that start the wait.</summary>
    public IReadOnlyList<string>? After { get; init; }

    /// <summary>Resource patterns: <c>id</c> or a label name → pattern.</summary>
    public IReadOnlyDictionary<string, string>? Match { get; init; }

    /// <summary>Related resources the event must have.</summary>
    public IReadOnlyList<AutomationRelatedMatchView>? MatchRelated { get; init; }

    /// <summary>The label whose values are counted and awaited apart.</summary>
    public string? ForEach { get; init; }

    /// <summary>Reactive: how many events fire it.</summary>
    public int? Threshold { get; init; }

    /// <summary>The window, in seconds.</summary>
    public double? Within { get; init; }
}
