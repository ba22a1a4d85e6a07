namespace Flow.Client;

/// <summary>The body of <c>PUT /api/automations/{name}</c>: an automation as written.</summary>
public sealed record AutomationRequest
{
    /// <summary>A description.</summary>
    public string? Description { get; init; }

    /// <summary>Whether it evaluates events (default true).</summary>
    public bool? Enabled { get; init; }

    /// <summary>When it fires.</summary>
    public AutomationTriggerView? Trigger { get; init; }

    /// <summary>What it does.</summary>
    public IReadOnlyList<AutomationActionView>? Actions { get; init; }
}
