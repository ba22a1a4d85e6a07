namespace Flow.Engine.Events;

/// <summary>A query over stored events, newest first (<see cref="IEventStore.ListAsync"/>).</summary>
public sealed record EventQuery
{
    /// <summary>The most events a page may hold.</summary>
    public const int MaxPageSize = 500;

    /// <summary>Only events whose <see cref="FlowEvent.Kind"/> starts with this (ordinal), or all when null.</summary>
    public string? KindPrefix { get; init; }

    /// <summary>Only events whose own resource or a related resource has this id, or all when null.</summary>
    public string? ResourceId { get; init; }

    /// <summary>Only events that occurred at or after this time, or no lower bound when null.</summary>
    public DateTimeOffset? Since { get; init; }

    /// <summary>Only events that occurred before this time, or no upper bound when null.</summary>
    public DateTimeOffset? Until { get; init; }

    /// <summary>Events per page (1..<see cref="MaxPageSize"/>).</summary>
    public int PageSize { get; init; } = 100;

    /// <summary>The token of the previous page, or null for the first.</summary>
    public string? ContinuationToken { get; init; }
}
