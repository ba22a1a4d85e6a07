namespace Flow.ControlPlane.Automations;

/// <summary>
/// When an automation fires (docs/automations.md). <b>Reactive</b>: when <see cref="Threshold"/> events matching
/// <see cref="Expect"/> (and <see cref="Match"/>, <see cref="MatchRelated"/>) occur within <see cref="Within"/> seconds, counted
/// per <see cref="ForEach"/> value. <b>Proactive</b>: when no event matching <see cref="Expect"/> occurs within
/// <see cref="Within"/> seconds after an event matching <see cref="After"/> (for the same <see cref="ForEach"/> value), or, with
/// no <see cref="After"/>, within <see cref="Within"/> seconds of the automation being enabled or of the last expected event.
/// </summary>
public sealed record AutomationTrigger
{
    /// <summary>Reactive posture.</summary>
    public const string Reactive = "reactive";

    /// <summary>Proactive posture.</summary>
    public const string Proactive = "proactive";

    /// <summary><c>reactive</c> (default) or <c>proactive</c>.</summary>
    public string? Posture { get; init; }

    /// <summary>Event kind patterns of the expected events: <c>*</c> matches any run of characters, a leading <c>!</c> excludes.
    /// An event matches when its kind matches one pattern without <c>!</c> (or there is none) and none with <c>!</c>.</summary>
    public IReadOnlyList<string>? Expect { get; init; }

    /// <summary>Proactive only: event kind patterns of the events that start the wait for an expected event.</summary>
    public IReadOnlyList<string>? After { get; init; }

    /// <summary>Patterns the event's resource must match: <c>id</c> for its id, any other key for the label of that name
    /// (a missing label matches only a <c>!</c> pattern).</summary>
    public IReadOnlyDictionary<string, string>? Match { get; init; }

    /// <summary>Related resources the event must have (each entry matched by at least one related resource; an entry whose id
    /// starts with <c>!</c> requires that no related resource of the role matches).</summary>
    public IReadOnlyList<RelatedMatch>? MatchRelated { get; init; }

    /// <summary>The label whose value separates counts and waits (e.g. <c>deployment</c>): the resource's label, else the id of
    /// the related resource with that role. Null: one count for all events.</summary>
    public string? ForEach { get; init; }

    /// <summary>Reactive: how many matching events within <see cref="Within"/> fire the automation (default 1).</summary>
    public int? Threshold { get; init; }

    /// <summary>The window in seconds: for a reactive threshold above 1, the span the events must fall in; for a proactive
    /// trigger, how long to wait for the expected event.</summary>
    public double? Within { get; init; }
}
