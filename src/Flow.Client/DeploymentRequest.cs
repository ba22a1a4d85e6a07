using System.Text.Json;

namespace Flow.Client;

/// <summary>The body of <c>PUT /api/deployments/{flow}/{name}</c>: a deployment as a person writes it (the same fields as a deployments file entry).</summary>
public sealed record DeploymentRequest
{
    /// <summary>The deployment's name (the part after the slash); from the URL when set there.</summary>
    public string? Name { get; init; }

    /// <summary>The flow's name; from the URL when set there.</summary>
    public string? Flow { get; init; }

    /// <summary>What runs; an in-app flow when null.</summary>
    public EntrypointRequest? Entrypoint { get; init; }

    /// <summary>The work pool; <c>default</c> when null.</summary>
    public string? Pool { get; init; }

    /// <summary>Default parameters: a JSON object.</summary>
    public JsonElement? Parameters { get; init; }

    /// <summary>Tags given to every run.</summary>
    public IReadOnlyDictionary<string, string>? Tags { get; init; }

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
    public IReadOnlyList<ScheduleRequest>? Schedules { get; init; }
}
