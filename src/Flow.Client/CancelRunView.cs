namespace Flow.Client;

/// <summary>The answer to <c>POST /api/runs/{id}/cancel</c> (202).</summary>
public sealed record CancelRunView
{
    /// <summary>The run id.</summary>
    public required string Id { get; init; }

    /// <summary>Always true: the run is asked to cancel.</summary>
    public bool CancelRequested { get; init; }

    /// <summary>True when cancellation had been requested before.</summary>
    public bool AlreadyRequested { get; init; }
}
