namespace Flow.ControlPlane;

/// <summary>A record with the store's version of it, for optimistic concurrency.</summary>
/// <typeparam name="T">The record type.</typeparam>
/// <param name="Record">The record.</param>
/// <param name="Version">An opaque version (an ETag, a row version); changes with every write.</param>
public sealed record Versioned<T>(T Record, string Version);

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

/// <summary>What happens to a new run when the deployment's concurrency limit is reached.</summary>
public enum CollisionStrategy
{
    /// <summary>The run waits (Pending) until a slot frees.</summary>
    Enqueue,

    /// <summary>The run is cancelled.</summary>
    CancelNew,
}

/// <summary>One schedule of a deployment: a cron expression in a time zone, or an interval from an anchor.</summary>
public sealed record DeploymentSchedule
{
    /// <summary>The schedule's id within its deployment (1-40 letters, digits, '-', '_'); part of the deterministic ids of the runs it creates.</summary>
    public required string Id { get; init; }

    /// <summary>A cron expression (5 or 6 fields), or null for an interval schedule.</summary>
    public string? Cron { get; init; }

    /// <summary>The IANA time zone of <see cref="Cron"/> (and of whole-day intervals); UTC when null.</summary>
    public string? TimeZone { get; init; }

    /// <summary>The interval, or null for a cron schedule.</summary>
    public TimeSpan? Interval { get; init; }

    /// <summary>The interval's anchor (occurrences are anchor + k × interval); 2020-01-01T00:00Z when null.</summary>
    public DateTimeOffset? Anchor { get; init; }

    /// <summary>Parameters (a JSON object) merged over the deployment's parameters for runs of this schedule, or null.</summary>
    public string? Parameters { get; init; }

    /// <summary>False to stop creating runs from this schedule.</summary>
    public bool Active { get; init; } = true;
}

/// <summary>A deployment: how and when a flow runs (<c>flow-name/deployment-name</c>).</summary>
public sealed record DeploymentRecord
{
    /// <summary>The full name, <c>flow-name/deployment-name</c>; unique, compared ordinally.</summary>
    public required string Name { get; init; }

    /// <summary>The flow's name (the part before the slash).</summary>
    public required string FlowName { get; init; }

    /// <summary>What runs.</summary>
    public DeploymentEntrypoint Entrypoint { get; init; } = new();

    /// <summary>The work pool whose queue carries the runs.</summary>
    public string Pool { get; init; } = "default";

    /// <summary>Default parameters (a JSON object), or null.</summary>
    public string? Parameters { get; init; }

    /// <summary>Tags given to every run.</summary>
    public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();

    /// <summary>A version label.</summary>
    public string? Version { get; init; }

    /// <summary>A description.</summary>
    public string? Description { get; init; }

    /// <summary>True while paused: schedules create no runs and triggers are refused.</summary>
    public bool Paused { get; init; }

    /// <summary>The most runs of this deployment running at once, or null for no limit.</summary>
    public int? ConcurrencyLimit { get; init; }

    /// <summary>What happens to a run that finds the limit reached.</summary>
    public CollisionStrategy CollisionStrategy { get; init; }

    /// <summary>The schedules.</summary>
    public IReadOnlyList<DeploymentSchedule> Schedules { get; init; } = [];

    /// <summary>Where the deployment came from: <c>api</c>, or <c>file:&lt;path&gt;</c> for deployments-as-code.</summary>
    public string? Source { get; init; }

    /// <summary>When it was created.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>When it was last changed.</summary>
    public DateTimeOffset UpdatedAt { get; init; }
}

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

/// <summary>A run request from an external system that was refused, kept with its reason so people can see why.</summary>
public sealed record RejectedRunRequest
{
    /// <summary>A unique id (the queue message id, or a new one).</summary>
    public required string Id { get; init; }

    /// <summary>The queue the request came from.</summary>
    public required string Source { get; init; }

    /// <summary>When it was refused.</summary>
    public required DateTimeOffset RejectedAt { get; init; }

    /// <summary>Why.</summary>
    public required string Reason { get; init; }

    /// <summary>The field at fault (JSON path like <c>parameters.count</c>), or null.</summary>
    public string? Field { get; init; }

    /// <summary>The message body as received, cut to 32 KiB.</summary>
    public string? Body { get; init; }
}
