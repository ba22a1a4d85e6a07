namespace Flow.Client;

/// <summary>A run request from the run-requests queue that was refused, with the reason.</summary>
public sealed record RejectedRunRequestView
{
    /// <summary>A unique id.</summary>
    public required string Id { get; init; }

    /// <summary>The queue the request came from.</summary>
    public required string Source { get; init; }

    /// <summary>When it was refused.</summary>
    public DateTimeOffset RejectedAt { get; init; }

    /// <summary>Why.</summary>
    public required string Reason { get; init; }

    /// <summary>The field at fault (a JSON path like <c>parameters.count</c>), or null.</summary>
    public string? Field { get; init; }

    /// <summary>The message body as received, cut to 32 KiB.</summary>
    public string? Body { get; init; }
}
