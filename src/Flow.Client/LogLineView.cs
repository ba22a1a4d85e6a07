namespace Flow.Client;

/// <summary>One line of a run's log.</summary>
public sealed record LogLineView
{
    /// <summary>When it was written.</summary>
    public DateTimeOffset Timestamp { get; init; }

    /// <summary>The level (Information, Warning…).</summary>
    public required string Level { get; init; }

    /// <summary>The text.</summary>
    public required string Message { get; init; }

    /// <summary>The task call that wrote it, or 0 for the flow itself.</summary>
    public int CallId { get; init; }

    /// <summary>The attempt that wrote it.</summary>
    public int Attempt { get; init; }
}
