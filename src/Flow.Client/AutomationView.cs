namespace Flow.Client;

/// <summary>An automation: a trigger and the actions it runs when it fires.</summary>
public sealed record AutomationView
{
    /// <summary>The name.</summary>
    public required string Name { get; init; }

    /// <summary>A description.</summary>
    public string? Description { get; init; }

    /// <summary>Whether it evaluates events.</summary>
    public bool Enabled { get; init; }

    /// <summary>When it fires.</summary>
    public required AutomationTriggerView Trigger { get; init; }

    /// <summary>What it does.</summary>
    public required IReadOnlyList<AutomationActionView> Actions { get; init; }

    /// <summary>Where it was last written from.</summary>
    public string? Source { get; init; }

    /// <summary>When it was created.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>When it was last changed.</summary>
    public DateTimeOffset UpdatedAt { get; init; }

    /// <summary>When it was last enabled.</summary>
    public DateTimeOffset? EnabledAt { get; init; }

    /// <summary>Its newest firing, or null when it has none; only in <c>GET /api/automations?lastFiring=true</c> (the dashboard's list).</summary>
    public AutomationFiringView? LastFiring { get; init; }
}
