namespace Flow.Client;

/// <summary>The filters and paging of <see cref="FlowClient.ListEventsAsync"/> (<c>GET /api/events</c>).</summary>
public sealed record EventFilter
{
    /// <summary>Only events whose kind starts with this (e.g. <c>flow-run.</c>).</summary>
    public string? Kind { get; init; }

    /// <summary>Only events about or related to this resource id (e.g. <c>deployment/etl/daily</c>).</summary>
    public string? Resource { get; init; }

    /// <summary>Only events at or after this time.</summary>
    public DateTimeOffset? Since { get; init; }

    /// <summary>Only events before this time.</summary>
    public DateTimeOffset? Until { get; init; }

    /// <summary>Events per page, 1-500; null for the API's default (100).</summary>
    public int? PageSize { get; init; }

    /// <summary>The previous page's token; null for the first page.</summary>
    public string? ContinuationToken { get; init; }
}
