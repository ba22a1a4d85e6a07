namespace Flow.ControlPlane;

/// <summary>What a deployment runs.</summary>
public sealed record DeploymentEntrypoint
{
    /// <summary>The kind: <see cref="FlowKind"/> (a flow registered in the app) or <see cref="ProcessKind"/> (a command a process worker starts).</summary>
    public string Kind { get; init; } = FlowKind;

    /// <summary>The command (argv, never passed through a shell), for <see cref="ProcessKind"/>.</summary>
    public IReadOnlyList<string>? Command { get; init; }

    /// <summary>The working directory of the command, for <see cref="ProcessKind"/>.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>Environment variables for the command; values may reference secrets by name (<c>secret:NAME</c>).</summary>
    public IReadOnlyDictionary<string, string>? Environment { get; init; }

    /// <summary>For <see cref="ProcessKind"/>: how many times a failed or crashed run is started again (0-100). Default 0.</summary>
    public int Retries { get; init; }

    /// <summary>For <see cref="ProcessKind"/>: seconds between a failed attempt and the next one, or null for 10.</summary>
    public int? RetryDelaySeconds { get; init; }

    /// <summary>For <see cref="ProcessKind"/>: the longest an attempt may run, in seconds, before its process tree is killed and the attempt fails; null for no limit.</summary>
    public int? TimeoutSeconds { get; init; }

    /// <summary>The entrypoint kind of an in-app flow.</summary>
    public const string FlowKind = "flow";

    /// <summary>The entrypoint kind of a subprocess.</summary>
    public const string ProcessKind = "process";
}
