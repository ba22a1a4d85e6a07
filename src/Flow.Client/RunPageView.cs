namespace Flow.Client;

/// <summary>One page of <c>GET /api/runs</c>, newest first.</summary>
public sealed record RunPageView
{
    /// <summary>The runs.</summary>
    public required IReadOnlyList<RunView> Runs { get; init; }

    /// <summary>Pass it back for the next page; null on the last.</summary>
    public string? ContinuationToken { get; init; }
}
