namespace Flow.Client;

/// <summary>The body of GET /api/runs/stats: runs by state in time buckets (by creation time), for the home page's chart.</summary>
public sealed record RunStatsView
{
    /// <summary>The window's start (inclusive).</summary>
    public required DateTimeOffset From { get; init; }

    /// <summary>The window's end (exclusive).</summary>
    public required DateTimeOffset To { get; init; }

    /// <summary>The bucket width in seconds.</summary>
    public required int BucketSeconds { get; init; }

    /// <summary>The buckets, oldest first; every bucket of the window is present, empty ones too.</summary>
    public required IReadOnlyList<RunStatsBucket> Buckets { get; init; }

    /// <summary>Runs in the window by state name (Late included as its own state).</summary>
    public required IReadOnlyDictionary<string, int> Totals { get; init; }

    /// <summary>True when the window held more runs than the API counts in one request (<c>limit</c>); the counts cover the newest ones.</summary>
    public bool Truncated { get; init; }
}
