namespace Flow.ControlPlane.Automations;

/// <summary>An automation as a person writes it (HTTP body, deployments file): validated and turned into an <see cref="AutomationRecord"/>.</summary>
public sealed record AutomationSpec
{
    /// <summary>The name; from the URL when set there.</summary>
    public string? Name { get; init; }

    /// <summary>A description.</summary>
    public string? Description { get; init; }

    /// <summary>Whether it evaluates events (default true).</summary>
    public bool? Enabled { get; init; }

    /// <summary>When it fires.</summary>
    public AutomationTrigger? Trigger { get; init; }

    /// <summary>What it does, in order (1-10 actions).</summary>
    public IReadOnlyList<AutomationAction>? Actions { get; init; }
}
