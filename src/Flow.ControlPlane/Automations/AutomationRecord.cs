namespace Flow.ControlPlane.Automations;

/// <summary>A stored automation: a validated <see cref="AutomationSpec"/> with its times.</summary>
public sealed record AutomationRecord
{
    /// <summary>The name: 1-100 ASCII letters, digits, '-', '_' and '.'.</summary>
    public required string Name { get; init; }

    /// <summary>A description.</summary>
    public string? Description { get; init; }

    /// <summary>Whether it evaluates events.</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>When it fires.</summary>
    public required AutomationTrigger Trigger { get; init; }

    /// <summary>What it does, in order.</summary>
    public required IReadOnlyList<AutomationAction> Actions { get; init; }

    /// <summary>Where it was last written from (<c>api</c>, a file name).</summary>
    public string? Source { get; init; }

    /// <summary>When it was created.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>When it was last changed.</summary>
    public DateTimeOffset UpdatedAt { get; init; }

    /// <summary>When it was last enabled (the start of a proactive trigger's first wait when it has no <c>after</c>).</summary>
    public DateTimeOffset? EnabledAt { get; init; }
}
