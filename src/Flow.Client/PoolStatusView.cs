namespace Flow.Client;

/// <summary>A work pool with its load, as GET /api/work-pools/status shows it.</summary>
public sealed record PoolStatusView
{
    /// <summary>The pool's name.</summary>
    public required string Name { get; init; }

    /// <summary><c>in-app</c> or <c>process</c>.</summary>
    public required string Type { get; init; }

    /// <summary>The pool's description.</summary>
    public string? Description { get; init; }

    /// <summary>How many runs may run at once (null: no limit).</summary>
    public int? ConcurrencyLimit { get; init; }

    /// <summary>True when the pool is paused: its runs wait.</summary>
    public bool Paused { get; init; }

    /// <summary>Slots in use: the pool's runs that are Running or Cancelling.</summary>
    public int Running { get; init; }

    /// <summary>Queue depth: the pool's runs that are Pending or due Scheduled (Late included).</summary>
    public int Queued { get; init; }

    /// <summary>The pool's runs that are Paused (waiting for input or a timer), holding no slot.</summary>
    public int Waiting { get; init; }
}
