namespace Flow.ControlPlane;

/// <summary>A work pool in a deployments file.</summary>
public sealed record NamedWorkPoolSpec
{
    /// <summary>The pool name.</summary>
    public string? Name { get; init; }

    /// <summary><c>in-app</c> (default) or <c>process</c>.</summary>
    public string? Type { get; init; }

    /// <summary>A description.</summary>
    public string? Description { get; init; }

    /// <summary>The most runs at once.</summary>
    public int? ConcurrencyLimit { get; init; }

    /// <summary>For process pools: the executables deployments may run.</summary>
    public List<string>? AllowedCommands { get; init; }
}
