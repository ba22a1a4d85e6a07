namespace Flow.Client;

/// <summary>A work pool: where runs execute.</summary>
public sealed record WorkPoolView
{
    /// <summary>The pool's name.</summary>
    public required string Name { get; init; }

    /// <summary><c>in-app</c> or <c>process</c>.</summary>
    public required string Type { get; init; }

    /// <summary>A description.</summary>
    public string? Description { get; init; }

    /// <summary>The most runs of this pool running at once, or null for no limit.</summary>
    public int? ConcurrencyLimit { get; init; }

    /// <summary>True while paused: its runs wait in the queue.</summary>
    public bool Paused { get; init; }

    /// <summary>For process pools: the only executables its deployments may run, if narrowed.</summary>
    public IReadOnlyList<string>? AllowedCommands { get; init; }

    /// <summary>When it was created.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>When it was last changed.</summary>
    public DateTimeOffset UpdatedAt { get; init; }
}
