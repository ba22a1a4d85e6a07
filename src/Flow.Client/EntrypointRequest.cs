namespace Flow.Client;

/// <summary>What a deployment runs, as written.</summary>
public sealed record EntrypointRequest
{
    /// <summary><c>flow</c> (default) or <c>process</c>.</summary>
    public string? Kind { get; init; }

    /// <summary>The command (argv) of a process entrypoint.</summary>
    public IReadOnlyList<string>? Command { get; init; }

    /// <summary>The working directory of a process entrypoint.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>Environment variables of a process entrypoint; a value <c>secret:NAME</c> is resolved by the worker from its configuration (<c>Flow:Secrets:NAME</c>).</summary>
    public IReadOnlyDictionary<string, string>? Environment { get; init; }

    /// <summary>Retries of a failed or crashed process run (0-100).</summary>
    public int? Retries { get; init; }

    /// <summary>Seconds between a failed process attempt and the next (0-86400; default 10).</summary>
    public int? RetryDelaySeconds { get; init; }

    /// <summary>The longest a process attempt may run, in seconds (1-604800), or null for no limit.</summary>
    public int? TimeoutSeconds { get; init; }
}
