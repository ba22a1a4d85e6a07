namespace Flow.Client;

/// <summary>A work pool as written.</summary>
public sealed record WorkPoolRequest
{
    /// <summary><c>in-app</c> (default) or <c>process</c>.</summary>
    public string? Type { get; init; }

    /// <summary>A description.</summary>
    public string? Description { get; init; }

    /// <summary>The most runs at once, or null for no limit.</summary>
    public int? ConcurrencyLimit { get; init; }

    /// <summary>Whether the pool is paused.</summary>
    public bool? Paused { get; init; }

    /// <summary>
    /// For process pools: the executables deployments may run. Omitted (null) keeps the pool's current list; a list replaces it.
    /// Each worker's own <c>--allow</c> list is the ceiling: this list can narrow what a worker runs, never widen it.
    /// </summary>
    public IReadOnlyList<string>? AllowedCommands { get; init; }
}
