using Flow.Engine.Events;

namespace Flow.ControlPlane.Automations;

/// <summary>
/// One firing of an automation: why it fired and what its actions did. Its <see cref="Id"/> derives from the automation and
/// the triggering event (or the missed deadline), so evaluators that see the same thing create the same firing once.
/// </summary>
public sealed record AutomationFiring
{
    /// <summary>Still executing actions.</summary>
    public const string Pending = "pending";

    /// <summary>Every action succeeded.</summary>
    public const string Succeeded = "succeeded";

    /// <summary>Some action failed for good.</summary>
    public const string Failed = "failed";

    /// <summary>The automation's name.</summary>
    public required string Automation { get; init; }

    /// <summary>The firing id: <c>f-</c> and 32 hex digits.</summary>
    public required string Id { get; init; }

    /// <summary>When it fired.</summary>
    public required DateTimeOffset FiredAt { get; init; }

    /// <summary>Why: which trigger condition held (e.g. <c>3 matching events within 60 s</c>).</summary>
    public required string Reason { get; init; }

    /// <summary>The <see cref="AutomationTrigger.ForEach"/> value it fired for, if any.</summary>
    public string? Key { get; init; }

    /// <summary>The ids of the events that made it fire (for a proactive trigger: the <c>after</c> event, if any).</summary>
    public IReadOnlyList<string> EventIds { get; init; } = [];

    /// <summary>The triggering event (templates read it as <c>event</c>); null for a proactive trigger without <c>after</c>.</summary>
    public FlowEvent? Event { get; init; }

    /// <summary><see cref="Pending"/>, <see cref="Succeeded"/> or <see cref="Failed"/>.</summary>
    public string Status { get; init; } = Pending;

    /// <summary>The actions, in the automation's order.</summary>
    public IReadOnlyList<FiringAction> Actions { get; init; } = [];
}
