namespace Flow.Client;

/// <summary>One attempt of a firing's action.</summary>
public sealed record FiringAttemptView
{
    /// <summary>When it was made.</summary>
    public DateTimeOffset At { get; init; }

    /// <summary>Whether it succeeded.</summary>
    public bool Succeeded { get; init; }

    /// <summary>The HTTP status, for a webhook that answered.</summary>
    public int? StatusCode { get; init; }

    /// <summary>What happened.</summary>
    public string? Detail { get; init; }
}
