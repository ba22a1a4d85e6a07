namespace Flow.ControlPlane;

/// <summary>A work pool: where runs execute.</summary>
public sealed record WorkPoolRecord
{
    /// <summary>The pool name (1-40 lowercase letters, digits and '-'; it becomes part of queue names).</summary>
    public required string Name { get; init; }

    /// <summary>The type: <see cref="InAppType"/> or <see cref="ProcessType"/>.</summary>
    public string Type { get; init; } = InAppType;

    /// <summary>A description.</summary>
    public string? Description { get; init; }

    /// <summary>The most runs of this pool running at once, or null for no limit.</summary>
    public int? ConcurrencyLimit { get; init; }

    /// <summary>True while paused: its runs wait in the queue.</summary>
    public bool Paused { get; init; }

    /// <summary>
    /// For process pools: when set, the only executables (argv[0]) deployments of this pool may run, resolved by each worker with
    /// its own PATH. It narrows each worker's own allow-list (the ceiling, the operator's decision), never widens it.
    /// </summary>
    public IReadOnlyList<string>? AllowedCommands { get; init; }

    /// <summary>When it was created.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>When it was last changed.</summary>
    public DateTimeOffset UpdatedAt { get; init; }

    /// <summary>The in-app pool type: the Flow app itself executes the flows.</summary>
    public const string InAppType = "in-app";

    /// <summary>The process pool type: a worker starts each run as a subprocess.</summary>
    public const string ProcessType = "process";
}
