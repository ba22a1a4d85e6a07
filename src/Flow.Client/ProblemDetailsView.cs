namespace Flow.Client;

/// <summary>An error answer of the API: RFC 9457 problem details (<c>application/problem+json</c>).</summary>
public sealed record ProblemDetailsView
{
    /// <summary>The problem type URI (<c>about:blank</c> when it has none).</summary>
    public string? Type { get; init; }

    /// <summary>A short title of the problem.</summary>
    public string? Title { get; init; }

    /// <summary>The HTTP status.</summary>
    public int Status { get; init; }

    /// <summary>What went wrong.</summary>
    public string? Detail { get; init; }

    /// <summary>For invalid requests, the fields at fault with their messages.</summary>
    public IReadOnlyDictionary<string, string[]>? Errors { get; init; }
}
