using System.Text.Json;

namespace Flow.Client;

/// <summary>A deployment as the API shows it: the fields a PUT takes, plus read-only ones (full name, source, next run, times).</summary>
public sealed record DeploymentView
{
    /// <summary>The full name, <c>flow/name</c>.</summary>
    public required string FullName { get; init; }

    /// <summary>The deployment's name within its flow.</summary>
    public required string Name { get; init; }

    /// <summary>The flow it runs.</summary>
    public required string Flow { get; init; }

    /// <summary>How a run starts: in the app (<c>flow</c>) or as a subprocess (<c>process</c>).</summary>
    public required DeploymentEntrypointView Entrypoint { get; init; }

    /// <summary>The work pool its runs go to.</summary>
    public required string Pool { get; init; }

    /// <summary>Default parameters.</summary>
    public JsonElement? Parameters { get; init; }

    /// <summary>Tags its runs get.</summary>
    public IReadOnlyDictionary<string, string>? Tags { get; init; }

    /// <summary>A version label.</summary>
    public string? Version { get; init; }

    /// <summary>A description.</summary>
    public string? Description { get; init; }

    /// <summary>True while paused: schedules create no runs and triggers are refused.</summary>
    public bool Paused { get; init; }

    /// <summary>The most runs of this deployment running at once, or null for no limit.</summary>
    public int? ConcurrencyLimit { get; init; }

    /// <summary><c>enqueue</c> or <c>cancel-new</c>: what happens to a run that finds the limit reached.</summary>
    public required string CollisionStrategy { get; init; }

    /// <summary>The schedules.</summary>
    public required IReadOnlyList<DeploymentScheduleView> Schedules { get; init; }

    /// <summary>Where it came from: <c>api</c>, or <c>file:&lt;path&gt;</c> for deployments-as-code.</summary>
    public string? Source { get; init; }

    /// <summary>When its active schedules next fire (the earliest of them, in the schedule's UTC offset), or null when it is paused or has none. Read-only.</summary>
    public DateTimeOffset? NextRunAt { get; init; }

    /// <summary>When it was created.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>When it was last changed.</summary>
    public DateTimeOffset UpdatedAt { get; init; }
}
