namespace Flow.Client;

/// <summary>One page of <c>GET /api/runs/{id}/logs</c>, oldest first.</summary>
public sealed record LogPageView
{
    /// <summary>The lines.</summary>
    public required IReadOnlyList<LogLineView> Lines { get; init; }

    /// <summary>Pass it back for the next page; null on the last (read it again later for lines written since).</summary>
    public string? ContinuationToken { get; init; }
}
