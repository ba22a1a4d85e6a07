using System.Text.Json;
using Flow.Engine.Storage;

namespace Flow.ControlPlane;

/// <summary>A deployment as a person writes it (HTTP body, deployments file): validated and turned into a <see cref="DeploymentRecord"/>.</summary>
public sealed record DeploymentSpec
{
    /// <summary>The deployment's name (the part after the slash); from the URL when set there.</summary>
    public string? Name { get; init; }

    /// <summary>The flow's name; from the URL when set there.</summary>
    public string? Flow { get; init; }

    /// <summary>What runs; an in-app flow when null.</summary>
    public EntrypointSpec? Entrypoint { get; init; }

    /// <summary>The work pool; <c>default</c> when null.</summary>
    public string? Pool { get; init; }

    /// <summary>Default parameters: a JSON object.</summary>
    public JsonElement? Parameters { get; init; }

    /// <summary>Tags given to every run.</summary>
    public Dictionary<string, string>? Tags { get; init; }

    /// <summary>A version label.</summary>
    public string? Version { get; init; }

    /// <summary>A description.</summary>
    public string? Description { get; init; }

    /// <summary>Whether the deployment starts paused.</summary>
    public bool? Paused { get; init; }

    /// <summary>The most runs at once, or null for no limit.</summary>
    public int? ConcurrencyLimit { get; init; }

    /// <summary><c>enqueue</c> (default) or <c>cancel-new</c>.</summary>
    public string? CollisionStrategy { get; init; }

    /// <summary>The schedules.</summary>
    public List<ScheduleSpec>? Schedules { get; init; }
}

/// <summary>What a deployment runs, as written.</summary>
public sealed record EntrypointSpec
{
    /// <summary><c>flow</c> (default) or <c>process</c>.</summary>
    public string? Kind { get; init; }

    /// <summary>The command (argv) of a process entrypoint.</summary>
    public List<string>? Command { get; init; }

    /// <summary>The working directory of a process entrypoint.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>Environment variables of a process entrypoint; a value <c>secret:NAME</c> is resolved by the worker from its configuration (<c>Flow:Secrets:NAME</c>).</summary>
    public Dictionary<string, string>? Environment { get; init; }

    /// <summary>Retries of a failed or crashed process run (0-100).</summary>
    public int? Retries { get; init; }

    /// <summary>Seconds between a failed process attempt and the next (0-86400; default 10).</summary>
    public int? RetryDelaySeconds { get; init; }

    /// <summary>The longest a process attempt may run, in seconds (1-604800), or null for no limit.</summary>
    public int? TimeoutSeconds { get; init; }
}

/// <summary>A schedule as written: <see cref="Cron"/> or <see cref="Interval"/>.</summary>
public sealed record ScheduleSpec
{
    /// <summary>The schedule id; its position (<c>s0</c>, <c>s1</c>, ...) when null.</summary>
    public string? Id { get; init; }

    /// <summary>A cron expression (5 or 6 fields).</summary>
    public string? Cron { get; init; }

    /// <summary>An IANA time zone (UTC when null).</summary>
    public string? Timezone { get; init; }

    /// <summary>An interval: seconds as a number, or a string such as <c>PT15M</c> (ISO 8601) or <c>00:15:00</c>.</summary>
    public JsonElement? Interval { get; init; }

    /// <summary>The interval's anchor.</summary>
    public DateTimeOffset? Anchor { get; init; }

    /// <summary>Parameters for runs of this schedule (a JSON object merged over the deployment's).</summary>
    public JsonElement? Parameters { get; init; }

    /// <summary>False to keep the schedule but create no runs.</summary>
    public bool? Active { get; init; }
}

/// <summary>A work pool as written.</summary>
public sealed record WorkPoolSpec
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
    public List<string>? AllowedCommands { get; init; }
}

/// <summary>A request to run a deployment now (or at a time).</summary>
public sealed record TriggerRequest
{
    /// <summary>Parameters (a JSON object) merged over the deployment's defaults.</summary>
    public JsonElement? Parameters { get; init; }

    /// <summary>A key that makes the request idempotent: the same key for the same deployment gives the same run.</summary>
    public string? IdempotencyKey { get; init; }

    /// <summary>When the run should start; now when null or past.</summary>
    public DateTimeOffset? ScheduledTime { get; init; }

    /// <summary>Tags merged over the deployment's.</summary>
    public Dictionary<string, string>? Tags { get; init; }
}

/// <summary>The result of a trigger.</summary>
/// <param name="Run">The run (the existing one when the idempotency key was used before).</param>
/// <param name="Created">False when the idempotency key named an existing run.</param>
public sealed record TriggerResult(FlowRunRecord Run, bool Created);

/// <summary>What applying a deployment did.</summary>
/// <param name="Name">The full deployment name.</param>
/// <param name="Outcome"><c>created</c>, <c>updated</c> or <c>unchanged</c>.</param>
/// <param name="Deployment">The stored deployment.</param>
public sealed record ApplyResult(string Name, string Outcome, DeploymentRecord Deployment);
