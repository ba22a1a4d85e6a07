namespace Flow.Client;

/// <summary>What <c>POST /api/deployments/apply</c> did with one deployment of the file.</summary>
public sealed record ApplyResultView
{
    /// <summary>The deployment's full name.</summary>
    public required string Name { get; init; }

    /// <summary><c>created</c>, <c>updated</c> or <c>unchanged</c>.</summary>
    public required string Outcome { get; init; }

    /// <summary>The deployment as saved.</summary>
    public required DeploymentView Deployment { get; init; }
}
