namespace Flow.ControlPlane;

/// <summary>A run request from an external system that was refused, kept with its reason so people can see why.</summary>
public sealed record RejectedRunRequest
{
    /// <summary>A unique id (the queue message id, or a new one).</summary>
    public required string Id { get; init; }

    /// <summary>The queue the request came from.</summary>
    public required string Source { get; init; }

    /// <summary>When it was refused.</summary>
    public required DateTimeOffset RejectedAt { get; init; }

    /// <summary>Why.</summary>
    public required string Reason { get; init; }

    /// <summary>The field at fault (JSON path like <c>parameters.count</c>), or null.</summary>
    public string? Field { get; init; }

    /// <summary>The message body as received, cut to 32 KiB.</summary>
    public string? Body { get; init; }
}
