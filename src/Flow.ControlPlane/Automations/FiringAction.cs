namespace Flow.ControlPlane.Automations;

/// <summary>One action of a firing: its outcome and every attempt.</summary>
public sealed record FiringAction
{
    /// <summary>The action's index in the automation.</summary>
    public int Index { get; init; }

    /// <summary>The action type.</summary>
    public required string Type { get; init; }

    /// <summary><see cref="AutomationFiring.Pending"/>, <see cref="AutomationFiring.Succeeded"/> or <see cref="AutomationFiring.Failed"/>.</summary>
    public string Status { get; init; } = AutomationFiring.Pending;

    /// <summary>The idempotency key its effect carries (<c>{firing id}.a{index}</c>).</summary>
    public required string IdempotencyKey { get; init; }

    /// <summary>What it produced (a run id, an HTTP status), once it succeeded.</summary>
    public string? Result { get; init; }

    /// <summary>When the next attempt is due, while pending after a failed attempt.</summary>
    public DateTimeOffset? NextAttemptAt { get; init; }

    /// <summary>The attempts, oldest first (the last 20 are kept).</summary>
    public IReadOnlyList<FiringAttempt> Attempts { get; init; } = [];
}
