namespace Flow.Client;

/// <summary>The answer to <c>DELETE /api/runs?finishedBefore=</c>.</summary>
public sealed record PurgeRunsView
{
    /// <summary>How many finished runs were deleted.</summary>
    public int Deleted { get; init; }

    /// <summary>The cutoff: runs that finished before it were deleted.</summary>
    public DateTimeOffset FinishedBefore { get; init; }

    /// <summary>True when the limit was reached: more runs may be left to delete (call again).</summary>
    public bool More { get; init; }
}
