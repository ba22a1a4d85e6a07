namespace Flow.ControlPlane;

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
