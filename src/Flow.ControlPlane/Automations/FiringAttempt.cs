namespace Flow.ControlPlane.Automations;

/// <summary>One attempt of a firing's action.</summary>
public sealed record FiringAttempt
{
    /// <summary>When it was made.</summary>
    public required DateTimeOffset At { get; init; }

    /// <summary>Whether it succeeded.</summary>
    public required bool Succeeded { get; init; }

    /// <summary>The HTTP status (call-webhook), when there was an answer.</summary>
    public int? StatusCode { get; init; }

    /// <summary>What happened, or the error (at most 500 characters).</summary>
    public string? Detail { get; init; }
}
