using Flow.Sdk;

namespace Flow.Client;

/// <summary>The filters and paging of <c>GET /api/runs</c>; every one optional.</summary>
public sealed record RunFilter
{
    /// <summary>Only runs of this deployment (<c>flow/name</c>).</summary>
    public string? Deployment { get; init; }

    /// <summary>Only runs of this flow.</summary>
    public string? Flow { get; init; }

    /// <summary>Only runs in this state.</summary>
    public RunState? State { get; init; }

    /// <summary>
    /// Only Late runs (<c>state=Late</c>): Scheduled or Pending, never started, scheduled more than the server's grace period ago;
    /// listed by scheduled time, newest first. Cannot be combined with <see cref="State"/> (<see cref="ArgumentException"/>).
    /// </summary>
    public bool Late { get; init; }

    /// <summary>Only runs carrying every one of these tags: each <c>key</c> (any value) or <c>key=value</c> (that exact value).</summary>
    public IReadOnlyList<string> Tags { get; init; } = [];

    /// <summary>Only runs created at or after this time.</summary>
    public DateTimeOffset? From { get; init; }

    /// <summary>Only runs created before this time.</summary>
    public DateTimeOffset? To { get; init; }

    /// <summary>Runs per page, 1-1000 (the API's default is 50).</summary>
    public int? PageSize { get; init; }

    /// <summary>The previous page's continuation token.</summary>
    public string? ContinuationToken { get; init; }
}
