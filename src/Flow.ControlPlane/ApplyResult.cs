namespace Flow.ControlPlane;

/// <summary>What applying a deployment did.</summary>
/// <param name="Name">The full deployment name.</param>
/// <param name="Outcome"><c>created</c>, <c>updated</c> or <c>unchanged</c>.</param>
/// <param name="Deployment">The stored deployment.</param>
public sealed record ApplyResult(string Name, string Outcome, DeploymentRecord Deployment);
