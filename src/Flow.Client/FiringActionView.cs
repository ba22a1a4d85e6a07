namespace Flow.Client;

/// <summary>One action of a firing: status, result and every attempt.</summary>
public sealed record FiringActionView
{
    /// <summary>The action's index in the automation.</summary>
    public int Index { get; init; }

    /// <summary>The action type.</summary>
    public required string Type { get; init; }

    /// <summary>pending, succeeded or failed.</summary>
    public required string Status { get; init; }

    /// <summary>The idempotency key its effect carries.</summary>
    public required string IdempotencyKey { get; init; }

    /// <summary>What it produced (a run id, an HTTP status).</summary>
    public string? Result { get; init; }

    /// <summary>When the next attempt is due.</summary>
    public DateTimeOffset? NextAttemptAt { get; init; }

    /// <summary>The attempts, oldest first.</summary>
    public required IReadOnlyList<FiringAttemptView> Attempts { get; init; }
}
